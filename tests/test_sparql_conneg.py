"""Content negotiation: Accept parsing (q-values, wildcards, specificity) and format choice."""

from __future__ import annotations

import pytest

from mqmkg.errors import MalformedHeader
from mqmkg.sparql.conneg import MediaRange, negotiate, parse_accept, parse_media_range, quality
from mqmkg.sparql.formats import (
    CSV,
    JSON,
    JSONLD,
    NTRIPLES,
    RDFXML,
    TSV,
    TURTLE,
    XML,
    ResultKind,
    choose,
    format_from_names,
)

RESULTS = [
    "application/sparql-results+json",
    "application/sparql-results+xml",
    "text/csv",
    "text/tab-separated-values",
]


def test_parse_media_range_reads_q_and_parameters() -> None:
    assert parse_media_range("Text/CSV ; charset=utf-8; q=0.5; ext=1") == MediaRange(
        "text", "csv", (("charset", "utf-8"),), 0.5
    )
    assert parse_media_range("*") == MediaRange("*", "*", (), 1.0)
    assert parse_media_range("application/json;q=.2") == MediaRange("application", "json", (), 0.2)


@pytest.mark.parametrize(
    ("element", "why"),
    [
        ("text", "type/subtype"),
        ("*/json", "type/subtype"),
        ("text/csv;q=2", "q=2 is not a quality"),
        ("text/csv;q=high", "q=high is not a quality"),
        ("text/csv;q=abc", "q=abc is not a quality"),
        ("text/csv;q=-0.5", "q=-0.5 is not a quality"),
        ("text/csv;q=1e-1", "q=1e-1 is not a quality"),
        ("/csv", "type/subtype"),
        ("text/c<sv", "type/subtype"),
        ("text/csv;charset", "is not name=value"),
        ("text/csv;a=b c", "neither a token nor a quoted string"),
    ],
)
def test_malformed_accept_member_is_refused_naming_it(element: str, why: str) -> None:
    with pytest.raises(MalformedHeader) as caught:
        parse_accept(f"application/json, {element}")
    assert caught.value.header == "Accept"
    assert repr(element) in str(caught.value) and why in str(caught.value)


def test_absent_or_empty_accept_means_anything() -> None:
    for header in (None, "", "  ", " , ,"):
        assert parse_accept(header) == [MediaRange("*", "*", (), 1.0)]
        assert negotiate(header, RESULTS) == "application/sparql-results+json"


def test_java_default_accept_is_still_read() -> None:
    """HttpURLConnection sends a bare ``*`` and ``q=.2``; both are unambiguous, so they are read."""
    ranges = parse_accept("text/html, image/gif, image/jpeg, *; q=.2, */*; q=.2")
    assert ranges[-2:] == [MediaRange("*", "*", (), 0.2)] * 2


def test_quoted_parameter_values_keep_separators() -> None:
    assert parse_accept('a/b;p="x;y\\"z";q=0.5, c/d') == [
        MediaRange("a", "b", (("p", 'x;y"z'),), 0.5),
        MediaRange("c", "d", (), 1.0),
    ]


def test_q_values_rank_offers() -> None:
    header = "application/sparql-results+json;q=0.5, text/csv;q=0.9, application/sparql-results+xml;q=0.7"
    assert negotiate(header, RESULTS) == "text/csv"


def test_specific_range_overrides_wildcard() -> None:
    # text/* is fine, but text/csv specifically is refused: TSV is the best text type left.
    assert negotiate("text/*;q=0.8, text/csv;q=0", RESULTS) == "text/tab-separated-values"
    assert quality(parse_accept("text/*;q=0.8, text/csv;q=0"), "text/csv") == 0.0
    # */* at a low q still admits everything, the more specific text/* wins for text types.
    assert negotiate("*/*;q=0.1, text/*", RESULTS) == "text/csv"


def test_ties_go_to_server_order() -> None:
    assert negotiate("text/tab-separated-values, text/csv", RESULTS) == "text/csv"
    assert negotiate("*/*", RESULTS) == "application/sparql-results+json"


def test_nothing_acceptable() -> None:
    assert negotiate("text/html", RESULTS) is None
    assert negotiate("application/sparql-results+json;q=0", RESULTS) is None


def test_quoted_commas_do_not_split_elements() -> None:
    ranges = parse_accept('text/csv;foo="a,b";q=0.3, application/sparql-results+xml')
    assert [(r.type, r.subtype, r.q) for r in ranges] == [
        ("text", "csv", 0.3),
        ("application", "sparql-results+xml", 1.0),
    ]


def test_browser_accept_gets_the_default_format() -> None:
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8"
    assert choose((), browser, ResultKind.RESULTS) is not None
    assert choose((), browser, ResultKind.RESULTS).format is JSON  # type: ignore[union-attr]
    assert choose((), browser, ResultKind.GRAPH).format is TURTLE  # type: ignore[union-attr]


def test_aliases_are_answered_with_the_alias() -> None:
    choice = choose((), "application/json", ResultKind.RESULTS)
    assert choice is not None
    assert (choice.format, choice.media_type) == (JSON, "application/json")
    choice = choose((), "application/turtle", ResultKind.GRAPH)
    assert choice is not None
    assert (choice.format, choice.content_type) == (TURTLE, "application/turtle; charset=utf-8")


@pytest.mark.parametrize(
    ("values", "kind", "expected"),
    [
        (["json"], ResultKind.RESULTS, JSON),
        (["xml"], ResultKind.RESULTS, XML),
        (["csv"], ResultKind.RESULTS, CSV),
        (["TSV"], ResultKind.RESULTS, TSV),
        (["application/sparql-results+json"], ResultKind.RESULTS, JSON),
        (["turtle"], ResultKind.GRAPH, TURTLE),
        (["n3"], ResultKind.GRAPH, TURTLE),
        (["ntriples"], ResultKind.GRAPH, NTRIPLES),
        (["jsonld"], ResultKind.GRAPH, JSONLD),
        (["json-ld", "application/ld+json"], ResultKind.GRAPH, JSONLD),  # as SPARQLWrapper sends it
        (["rdfxml"], ResultKind.GRAPH, RDFXML),
        (["json"], ResultKind.GRAPH, JSONLD),  # format=json on a CONSTRUCT
        (["xml"], ResultKind.GRAPH, RDFXML),
        (["nonsense", "csv"], ResultKind.RESULTS, CSV),
        (["turtle"], ResultKind.RESULTS, None),
        (["csv"], ResultKind.GRAPH, None),
        (["nonsense"], ResultKind.RESULTS, None),
    ],
)
def test_format_parameter(values: list[str], kind: ResultKind, expected: object) -> None:
    assert format_from_names(values, kind) is expected


def test_format_parameter_overrides_accept() -> None:
    choice = choose(["csv"], "application/sparql-results+json", ResultKind.RESULTS)
    assert choice is not None
    assert choice.content_type == "text/csv; charset=utf-8"
    assert choose(["turtle"], "*/*", ResultKind.RESULTS) is None

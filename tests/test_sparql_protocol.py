"""SPARQL 1.1 Protocol request parsing, without a server."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from mqmkg.errors import ProtocolError, UnsupportedMediaType, UpdateRefused
from mqmkg.sparql.protocol import HttpInput, QueryRequest, parse_media_type, parse_request

ENDPOINT = "http://127.0.0.1:8000/sparql"
G1 = "https://w3id.org/mqmkg/graph/people"
G2 = "https://w3id.org/mqmkg/graph/events"


def http(method: str = "GET", query_string: str = "", content_type: str | None = None, body: bytes = b"") -> HttpInput:
    return HttpInput(method, query_string.encode("ascii"), content_type, body, None, ENDPOINT)


def test_get_query_with_dataset_and_format() -> None:
    pairs = [("query", "ASK {}"), ("default-graph-uri", G1), ("default-graph-uri", G2)]
    qs = urlencode([*pairs, ("named-graph-uri", G1), ("format", "xml")])
    assert parse_request(http(query_string=qs)) == QueryRequest("ASK {}", (G1, G2), (G1,), ("xml",), None, ENDPOINT)


def test_get_without_query_asks_for_the_service_description() -> None:
    request = parse_request(http())
    assert request.query is None
    assert not request.has_dataset


def test_post_form() -> None:
    body = urlencode({"query": "SELECT * { ?s ?p ?o }", "named-graph-uri": G1}).encode()
    request = parse_request(http("POST", "", "application/x-www-form-urlencoded; charset=UTF-8", body))
    assert (request.query, request.named_graphs) == ("SELECT * { ?s ?p ?o }", (G1,))


def test_post_direct_takes_dataset_from_the_url() -> None:
    qs = urlencode({"default-graph-uri": G2})
    request = parse_request(http("POST", qs, "application/sparql-query", 'ASK { ?s ?p "é" }'.encode()))
    assert (request.query, request.default_graphs) == ('ASK { ?s ?p "é" }', (G2,))


def test_empty_post_with_query_in_url_is_read_like_get() -> None:
    request = parse_request(http("POST", urlencode({"query": "ASK {}"})))
    assert request.query == "ASK {}"


@pytest.mark.parametrize(
    ("inp", "message"),
    [
        (http(query_string="query=ASK%20%7B%7D&query=SELECT%20*%20%7B%7D"), "2 'query' parameters"),
        (http(query_string="query="), "the query is empty"),
        (http(query_string="query=%FF%FE"), "not valid UTF-8"),
        (
            http("POST", "", "application/x-www-form-urlencoded", b"default-graph-uri=x"),
            "no 'query' parameter",
        ),
        (http("POST", "", "application/x-www-form-urlencoded", b"query=%C3%28"), "not valid UTF-8"),
        (http("POST", "", "application/x-www-form-urlencoded; charset=ISO-8859-1", b"query=ASK{}"), "UTF-8"),
        (http("POST", "", "application/sparql-query; charset=UTF-16", "ASK {}".encode("utf-16")), "UTF-8"),
        (http("POST", "", "application/sparql-query", b"ASK { ?s ?p '\xe9' }"), "not valid UTF-8"),
        (http("POST", "", "application/sparql-query", b""), "the query is empty"),
        (http("POST", "query=ASK%7B%7D", "application/sparql-query", b"ASK {}"), "in the URL and"),
    ],
)
def test_protocol_errors(inp: HttpInput, message: str) -> None:
    with pytest.raises(ProtocolError, match=message):
        parse_request(inp)


@pytest.mark.parametrize(
    "inp",
    [
        http("POST", "", "text/plain", b"ASK {}"),
        http("POST", "", None, b"query=ASK%20%7B%7D"),
        http("POST", "", None, b"ASK {}"),
        http("POST", "", "multipart/form-data; boundary=x", b"--x--"),
    ],
)
def test_wrong_or_missing_media_types(inp: HttpInput) -> None:
    with pytest.raises(UnsupportedMediaType):
        parse_request(inp)


@pytest.mark.parametrize(
    "inp",
    [
        http(query_string="update=CLEAR%20ALL"),
        http(query_string="query=ASK%7B%7D&using-graph-uri=x"),
        http("POST", "", "application/x-www-form-urlencoded", b"update=CLEAR%20ALL&update=CLEAR%20DEFAULT"),
        http("POST", "", "application/sparql-update", b"CLEAR NAMED"),
        http("POST", "", "application/sparql-update; charset=UTF-16", "CLEAR NAMED".encode("utf-16")),
        http("POST", "using-graph-uri=x", "application/sparql-query", b"ASK {}"),
    ],
)
def test_updates_are_refused(inp: HttpInput) -> None:
    with pytest.raises(UpdateRefused, match="read-only"):
        parse_request(inp)


def test_parse_media_type() -> None:
    assert parse_media_type('Application/SPARQL-Query; Charset="utf-8"') == (
        "application/sparql-query",
        {"charset": "utf-8"},
    )
    assert parse_media_type(None) == (None, {})

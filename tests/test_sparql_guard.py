"""The query guard: query forms, the tokenizer, and the SERVICE allow-list."""

from __future__ import annotations

import time

import pytest

from mqmkg.errors import ServiceRefused
from mqmkg.sparql.guard import (
    check_services,
    count_service_keywords,
    mentions_service,
    nesting_depth,
    query_form,
    tokens,
    unescape_codepoints,
)

ALLOWED = "https://query.wikidata.org/sparql"
ALLOWLIST = (ALLOWED,)
BASE = "http://127.0.0.1:8000/sparql"


@pytest.mark.parametrize(
    ("text", "form"),
    [
        ("SELECT * {}", "SELECT"),
        ("  # a comment\n ask {}", "ASK"),
        ("PREFIX ex: <http://ex/> BASE <http://b/> PREFIX : <http://c/> CONSTRUCT WHERE {}", "CONSTRUCT"),
        ("describe <x>", "DESCRIBE"),
        ("PREFIX ex: <http://ex/> INSERT DATA { ex:a ex:b ex:c }", "INSERT"),
        ("LOAD <http://127.0.0.1/x.ttl>", "LOAD"),
        ("clear all", "CLEAR"),
        ("WITH <g> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }", "WITH"),
        ("{ ?s ?p ?o }", None),
        ("", None),
        ('"unterminated SELECT', None),
    ],
)
def test_query_form(text: str, form: str | None) -> None:
    assert query_form(text) == form


def test_tokens_skip_strings_comments_and_iris() -> None:
    text = 'SELECT ?service { <http://x/SERVICE> ex:service "SERVICE" . # SERVICE\n } """SERVICE\n"""'
    kinds = [(t.kind, t.text) for t in tokens(text)]
    assert ("var", "?service") in kinds
    assert ("iri", "<http://x/SERVICE>") in kinds
    assert ("pname", "ex:service") in kinds
    assert ("string", '"SERVICE"') in kinds
    assert ("string", '"""SERVICE\n"""') in kinds
    assert not any(kind == "word" and text.upper() == "SERVICE" for kind, text in kinds)


def test_unterminated_string_ends_the_scan_in_linear_time() -> None:
    hostile = '"""' + ("a" * 200_000 + " SERVICE <http://evil/> {}") * 5
    started = time.perf_counter()
    assert count_service_keywords(hostile) == 0
    assert count_service_keywords('SERVICE <a> {} "a\n' * 50_000) == 1
    assert time.perf_counter() - started < 3.0  # quadratic scanning would take hours


def test_unescape_codepoints() -> None:
    assert unescape_codepoints(r"\u0053ERVICE \U0001F600") == "SERVICE \U0001f600"
    assert mentions_service(r"SELECT * { \u0053ERVICE <x> {} }")
    assert not mentions_service("SELECT * { ?s ?p ?o }")


def test_queries_without_service_pass_without_parsing() -> None:
    assert check_services("SELECT * { ?s ?p ?o }", BASE, ALLOWLIST) == ()
    # "service" only in a string or comment: parsed, nothing found.
    assert check_services('SELECT * { ?s ?p "service" } # SERVICE <http://evil/>', BASE, ALLOWLIST) == ()
    # A syntax error that only mentions service in a string is left to the engine to report.
    assert check_services('SELECT * { ?s ?p "service" ', BASE, ALLOWLIST) == ()


@pytest.mark.parametrize(
    "query",
    [
        f"SELECT * {{ SERVICE <{ALLOWED}> {{ ?s ?p ?o }} }}",
        "PREFIX wdqs: <https://query.wikidata.org/> SELECT * { SERVICE SILENT wdqs:sparql { ?s ?p ?o } }",
        "BASE <https://query.wikidata.org/> SELECT * { service <sparql> { ?s ?p ?o } }",
        f"SELECT * {{ OPTIONAL {{ SERVICE <{ALLOWED}> {{ ?s ?p ?o }} }} FILTER(?o != 'SERVICE <x:>') }}",
    ],
)
def test_allowed_services(query: str) -> None:
    assert check_services(query, BASE, ALLOWLIST) == (ALLOWED,)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("SELECT * { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }", "not on the allow-list"),
        ("SELECT * { SERVICE <http://10.0.0.1/sparql> { ?s ?p ?o } }", "not on the allow-list"),
        (
            "SELECT * { SERVICE <http://169.254.169.254/latest/meta-data/> { ?s ?p ?o } }",
            "not on the allow-list",
        ),
        ("SELECT * { SERVICE <http://[::1]:8000/sparql> { ?s ?p ?o } }", "not on the allow-list"),
        ("SELECT * { SERVICE <http://localhost:8000/sparql> { ?s ?p ?o } }", "not on the allow-list"),
        (f"SELECT * {{ SERVICE <{ALLOWED}/> {{ ?s ?p ?o }} }}", "not on the allow-list"),
        (f"SELECT * {{ SERVICE <{ALLOWED}?x=1> {{ ?s ?p ?o }} }}", "not on the allow-list"),
        ("SELECT * { SERVICE SILENT <http://evil.example/sparql> { ?s ?p ?o } }", "not on the allow-list"),
        (f"SELECT * {{ VALUES ?e {{ <{ALLOWED}> }} SERVICE ?e {{ ?s ?p ?o }} }}", "variable"),
        # A relative IRI resolves against the endpoint itself: not allowed either.
        ("SELECT * { SERVICE <sparql> { ?s ?p ?o } }", "<http://127.0.0.1:8000/sparql>"),
        (
            "SELECT * { FILTER EXISTS { SERVICE <http://evil.example/> { ?s ?p ?o } } }",
            "not on the allow-list",
        ),
        (
            "SELECT * { { SELECT ?s { SERVICE <http://evil.example/> { ?s ?p ?o } } } }",
            "not on the allow-list",
        ),
        (f"SELECT * {{ SERVICE <{ALLOWED}> {{ ?a ?b ?c }} SERVICE <http://evil.example/> {{}} }}", "evil"),
        (r"SELECT * { SERVICE <http://evil.example/\u0073parql> { ?s ?p ?o } }", "evil.example/sparql"),
        (r"SELECT * { \u0053ERVICE <http://evil.example/> { ?s ?p ?o } }", "evil"),
        # rdflib cannot parse SERVICE nested in SERVICE: refused rather than trusted.
        (f"SELECT * {{ SERVICE <{ALLOWED}> {{ SERVICE <http://evil/> {{ ?s ?p ?o }} }} }}", "cannot check"),
        ("SELECT * { SERVICE <http://evil.example/> { ( } }", "cannot check"),
    ],
)
def test_refused_services(query: str, message: str) -> None:
    with pytest.raises(ServiceRefused, match=message.replace("?", r"\?").replace("[", r"\[")):
        check_services(query, BASE, ALLOWLIST)


def test_empty_allowlist_refuses_every_service() -> None:
    with pytest.raises(ServiceRefused, match="allowed: none"):
        check_services(f"SELECT * {{ SERVICE <{ALLOWED}> {{ ?s ?p ?o }} }}", BASE, ())


def test_nesting_depth_ignores_brackets_in_strings_comments_and_iris() -> None:
    assert nesting_depth("SELECT * { FILTER((1 + (2))) }") == 4
    assert nesting_depth('SELECT * { ?s ?p "((((" } # ((((\n') == 1
    assert nesting_depth("SELECT * { ?s <http://x/(((> ?o }") == 1
    assert nesting_depth("(" * 10_000) == 10_000

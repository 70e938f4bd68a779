"""The query guard: query forms, the tokenizer, and the SERVICE allow-list."""

from __future__ import annotations

import contextlib
import re
import time

import pytest

from mqmkg.errors import QueryTooComplex, ServiceRefused
from mqmkg.sparql.guard import (
    check_limits,
    check_services,
    count_service_keywords,
    inspect,
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


@pytest.mark.parametrize(
    "hostile",
    [
        "ASK { FILTER(" + "1<" * 300_000 + "1) }",  # each "<" could start an IRI
        "ASK { FILTER(1<" + "a" * 500_000 + "1<" + "b" * 500_000 + ") }",
        "SELECT * { " + "SERVICE " * 120_000 + "}",  # sites to read
        "SELECT * { " + "trueSERVICE " * 80_000 + "}",
        "SELECT * { ?s ?p '" + "a" * 1_000_000,
        "SELECT * { ?s <" + "a" * 1_000_000,
    ],
)
def test_hostile_megabyte_queries_are_read_in_linear_time(hostile: str) -> None:
    started = time.perf_counter()
    inspect(hostile)
    with contextlib.suppress(ServiceRefused):
        check_services(hostile, BASE, ALLOWLIST)
    assert time.perf_counter() - started < 20.0  # quadratic reading would take hours


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


# -- every way found of hiding a SERVICE from the guard, each replayed ------------------------

EVIL = "http://127.0.0.1:9/sparql"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        # Comments end at CR as well as LF (the sample: rdflib and the old tokenizer
        # read one comment, or an IRI and a long string, where the engine reads a SERVICE).
        ('SELECT * WHERE { FILTER(1<2)#>"""\r' + f"SERVICE <{EVIL}> {{ ?x ?y ?z }}\r" + '#"""\n}', "certainty"),
        (f"SELECT * {{ # comment\rSERVICE <{EVIL}> {{ ?x ?y ?z }} }}", "not on the allow-list"),
        (f"SELECT * {{ # comment\r\nSERVICE <{EVIL}> {{ ?x ?y ?z }} }}", "not on the allow-list"),
        # "<" is less-than after an operand in an expression, whatever follows it.
        (f"SELECT * {{ FILTER(?a<?b)#>\nSERVICE <{EVIL}> {{}} }}", "certainty"),
        (f"SELECT * {{ FILTER(1 <2)#x>\n SERVICE <{EVIL}> {{}} }}", "certainty"),
        # Escapes are decoded by the engine inside strings only: "\u005C" is a backslash
        # character, not an escape that swallows the closing quote.
        (f'SELECT * {{ ?s ?p "\\u005C" SERVICE <{EVIL}> {{ ?a ?b ?c }} }}', "not on the allow-list"),
        (f"SELECT * {{ ?s ?p '\\u0027' SERVICE <{EVIL}> {{ ?a ?b ?c }} }}", "not on the allow-list"),
        # Keywords glued to their neighbours: the engine needs no word boundary.
        (f"SELECT * {{ SERVICESILENT<{EVIL}> {{ ?a ?b ?c }} }}", "glued"),
        (f"PREFIX ex: <{EVIL}> SELECT * {{ SERVICEex:x {{ ?a ?b ?c }} }}", "glued"),
        (f"PREFIX : <{EVIL}> SELECT * {{ SERVICE:x {{ ?a ?b ?c }} }}", "certainty"),
        (f"SELECT * {{ ?s ?p trueSERVICE <{EVIL}> {{ ?a ?b ?c }} }}", "glued"),
        (f"SELECT * {{ ?s ?p 1SERVICE <{EVIL}> {{ ?a ?b ?c }} }}", "cannot check"),
        (f"SELECT * {{ ?s ?p ?o .SERVICE<{EVIL}>{{}} }}", "not on the allow-list"),
        # Escapes in the endpoint's IRI, as the engine decodes them (Rust takes "\u+02E").
        (r"SELECT * { SERVICE <http://127.0.0.1:9/\u+041> { ?a ?b ?c } }", "cannot check"),
        (r"SELECT * { SERVICE <http://evil\u002Eexample/> { ?a ?b ?c } }", "<http://evil.example/>"),
        # Prefixes and bases: the last declaration wins, relative IRIs resolve as the engine does.
        (f"PREFIX w: <{ALLOWED}> PREFIX w: <{EVIL}> SELECT * {{ SERVICE w: {{}} }}", "not on the allow-list"),
        ("BASE <http://127.0.0.1:9/a/> PREFIX w: <../> SELECT * { SERVICE w:x { } }", "<http://127.0.0.1:9/x>"),
        ("BASE <https://query.wikidata.org/x/> BASE <../evil> SELECT * { SERVICE <> {} }", "evil"),
        ("SELECT * { SERVICE <//127.0.0.1:9/sparql> {} }", "<http://127.0.0.1:9/sparql>"),
        # Names that hide a comment or a quote behind an escape: the SERVICE after them counts.
        (f"PREFIX ex: <http://a/> SELECT * {{ ?s ?p ex:a\\# SERVICE <{EVIL}> {{}} }}", "SERVICE"),
        (f"PREFIX ex: <http://a/> SELECT * {{ ?s ?p ex:a\\' SERVICE <{EVIL}> {{}} }} # '", "SERVICE"),
        # Strings that hold their own delimiters.
        (f'SELECT * {{ ?s ?p """a""b""" SERVICE <{EVIL}> {{}} }}', "not on the allow-list"),
        (f"SELECT * {{ ?s ?p '''it''s''' SERVICE <{EVIL}> {{}} }}", "not on the allow-list"),
        (f'SELECT * {{ ?s ?p "\\"" SERVICE <{EVIL}> {{}} FILTER("\\"" != "") }}', "not on the allow-list"),
        # "#" inside an IRI starts no comment.
        (f"SELECT * {{ ?s <http://a/#> ?o SERVICE <{EVIL}> {{}} }}", "not on the allow-list"),
        # SERVICE wherever a pattern may stand.
        (f"SELECT * {{ ?s ?p ?o MINUS {{ SERVICE <{EVIL}> {{}} }} }}", "not on the allow-list"),
        (f"SELECT * {{ GRAPH ?g {{ SERVICE <{EVIL}> {{}} }} }}", "not on the allow-list"),
        (f"ASK {{ FILTER NOT EXISTS {{ {{ SELECT * {{ SERVICE <{EVIL}> {{}} }} }} }} }}", "not on the allow-list"),
        (f"SELECT * {{ SERVICE silent <{EVIL}> {{}} }}", "not on the allow-list"),
        (f"SELECT * {{ SERVICE #\n SILENT\r<{EVIL}> {{}} }}", "not on the allow-list"),
        ("SELECT * { SERVICE $e { ?s ?p ?o } }", "variable"),
        (r"SELECT * { SERV\u0049CE <http://evil.example/> { ?s ?p ?o } }", "evil"),
    ],
)
def test_hidden_services_are_refused(query: str, message: str) -> None:
    with pytest.raises(ServiceRefused, match=message.replace("?", r"\?").replace("[", r"\[")):
        check_services(query, BASE, ALLOWLIST)


@pytest.mark.parametrize(
    "query",
    [
        f"SELECT * {{\r\n  # a comment\r\n  SERVICE <{ALLOWED}> {{ ?s ?p ?o }}\r\n}}\r\n",
        f"SELECT * {{ ?s ?p ?o FILTER(?o < 3) SERVICE <{ALLOWED}> {{ ?s ?q ?r }} FILTER(?r<?o) }}",
        f'SELECT * {{ SERVICE <{ALLOWED}> {{ ?s ?p "caf\\u00e9" }} FILTER(?p != <http://a/#x>) }}',
        f"SELECT * {{ SERVICE<{ALLOWED}>{{?s ?p ?o}} }}",
        f'SELECT * {{ SERVICE <{ALLOWED}> {{ ?s ?p "say \\u0022hi\\u0022 \\u005C" }} }}',
        # rdflib alone fails on a "#" inside an IRI or string before SERVICE on the same line.
        f"SELECT * {{ ?x <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> ?t . SERVICE <{ALLOWED}> {{ ?x ?p ?o }} }}",
        f'SELECT * {{ BIND("#1" AS ?n) SERVICE <{ALLOWED}> {{ ?x ?p ?n }} }}',
        f"SELECT ?service {{ SERVICE <{ALLOWED}> {{ ?service ?p ex:serviceType }} }}",
        "SELECT * { SERVICE wdqs:sparql { ?s ?p ?o } }",  # a house prefix the engine is given
    ],
)
def test_genuine_federated_queries_pass(query: str) -> None:
    prefixes = {"wdqs": "https://query.wikidata.org/", "ex": "http://example.org/"}
    assert check_services(query, BASE, ALLOWLIST, prefixes) == (ALLOWED,)


def test_a_declared_prefix_overrides_a_house_prefix_in_both_readings() -> None:
    query = "PREFIX wdqs: <http://127.0.0.1:9/> SELECT * { SERVICE wdqs:sparql { ?s ?p ?o } }"
    with pytest.raises(ServiceRefused, match=re.escape("<http://127.0.0.1:9/sparql> is not on the allow-list")):
        check_services(query, BASE, ALLOWLIST, {"wdqs": "https://query.wikidata.org/"})


@pytest.mark.parametrize(
    "query",
    [
        # A quote written as an escape inside a string is a character of the string.
        'SELECT ?x { BIND("\\u0022 SERVICE <http://127.0.0.1:9/> { } #" AS ?x) }',
        # An IRI may hold "service"; a comment ended by CR hides nothing that follows LF.
        "SELECT * { ?s <http://a/SERVICE> ?o } # SERVICE <http://127.0.0.1:9/>\r",
        'SELECT * { ?s ?p """SERVICE <http://127.0.0.1:9/> {}\r""" }',
    ],
)
def test_service_in_strings_comments_and_iris_is_no_service(query: str) -> None:
    assert check_services(query, BASE, ALLOWLIST) == ()


def test_the_lexer_reading_finds_each_service_site() -> None:
    assert count_service_keywords(f"SELECT * {{ SERVICE <{ALLOWED}> {{}} ?s ?p ex:service }}") == 1
    assert count_service_keywords("SELECT * { SERVICESILENT <x> {} SERVICEex:x {} ?s ?p trueSERVICE }") == 3
    assert count_service_keywords("SELECT ?service { ?service ?p _:service } # SERVICE\r") == 0


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        ("ASK { FILTER(" + "!" * 12_000 + "true) }", "12003 levels deep"),
        ("SELECT * { BIND(" + "+".join(["1"] * 20_000) + " AS ?x) }", "20003 levels deep"),
        ("ASK { ?s " + "/".join(["<p:p>"] * 2_000) + " ?o }", "2000 levels deep"),
        ("ASK { " + " UNION ".join(["{}"] * 1_500) + " }", "1501 levels deep"),
        ("ASK { " + " ".join(["OPTIONAL {}"] * 1_200) + " }", "1202 levels deep"),
    ],
)
def test_deep_trees_are_refused_before_the_engine(query: str, fragment: str) -> None:
    with pytest.raises(QueryTooComplex, match=fragment):
        check_limits(inspect(query), 500, 1000)


def test_brackets_keep_their_own_limit() -> None:
    facts = inspect("SELECT * { FILTER(" + "(" * 10_000 + "1" + ")" * 10_000 + ") }")
    with pytest.raises(QueryTooComplex, match=r"^the query nests brackets 10002 deep; the limit is 500"):
        check_limits(facts, 500, 100_000)
    check_limits(inspect("ASK { FILTER(" + "+".join(["1"] * 900) + ") }"), 500, 1000)

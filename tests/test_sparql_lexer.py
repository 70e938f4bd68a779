"""The lexer reads query text as pyoxigraph 0.5.13 does: each engine fact it relies on is
replayed against the engine itself, then the lexer is checked to agree."""

from __future__ import annotations

import contextlib

import pyoxigraph as ox
import pytest

from mqmkg.sparql.iri import resolve
from mqmkg.sparql.lexer import expand_pname, line_column, scan, unescape_iri

BASE = "http://a/b/c/d;p?q"


def engine_accepts(query: str, base_iri: str | None = None) -> bool:
    """Tell whether pyoxigraph parses (and, on an empty store, evaluates) a query."""
    try:
        result = ox.Store().query(query, base_iri=base_iri)
    except SyntaxError:
        return False
    if not isinstance(result, ox.QueryBoolean):
        list(result)
    return True


def engine_iri(reference: str, base_iri: str | None = BASE) -> str:
    ((value,),) = [
        tuple(row) for row in ox.Store().query(f"SELECT ?x {{ BIND(<{reference}> AS ?x) }}", base_iri=base_iri)
    ]
    assert isinstance(value, ox.NamedNode)
    return value.value


def kinds(query: str) -> list[tuple[str, str]]:
    return [(t.kind, t.text) for t in scan(query).tokens]


@pytest.mark.parametrize(
    ("query", "ends_at"),
    [
        ("ASK { } #x\n", "\n"),
        ("ASK { } #x\r", "\r"),
        ("ASK { } #x\r\n", "\r\n"),
    ],
)
def test_a_comment_ends_at_cr_or_lf(query: str, ends_at: str) -> None:
    # The engine reads "junk" after the line end as code: a syntax error proves the comment ended.
    assert engine_accepts(query)
    assert not engine_accepts(query + "junk")
    assert kinds(query + "junk")[-1] == ("word", "junk")


def test_only_space_tab_cr_lf_are_white_space() -> None:
    # (U+FEFF is no white space either, but a name character: the grammar's PN_CHARS_BASE holds it.)
    for char in "\x0b\x0c\x85\xa0\u2028":
        assert not engine_accepts(f"ASK {{}}{char}")
        assert not scan(f"ASK {{}}{char}").complete
    # ... but any character may sit in a comment.
    assert engine_accepts("ASK {} #\x0b\u2028\x85\n")
    assert scan("ASK {} #\x0b\u2028\x85\n").complete


def test_escapes_are_not_decoded_outside_strings_and_iris() -> None:
    assert not engine_accepts(r"ASK { \u003Fs ?p ?o }")  # \u003F is "?": decoded first, it would parse
    assert scan(r"ASK { \u003Fs ?p ?o }").stop_reason == "the character '\\\\'"
    # In a string the escape is a character of the value, never a delimiter.
    store = ox.Store()
    ((value,),) = [tuple(r) for r in store.query(r'SELECT ?x { BIND("a\u0022b" AS ?x) }')]
    assert value == ox.Literal('a"b')
    assert kinds(r'ASK { FILTER("a\u0022b" != "") }')[4] == ("string", r'"a\u0022b"')


def test_iri_escapes_take_a_plus_sign_as_rust_does() -> None:
    assert engine_iri(r"http://x/\u+041") == "http://x/A"
    assert unescape_iri(r"http://x/\u+041") == "http://x/A"
    assert engine_iri(r"http://x/\u0041\U0001F600") == "http://x/A\U0001f600"
    assert unescape_iri(r"http://x/\u0041\U0001F600") == "http://x/A\U0001f600"
    assert not engine_accepts(r"ASK { ?s <http://x/\uD800> ?o }")
    assert unescape_iri(r"http://x/\uD800") is None
    assert not engine_accepts(r"ASK { ?s <http://x/\q> ?o }")
    assert unescape_iri(r"http://x/\q") is None


@pytest.mark.parametrize(
    "reference",
    [
        "g:h", "g", "./g", "g/", "/g", "//g", "?y", "g?y", "#s", "g#s", "g?y#s", ";x", "g;x", "g;x?y#s", "",
        ".", "./", "..", "../", "../g", "../..", "../../", "../../g", "../../../g", "../../../../g", "/./g",
        "/../g", "g.", ".g", "g..", "..g", "./../g", "./g/.", "g/./h", "g/../h", "g;x=1/./y", "g;x=1/../y",
        "g?y/./x", "g?y/../x", "g#s/./x", "g#s/../x", "http:g", "HTTP://A/./b", "//g/../x", "a:b/../c",
    ],
)  # fmt: skip
def test_relative_iris_resolve_as_the_engine_resolves_them(reference: str) -> None:
    # RFC 3986 §5.4's examples, and oxiri's habit of keeping an absolute path as written.
    assert resolve(reference, BASE) == engine_iri(reference)


@pytest.mark.parametrize(
    ("query", "token"),
    [
        # "<" after an operand in an expression is less-than, even where an IRIREF would match.
        ('SELECT * { FILTER(1<2)#>"\n}', ("punct", "<")),
        ("SELECT * { FILTER(?o<?o) }", ("punct", "<")),
        ("ASK { FILTER(1<=2) }", ("punct", "<=")),
        ("ASK { FILTER(1 <\n2) }", ("punct", "<")),
        # Everywhere else it opens an IRI.
        ("SELECT * { ?s <http://a#b> ?o }", ("iri", "<http://a#b>")),
        ("SELECT * { ?s ?p (1 <http://a#b>) }", ("iri", "<http://a#b>")),
        ("SELECT * { ?s (<http://a#b>|<http://a/c>)* ?o }", ("iri", "<http://a#b>")),
        ("SELECT * { FILTER(1<2)<http://a#x> ?p ?o }", ("iri", "<http://a#x>")),
        ("SELECT * { FILTER(?o IN (<http://a#1>, 2)) }", ("iri", "<http://a#1>")),
        ("SELECT * { VALUES (?y) { (<http://a#1>) } }", ("iri", "<http://a#1>")),
        ('ASK { FILTER(?o = "a"^^<http://a#t>) }', ("iri", "<http://a#t>")),
        ("SELECT * { ?s ?p ?o } ORDER BY ?s <http://a#f>(?o)", ("iri", "<http://a#f>")),
        ("SELECT * { ?s ?p ?o FILTER <http://a#f>(?o) }", ("iri", "<http://a#f>")),
        ("ASK { FILTER(1 < <<( <http://a/s> <http://a#p> 1 )>>) }", ("iri", "<http://a#p>")),
    ],
)
def test_less_than_or_iri_is_decided_by_context(query: str, token: tuple[str, str]) -> None:
    with contextlib.suppress(RuntimeError):  # the engine parsed it; it only lacks the custom function
        engine_accepts(query)
    assert token in kinds(query)


def test_keywords_need_no_word_boundary() -> None:
    store = ox.Store()
    store.add(ox.Quad(ox.NamedNode("http://a/s"), ox.NamedNode("http://a/p"), ox.Literal(True)))
    # The engine's error names what it expects right after "true": SERVICE is one of them.
    with pytest.raises(SyntaxError, match="SERVICE"):
        store.query("SELECT * { ?s ?p truefalse }")
    assert ("word", "trueSERVICE") in kinds("SELECT * { ?s ?p trueSERVICE <x> {} }")
    assert ("pname", "SERVICEex:x") in kinds("PREFIX ex: <http://a/> SELECT * { SERVICEex:x {} }")


@pytest.mark.parametrize(
    ("name", "accepted"),
    [
        ("ex:a\\#b", True),
        ("ex:a\\'b", True),
        ("ex:a.b", True),
        ("ex:a.b.c", False),  # one run of dots inside a local name, not two
        ("e.x:a", True),
        ("\U00010000:a", False),  # nothing beyond U+FFFF in names
    ],
)
def test_prefixed_names_follow_the_engines_character_classes(name: str, accepted: bool) -> None:
    prefix = name.partition(":")[0]
    query = f"PREFIX {prefix}: <http://a/> ASK {{ ?s <http://a/p> {name} }}"
    assert engine_accepts(query) is accepted
    found = scan(query)
    assert (found.complete and ("pname", name) in kinds(query)) is accepted


def test_expand_pname_unescapes_the_local_part() -> None:
    assert expand_pname("ex:a\\#b", {"ex": "http://a/"}) == "http://a/a#b"
    assert expand_pname("no:a", {"ex": "http://a/"}) is None


def test_strings_stop_the_scan_where_the_engine_must_fail() -> None:
    for query in ('ASK { ?s ?p "a\nb" }', "ASK { ?s ?p 'a\rb' }", 'ASK { ?s ?p "\\q" }', 'ASK { ?s ?p """a'):
        assert not engine_accepts(query)
        assert not scan(query).complete
    assert engine_accepts('ASK { ?s ?p """a\rb""" }')
    assert scan('ASK { ?s ?p """a\rb""" }').complete


def test_depth_counts_brackets_operators_and_chained_patterns() -> None:
    # ASK { FILTER( ... ) }: the group, FILTER and the bracket are three levels.
    assert scan("ASK { FILTER(" + "!" * 12_000 + "true) }").depth == 12_003
    assert scan("ASK { FILTER(" + "+".join(["1"] * 20_000) + ") }").depth == 20_002
    assert scan("ASK { ?s " + "/".join(["<p:p>"] * 100) + " ?o }").depth == 100
    assert scan("ASK " + "{" * 50 + "}" * 50).depth == 50
    assert scan("ASK { " + " UNION ".join(["{}"] * 30) + " }").depth == 31
    # A long list is wide, not deep: commas end a segment.
    assert scan("ASK { FILTER(1 IN (" + ",".join(["1"] * 5_000) + ")) }").depth == 5
    # Operators at every level add up along the deepest path.
    assert scan("ASK { FILTER(" + "(1+" * 10 + "1" + ")" * 10 + ") }").depth == 23


def test_line_column_counts_cr_lf_and_crlf() -> None:
    assert line_column("a\r\nb\rc\nd", 7) == (4, 1)
    assert line_column("abc", 2) == (1, 3)

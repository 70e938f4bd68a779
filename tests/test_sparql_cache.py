"""The result cache: bounds by entries and bytes, least recently used first, validators and keys."""

from __future__ import annotations

import pyoxigraph as ox

from mqmkg.sparql.cache import ResultCache, cache_key, none_match, strong_etag, volatile, weak_etag
from mqmkg.sparql.worker import Job


def job(query: str = "SELECT * { ?s ?p ?o }", **changes: object) -> Job:
    fields: dict[str, object] = {
        "query": query,
        "base_iri": "http://127.0.0.1:8000/sparql",
        "default_graphs": None,
        "named_graphs": None,
        "results_format": "json",
        "graph_format": "turtle",
        "max_rows": 10_000,
        "allowlist": ("https://query.wikidata.org/sparql",),
    }
    fields.update(changes)
    return Job(**fields)  # type: ignore[arg-type]


def test_bounded_by_entries_least_recently_used_first() -> None:
    cache: ResultCache[str] = ResultCache(max_entries=2, max_bytes=1000)
    cache.put("a", "A", 10)
    cache.put("b", "B", 10)
    assert cache.get("a") == "A"  # a is now the most recently used
    cache.put("c", "C", 10)
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == ("A", None, "C")
    stats = cache.stats()
    assert (stats.entries, stats.bytes, stats.hits, stats.misses) == (2, 20, 3, 1)


def test_bounded_by_bytes_and_large_answers_not_kept() -> None:
    cache: ResultCache[str] = ResultCache(max_entries=100, max_bytes=1000)
    for name in "abcd":
        assert cache.put(name, name.upper(), 250)
    assert cache.put("e", "E", 250)  # 1250 bytes: the oldest goes
    assert cache.get("a") is None and cache.get("e") == "E"
    assert cache.stats().bytes == 1000
    assert not cache.put("huge", "H", 251)  # over a quarter of the bound: never kept
    assert cache.get("huge") is None
    cache.put("b", "B2", 100)  # replacing an entry counts its new size only
    assert cache.stats().bytes == 850


def test_off_keeps_nothing() -> None:
    cache: ResultCache[str] = ResultCache(max_entries=0, max_bytes=1000)
    assert not cache.enabled
    assert not cache.put("a", "A", 1)
    assert cache.get("a") is None


def test_key_changes_with_everything_that_shapes_the_answer() -> None:
    base = cache_key("graph-1", job(), ("application/sparql-results+json", "text/turtle"))
    same = cache_key("graph-1", job(), ("application/sparql-results+json", "text/turtle"))
    assert base == same
    others = [
        cache_key("graph-2", job(), ("application/sparql-results+json", "text/turtle")),  # a new graph
        cache_key("graph-1", job("SELECT * { ?s ?p ?o } LIMIT 1"), ("application/sparql-results+json", "text/turtle")),
        cache_key("graph-1", job(results_format="csv"), ("text/csv; charset=utf-8", "text/turtle")),
        cache_key("graph-1", job(), ("application/json", "text/turtle")),  # same format, other media type
        cache_key("graph-1", job(max_rows=5), ("application/sparql-results+json", "text/turtle")),
        cache_key("graph-1", job(default_graphs=("https://w3id.org/mqmkg/graph/agents",), named_graphs=())),
        cache_key("graph-1", job(base_iri="http://example.org/sparql")),
        cache_key("graph-1", job(substitutions=(("x", ox.NamedNode("https://w3id.org/mqmkg/id/mqm")),))),
        cache_key("graph-1", job(substitutions=(("x", ox.Literal("mqm")),))),
        cache_key("graph-1", job(substitutions=(("x", ox.Literal("mqm", language="en")),))),
    ]
    assert len({base, *others}) == len(others) + 1


def test_if_none_match_uses_weak_comparison() -> None:
    key = cache_key("graph", job(), ())
    etag = weak_etag(key)
    assert etag.startswith('W/"') and etag.endswith('"')
    assert none_match(etag, etag)
    assert none_match(etag.removeprefix("W/"), etag)  # weak comparison ignores the W/
    assert none_match(f'"other", {etag}', etag)
    assert none_match("*", etag)
    assert not none_match('"other"', etag)
    assert not none_match(None, etag) and not none_match("", etag)
    assert strong_etag(b"a") != strong_etag(b"b") and not strong_etag(b"a").startswith("W/")


def test_volatile_queries_are_the_ones_that_may_change_without_the_graph() -> None:
    assert volatile("SELECT * { SERVICE <https://query.wikidata.org/sparql> { ?s ?p ?o } }")
    assert volatile("SELECT (RAND() AS ?r) {}")
    assert volatile("SELECT (now() AS ?t) {}")
    assert volatile("SELECT (UUID() AS ?u) (STRUUID() AS ?s) {}")
    assert not volatile("SELECT * { ?s ?p ?o }")
    assert not volatile('SELECT * { ?s ?p "RAND() NOW()" } # UUID()')  # in a string or a comment
    assert not volatile("SELECT ?random { ?now ?p ?random }")

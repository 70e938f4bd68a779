"""The house prefixes: one table, read the same way by the engine and the SERVICE guard."""

from __future__ import annotations

import json
import re

import pyoxigraph as ox
import pytest

from conftest import ROOT
from mqmkg.errors import ServiceRefused
from mqmkg.export import PREFIXES as EXPORT_PREFIXES
from mqmkg.report import PREFIXES as REPORT_PREFIXES
from mqmkg.sparql.guard import check_services
from mqmkg.sparql.prefixes import HOUSE_PREFIXES, KNOWN_PREFIXES, declarations, find_undeclared
from mqmkg.sparql.worker import Answer, Job, Refusal, execute

WIKIDATA = "https://query.wikidata.org/sparql"
_DECLARATION = re.compile(r"^(?:PREFIX|@prefix)\s+([\w.-]*):\s*<([^>]*)>", re.IGNORECASE | re.MULTILINE)


def declared_in_project_files() -> dict[str, set[str]]:
    """Every prefix the project's own RDF and SPARQL files declare, with the IRIs given to it."""
    found: dict[str, set[str]] = {}
    for folder, pattern in (("ontology", "*.ttl"), ("graph", "*.ttl"), ("shapes", "*.ttl"), ("queries", "**/*.rq")):
        for path in (ROOT / folder).glob(pattern):
            for prefix, iri in _DECLARATION.findall(path.read_text(encoding="utf-8")):
                found.setdefault(prefix, set()).add(iri)
    return found


def test_house_table_covers_every_prefix_the_project_declares() -> None:
    declared = declared_in_project_files()
    assert {"kg", "mqm", "crm", "sh", "wd", "wdt"} <= set(declared)
    for prefix, iris in declared.items():
        assert iris == {HOUSE_PREFIXES[prefix]}, prefix


@pytest.mark.parametrize("table", [EXPORT_PREFIXES, REPORT_PREFIXES], ids=["export", "report"])
def test_other_prefix_tables_agree_with_the_house_table(table: dict[str, str]) -> None:
    assert {p: HOUSE_PREFIXES[p] for p in table} == table


def test_known_vocabularies_do_not_shadow_house_prefixes() -> None:
    assert set(KNOWN_PREFIXES).isdisjoint(HOUSE_PREFIXES)
    assert declarations({"kg": HOUSE_PREFIXES["kg"]}) == "PREFIX kg: <https://w3id.org/mqmkg/id/>"


def test_find_undeclared_names_the_first_undeclared_prefix_with_its_position() -> None:
    query = "PREFIX ex: <http://example.org/>\nSELECT * WHERE {\n  ?s ex:p ?o ;\n     dbo:abstract ?a }"
    found = find_undeclared(query, HOUSE_PREFIXES)
    assert found is not None
    assert (found.prefix, found.line, found.column, found.suggestion) == ("dbo", 4, 6, None)
    assert "PREFIX dbo: <namespace IRI>" in found.message()


def test_find_undeclared_ignores_declared_house_strings_comments_iris_and_blank_nodes() -> None:
    query = """PREFIX ex: <http://example.org/>
# foo:bar in a comment
SELECT * WHERE { ?s ex:p "dbo:x" ; mqm:q <urn:zzz:a> ; rdfs:label _:b1 . }"""
    assert find_undeclared(query, HOUSE_PREFIXES) is None
    assert find_undeclared(query, {}) is not None  # mqm: is undeclared when nothing is predeclared


def test_find_undeclared_suggests_the_line_for_a_known_vocabulary() -> None:
    found = find_undeclared("SELECT * { ?item p:P31 ?statement }", HOUSE_PREFIXES)
    assert found is not None and found.suggestion == "PREFIX p: <http://www.wikidata.org/prop/>"
    assert found.message().endswith("add this line at the top of the query: PREFIX p: <http://www.wikidata.org/prop/>")


def test_find_undeclared_points_a_near_miss_to_the_house_prefix() -> None:
    found = find_undeclared("SELECT * { ?s a mqn:Split }", HOUSE_PREFIXES)
    assert found is not None and (found.prefix, found.meant, found.suggestion) == ("mqn", "mqm", None)
    assert 'did you mean "mqm:"' in found.message()


def job(query: str, prefixes: dict[str, str] | None = None, allowlist: tuple[str, ...] = ()) -> Job:
    return Job(
        query=query,
        base_iri="http://127.0.0.1:8000/sparql",
        default_graphs=None,
        named_graphs=None,
        results_format="json",
        graph_format="ntriples",
        max_rows=100,
        allowlist=allowlist,
        prefixes=tuple((HOUSE_PREFIXES if prefixes is None else prefixes).items()),
    )


def values(store: ox.Store, query: str, **changes: object) -> list[str]:
    answer = execute(store, job(query, **changes))  # type: ignore[arg-type]
    assert isinstance(answer, Answer), answer
    bindings = json.loads(answer.body)["results"]["bindings"]
    return [b["leader"]["value"] for b in bindings]


SPLIT_LEADERS = """SELECT ?leader WHERE {
  ?split a mqm:Split ; prov:wasAssociatedWith/rdfs:label ?leader } ORDER BY ?leader"""


def test_engine_accepts_house_prefixes_without_declaration(project_store: ox.Store) -> None:
    assert values(project_store, SPLIT_LEADERS) == ["Aamir Khan", "Afaq Ahmed"]


def test_a_query_that_declares_a_house_prefix_keeps_its_own(project_store: ox.Store) -> None:
    assert values(project_store, "PREFIX mqm: <http://example.org/not-ours#>\n" + SPLIT_LEADERS) == []


def test_undeclared_prefix_refusal_names_it_without_unicode_ranges(project_store: ox.Store) -> None:
    refusal = execute(project_store, job(SPLIT_LEADERS, prefixes={}))
    assert isinstance(refusal, Refusal) and refusal.error == "syntax"
    assert refusal.prefix == "mqm" and refusal.declaration == "PREFIX mqm: <https://w3id.org/mqmkg/ontology#>"
    assert (refusal.line, refusal.column) == (2, 12)
    assert refusal.message == (
        'syntax error at line 2, column 12: the prefix "mqm:" is not declared; '
        "add this line at the top of the query: PREFIX mqm: <https://w3id.org/mqmkg/ontology#>"
    )
    assert "\\u{" not in refusal.message


def test_other_syntax_errors_keep_the_engine_message(project_store: ox.Store) -> None:
    refusal = execute(project_store, job("SELECT * WHERE { ?s ?p }"))
    assert isinstance(refusal, Refusal) and refusal.prefix is None
    assert refusal.message.startswith("syntax error at line 1")


FEDERATED = f"SELECT * WHERE {{ SERVICE <{WIKIDATA}> {{ ?item wdt:P31 ?class }} }}"


def test_guard_reads_the_query_with_the_engines_prefixes() -> None:
    assert check_services(FEDERATED, None, (WIKIDATA,), prefixes=HOUSE_PREFIXES) == (WIKIDATA,)
    with pytest.raises(ServiceRefused, match="cannot check"):
        check_services(FEDERATED, None, (WIKIDATA,), prefixes={})


def test_guard_honours_a_query_that_redeclares_a_house_prefix() -> None:
    query = "PREFIX wd: <http://127.0.0.1:9/>\nSELECT * WHERE { SERVICE wd:sparql { ?s ?p ?o } }"
    with pytest.raises(ServiceRefused, match=r"<http://127\.0\.0\.1:9/sparql> is not on the allow-list"):
        check_services(query, None, (WIKIDATA,), prefixes=HOUSE_PREFIXES)
    house = "SELECT * WHERE { SERVICE wd:sparql { ?s ?p ?o } }"
    with pytest.raises(ServiceRefused, match=r"<http://www\.wikidata\.org/entity/sparql> is not on the allow-list"):
        check_services(house, None, (WIKIDATA,), prefixes=HOUSE_PREFIXES)


def test_readme_lists_the_house_prefixes() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    listed = dict(re.findall(r"^\| `([\w-]+):` \| `([^`]+)` \|$", readme, re.MULTILINE))
    assert listed == dict(HOUSE_PREFIXES)

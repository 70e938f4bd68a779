"""The QC queries in queries/qc/: profile, headers, and rows on fixtures in both engines.

Each check runs on the clean fixture root (no rows) and on the clean root plus its broken
fixture ``tests/fixtures/validate/qc/<check>.ttl``, whose ``# expect:`` lines list the rows
the check must return (compact terms, ``entity | property | value``, ``-`` for unbound).
pyoxigraph (the engine `mqmkg validate` uses) and rdflib must return the same rows.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from rdflib.plugins.sparql import prepareQuery

from mqmkg.config import Settings
from mqmkg.report import LEVELS, compact
from mqmkg.store import build_store
from mqmkg.validate import PROFILE, QC_SUFFIX, QcCheck, load_checks, ntriples, run_check, to_rdflib

REPO = Path(__file__).resolve().parents[1]
QC_DIR = REPO / "queries" / "qc"
FIXTURES = REPO / "tests" / "fixtures" / "validate"
CLEAN = FIXTURES / "clean"
BROKEN = FIXTURES / "qc"
NAMES = sorted(path.name.removesuffix(QC_SUFFIX) for path in QC_DIR.glob(f"*{QC_SUFFIX}"))
OVERLAYS = sorted(path.stem for path in BROKEN.glob("*.ttl"))

Row = tuple[str | None, str | None, str | None]


@pytest.fixture(scope="module")
def checks() -> dict[str, QcCheck]:
    loaded, problems = load_checks(QC_DIR)
    assert problems == ()
    return {check.name: check for check in loaded}


@cache
def dataset(overlay: str | None) -> tuple[ox.Store, rdflib.Graph]:
    """Return the clean root (plus one broken fixture) as a store and an identical rdflib graph.

    The rdflib graph is copied from the store, so both engines see the same terms: the store
    rewrites valid literals of derived datatypes to their canonical form (for example
    ``"5"^^xsd:nonNegativeInteger`` to ``"5"^^xsd:integer``), and blank node labels match.
    """
    settings = Settings(root=CLEAN)
    files = sorted(settings.ontology_dir.glob("*.ttl")) + sorted(settings.graph_dir.glob("*.ttl"))
    if overlay is not None:
        files.append(BROKEN / f"{overlay}.ttl")
    store = build_store(settings, files)
    graph = rdflib.Graph()
    for quad in store:
        graph.add((to_rdflib(quad.subject), to_rdflib(quad.predicate), to_rdflib(quad.object)))
    return store, graph


def oxigraph_rows(store: ox.Store, check: QcCheck) -> list[Row]:
    return sorted(((r.entity, r.property, r.value) for r in run_check(store, check)), key=str)


def rdflib_rows(graph: rdflib.Graph, check: QcCheck) -> list[Row]:
    result = graph.query(check.query)
    return sorted(((ntriples(e), ntriples(p), ntriples(v)) for e, p, v in result), key=str)


def expected_rows(overlay: str) -> list[tuple[str, ...]]:
    lines = (BROKEN / f"{overlay}.ttl").read_text(encoding="utf-8").splitlines()
    rows = [tuple(line.removeprefix("# expect: ").split(" | ")) for line in lines if line.startswith("# expect: ")]
    assert rows, f"{overlay}.ttl has no '# expect:' line"
    return sorted(rows)


def compacted(rows: list[Row]) -> list[tuple[str, ...]]:
    return sorted(tuple(compact(term) for term in row) for row in rows)


def test_profile_lists_every_query_once_with_a_level() -> None:
    levels = dict(line.split("\t")[::-1] for line in (QC_DIR / PROFILE).read_text().splitlines()[1:])
    assert sorted(levels) == NAMES
    assert set(levels.values()) <= set(LEVELS)


def test_levels_follow_the_data_model(checks: dict[str, QcCheck]) -> None:
    warn = {"duplicate-label", "uncited-report", "unmentioned-entity"}
    info = {"no-wikidata-link"}
    assert {name for name, check in checks.items() if check.level == "WARN"} == warn
    assert {name for name, check in checks.items() if check.level == "INFO"} == info
    assert {name for name, check in checks.items() if check.level == "ERROR"} == set(NAMES) - warn - info


@pytest.mark.parametrize("name", NAMES)
def test_query_has_header_and_robot_projection(checks: dict[str, QcCheck], name: str) -> None:
    check = checks[name]
    assert check.title and check.description
    assert prepareQuery(check.query).algebra["PV"] == [rdflib.Variable(v) for v in ("entity", "property", "value")]


def test_every_check_has_a_broken_fixture() -> None:
    assert OVERLAYS == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_clean_fixture_gives_no_rows(checks: dict[str, QcCheck], name: str) -> None:
    store, graph = dataset(None)
    assert oxigraph_rows(store, checks[name]) == []
    assert rdflib_rows(graph, checks[name]) == []


@pytest.mark.parametrize("name", NAMES)
def test_broken_fixture_gives_the_expected_rows(checks: dict[str, QcCheck], name: str) -> None:
    store, graph = dataset(name)
    rows = oxigraph_rows(store, checks[name])
    assert compacted(rows) == expected_rows(name)
    assert rdflib_rows(graph, checks[name]) == rows


@pytest.mark.slow
@pytest.mark.parametrize("overlay", [None, *OVERLAYS])
def test_engines_agree_on_every_check(checks: dict[str, QcCheck], overlay: str | None) -> None:
    store, graph = dataset(overlay)
    for name, check in checks.items():
        assert rdflib_rows(graph, check) == oxigraph_rows(store, check), name


def test_quote_check_matches_the_data_model_verbatim(checks: dict[str, QcCheck]) -> None:
    body = checks["quote-mismatch"].query
    assert "FILTER (SUBSTR(?text, ?s + 1, ?e - ?s) != ?exact)" in body
    assert "SELECT ?entity (oa:exact AS ?property) (?exact AS ?value) WHERE {" in body

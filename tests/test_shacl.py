"""Validating contributed RDF with the graph (``mqmkg.shacl``), in-process, and the
validation process with its deadline (``mqmkg.validation_worker``)."""

from __future__ import annotations

import time
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from pyshacl import validate as pyshacl_validate

from conftest import Listener
from mqmkg.config import Settings
from mqmkg.errors import DataSyntaxError, ServerBusy, SubmissionRefused, ValidationTimeout
from mqmkg.shacl import Base, Outcome, load_base, parse_submission, validate_submission
from mqmkg.validation_worker import SubmissionJob, ValidationWorker
from test_shapes import FIXTURE_LIST, Fixture, curie

ROOT = Path(__file__).resolve().parents[1]
KG = "https://w3id.org/mqmkg/id/"
MQM = "https://w3id.org/mqmkg/ontology#"
SH = "http://www.w3.org/ns/shacl#"
HEAD = """PREFIX kg: <https://w3id.org/mqmkg/id/>
PREFIX mqm: <https://w3id.org/mqmkg/ontology#>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX sem: <http://semanticweb.cs.vu.nl/2009/11/sem/>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
"""
# A claim from another report, in our model, resting on one of our evidence sentences.
GOOD_CLAIM = (
    HEAD
    + """kg:claim-contributed a mqm:Claim ;
    rdfs:label "MQM Haqiqi was launched in 1992"@en ;
    mqm:basis mqm:StatedByPage ;
    mqm:about kg:mqm-h ;
    prov:wasDerivedFrom kg:doc-globalsecurity-mqm ;
    mqm:evidence kg:ev-3732-3857 .
"""
)
# A claim with no evidence, and a second English preferred label for Karachi.


def many_claims(count: int) -> str:
    """Return ``count`` well-formed claims: each costs pySHACL tens of milliseconds (its SPARQL constraints)."""
    return HEAD + "\n".join(
        f'kg:c{i} a mqm:Claim ; rdfs:label "claim {i}"@en ; mqm:basis mqm:StatedByPage ; mqm:about kg:mqm-h ;'
        f" prov:wasDerivedFrom kg:doc-globalsecurity-mqm ; mqm:evidence kg:ev-3732-3857 ."
        for i in range(count)
    )


BAD = (
    HEAD
    + """kg:claim-unsourced a mqm:Claim ; rdfs:label "Karachi is large"@en ; mqm:about kg:karachi ;
    prov:wasDerivedFrom kg:doc-globalsecurity-mqm .
kg:karachi skos:prefLabel "Karachi City"@en .
"""
)


@pytest.fixture(scope="module")
def base() -> Base:
    return load_base(Settings(root=ROOT))


def check(base: Base, turtle: str) -> Outcome:
    triples = parse_submission(turtle.encode("utf-8"), "text/turtle")
    return validate_submission(base, ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES))


def tuples(outcome: Outcome) -> set[tuple[str, str | None, str, str]]:
    return {(r.focus, r.path, r.component, r.shape) for r in outcome.results}


def test_a_claim_resting_on_our_evidence_conforms(base: Base) -> None:
    outcome = check(base, GOOD_CLAIM)
    assert outcome.conforms and outcome.results == ()
    assert outcome.triples == 6
    # the claim, kg:mqm-h, the page, the evidence, mqm:StatedByPage, and the six predicates
    assert outcome.focus_nodes == 11


def test_pyshacl_focus_nodes_option_misreports_nested_shapes(base: Base) -> None:
    """Why ``only_focus`` exists: with pySHACL 0.40.1's ``focus_nodes`` the evidence sentence
    that the claim above cites breaks its qualified selector counts, though it conforms."""
    data = base.data + rdflib.Graph().parse(data=GOOD_CLAIM, format="turtle")
    evidence = rdflib.URIRef(KG + "ev-3732-3857")
    conforms, report, _ = pyshacl_validate(
        data, shacl_graph=base.shapes, ont_graph=base.ontology, inference="none", advanced=True, focus_nodes=[evidence]
    )
    components = {str(o) for o in report.objects(None, rdflib.URIRef(SH + "sourceConstraintComponent"))}
    assert not conforms and components == {SH + "QualifiedMaxCountConstraintComponent"}


def test_broken_data_gets_each_result_with_focus_path_and_constraint(base: Base) -> None:
    outcome = check(base, BAD)
    assert not outcome.conforms
    assert {
        (
            f"<{KG}claim-unsourced>",
            f"<{MQM}evidence>",
            f"<{SH}MinCountConstraintComponent>",
            f"<{MQM}ClaimShape-evidence>",
        ),
        (
            f"<{KG}karachi>",
            "<http://www.w3.org/2004/02/skos/core#prefLabel>",
            f"<{SH}UniqueLangConstraintComponent>",
            f"<{MQM}LabelShape-prefLabel>",
        ),
    } <= tuples(outcome)
    assert all(r.severity == "Violation" and r.message for r in outcome.results)
    report = rdflib.Graph().parse(data=outcome.report, format="nt")
    assert len(set(report.subjects(rdflib.RDF.type, rdflib.URIRef(SH + "ValidationResult")))) == len(outcome.results)


def test_the_base_never_keeps_a_submission(base: Base) -> None:
    size = len(base.data)
    assert not check(base, BAD).conforms
    assert len(base.data) == size
    assert (rdflib.URIRef(KG + "karachi"), rdflib.SKOS.prefLabel, rdflib.Literal("Karachi City", lang="en")) not in (
        base.data
    )
    fine = check(base, HEAD + 'kg:karachi rdfs:comment "the port city"@en .')
    assert fine.conforms  # the second prefLabel of the earlier submission is gone


def test_blank_nodes_are_validated(base: Base) -> None:
    role = (
        HEAD
        + """kg:event-contributed a mqm:Clash ; rdfs:label "A clash (contributed)"@en ;
    sem:hasActor kg:mqm, [ a sem:Role ; sem:roleType mqm:Perpetrator ] ;
    mqm:supportedBy kg:claim-split-1992 .
"""
    )
    outcome = check(base, role)
    blank = [r for r in outcome.results if r.focus.startswith("_:")]
    assert blank and {r.shape for r in blank} == {f"<{MQM}RoleShape-value>"}, outcome.results


@pytest.mark.parametrize(
    ("data", "media_type", "line", "column"),
    [
        (b"@prefix : <http://x/> .\n:a :b :c ;\n  :d .", "text/turtle", 3, 6),
        (b'<http://x/a> <http://x/b> <http://x/c> .\n<http://x/a> <http://x/b> "x .', "application/n-triples", 2, None),
        (b'{"@id": "http://x/a",\n "http://x/b": }', "application/ld+json", 2, 16),
        (b"<a> <b> <c> .", "text/turtle", 1, 1),  # relative IRIs: no base is assumed
    ],
)
def test_syntax_errors_name_line_and_column(data: bytes, media_type: str, line: int, column: int | None) -> None:
    with pytest.raises(DataSyntaxError) as caught:
        parse_submission(data, media_type)
    assert caught.value.line == line
    if column is not None:
        assert caught.value.column == column


def test_json_ld_remote_contexts_are_never_fetched(listener: Listener) -> None:
    doc = f'{{"@context": "{listener.url("/context.jsonld")}", "@id": "http://x/a", "http://x/b": "c"}}'
    with pytest.raises(DataSyntaxError, match="remote context"):
        parse_submission(doc.encode(), "application/ld+json")
    time.sleep(0.3)
    assert listener.connections == []


def test_an_empty_graph_has_nothing_to_validate() -> None:
    assert parse_submission(b"# only a comment\n", "text/turtle") == ()


@pytest.mark.parametrize(
    ("data", "media_type", "message"),
    [
        (
            b'{"@id": "http://x/g", "@graph": [{"@id": "http://x/a", "http://x/b": "c"}]}',
            "application/ld+json",
            "named graphs",
        ),
        (
            b"<http://x/a> <http://x/b> <<( <http://x/c> <http://x/d> <http://x/e> )>> .",
            "application/n-triples",
            "triple terms",
        ),
    ],
)
def test_what_cannot_be_validated_is_refused(data: bytes, media_type: str, message: str) -> None:
    with pytest.raises(SubmissionRefused, match=message):
        parse_submission(data, media_type)


def test_the_worker_is_killed_at_the_deadline_and_restarted() -> None:
    settings = Settings(root=ROOT)
    worker = ValidationWorker(settings, "test-shacl-worker")
    many = many_claims(200)
    job = SubmissionJob(ox.serialize(parse_submission(many.encode(), "text/turtle"), format=ox.RdfFormat.N_TRIPLES))
    small = SubmissionJob(
        ox.serialize(parse_submission(GOOD_CLAIM.encode(), "text/turtle"), format=ox.RdfFormat.N_TRIPLES)
    )
    try:
        first = worker.run(small, deadline=120, wait=1)  # starts the process and loads the graph
        assert isinstance(first, Outcome) and first.conforms
        pid = worker.pid
        started = time.monotonic()
        with pytest.raises(ValidationTimeout, match="deadline of 1 s"):
            worker.run(job, deadline=1, wait=1)
        assert time.monotonic() - started < 10
        assert worker.pid is None and worker.restarts == 1
        again = worker.run(small, deadline=120, wait=1)
        assert isinstance(again, Outcome) and again.conforms and worker.pid not in (None, pid)
    finally:
        worker.close()


def test_a_busy_worker_makes_others_wait_then_refuses() -> None:
    worker = ValidationWorker(Settings(root=ROOT), "test-busy-worker")
    worker._lock.acquire()  # another request holds the worker
    try:
        with pytest.raises(ServerBusy, match="busy"):
            worker.run(SubmissionJob(b""), deadline=5, wait=0.2)
    finally:
        worker._lock.release()
        worker.close()


def _canonical(term: str | None) -> str:
    """Write a result term as the shape fixtures' ``# expect:`` lines do (CURIEs, ``-``, ``^p``)."""
    if term is None:
        return "-"
    if term.startswith("^<"):
        return "^" + curie(rdflib.URIRef(term[2:-1]))
    return curie(rdflib.URIRef(term[1:-1])) if term.startswith("<") else term


def _sample() -> list[Fixture]:
    """One invalid fixture per shape file, and every shortcut fixture (shapes that target properties)."""
    usable = [
        f
        for f in FIXTURE_LIST
        if not f.valid and f.base == "default" and not f.nested and not any(e[0].startswith("[") for e in f.expect)
    ]
    first = {f.shape_file: f for f in reversed(usable)}
    return sorted({*first.values(), *(f for f in usable if f.shape_file == "shortcut")}, key=lambda f: f.id)


@pytest.mark.parametrize("fixture", _sample(), ids=lambda f: f.id)
def test_the_shape_fixtures_give_their_expected_results_with_the_whole_graph(base: Base, fixture: Fixture) -> None:
    """tests/test_shapes.py checks each fixture on a small base; here, on the whole graph, as /shacl does."""
    outcome = check(base, fixture.path.read_text(encoding="utf-8"))
    found = {
        (_canonical(r.focus), _canonical(r.path), _canonical(r.component), _canonical(r.shape)) for r in outcome.results
    }
    assert found == set(fixture.expect)

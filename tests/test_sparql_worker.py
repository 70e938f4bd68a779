"""Query evaluation inside a worker, in-process: dataset semantics, row cap, refusals."""

from __future__ import annotations

import json

import pyoxigraph as ox
import pytest

from conftest import ENDPOINT_ROOT, Listener
from mqmkg.config import GRAPH_BASE, Settings
from mqmkg.sparql.dataset import Snapshot, build_snapshot, load_store
from mqmkg.sparql.formats import ResultKind
from mqmkg.sparql.worker import Answer, Job, Refusal, execute

PREFIXES = """PREFIX kg: <https://w3id.org/mqmkg/id/>
PREFIX mqm: <https://w3id.org/mqmkg/ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
"""
BASE = "http://127.0.0.1:8000/sparql"
EVENTS = GRAPH_BASE + "events"
PEOPLE = GRAPH_BASE + "people"
ORGANISATIONS = GRAPH_BASE + "organisations"


@pytest.fixture(scope="module")
def snapshot() -> Snapshot:
    return build_snapshot(Settings(root=ENDPOINT_ROOT))


@pytest.fixture(scope="module")
def store(snapshot: Snapshot) -> ox.Store:
    return load_store(snapshot.nquads)


def job(query: str, **changes: object) -> Job:
    values: dict[str, object] = {
        "query": PREFIXES + query,
        "base_iri": BASE,
        "default_graphs": None,
        "named_graphs": None,
        "results_format": "json",
        "graph_format": "ntriples",
        "max_rows": 100,
        "allowlist": (),
    }
    values.update(changes)
    return Job(**values)  # type: ignore[arg-type]


def rows(store: ox.Store, query: str, **changes: object) -> list[dict[str, str]]:
    answer = execute(store, job(query, **changes))
    assert isinstance(answer, Answer), answer
    bindings = json.loads(answer.body)["results"]["bindings"]
    return [{k: v["value"] for k, v in b.items()} for b in bindings]


def test_snapshot_counts(snapshot: Snapshot) -> None:
    assert [(g.name.removeprefix(GRAPH_BASE), g.triples) for g in snapshot.graphs] == [
        ("events", 25),
        ("mqm", 7),
        ("organisations", 14),
        ("people", 11),
        ("source", 1),
    ]
    # 58 quads, one triple (kg:karachi rdfs:label "Karachi"@en) held by two graphs.
    assert (snapshot.quads, snapshot.default_graph_triples) == (58, 57)


def test_exact_answer(store: ox.Store) -> None:
    assert rows(store, "SELECT ?a ?b { ?a mqm:splinterOf ?b }") == [
        {"a": "https://w3id.org/mqmkg/id/mqm-h", "b": "https://w3id.org/mqmkg/id/mqm"}
    ]


def test_default_graph_is_the_union_as_a_set(store: ox.Store) -> None:
    assert rows(store, "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }") == [{"n": "57"}]
    assert rows(store, "SELECT ?l { kg:karachi rdfs:label ?l }") == [{"l": "Karachi"}]
    assert rows(store, "SELECT (COUNT(*) AS ?n) { GRAPH ?g { kg:karachi rdfs:label ?l } }") == [{"n": "2"}]


def test_from_selects_store_graphs(store: ox.Store) -> None:
    assert rows(store, f"SELECT ?l FROM <{EVENTS}> {{ kg:karachi rdfs:label ?l }}") == [{"l": "Karachi"}]
    assert rows(store, f"SELECT ?l FROM <{ORGANISATIONS}> {{ kg:karachi rdfs:label ?l }}") == []
    assert rows(store, f"SELECT DISTINCT ?g FROM NAMED <{PEOPLE}> {{ GRAPH ?g {{ ?s ?p ?o }} }}") == [{"g": PEOPLE}]


def test_protocol_dataset_overrides_from(store: ox.Store) -> None:
    # query_multiple_dataset: FROM names organisations, the protocol names events.
    query = f"SELECT ?s FROM <{ORGANISATIONS}> {{ ?s mqm:statedValue ?v }}"
    assert rows(store, query, default_graphs=(EVENTS,), named_graphs=()) == [
        {"s": "https://w3id.org/mqmkg/id/event-1998-06-karachi-killings"}
    ]


def test_protocol_named_graphs_only_leave_the_default_graph_empty(store: ox.Store) -> None:
    query = "SELECT ?g (COUNT(*) AS ?n) { { GRAPH ?g { ?s ?p ?o } } UNION { ?s ?p ?o } } GROUP BY ?g"
    assert rows(store, query, default_graphs=(), named_graphs=(PEOPLE,)) == [{"g": PEOPLE, "n": "11"}]
    assert rows(store, query, default_graphs=(PEOPLE, EVENTS), named_graphs=()) == [{"n": "36"}]


def test_from_a_url_fetches_nothing(store: ox.Store, listener: Listener) -> None:
    query = f"SELECT * FROM <{listener.url('/data.ttl')}> FROM NAMED <{listener.url('/g')}> {{ ?s ?p ?o }}"
    assert rows(store, query) == []
    assert listener.connections == []


def test_row_cap_truncates(store: ox.Store) -> None:
    answer = execute(store, job("SELECT * { ?s ?p ?o }", max_rows=10))
    assert isinstance(answer, Answer)
    assert (answer.rows, answer.truncated) == (10, True)
    assert len(json.loads(answer.body)["results"]["bindings"]) == 10
    exact = execute(store, job("SELECT * { ?s a ?o }", max_rows=14))
    assert isinstance(exact, Answer)
    assert (exact.rows, exact.truncated) == (14, False)
    graph = execute(store, job("CONSTRUCT WHERE { ?s ?p ?o }", max_rows=5))
    assert isinstance(graph, Answer)
    assert (graph.kind, graph.rows, graph.truncated) == (ResultKind.GRAPH, 5, True)
    assert len(graph.body.decode().splitlines()) == 5


def test_ask_and_construct(store: ox.Store) -> None:
    ask = execute(store, job("ASK { kg:mqm-h mqm:splinterOf kg:mqm }"))
    assert isinstance(ask, Answer)
    assert json.loads(ask.body) == {"boolean": True, "head": {}}
    construct = execute(store, job("CONSTRUCT { ?b ?p ?a } WHERE { ?a ?p ?b . FILTER(?p = mqm:splinterOf) }"))
    assert isinstance(construct, Answer)
    assert construct.body == (
        b"<https://w3id.org/mqmkg/id/mqm> <https://w3id.org/mqmkg/ontology#splinterOf> "
        b"<https://w3id.org/mqmkg/id/mqm-h> .\n"
    )


def test_relative_iris_resolve_against_the_endpoint(store: ox.Store) -> None:
    answer = execute(store, job("CONSTRUCT { <s> <p> 1 } WHERE {}"))
    assert isinstance(answer, Answer)
    assert answer.body.startswith(b"<http://127.0.0.1:8000/s> <http://127.0.0.1:8000/p> ")


def test_syntax_error_has_position(store: ox.Store) -> None:
    refusal = execute(store, Job("SELECT *\nWHERE { ?s ?p }", BASE, None, None, "json", None, 10, ()))
    assert refusal == Refusal(
        "syntax",
        "syntax error at line 2, column 16: expected one of LATERAL, SERVICE, [_] "
        "(rdflib: Expected SelectQuery, found '?' at line 2, column 9)",
        2,
        16,
    )


def test_kind_without_format_is_refused(store: ox.Store) -> None:
    assert execute(store, job("ASK {}", results_format=None)) == Refusal("not-acceptable", "results")
    assert execute(store, job("DESCRIBE kg:mqm", graph_format=None)) == Refusal("not-acceptable", "graph")


def test_service_outside_allowlist_is_refused_before_evaluation(store: ox.Store, listener: Listener) -> None:
    refusal = execute(store, job(f"SELECT * {{ SERVICE <{listener.url()}> {{ ?s ?p ?o }} }}"))
    assert isinstance(refusal, Refusal)
    assert refusal.error == "service-refused"
    assert listener.connections == []

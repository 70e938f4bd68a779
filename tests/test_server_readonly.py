"""Read-only: a battery of update attempts through every door, then the served dataset is
compared, graph by graph, with the fixture files as rdflib reads them."""

from __future__ import annotations

import io
from urllib.parse import quote

import httpx
import rdflib
from rdflib.compare import isomorphic
from rdflib.query import Result

from conftest import ENDPOINT_ROOT, GRAPH, LiveServer
from mqmkg.source import read_source

INSERT = "INSERT DATA { GRAPH <https://w3id.org/mqmkg/graph/people> { <urn:x:a> <urn:x:b> <urn:x:c> } }"
UPDATES = [
    INSERT,
    "DELETE WHERE { ?s ?p ?o }",
    "DELETE { ?s ?p ?o } INSERT { ?s ?p 'changed' } WHERE { ?s ?p ?o }",
    "WITH <https://w3id.org/mqmkg/graph/people> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }",
    "DROP ALL",
    "CLEAR DEFAULT",
    "DROP GRAPH <https://w3id.org/mqmkg/graph/events>",
    "CREATE GRAPH <urn:x:new>",
    "ADD <https://w3id.org/mqmkg/graph/people> TO <https://w3id.org/mqmkg/graph/events>",
    "MOVE <https://w3id.org/mqmkg/graph/people> TO DEFAULT",
    "COPY DEFAULT TO <https://w3id.org/mqmkg/graph/mqm>",
    "LOAD <http://127.0.0.1:9/x.ttl>",
    "PREFIX kg: <https://w3id.org/mqmkg/id/> CLEAR ALL ; INSERT DATA { kg:a kg:b kg:c }",
]


def post(server: LiveServer, body: str, content_type: str) -> httpx.Request:
    return httpx.Request("POST", server.sparql, content=body.encode(), headers={"Content-Type": content_type})


def attempts(server: LiveServer) -> list[httpx.Request]:
    """Every way an update could be sent: each update through five doors, plus query tricks."""
    requests = []
    for update in UPDATES:
        encoded = quote(update, safe="")
        requests += [
            httpx.Request("GET", f"{server.sparql}?update={encoded}"),
            post(server, f"update={encoded}", "application/x-www-form-urlencoded"),
            post(server, update, "application/sparql-update"),
            httpx.Request("GET", f"{server.sparql}?query={encoded}"),
            post(server, update, "application/sparql-query"),
        ]
    requests += [
        httpx.Request("GET", f"{server.sparql}?query={quote('SELECT * {} ; ' + INSERT)}"),
        httpx.Request("GET", f"{server.sparql}?query=ASK%7B%7D&update={quote(INSERT)}"),
        httpx.Request("GET", f"{server.sparql}?query=ASK%7B%7D&using-graph-uri={quote(GRAPH + 'people')}"),
        httpx.Request("PUT", f"{server.sparql}?default", content=b"<urn:x:a> <urn:x:b> <urn:x:c> ."),
        httpx.Request("DELETE", server.sparql),
    ]
    return requests


XSD = "http://www.w3.org/2001/XMLSchema#"
INTEGER_SUBTYPES = {
    rdflib.URIRef(XSD + name)
    for name in (
        "nonNegativeInteger", "positiveInteger", "nonPositiveInteger", "negativeInteger", "long", "int",
        "short", "byte", "unsignedLong", "unsignedInt", "unsignedShort", "unsignedByte",
    )
}  # fmt: skip


def as_stored(term: rdflib.term.Node) -> rdflib.term.Node:
    """Apply the one rewrite pyoxigraph 0.5.13's store makes: integer subtypes become xsd:integer.

    A known engine deviation (see ``test_known_deviation_integer_subtypes_are_stored_as_integer``).
    """
    if isinstance(term, rdflib.Literal) and term.datatype in INTEGER_SUBTYPES:
        return rdflib.Literal(str(int(term)), datatype=rdflib.URIRef(XSD + "integer"))
    return term


def expected_dataset() -> dict[str, rdflib.Graph]:
    """The dataset the fixture files describe, read by rdflib (not by the endpoint's engine)."""
    graphs = {}
    files = [*(ENDPOINT_ROOT / "ontology").glob("*.ttl"), *(ENDPOINT_ROOT / "graph").glob("*.ttl")]
    for path in sorted(files):
        graph = rdflib.Graph()
        for s, p, o in rdflib.Graph().parse(path, format="turtle"):
            graph.add((s, p, as_stored(o)))
        graphs[GRAPH + path.stem] = graph
    source = rdflib.Graph()
    text = read_source(ENDPOINT_ROOT / "graph" / "source" / "globalsecurity-mqm.txt")
    source.add(
        (
            rdflib.URIRef("https://w3id.org/mqmkg/id/doc-globalsecurity-mqm"),
            rdflib.RDF.value,
            rdflib.Literal(text),
        )
    )
    graphs[GRAPH + "source"] = source
    return graphs


def served_dataset(server: LiveServer) -> tuple[dict[str, rdflib.Graph], rdflib.Graph]:
    """Dump every named graph and the default graph through the endpoint."""
    named: dict[str, rdflib.Graph] = {}
    response = httpx.get(server.sparql, params={"query": "SELECT ?g ?s ?p ?o { GRAPH ?g { ?s ?p ?o } }"})
    assert response.headers["x-mqmkg-truncated"] == "false"
    for g, s, p, o in Result.parse(io.BytesIO(response.content), format="json"):  # type: ignore[misc]
        named.setdefault(str(g), rdflib.Graph()).add((s, p, o))
    default = rdflib.Graph()
    response = httpx.get(server.sparql, params={"query": "SELECT ?s ?p ?o { ?s ?p ?o }"})
    for s, p, o in Result.parse(io.BytesIO(response.content), format="json"):  # type: ignore[misc]
        default.add((s, p, o))
    return named, default


def assert_serves_the_fixture(server: LiveServer) -> None:
    expected = expected_dataset()
    union = rdflib.Graph()
    for graph in expected.values():
        union += graph
    for _ in range(server.health()["workers"]["size"] * 2):  # type: ignore[index,operator]  # every worker
        named, default = served_dataset(server)
        assert sorted(named) == sorted(expected)
        for name, graph in expected.items():
            assert isomorphic(named[name], graph), name
        assert len(default) == len(union) == 57
        assert isomorphic(default, union)


def test_no_update_gets_through_and_nothing_changes(live_server: LiveServer) -> None:
    assert_serves_the_fixture(live_server)
    statuses = set()
    with httpx.Client() as client:
        for request in attempts(live_server):
            response = client.send(request)
            assert 400 <= response.status_code < 500, (request.method, request.url, response.text)
            statuses.add(response.status_code)
    assert statuses == {400, 403, 405}  # 400: the ';'-chained query does not parse
    assert_serves_the_fixture(live_server)


def test_known_deviation_integer_subtypes_are_stored_as_integer(live_server: LiveServer) -> None:
    """pyoxigraph 0.5.13 stores ``"0"^^xsd:nonNegativeInteger`` as ``"0"^^xsd:integer``.

    Listed so that a pyoxigraph upgrade that keeps the datatype makes this test fail, and the
    workaround in ``as_stored`` can go.
    """
    oa = "http://www.w3.org/ns/oa#"
    query = f"SELECT ?start {{ <https://w3id.org/mqmkg/id/ev-1> <{oa}hasSelector>/<{oa}start> ?start }}"
    response = httpx.get(live_server.sparql, params={"query": query})
    assert response.json()["results"]["bindings"] == [
        {"start": {"type": "literal", "value": "0", "datatype": XSD + "integer"}}
    ]

"""Every result format over HTTP, round-tripped through real parsers; 406; the service
description and its content negotiation."""

from __future__ import annotations

import csv
import io
import json

import httpx
import pyld.jsonld
import pyoxigraph as ox
import pytest
import rdflib
from rdflib.compare import isomorphic
from rdflib.namespace import Namespace
from rdflib.query import Result

from conftest import ENDPOINT_ROOT, GRAPH, KG, QUERY_PREFIXES, LiveServer

SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
VOID = Namespace("http://rdfs.org/ns/void#")
COMMENT = 'Sindh\'s capital, "City of Lights"\tport\nUrdu: کراچی'
KARACHI = f"""{QUERY_PREFIXES}SELECT ?place ?label ?comment ?wikidata ?missing {{
  BIND(kg:karachi AS ?place) ?place rdfs:label ?label ; rdfs:comment ?comment ; owl:sameAs ?wikidata
}}"""
KARACHI_ROW = (
    ox.NamedNode(KG + "karachi"),
    ox.Literal("Karachi", language="en"),
    ox.Literal(COMMENT, language="en"),
    ox.NamedNode("http://www.wikidata.org/entity/Q8660"),
    None,
)
RESULT_TYPES = {
    "json": "application/sparql-results+json",
    "xml": "application/sparql-results+xml",
    "csv": "text/csv; charset=utf-8",
    "tsv": "text/tab-separated-values; charset=utf-8",
}
GRAPH_TYPES = {
    "turtle": ("text/turtle; charset=utf-8", "turtle"),
    "ntriples": ("application/n-triples", "nt"),
    "jsonld": ("application/ld+json", "json-ld"),
    "rdfxml": ("application/rdf+xml", "xml"),
}
OX_RESULTS = {
    "json": ox.QueryResultsFormat.JSON,
    "xml": ox.QueryResultsFormat.XML,
    "tsv": ox.QueryResultsFormat.TSV,
}


def get(server: LiveServer, query: str, accept: str | None = None, **params: str) -> httpx.Response:
    headers = {"Accept": accept} if accept is not None else {}
    return httpx.get(server.sparql, params={"query": query, **params}, headers=headers, timeout=30)


@pytest.mark.parametrize("name", ["json", "xml", "tsv"])
@pytest.mark.parametrize("by", ["accept", "format"])
def test_select_formats_parse_back_exactly(live_server: LiveServer, name: str, by: str) -> None:
    media = RESULT_TYPES[name].split(";")[0]
    response = get(live_server, KARACHI, media) if by == "accept" else get(live_server, KARACHI, format=name)
    assert response.status_code == 200
    assert response.headers["content-type"] == RESULT_TYPES[name]
    parsed = ox.parse_query_results(response.content, format=OX_RESULTS[name])
    assert isinstance(parsed, ox.QuerySolutions)
    assert [v.value for v in parsed.variables] == ["place", "label", "comment", "wikidata", "missing"]
    assert [tuple(row) for row in parsed] == [KARACHI_ROW]
    rdflib_rows = list(Result.parse(io.BytesIO(response.content), format=name))
    assert [str(term) for term in rdflib_rows[0]] == [  # type: ignore[union-attr]
        KG + "karachi",
        "Karachi",
        COMMENT,
        "http://www.wikidata.org/entity/Q8660",
        "None",
    ]


def test_select_csv(live_server: LiveServer) -> None:
    response = get(live_server, KARACHI, "text/csv")
    assert response.headers["content-type"] == RESULT_TYPES["csv"]
    assert response.content.count(b"\r\n") == 2  # header and one row end in CRLF; the LF is quoted data
    assert list(csv.reader(io.StringIO(response.text, newline=""))) == [
        ["place", "label", "comment", "wikidata", "missing"],
        [KG + "karachi", "Karachi", COMMENT, "http://www.wikidata.org/entity/Q8660", ""],
    ]
    assert [str(t) for t in next(iter(Result.parse(io.BytesIO(response.content), format="csv")))][:3] == [  # type: ignore[call-overload]
        KG + "karachi",
        "Karachi",
        COMMENT,
    ]


@pytest.mark.parametrize("name", ["json", "xml", "csv", "tsv"])
def test_ask_formats(live_server: LiveServer, name: str) -> None:
    yes = get(live_server, f"{QUERY_PREFIXES}ASK {{ kg:mqm-h mqm:splinterOf kg:mqm }}", format=name)
    no = get(live_server, f"{QUERY_PREFIXES}ASK {{ kg:mqm mqm:splinterOf kg:mqm-h }}", format=name)
    assert yes.headers["content-type"] == RESULT_TYPES[name]
    if name in ("json", "xml"):
        assert bool(ox.parse_query_results(yes.content, format=OX_RESULTS[name])) is True
        assert bool(ox.parse_query_results(no.content, format=OX_RESULTS[name])) is False
        assert Result.parse(io.BytesIO(yes.content), format=name).askAnswer is True
    if name == "tsv":  # a one-column table, as Jena writes it: ?_askResult bound to a boolean
        table = ox.parse_query_results(no.content, format=ox.QueryResultsFormat.TSV)
        assert isinstance(table, ox.QuerySolutions)
        assert [row["_askResult"] for row in table] == [ox.Literal(False)]
    if name == "csv":
        assert (yes.text, no.text) == ("_askResult\r\ntrue\r\n", "_askResult\r\nfalse\r\n")


def expected_people() -> rdflib.Graph:
    """The people graph as rdflib reads the fixture file: an independent parser and engine."""
    return rdflib.Graph().parse(ENDPOINT_ROOT / "graph" / "people.ttl", format="turtle")


PEOPLE_CONSTRUCT = f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{GRAPH}people> {{ ?s ?p ?o }} }}"


@pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated:DeprecationWarning")
@pytest.mark.parametrize("name", sorted(GRAPH_TYPES))
@pytest.mark.parametrize("by", ["accept", "format"])
def test_construct_formats_parse_back_isomorphic(live_server: LiveServer, name: str, by: str) -> None:
    content_type, rdflib_format = GRAPH_TYPES[name]
    media = content_type.split(";")[0]
    response = (
        get(live_server, PEOPLE_CONSTRUCT, media) if by == "accept" else get(live_server, PEOPLE_CONSTRUCT, format=name)
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == content_type
    graph = rdflib.Graph().parse(data=response.content, format=rdflib_format)
    assert isomorphic(graph, expected_people())
    assert response.headers["x-mqmkg-rows"] == str(len(expected_people())) == "11"


def test_jsonld_parses_in_pyld(live_server: LiveServer) -> None:
    response = get(live_server, PEOPLE_CONSTRUCT, "application/ld+json")
    nquads = pyld.jsonld.to_rdf(json.loads(response.content), {"format": "application/n-quads"})
    assert isomorphic(rdflib.Graph().parse(data=nquads, format="nt"), expected_people())


def test_describe(live_server: LiveServer) -> None:
    response = get(live_server, f"{QUERY_PREFIXES}DESCRIBE kg:mqm-h", format="ntriples")
    graph = rdflib.Graph().parse(data=response.content, format="nt")
    splinter = rdflib.URIRef("https://w3id.org/mqmkg/ontology#splinterOf")
    assert set(graph.objects(rdflib.URIRef(KG + "mqm-h"), splinter)) == {rdflib.URIRef(KG + "mqm")}
    assert len(graph) == 5  # rdf:type, rdfs:label, skos:prefLabel, skos:altLabel, mqm:splinterOf


def test_q_values_and_wildcards_over_http(live_server: LiveServer) -> None:
    query = "SELECT (1 AS ?one) {}"
    accept = "text/csv;q=0.5, application/sparql-results+xml, */*;q=0.1"
    assert get(live_server, query, accept).headers["content-type"] == RESULT_TYPES["xml"]
    assert get(live_server, query, "text/*;q=0.9, text/csv;q=0").headers["content-type"] == RESULT_TYPES["tsv"]
    assert get(live_server, query, "application/json").headers["content-type"] == "application/json"
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    # A browser's GET gets the query editor (issue 9); a POST, or an explicit format=, still gets results.
    assert get(live_server, query, browser).headers["content-type"] == "text/html; charset=utf-8"
    posted = httpx.post(live_server.sparql, data={"query": query}, headers={"Accept": browser}, timeout=30)
    assert posted.headers["content-type"] == RESULT_TYPES["json"]
    assert (
        get(live_server, PEOPLE_CONSTRUCT, browser, format="turtle").headers["content-type"]
        == "text/turtle; charset=utf-8"
    )


@pytest.mark.parametrize(
    ("query", "accept", "params", "offered"),
    [
        ("SELECT * {}", "image/png", {}, "application/sparql-results+json, application/sparql-results+xml"),
        (
            "SELECT * {}",
            "application/sparql-results+json;q=0, text/turtle",
            {},
            "text/csv, text/tab-separated-values",
        ),
        ("SELECT * {}", None, {"format": "turtle"}, "format=json|xml|csv|tsv"),
        ("ASK {}", None, {"format": "nonsense"}, "format=json|xml|csv|tsv"),
        (
            "CONSTRUCT WHERE { ?s ?p ?o }",
            "application/sparql-results+json",
            {},
            "text/turtle, application/n-triples",
        ),
        ("DESCRIBE <x:y>", None, {"format": "csv"}, "format=turtle|ntriples|jsonld|rdfxml"),
    ],
)
def test_not_acceptable(
    live_server: LiveServer, query: str, accept: str | None, params: dict[str, str], offered: str
) -> None:
    response = get(live_server, query, accept, **params)
    assert response.status_code == 406
    problem = response.json()
    assert offered in problem["detail"]
    assert problem["error"] == "NotAcceptable"
    assert len(problem["offered"]) == 4


def test_service_description(live_server: LiveServer) -> None:
    response = httpx.get(live_server.sparql)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/turtle; charset=utf-8"
    graph = rdflib.Graph().parse(data=response.content, format="turtle")
    (service,) = graph.subjects(rdflib.RDF.type, SD.Service)
    assert service == rdflib.URIRef(live_server.sparql)  # the URL fetched (what Comunica looks for)
    assert graph.value(service, SD.endpoint) == rdflib.URIRef(live_server.sparql)
    assert graph.value(service, SD.supportedLanguage) == SD.SPARQL11Query
    assert set(graph.objects(service, SD.feature)) == {SD.UnionDefaultGraph, SD.BasicFederatedQuery}
    formats = {str(f).rsplit("/", 1)[1] for f in graph.objects(service, SD.resultFormat)}
    assert formats == {
        "SPARQL_Results_JSON",
        "SPARQL_Results_XML",
        "SPARQL_Results_CSV",
        "SPARQL_Results_TSV",
        "Turtle",
        "N-Triples",
        "JSON-LD",
        "RDF_XML",
    }
    dataset = graph.value(service, SD.defaultDataset)
    default_graph = graph.value(dataset, SD.defaultGraph)
    assert graph.value(default_graph, VOID.triples).toPython() == 57  # type: ignore[union-attr]
    counts = {
        str(graph.value(entry, SD.name)).removeprefix(GRAPH): graph.value(
            graph.value(entry, SD.graph), VOID.triples
        ).toPython()  # type: ignore[union-attr]
        for entry in graph.objects(dataset, SD.namedGraph)
    }
    assert counts == {"events": 25, "mqm": 7, "organisations": 14, "people": 11, "source": 1}


@pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated:DeprecationWarning")
def test_service_description_conneg(live_server: LiveServer) -> None:
    turtle = rdflib.Graph().parse(data=httpx.get(live_server.sparql).content, format="turtle")
    for accept, rdflib_format in (("application/ld+json", "json-ld"), ("application/rdf+xml", "xml")):
        response = httpx.get(live_server.sparql, headers={"Accept": accept})
        assert response.headers["content-type"] == accept
        assert isomorphic(rdflib.Graph().parse(data=response.content, format=rdflib_format), turtle)
    response = httpx.get(live_server.sparql, params={"format": "ntriples"})
    ntriples = rdflib.Graph().parse(data=response.content, format="nt")
    fetched, endpoint = rdflib.URIRef(live_server.sparql + "?format=ntriples"), rdflib.URIRef(live_server.sparql)
    assert (fetched, SD.endpoint, endpoint) in ntriples  # the service is named by the URL fetched
    renamed = rdflib.Graph()
    for s, p, o in ntriples:
        renamed.add((endpoint if s == fetched else s, p, o))
    assert isomorphic(renamed, turtle)
    assert httpx.get(live_server.sparql, headers={"Accept": "application/sparql-results+json"}).status_code == 406

"""Real clients, unmodified, against a live server: SPARQLWrapper and rdflib's SPARQLStore."""

from __future__ import annotations

import urllib.error
from xml.dom.minidom import Document

import pytest
import rdflib
from rdflib.plugins.stores.sparqlstore import SPARQLStore, SPARQLUpdateStore
from SPARQLWrapper import (
    CSV,
    GET,
    JSON,
    JSONLD,
    N3,
    POST,
    POSTDIRECTLY,
    RDFXML,
    TSV,
    TURTLE,
    XML,
    SPARQLWrapper,
)
from SPARQLWrapper.SPARQLExceptions import QueryBadFormed

from conftest import GRAPH, KG, QUERY_PREFIXES, LiveServer, select

SPLINTER = QUERY_PREFIXES + "SELECT ?a ?b WHERE { ?a mqm:splinterOf ?b }"
PEOPLE = QUERY_PREFIXES + "SELECT ?person WHERE { ?person a <http://xmlns.com/foaf/0.1/Person> } ORDER BY ?person"
PEOPLE_ROWS = [KG + "aamir-khan", KG + "afaq-ahmed", KG + "altaf-hussein"]
CONSTRUCT = QUERY_PREFIXES + "CONSTRUCT { ?b mqm:hasSplinter ?a } WHERE { ?a mqm:splinterOf ?b }"
HAS_SPLINTER = (
    rdflib.URIRef(KG + "mqm"),
    rdflib.URIRef("https://w3id.org/mqmkg/ontology#hasSplinter"),
    rdflib.URIRef(KG + "mqm-h"),
)


def wrapper(server: LiveServer, query: str, return_format: str, method: str = GET) -> SPARQLWrapper:
    client = SPARQLWrapper(server.sparql)
    client.setQuery(query)
    client.setReturnFormat(return_format)
    if method == POSTDIRECTLY:
        client.setMethod(POST)
        client.setRequestMethod(POSTDIRECTLY)
    else:
        client.setMethod(method)
    return client


@pytest.mark.parametrize("method", [GET, POST, POSTDIRECTLY])
def test_sparqlwrapper_select_json(live_server: LiveServer, method: str) -> None:
    result = wrapper(live_server, PEOPLE, JSON, method).queryAndConvert()
    assert isinstance(result, dict)
    assert [row["person"]["value"] for row in result["results"]["bindings"]] == PEOPLE_ROWS


def test_sparqlwrapper_select_xml_csv_tsv(live_server: LiveServer) -> None:
    document = wrapper(live_server, PEOPLE, XML).queryAndConvert()
    assert isinstance(document, Document)
    assert [node.firstChild.data for node in document.getElementsByTagName("uri")] == PEOPLE_ROWS
    csv_body = wrapper(live_server, PEOPLE, CSV).queryAndConvert()
    assert csv_body == ("person\r\n" + "".join(f"{iri}\r\n" for iri in PEOPLE_ROWS)).encode()
    tsv_body = wrapper(live_server, PEOPLE, TSV).queryAndConvert()
    assert tsv_body == ("?person\n" + "".join(f"<{iri}>\n" for iri in PEOPLE_ROWS)).encode()


def test_sparqlwrapper_ask(live_server: LiveServer) -> None:
    query = QUERY_PREFIXES + "ASK { kg:mqm-h mqm:splinterOf kg:mqm }"
    assert wrapper(live_server, query, JSON).queryAndConvert() == {"head": {}, "boolean": True}
    document = wrapper(live_server, query, XML).queryAndConvert()
    assert isinstance(document, Document)
    assert document.getElementsByTagName("boolean")[0].firstChild.data == "true"


@pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated:DeprecationWarning")
@pytest.mark.parametrize("return_format", [XML, RDFXML, JSONLD])
def test_sparqlwrapper_construct_to_graph(live_server: LiveServer, return_format: str) -> None:
    graph = wrapper(live_server, CONSTRUCT, return_format).queryAndConvert()
    assert isinstance(graph, rdflib.Graph)
    assert set(graph) == {HAS_SPLINTER}


@pytest.mark.parametrize("return_format", [TURTLE, N3])
def test_sparqlwrapper_construct_turtle(live_server: LiveServer, return_format: str) -> None:
    body = wrapper(live_server, CONSTRUCT, return_format).queryAndConvert()
    assert isinstance(body, bytes)
    assert set(rdflib.Graph().parse(data=body, format="turtle")) == {HAS_SPLINTER}


def test_sparqlwrapper_errors(live_server: LiveServer) -> None:
    with pytest.raises(QueryBadFormed, match="syntax error at line 1"):
        wrapper(live_server, "SELECT * WHERE { ?s ?p }", JSON).query()
    update = wrapper(live_server, "INSERT DATA { <urn:a> <urn:b> <urn:c> }", JSON, POST)
    assert update.isSparqlUpdateRequest()
    with pytest.raises(urllib.error.HTTPError) as refused:
        update.query()
    assert refused.value.code == 403
    assert select(live_server, "SELECT ?p WHERE { <urn:a> ?p ?o }") == []


@pytest.mark.parametrize(("method", "return_format"), [("GET", "xml"), ("POST", "json"), ("POST_FORM", "csv")])
def test_rdflib_sparqlstore(live_server: LiveServer, method: str, return_format: str) -> None:
    store = SPARQLStore(live_server.sparql, method=method, returnFormat=return_format)
    graph = rdflib.Graph(store=store)
    rows = [tuple(str(term) for term in row) for row in graph.query(SPLINTER)]  # type: ignore[union-attr]
    assert rows == [(KG + "mqm-h", KG + "mqm")]
    ask = graph.query(QUERY_PREFIXES + "ASK { kg:mqm-h mqm:splinterOf kg:mqm }")
    if return_format == "csv":  # CSV has no boolean form: rdflib reads Jena's one-column table
        assert [tuple(str(term) for term in row) for row in ask] == [("true",)]  # type: ignore[union-attr]
    else:
        assert ask.askAnswer is True
    subject = rdflib.URIRef(KG + "mqm-h")
    assert len(list(graph.triples((subject, None, None)))) == 5
    label = graph.value(subject, rdflib.SKOS.prefLabel)
    # CSV carries lexical forms only, so the language tag is lost on that one.
    assert label == (
        rdflib.Literal("MQM Haqiqi") if return_format == "csv" else rdflib.Literal("MQM Haqiqi", lang="en")
    )


def test_rdflib_sparqlstore_construct_and_contexts(live_server: LiveServer) -> None:
    store = SPARQLStore(live_server.sparql)
    result = rdflib.Graph(store=store).query(CONSTRUCT)
    assert result.graph is not None
    assert set(result.graph) == {HAS_SPLINTER}
    names = {str(context) for context in store.contexts()}
    assert {GRAPH + name for name in ("events", "mqm", "organisations", "people", "source")} <= names
    # A graph named by the client is the protocol's default-graph-uri.
    people = rdflib.Graph(store=store, identifier=rdflib.URIRef(GRAPH + "people"))
    assert len(list(people.triples((None, rdflib.RDF.type, None)))) == 4


def test_rdflib_update_store_is_refused(live_server: LiveServer) -> None:
    store = SPARQLUpdateStore(live_server.sparql, live_server.sparql)
    graph = rdflib.Graph(store=store, identifier=rdflib.URIRef(GRAPH + "people"))
    with pytest.raises(urllib.error.HTTPError) as refused:
        graph.add((rdflib.URIRef("urn:x:a"), rdflib.URIRef("urn:x:b"), rdflib.URIRef("urn:x:c")))
        store.commit()
    assert refused.value.code == 403
    assert select(live_server, "SELECT ?o WHERE { <urn:x:a> ?p ?o }") == []

"""House prefixes over HTTP: accepted without declaration, listed, and named when missing."""

from __future__ import annotations

import httpx
from rdflib import Graph, Namespace, URIRef

from conftest import LiveServer
from mqmkg.sparql.prefixes import HOUSE_PREFIXES

SH = Namespace("http://www.w3.org/ns/shacl#")


def test_a_query_may_use_house_prefixes_without_declaring_them(live_server: LiveServer) -> None:
    query = "SELECT (COUNT(*) AS ?n) WHERE { ?s rdfs:label ?label }"
    declared = "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n" + query
    bare = httpx.get(live_server.sparql, params={"query": query}).json()
    assert bare == httpx.get(live_server.sparql, params={"query": declared}).json()
    assert int(bare["results"]["bindings"][0]["n"]["value"]) > 0
    redeclared = "PREFIX rdfs: <http://example.org/other#>\n" + query
    assert (
        httpx.get(live_server.sparql, params={"query": redeclared}).json()["results"]["bindings"][0]["n"]["value"]
        == "0"
    )


def test_an_undeclared_prefix_is_a_400_naming_it_with_the_line_to_add(live_server: LiveServer) -> None:
    response = httpx.post(live_server.sparql, data={"query": "SELECT * WHERE {\n  ?item wikibase:sitelinks ?n }"})
    assert response.status_code == 400
    problem = response.json()
    assert problem["error"] == "UndeclaredPrefix"
    assert (problem["prefix"], problem["line"], problem["column"]) == ("wikibase", 2, 9)
    assert problem["declaration"] == "PREFIX wikibase: <http://wikiba.se/ontology#>"
    assert problem["detail"] == (
        'syntax error at line 2, column 9: the prefix "wikibase:" is not declared; '
        "add this line at the top of the query: PREFIX wikibase: <http://wikiba.se/ontology#>"
    )
    unknown = httpx.get(live_server.sparql, params={"query": "ASK { ?s dbo:p ?o }"}).json()
    assert unknown["prefix"] == "dbo" and "declaration" not in unknown
    assert "PREFIX dbo: <namespace IRI>" in unknown["detail"] and "\\u{" not in unknown["detail"]


def test_the_service_description_and_the_route_list_the_house_prefixes(live_server: LiveServer) -> None:
    turtle = httpx.get(live_server.sparql, headers={"Accept": "text/turtle"}).text
    graph = Graph().parse(data=turtle, format="turtle")
    service = URIRef(live_server.sparql)  # the service is named by the URL fetched (as Comunica looks for it)
    listed = {
        str(graph.value(entry, SH.prefix)): str(graph.value(entry, SH.namespace))
        for entry in graph.objects(service, SH.declare)
    }
    assert listed == dict(HOUSE_PREFIXES)
    assert httpx.get(live_server.url + "/sparql/prefixes").json() == dict(HOUSE_PREFIXES)
    known = httpx.get(live_server.url + "/sparql/prefixes", params={"known": "1"}).json()
    assert known["p"] == "http://www.wikidata.org/prop/" and known["kg"] == HOUSE_PREFIXES["kg"]

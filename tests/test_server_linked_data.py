"""Linked data over HTTP: entity pages, the ontology, search, VoID and the downloads."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import httpx
import pytest
from rdflib import Graph, Literal, Namespace, URIRef

from conftest import LiveServer
from mqmkg.config import Settings
from mqmkg.export import build_dumps
from mqmkg.store import dataset_quads

ROOT = Path(__file__).resolve().parents[1]
KG = Namespace("https://w3id.org/mqmkg/id/")
MQM = Namespace("https://w3id.org/mqmkg/ontology#")
VOID = Namespace("http://rdfs.org/ns/void#")
DCAT = Namespace("http://www.w3.org/ns/dcat#")
SPDX = Namespace("http://spdx.org/rdf/terms#")


@pytest.fixture(scope="module")
def server(project_server: LiveServer) -> LiveServer:
    return project_server


def test_entity_page_in_html(server: LiveServer) -> None:
    response = httpx.get(server.url + "/id/karachi", headers={"Accept": "text/html,application/xhtml+xml;q=0.9"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    page = response.text
    assert "<h1>Karachi</h1>" in page
    assert "By July 1995, the rate of political killings in the port city" in page
    assert '<a class="report" href="/id/report-usdos-1996-02">U.S. DOS Feb 1996</a>' in page
    assert 'href="http://www.wikidata.org/entity/Q8660"' in page
    assert 'href="/id/nine-zero"' in page  # incoming link, resolvable on this server
    assert '<link rel="alternate" type="text/turtle" href="/id/karachi.ttl">' in page


def test_entity_page_escapes_quotes_from_the_source(server: LiveServer) -> None:
    page = httpx.get(server.url + "/id/event-1992-mqm-h-split", headers={"Accept": "text/html"}).text
    assert "literally the &#34;real&#34; MQM" in page
    assert "&amp;#34;" not in page and "&amp;#39;" not in page


@pytest.mark.parametrize(
    ("suffix", "accept", "parser", "media_type"),
    [
        (".ttl", None, "turtle", "text/turtle"),
        (".jsonld", None, "json-ld", "application/ld+json"),
        (".nt", None, "nt", "application/n-triples"),
        (".rdf", None, "xml", "application/rdf+xml"),
        ("", "text/turtle", "turtle", "text/turtle"),
        ("", "application/ld+json", "json-ld", "application/ld+json"),
        ("", "application/n-triples;q=1, text/html;q=0.5", "nt", "application/n-triples"),
    ],
)
def test_entity_as_rdf(server: LiveServer, suffix: str, accept: str | None, parser: str, media_type: str) -> None:
    headers = {"Accept": accept} if accept else {}
    response = httpx.get(server.url + "/id/mqm-h" + suffix, headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == media_type
    graph = Graph().parse(data=response.content, format=parser)
    assert (KG["mqm-h"], MQM.splinterOf, KG["mqm"]) in graph
    assert (KG["claim-split-1992"], MQM.about, KG["mqm-h"]) in graph
    assert (KG["mqm-h"], URIRef("http://www.w3.org/2004/02/skos/core#altLabel"), Literal("MQM-H", lang="en")) in graph


def test_entity_with_unacceptable_type_is_406(server: LiveServer) -> None:
    response = httpx.get(server.url + "/id/mqm-h", headers={"Accept": "image/png"})
    assert response.status_code == 406
    assert "text/turtle" in response.json()["offered"]


def test_unknown_entity_is_404_with_suggestions(server: LiveServer) -> None:
    html = httpx.get(server.url + "/id/altaf-huss", headers={"Accept": "text/html"})
    assert html.status_code == 404
    assert 'href="/id/altaf-hussein"' in html.text
    problem = httpx.get(server.url + "/id/altaf-huss", headers={"Accept": "text/turtle"})
    assert problem.status_code == 404 and problem.headers["content-type"] == "application/problem+json"
    assert problem.json()["suggestions"][0] == {"iri": str(KG["altaf-hussein"]), "name": "Altaf Hussein"}


def test_every_entity_of_the_graph_resolves(server: LiveServer) -> None:
    graph = Graph()
    for path in sorted((ROOT / "graph").glob("*.ttl")):
        graph.parse(path)
    subjects = sorted({s for s in graph.subjects() if isinstance(s, URIRef) and str(s).startswith(str(KG))})
    assert len(subjects) > 300
    with httpx.Client(base_url=server.url) as client:
        failing = [
            str(s) for s in subjects if client.get("/id/" + str(s).removeprefix(str(KG)) + ".nt").status_code != 200
        ]
    assert not failing


def test_ontology_page_and_rdf(server: LiveServer) -> None:
    page = httpx.get(server.url + "/ontology", headers={"Accept": "text/html"}).text
    assert 'id="Split"' in page and "A breakaway faction of an organization launches a new organization" in page
    graph = Graph().parse(data=httpx.get(server.url + "/ontology.ttl").content, format="turtle")
    assert (
        MQM.Split,
        URIRef("http://www.w3.org/2000/01/rdf-schema#subClassOf"),
        URIRef("http://www.w3.org/ns/org#ChangeEvent"),
    ) in graph
    jsonld = httpx.get(server.url + "/ontology", headers={"Accept": "application/ld+json"})
    assert len(Graph().parse(data=jsonld.content, format="json-ld")) == len(graph)
    assert httpx.get(server.url + "/ontology.png").status_code == 404


@pytest.mark.parametrize(
    ("text", "first"),
    [
        ("Mothaidda", "mqm"),
        ("MQM (A)", "mqm"),
        ("haqiqi", "mqm-h"),
        ("Hussein", "altaf-hussein"),
        ("newsline", "newsline"),
    ],
)
def test_search_json(server: LiveServer, text: str, first: str) -> None:
    body = httpx.get(server.url + "/search", params={"q": text}, headers={"Accept": "application/json"}).json()
    assert body["results"][0]["iri"] == str(KG[first])
    assert body["results"][0]["page"] == "/id/" + first


def test_search_html_and_limits(server: LiveServer) -> None:
    page = httpx.get(server.url + "/search", params={"q": "Haqiqi"}, headers={"Accept": "text/html"}).text
    assert 'href="/id/mqm-h"' in page
    assert (
        len(httpx.get(server.url + "/search", params={"q": "the", "limit": 3, "format": "json"}).json()["results"]) == 3
    )
    assert httpx.get(server.url + "/search", params={"q": "x", "limit": 0}).status_code == 400
    assert httpx.get(server.url + "/search", params={"q": "x" * 201}).status_code == 400


def test_void_describes_this_server(server: LiveServer) -> None:
    response = httpx.get(server.url + "/.well-known/void")
    assert response.headers["content-type"].startswith("text/turtle")
    void = Graph().parse(data=response.content, format="turtle")
    dataset = URIRef("https://w3id.org/mqmkg/dataset")
    assert (dataset, VOID.sparqlEndpoint, URIRef(server.url + "/sparql")) in void
    assert (dataset, VOID.uriSpace, Literal("https://w3id.org/mqmkg/id/")) in void
    triples = int(void.value(dataset, VOID.triples))
    union = {(q.subject, q.predicate, q.object) for q in dataset_quads(Settings(root=ROOT))}
    assert triples == len(union)
    dumps = {d.name: d for d in build_dumps(Settings(root=ROOT))}
    for distribution in void.objects(dataset, DCAT.distribution):
        name = str(distribution).rsplit("/", 1)[1]
        checksum = void.value(void.value(distribution, SPDX.checksum), SPDX.checksumValue)
        assert str(checksum) == dumps[name].sha256
    as_jsonld = httpx.get(server.url + "/.well-known/void", headers={"Accept": "application/ld+json"})
    assert len(Graph().parse(data=as_jsonld.content, format="json-ld")) == len(void)


def test_exports_with_etag_and_media_types(server: LiveServer) -> None:
    listing = httpx.get(server.url + "/export/", headers={"Accept": "application/json"}).json()["files"]
    assert {f["name"]: f["mediaType"] for f in listing} == {
        "mqmkg.ttl": "text/turtle",
        "mqmkg.nt": "application/n-triples",
        "mqmkg.nq": "application/n-quads",
        "mqmkg.jsonld": "application/ld+json",
        "context.jsonld": "application/ld+json",
        "mqmkg-wikidata-links.ttl": "text/turtle",
        "globalsecurity-mqm.txt": "text/plain",
        "void.ttl": "text/turtle",
        "README": "text/plain",
        "SHA256SUMS": "text/plain",
    }
    readme = httpx.get(server.url + "/export/README")
    assert readme.headers["content-type"] == "text/plain; charset=utf-8"
    assert "sha256sum -c SHA256SUMS" in readme.text and "mqmkg-wikidata-links.ttl" in readme.text
    response = httpx.get(server.url + "/export/mqmkg.ttl")
    digest = hashlib.sha256(response.content).hexdigest()
    assert response.headers["etag"] == f'"{digest}"'
    assert response.headers["content-type"] == "text/turtle; charset=utf-8"
    assert response.content == (next(d for d in build_dumps(Settings(root=ROOT)) if d.name == "mqmkg.ttl")).data
    again = httpx.get(server.url + "/export/mqmkg.ttl", headers={"If-None-Match": response.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    head = httpx.head(server.url + "/export/mqmkg.jsonld")
    assert head.status_code == 200 and int(head.headers["content-length"]) > 100_000
    json.loads(httpx.get(server.url + "/export/mqmkg.jsonld").content)
    assert httpx.get(server.url + "/export/secrets.txt").status_code == 404


def test_landing_page_links(server: LiveServer) -> None:
    html = httpx.get(server.url + "/", headers={"Accept": "text/html"}).text
    assert 'href="/id/event-1992-mqm-h-split"' in html
    links = httpx.get(server.url + "/", headers={"Accept": "application/json"}).json()["links"]
    assert links["sparql"] == server.url + "/sparql"

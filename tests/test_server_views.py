"""The browsable views over HTTP: formats, parameters and their errors (no browser needed)."""

from __future__ import annotations

import hashlib

import httpx
import pytest

from conftest import LiveServer
from mqmkg.source import SOURCE_SHA256

KG = "https://w3id.org/mqmkg/id/"
JSON = {"Accept": "application/json"}
HTML = {"Accept": "text/html"}


@pytest.fixture(scope="module")
def server(project_server: LiveServer) -> LiveServer:
    return project_server


def test_source_in_every_format(server: LiveServer) -> None:
    page = httpx.get(server.url + "/source", headers=HTML)
    assert page.status_code == 200 and 'id="ev-3732-3857"' in page.text
    text = httpx.get(server.url + "/source", headers={"Accept": "text/plain"})
    assert text.headers["content-type"].startswith("text/plain")
    assert hashlib.sha256(text.content).hexdigest() == SOURCE_SHA256
    body = httpx.get(server.url + "/source", headers=JSON).json()
    assert body["document"]["pinnedSha256"] == body["document"]["sha256"] == SOURCE_SHA256
    span = next(s for s in body["spans"] if s["anchor"] == "ev-3732-3857")
    assert sorted(c["page"] for c in span["claims"]) == ["/id/claim-mqm-h-leaders", "/id/claim-split-1992"]
    assert httpx.get(server.url + "/source", headers={"Accept": "image/png"}).status_code == 406


def test_timeline_json_and_period_errors(server: LiveServer) -> None:
    body = httpx.get(server.url + "/timeline", params={"from": 1992, "to": 1992}, headers=JSON).json()
    assert body["period"] == [1992, 1992]
    items = {i["iri"].removeprefix(KG): i for i in body["items"]}
    assert items["event-1992-mqm-h-split"]["precision"] == "year"
    assert items["event-1992-06-army-called-in"]["time"] == "June 1992"
    assert items["event-1992-mqm-h-split"]["quotes"] == ["/source#ev-3732-3857"]
    assert {u["iri"].removeprefix(KG) for u in body["undated"]} >= {"event-mqm-a-strikes"}
    for params in ({"from": 1999, "to": 1990}, {"from": "x"}, {"to": 99999}, {"format": "svg"}):
        response = httpx.get(server.url + "/timeline", params=params)
        assert response.status_code == 400, params
        assert response.headers["content-type"] == "application/problem+json"


def test_entity_kind_filter_is_checked(server: LiveServer) -> None:
    page = httpx.get(server.url + "/id/mqm", params={"kind": "denials"}, headers=HTML).text
    assert "<h3" in page and "Denials (" in page and "Allegations (" not in page
    assert httpx.get(server.url + "/id/mqm", params={"kind": "gossip"}, headers=HTML).status_code == 400


def test_search_json_has_types_sections_and_browsing(server: LiveServer) -> None:
    body = httpx.get(server.url + "/search", params={"q": "Hussein"}, headers=JSON).json()
    first = body["results"][0]
    assert first["iri"] == KG + "altaf-hussein" and first["section"] == "entities" and "person" in first["types"]
    sections = [r["section"] for r in body["results"]]
    assert sections.index("claims") > sections.index("entities")
    empty = httpx.get(server.url + "/search", headers=JSON).json()
    person = next(t for t in empty["types"] if t["iri"] == "http://xmlns.com/foaf/0.1/Person")
    listed = httpx.get(server.url + "/search", params={"type": person["iri"]}, headers=JSON).json()
    assert len(listed["instances"]) == person["count"]
    assert KG + "afaq-ahmed" in {i["iri"] for i in listed["instances"]}
    unknown = httpx.get(server.url + "/search", params={"type": "http://example.org/Nothing"}, headers=JSON)
    assert unknown.status_code == 400

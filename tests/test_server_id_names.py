"""``/id/<name>`` for the names an analyst types: a label of one entity is a 303 to it.

Expectations come from the labels in ``graph/`` (read with rdflib, not through the server),
plus a few names asserted by hand.
"""

from __future__ import annotations

import re
import shutil
import unicodedata
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from rdflib import RDFS, SKOS, Graph, URIRef

from conftest import ENDPOINT_ROOT, LiveServer
from mqmkg.linked import normalize

ROOT = Path(__file__).resolve().parents[1]
KG = "https://w3id.org/mqmkg/id/"
LABELS = (RDFS.label, SKOS.prefLabel, SKOS.altLabel, SKOS.hiddenLabel)


@pytest.fixture(scope="module")
def server(project_server: LiveServer) -> LiveServer:
    return project_server


def slug(label: str) -> str:
    """Return the name an analyst would type in a URL for a label: "MQM (A)" gives "MQM-A"."""
    ascii_text = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Za-z0-9]+", "-", ascii_text).strip("-")


def test_the_page_abbreviations_redirect(server: LiveServer) -> None:
    with httpx.Client(base_url=server.url) as client:
        for name, target in [
            ("mqm-a", "/id/mqm"),
            ("MQM-A", "/id/mqm"),
            ("MQM(A)", "/id/mqm"),
            ("MQM-H", "/id/mqm-h"),
            ("Karachi", "/id/karachi"),
            ("mqm-a.ttl", "/id/mqm.ttl"),
            ("MQM-H.jsonld", "/id/mqm-h.jsonld"),
        ]:
            response = client.get("/id/" + name)
            assert (response.status_code, response.headers["location"]) == (303, target), name
        assert client.get("/id/mqm-a?lang=en").headers["location"] == "/id/mqm?lang=en"


def test_a_redirect_leads_to_the_entity_in_the_format_asked(server: LiveServer) -> None:
    with httpx.Client(base_url=server.url, follow_redirects=True) as client:
        page = client.get("/id/mqm-a", headers={"Accept": "text/html"})
        assert page.status_code == 200 and str(page.url).endswith("/id/mqm")
        assert "Muttahida" in page.text
        turtle = client.get("/id/MQM-H", headers={"Accept": "text/turtle"})
        assert turtle.headers["content-type"].startswith("text/turtle")
        graph = Graph().parse(data=turtle.content, format="turtle")
        assert (URIRef(KG + "mqm-h"), SKOS.prefLabel, None) in graph


def test_rdflib_dereferences_a_name(server: LiveServer) -> None:
    """A linked-data client follows the 303 and gets the entity's triples."""
    graph = Graph().parse(server.url + "/id/mqm-a.ttl", format="turtle")
    assert (URIRef(KG + "mqm"), RDFS.label, None) in graph


def test_every_label_in_the_graph_resolves_by_name(server: LiveServer) -> None:
    graph = Graph()
    for path in sorted((ROOT / "graph").glob("*.ttl")):
        graph.parse(path)
    entities = {str(s) for s in graph.subjects() if isinstance(s, URIRef) and str(s).startswith(KG)}
    by_name: dict[str, set[str]] = {}
    for prop in LABELS:
        for subject, label in graph.subject_objects(prop):
            if str(subject) in entities and (subject, RDFS.label, None) in graph:
                by_name.setdefault(normalize(str(label)), set()).add(str(subject))
    names = sorted({slug(str(label)) for prop in LABELS for label in graph.objects(None, prop)} - {""})
    assert len(names) > 300
    names = names[::3]  # every label is checked in-process (test_linked.py); a third of them over HTTP
    redirected = 0
    with httpx.Client(base_url=server.url) as client:
        for name in names:
            response = client.get("/id/" + name + ".nt")
            targets = by_name.get(normalize(name), set())
            if KG + name in entities:
                assert response.status_code == 200, name
            elif len(targets) == 1:
                [target] = targets
                assert response.status_code == 303, name
                assert response.headers["location"] == "/id/" + target.removeprefix(KG) + ".nt", name
                redirected += 1
            else:
                assert response.status_code == 404, name
    assert redirected > 100


@pytest.fixture(scope="module")
def twins_server(
    live_server_factory: Callable[..., LiveServer], tmp_path_factory: pytest.TempPathFactory
) -> LiveServer:
    """A server on the small fixture graph plus two entities that share a name."""
    root = tmp_path_factory.mktemp("twins") / "root"
    shutil.copytree(ENDPOINT_ROOT, root)
    (root / "graph" / "twins.ttl").write_text(
        f"""
        <{KG}twin-a> <{RDFS.label}> "Twin A"@en ; <{SKOS.altLabel}> "The Twins"@en .
        <{KG}twin-b> <{RDFS.label}> "Twin B"@en ; <{SKOS.hiddenLabel}> "the-twins" .
        """,
        encoding="utf-8",
    )
    return live_server_factory(root=root, workers="1")


def test_an_ambiguous_name_is_a_404_listing_the_entities_first(twins_server: LiveServer) -> None:
    with httpx.Client(base_url=twins_server.url) as client:
        problem = client.get("/id/the-twins", headers={"Accept": "text/turtle"})
        assert problem.status_code == 404
        body = problem.json()
        assert body["detail"] == f"no entity {KG}the-twins; 'the-twins' names 2 entities"
        assert [s["iri"] for s in body["suggestions"][:2]] == [KG + "twin-a", KG + "twin-b"]
        page = client.get("/id/the-twins", headers={"Accept": "text/html"})
        assert page.status_code == 404
        assert 'href="/id/twin-a"' in page.text and 'href="/id/twin-b"' in page.text
        assert client.get("/id/twin-a").status_code == 200
        assert client.get("/id/Twin-A.ttl").headers["location"] == "/id/twin-a.ttl"

"""``/quality`` on a live server over the curated graph: the parts read from the graph agree
with SPARQL over the same server, and the background validation finishes with the results
``mqmkg validate`` gives."""

from __future__ import annotations

import time
from collections.abc import Iterator
from itertools import pairwise

import httpx
import pytest

from conftest import ROOT, LiveServer, select

KG = "https://w3id.org/mqmkg/id/"


@pytest.fixture(scope="module")
def client(project_server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=project_server.url, timeout=120) as http:
        yield http


def report(client: httpx.Client) -> dict[str, object]:
    response = client.get("/quality", params={"format": "json"})
    assert response.status_code == 200 and response.headers["content-type"] == "application/json"
    body: dict[str, object] = response.json()
    return body


def finished(client: httpx.Client, timeout: float = 900.0) -> dict[str, object]:
    """Poll until the background validation is done (it takes tens of seconds)."""
    deadline = time.monotonic() + timeout
    while True:
        body = report(client)
        status = body["validation"]["status"]  # type: ignore[index]
        if status != "running" or time.monotonic() > deadline:
            return body
        time.sleep(3)


def test_coverage_is_total_and_spans_tile_the_content(client: httpx.Client, project_server: LiveServer) -> None:
    coverage = report(client)["coverage"]
    assert isinstance(coverage, dict)
    assert coverage["sentences"] == coverage["sentencesBacked"] and coverage["unbackedSentences"] == []
    spans = coverage["spans"]
    assert spans[0]["start"] == coverage["contentStart"] and spans[-1]["end"] == coverage["contentEnd"]
    assert all(a["end"] == b["start"] and a["claims"] != b["claims"] for a, b in pairwise(spans))
    covered = sum(s["end"] - s["start"] for s in spans if s["claims"])
    assert covered == coverage["coveredCharacters"] and coverage["share"] > 0.95
    # The 1992 split sentence (kg:ev-3732-3857) backs exactly the claims SPARQL finds for it.
    (row,) = select(
        project_server,
        "SELECT (COUNT(DISTINCT ?c) AS ?n) WHERE { ?c mqm:evidence kg:ev-3732-3857 ; a/rdfs:subClassOf* mqm:Claim }",
    )
    inside = [s for s in spans if s["start"] >= 3732 and s["end"] <= 3857]
    assert inside and min(s["claims"] for s in inside) >= int(row["n"])


def test_claims_per_report_and_classes_agree_with_sparql(client: httpx.Client, project_server: LiveServer) -> None:
    body = report(client)
    per_report = {r["key"]: r["claims"] for r in body["claimsPerReport"]}  # type: ignore[union-attr]
    rows = select(
        project_server,
        "SELECT ?key (COUNT(DISTINCT ?c) AS ?n) WHERE { ?r a mqm:CitedReport ; mqm:citationKey ?key . "
        "OPTIONAL { ?c mqm:citesReport ?r } } GROUP BY ?key",
    )
    assert per_report == {r["key"]: int(r["n"]) for r in rows}
    assert per_report["Jane's 14 Feb 2003"] >= 1
    classes = {c["class"]: c["instances"] for c in body["classes"]}  # type: ignore[union-attr]
    (claims,) = select(project_server, "SELECT (COUNT(DISTINCT ?c) AS ?n) WHERE { ?c a mqm:Claim }")
    assert classes["https://w3id.org/mqmkg/ontology#Claim"] == int(claims["n"])


def test_entities_without_wikidata(client: httpx.Client) -> None:
    unlinked = {e["id"] for e in report(client)["withoutWikidata"]}  # type: ignore[union-attr]
    assert {"mqm-h", "afaq-ahmed", "nine-zero"} <= unlinked
    assert not {"mqm", "karachi", "altaf-hussein"} & unlinked


def test_the_validation_runs_once_in_the_background(client: httpx.Client, project_server: LiveServer) -> None:
    body = finished(client)
    validation = body["validation"]
    assert isinstance(validation, dict)
    assert validation["status"] == "done", validation
    assert validation["exitCode"] == 0 and validation["levels"]["ERROR"] == 0
    assert validation["shacl"] == {"Violation": 0, "Warning": 0, "Info": 0}
    names = sorted(c["name"] for c in validation["checks"])
    assert names == sorted(p.name.removesuffix("-violation.rq") for p in (ROOT / "queries" / "qc").glob("*.rq"))
    (evidence,) = select(
        project_server, "SELECT (COUNT(DISTINCT ?e) AS ?n) WHERE { ?e <http://www.w3.org/ns/oa#hasSelector> ?s }"
    )
    assert validation["quotes"] == {"checked": int(evidence["n"]), "wrong": 0}
    info = [r["entity"] for r in validation["qcRows"] if r["check"] == "no-wikidata-link"]
    assert sorted(i.strip("<>").removeprefix(KG) for i in info) == sorted(e["id"] for e in body["withoutWikidata"])  # type: ignore[union-attr]
    counts = {c["name"]: c["rows"] for c in validation["checks"]}
    assert counts["no-wikidata-link"] == len(info) and sum(counts.values()) == len(validation["qcRows"])
    assert report(client)["validation"] == validation  # kept, not run again


def test_the_page(client: httpx.Client) -> None:
    page = client.get("/quality", headers={"Accept": "text/html"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    for anchor in ("validation", "coverage", "reports", "wikidata", "classes"):
        assert f'<section id="{anchor}">' in page.text
    assert 'class="quality-source"' in page.text and 'title="1 claim"' in page.text

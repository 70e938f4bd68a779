"""``/queries``: the catalogue over HTTP, runs with parameters, federation via a stand-in."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest
from rdflib import Graph

from conftest import LiveServer
from mqmkg.queries import load_catalog

ROOT = Path(__file__).resolve().parents[1]
CATALOG = load_catalog(ROOT / "queries")
KG = "https://w3id.org/mqmkg/id/"
FEDERATED = {"wikidata-facts", "wikidata-population-of-places"}


@pytest.fixture(scope="module")
def server(project_server: LiveServer) -> LiveServer:
    return project_server


@pytest.fixture(scope="module")
def local(project_store: ox.Store) -> ox.Store:
    return project_store


def test_list_as_json_and_html(server: LiveServer) -> None:
    listing = httpx.get(server.url + "/queries", headers={"Accept": "application/json"}).json()["queries"]
    assert {q["name"] for q in listing} == set(CATALOG)
    assert len(listing) >= 25
    reports = next(q for q in listing if q["name"] == "claims-by-report")
    assert reports["parameters"] == [
        {
            "name": "key",
            "type": "string",
            "default": "U.S. DOS Feb 1996",
            "description": "the report's citation key, verbatim as the page prints it",
        }
    ]
    assert reports["links"]["run"]["csv"] == server.url + "/queries/claims-by-report/run?format=csv"
    assert set(next(q for q in listing if q["name"] == "describe-entity")["links"]["run"]) == {
        "turtle",
        "ntriples",
        "jsonld",
        "rdfxml",
    }
    page = httpx.get(server.url + "/queries", headers={"Accept": "text/html"})
    assert page.headers["content-type"].startswith("text/html")
    assert "Statements resting on a report" in page.text


def test_one_query_as_text_json_and_html(server: LiveServer) -> None:
    text = httpx.get(server.url + "/queries/timeline?format=rq")
    assert text.headers["content-type"].startswith("application/sparql-query")
    assert text.text == (ROOT / "queries" / "timeline.rq").read_text("utf-8")
    assert httpx.get(server.url + "/queries/timeline", headers={"Accept": "application/sparql-query"}).text == text.text
    described = httpx.get(server.url + "/queries/timeline?format=json").json()
    assert described["title"] == "Timeline of events and dated figures" and described["form"] == "SELECT"
    html = httpx.get(server.url + "/queries/events-in-place-and-period", headers={"Accept": "text/html"}).text
    assert 'name="from" value="1992-01-01"' in html


def test_unknown_query_is_404(server: LiveServer) -> None:
    response = httpx.get(server.url + "/queries/no-such-query/run")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert "no canned query named 'no-such-query'" in response.json()["detail"]


@pytest.mark.parametrize("name", sorted(set(CATALOG) - FEDERATED))
def test_every_query_runs_over_http_with_the_in_process_answer(server: LiveServer, local: ox.Store, name: str) -> None:
    query = CATALOG[name]
    response = httpx.get(f"{server.url}/queries/{name}/run", timeout=30)
    assert response.status_code == 200, response.text
    expected = local.query(query.text, substitutions=query.substitutions())
    if isinstance(expected, ox.QuerySolutions):
        rows = json.loads(response.content)["results"]["bindings"]
        assert len(rows) == len(list(expected)) == int(response.headers["X-MQMKG-Rows"])
        assert response.headers["X-MQMKG-Truncated"] == "false"
    else:
        graph = Graph().parse(data=response.text, format="turtle")
        assert len(graph) == len(set(expected))


def test_run_with_parameters_in_csv_and_tsv(server: LiveServer) -> None:
    response = httpx.get(server.url + "/queries/claims-by-report/run", params={"key": "HRW Dec 1997", "format": "csv"})
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert {r["claim"] for r in rows} == {KG + "claim-renaming-1997", KG + "claim-renaming-1997-former-name"}
    response = httpx.get(
        server.url + "/queries/events-in-place-and-period/run",
        params={"place": "kg:karachi", "from": "1998-01-01", "to": "1998-12-31", "format": "tsv"},
    )
    events = {line.split("\t")[3] for line in response.text.splitlines()[1:]}
    assert events == {
        f"<{KG}event-1998-altaf-haqiqi-fighting>",
        f"<{KG}event-1998-karachi-tensions-resurgence>",
        f"<{KG}event-mid-1990s-sindh-political-violence>",
        f"<{KG}event-karachi-murders-reduced>",
        # undated events in Karachi are kept (dating "undated"), not dropped
        f"<{KG}event-karachi-conflict>",
        f"<{KG}event-mqm-a-strikes>",
        f"<{KG}event-strike-enforcement-violence>",
    }


def test_construct_query_in_every_graph_format(server: LiveServer) -> None:
    for fmt, parser in (("turtle", "turtle"), ("ntriples", "nt"), ("jsonld", "json-ld"), ("rdfxml", "xml")):
        response = httpx.get(
            server.url + "/queries/construct-entity-card/run", params={"entity": "kg:mqm-h", "format": fmt}
        )
        graph = Graph().parse(data=response.content, format=parser)
        labels = {str(o) for s, p, o in graph if str(s) == KG + "mqm-h" and str(p).endswith("#altLabel")}
        assert labels == {"MQM-H", "Haqiqi"}, fmt


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"from": "1992"}, "not a date"),
        ({"place": "> } ; DROP ALL"}, "not an IRI"),
        ({"limit": "5"}, "unknown parameter"),
        ({"format": "png"}, "cannot produce"),
    ],
)
def test_bad_parameters_are_400_or_406(server: LiveServer, params: dict[str, str], message: str) -> None:
    response = httpx.get(server.url + "/queries/events-in-place-and-period/run", params=params)
    assert response.status_code in (400, 406)
    assert message in response.json()["detail"]


def test_repeated_parameter_is_refused(server: LiveServer) -> None:
    response = httpx.get(server.url + "/queries/about-entity/run?entity=kg:mqm&entity=kg:karachi")
    assert response.status_code == 400
    assert "more than once" in response.json()["detail"]


def test_federated_queries_through_the_stand_in(server: LiveServer) -> None:
    rows = httpx.get(server.url + "/queries/wikidata-population-of-places/run").json()["results"]["bindings"]
    assert [(r["label"]["value"], r["population"]["value"]) for r in rows] == [("Karachi", "14910352")]
    assert "the only industrialised port city in Pakistan" in rows[0]["pageSays"]["value"]
    facts = httpx.get(server.url + "/queries/wikidata-facts/run").json()["results"]["bindings"]
    labelled = {r["label"]["value"]: r["wikidataLabel"]["value"] for r in facts if "wikidataLabel" in r}
    assert labelled == {
        "Altaf Hussein": "Altaf Hussain",
        "Karachi": "Karachi",
        "Pakistan People's Party": "Pakistan Peoples Party",
    }
    assert len(facts) == 22

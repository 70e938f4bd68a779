"""The SERVICE guard, the depth limits and network isolation against a live server.

A loopback canary listener counts every connection that reaches it; it must stay at 0 for
every way of hiding a SERVICE, sent by GET, form POST and direct POST. Queries deep enough
to overflow the engine's stack get a 400 and kill no worker. The workers really sit in
their own network namespace, and /health says how they are cut off.
"""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from conftest import Listener, LiveServer, StandIn, send_query, wait_until
from mqmkg.sparql.isolation import endpoint_ports

# The issue's sample: a comment ended by CR hides nothing from the engine.
SAMPLE = 'SELECT * WHERE {{ FILTER(1<2)#>"""' + "\r" + "SERVICE <{url}> {{ ?x ?y ?z }}" + "\r" + '#"""' + "\n" + "}}"

HIDDEN = [
    SAMPLE,
    "SELECT * {{ # comment\rSERVICE <{url}> {{ ?x ?y ?z }} }}",
    'SELECT * {{ ?s ?p ?o . FILTER(?o != "\\u005C") SERVICE <{url}> {{ ?a ?b ?c }} }}',
    "SELECT * {{ SERVICESILENT<{url}> {{ ?a ?b ?c }} }}",
    "PREFIX ex: <{url}> SELECT * {{ SERVICEex:x {{ ?a ?b ?c }} }}",
    "SELECT * {{ ?s ?p ?o FILTER(true) SERVICE <{url}> {{ ?a ?b ?c }} }}",
    "PREFIX ex: <http://a/> SELECT * {{ ?s ?p ex:a\\' SERVICE <{url}> {{}} }} # '",
    "BASE <{url}> SELECT * {{ SERVICE <> {{ ?a ?b ?c }} }}",
    "SELECT * {{ ?s <http://a/#> ?o SERVICE <{url}> {{}} }}",
    "SELECT * {{ {{ SELECT * {{ SERVICE SILENT <{url}> {{}} }} }} }}",
]


def quiet(listener: Listener, seconds: float = 0.3) -> bool:
    time.sleep(seconds)
    return listener.connections == []


@pytest.mark.parametrize("how", ["GET", "form", "direct"])
def test_the_comment_ended_by_cr_no_longer_hides_a_service(
    live_server: LiveServer, listener: Listener, how: str
) -> None:
    response = send_query(live_server, how, SAMPLE.format(url=listener.url("/x")))
    assert response.status_code == 403, response.text
    assert response.json()["error"] == "ServiceRefused"
    assert "certainty" in response.json()["detail"]
    assert quiet(listener)


@pytest.mark.parametrize("how", ["GET", "form", "direct"])
def test_every_known_way_of_hiding_a_service_is_refused(live_server: LiveServer, listener: Listener, how: str) -> None:
    for template in HIDDEN:
        query = template.format(url=listener.url())
        response = send_query(live_server, how, query)
        assert response.status_code == 403, (query, response.text)
        assert response.json()["error"] == "ServiceRefused"
    assert quiet(listener)


def test_allowed_services_still_run_beside_tricky_text(live_server: LiveServer, wikidata_standin: StandIn) -> None:
    query = (
        f"PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\r\nSELECT ?label {{ # CR-ended comment\r"
        f"  ?x <http://www.w3.org/2002/07/owl#sameAs> ?item . FILTER(?item != <http://a/#x>)\r\n"
        f'  SERVICE <{wikidata_standin.query_url}> {{ ?item rdfs:label ?label FILTER(STR(?label) < "L") }}\r\n}}'
    )
    response = httpx.get(live_server.sparql, params={"query": query}, timeout=30)
    assert response.status_code == 200, response.text
    labels = sorted(b["label"]["value"] for b in response.json()["results"]["bindings"])
    assert labels == ["Altaf Hussain", "Karachi"]


CRASHERS = {
    "12,000 negations": "ASK { FILTER(" + "!" * 12_000 + "true) }",
    "20,000 additions": "SELECT * { BIND(" + "+".join(["1"] * 20_000) + " AS ?x) }",
    "10,000 path steps": "ASK { ?s " + "/".join(["<p:p>"] * 10_000) + " ?o }",
    "7,000 unions": "ASK { " + " UNION ".join(["{}"] * 7_000) + " }",
    "3,000 nested groups": "ASK " + "{" * 3_000 + "}" * 3_000,
}


def test_queries_that_overflowed_the_engine_are_refused_and_kill_no_worker(live_server: LiveServer) -> None:
    before = live_server.health()["workers"]
    for name, query in CRASHERS.items():
        response = send_query(live_server, "direct", query)
        assert response.status_code == 400, (name, response.text)
        assert response.json()["error"] == "QueryTooComplex", name
        assert "the limit is" in response.json()["detail"]
    after = live_server.health()["workers"]
    assert after["pids"] == before["pids"]  # type: ignore[index]
    assert after["replaced"] == before["replaced"]  # type: ignore[index]


NEAR_LIMIT = {
    "990 negations": ("ASK { FILTER(" + "!" * 990 + "true) }", "true"),
    "990 additions": ("SELECT (" + "+".join(["1"] * 990) + " AS ?x) {}", "990"),
    "990 disjunctions": ("ASK { FILTER(" + "||".join(["false"] * 990) + ") }", "false"),
    "480 nested groups": ("ASK " + "{" * 480 + "}" * 480, "true"),
    "900 unions": ("ASK { " + " UNION ".join(["{}"] * 900) + " }", "true"),
}


@pytest.mark.parametrize("name", list(NEAR_LIMIT))
def test_queries_just_under_the_limits_run(live_server: LiveServer, name: str) -> None:
    query, value = NEAR_LIMIT[name]
    before = live_server.worker_pids()
    response = send_query(live_server, "direct", query)
    assert response.status_code == 200, response.text
    body = response.json()
    found = body["boolean"] if "boolean" in body else body["results"]["bindings"][0]["x"]["value"]
    assert str(found).lower() == value
    assert live_server.worker_pids() == before


def netns(pid: int) -> str:
    return str(Path(f"/proc/{pid}/ns/net").readlink())


def test_workers_sit_in_their_own_network_namespace(live_server: LiveServer) -> None:
    health = live_server.health()
    isolation = health["isolation"]
    assert isinstance(isolation, dict)
    assert isolation["workers"] == "no network: own empty network namespace (loopback down, every connection refused)"
    federated = isolation["federated_workers"]
    ports = ", ".join(map(str, endpoint_ports(tuple(live_server.settings["service_allowlist"].split(",")))))
    assert federated["network"] == f"network limited by Landlock to TCP port(s) {ports} (the allow-listed endpoints)"
    server_ns = netns(live_server.process.pid)
    local = live_server.worker_pids()
    assert len(local) == 2 and all(netns(pid) != server_ns for pid in local)
    assert len({netns(pid) for pid in local}) == 2  # one empty namespace each
    assert wait_until(lambda: len(live_server.health()["isolation"]["federated_workers"]["pids"]) == 1)  # type: ignore[index]
    (federated_pid,) = live_server.health()["isolation"]["federated_workers"]["pids"]  # type: ignore[index]
    assert netns(federated_pid) == server_ns

"""SERVICE against a live server: an allow-listed endpoint is called (a local ``oxigraph
serve`` stands in for Wikidata), a hung one is cut off at the SERVICE timeout, anything
else is refused before a connection is even attempted; LOAD and FROM fetch nothing."""

from __future__ import annotations

import time

import httpx
import pytest

from conftest import ENDPOINT_SETTINGS, Listener, LiveServer, StandIn, select

SERVICE_TIMEOUT = float(ENDPOINT_SETTINGS["service_timeout"])


def quiet(listener: Listener, seconds: float = 0.3) -> bool:
    """Give a stray connection time to arrive, then tell whether none did."""
    time.sleep(seconds)
    return listener.connections == []


def test_federated_query_through_an_allowed_endpoint(live_server: LiveServer, wikidata_standin: StandIn) -> None:
    query = f"""SELECT ?place ?label ?population {{
      ?place owl:sameAs ?item .
      SERVICE <{wikidata_standin.query_url}> {{ ?item wdt:P1082 ?population ; rdfs:label ?label }}
    }}"""
    assert select(live_server, query) == [
        {"place": "https://w3id.org/mqmkg/id/karachi", "label": "Karachi", "population": "14910352"}
    ]
    people = f"""SELECT ?person ?wikidataLabel {{
      ?person a <http://xmlns.com/foaf/0.1/Person> ; owl:sameAs ?item .
      SERVICE SILENT <{wikidata_standin.query_url}> {{ ?item rdfs:label ?wikidataLabel }}
    }}"""
    assert select(live_server, people) == [
        {"person": "https://w3id.org/mqmkg/id/altaf-hussein", "wikidataLabel": "Altaf Hussain"}
    ]


def test_a_hung_service_is_cut_off_at_the_service_timeout(live_server: LiveServer, tarpit: Listener) -> None:
    before = len(tarpit.connections)
    started = time.monotonic()
    response = httpx.get(
        live_server.sparql,
        params={"query": f"SELECT * {{ SERVICE <{tarpit.url()}> {{ ?s ?p ?o }} }}"},
        timeout=30,
    )
    elapsed = time.monotonic() - started
    assert response.status_code == 503
    assert "deadline of 1 s" in response.json()["detail"]
    # Bounded by the SERVICE timeout (1 s), not the query deadline (1.5 s).
    assert SERVICE_TIMEOUT <= elapsed < float(ENDPOINT_SETTINGS["query_timeout"]), elapsed
    assert len(tarpit.connections) == before + 1  # the call did go out, to an allowed endpoint


def refused_queries(listener: Listener, server: LiveServer) -> list[str]:
    target = listener.url()
    port = listener.port
    return [
        f"SELECT * {{ SERVICE <{target}> {{ ?s ?p ?o }} }}",
        f"SELECT * {{ SERVICE SILENT <{target}> {{ ?s ?p ?o }} }}",
        f"select * {{ service <http://localhost:{port}/sparql> {{ ?s ?p ?o }} }}",
        f"PREFIX evil: <http://127.0.0.1:{port}/> SELECT * {{ SERVICE evil:sparql {{ ?s ?p ?o }} }}",
        f"BASE <http://127.0.0.1:{port}/> SELECT * {{ SERVICE <sparql> {{ ?s ?p ?o }} }}",
        f"SELECT * {{ SERVICE <http://127.0.0.1:{port}/\\u0073parql> {{ ?s ?p ?o }} }}",
        f"SELECT * {{ VALUES ?e {{ <{target}> }} SERVICE ?e {{ ?s ?p ?o }} }}",
        f"SELECT * {{ ?s ?p ?o OPTIONAL {{ SERVICE <{target}> {{ ?s ?q ?r }} }} }}",
        f"ASK {{ FILTER EXISTS {{ SERVICE <{target}> {{ ?s ?p ?o }} }} }}",
        f"SELECT * {{ {{ SELECT ?s {{ SERVICE <{target}> {{ ?s ?p ?o }} }} }} }}",
        f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ SERVICE <{target}> {{ ?s ?p ?o }} }}",
        # Our own endpoint, reached through a relative IRI: no request loops either.
        "SELECT * { SERVICE <sparql> { ?s ?p ?o } }",
        "SELECT * { SERVICE <http://169.254.169.254/latest/meta-data/> { ?s ?p ?o } }",
        "SELECT * { SERVICE <http://10.0.0.1/sparql> { ?s ?p ?o } }",
        "SELECT * { SERVICE <http://[::1]/sparql> { ?s ?p ?o } }",
        "SELECT * { SERVICE <file:///etc/passwd> { ?s ?p ?o } }",
    ]


def test_services_off_the_allowlist_are_refused_without_a_connection(
    live_server: LiveServer, listener: Listener
) -> None:
    for query in refused_queries(listener, live_server):
        response = httpx.get(live_server.sparql, params={"query": query})
        assert response.status_code == 403, (query, response.text)
        assert response.json()["error"] == "ServiceRefused"
        assert "allow" in response.json()["detail"] or "variable" in response.json()["detail"]
    assert quiet(listener)


def test_a_service_mentioned_only_in_a_string_is_no_service(live_server: LiveServer, listener: Listener) -> None:
    query = f'SELECT ?x {{ BIND("SERVICE <{listener.url()}> {{ }}" AS ?x) }} # SERVICE <{listener.url()}>'
    assert select(live_server, query) == [{"x": f"SERVICE <{listener.url()}> {{ }}"}]
    assert quiet(listener)


@pytest.mark.parametrize(
    ("method", "params", "content", "content_type"),
    [
        ("GET", {"update": "LOAD <{url}>"}, None, None),
        ("POST", {}, "update=LOAD%20%3C{url}%3E", "application/x-www-form-urlencoded"),
        ("POST", {}, "LOAD <{url}> INTO GRAPH <http://example.org/g>", "application/sparql-update"),
        ("GET", {"query": "LOAD <{url}>"}, None, None),
        ("POST", {}, "LOAD SILENT <{url}>", "application/sparql-query"),
    ],
)
def test_load_is_refused_without_a_connection(
    live_server: LiveServer,
    listener: Listener,
    method: str,
    params: dict[str, str],
    content: str | None,
    content_type: str | None,
) -> None:
    url = listener.url("/data.ttl")
    response = httpx.request(
        method,
        live_server.sparql,
        params={k: v.format(url=url) for k, v in params.items()},
        content=content.format(url=url).encode() if content else None,
        headers={"Content-Type": content_type} if content_type else {},
    )
    assert response.status_code == 403
    assert "read-only" in response.json()["detail"]
    assert quiet(listener)


def test_from_and_describe_fetch_nothing(live_server: LiveServer, listener: Listener) -> None:
    url = listener.url("/data.ttl")
    assert select(live_server, f"SELECT * FROM <{url}> FROM NAMED <{url}> {{ ?s ?p ?o }}") == []
    described = httpx.get(live_server.sparql, params={"query": f"DESCRIBE <{url}>", "format": "ntriples"})
    assert (described.status_code, described.text) == (200, "")
    graph_param = httpx.get(live_server.sparql, params={"query": "ASK {}", "default-graph-uri": url})
    assert graph_param.status_code == 400
    assert quiet(listener)

"""``mqmkg publish --to`` and ``mqmkg serve --backend`` against a real ``oxigraph serve`` process.

The graph is published through the Graph Store Protocol (twice: the second run changes
nothing), then served by mqmkg in front of that server: canned queries, parameters, protocol
features, limits, entity pages and search must answer as the embedded store does, and a
backend that is down or slow must give 502 or 504, never a hang.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest

from conftest import (
    QUERY_PREFIXES,
    Listener,
    LiveServer,
    StandIn,
    json_rows,
    start_live_server,
    start_oxigraph,
    stop_process,
    wait_until,
)
from mqmkg.config import Settings
from mqmkg.publish import comparable, uploads
from mqmkg.queries import load_catalog

ROOT = Path(__file__).resolve().parents[1]
CATALOG = load_catalog(ROOT / "queries")
GRAPHS = len(uploads(Settings(root=ROOT)))  # the named graphs and the default graph


@dataclass
class Backend:
    """A running ``oxigraph serve``: its base URL and process."""

    base: str
    process: subprocess.Popen[bytes]
    directory: Path

    @property
    def query(self) -> str:
        return self.base + "/query"

    @property
    def store(self) -> str:
        return self.base + "/store"


@pytest.fixture
def backend_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[], Backend]]:
    """Start empty ``oxigraph serve`` processes; stop them, by PID, after the test."""
    started: list[Backend] = []

    def start() -> Backend:
        directory = tmp_path_factory.mktemp("oxigraph")
        base, process = start_oxigraph(directory)
        started.append(Backend(base, process, directory))
        return started[-1]

    yield start
    for backend in started:
        stop_process(backend.process)


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    """One ``oxigraph serve`` holding the curated graph, published by ``mqmkg publish``."""
    directory = tmp_path_factory.mktemp("published")
    base, process = start_oxigraph(directory)
    backend = Backend(base, process, directory)
    done = publish(backend.store)
    assert done.returncode == 0, done.stderr
    yield backend
    stop_process(process)


@pytest.fixture(scope="module")
def remote(live_server_factory: Callable[..., LiveServer], published: Backend, wikidata_standin: StandIn) -> LiveServer:
    """mqmkg in front of the published backend, with a 100-row cap."""
    return live_server_factory(
        root=ROOT,
        backend=published.query,
        wikidata_endpoint=wikidata_standin.query_url,
        service_allowlist=wikidata_standin.query_url,
        max_rows="100",
    )


def publish(to: str, root: Path = ROOT) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MQMKG_")}
    command = [sys.executable, "-m", "mqmkg", "publish", "--to", to, "--root", str(root)]
    return subprocess.run(command, capture_output=True, text=True, timeout=300, env=env, cwd=ROOT)


def server_graph(backend: Backend, name: str | None) -> frozenset[str]:
    """Return one graph of the backend (None: the default graph), as publish compares graphs."""
    params = {"graph": name} if name else {"default": ""}
    response = httpx.get(backend.store, params=params, headers={"Accept": "application/n-triples"}, timeout=60)
    assert response.status_code == 200, response.text
    return comparable(
        ox.Triple(q.subject, q.predicate, q.object) for q in ox.parse(response.content, format=ox.RdfFormat.N_TRIPLES)
    )


def all_graphs(backend: Backend) -> dict[str | None, frozenset[str]]:
    return {g.name: server_graph(backend, g.name) for g in uploads(Settings(root=ROOT))}


# -- publish -----------------------------------------------------------------------------


def test_publish_creates_every_graph_and_a_second_run_changes_nothing(backend_factory: Callable[[], Backend]) -> None:
    backend = backend_factory()
    first = publish(backend.store)
    assert first.returncode == 0, first.stderr
    lines = first.stdout.splitlines()
    assert lines[0] == f"publishing {GRAPHS - 1} named graphs and their union to {backend.store}"
    assert [line.split("] ")[0] for line in lines[1:-1]] == [f"[{i}/{GRAPHS}" for i in range(1, GRAPHS + 1)]
    assert all(line.endswith("created") for line in lines[1:-1])
    assert lines[-1] == f"done: {GRAPHS} graph(s) written, 0 already up to date"
    # The server holds exactly our graphs, named graphs kept, the union as its default graph.
    local = {g.name: comparable(g.triples) for g in uploads(Settings(root=ROOT))}
    before = all_graphs(backend)
    assert before == local
    names = json_rows(httpx.post(backend.query, data={"query": "SELECT DISTINCT ?g { GRAPH ?g {} }"}))
    assert {row["g"] for row in names} == {name for name in local if name}

    second = publish(backend.store)
    assert second.returncode == 0, second.stderr
    assert all(line.endswith("unchanged") for line in second.stdout.splitlines()[1:-1])
    assert second.stdout.splitlines()[-1] == f"done: 0 graph(s) written, {GRAPHS} already up to date"
    assert all_graphs(backend) == before


def test_publish_replaces_only_the_graphs_that_changed(backend_factory: Callable[[], Backend], tmp_path: Path) -> None:
    backend = backend_factory()
    assert publish(backend.store).returncode == 0
    root = tmp_path / "root"
    shutil.copytree(ROOT / "ontology", root / "ontology")
    shutil.copytree(ROOT / "graph", root / "graph")
    places = root / "graph" / "places.ttl"
    places.write_text(places.read_text("utf-8").replace('"Karachi"@en', '"Karachi (Sindh)"@en'), "utf-8")
    again = publish(backend.store, root)
    assert again.returncode == 0, again.stderr
    changed = {line.split("] ")[1].rsplit(": ", 1)[0] for line in again.stdout.splitlines()[1:-1] if "replaced" in line}
    assert changed == {"<https://w3id.org/mqmkg/graph/places>", "the default graph (union)"}
    label = httpx.post(
        backend.query,
        data={"query": QUERY_PREFIXES + "SELECT ?l { GRAPH ?g { kg:karachi rdfs:label ?l } }"},
        headers={"Accept": "application/sparql-results+json"},
    )
    assert {row["l"] for row in json_rows(label)} == {"Karachi (Sindh)"}


def test_publish_to_a_server_that_is_not_there_is_a_clear_error(listener: Listener) -> None:
    listener.close()  # nothing listens on that port any more
    done = publish(listener.url("/store"))
    assert done.returncode == 2
    assert done.stderr.startswith(f"error: cannot publish to {listener.url('/store')}")
    assert "Traceback" not in done.stderr


# -- serve --backend ------------------------------------------------------------------------


# Left open by SPARQL, so two stores may differ: GROUP_CONCAT's order and SAMPLE's pick.
SEPARATOR = " | "
SAMPLED = {("allegations-against", "quote")}


def _values(response: httpx.Response, name: str = "") -> list[tuple[tuple[str, str], ...]]:
    """Return the rows sorted, blank nodes masked (two stores label them apart), concatenations sorted."""

    def value(variable: str, term: dict[str, str]) -> str:
        if term["type"] == "bnode" or (name, variable) in SAMPLED:
            return "_"
        return SEPARATOR.join(sorted(term["value"].split(SEPARATOR)))

    assert response.status_code == 200, response.text
    rows = response.json()["results"]["bindings"]
    return sorted(tuple(sorted((k, value(k, t)) for k, t in row.items())) for row in rows)


@pytest.mark.parametrize("name", sorted(CATALOG))
def test_canned_queries_answer_as_the_embedded_store(name: str, remote: LiveServer, project_server: LiveServer) -> None:
    params = {"format": "json" if "SELECT" in CATALOG[name].text else "ntriples"}
    here = httpx.get(f"{project_server.url}/queries/{name}/run", params=params, timeout=60)
    there = httpx.get(f"{remote.url}/queries/{name}/run", params=params, timeout=60)
    assert here.status_code == there.status_code == 200, there.text
    truncated = there.headers["x-mqmkg-truncated"] == "true"  # at the 100-row cap of the remote server
    if params["format"] == "json":
        mine, theirs = _values(here, name), _values(there, name)
        assert theirs == mine if not truncated else (len(theirs) == 100 and set(theirs) <= set(mine))
    else:
        mine = comparable(ox.parse(here.content, format=ox.RdfFormat.N_TRIPLES))  # type: ignore[arg-type]
        theirs = comparable(ox.parse(there.content, format=ox.RdfFormat.N_TRIPLES))  # type: ignore[arg-type]
        assert theirs == mine if not truncated else len(theirs) == 100


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("claims-by-report", {"key": "U.S. DOS Feb 1996"}),
        ("claims-by-report", {"key": 'x" } UNION { ?s ?p ?o } #'}),  # a value, never query text
        ("claims-by-report", {"key": "a\\u0022 } #\\\\ {"}),
        ("about-entity", {"entity": "kg:altaf-hussein"}),
        ("events-in-place-and-period", {"place": "kg:karachi", "from": "1990-01-01", "to": "1996-12-31"}),
    ],
)
def test_parameters_are_bound_as_values(
    name: str, params: dict[str, str], remote: LiveServer, project_server: LiveServer
) -> None:
    known = {p.name for p in CATALOG[name].parameters}
    assert set(params) <= known, (name, known)
    here = httpx.get(f"{project_server.url}/queries/{name}/run", params=params, timeout=60)
    there = httpx.get(f"{remote.url}/queries/{name}/run", params=params, timeout=60)
    assert here.status_code == there.status_code == 200, there.text
    assert _values(there, name) == _values(here, name)


def test_protocol_features_and_limits_in_front_of_the_backend(remote: LiveServer, listener: Listener) -> None:
    splinter = QUERY_PREFIXES + "SELECT ?a ?b { ?a mqm:splinterOf ?b } ORDER BY ?a"
    csv = httpx.get(remote.sparql, params={"query": splinter}, headers={"Accept": "text/csv"})
    assert csv.status_code == 200 and csv.headers["content-type"] == "text/csv; charset=utf-8"
    assert csv.text.splitlines()[0] == "a,b"
    graph = "https://w3id.org/mqmkg/graph/places"
    scoped = httpx.get(
        remote.sparql, params={"query": "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }", "default-graph-uri": graph}
    )
    places = next(g for g in uploads(Settings(root=ROOT)) if g.name == graph)
    assert json_rows(scoped) == [{"n": str(len(places.triples))}]
    named = httpx.get(
        remote.sparql,
        params={"query": "SELECT DISTINCT ?g { GRAPH ?g { ?s ?p ?o } }", "named-graph-uri": graph},
    )
    assert json_rows(named) == [{"g": graph}]
    capped = httpx.get(remote.sparql, params={"query": "SELECT * { ?s ?p ?o }"})
    assert (capped.headers["x-mqmkg-rows"], capped.headers["x-mqmkg-truncated"]) == ("100", "true")
    assert len(json_rows(capped)) == 100
    construct = httpx.get(
        remote.sparql, params={"query": "CONSTRUCT WHERE { ?s ?p ?o }"}, headers={"Accept": "text/turtle"}
    )
    assert (
        construct.headers["x-mqmkg-truncated"] == "true"
        and len(list(ox.parse(construct.content, format=ox.RdfFormat.TURTLE))) == 100
    )
    # The backend's answers can change without mqmkg knowing: validated by their bytes, never kept.
    again = httpx.get(remote.sparql, params={"query": splinter}, headers={"If-None-Match": capped.headers["etag"]})
    assert again.headers["x-mqmkg-cache"] == "bypass" and again.headers["cache-control"] == "no-cache"
    same = httpx.get(
        remote.sparql, params={"query": "SELECT * { ?s ?p ?o }"}, headers={"If-None-Match": capped.headers["etag"]}
    )
    assert same.status_code == 304
    # Errors are the same as the embedded store's.
    broken = httpx.get(remote.sparql, params={"query": "SELECT * WHERE { ?s ?p }"})
    assert broken.status_code == 400 and broken.json()["error"] == "QuerySyntaxError"
    update = httpx.post(remote.sparql, data={"update": "CLEAR ALL"})
    assert update.status_code == 403
    outside = httpx.get(remote.sparql, params={"query": f"SELECT * {{ SERVICE <{listener.url()}> {{ ?s ?p ?o }} }}"})
    assert outside.status_code == 403 and listener.connections == []
    unknown = httpx.get(remote.sparql, params={"query": "ASK {}", "default-graph-uri": "http://example.org/g"})
    assert unknown.status_code == 400


def test_federation_through_the_backend(remote: LiveServer, wikidata_standin: StandIn) -> None:
    service = f"SERVICE <{wikidata_standin.query_url}> {{ ?item rdfs:label ?label }}"
    query = QUERY_PREFIXES + f"SELECT ?label {{ kg:karachi owl:sameAs ?item . {service} }}"
    response = httpx.get(remote.sparql, params={"query": query}, timeout=30)
    assert json_rows(response) == [{"label": "Karachi"}]


def test_pages_and_search_through_the_backend(remote: LiveServer, project_server: LiveServer) -> None:
    page = httpx.get(remote.url + "/id/altaf-hussein", headers={"Accept": "text/html"}, timeout=60)
    assert page.status_code == 200 and "Altaf Hussein" in page.text
    for path in ("/id/altaf-hussein.ttl", "/ontology.nt"):
        here = httpx.get(project_server.url + path, timeout=60)
        there = httpx.get(remote.url + path, timeout=60)
        fmt = ox.RdfFormat.TURTLE if path.endswith(".ttl") else ox.RdfFormat.N_TRIPLES
        assert comparable(ox.parse(there.content, format=fmt)) == comparable(ox.parse(here.content, format=fmt))  # type: ignore[arg-type]
    for view in ("/timeline", "/relations", "/source"):  # the views read the backend the same way
        mine = httpx.get(project_server.url + view, params={"format": "json"}, timeout=60)
        theirs = httpx.get(remote.url + view, params={"format": "json"}, timeout=60)
        assert mine.status_code == theirs.status_code == 200, theirs.text
        if view == "/relations":  # edge labels hold a GROUP_CONCAT, whose order SPARQL leaves to the store
            assert {e["id"] for e in theirs.json()["edges"]} == {e["id"] for e in mine.json()["edges"]}
            assert theirs.json()["nodes"] == mine.json()["nodes"]
        else:
            assert theirs.json() == mine.json(), view
    search = {"q": "mqm haqiqi", "format": "json"}
    assert (
        httpx.get(remote.url + "/search", params=search).json()
        == httpx.get(project_server.url + "/search", params=search).json()
    )
    assert httpx.get(remote.url + "/id/no-such-thing", headers={"Accept": "text/turtle"}).status_code == 404
    health = remote.health()
    mine = project_server.health()
    assert (health["status"], health["backend"]) == ("ok", remote.settings["backend"])
    assert (health["triples"], health["quads"], health["graphs"]) == (mine["triples"], mine["quads"], mine["graphs"])


def test_a_backend_that_goes_down_gives_502_and_comes_back(
    backend_factory: Callable[[], Backend], live_server_factory: Callable[..., LiveServer]
) -> None:
    backend = backend_factory()
    assert publish(backend.store).returncode == 0
    server = live_server_factory(root=ROOT, backend=backend.query, query_timeout="3")
    ask = {"query": "ASK { ?s ?p ?o }"}
    assert httpx.get(server.sparql, params=ask).json() == {"boolean": True, "head": {}}
    port = int(backend.base.rsplit(":", 1)[1])
    stop_process(backend.process)
    started = time.monotonic()
    down = httpx.get(server.sparql, params=ask, timeout=30)
    assert down.status_code == 502 and down.json()["error"] == "BackendUnavailable"
    assert "cannot be reached" in down.json()["detail"]
    assert httpx.get(server.url + "/id/altaf-hussein", headers={"Accept": "text/turtle"}).status_code == 502
    assert time.monotonic() - started < 10
    health = httpx.get(server.url + "/health", timeout=30)
    assert health.status_code == 503 and health.json()["status"] == "degraded"
    # The same backend comes back on its port: the replica serves again, no restart needed.
    _, backend.process = start_oxigraph(backend.directory, port=port)
    assert wait_until(lambda: httpx.get(server.url + "/health", timeout=30).status_code == 200, 30)
    assert httpx.get(server.sparql, params=ask).json() == {"boolean": True, "head": {}}


def test_a_backend_that_does_not_answer_gives_504_at_the_deadline(tarpit: Listener, tmp_path: Path) -> None:
    settings = {"root": str(ROOT), "backend": tarpit.url("/query"), "query_timeout": "1.5"}
    server = start_live_server(settings, tmp_path / "server.log", ready="/queries")
    try:
        started = time.monotonic()
        response = httpx.get(server.sparql, params={"query": "ASK {}"}, timeout=30)
        elapsed = time.monotonic() - started
        assert response.status_code == 504 and response.json()["error"] == "BackendTimeout"
        assert 1.5 <= elapsed < 1.5 + 5, elapsed
        assert httpx.get(server.url + "/health", timeout=30).status_code == 503
    finally:
        server.stop()


def test_publish_sends_the_headers_it_is_given(listener: Listener) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MQMKG_")}
    command = [sys.executable, "-m", "mqmkg", "publish", "--to", listener.url("/store"), "--timeout", "2"]
    command += ["--header", "Authorization: Bearer s3cret", "--header", "X-Trace: publish-test"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, env=env, cwd=ROOT)
    assert done.returncode == 2 and done.stderr.startswith("error: cannot publish")  # the listener never answers
    assert listener.connections, "no request reached the listener"
    head = listener.connections[0].decode("latin-1").lower()
    assert head.startswith("get /store?graph=https%3a%2f%2fw3id.org%2fmqmkg%2fgraph%2fagents ")
    assert "authorization: bearer s3cret" in head and "x-trace: publish-test" in head
    bad = subprocess.run([*command[:6], "--header", "no colon here"], capture_output=True, text=True, env=env, cwd=ROOT)
    assert bad.returncode == 2 and "is not 'Name: value'" in bad.stderr

"""Hostile or careless queries against a live server: the deadline really stops a query
while others are answered, the row cap, the body cap, back-pressure, and no 500s."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from conftest import ENDPOINT_ROOT, ENDPOINT_SETTINGS, QUERY_PREFIXES, LiveServer, alive, select, wait_until

EXPLOSIVE = "SELECT (COUNT(*) AS ?n) { " + " . ".join(f"?s{i} ?p{i} ?o{i}" for i in range(6)) + " }"
SPLINTER = "SELECT ?a ?b { ?a mqm:splinterOf ?b }"
SPLINTER_ROWS = [{"a": "https://w3id.org/mqmkg/id/mqm-h", "b": "https://w3id.org/mqmkg/id/mqm"}]
DEADLINE = float(ENDPOINT_SETTINGS["query_timeout"])
MARGIN = 1.0  # seconds past the deadline: kill, reap, HTTP round trip on a loaded 2-core machine


def in_background(call: Callable[[], httpx.Response]) -> tuple[threading.Thread, dict[str, object]]:
    outcome: dict[str, object] = {}

    def run() -> None:
        started = time.monotonic()
        outcome["response"] = call()
        outcome["elapsed"] = time.monotonic() - started

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


def test_deadline_stops_the_query_and_frees_its_cpu(live_server: LiveServer) -> None:
    before = set(live_server.worker_pids())
    replaced = live_server.health()["workers"]["replaced"]  # type: ignore[index]
    thread, outcome = in_background(lambda: httpx.get(live_server.sparql, params={"query": EXPLOSIVE}, timeout=30))
    time.sleep(0.4)
    # Meanwhile a normal query, the service description and /health are answered at once.
    started = time.monotonic()
    assert select(live_server, SPLINTER) == SPLINTER_ROWS
    assert httpx.get(live_server.sparql).status_code == 200
    assert live_server.health()["workers"]["busy"] == 1  # type: ignore[index]
    assert time.monotonic() - started < 0.5
    assert thread.is_alive()
    thread.join(30)
    response = outcome["response"]
    assert isinstance(response, httpx.Response)
    assert response.status_code == 503
    assert response.json()["error"] == "QueryTimeout"
    assert "deadline of 1.5 s" in response.json()["detail"]
    assert "retry-after" not in response.headers  # retrying the same query will not help
    elapsed = float(outcome["elapsed"])  # type: ignore[arg-type]
    assert DEADLINE <= elapsed < DEADLINE + MARGIN, elapsed
    # The worker that ran it is gone (killed and reaped: no CPU spent on it any more) ...
    (killed,) = before - set(live_server.worker_pids())
    assert not alive(killed)
    # ... and a fresh one has taken its place.
    assert wait_until(lambda: live_server.health()["workers"]["idle"] == 2)  # type: ignore[index]
    workers = live_server.health()["workers"]
    assert workers["replaced"] == replaced + 1  # type: ignore[index,operator]
    assert len(set(workers["pids"]) - before) == 1  # type: ignore[index,arg-type]
    assert select(live_server, SPLINTER) == SPLINTER_ROWS


def test_row_cap_truncates_with_headers(live_server: LiveServer) -> None:
    query = QUERY_PREFIXES + "SELECT * { ?s ?p ?o . ?a ?b ?c }"  # 57 x 57 = 3249 rows
    response = httpx.get(live_server.sparql, params={"query": query})
    assert response.status_code == 200
    assert len(response.json()["results"]["bindings"]) == 500
    assert response.headers["x-mqmkg-truncated"] == "true"
    assert response.headers["x-mqmkg-row-limit"] == "500"
    assert response.headers["x-mqmkg-rows"] == "500"
    csv_response = httpx.get(live_server.sparql, params={"query": query, "format": "csv"})
    assert len(csv_response.text.split("\r\n")) == 1 + 500 + 1  # header, 500 rows, final CRLF
    graph = httpx.get(
        live_server.sparql,
        params={"query": "CONSTRUCT { ?s ?b ?c } WHERE { ?s ?p ?o . ?a ?b ?c }", "format": "nt"},
    )
    assert graph.headers["x-mqmkg-truncated"] == "true"
    assert len(graph.text.splitlines()) == 500
    complete = httpx.get(live_server.sparql, params={"query": "SELECT * { ?s ?p ?o }"})
    assert (complete.headers["x-mqmkg-truncated"], complete.headers["x-mqmkg-rows"]) == ("false", "57")


def test_body_cap(live_server: LiveServer) -> None:
    padding = "#" + "x" * 70_000 + "\n"
    form = httpx.post(
        live_server.sparql,
        content=b"query=" + (padding + "ASK {}").encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert form.status_code == 413
    assert form.json()["detail"] == "request body larger than 65536 bytes (Settings.max_body_bytes)"

    def chunks() -> Iterator[bytes]:  # no Content-Length: the cap applies while reading
        for _ in range(20):
            yield b"# " + b"y" * 8_000 + b"\n"
        yield b"ASK {}"

    direct = httpx.post(live_server.sparql, content=chunks(), headers={"Content-Type": "application/sparql-query"})
    assert direct.status_code == 413
    below = httpx.post(
        live_server.sparql,
        content=("#" + "x" * 60_000 + "\nASK {}").encode(),
        headers={"Content-Type": "application/sparql-query"},
    )
    assert below.status_code == 200


def test_deep_nesting_is_refused_before_the_engine(live_server: LiveServer) -> None:
    query = "SELECT * { FILTER(" + "(" * 10_000 + "1" + ")" * 10_000 + ") }"
    response = httpx.post(
        live_server.sparql, content=query.encode(), headers={"Content-Type": "application/sparql-query"}
    )
    assert response.status_code == 400
    assert response.json()["detail"].startswith("the query nests brackets 10002 deep; the limit is 500")


def busy_worker(server: LiveServer, pids: set[int]) -> int:
    """Return the worker whose CPU time grows: the one running a query."""

    def cpu(pid: int) -> int:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])  # utime + stime

    before = {pid: cpu(pid) for pid in pids}
    time.sleep(0.5)
    return max(pids, key=lambda pid: cpu(pid) - before[pid])


def test_an_engine_crash_costs_one_worker_not_the_server(live_server: LiveServer) -> None:
    # No query text crashes a worker any more (tests/test_server_guard.py); a worker that dies
    # mid-query all the same (here: killed from outside) costs that query and that worker only.
    before = set(live_server.worker_pids())
    thread, outcome = in_background(lambda: httpx.get(live_server.sparql, params={"query": EXPLOSIVE}, timeout=30))
    time.sleep(0.2)
    os.kill(busy_worker(live_server, before), signal.SIGKILL)
    thread.join(30)
    response = outcome["response"]
    assert isinstance(response, httpx.Response)
    assert response.status_code == 503
    assert response.json()["error"] == "QueryAborted"
    assert len(before - set(live_server.worker_pids())) == 1
    assert select(live_server, SPLINTER) == SPLINTER_ROWS
    assert wait_until(lambda: live_server.health()["workers"]["idle"] == 2)  # type: ignore[index]


@pytest.mark.parametrize(
    ("method", "params", "content", "headers"),
    [
        ("GET", {"query": "SELECT * { ?s ?p \x00 }"}, None, {}),
        ("GET", {"query": "SELECT * { ?s <http://a b> ?o }"}, None, {}),
        ("GET", {"query": "PREFIX : <x> SELECT * { ?s :p ?o }"}, None, {}),
        ("GET", {"query": "SELECT * { ?s nope:p ?o }"}, None, {}),
        ("GET", {"query": "SELECT (1/0 AS ?x) (xsd:integer('x') AS ?y) {}"}, None, {}),
        ("GET", {"query": "ASK {}", "default-graph-uri": ""}, None, {}),
        ("GET", {"query": "ASK {}"}, None, {"Accept": ";;;,,*/"}),
        ("GET", {"query": "ASK {}", "format": "\u2603"}, None, {}),
        ("GET", {"query": "SELECT * { SERVICE ?x { ?s ?p ?o } }"}, None, {}),
        ("POST", {}, b"query=%", {"Content-Type": "application/x-www-form-urlencoded"}),
        ("POST", {}, b"ASK {}", {"Content-Type": ";;;"}),
        ("POST", {}, b"ASK {}", {"Content-Type": "application/sparql-query", "Content-Length": "6"}),
        ("POST", {}, b"\xef\xbb\xbfASK {}", {"Content-Type": "application/sparql-query"}),
        ("GET", {"query": "DESCRIBE ?x"}, None, {}),
        ("GET", {"query": "SELECT * {} LIMIT 99999999999999999999999"}, None, {}),
    ],
)
def test_bad_input_never_gives_a_500(
    live_server: LiveServer,
    method: str,
    params: dict[str, str],
    content: bytes | None,
    headers: dict[str, str],
) -> None:
    response = httpx.request(method, live_server.sparql, params=params, content=content, headers=headers)
    assert response.status_code < 500, response.text
    assert "Traceback" not in response.text
    if response.status_code >= 400:
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["detail"]


@pytest.fixture(scope="module")
def busy_server(live_server_factory: Callable[..., LiveServer]) -> LiveServer:
    """One worker, no queue: a second concurrent query is turned away at once."""
    return live_server_factory(root=ENDPOINT_ROOT, workers=1, max_queue=0, queue_wait=0.2, query_timeout=2)


def test_all_workers_busy_gives_503_with_retry_after(busy_server: LiveServer) -> None:
    thread, outcome = in_background(lambda: httpx.get(busy_server.sparql, params={"query": EXPLOSIVE}, timeout=30))
    time.sleep(0.4)
    started = time.monotonic()
    response = httpx.get(busy_server.sparql, params={"query": "ASK {}"})
    assert time.monotonic() - started < 0.5
    assert response.status_code == 503
    assert response.json()["error"] == "ServerBusy"
    assert response.headers["retry-after"] == "2"
    assert busy_server.health()["workers"]["busy"] == 1  # type: ignore[index]
    thread.join(30)
    assert outcome["response"].status_code == 503  # type: ignore[union-attr]
    assert wait_until(lambda: busy_server.health()["workers"]["idle"] == 1)  # type: ignore[index]
    assert httpx.get(busy_server.sparql, params={"query": "ASK {}"}).json() == {"boolean": True, "head": {}}

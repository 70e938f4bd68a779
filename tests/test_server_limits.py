"""Hostile or careless queries against a live server: the deadline really stops a query
while others are answered, the row and byte caps, the body cap, back-pressure, fair sharing
between clients, an honest /health, and no 500s."""

from __future__ import annotations

import os
import signal
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import rdflib

from conftest import (
    ENDPOINT_ROOT,
    ENDPOINT_SETTINGS,
    EXPLOSIVE,
    QUERY_PREFIXES,
    LiveServer,
    alive,
    private_mib,
    select,
    status_mib,
    wait_until,
)

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
    # ... while the runaway query still runs (the bound is loose: the machine may be loaded).
    assert time.monotonic() - started < 1.0
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


# -- issue 8: bytes, fair sharing, bounded waits, health ----------------------------------

# Five columns of long literals (2 KB to 512 KB a row), 57 x 57 rows: 2.2 GB, or 341 MB at a
# 500-row cap.
LONG_BINDINGS = (
    "?s ?p ?o . ?x ?y ?z "
    f'BIND("{"L" * 2000}" AS ?a) BIND(CONCAT(?a, ?a, ?a, ?a) AS ?b) BIND(CONCAT(?b, ?b, ?b, ?b) AS ?c) '
    "BIND(CONCAT(?c, ?c, ?c, ?c) AS ?d)"
)
LONG_LITERALS = f"SELECT ?a ?b ?c ?d ?e {{ {LONG_BINDINGS} BIND(CONCAT(?d, ?d, ?d, ?d) AS ?e) }}"
# The same literals in a graph, every triple distinct: 3249 triples of 512 KB.
LONG_TRIPLES = (
    f"CONSTRUCT {{ ?s ?p ?f }} WHERE {{ {LONG_BINDINGS} "
    "BIND(CONCAT(STR(?o), STR(?x), STR(?y), STR(?z), ?d, ?d, ?d, ?d) AS ?f) }"
)
BYTE_CAP = 32 * 1024 * 1024  # the default Settings.max_response_bytes
SMALL_CAP = 4 * 1024 * 1024
ROW_BYTES = 2000 * (1 + 4 + 16 + 64 + 256)


# Plain HTTP on loopback uses no TLS; one context spares each client building its own (~90 ms).
UNUSED_TLS = ssl.create_default_context()


def client_from(address: str, timeout: float = 30.0) -> httpx.Client:
    """An HTTP client whose connections come from ``address`` (any of 127.0.0.0/8 is loopback)."""
    return httpx.Client(transport=httpx.HTTPTransport(local_address=address, verify=UNUSED_TLS), timeout=timeout)


@pytest.fixture(scope="module")
def default_server(live_server_factory: Callable[..., LiveServer]) -> LiveServer:
    """The endpoint with every limit at its default (10 s deadline, 32 MiB byte cap)."""
    return live_server_factory(root=ENDPOINT_ROOT)


def test_long_literals_are_cut_at_the_byte_cap_with_the_truncation_headers(default_server: LiveServer) -> None:
    server_before = status_mib(default_server.process.pid, "VmRSS")
    workers_before = {pid: private_mib(pid) for pid in default_server.worker_pids()}

    def oversized() -> httpx.Response:
        return httpx.get(default_server.sparql, params={"query": LONG_LITERALS}, timeout=60)

    # Three at once, so both workers and the server carry oversized answers together.
    answers = [in_background(oversized) for _ in range(2)]
    response = oversized()
    for thread, outcome in answers:
        thread.join(60)
        other = outcome["response"]
        assert isinstance(other, httpx.Response)
        assert other.content == response.content
    assert response.status_code == 200, response.text
    assert response.headers["x-mqmkg-truncated"] == "true"
    assert response.headers["x-mqmkg-truncated-by"] == "bytes"
    assert response.headers["x-mqmkg-byte-limit"] == str(BYTE_CAP)
    assert response.headers["x-mqmkg-row-limit"] == "10000"
    assert len(response.content) <= BYTE_CAP
    bindings = response.json()["results"]["bindings"]
    assert len(bindings) == int(response.headers["x-mqmkg-rows"]) == BYTE_CAP // (ROW_BYTES + 160)
    assert {len(bindings[0][v]["value"]) for v in "abcde"} == {2000, 8000, 32000, 128000, 512000}
    # A worker that answered holds at most the capped body it sent (before the cap, one
    # stayed at 1.15 GB), and the server gave back the memory the answers took in passing.
    cap_mib = BYTE_CAP / 2**20
    for pid, before in workers_before.items():
        assert private_mib(pid) < before + 1.2 * cap_mib
    assert status_mib(default_server.process.pid, "VmRSS") < server_before + cap_mib
    complete = httpx.get(default_server.sparql, params={"query": "SELECT * { ?s ?p ?o }"})
    assert "x-mqmkg-truncated-by" not in complete.headers
    assert complete.headers["x-mqmkg-byte-limit"] == str(BYTE_CAP)


@pytest.fixture(scope="module")
def shared_server(live_server_factory: Callable[..., LiveServer]) -> LiveServer:
    """Three workers, two concurrent queries per client, a 3 s deadline, a 4 MiB byte cap; no result
    cache, so that every query here reaches the pool (a cached answer needs no worker, and is
    given even to a client over its share)."""
    return live_server_factory(
        root=ENDPOINT_ROOT,
        workers=3,
        client_max_queries=2,
        query_timeout=3,
        max_response_bytes=SMALL_CAP,
        result_cache=0,
    )


RDFLIB_FORMATS = {"nt": "nt", "ttl": "turtle", "jsonld": "json-ld", "rdfxml": "xml"}


@pytest.mark.parametrize("name", list(RDFLIB_FORMATS))
def test_long_literals_in_a_graph_are_cut_at_the_byte_cap_in_every_format(shared_server: LiveServer, name: str) -> None:
    graph = httpx.get(shared_server.sparql, params={"query": LONG_TRIPLES, "format": name}, timeout=60)
    assert graph.status_code == 200, graph.text
    assert (graph.headers["x-mqmkg-truncated"], graph.headers["x-mqmkg-truncated-by"]) == ("true", "bytes")
    assert graph.headers["x-mqmkg-byte-limit"] == str(SMALL_CAP)
    assert len(graph.content) <= SMALL_CAP
    parsed = rdflib.Graph().parse(data=graph.content, format=RDFLIB_FORMATS[name])
    assert len(parsed) == int(graph.headers["x-mqmkg-rows"]) == SMALL_CAP // 512_300  # 512 KB each


def test_a_client_over_its_share_gets_429_with_retry_after_and_others_are_served(shared_server: LiveServer) -> None:
    hog = client_from("127.0.0.31")
    threads = [in_background(lambda: hog.get(shared_server.sparql, params={"query": EXPLOSIVE}))[0] for _ in range(2)]
    assert wait_until(lambda: shared_server.health()["workers"]["busy"] == 2)  # type: ignore[index]
    started = time.monotonic()
    refused = hog.get(shared_server.sparql, params={"query": "ASK {}"})
    assert time.monotonic() - started < 1.0  # refused at once, not after a wait
    assert refused.status_code == 429
    assert refused.json()["error"] == "RateLimited"
    assert "already has 2 queries running or waiting" in refused.json()["detail"]
    assert refused.headers["retry-after"] == "1"
    with client_from("127.0.0.32") as other:
        assert other.get(shared_server.sparql, params={"query": "ASK {}"}).json() == {"boolean": True, "head": {}}
    for thread in threads:
        thread.join(30)
    assert hog.get(shared_server.sparql, params={"query": "ASK {}"}).status_code == 200  # room again
    hog.close()


def test_x_forwarded_for_names_the_client_only_from_a_trusted_proxy(shared_server: LiveServer) -> None:
    """127.0.0.1 is a trusted proxy by default (Settings.trusted_proxies); 127.0.0.33 is not."""
    as_proxy = {"X-Forwarded-For": "198.51.100.7"}

    def explode() -> httpx.Response:
        return httpx.get(shared_server.sparql, params={"query": EXPLOSIVE}, headers=as_proxy, timeout=30)

    threads = [in_background(explode)[0] for _ in range(2)]
    assert wait_until(lambda: shared_server.health()["workers"]["busy"] == 2)  # type: ignore[index]
    # The same forwarded client through the proxy is over its share ...
    assert httpx.get(shared_server.sparql, params={"query": "ASK {}"}, headers=as_proxy).status_code == 429
    # ... another forwarded client is not, nor the proxy's own requests ...
    other = {"X-Forwarded-For": "198.51.100.8"}
    assert httpx.get(shared_server.sparql, params={"query": "ASK {}"}, headers=other).status_code == 200
    assert httpx.get(shared_server.sparql, params={"query": "ASK {}"}).status_code == 200
    # ... and a peer that is no proxy cannot borrow that identity by sending the header.
    with client_from("127.0.0.33") as untrusted:
        assert untrusted.get(shared_server.sparql, params={"query": "ASK {}"}, headers=as_proxy).status_code == 200
    for thread in threads:
        thread.join(30)


def test_a_burst_of_cheap_queries_waits_and_is_served(live_server: LiveServer) -> None:
    """60 clients at once on two workers (16 could wait before; 12.7% got 503 at 50 clients)."""
    statuses: list[int] = []

    def client(i: int) -> None:
        with client_from(f"127.0.2.{i + 1}") as c:
            for _ in range(5):
                statuses.append(c.get(live_server.sparql, params={"query": QUERY_PREFIXES + SPLINTER}).status_code)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(60)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert statuses == [200] * 300


def test_health_is_degraded_with_503_as_soon_as_no_worker_can_serve(
    live_server_factory: Callable[..., LiveServer],
) -> None:
    server = live_server_factory(root=ENDPOINT_ROOT, workers=2)
    pids = server.worker_pids()
    for pid in pids:
        os.kill(pid, signal.SIGKILL)
    assert wait_until(lambda: not any(alive(pid) for pid in pids), 5.0)
    response = httpx.get(server.url + "/health")  # no query has run: the pool checked each process
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "degraded"
    assert (body["workers"]["idle"], body["workers"]["busy"]) == (0, 0)
    assert not set(pids) & set(body["workers"]["pids"])
    # The pool replaces them by itself, still without a query.
    assert wait_until(lambda: httpx.get(server.url + "/health").status_code == 200, 20.0)
    assert wait_until(lambda: server.health()["workers"]["idle"] == 2, 20.0)  # type: ignore[index]
    assert server.health()["workers"]["replaced"] == 2  # type: ignore[index]
    assert select(server, SPLINTER) == SPLINTER_ROWS

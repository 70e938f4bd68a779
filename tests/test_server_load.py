"""A bounded load test on loopback: 105 concurrent clients for 12 s against a two-worker
server, with runaway (cartesian) and oversized (long-literal) queries mixed in. The five
clients with costly queries join a second after the others, as on a server in use.

- 100 clients loop cheap queries, each from its own loopback address: every one is answered
  with the right result (no 5xx, no 429);
- 2 clients loop a runaway cartesian COUNT: each is stopped at its 2 s deadline (503
  QueryTimeout), or refused when the lane heavy clients share stays full (503 ServerBusy);
- 2 clients loop a SELECT of long literals: each answer is cut at the byte cap (8 MiB here,
  so that one is built well within the deadline on a loaded machine), or, once the client
  counts as heavy, may be refused while the lane heavy clients share stays full;
- 1 client sends bursts of 8 runaway queries at once: 4 (its share) are admitted, 4 refused
  with 429 and Retry-After;
- server and worker memory stay bounded (resident sizes read from /proc), and the store
  answers exactly as before (same triple count, same content hash).

The figures are printed for the issue's closing note.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import statistics
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import httpx
import pyoxigraph as ox
import pytest

from conftest import ENDPOINT_ROOT, EXPLOSIVE, LiveServer, run_async, status_mib, wait_until
from mqmkg.config import Settings
from mqmkg.export import canonical_quads, rdfc_sha256
from mqmkg.sparql.dataset import build_snapshot

pytestmark = pytest.mark.slow

DURATION = 12.0
JOIN_AFTER = 1.0  # seconds before the clients with costly queries start
DEADLINE = 2.0
NORMAL_CLIENTS = 100
BYTE_CAP = 8 * 1024 * 1024
SHARE = 4  # the default Settings.client_max_queries
BURST = 8

PREFIXES = "PREFIX kg: <https://w3id.org/mqmkg/id/> PREFIX mqm: <https://w3id.org/mqmkg/ontology#> "
LONG_LITERALS = (
    "SELECT ?a ?b ?c ?d ?e { ?s ?p ?o . ?x ?y ?z "
    f'BIND("{"L" * 2000}" AS ?a) BIND(CONCAT(?a, ?a, ?a, ?a) AS ?b) BIND(CONCAT(?b, ?b, ?b, ?b) AS ?c) '
    "BIND(CONCAT(?c, ?c, ?c, ?c) AS ?d) BIND(CONCAT(?d, ?d, ?d, ?d) AS ?e) }"
)
# Cheap queries and the exact JSON each must return.
NORMAL: list[tuple[str, object]] = [
    (
        PREFIXES + "SELECT ?a ?b { ?a mqm:splinterOf ?b }",
        {
            "head": {"vars": ["a", "b"]},
            "results": {
                "bindings": [
                    {
                        "a": {"type": "uri", "value": "https://w3id.org/mqmkg/id/mqm-h"},
                        "b": {"type": "uri", "value": "https://w3id.org/mqmkg/id/mqm"},
                    }
                ]
            },
        },
    ),
    (PREFIXES + "ASK { kg:mqm-h mqm:splinterOf kg:mqm }", {"boolean": True, "head": {}}),
    (PREFIXES + "ASK { kg:mqm mqm:splinterOf kg:mqm-h }", {"boolean": False, "head": {}}),
    (
        "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }",
        {
            "head": {"vars": ["n"]},
            "results": {
                "bindings": [
                    {"n": {"datatype": "http://www.w3.org/2001/XMLSchema#integer", "type": "literal", "value": "57"}}
                ]
            },
        },
    ),
]
ALL_QUADS = "SELECT ?g ?s ?p ?o { GRAPH ?g { ?s ?p ?o } } ORDER BY ?g ?s ?p ?o"


@dataclass(frozen=True)
class Outcome:
    """One response: which kind of client sent it, its status and error name, when it was asked
    and how long it took, whether it was the right answer, its headers and size."""

    kind: str
    client: str
    status: int
    error: str
    started: float
    seconds: float
    correct: bool
    headers: dict[str, str]
    size: int


def fingerprint(server: LiveServer) -> tuple[int, str]:
    """Return the store's quad count and RDFC-1.0 hash, from every quad the endpoint answers."""
    response = httpx.get(server.sparql, params={"query": ALL_QUADS, "format": "tsv"}, timeout=30)
    assert response.status_code == 200
    solutions = ox.parse_query_results(response.content, format=ox.QueryResultsFormat.TSV)
    assert isinstance(solutions, ox.QuerySolutions)
    quads = [ox.Quad(s, p, o, g) for g, s, p, o in solutions]  # type: ignore[misc]
    return len(quads), rdfc_sha256(canonical_quads(quads))


# Plain HTTP on loopback uses no TLS; one context spares each client building its own (~90 ms).
UNUSED_TLS = ssl.create_default_context()


def client_at(address: str) -> httpx.AsyncClient:
    """An HTTP client whose connections come from ``address`` (any of 127.0.0.0/8 is loopback)."""
    transport = httpx.AsyncHTTPTransport(local_address=address, verify=UNUSED_TLS)
    return httpx.AsyncClient(transport=transport, timeout=60)


async def ask(
    client: httpx.AsyncClient, server: LiveServer, kind: str, address: str, query: str, expected: object = None
) -> Outcome:
    """Send one query; ``expected`` is the JSON a correct answer holds (None: not checked)."""
    started = time.monotonic()
    response = await client.get(server.sparql, params={"query": query})
    seconds = time.monotonic() - started
    problem = response.headers.get("content-type") == "application/problem+json"
    error = response.json().get("error", "") if problem else ""
    correct = expected is not None and response.status_code == 200 and response.json() == expected
    headers = dict(response.headers)
    return Outcome(
        kind, address, response.status_code, error, started, seconds, correct, headers, len(response.content)
    )


async def normal_client(server: LiveServer, index: int, stop: float, out: list[Outcome]) -> None:
    address = f"127.0.3.{index + 1}"
    async with client_at(address) as client:
        turn = index
        while time.monotonic() < stop:
            query, expected = NORMAL[turn % len(NORMAL)]
            turn += 1
            out.append(await ask(client, server, "normal", address, query, expected))


async def looping_client(
    server: LiveServer, kind: str, address: str, query: str, stop: float, out: list[Outcome]
) -> None:
    await asyncio.sleep(JOIN_AFTER)
    async with client_at(address) as client:
        while time.monotonic() < stop:
            out.append(await ask(client, server, kind, address, query))


async def bursting_client(server: LiveServer, address: str, stop: float, out: list[Outcome]) -> None:
    await asyncio.sleep(JOIN_AFTER)
    async with client_at(address) as client:
        while time.monotonic() < stop:
            burst = await asyncio.gather(*(ask(client, server, "over-limit", address, EXPLOSIVE) for _ in range(BURST)))
            out.extend(burst)


async def load(server: LiveServer, sample: Callable[[], None]) -> list[Outcome]:
    out: list[Outcome] = []
    stop = time.monotonic() + DURATION

    async def sampler() -> None:
        while time.monotonic() < stop:
            await asyncio.to_thread(sample)
            await asyncio.sleep(0.5)

    await asyncio.gather(
        sampler(),
        *(normal_client(server, i, stop, out) for i in range(NORMAL_CLIENTS)),
        *(looping_client(server, "runaway", f"127.0.4.{i + 1}", EXPLOSIVE, stop, out) for i in range(2)),
        *(looping_client(server, "oversized", f"127.0.4.{i + 3}", LONG_LITERALS, stop, out) for i in range(2)),
        bursting_client(server, "127.0.4.5", stop, out),
    )
    return out


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def test_load_with_runaway_and_oversized_queries(
    live_server_factory: Callable[..., LiveServer], capsys: pytest.CaptureFixture[str]
) -> None:
    server = live_server_factory(root=ENDPOINT_ROOT, workers=2, query_timeout=DEADLINE, max_response_bytes=BYTE_CAP)
    store_before = fingerprint(server)
    built = ox.parse(build_snapshot(Settings(root=ENDPOINT_ROOT)).nquads, format=ox.RdfFormat.N_QUADS)
    expected = [q for q in built if not isinstance(q.graph_name, ox.DefaultGraph)]
    assert store_before == (len(expected), rdfc_sha256(canonical_quads(expected)))  # what it was built from
    server_before = status_mib(server.process.pid, "VmRSS")
    workers_before = {pid: status_mib(pid, "VmRSS") for pid in server.worker_pids()}
    peaks = {"server": server_before, "worker": max(workers_before.values())}

    def sample() -> None:
        peaks["server"] = max(peaks["server"], status_mib(server.process.pid, "VmRSS"))
        for pid in server.worker_pids():
            with contextlib.suppress(FileNotFoundError):  # killed at its deadline meanwhile
                peaks["worker"] = max(peaks["worker"], status_mib(pid, "VmRSS"))

    started = time.monotonic()
    outcomes = run_async(load(server, sample))
    wall = time.monotonic() - started

    assert wait_until(lambda: server.health()["workers"]["idle"] == 2, 20.0)  # type: ignore[index]
    health = server.health()["workers"]
    assert isinstance(health, dict)
    server_after = status_mib(server.process.pid, "VmRSS")
    server_peak = status_mib(server.process.pid, "VmHWM")
    workers_after = {pid: status_mib(pid, "VmRSS") for pid in server.worker_pids()}
    store_after = fingerprint(server)
    timeouts_logged = server.log().count(f"overran the {DEADLINE:g} s deadline")

    by_kind: dict[str, list[Outcome]] = {}
    for outcome in outcomes:
        by_kind.setdefault(outcome.kind, []).append(outcome)
    statuses = {kind: dict(Counter((o.status, o.error) for o in items)) for kind, items in by_kind.items()}
    normal = by_kind["normal"]
    latencies = [o.seconds for o in normal]
    first = min(o.started for o in outcomes)
    windows = []
    for low in range(0, int(DURATION), 3):
        window = [o.seconds for o in normal if low <= o.started - first < low + 3]
        if window:
            windows.append(
                f"{low}-{low + 3} s: {len(window)} asked, median {1000 * statistics.median(window):.0f} ms, "
                f"p95 {1000 * percentile(window, 0.95):.0f} ms"
            )
    with capsys.disabled():
        print(
            f"\n[load test] {len(outcomes)} requests in {wall:.1f} s from {NORMAL_CLIENTS + 5} clients "
            f"({len({o.client for o in normal})} normal clients answered)\n"
            f"[load test] statuses by client kind: {statuses}\n"
            f"[load test] normal queries: median {1000 * statistics.median(latencies):.0f} ms, "
            f"p95 {1000 * percentile(latencies, 0.95):.0f} ms, max {1000 * max(latencies):.0f} ms; "
            f"by when they were asked (costly clients join at {JOIN_AFTER:g} s): {'; '.join(windows)}\n"
            f"[load test] server RSS {server_before:.0f} MiB before, {server_after:.0f} MiB after, "
            f"peak {server_peak:.0f} MiB; worker RSS {sorted(round(v) for v in workers_before.values())} MiB "
            f"before, {sorted(round(v) for v in workers_after.values())} MiB after, sampled peak "
            f"{peaks['worker']:.0f} MiB; workers replaced {health['replaced']} (recycled {health['recycled']}); "
            f"deadline kills logged {timeouts_logged}\n"
            f"[load test] store: {store_before[0]} quads, RDFC-1.0 sha256 {store_before[1][:16]}… before; "
            f"{store_after[0]} quads, {store_after[1][:16]}… after"
        )

    # Every normal query was answered, correctly; every normal client was served.
    assert {(o.status, o.correct) for o in normal} == {(200, True)}
    assert len({o.client for o in normal}) == NORMAL_CLIENTS
    # Runaway queries were stopped at their deadline, or refused while their lane was full.
    runaway = by_kind["runaway"] + [o for o in by_kind["over-limit"] if o.status != 429]
    assert {(o.status, o.error) for o in runaway} <= {(503, "QueryTimeout"), (503, "ServerBusy")}
    stopped = [o for o in runaway if o.error == "QueryTimeout"]
    assert len(stopped) >= 3
    assert all(o.seconds >= DEADLINE for o in stopped)
    assert timeouts_logged == len(stopped)
    # Oversized answers were cut at the byte cap.
    answered = [o for o in by_kind["oversized"] if o.status == 200]
    assert answered
    for o in answered:
        assert (o.headers["x-mqmkg-truncated-by"], o.headers["x-mqmkg-byte-limit"]) == ("bytes", str(BYTE_CAP))
        assert BYTE_CAP - 700_000 < o.size <= BYTE_CAP  # rows of 682 KB: as many as fit
    assert {(o.status, o.error) for o in by_kind["oversized"]} - {(200, "")} <= {
        (503, "ServerBusy"),
        (503, "QueryTimeout"),
    }
    # 429 for the client over its share only: each burst of 8 had 4 admitted and 4 refused.
    refused = [o for o in outcomes if o.status == 429]
    assert {o.kind for o in refused} == {"over-limit"}
    assert len(refused) == (BURST - SHARE) * (len(by_kind["over-limit"]) // BURST)
    assert all(o.headers["retry-after"].isdigit() for o in refused)
    # Memory stayed bounded: the server holds a few capped bodies at most, and gives them back.
    assert server_peak - server_before < 20 * BYTE_CAP / 2**20
    assert server_after - server_before < 4 * BYTE_CAP / 2**20
    assert peaks["worker"] < 512
    assert all(size < 200 for size in workers_after.values())
    # The store is unchanged.
    assert store_after == store_before

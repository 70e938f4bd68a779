"""Shared fixtures: a real mqmkg server on a free loopback port, and local stand-ins for the
network (a SPARQL endpoint playing Wikidata, a listener that records connection attempts, a
tarpit that accepts and never answers).

Reuse: ``live_server_factory(root=..., query_timeout="2", ...)`` starts ``python -m mqmkg
serve`` with those settings (as ``MQMKG_*`` environment variables) and stops it, by its PID,
at the end of the session; ``live_server`` is one such server on ``tests/fixtures/endpoint``.
Nothing here reaches beyond 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import httpx
import pyoxigraph as ox
import pytest

from browser import browser_page, chromium  # noqa: F401  (fixtures for the browser tests)

T = TypeVar("T")
ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
ENDPOINT_ROOT = FIXTURES / "endpoint"
OXIGRAPH = Path(sys.executable).parent / "oxigraph"

# Short deadlines keep the suite fast; the SERVICE timeout is shorter than the query one so
# a test can tell them apart.
ENDPOINT_SETTINGS = {
    "query_timeout": "1.5",
    "service_timeout": "1.0",
    "max_rows": "500",
    "max_body_bytes": "65536",
    "workers": "2",
}

WIKIDATA_STANDIN_TTL = """\
@prefix wd: <http://www.wikidata.org/entity/> .
@prefix wdt: <http://www.wikidata.org/prop/direct/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .

wd:Q8660 rdfs:label "Karachi"@en ; wdt:P1082 "14910352"^^xsd:decimal .
wd:Q2840298 rdfs:label "Altaf Hussain"@en .
wd:Q186591 rdfs:label "Pakistan Peoples Party"@en .
"""


def run_async(coroutine: Coroutine[object, object, T]) -> T:
    """Run a coroutine to completion on a fresh event loop in its own thread.

    Playwright's sync API (the session's ``chromium``) keeps an event loop marked as running
    in the main thread, where ``asyncio.run`` would refuse to start.
    """
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def alive(pid: int) -> bool:
    """Tell whether a process exists and is not a zombie (Linux ``/proc``)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except (FileNotFoundError, ProcessLookupError):  # gone, or reaped between open and read
        return False
    return state != "Z"


# Six unconstrained triple patterns: a cartesian product far past any deadline, on any graph here.
EXPLOSIVE = "SELECT (COUNT(*) AS ?n) { " + " . ".join(f"?s{i} ?p{i} ?o{i}" for i in range(6)) + " }"


def status_mib(pid: int, field: str) -> float:
    """Return a /proc/PID/status memory field (VmRSS, VmHWM) in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no {field} for process {pid}")


def private_mib(pid: int) -> float:
    """Return the memory a process holds alone (private clean and dirty pages), in MiB.

    Workers are forked from a zygote that holds the store: the pages they share with it become
    resident in a worker as a query reads them, which its RSS counts but which cost nothing.
    """
    fields = Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()
    kib = sum(int(line.split()[1]) for line in fields if line.startswith(("Private_Clean:", "Private_Dirty:")))
    return kib / 1024


def wait_until(predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
    """Poll ``predicate`` every 50 ms until it holds or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def free_port() -> int:
    """Return a TCP port that is free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(url: str, process: subprocess.Popen[bytes], timeout: float, describe: Callable[[], str]) -> None:
    """Poll ``url`` until it answers 200; fail early if ``process`` exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode}:\n{describe()}")
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{url} not up after {timeout} s:\n{describe()}")


def stop_process(process: subprocess.Popen[bytes], grace: float = 15.0) -> int:
    """Stop a process we started: SIGTERM, then SIGKILL after ``grace`` seconds."""
    if process.poll() is None:
        os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait(5)
    return int(process.returncode)


@dataclass
class LiveServer:
    """A running ``mqmkg serve`` subprocess."""

    url: str
    process: subprocess.Popen[bytes]
    log_path: Path
    settings: dict[str, str]

    @property
    def sparql(self) -> str:
        return self.url + "/sparql"

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def health(self) -> dict[str, object]:
        response = httpx.get(self.url + "/health", timeout=5)
        data: dict[str, object] = response.json()
        return data

    def worker_pids(self) -> list[int]:
        workers = self.health()["workers"]
        assert isinstance(workers, dict)
        return list(workers["pids"])

    def stop(self) -> int:
        return stop_process(self.process)


def start_live_server(
    settings: dict[str, str], log_path: Path, timeout: float = 60.0, ready: str = "/health"
) -> LiveServer:
    """Start ``python -m mqmkg serve`` on a free port with ``MQMKG_*`` settings; wait until ``ready`` answers 200."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MQMKG_")}
    env.update({f"MQMKG_{name.upper()}": str(value) for name, value in settings.items()})
    env.update({"MQMKG_HOST": "127.0.0.1", "MQMKG_PORT": str(port), "PYTHONUNBUFFERED": "1"})
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "mqmkg", "serve"], env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT
        )
    server = LiveServer(f"http://127.0.0.1:{port}", process, log_path, dict(settings))
    try:
        wait_for(server.url + ready, process, timeout, server.log)
    except BaseException:
        server.stop()
        raise
    return server


@pytest.fixture(scope="session")
def live_server_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., LiveServer]]:
    """Start servers with given settings (``root=...``, ``workers="1"``, …); stop them all at the end."""
    started: list[LiveServer] = []

    def start(**settings: object) -> LiveServer:
        log_path = tmp_path_factory.mktemp("server") / "server.log"
        server = start_live_server({k: str(v) for k, v in settings.items()}, log_path)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@dataclass
class Listener:
    """A loopback TCP listener that records every connection; a tarpit never answers them."""

    tarpit: bool = False
    sock: socket.socket = field(default_factory=socket.socket)
    connections: list[bytes] = field(default_factory=list)
    held: list[socket.socket] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.1)
        self.port = int(self.sock.getsockname()[1])
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def url(self, path: str = "/sparql") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(0.5)
            try:
                data = conn.recv(4096)
            except OSError:
                data = b""
            self.connections.append(data)
            if self.tarpit:
                self.held.append(conn)
            else:
                conn.close()

    def close(self) -> None:
        self._stop.set()
        self.thread.join(2)
        for conn in self.held:
            conn.close()
        self.sock.close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    """A fresh listener: assert ``listener.connections == []`` to prove nothing reached it."""
    item = Listener()
    yield item
    item.close()


@pytest.fixture(scope="session")
def tarpit() -> Iterator[Listener]:
    """A listener that accepts connections and never answers (a hung SERVICE endpoint)."""
    item = Listener(tarpit=True)
    yield item
    item.close()


@dataclass(frozen=True)
class StandIn:
    """A local ``oxigraph serve`` process standing in for the Wikidata Query Service."""

    query_url: str
    process: subprocess.Popen[bytes]


def start_oxigraph(
    directory: Path, data: Path | None = None, port: int | None = None
) -> tuple[str, subprocess.Popen[bytes]]:
    """Start ``oxigraph serve`` (read-write) on a free port with a store in ``directory``, loaded
    with ``data`` if given; return its base URL (``/query``, ``/store``, ``/update`` below it)
    and its process, which the caller stops with ``stop_process``."""
    location = directory / "store"
    if data is not None:
        subprocess.run(
            [str(OXIGRAPH), "load", "--location", str(location), "--file", str(data)],
            check=True,
            capture_output=True,
            timeout=60,
        )
    port = port or free_port()
    log_path = directory / "oxigraph.log"
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [str(OXIGRAPH), "serve", "--location", str(location), "--bind", f"127.0.0.1:{port}"],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(base + "/query?query=ASK%7B%7D", process, 30, lambda: log_path.read_text())
    except BaseException:
        stop_process(process)
        raise
    return base, process


@pytest.fixture(scope="session")
def wikidata_standin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StandIn]:
    """Start ``oxigraph serve`` on a free port, loaded with a few Wikidata-shaped triples."""
    directory = tmp_path_factory.mktemp("wikidata-standin")
    data = directory / "wikidata.ttl"
    data.write_text(WIKIDATA_STANDIN_TTL, encoding="utf-8")
    base, process = start_oxigraph(directory, data)
    try:
        yield StandIn(base + "/query", process)
    finally:
        stop_process(process)


@pytest.fixture(scope="session")
def live_server(
    live_server_factory: Callable[..., LiveServer], wikidata_standin: StandIn, tarpit: Listener
) -> LiveServer:
    """The endpoint on ``tests/fixtures/endpoint``: 1.5 s deadline, 1 s SERVICE timeout,
    500-row cap, 64 KiB body cap, two workers; SERVICE may call the Wikidata stand-in and
    the tarpit only."""
    return live_server_factory(
        root=ENDPOINT_ROOT,
        service_allowlist=f"{wikidata_standin.query_url},{tarpit.url()}",
        **ENDPOINT_SETTINGS,
    )


@pytest.fixture(scope="session")
def project_store() -> ox.Store:
    """The curated dataset in-process, as the query workers hold it (union of graphs as default graph)."""
    from mqmkg.config import Settings
    from mqmkg.sparql.dataset import load_store, snapshot_of
    from mqmkg.store import build_store

    return load_store(snapshot_of(build_store(Settings(root=ROOT))).nquads)


@pytest.fixture(scope="session")
def project_server(live_server_factory: Callable[..., LiveServer], wikidata_standin: StandIn) -> LiveServer:
    """The server on the real curated graph (the project root), two workers; the federated
    canned queries call the Wikidata stand-in, the only endpoint on the allow-list."""
    return live_server_factory(
        root=ROOT,
        wikidata_endpoint=wikidata_standin.query_url,
        service_allowlist=wikidata_standin.query_url,
        workers="2",
    )


# -- helpers for SPARQL tests -------------------------------------------------------------

KG = "https://w3id.org/mqmkg/id/"
GRAPH = "https://w3id.org/mqmkg/graph/"
QUERY_PREFIXES = """PREFIX kg: <https://w3id.org/mqmkg/id/>
PREFIX mqm: <https://w3id.org/mqmkg/ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX owl: <http://www.w3.org/2002/07/owl#>
PREFIX wdt: <http://www.wikidata.org/prop/direct/>
"""


def json_rows(response: httpx.Response) -> list[dict[str, str]]:
    """Return SPARQL JSON bindings as ``{variable: value}`` rows (values only)."""
    assert response.status_code == 200, response.text
    bindings = response.json()["results"]["bindings"]
    return [{name: term["value"] for name, term in row.items()} for row in bindings]


def select(server: LiveServer, query: str, **params: str) -> list[dict[str, str]]:
    """Run a SELECT with the test prefixes by GET and return its rows."""
    response = httpx.get(server.sparql, params={"query": QUERY_PREFIXES + query, **params}, timeout=30)
    return json_rows(response)


def send_query(server: LiveServer, how: str, query: str) -> httpx.Response:
    """Send a query the three ways the protocol allows: ``GET``, ``form`` POST or ``direct`` POST."""
    if how == "GET":
        return httpx.get(server.sparql, params={"query": query}, timeout=30)
    if how == "form":
        return httpx.post(server.sparql, data={"query": query}, timeout=30)
    return httpx.post(
        server.sparql, content=query.encode(), headers={"Content-Type": "application/sparql-query"}, timeout=30
    )

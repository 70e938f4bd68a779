"""The servers a benchmark compares, each started on a free loopback port and stopped by its PID.

- ``mqmkg``: ``python -m mqmkg serve`` on the benchmark's root, every protection on (worker
  pool, deadline, row cap, access log), the result cache off: the uncached figures;
- ``mqmkg-cached``: the same with the result cache on (1024 answers): the cached figures;
- ``oxigraph``: native ``oxigraph serve-read-only`` on a disk store made by ``oxigraph load``;
- ``bare``: FastAPI + pyoxigraph with no pool and no limits (``bench/bare_app.py``);
- ``rdflib``: rdflib-endpoint over the same default graph (``bench/rdflib_app.py``).

Each holds the same data: the named graphs plus their union as the default graph, as the
mqmkg workers hold it. mqmkg runs with its store in memory, or with ``--store DIR`` when a
store directory is given (the L size). Memory is the peak, over the run, of the summed
proportional set size (PSS) of the process and its children, sampled every 0.2 s: pages
that forked workers share with their parent are counted once, not once per process.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
MQMKG_PEERS = {"mqmkg": "0", "mqmkg-cached": "1024"}  # the result cache's entries
# wrk's connections, all from one address: mqmkg lets that one client have as many queries
# in flight (its default, 4 per client, would answer the rest 429: a policy, not a cost).
CONNECTIONS = 16


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Dataset:
    """The files one benchmark size needs: a project root for mqmkg and dumps for the peers."""

    size: str
    root: Path
    nquads: Path
    ntriples: Path
    triples: int


def tree(pid: int) -> list[int]:
    """Return a process and all its descendants (Linux ``/proc``)."""
    found = [pid]
    for child in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            text = child.read_text()
        except OSError:
            continue
        for item in text.split():
            found.extend(tree(int(item)))
    return found


def cpu_seconds(pid: int) -> float:
    """Return the CPU time a process and its descendants have used so far (user and system)."""
    total = 0
    for each in tree(pid):
        try:
            fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def pss_kb(pid: int) -> int:
    """Return a process's proportional set size in KiB (0 if it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        return 0
    return 0


@dataclass
class Running:
    """A started peer: its name, process, query URL, and how long it took to answer first."""

    name: str
    process: subprocess.Popen[bytes]
    url: str
    cold_start: float
    load_time: float
    peak_kb: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        threading.Thread(target=self._sample, name=f"pss-{self.name}", daemon=True).start()

    def _sample(self) -> None:
        while not self._stop.wait(0.2):
            self.peak_kb = max(self.peak_kb, sum(pss_kb(pid) for pid in tree(self.process.pid)))

    @property
    def peak_mb(self) -> float:
        return self.peak_kb / 1024

    def settle(self, limit: float = 30.0) -> bool:
        """Wait until the peer is idle (under 5% of a core over 0.3 s): requests a load test gave
        up on may still be running in it. Return False if it was still busy after ``limit`` s."""
        end = time.monotonic() + limit
        while time.monotonic() < end:
            before = cpu_seconds(self.process.pid)
            time.sleep(0.3)
            if cpu_seconds(self.process.pid) - before < 0.015:
                return True
        return False

    def stop(self) -> None:
        self._stop.set()
        stop(self.process)


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop a process we started: SIGTERM, then SIGKILL after 15 s."""
    if process.poll() is None:
        os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait(5)


def wait_first_answer(name: str, process: subprocess.Popen[bytes], url: str, probe: str, log: Path) -> float:
    """Poll ``url`` with the probe query every 5 ms until it answers 200; return when it did."""
    started = time.monotonic()
    with httpx.Client(timeout=30) as client:
        while time.monotonic() - started < 1200:
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited with {process.returncode}: {log.read_text()[-2000:]}")
            try:
                answer = client.get(url, params={"query": probe}, headers={"Accept": "application/sparql-results+json"})
                if answer.status_code == 200 and answer.json()["results"]["bindings"]:
                    return time.monotonic()
            except (httpx.HTTPError, ValueError, KeyError):
                pass
            time.sleep(0.005)
    raise RuntimeError(f"{name} gave no answer in 1200 s")


def oxigraph_store(data: Dataset, work: Path) -> tuple[Path, float]:
    """Return the native store for ``data`` (made by ``oxigraph load`` once) and the seconds the load took."""
    location = work / "oxigraph-store"
    timing = work / "oxigraph-load-seconds"
    if not location.exists():
        began = time.monotonic()
        subprocess.run(
            [str(BIN / "oxigraph"), "load", "--location", str(location), "--file", str(data.nquads)],
            check=True,
            capture_output=True,
        )
        timing.write_text(f"{time.monotonic() - began:.3f}")
    return location, float(timing.read_text())


def command_of(
    name: str, data: Dataset, work: Path, port: int, store_dir: Path | None
) -> tuple[list[str], dict[str, str], str, float]:
    """Return how to start a peer: command, environment, query URL, and its load time if separate."""
    if name in MQMKG_PEERS:
        settings = {
            "MQMKG_ROOT": str(data.root),
            "MQMKG_PORT": str(port),
            "MQMKG_HOST": "127.0.0.1",
            "MQMKG_RESULT_CACHE": MQMKG_PEERS[name],
            "MQMKG_CLIENT_MAX_QUERIES": str(CONNECTIONS),
        }
        if store_dir is not None:
            settings["MQMKG_STORE_PATH"] = str(store_dir)
        environment = {k: v for k, v in os.environ.items() if not k.startswith("MQMKG_")} | settings
        return [sys.executable, "-m", "mqmkg", "serve"], environment, f"http://127.0.0.1:{port}/sparql", 0.0
    if name == "oxigraph":
        location, load_time = oxigraph_store(data, work)
        command = [str(BIN / "oxigraph"), "serve-read-only", "--location", str(location), "--bind", f"127.0.0.1:{port}"]
        return command, dict(os.environ), f"http://127.0.0.1:{port}/query", load_time
    if name == "bare":
        command = [sys.executable, str(HERE / "bare_app.py"), str(data.nquads), str(port)]
        return command, dict(os.environ), f"http://127.0.0.1:{port}/sparql", 0.0
    if name == "rdflib":
        command = [sys.executable, str(HERE / "rdflib_app.py"), str(data.ntriples), str(port)]
        return command, dict(os.environ), f"http://127.0.0.1:{port}/sparql", 0.0
    raise ValueError(f"unknown peer {name}")


def start(name: str, data: Dataset, work: Path, probe: str, store_dir: Path | None = None) -> Running:
    """Start one peer on ``data`` and wait for its first answer to ``probe`` (the cold start)."""
    port = free_port()
    command, environment, url, load_time = command_of(name, data, work, port, store_dir)
    log = work / f"{name}.log"
    began = time.monotonic()
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=environment, stdout=out, stderr=subprocess.STDOUT)
    try:
        answered = wait_first_answer(name, process, url, probe, log)
    except BaseException:
        stop(process)
        raise
    return Running(name, process, url, answered - began, load_time)

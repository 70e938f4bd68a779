"""The servers a benchmark compares, each started on a free loopback port and stopped by its PID.

- ``mqmkg``: ``python -m mqmkg serve`` on the benchmark's root, every protection on (worker
  pool, deadline, row and byte caps, access log), the result cache off unless asked for;
- ``oxigraph``: native ``oxigraph serve-read-only`` on a disk store made by ``oxigraph load``;
- ``bare``: FastAPI + pyoxigraph with no pool and no limits (``bench/bare_app.py``);
- ``rdflib``: rdflib-endpoint over the same default graph (``bench/rdflib_app.py``).

Each holds the same data: the named graphs plus their union as the default graph, as the
mqmkg workers hold it.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent


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


@dataclass
class Running:
    """A started peer: its name, process, query URL, and how long it took to answer first."""

    name: str
    process: subprocess.Popen[bytes]
    url: str
    cold_start: float
    load_time: float

    def rss_peak_mb(self) -> float:
        """Return the summed peak RSS (VmHWM) of the process and its children, in MiB."""
        return sum(_hwm_kb(pid) for pid in _tree(self.process.pid)) / 1024

    def stop(self) -> None:
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait(5)


def _tree(pid: int) -> list[int]:
    found = [pid]
    for child in Path(f"/proc/{pid}/task").glob("*/children"):
        for text in child.read_text().split():
            found.extend(_tree(int(text)))
    return found


def _hwm_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        return 0
    return 0


def _wait_first_answer(name: str, process: subprocess.Popen[bytes], url: str, probe: str, log: Path) -> float:
    started = time.monotonic()
    while time.monotonic() - started < 600:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with {process.returncode}: {log.read_text()[-2000:]}")
        try:
            answer = httpx.get(url, params={"query": probe}, headers={"Accept": "application/sparql-results+json"})
            if answer.status_code == 200:
                return time.monotonic()
        except httpx.HTTPError:
            pass
        time.sleep(0.005)
    raise RuntimeError(f"{name} gave no answer in 600 s")


def start(name: str, data: Dataset, work: Path, probe: str, env: dict[str, str] | None = None) -> Running:
    """Start one peer on ``data`` and wait for its first answer to ``probe`` (the cold start)."""
    port = free_port()
    log = work / f"{name}.log"
    load_time = 0.0
    if name == "mqmkg":
        settings = {"MQMKG_ROOT": str(data.root), "MQMKG_PORT": str(port), "MQMKG_HOST": "127.0.0.1"}
        environment = {k: v for k, v in os.environ.items() if not k.startswith("MQMKG_")} | settings | (env or {})
        command = [sys.executable, "-m", "mqmkg", "serve"]
        url = f"http://127.0.0.1:{port}/sparql"
    elif name == "oxigraph":
        location = work / "oxigraph-store"
        if not location.exists():
            began = time.monotonic()
            subprocess.run(
                [str(BIN / "oxigraph"), "load", "--location", str(location), "--file", str(data.nquads)],
                check=True,
                capture_output=True,
            )
            load_time = time.monotonic() - began
        command = [str(BIN / "oxigraph"), "serve-read-only", "--location", str(location), "--bind", f"127.0.0.1:{port}"]
        environment = dict(os.environ)
        url = f"http://127.0.0.1:{port}/query"
    elif name == "bare":
        command = [sys.executable, str(HERE / "bare_app.py"), str(data.nquads), str(port)]
        environment = dict(os.environ)
        url = f"http://127.0.0.1:{port}/sparql"
    elif name == "rdflib":
        command = [sys.executable, str(HERE / "rdflib_app.py"), str(data.ntriples), str(port)]
        environment = dict(os.environ)
        url = f"http://127.0.0.1:{port}/sparql"
    else:
        raise ValueError(f"unknown peer {name}")
    began = time.monotonic()
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=environment, stdout=out, stderr=subprocess.STDOUT)
    try:
        answered = _wait_first_answer(name, process, url, probe, log)
    except BaseException:
        if process.poll() is None:
            process.kill()
            process.wait(5)
        raise
    return Running(name, process, url, answered - began, load_time)

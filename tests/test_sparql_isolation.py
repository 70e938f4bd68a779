"""The second barrier, without the guard: a worker's own kernel-enforced network limits stop
the engine's SERVICE calls that the query text asks for. Each case runs in a fresh process
(namespaces and Landlock cannot be undone) against loopback canaries that count connections."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import ENDPOINT_ROOT, ROOT, Listener
from mqmkg.config import Settings
from mqmkg.sparql.dataset import build_snapshot
from mqmkg.sparql.isolation import endpoint_ports
from mqmkg.sparql.pool import WorkerPool
from mqmkg.sparql.worker import Federated, Job, Refusal

PROBE = textwrap.dedent(
    """
    import sys, threading
    import pyoxigraph as ox
    from mqmkg.sparql.worker import isolate

    if sys.argv[1] == "threaded":
        threading.Thread(target=threading.Event().wait, args=(5,), daemon=True).start()
    isolation = isolate(sys.argv[2] == "network", tuple(sys.argv[3].split(",")) if sys.argv[3] else ())
    print(isolation.enforced, isolation.detail, flush=True)
    for url in sys.argv[4:]:
        try:
            list(ox.Store().query("SELECT * { SERVICE <" + url + "> { ?s ?p ?o } }"))
            print("answered", flush=True)
        except OSError as exc:
            print("refused:", exc, flush=True)
    """
)


def probe(mode: str, network: bool, allowlist: tuple[str, ...], *urls: str) -> list[str]:
    completed = subprocess.run(
        [sys.executable, "-c", PROBE, mode, "network" if network else "none", ",".join(allowlist), *urls],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert completed.returncode == 0, completed.stderr
    return completed.stdout.splitlines()


def test_a_worker_without_network_reaches_nothing_not_even_loopback(listener: Listener) -> None:
    lines = probe("single", False, (), listener.url(), "http://localhost:8080/x", "http://query.wikidata.org/x")
    assert lines[0] == "True no network: own empty network namespace (loopback down, every connection refused)"
    assert lines[1:3] == ["refused: Network is unreachable (os error 101)"] * 2
    assert lines[3].startswith("refused: failed to lookup address information")  # no DNS either
    assert listener.connections == []


def test_a_federated_worker_reaches_only_the_allow_listed_ports(listener: Listener) -> None:
    allowed = Listener()
    try:
        lines = probe("single", True, (allowed.url(),), listener.url(), allowed.url())
        assert (
            lines[0] == f"True network limited by Landlock to TCP port(s) {allowed.port} (the allow-listed endpoints)"
        )
        assert lines[1] == "refused: Permission denied (os error 13)"
        assert lines[2].startswith("refused:")  # the allowed endpoint answered nothing usable
        assert listener.connections == []
        assert len(allowed.connections) == 1 and allowed.connections[0].startswith(b"POST /sparql HTTP/1.1")
    finally:
        allowed.close()


def test_isolation_that_cannot_hold_says_so() -> None:
    # Namespaces and Landlock domains are per thread: a process already running threads
    # cannot be cut off as a whole, and the worker reports it rather than pretending.
    (local,) = probe("threaded", False, ())
    assert local == "False not isolated: the worker already runs threads (namespaces are per thread)"
    (federated,) = probe("threaded", True, ("https://query.wikidata.org/sparql",))
    assert federated == "False not limited: the worker already runs threads (Landlock is per thread)"


def test_endpoint_ports() -> None:
    assert endpoint_ports(("https://query.wikidata.org/sparql", "http://a/", "http://b:8080/x", "ftp://c/")) == (
        80,
        443,
        8080,
    )


SETPRIV = shutil.which("setpriv")
SYSTEM_PYTHON = Path("/usr/bin/python3")


@pytest.mark.skipif(
    os.geteuid() != 0 or SETPRIV is None or not SYSTEM_PYTHON.exists(),
    reason="needs root to drop to an unprivileged user, setpriv and /usr/bin/python3",
)
def test_an_unprivileged_worker_isolates_itself_through_a_user_namespace() -> None:
    # The module needs only the standard library: a copy that "nobody" may read runs as nobody.
    directory = Path(tempfile.mkdtemp(prefix="mqmkg-unprivileged-"))
    try:
        directory.chmod(0o755)
        shutil.copy(ROOT / "src" / "mqmkg" / "sparql" / "isolation.py", directory / "isolation.py")
        (directory / "isolation.py").chmod(0o644)
        code = "import isolation; print(isolation.cut_network().detail)"
        completed = subprocess.run(
            [str(SETPRIV), "--reuid=65534", "--regid=65534", "--clear-groups", str(SYSTEM_PYTHON), "-c", code],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=directory,
        )
    finally:
        shutil.rmtree(directory)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == (
        "no network: own empty user and network namespace (loopback down, every connection refused)"
    )


@pytest.fixture(scope="module")
def lanes() -> Iterator[tuple[WorkerPool, Listener]]:
    """A pool with one worker of each kind; the federated one may reach one loopback port."""
    allowed = Listener()
    pool = WorkerPool(
        build_snapshot(Settings(root=ENDPOINT_ROOT)).nquads,
        1,
        memory_mb=1024,
        federated=1,
        allowlist=(allowed.url(),),
        require_isolation=True,
    )
    pool.start()
    yield pool, allowed
    pool.close()
    allowed.close()


def service_job(url: str, allowlist: tuple[str, ...]) -> Job:
    return Job(f"SELECT * {{ SERVICE <{url}> {{ ?s ?p ?o }} }}", None, None, None, "json", None, 10, allowlist)


def test_pool_lanes_report_their_isolation(lanes: tuple[WorkerPool, Listener]) -> None:
    pool, allowed = lanes
    assert pool.status().isolation.startswith("no network: own empty network namespace")
    federated = pool.status(network=True)
    assert (federated.size, len(federated.pids)) == (1, 1)
    assert (
        federated.isolation == f"network limited by Landlock to TCP port(s) {allowed.port} (the allow-listed endpoints)"
    )


def test_a_worker_without_network_hands_federated_queries_on(
    lanes: tuple[WorkerPool, Listener], listener: Listener
) -> None:
    pool, _ = lanes
    # Even with the canary on the job's allow-list, a worker without network does not run it.
    assert pool.run(service_job(listener.url(), (listener.url(),)), 10) == Federated((listener.url(),))
    assert listener.connections == []


def test_a_fooled_guard_still_cannot_reach_another_port(lanes: tuple[WorkerPool, Listener], listener: Listener) -> None:
    pool, allowed = lanes
    # As if the guard had been fooled into approving the canary: the kernel still says no.
    reply = pool.run(service_job(listener.url(), (listener.url(),)), 10, network=True)
    assert reply == Refusal("service-failed", "Permission denied (os error 13)")
    assert listener.connections == []
    # The port the pool allowed is reachable (the listener answers nothing a SPARQL client can use).
    reply = pool.run(service_job(allowed.url(), (allowed.url(),)), 10, network=True)
    assert isinstance(reply, Refusal) and reply.error == "service-failed"
    assert len(allowed.connections) == 1

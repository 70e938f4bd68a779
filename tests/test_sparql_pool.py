"""The worker pool: deadlines that really stop a query, replacement, back-pressure, memory cap."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import ENDPOINT_ROOT, ROOT, alive, wait_until
from mqmkg.config import Settings
from mqmkg.errors import QueryAborted, QueryTimeout, ServerBusy
from mqmkg.sparql.dataset import Snapshot, build_snapshot
from mqmkg.sparql.pool import WorkerPool
from mqmkg.sparql.worker import Answer, Job

# Six-way cartesian product of all 57 triples: about 3.4e10 rows to count, hours of CPU.
EXPLOSIVE = "SELECT (COUNT(*) AS ?n) { " + " . ".join(f"?s{i} ?p{i} ?o{i}" for i in range(6)) + " }"
SPLINTER = "SELECT ?a { ?a <https://w3id.org/mqmkg/ontology#splinterOf> ?b }"
MARGIN = 0.5  # seconds allowed past a deadline (kill, reap, pipe)


def job(query: str) -> Job:
    return Job(query, None, None, None, "json", "ntriples", 100, ())


@pytest.fixture(scope="module")
def snapshot() -> Snapshot:
    return build_snapshot(Settings(root=ENDPOINT_ROOT))


@pytest.fixture
def pool(snapshot: Snapshot) -> Iterator[WorkerPool]:
    item = WorkerPool(snapshot.nquads, 2, max_queue=4, queue_wait=2.0, memory_mb=1024)
    item.start()
    yield item
    item.close()


def test_workers_answer_and_close_leaves_no_process(pool: WorkerPool) -> None:
    status = pool.status()
    assert (status.size, status.idle, status.busy, status.starting) == (2, 2, 0, 0)
    pids = status.pids
    assert all(alive(pid) for pid in pids)
    answer = pool.run(job(SPLINTER), 5)
    assert isinstance(answer, Answer)
    assert b"https://w3id.org/mqmkg/id/mqm-h" in answer.body
    pool.close()
    assert not any(alive(pid) for pid in pids)


def test_deadline_kills_the_worker_and_others_keep_answering(pool: WorkerPool) -> None:
    before = set(pool.status().pids)
    outcome: dict[str, object] = {}

    def explode() -> None:
        started = time.monotonic()
        try:
            pool.run(job(EXPLOSIVE), 1.0)
        except QueryTimeout as exc:
            outcome["error"] = exc
        outcome["elapsed"] = time.monotonic() - started

    thread = threading.Thread(target=explode)
    thread.start()
    time.sleep(0.3)
    # While the explosive query burns one worker, the other answers at once.
    started = time.monotonic()
    answer = pool.run(job(SPLINTER), 5)
    assert isinstance(answer, Answer)
    assert time.monotonic() - started < 0.5
    assert thread.is_alive()
    thread.join(10)
    assert isinstance(outcome["error"], QueryTimeout)
    assert 1.0 <= float(outcome["elapsed"]) < 1.0 + MARGIN  # type: ignore[arg-type]
    after = set(pool.status().pids)
    (killed,) = before - after
    assert not alive(killed)  # its CPU is free: the process is gone, not merely abandoned
    assert wait_until(lambda: pool.status().idle == 2)
    status = pool.status()
    assert status.replaced == 1
    assert len(set(status.pids) - before) == 1  # a fresh worker took its place
    assert isinstance(pool.run(job(SPLINTER), 5), Answer)


def test_back_pressure(snapshot: Snapshot) -> None:
    pool = WorkerPool(snapshot.nquads, 1, max_queue=1, queue_wait=0.3, memory_mb=1024)
    pool.start()
    try:
        results: list[object] = []
        threading.Thread(target=lambda: results.append(_swallow(pool, EXPLOSIVE, 2.0)), daemon=True).start()
        time.sleep(0.2)
        # One query may wait, for at most queue_wait seconds.
        started = time.monotonic()
        with pytest.raises(ServerBusy, match=r"busy for 0\.3 s") as waited:
            pool.run(job(SPLINTER), 2.0)
        assert 0.3 <= time.monotonic() - started < 0.3 + MARGIN
        assert waited.value.retry_after == 2
        # A second waiter beyond max_queue is turned away at once.
        blocker = threading.Thread(target=lambda: _swallow(pool, SPLINTER, 2.0), daemon=True)
        blocker.start()
        time.sleep(0.05)
        started = time.monotonic()
        with pytest.raises(ServerBusy, match="too many queries"):
            pool.run(job(SPLINTER), 2.0)
        assert time.monotonic() - started < 0.25  # no wait at all, unlike the 0.3 s above
    finally:
        pool.close()


def _swallow(pool: WorkerPool, query: str, deadline: float) -> object:
    try:
        return pool.run(job(query), deadline)
    except Exception as exc:
        return exc


def test_memory_cap_kills_only_that_worker(snapshot: Snapshot) -> None:
    pool = WorkerPool(snapshot.nquads, 1, memory_mb=256)
    pool.start()
    try:
        (pid,) = pool.status().pids
        hungry = "SELECT * { " + " . ".join(f"?s{i} ?p{i} ?o{i}" for i in range(4)) + " } ORDER BY ?o0 ?o1 ?o2 ?o3"
        with pytest.raises(QueryAborted, match="died"):
            pool.run(job(hungry), 20.0)
        assert not alive(pid)
        assert isinstance(pool.run(job(SPLINTER), 5.0), Answer)
        assert pool.status().replaced == 1
    finally:
        pool.close()


def test_a_worker_that_died_while_idle_is_replaced(pool: WorkerPool) -> None:
    victim = pool.status().pids[0]
    os.kill(victim, 9)
    assert wait_until(lambda: not alive(victim))
    for _ in range(3):  # whichever worker comes up, the query is answered
        assert isinstance(pool.run(job(SPLINTER), 5.0), Answer)
    assert wait_until(lambda: pool.status().idle == 2 and victim not in pool.status().pids)


def test_workers_die_with_their_server(tmp_path: Path) -> None:
    script = textwrap.dedent(
        f"""
        import sys, time
        from pathlib import Path
        from mqmkg.config import Settings
        from mqmkg.sparql.dataset import build_snapshot
        from mqmkg.sparql.pool import WorkerPool
        from mqmkg.sparql.worker import Job
        if __name__ == "__main__":
            pool = WorkerPool(build_snapshot(Settings(root=Path({str(ENDPOINT_ROOT)!r}))).nquads, 2)
            pool.start()
            print(*pool.status().pids, flush=True)
            import threading
            job = Job({EXPLOSIVE!r}, None, None, None, "json", None, 10, ())
            threading.Thread(target=pool.run, args=(job, 600), daemon=True).start()
            time.sleep(600)
        """
    )
    (tmp_path / "server.py").write_text(script)
    process = subprocess.Popen([sys.executable, str(tmp_path / "server.py")], stdout=subprocess.PIPE, cwd=ROOT)
    try:
        assert process.stdout is not None
        pids = [int(p) for p in process.stdout.readline().split()]
        assert len(pids) == 2 and all(alive(p) for p in pids)
        time.sleep(0.3)  # one worker is now busy with the explosive query
    finally:
        process.kill()  # SIGKILL: no cleanup code runs in the server
        process.wait()
    assert wait_until(lambda: not any(alive(p) for p in pids), 5.0)

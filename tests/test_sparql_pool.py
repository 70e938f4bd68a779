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

from conftest import ENDPOINT_ROOT, EXPLOSIVE, ROOT, alive, wait_until
from mqmkg.config import Settings
from mqmkg.errors import QueryAborted, QueryTimeout, RateLimited, ServerBusy
from mqmkg.sparql.dataset import Snapshot, build_snapshot
from mqmkg.sparql.fairness import FairShare
from mqmkg.sparql.pool import WorkerPool, resident_mib
from mqmkg.sparql.worker import Answer, Job

# Six-way cartesian product of all 57 triples: about 3.4e10 rows to count, hours of CPU.
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


def _swallow(pool: WorkerPool, query: str, deadline: float, client: str = "") -> object:
    try:
        return pool.run(job(query), deadline, client)
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


# -- issue 8: memory, fair sharing, bounded waits, health, shutdown ----------------------

# Five columns of long literals (2 KB to 512 KB a row), 57 x 57 rows: unbounded, hundreds of MB.
LONG_LITERALS = (
    "SELECT ?a ?b ?c ?d ?e { ?s ?p ?o . ?x ?y ?z "
    f'BIND("{"L" * 2000}" AS ?a) BIND(CONCAT(?a, ?a, ?a, ?a) AS ?b) BIND(CONCAT(?b, ?b, ?b, ?b) AS ?c) '
    "BIND(CONCAT(?c, ?c, ?c, ?c) AS ?d) BIND(CONCAT(?d, ?d, ?d, ?d) AS ?e) }"
)


def test_a_worker_left_large_by_a_job_is_recycled_after_answering(snapshot: Snapshot) -> None:
    pool = WorkerPool(snapshot.nquads, 1, recycle_mb=40)
    pool.start()
    try:
        (pid,) = pool.status().pids
        small = pool.run(job(SPLINTER), 5)
        assert isinstance(small, Answer)
        assert pool.status().pids == (pid,)  # a small job leaves the worker as it was
        # 100 rows of 682 KB: a 68 MB body, which the worker holds until its next job.
        big = pool.run(Job(LONG_LITERALS, None, None, None, "json", None, 100, ()), 20)
        assert isinstance(big, Answer)
        assert (big.rows, big.truncated_by) == (100, "rows")
        assert len(big.body) > 68_000_000
        status = pool.status()
        assert (status.recycled, status.replaced) == (1, 1)
        assert not alive(pid)
        assert wait_until(lambda: pool.status().idle == 1)
        assert isinstance(pool.run(job(SPLINTER), 5), Answer)
    finally:
        pool.close()


def test_a_byte_capped_job_leaves_the_worker_small(snapshot: Snapshot) -> None:
    pool = WorkerPool(snapshot.nquads, 1, recycle_mb=40)
    pool.start()
    try:
        (pid,) = pool.status().pids
        capped = pool.run(Job(LONG_LITERALS, None, None, None, "json", None, 100, (), max_bytes=5_000_000), 20)
        assert isinstance(capped, Answer)
        assert (capped.rows, capped.truncated, capped.truncated_by) == (7, True, "bytes")
        assert len(capped.body) <= 5_000_000
        assert pool.status().pids == (pid,)  # not recycled: it never grew past the threshold
        assert resident_mib(pid) < 200
    finally:
        pool.close()


def test_the_wait_for_a_worker_is_bounded_by_time_not_by_a_small_count(snapshot: Snapshot) -> None:
    """60 queries at once on one worker: all wait their turn and are answered (16 did before)."""
    pool = WorkerPool(snapshot.nquads, 1, queue_wait=30.0)
    pool.start()
    try:
        results: list[object] = []
        threads = [
            threading.Thread(target=lambda i=i: results.append(_swallow(pool, SPLINTER, 10.0, f"c{i}")))
            for i in range(60)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert len(results) == 60
        assert all(isinstance(r, Answer) for r in results), [r for r in results if not isinstance(r, Answer)]
    finally:
        pool.close()


FAIR = FairShare(max_per_client=2, reserved=1, long_query=0.3, cooldown=30.0)


def test_a_client_past_its_share_is_refused_while_others_are_served(snapshot: Snapshot) -> None:
    pool = WorkerPool(snapshot.nquads, 2, fair=FAIR)
    pool.start()
    try:
        hogs = [threading.Thread(target=_swallow, args=(pool, EXPLOSIVE, 2.0, "hog"), daemon=True) for _ in range(2)]
        for thread in hogs:
            thread.start()
        time.sleep(0.3)
        started = time.monotonic()
        with pytest.raises(RateLimited, match="already has 2 queries"):
            pool.run(job(SPLINTER), 2.0, "hog")
        assert time.monotonic() - started < 0.25  # refused at once, not after a wait
        for thread in hogs:
            thread.join(10)
        assert isinstance(pool.run(job(SPLINTER), 2.0, "hog"), Answer)  # its queries ended: room again
    finally:
        pool.close()


def test_heavy_clients_cannot_take_the_reserved_worker(snapshot: Snapshot) -> None:
    """Two clients loop runaway queries; a third client's cheap queries never wait for them."""
    pool = WorkerPool(snapshot.nquads, 2, fair=FAIR, queue_wait=10.0)
    pool.start()
    try:
        assert isinstance(pool.run(job(SPLINTER), 1.0, "light"), Answer)  # the light client is about
        done = threading.Event()
        outcomes: dict[str, list[object]] = {"x": [], "y": []}

        def loop(client: str) -> None:
            while not done.is_set():
                outcomes[client].append(_swallow(pool, EXPLOSIVE, 1.0, client))

        heavy = [threading.Thread(target=loop, args=(c,), daemon=True) for c in outcomes]
        for thread in heavy:
            thread.start()
        # The first round: neither client is known to be heavy yet, so both runaway queries
        # may hold a worker until their deadline; wait until they are stopped and known.
        assert wait_until(lambda: all(outcomes.values()), 10.0)
        assert wait_until(lambda: pool.status().starting == 0, 10.0)  # both replaced
        light: list[tuple[object, float]] = []
        for _ in range(40):  # about 2 s, while the runaway queries take turns in their lane
            started = time.monotonic()
            light.append((_swallow(pool, SPLINTER, 1.0, "light"), time.monotonic() - started))
            time.sleep(0.05)
        done.set()
        for thread in heavy:
            thread.join(15)
        assert all(isinstance(answer, Answer) for answer, _ in light), light
        # None waited for a runaway query to be stopped (each runs a full second).
        assert max(waited for _, waited in light) < 0.9, [round(waited, 3) for _, waited in light]
        # The heavy clients still ran, one at a time, each stopped at its deadline.
        assert all(isinstance(r, QueryTimeout | ServerBusy) for r in outcomes["x"] + outcomes["y"])
        assert sum(isinstance(r, QueryTimeout) for r in outcomes["x"] + outcomes["y"]) >= 3
    finally:
        pool.close()


def test_status_sees_a_dead_idle_worker_at_once_and_the_pool_replaces_it_unasked(pool: WorkerPool) -> None:
    victim, other = pool.status().pids
    os.kill(victim, 9)
    assert wait_until(lambda: not alive(victim), 5.0)
    status = pool.status()  # no query has run since
    assert victim not in status.pids
    assert status.idle == 1
    assert status.can_serve
    assert wait_until(lambda: pool.status().idle == 2, 15.0)  # replaced without any query
    status = pool.status()
    assert other in status.pids and victim not in status.pids
    assert (status.dead, status.replaced) == (0, 1)


def test_status_says_the_pool_cannot_serve_when_every_worker_is_dead(pool: WorkerPool) -> None:
    for pid in pool.status().pids:
        os.kill(pid, 9)
    assert wait_until(lambda: not pool.status().can_serve, 5.0)
    assert wait_until(lambda: pool.status().can_serve and pool.status().idle == 2, 20.0)


def test_close_ends_running_and_waiting_queries_at_once_and_starts_no_worker(
    snapshot: Snapshot, caplog: pytest.LogCaptureFixture
) -> None:
    pool = WorkerPool(snapshot.nquads, 2, queue_wait=30.0)
    pool.start()
    pids = pool.status().pids
    outcomes: list[tuple[object, float]] = []

    def run(query: str) -> None:
        started = time.monotonic()
        outcomes.append((_swallow(pool, query, 60.0), time.monotonic() - started))

    threads = [threading.Thread(target=run, args=(q,)) for q in (EXPLOSIVE, EXPLOSIVE, SPLINTER)]
    for thread in threads:
        thread.start()
    assert wait_until(lambda: pool.status().busy == 2)
    time.sleep(0.3)  # the third query is waiting for a worker
    caplog.clear()
    with caplog.at_level("INFO", logger="mqmkg.pool"):
        started = time.monotonic()
        pool.close()
        closing = time.monotonic() - started
        for thread in threads:
            thread.join(5)
        time.sleep(1.5)  # a replacement would have been asked for by now
    assert closing < 2.0
    assert len(outcomes) == 3
    for outcome, _ in outcomes:
        assert isinstance(outcome, ServerBusy) and "shutting down" in str(outcome)
    assert not any(alive(pid) for pid in pids)
    assert [r.getMessage() for r in caplog.records if "starting" in r.getMessage()] == []
    assert pool.status().pids == ()
    with pytest.raises(ServerBusy, match="shutting down"):
        pool.run(job(SPLINTER), 1.0)

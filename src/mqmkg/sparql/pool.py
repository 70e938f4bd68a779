"""A pool of query worker processes with a hard per-query deadline.

pyoxigraph cannot cancel a running query, so each query runs in a pre-started worker
process (``mqmkg.sparql.worker``). A query that overruns its deadline gets its worker
killed with SIGKILL, which stops it and frees its CPU and memory at once; a replacement is
started immediately while the other workers keep serving. Workers are forked, in
milliseconds, by a zygote that holds the store (``mqmkg.sparql.zygote``): they share its
pages instead of loading a copy each. The zygote is spawned (not forked: the server is
multi-threaded) by one long-lived manager thread, so that Linux's parent-death signal kills
it, and its workers, if the server dies. The manager also looks at the idle workers every
second and replaces any that died.

Callers block in ``run`` (from a thread pool, never on the event loop). Admission:

- a client over its share of concurrent queries is refused at once (``RateLimited``), and
  clients whose queries ran long (or who have shown nothing yet) share part of the pool
  while clients with cheap queries are about (``mqmkg.sparql.fairness``);
- a query waits for a free worker at most ``queue_wait`` seconds, in arrival order (a burst
  of cheap queries waits briefly and is served); ``max_queue`` only caps how many may wait
  at once, to bound memory. Beyond either bound: ``ServerBusy``.

A worker whose resident memory grew by more than ``recycle_mb`` MiB during a job is
replaced after answering it, so one huge result does not leave a large process behind.
``close`` stops taking work, kills every worker at once (a running query's caller gets
``ServerBusy``) and never starts another.

Workers come in two lanes (``mqmkg.sparql.isolation``): ``size`` workers with no network at
all, and ``federated`` workers whose TCP connections are limited to the allow-listed
endpoints' ports; ``run(job, deadline, client, network=True)`` picks one of the latter (first
come, first served: the fair sharing above is for the netless lane, where the queries run).
A worker that reports its isolation did not hold is refused (``require_isolation``) or logged.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import math
import multiprocessing
import os
import queue
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path

from mqmkg.errors import MqmkgError, QueryAborted, QueryTimeout, ServerBusy, SparqlError
from mqmkg.sparql import worker
from mqmkg.sparql.fairness import ClientLedger, FairShare, Running
from mqmkg.sparql.worker import Answer, Federated, Job, Ready, Refusal
from mqmkg.sparql.zygote import ForkedWorker, Zygote

log = logging.getLogger("mqmkg.pool")

# Seconds between the manager's looks at idle workers, and between a waiting query's looks
# at the lanes (a client becomes heavy, or stops being light, with time alone).
SWEEP_INTERVAL = 1.0
RECHECK_INTERVAL = 0.25
SHUTTING_DOWN = "the server is shutting down; retry later"
# Answers pass through the pool whole (up to Settings.max_response_bytes each). Blocks this
# large are mapped and unmapped one by one (glibc's mmap threshold, fixed rather than
# raised after each large free), so the memory an answer used goes back to the system once
# it is sent, in the server and in every worker, instead of staying in the allocator's heap.
LARGE_BLOCK = 256 * 1024
_M_MMAP_THRESHOLD = -3  # mallopt parameter, <malloc.h>


class PoolStartError(MqmkgError):
    """The query workers could not be started."""


def map_large_blocks(threshold: int = LARGE_BLOCK) -> None:
    """Have this process and the workers it starts return large blocks to the system when freed."""
    os.environ.setdefault("MALLOC_MMAP_THRESHOLD_", str(threshold))  # read by each worker as it starts
    with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to tune
        ctypes.CDLL(None).mallopt(_M_MMAP_THRESHOLD, threshold)


def resident_mib(pid: int) -> float:
    """Return a process's resident memory in MiB (``/proc/PID/statm``), or 0 if it is gone."""
    try:
        statm = os.open(f"/proc/{pid}/statm", os.O_RDONLY)
    except OSError:
        return 0.0
    try:
        return _resident_mib(statm)
    finally:
        os.close(statm)


def _resident_mib(statm: int) -> float:
    """Read resident memory in MiB from an open ``/proc/PID/statm`` (re-readable, in 3 µs)."""
    try:
        pages = int(os.pread(statm, 128, 0).split()[1])
    except (OSError, IndexError, ValueError):
        return 0.0
    return pages * os.sysconf("SC_PAGE_SIZE") / (1024 * 1024)


@dataclass(eq=False)
class _Worker:
    process: ForkedWorker
    conn: Connection
    network: bool = False
    ready: bool = False
    ready_mib: float = 0.0
    started: float = field(default_factory=time.monotonic)
    _statm: int = -1  # an open /proc/PID/statm once ready
    _discarded: bool = False
    _guard: threading.Lock = field(default_factory=threading.Lock)

    @property
    def pid(self) -> int:
        return self.process.pid or 0

    def mark_ready(self) -> None:
        """Record that the worker has loaded the store, and its resident memory then."""
        with self._guard:
            if self._discarded:
                return
            with contextlib.suppress(OSError):
                self._statm = os.open(f"/proc/{self.pid}/statm", os.O_RDONLY)
        self.ready_mib = self.resident_mib()
        self.ready = True

    def resident_mib(self) -> float:
        """Return the worker's resident memory in MiB (0 if unknown)."""
        return _resident_mib(self._statm) if self._statm >= 0 else 0.0

    def discard(self) -> None:
        """Kill and reap the process and close the pipe, once, whichever thread gets here first."""
        with self._guard:
            if self._discarded:
                return
            self._discarded = True
            statm, self._statm = self._statm, -1
        self.process.kill()
        self.process.join(5)
        self.conn.close()
        self.process.close()
        if statm >= 0:
            os.close(statm)


@dataclass(eq=False)
class _Waiter:
    """A query waiting for a worker; ``_dispatch`` hands it one and sets ``event``."""

    client: str
    network: bool = False
    worker: _Worker | None = None
    event: threading.Event = field(default_factory=threading.Event)


@dataclass(frozen=True)
class PoolStatus:
    """A snapshot of the pool for ``/health``: live workers only (each process checked)."""

    size: int
    idle: int
    busy: int
    starting: int
    pids: tuple[int, ...]
    replaced: int
    recycled: int
    dead: int
    closed: bool
    isolation: str = ""

    @property
    def can_serve(self) -> bool:
        """True when some live worker is ready (idle now, or busy and free again by its deadline)."""
        return not self.closed and self.idle + self.busy > 0


class WorkerPool:
    """Pre-started worker processes answering ``Job``s, each killable at its deadline."""

    def __init__(
        self,
        source: bytes | str | Path,
        size: int,
        *,
        max_queue: int = 256,
        queue_wait: float = 15.0,
        memory_mb: int = 0,
        recycle_mb: int = 0,
        fair: FairShare | None = None,
        start_timeout: float = 120.0,
        federated: int = 0,
        allowlist: tuple[str, ...] = (),
        require_isolation: bool = False,
    ):
        if size < 1:
            raise PoolStartError(f"a worker pool needs at least one worker, not {size} (Settings.workers)")
        # What the zygote loads: the dataset as N-Quads, or the path of an on-disk store.
        self._source: bytes | str = str(source) if isinstance(source, Path) else source
        self._zygote: Zygote | None = None
        self.size = size
        self._queue_wait = queue_wait
        self._memory_mb = memory_mb
        self._recycle_mb = recycle_mb
        self._start_timeout = start_timeout
        self._ctx = multiprocessing.get_context("spawn")
        self._ledger = ClientLedger(fair or FairShare(), size)
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._lanes = {False: size, True: federated}
        self._allowlist = allowlist
        self._require_isolation = require_isolation
        self._isolation: dict[bool, str] = {False: "", True: ""}
        self._workers: set[_Worker] = set()
        self._idle: dict[bool, deque[_Worker]] = {False: deque(), True: deque()}
        self._waiters: dict[bool, deque[_Waiter]] = {False: deque(), True: deque()}
        self._running: dict[_Worker, Running] = {}
        self._slots = threading.BoundedSemaphore(size + federated + max_queue)
        self._spawn_requests: queue.Queue[bool | None] = queue.Queue()  # a lane (network?), None: stop
        self._manager: threading.Thread | None = None
        self._closed = threading.Event()
        self._replaced = 0
        self._recycled = 0
        self._failures = 0
        self._last_failure = ""

    # -- life cycle -------------------------------------------------------------------

    def start(self) -> None:
        """Start the workers and wait until every one has loaded the store."""
        map_large_blocks()
        self._manager = threading.Thread(target=self._manage, name="mqmkg-pool-manager", daemon=True)
        self._manager.start()
        for network, count in self._lanes.items():
            for _ in range(count):
                self._spawn_requests.put(network)
        deadline = time.monotonic() + self._start_timeout
        with self._changed:
            while sum(1 for w in self._workers if w.ready) < sum(self._lanes.values()):
                if self._failures:
                    raise PoolStartError(f"a query worker failed to start: {self._last_failure}")
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise PoolStartError(f"query workers not ready after {self._start_timeout:g} s")
                self._changed.wait(min(remaining, 0.5))

    def close(self) -> None:
        """Stop taking work and kill every worker now; running queries end with ``ServerBusy``.

        Safe to call from any thread, more than once; no worker is started after it.
        """
        with self._lock:
            self._closed.set()
            workers = list(self._workers)
            waiters = [*self._waiters[False], *self._waiters[True]]
            self._workers.clear()
            for lane in (False, True):
                self._idle[lane].clear()
                self._waiters[lane].clear()
            self._running.clear()
            self._changed.notify_all()
        self._spawn_requests.put(None)
        for waiter in waiters:
            waiter.event.set()
        for w in workers:  # SIGKILL all first, so the whole pool stops at once
            w.process.kill()
        for w in workers:
            # A query thread blocked on this worker now sees end-of-file and may discard it too.
            w.discard()
        if self._manager is not None and self._manager is not threading.current_thread():
            self._manager.join(2)
        if self._zygote is not None:
            self._zygote.close()

    def status(self, network: bool = False) -> PoolStatus:
        """Return how many workers of a lane are idle, busy and starting, checking that each lives."""
        with self._lock:
            workers = [w for w in self._workers if w.network == network]
            idle = set(self._idle[network])
            replaced, recycled = self._replaced, self._recycled
        alive = [w for w in workers if w.process.is_alive()]
        ready = [w for w in alive if w.ready]
        idle_count = sum(1 for w in ready if w in idle)
        closed = self._closed.is_set()
        pending = 0 if closed else list(self._spawn_requests.queue).count(network)
        return PoolStatus(
            size=self._lanes[network],
            idle=idle_count,
            busy=len(ready) - idle_count,
            starting=len(alive) - len(ready) + pending,
            pids=tuple(sorted(w.pid for w in alive)),
            replaced=replaced,
            recycled=recycled,
            dead=len(workers) - len(alive),
            closed=closed,
            isolation=self._isolation[network],
        )

    # -- queries ----------------------------------------------------------------------

    def run(
        self, job: Job, deadline: float, client: str = "", *, network: bool = False
    ) -> Answer | Refusal | Federated:
        """Run one job on a free worker of a lane; kill that worker if it overruns ``deadline`` seconds.

        ``client`` identifies who asks (the peer address): the per-client limit and the
        lanes of ``mqmkg.sparql.fairness`` apply to it. ``network`` picks a federated worker.
        """
        retry_after = max(1, math.ceil(deadline))
        if self._closed.is_set():
            raise ServerBusy(SHUTTING_DOWN, retry_after)
        if network and not self._lanes[True]:
            return Refusal("service-refused", "federated queries are disabled: no query worker has network access")
        self._ledger.enter(client, time.monotonic(), deadline)
        started: float | None = None
        try:
            if not self._slots.acquire(blocking=False):
                raise ServerBusy("too many queries are waiting for a query worker; retry later", retry_after)
            try:
                w = self._checkout(client, retry_after, network)
                started = time.monotonic()
                reply = self._ask(w, job, deadline, retry_after)
                self._checkin(w, reply.resident_mib if isinstance(reply, Answer) else 0.0)
                return reply
            finally:
                self._slots.release()
        finally:
            now = time.monotonic()
            self._ledger.leave(client, None if started is None else now - started, now)

    def _ask(self, w: _Worker, job: Job, deadline: float, retry_after: int) -> Answer | Refusal | Federated:
        try:
            w.conn.send(job)
            answered = w.conn.poll(deadline)
        except OSError as exc:
            raise self._lost(w, "its pipe broke", "the query worker stopped before answering", retry_after) from exc
        if not answered:
            self._retire(w, f"it overran the {deadline:g} s deadline")
            raise QueryTimeout(deadline)
        try:
            reply: Answer | Refusal | Federated = w.conn.recv()
        except (EOFError, OSError) as exc:
            code = w.process.exitcode
            raise self._lost(
                w,
                f"it died (exit code {code})",
                f"the query worker died while evaluating the query (exit code {code}): it ran out of memory "
                "or stack, which a very large or deeply nested query can cause; it was replaced",
                retry_after,
            ) from exc
        return reply

    def _lost(self, w: _Worker, reason: str, message: str, retry_after: int) -> SparqlError:
        """Retire a worker that stopped answering; return the error for its caller."""
        self._retire(w, reason)
        if self._closed.is_set():
            return ServerBusy(SHUTTING_DOWN, retry_after)
        return QueryAborted(message)

    def _checkin(self, w: _Worker, answering_mib: float = 0.0) -> None:
        """Give a worker back after a job, or replace it if the job made it large.

        ``answering_mib`` is the worker's own reading as it sent its answer (the body still in
        memory); the larger of it and the worker's size now counts.
        """
        if self._recycle_mb > 0:
            grown = max(w.resident_mib(), answering_mib) - w.ready_mib
            if grown > self._recycle_mb:
                self._retire(w, f"it grew by {grown:.0f} MiB during a job (Settings.worker_recycle_mb)", recycled=True)
                return
        with self._lock:
            self._running.pop(w, None)
            if w not in self._workers:  # closed meanwhile: close() discards it
                return
            self._idle[w.network].append(w)
            self._dispatch(time.monotonic())

    def _checkout(self, client: str, retry_after: int, network: bool) -> _Worker:
        end = time.monotonic() + self._queue_wait
        while True:
            w = self._wait_for_worker(_Waiter(client, network), end, retry_after)
            if w.process.is_alive():
                return w
            self._retire(w, "it died while idle")

    def _wait_for_worker(self, waiter: _Waiter, end: float, retry_after: int) -> _Worker:
        with self._lock:
            if self._closed.is_set():
                raise ServerBusy(SHUTTING_DOWN, retry_after)
            self._waiters[waiter.network].append(waiter)
            self._dispatch(time.monotonic())
        while waiter.worker is None and not self._closed.is_set():
            remaining = end - time.monotonic()
            if remaining <= 0:
                break
            if waiter.event.wait(min(remaining, RECHECK_INTERVAL)):
                break
            with self._lock:
                self._dispatch(time.monotonic())
        with self._lock:
            if waiter.worker is not None:
                return waiter.worker
            if waiter in self._waiters[waiter.network]:
                self._waiters[waiter.network].remove(waiter)
        if self._closed.is_set():
            raise ServerBusy(SHUTTING_DOWN, retry_after)
        raise ServerBusy(f"every query worker stayed busy for {self._queue_wait:g} s; retry later", retry_after)

    def _dispatch(self, now: float) -> None:
        """Hand idle workers to waiting queries, first come first served among those allowed.

        Called with the lock held. In the netless lane, a query that may not have a worker now
        (its client is heavy or new, and the lane it shares is full) is passed over; the queries
        behind it are served. The federated lane serves in arrival order.
        """
        for network in (False, True):
            idle, waiters = self._idle[network], self._waiters[network]
            while idle and waiters:
                light = True
                if network:
                    waiter = waiters[0]
                else:
                    running = [r for w, r in self._running.items() if not w.network]
                    ready = len(idle) + len(running)
                    for waiter in waiters:
                        allowed, light = self._ledger.may_start(waiter.client, running, ready, now)
                        if allowed:
                            break
                    else:
                        break
                waiters.remove(waiter)
                w = idle.popleft()
                self._running[w] = Running(waiter.client, now, light)
                waiter.worker = w
                waiter.event.set()

    # -- workers ----------------------------------------------------------------------

    def _retire(self, w: _Worker, reason: str, *, recycled: bool = False, replace: bool = True) -> None:
        """Kill one worker, reap it, and ask for a replacement (unless the pool is closed or not ``replace``)."""
        with self._lock:
            known = w in self._workers
            self._workers.discard(w)
            self._running.pop(w, None)
            if w in self._idle[w.network]:
                self._idle[w.network].remove(w)
            if known:
                self._replaced += 1
                self._recycled += recycled
            closing = self._closed.is_set()
        w.discard()
        if closing or not known:
            return
        log.warning("query worker %d killed%s: %s", w.pid, " and replaced" if replace else "", reason)
        if replace:
            self._spawn_requests.put(w.network)

    def _manage(self) -> None:
        """Start a worker for each request and replace idle workers that died; this thread is
        every worker's parent thread."""
        while not self._closed.is_set():
            try:
                network = self._spawn_requests.get(timeout=SWEEP_INTERVAL)
            except queue.Empty:
                self._sweep()
                continue
            if network is None or self._closed.is_set():
                return
            try:
                w = self._launch(network)
            except Exception as exc:  # e.g. EAGAIN from fork: try again shortly
                log.error("could not start a query worker: %s", exc)
                self._record_failure(str(exc))
                time.sleep(1.0)
                self._spawn_requests.put(network)
                continue
            if w is not None:
                threading.Thread(target=self._await_ready, args=(w,), name="mqmkg-worker-ready", daemon=True).start()

    def _sweep(self) -> None:
        """Replace idle workers whose process has died (killed from outside, crashed)."""
        with self._lock:
            idle = [*self._idle[False], *self._idle[True]]
        for w in idle:
            if not w.process.is_alive():
                self._retire(w, f"it died while idle (exit code {w.process.exitcode})")

    def _launch(self, network: bool) -> _Worker | None:
        """Fork a worker from the zygote (started, or started again, by this manager thread)."""
        if self._zygote is None or not self._zygote.alive:
            if self._zygote is not None:
                log.warning("the query workers' zygote %d died; starting another", self._zygote.pid)
                self._zygote.close()
            self._zygote = Zygote(
                self._ctx,
                worker.prepare,
                (self._source, self._memory_mb, self._allowlist),
                worker.serve,
                self._start_timeout,
            )
        process, conn = self._zygote.launch(int(network))
        w = _Worker(process, conn, network)
        with self._lock:
            if not self._closed.is_set():
                self._workers.add(w)
                log.info("query worker %d starting", w.pid)
                return w
        w.discard()  # closed while it was starting
        return None

    def _await_ready(self, w: _Worker) -> None:
        message: object = None
        try:
            if w.conn.poll(self._start_timeout):
                message = w.conn.recv()
        except (EOFError, OSError):
            message = None
        if isinstance(message, Ready) and not self._isolated(w, message):
            return
        if isinstance(message, Ready):
            w.mark_ready()
            with self._changed:
                if w in self._workers:
                    self._idle[w.network].append(w)
                    self._dispatch(time.monotonic())
                    self._changed.notify_all()
                    log.info("query worker %d ready in %.2f s", w.pid, time.monotonic() - w.started)
            return
        if self._closed.is_set():
            return
        self._record_failure(f"worker {w.pid} sent no ready message (exit code {w.process.exitcode})")
        time.sleep(1.0)  # do not spin if workers keep failing
        self._retire(w, "it failed to start")

    def _record_failure(self, message: str) -> None:
        with self._changed:
            self._failures += 1
            self._last_failure = message
            self._changed.notify_all()

    def _isolated(self, w: _Worker, ready: Ready) -> bool:
        """Record how a worker is cut off; refuse it if isolation did not hold and it is required."""
        self._isolation[w.network] = ready.isolation.detail
        if ready.isolation.enforced:
            return True
        kind = "federated worker" if w.network else "query worker"
        if self._require_isolation:
            self._record_failure(
                f"{kind} {w.pid} could not be isolated from the network ({ready.isolation.detail}); "
                "set MQMKG_REQUIRE_ISOLATION=false to run with the SERVICE guard as the only barrier"
            )
            self._retire(w, "it is not isolated from the network", replace=False)
            return False
        log.error(
            "%s %d runs WITHOUT kernel network isolation (%s): the SERVICE guard is the only barrier",
            kind,
            w.pid,
            ready.isolation.detail,
        )
        return True

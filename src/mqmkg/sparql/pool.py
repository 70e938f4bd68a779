"""A pool of query worker processes with a hard per-query deadline.

pyoxigraph cannot cancel a running query, so each query runs in a pre-started worker
process (``mqmkg.sparql.worker``) that holds its own copy of the store. A query that
overruns its deadline gets its worker killed with SIGKILL, which stops it and frees its
CPU and memory at once; a replacement is started immediately while the other workers keep
serving. Workers are spawned (not forked: the server is multi-threaded) by one long-lived
manager thread, so that Linux's parent-death signal kills them if the server dies.

Callers block in ``run`` (from a thread pool, never on the event loop). At most
``size + max_queue`` queries are admitted at once; an admitted query waits at most
``queue_wait`` seconds for a free worker. Beyond either bound: ``ServerBusy``.

Workers come in two lanes (``mqmkg.sparql.isolation``): ``size`` workers with no network at
all, and ``federated`` workers whose TCP connections are limited to the allow-listed
endpoints' ports; ``run(job, deadline, network=True)`` picks one of the latter. A worker
that reports its isolation did not hold is refused (``require_isolation``) or logged.
"""

from __future__ import annotations

import logging
import math
import multiprocessing
import os
import queue
import threading
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess

from mqmkg.errors import MqmkgError, QueryAborted, QueryTimeout, ServerBusy
from mqmkg.sparql import worker
from mqmkg.sparql.worker import Answer, Federated, Job, Ready, Refusal

log = logging.getLogger("mqmkg.pool")


class PoolStartError(MqmkgError):
    """The query workers could not be started."""


@dataclass
class _Worker:
    process: BaseProcess
    conn: Connection
    network: bool = False
    ready: bool = False
    started: float = field(default_factory=time.monotonic)
    _discarded: bool = False
    _guard: threading.Lock = field(default_factory=threading.Lock)

    @property
    def pid(self) -> int:
        return self.process.pid or 0

    def discard(self) -> None:
        """Kill and reap the process and close the pipe, once, whichever thread gets here first."""
        with self._guard:
            if self._discarded:
                return
            self._discarded = True
        self.process.kill()
        self.process.join(5)
        self.conn.close()


@dataclass(frozen=True)
class PoolStatus:
    """A snapshot of the pool for ``/health``."""

    size: int
    idle: int
    busy: int
    starting: int
    pids: tuple[int, ...]
    replaced: int
    isolation: str = ""


class WorkerPool:
    """Pre-started worker processes answering ``Job``s, each killable at its deadline."""

    def __init__(
        self,
        nquads: bytes,
        size: int,
        *,
        max_queue: int = 16,
        queue_wait: float = 5.0,
        memory_mb: int = 0,
        start_timeout: float = 120.0,
        federated: int = 0,
        allowlist: tuple[str, ...] = (),
        require_isolation: bool = False,
    ):
        if size < 1:
            raise PoolStartError(f"a worker pool needs at least one worker, not {size} (Settings.workers)")
        self._nquads = nquads
        self.size = size
        self._queue_wait = queue_wait
        self._memory_mb = memory_mb
        self._start_timeout = start_timeout
        self._ctx = multiprocessing.get_context("spawn")
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._lanes = {False: size, True: federated}
        self._allowlist = allowlist
        self._require_isolation = require_isolation
        self._isolation: dict[bool, str] = {False: "", True: ""}
        self._idle: dict[bool, queue.Queue[_Worker]] = {False: queue.Queue(), True: queue.Queue()}
        self._workers: dict[int, _Worker] = {}
        self._slots = threading.BoundedSemaphore(size + max_queue)
        self._spawn_requests: queue.Queue[bool | None] = queue.Queue()  # a lane (network?), None: stop
        self._manager: threading.Thread | None = None
        self._closed = threading.Event()
        self._replaced = 0
        self._failures = 0
        self._last_failure = ""

    # -- life cycle -------------------------------------------------------------------

    def start(self) -> None:
        """Start the workers and wait until every one has loaded the store."""
        self._manager = threading.Thread(target=self._manage, name="mqmkg-pool-manager", daemon=True)
        self._manager.start()
        for network, count in self._lanes.items():
            for _ in range(count):
                self._spawn_requests.put(network)
        deadline = time.monotonic() + self._start_timeout
        with self._changed:
            while self._ready_count() < sum(self._lanes.values()):
                if self._failures:
                    raise PoolStartError(f"a query worker failed to start: {self._last_failure}")
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise PoolStartError(f"query workers not ready after {self._start_timeout:g} s")
                self._changed.wait(min(remaining, 0.5))

    def close(self) -> None:
        """Stop every worker (SIGTERM, then SIGKILL) and the manager thread."""
        self._closed.set()
        self._spawn_requests.put(None)
        with self._lock:
            workers = list(self._workers.values())
            self._workers.clear()
        for w in workers:
            w.process.terminate()
        for w in workers:
            w.process.join(2)
            # A query thread blocked on this worker now sees end-of-file and may discard it too.
            w.discard()
        if self._manager is not None:
            self._manager.join(5)

    def status(self, network: bool = False) -> PoolStatus:
        """Return how many workers of a lane are idle, busy and starting, their PIDs and isolation."""
        with self._lock:
            workers = [w for w in self._workers.values() if w.network == network]
            replaced = self._replaced
        launched_not_ready = sum(1 for w in workers if not w.ready)
        idle = min(self._idle[network].qsize(), len(workers) - launched_not_ready)
        pending = 0 if self._closed.is_set() else list(self._spawn_requests.queue).count(network)
        return PoolStatus(
            size=self._lanes[network],
            idle=idle,
            busy=len(workers) - launched_not_ready - idle,
            starting=launched_not_ready + pending,
            pids=tuple(sorted(w.pid for w in workers)),
            replaced=replaced,
            isolation=self._isolation[network],
        )

    # -- queries ----------------------------------------------------------------------

    def run(self, job: Job, deadline: float, network: bool = False) -> Answer | Refusal | Federated:
        """Run one job on a free worker of a lane; kill that worker if it overruns ``deadline`` seconds."""
        retry_after = max(1, math.ceil(deadline))
        if network and not self._lanes[True]:
            return Refusal("service-refused", "federated queries are disabled: no query worker has network access")
        if not self._slots.acquire(blocking=False):
            raise ServerBusy("too many queries are waiting for a query worker; retry later", retry_after)
        try:
            w = self._checkout(retry_after, network)
            try:
                w.conn.send(job)
                answered = w.conn.poll(deadline)
            except OSError as exc:
                self._retire(w, "its pipe broke")
                raise QueryAborted("the query worker stopped before answering") from exc
            if not answered:
                self._retire(w, f"it overran the {deadline:g} s deadline")
                raise QueryTimeout(deadline)
            try:
                reply = w.conn.recv()
            except (EOFError, OSError) as exc:
                code = w.process.exitcode
                self._retire(w, f"it died (exit code {code})")
                raise QueryAborted(
                    f"the query worker died while evaluating the query (exit code {code}): it ran out of "
                    "memory or stack, which a very large or deeply nested query can cause; it was replaced"
                ) from exc
            self._idle[network].put(w)
            return reply
        finally:
            self._slots.release()

    def _checkout(self, retry_after: int, network: bool) -> _Worker:
        end = time.monotonic() + self._queue_wait
        idle = self._idle[network]
        while True:
            remaining = end - time.monotonic()
            try:
                w = idle.get(timeout=max(remaining, 0.0)) if remaining > 0 else idle.get_nowait()
            except queue.Empty:
                raise ServerBusy(
                    f"every query worker stayed busy for {self._queue_wait:g} s; retry later", retry_after
                ) from None
            if w.process.is_alive():
                return w
            self._retire(w, "it died while idle")

    # -- workers ----------------------------------------------------------------------

    def _ready_count(self) -> int:
        return sum(1 for w in self._workers.values() if w.ready)

    def _retire(self, w: _Worker, reason: str, replace: bool = True) -> None:
        """Kill one worker, reap it, and ask for a replacement (unless ``replace`` is false)."""
        with self._lock:
            known = self._workers.pop(w.pid, None) is not None
            if known:
                self._replaced += 1
        w.discard()
        if self._closed.is_set():
            return
        log.warning("query worker %d killed%s: %s", w.pid, " and replaced" if replace else "", reason)
        if known and replace:
            self._spawn_requests.put(w.network)

    def _manage(self) -> None:
        """Start a worker for each request; this thread is every worker's parent thread."""
        while (network := self._spawn_requests.get()) is not None:
            if self._closed.is_set():
                return
            try:
                w = self._launch(network)
            except Exception as exc:  # e.g. EAGAIN from fork: try again shortly
                log.error("could not start a query worker: %s", exc)
                self._record_failure(str(exc))
                time.sleep(1.0)
                self._spawn_requests.put(network)
                continue
            threading.Thread(target=self._await_ready, args=(w,), name="mqmkg-worker-ready", daemon=True).start()

    def _launch(self, network: bool) -> _Worker:
        parent_conn, child_conn = self._ctx.Pipe(duplex=True)
        process = self._ctx.Process(
            target=worker.serve,
            args=(child_conn, self._nquads, self._memory_mb, os.getpid(), network, self._allowlist),
            name="mqmkg-federated-worker" if network else "mqmkg-query-worker",
            daemon=True,
        )
        process.start()
        child_conn.close()
        w = _Worker(process, parent_conn, network)
        with self._lock:
            self._workers[w.pid] = w
        return w

    def _await_ready(self, w: _Worker) -> None:
        message: object = None
        try:
            if w.conn.poll(self._start_timeout):
                message = w.conn.recv()
        except (EOFError, OSError):
            message = None
        if isinstance(message, Ready) and not self._isolated(w, message):
            return
        if isinstance(message, Ready) and not self._closed.is_set():
            with self._changed:
                if w.pid in self._workers:
                    w.ready = True
                    self._idle[w.network].put(w)
                    self._changed.notify_all()
            log.info("query worker %d ready in %.2f s", w.pid, time.monotonic() - w.started)
            return
        if self._closed.is_set():
            return
        self._record_failure(f"worker {w.pid} sent no ready message (exit code {w.process.exitcode})")
        time.sleep(1.0)  # do not spin if workers keep failing
        self._retire(w, "it failed to start")

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

    def _record_failure(self, message: str) -> None:
        with self._changed:
            self._failures += 1
            self._last_failure = message
            self._changed.notify_all()

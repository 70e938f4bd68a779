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
from mqmkg.sparql.worker import Answer, Job, Ready, Refusal

log = logging.getLogger("mqmkg.pool")


class PoolStartError(MqmkgError):
    """The query workers could not be started."""


@dataclass
class _Worker:
    process: BaseProcess
    conn: Connection
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
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._workers: dict[int, _Worker] = {}
        self._slots = threading.BoundedSemaphore(size + max_queue)
        self._spawn_requests: queue.Queue[bool] = queue.Queue()
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
        for _ in range(self.size):
            self._spawn_requests.put(True)
        deadline = time.monotonic() + self._start_timeout
        with self._changed:
            while self._ready_count() < self.size:
                if self._failures:
                    raise PoolStartError(f"a query worker failed to start: {self._last_failure}")
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise PoolStartError(f"query workers not ready after {self._start_timeout:g} s")
                self._changed.wait(min(remaining, 0.5))

    def close(self) -> None:
        """Stop every worker (SIGTERM, then SIGKILL) and the manager thread."""
        self._closed.set()
        self._spawn_requests.put(False)
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

    def status(self) -> PoolStatus:
        """Return how many workers are idle, busy and starting, and their PIDs."""
        with self._lock:
            workers = list(self._workers.values())
            replaced = self._replaced
        launched_not_ready = sum(1 for w in workers if not w.ready)
        idle = min(self._idle.qsize(), len(workers) - launched_not_ready)
        pending = 0 if self._closed.is_set() else self._spawn_requests.qsize()
        return PoolStatus(
            size=self.size,
            idle=idle,
            busy=len(workers) - launched_not_ready - idle,
            starting=launched_not_ready + pending,
            pids=tuple(sorted(w.pid for w in workers)),
            replaced=replaced,
        )

    # -- queries ----------------------------------------------------------------------

    def run(self, job: Job, deadline: float) -> Answer | Refusal:
        """Run one job on a free worker; kill that worker if it overruns ``deadline`` seconds."""
        retry_after = max(1, math.ceil(deadline))
        if not self._slots.acquire(blocking=False):
            raise ServerBusy("too many queries are waiting for a query worker; retry later", retry_after)
        try:
            w = self._checkout(retry_after)
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
            self._idle.put(w)
            return reply
        finally:
            self._slots.release()

    def _checkout(self, retry_after: int) -> _Worker:
        end = time.monotonic() + self._queue_wait
        while True:
            remaining = end - time.monotonic()
            try:
                w = self._idle.get(timeout=max(remaining, 0.0)) if remaining > 0 else self._idle.get_nowait()
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

    def _retire(self, w: _Worker, reason: str) -> None:
        """Kill one worker, reap it, and ask for a replacement."""
        with self._lock:
            known = self._workers.pop(w.pid, None) is not None
            if known:
                self._replaced += 1
        w.discard()
        if self._closed.is_set():
            return
        log.warning("query worker %d killed and replaced: %s", w.pid, reason)
        if known:
            self._spawn_requests.put(True)

    def _manage(self) -> None:
        """Start a worker for each request; this thread is every worker's parent thread."""
        while self._spawn_requests.get():
            if self._closed.is_set():
                return
            try:
                w = self._launch()
            except Exception as exc:  # e.g. EAGAIN from fork: try again shortly
                log.error("could not start a query worker: %s", exc)
                self._record_failure(str(exc))
                time.sleep(1.0)
                self._spawn_requests.put(True)
                continue
            threading.Thread(target=self._await_ready, args=(w,), name="mqmkg-worker-ready", daemon=True).start()

    def _launch(self) -> _Worker:
        parent_conn, child_conn = self._ctx.Pipe(duplex=True)
        process = self._ctx.Process(
            target=worker.serve,
            args=(child_conn, self._nquads, self._memory_mb, os.getpid()),
            name="mqmkg-query-worker",
            daemon=True,
        )
        process.start()
        child_conn.close()
        w = _Worker(process, parent_conn)
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
        if isinstance(message, Ready) and not self._closed.is_set():
            with self._changed:
                if w.pid in self._workers:
                    w.ready = True
                    self._idle.put(w)
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

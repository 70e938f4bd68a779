"""What answers queries: the served store and what runs jobs on it, started before the web app.

``mqmkg serve`` opens the store (built in memory, reused from ``--store``, or a remote
``--backend``) and starts the query workers first, and only then imports the web framework
and builds the app: the workers load while the server starts, on the other core. Nothing
here imports FastAPI.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import TypeVar, cast

import pyoxigraph as ox

from mqmkg.config import Settings
from mqmkg.sparql.dataset import Snapshot, snapshot_opened
from mqmkg.sparql.endpoint import Executor
from mqmkg.sparql.fairness import FairShare
from mqmkg.sparql.pool import WorkerPool
from mqmkg.store import open_store

T = TypeVar("T")
log = logging.getLogger("mqmkg.store")


def once(compute: Callable[[], T]) -> Callable[[], T]:
    """Return a function that computes ``compute()`` on its first successful call and returns that value ever after."""
    lock = threading.Lock()
    box: list[T] = []

    def get() -> T:
        with lock:
            if not box:
                box.append(compute())
            return box[0]

    return get


def in_background(start: Callable[[], None], name: str) -> Future[None]:
    """Run ``start`` in a thread of its own; the future holds its outcome."""
    future: Future[None] = Future()

    def run() -> None:
        try:
            start()
        except BaseException as exc:  # handed to whoever waits for the future
            future.set_exception(exc)
        else:
            future.set_result(None)

    threading.Thread(target=run, name=name, daemon=True).start()
    return future


@dataclass(frozen=True)
class Engine:
    """The served store, its statistics, what runs the endpoint's jobs, and when that is ready.

    ``summary`` says where the store came from, for the log once logging is set up.
    """

    store: ox.Store
    snapshot: Snapshot | Callable[[], Snapshot]
    executor: Executor
    ready: Future[None]
    summary: str


def start_engine(settings: Settings) -> Engine:
    """Open the store (or connect to the backend) and start the query workers, in the background."""
    return remote(settings) if settings.backend else embedded(settings)


def embedded(settings: Settings) -> Engine:
    """Open the store (built in memory, or reused from ``--store``) and start its query workers."""
    started = time.monotonic()
    opened = open_store(settings)
    # Workers load an in-memory store from its N-Quads, or open an on-disk one themselves
    # (read-only): dumping a large on-disk store at each start would undo what --store saves.
    snapshot = snapshot_opened(opened, dump=opened.path is None)
    pool = WorkerPool(
        opened.path or snapshot.nquads,
        settings.workers,
        max_queue=settings.max_queue,
        queue_wait=settings.queue_wait,
        memory_mb=settings.worker_memory_mb,
        recycle_mb=settings.worker_recycle_mb,
        fair=FairShare(
            max_per_client=settings.client_max_queries,
            reserved=settings.reserved_workers,
            long_query=settings.long_query_seconds,
            cooldown=settings.heavy_cooldown,
        ),
        federated=settings.federated_workers if settings.service_allowlist else 0,
        allowlist=settings.service_allowlist,
        require_isolation=settings.require_isolation,
    )
    ready = in_background(pool.start, "mqmkg-pool-start")
    where = "in memory" if opened.path is None else str(opened.path)
    summary = (
        f"store {'built' if opened.built else 'reused'} {where} in {time.monotonic() - started:.2f} s: "
        f"{opened.default_graph_triples:,} triples, {len(opened.graphs)} graphs, fingerprint {opened.fingerprint[:12]}"
    )
    return Engine(opened.store, snapshot, pool, ready, summary)


def remote(settings: Settings) -> Engine:
    """Connect to the ``--backend`` SPARQL server; which graphs it holds is read when first needed.

    The server starts even while the backend is down (``/health`` then says so), so that
    replicas and their backend can start in any order. The backend's data can change
    without mqmkg knowing, so the snapshot has no fingerprint and no answer is kept.
    """
    from mqmkg.sparql.remote import RemoteExecutor, connect

    store = connect(settings.backend, settings.query_timeout)
    executor = RemoteExecutor(store, settings.workers + settings.max_queue)
    ready: Future[None] = Future()
    ready.set_result(None)
    snapshot = once(lambda: Snapshot(b"", *store.stats()))
    return Engine(cast(ox.Store, store), snapshot, executor, ready, f"answering from the SPARQL backend {store.url}")

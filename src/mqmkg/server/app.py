"""The FastAPI application factory."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable
from concurrent.futures import Future
from contextlib import asynccontextmanager
from typing import TypeVar, cast

import pyoxigraph as ox
from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool
from starlette.middleware.cors import CORSMiddleware

from mqmkg import __version__
from mqmkg.config import WIKIDATA_SPARQL, Settings
from mqmkg.queries import load_catalog
from mqmkg.server.access_log import AccessLogMiddleware
from mqmkg.server.errors import install_error_handlers
from mqmkg.server.routes import catalog, export, health, home, linked, relations, source, sparql, static, timeline
from mqmkg.server.site import Published, Site, page_environment
from mqmkg.sparql.cache import ResultCache
from mqmkg.sparql.dataset import Snapshot, snapshot_opened
from mqmkg.sparql.endpoint import EXPOSED_HEADERS, Executor, SparqlEndpoint, SparqlResponse
from mqmkg.sparql.pool import WorkerPool
from mqmkg.store import open_store
from mqmkg.web.assets import load_assets

T = TypeVar("T")


def once(compute: Callable[[], T]) -> Callable[[], T]:
    """Return a function that computes ``compute()`` on its first call and returns that value ever after."""
    lock = threading.Lock()
    box: list[T] = []

    def get() -> T:
        with lock:
            if not box:
                box.append(compute())
            return box[0]

    return get


def published(settings: Settings) -> Published:
    """Make the dumps, VoID's counts and the release from the graph files.

    From the files, not from the store: pyoxigraph's store gives ``xsd:nonNegativeInteger``
    literals back as ``xsd:integer``, and the dumps keep what the curation wrote.
    """
    from mqmkg.export import canonical_quads, dumps_of
    from mqmkg.release import release_of
    from mqmkg.store import dataset_quads

    canonical = canonical_quads(dataset_quads(settings))
    release = release_of(settings.root)
    return Published(tuple(canonical), {d.name: d for d in dumps_of(canonical, release=release)}, release)


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


def embedded(settings: Settings) -> tuple[ox.Store, Snapshot | Callable[[], Snapshot], Executor, Future[None]]:
    """Open the store (built in memory, or reused from ``--store``) and start its query workers."""
    opened = open_store(settings)
    snapshot = snapshot_opened(opened)
    pool = WorkerPool(
        snapshot.nquads,
        settings.workers,
        max_queue=settings.max_queue,
        queue_wait=settings.queue_wait,
        memory_mb=settings.worker_memory_mb,
    )
    return opened.store, snapshot, pool, in_background(pool.start, "mqmkg-pool-start")


def remote(settings: Settings) -> tuple[ox.Store, Callable[[], Snapshot], Executor, Future[None]]:
    """Connect to the ``--backend`` SPARQL server; which graphs it holds is read when first needed.

    The server starts even while the backend is down (``/health`` then says so), so that
    replicas and their backend can start in any order.
    """
    from mqmkg.sparql.remote import RemoteExecutor, connect

    store = connect(settings.backend, settings.query_timeout)
    executor = RemoteExecutor(store, settings.workers + settings.max_queue)
    ready: Future[None] = Future()
    ready.set_result(None)
    # The backend's data can change without mqmkg knowing: no fingerprint, so no answer is kept.
    snapshot = once(lambda: Snapshot(b"", *store.stats()))
    return cast(ox.Store, store), snapshot, executor, ready


def create_app(settings: Settings) -> FastAPI:
    """Open the store (or connect to the ``--backend``) and return the app serving it.

    A broken graph, or a backend that cannot be reached, fails here, before the server
    binds. The query workers start at once, in the background, while the rest of the app is
    built; the server waits for them (lifespan) before it takes requests, and stops them
    when it stops. The dumps and VoID are made on their first request.
    """
    store, snapshot, pool, starting = remote(settings) if settings.backend else embedded(settings)
    site = Site(
        settings=settings,
        store=store,
        catalog=load_catalog(settings.queries_dir, {WIKIDATA_SPARQL: settings.wikidata_endpoint})
        if settings.queries_dir.is_dir()
        else {},
        published=once(lambda: published(settings)),
        pages=page_environment(),
        assets=load_assets(),
    )
    cache: ResultCache[SparqlResponse] = ResultCache(settings.result_cache, settings.result_cache_mb * 1024 * 1024)
    endpoint = SparqlEndpoint(settings, snapshot, pool, cache)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        try:
            await asyncio.wrap_future(starting)
            yield
        finally:
            await run_in_threadpool(pool.close)

    app = FastAPI(
        title="mqmkg",
        summary="A curated knowledge graph of Pakistan's MQM, served over SPARQL 1.1",
        version=__version__,
        lifespan=lifespan,
    )
    app.state.sparql = endpoint
    app.state.site = site
    install_error_handlers(app)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=["*"],
        allow_credentials=False,
        allow_methods=["GET", "POST", "OPTIONS"],
        allow_headers=["*"],
        expose_headers=list(EXPOSED_HEADERS),
    )
    app.add_middleware(AccessLogMiddleware)
    app.include_router(sparql.router)
    app.include_router(catalog.router)
    app.include_router(linked.router)
    app.include_router(export.router)
    app.include_router(home.router)
    app.include_router(health.router)
    app.include_router(static.router)
    app.include_router(source.router)
    app.include_router(timeline.router)
    app.include_router(relations.router)
    return app

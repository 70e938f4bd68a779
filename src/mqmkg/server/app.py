"""The FastAPI application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import anyio.to_thread
from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool
from starlette.middleware.cors import CORSMiddleware

from mqmkg.config import WIKIDATA_SPARQL, Settings
from mqmkg.export import canonical_quads, dumps_of
from mqmkg.queries import load_catalog
from mqmkg.server.access_log import AccessLogMiddleware
from mqmkg.server.errors import install_error_handlers
from mqmkg.server.routes import catalog, export, health, home, linked, sparql
from mqmkg.server.site import Site, page_environment
from mqmkg.sparql.dataset import build_snapshot, load_store
from mqmkg.sparql.endpoint import EXPOSED_HEADERS, SparqlEndpoint
from mqmkg.sparql.fairness import FairShare
from mqmkg.sparql.pool import WorkerPool
from mqmkg.store import dataset_quads

# Threads for the routes that do not query the pool (anyio's default for the whole server).
OTHER_THREADS = 40


def create_app(settings: Settings) -> FastAPI:
    """Build the store from ``settings.root`` and return the app serving it.

    The store is built here, so a broken graph fails before the server binds; the query
    workers start with the app (lifespan) and stop with it.
    """
    quads = dataset_quads(settings)
    snapshot = build_snapshot(settings, quads)
    canonical = canonical_quads(quads)
    site = Site(
        settings=settings,
        store=load_store(snapshot.nquads),
        catalog=load_catalog(settings.queries_dir, {WIKIDATA_SPARQL: settings.wikidata_endpoint})
        if settings.queries_dir.is_dir()
        else {},
        dumps={d.name: d for d in dumps_of(canonical)},
        quads=tuple(canonical),
        pages=page_environment(),
    )
    pool = WorkerPool(
        snapshot.nquads,
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
    )
    endpoint = SparqlEndpoint(settings, snapshot, pool)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # Each admitted query may block a thread while it waits for a worker (up to
        # queue_wait): leave room for all of them beside the other routes' threads.
        limiter = anyio.to_thread.current_default_thread_limiter()
        limiter.total_tokens = OTHER_THREADS + settings.workers + settings.max_queue
        await run_in_threadpool(pool.start)
        try:
            yield
        finally:
            # Its own thread, not one of the default limiter's: those may all be waiting on the pool.
            await anyio.to_thread.run_sync(pool.close, limiter=anyio.CapacityLimiter(1))

    app = FastAPI(
        title="mqmkg",
        summary="A curated knowledge graph of Pakistan's MQM, served over SPARQL 1.1",
        version="0.1.0",
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
    return app

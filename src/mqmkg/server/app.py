"""The FastAPI application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

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
from mqmkg.sparql.pool import WorkerPool
from mqmkg.store import dataset_quads


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
        federated=settings.federated_workers if settings.service_allowlist else 0,
        allowlist=settings.service_allowlist,
        require_isolation=settings.require_isolation,
    )
    endpoint = SparqlEndpoint(settings, snapshot, pool)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await run_in_threadpool(pool.start)
        try:
            yield
        finally:
            await run_in_threadpool(pool.close)

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

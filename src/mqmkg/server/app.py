"""The FastAPI application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import anyio.to_thread
from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool
from starlette.middleware.cors import CORSMiddleware

from mqmkg import __version__
from mqmkg.config import WIKIDATA_SPARQL, Settings
from mqmkg.export import canonical_quads, dumps_of
from mqmkg.queries import load_catalog
from mqmkg.release import release_of
from mqmkg.server.access_log import AccessLogMiddleware
from mqmkg.server.errors import install_error_handlers
from mqmkg.server.methods import MethodsMiddleware
from mqmkg.server.openapi import install_openapi
from mqmkg.server.public_url import PublicUrl, PublicUrlMiddleware
from mqmkg.server.routes import (
    catalog,
    docs,
    export,
    health,
    home,
    linked,
    quality,
    reconcile,
    relations,
    shacl,
    source,
    sparql,
    static,
    timeline,
)
from mqmkg.server.site import Site, page_environment
from mqmkg.sparql.dataset import build_snapshot, load_store
from mqmkg.sparql.endpoint import EXPOSED_HEADERS, SparqlEndpoint
from mqmkg.sparql.fairness import FairShare
from mqmkg.sparql.pool import WorkerPool
from mqmkg.store import dataset_quads
from mqmkg.web.assets import load_assets

# Threads for the routes that do not query the pool (anyio's default for the whole server).
OTHER_THREADS = 40


def create_app(settings: Settings) -> FastAPI:
    """Build the store from ``settings.root`` and return the app serving it.

    The store is built here, so a broken graph fails before the server binds; the query
    workers start with the app (lifespan) and stop with it.
    """
    if settings.public_url:
        PublicUrl.parse(settings.public_url)  # a wrong public URL fails here, not at the first request
    quads = dataset_quads(settings)
    snapshot = build_snapshot(settings, quads)
    canonical = canonical_quads(quads)
    release = release_of(settings.root)
    site = Site(
        settings=settings,
        store=load_store(snapshot.nquads),
        catalog=load_catalog(settings.queries_dir, {WIKIDATA_SPARQL: settings.wikidata_endpoint})
        if settings.queries_dir.is_dir()
        else {},
        dumps={d.name: d for d in dumps_of(canonical, release=release)},
        quads=tuple(canonical),
        pages=page_environment(),
        assets=load_assets(),
        release=release,
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
        federated=settings.federated_workers if settings.service_allowlist else 0,
        allowlist=settings.service_allowlist,
        require_isolation=settings.require_isolation,
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
        version=__version__,
        lifespan=lifespan,
        docs_url=None,  # /docs and /redoc are served from vendored assets (routes/docs.py)
        redoc_url=None,
    )
    install_openapi(app, site.catalog, {d.name: d.media_type for d in site.dumps.values()})
    app.state.sparql = endpoint
    app.state.site = site
    app.add_middleware(MethodsMiddleware, router=app.router)
    install_error_handlers(app)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=["*"],
        allow_credentials=False,
        allow_methods=["GET", "HEAD", "POST", "OPTIONS"],
        allow_headers=["*"],
        expose_headers=list(EXPOSED_HEADERS),
    )
    app.add_middleware(PublicUrlMiddleware, public_url=settings.public_url)
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
    app.include_router(docs.router)
    app.include_router(reconcile.router)
    app.include_router(shacl.router)
    app.include_router(quality.router)
    return app

"""The FastAPI application factory."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import anyio.to_thread
from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware

from mqmkg import __version__
from mqmkg.config import WIKIDATA_SPARQL, Settings
from mqmkg.queries import load_catalog
from mqmkg.server.access_log import AccessLogMiddleware
from mqmkg.server.engine import Engine, once, start_engine
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
from mqmkg.server.site import Published, Site, page_environment
from mqmkg.sparql.cache import ResultCache
from mqmkg.sparql.endpoint import EXPOSED_HEADERS, SparqlEndpoint, SparqlResponse
from mqmkg.web.assets import load_assets

log = logging.getLogger("mqmkg.store")
# Threads for the routes that do not query the pool (anyio's default for the whole server).
OTHER_THREADS = 40


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


def create_app(settings: Settings, engine: Engine | None = None) -> FastAPI:
    """Return the app serving ``engine`` (by default, the store opened and the workers started here).

    A broken graph fails before the server binds. The query workers start in the
    background; the server waits for them (lifespan) before it takes requests, and stops
    them when it stops. The dumps and VoID are made on their first request.
    """
    if settings.public_url:
        PublicUrl.parse(settings.public_url)  # a wrong public URL fails here, not at the first request
    engine = engine or start_engine(settings)
    site = Site(
        settings=settings,
        store=engine.store,
        catalog=load_catalog(settings.queries_dir, {WIKIDATA_SPARQL: settings.wikidata_endpoint})
        if settings.queries_dir.is_dir()
        else {},
        published=once(lambda: published(settings)),
        pages=page_environment(),
        assets=load_assets(),
    )
    cache: ResultCache[SparqlResponse] = ResultCache(settings.result_cache, settings.result_cache_mb * 1024 * 1024)
    endpoint = SparqlEndpoint(settings, engine.snapshot, engine.executor, cache)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        log.info(engine.summary)
        # Each admitted query may block a thread while it waits for a worker (up to
        # queue_wait): leave room for all of them beside the other routes' threads.
        limiter = anyio.to_thread.current_default_thread_limiter()
        limiter.total_tokens = OTHER_THREADS + settings.workers + settings.max_queue
        try:
            await asyncio.wrap_future(engine.ready)
            yield
        finally:
            # Its own thread, not one of the default limiter's: those may all be waiting on the pool.
            await anyio.to_thread.run_sync(engine.executor.close, limiter=anyio.CapacityLimiter(1))

    app = FastAPI(
        title="mqmkg",
        summary="A curated knowledge graph of Pakistan's MQM, served over SPARQL 1.1",
        version=__version__,
        lifespan=lifespan,
        docs_url=None,  # /docs and /redoc are served from vendored assets (routes/docs.py)
        redoc_url=None,
    )
    install_openapi(app, site.catalog, lambda: {d.name: d.media_type for d in site.dumps.values()})
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

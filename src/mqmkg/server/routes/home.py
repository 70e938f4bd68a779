"""``/``: the landing page."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from mqmkg.export import SOURCE_URL
from mqmkg.server.routes.sparql import EndpointDep
from mqmkg.server.site import SiteDep, prefers_html

router = APIRouter(tags=["service"])


@router.get("/", summary="Landing page (HTML), or links to the service's parts (JSON)")
def home(request: Request, site: SiteDep, endpoint: EndpointDep) -> Response:
    """Where to go: queries, search, SPARQL, downloads, ontology, API docs."""
    base = str(request.base_url)
    if prefers_html(request.headers.get("accept"), ("application/json",)):
        return site.render(
            "index.html",
            base=base,
            source_url=SOURCE_URL,
            query_count=len(site.catalog),
            triples=endpoint.snapshot.default_graph_triples,
            graphs=len(endpoint.snapshot.graphs),
            query=None,
        )
    links = {
        name: base + path
        for name, path in [
            ("sparql", "sparql"),
            ("prefixes", "sparql/prefixes"),
            ("queries", "queries"),
            ("search", "search"),
            ("ontology", "ontology"),
            ("export", "export/"),
            ("void", ".well-known/void"),
            ("openapi", "openapi.json"),
            ("docs", "docs"),
            ("redoc", "redoc"),
            ("health", "health"),
        ]
    }
    return JSONResponse({"name": "mqmkg", "links": links}, headers={"Vary": "Accept"})

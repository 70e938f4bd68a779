"""``/docs`` and ``/redoc``: the OpenAPI documentation, from vendored Swagger UI and ReDoc.

FastAPI's own pages load both from a CDN (and ReDoc's fonts from Google); these are the same
viewers served from ``/static/vendor/``, inside the site's menu, so they work with no network.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from mqmkg.server.site import SiteDep

router = APIRouter(tags=["site"])


def _viewer(template: str, request: Request, site: SiteDep) -> Response:
    return site.render(template, openapi_url=request.app.openapi_url or "/openapi.json")


@router.get("/docs", include_in_schema=False)
def swagger_ui(request: Request, site: SiteDep) -> Response:
    """The API documentation in Swagger UI (try the routes from the page)."""
    return _viewer("docs.html", request, site)


@router.get("/redoc", include_in_schema=False)
def redoc(request: Request, site: SiteDep) -> Response:
    """The API documentation in ReDoc (one long, searchable page)."""
    return _viewer("redoc.html", request, site)

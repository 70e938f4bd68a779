"""``/static/<path>``: the vendored assets, with ETags and long cache lifetimes."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from mqmkg.errors import NotFound
from mqmkg.server.site import SiteDep
from mqmkg.web.assets import IMMUTABLE, REVALIDATE

router = APIRouter(tags=["site"])


@router.api_route(
    "/static/{path:path}",
    methods=["GET", "HEAD"],
    summary="A static file of the web interface",
    include_in_schema=False,
)
def asset(path: str, request: Request, site: SiteDep) -> Response:
    """Serve one bundled file; a fingerprinted URL (``?v=``) is cacheable for a year."""
    found = site.assets.get(path)
    if found is None:
        raise NotFound(f"no static file {path!r}")
    fingerprinted = request.query_params.get("v") == found.version
    headers = {"ETag": found.etag, "Cache-Control": IMMUTABLE if fingerprinted else REVALIDATE}
    matches = [tag.strip() for tag in request.headers.get("if-none-match", "").split(",")]
    if found.etag in matches or "*" in matches:
        return Response(status_code=304, headers=headers)
    return Response(found.data, media_type=found.media_type, headers=headers)

"""``/export/``: the dataset dumps, with ETags, correct media types and checksums."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from mqmkg.errors import NotFound
from mqmkg.server.site import SiteDep, prefers_html

router = APIRouter(tags=["downloads"])


@router.get("/export/", summary="List the dumps with media types, sizes and SHA-256")
def index(request: Request, site: SiteDep) -> Response:
    """The downloadable files (HTML for browsers, JSON otherwise)."""
    dumps = list(site.dumps.values())
    if prefers_html(request.headers.get("accept"), ("application/json",)):
        return site.render("export.html", dumps=dumps)
    files = [
        {
            "name": d.name,
            "mediaType": d.media_type,
            "bytes": len(d.data),
            "sha256": d.sha256,
            "url": f"/export/{d.name}",
        }
        for d in dumps
    ]
    return JSONResponse({"files": files}, headers={"Vary": "Accept"})


@router.get("/export/{name}", summary="One dump (conditional GET by ETag)", operation_id="download_export")
def download(name: str, request: Request, site: SiteDep) -> Response:
    """Serve a dump byte for byte; ``If-None-Match`` with its ETag gives 304."""
    dump = site.dumps.get(name)
    if dump is None:
        raise NotFound(f"no export {name!r}; files: {', '.join(sorted(site.dumps))}")
    etag = f'"{dump.sha256}"'
    headers = {
        "ETag": etag,
        "Cache-Control": "public, max-age=3600",
        "Digest": f"sha-256={dump.sha256}",
        "Content-Disposition": f'inline; filename="{dump.name}"',
    }
    matches = [tag.strip() for tag in request.headers.get("if-none-match", "").split(",")]
    if etag in matches or "*" in matches:
        return Response(status_code=304, headers=headers)
    media_type = dump.media_type + ("; charset=utf-8" if dump.media_type.startswith("text/") else "")
    return Response(dump.data, media_type=media_type, headers=headers)

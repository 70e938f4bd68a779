"""``/source``: the provenance viewer, the source document with every evidence span marked."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse

from mqmkg.errors import NotFound
from mqmkg.provenance import source_view
from mqmkg.server.site import SiteDep, view_format

router = APIRouter(tags=["browse"])


@router.get("/source", summary="The source document with its evidence sentences (HTML, JSON or plain text)")
def source(
    request: Request,
    site: SiteDep,
    format: Annotated[str | None, Query(pattern="^(html|json|txt)$")] = None,
) -> Response:
    """The one document the graph is built from, in its paragraphs, with each evidence sentence an
    anchor (``/source#ev-<start>-<end>``) listing the claims that rest on it, coloured by cited
    report. ``format=json`` gives the spans and their claims; ``format=txt`` the verbatim text."""
    view = source_view(site.store)
    if view is None:
        raise NotFound("the store holds no source text")
    offers = {"text/html": "html", "application/json": "json", "text/plain": "txt"}
    chosen = view_format(request.headers.get("accept"), format, offers)
    if chosen == "html":
        return site.render("source.html", doc=view, query=None, section="source")
    if chosen == "txt":
        return PlainTextResponse(view.text, headers={"Vary": "Accept"})
    spans = [
        {
            "anchor": span.anchor,
            "evidence": span.quote.evidence,
            "start": span.quote.start,
            "end": span.quote.end,
            "text": span.quote.text,
            "reports": [{"iri": r.iri, "key": r.key} for r in span.reports],
            "claims": [{"iri": c.iri, "label": c.label, "kind": c.kind, "page": site.link(c.iri)} for c in span.claims],
        }
        for span in view.spans
    ]
    document = {
        "iri": view.iri,
        "title": view.title,
        "url": view.url,
        "publisher": view.publisher,
        "modifiedAsStated": view.modified,
        "sha256": view.sha256,
        "pinnedSha256": view.pinned_sha256,
    }
    return JSONResponse({"document": document, "spans": spans}, headers={"Vary": "Accept"})

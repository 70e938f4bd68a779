"""``/timeline``: events and dated figures on a time axis, at the precision the source gives."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse

from mqmkg.errors import ParameterError
from mqmkg.server.site import SiteDep, view_format
from mqmkg.timeline import TimelineItem, timeline

router = APIRouter(tags=["browse"])


def checked_period(first: int | None, last: int | None) -> None:
    """Refuse a period whose first year comes after its last."""
    if first is not None and last is not None and first > last:
        raise ParameterError(f"the period starts after it ends: from={first} > to={last}")


def item_json(item: TimelineItem, link: str) -> dict[str, object]:
    """Return a timeline item as JSON: its time at its precision, its theme, quotes and claims."""
    when = item.when
    return {
        "iri": item.iri,
        "page": link,
        "label": item.label,
        "kind": item.kind,
        "theme": item.theme,
        "figure": item.is_figure,
        "precision": when.precision,
        "time": when.text,
        "timeAsStated": when.stated,
        "earliest": when.earliest.isoformat() if when.earliest else None,
        "latest": when.latest.isoformat() if when.latest else None,
        "partOf": [iri for iri, _ in item.parents],
        "claims": list(item.claims),
        "quotes": ["/source#" + q.anchor for q in item.quotes],
    }


@router.get("/timeline", summary="Events and dated figures on a time axis (HTML or JSON)")
def timeline_view(
    request: Request,
    site: SiteDep,
    first: Annotated[int | None, Query(alias="from", ge=1000, le=2999, description="first year shown")] = None,
    last: Annotated[int | None, Query(alias="to", ge=1000, le=2999, description="last year shown")] = None,
    format: Annotated[str | None, Query(pattern="^(html|json)$")] = None,
) -> Response:
    """Every dated event and figure, grouped by theme and drawn at its precision (a year as the
    year, a month as the month, a day as a point), with its page and its quotes; undated events
    beside them with the event they belong to. ``from``/``to`` (years) narrow the period."""
    checked_period(first, last)
    data = timeline(site.store, first, last)
    chosen = view_format(request.headers.get("accept"), format, {"text/html": "html", "application/json": "json"})
    if chosen == "html":
        return site.render("timeline.html", tl=data, query=None, section="timeline")
    body = {
        "period": list(data.period) if data.period else None,
        "extent": list(data.extent),
        "items": [item_json(i, site.link(i.iri)) for i in data.items],
        "undated": [item_json(i, site.link(i.iri)) for i in data.undated],
    }
    return JSONResponse(body, headers={"Vary": "Accept"})

"""``/relations``: organisations, factions, people, groups and places as a graph of labelled,
claim-backed edges (Cytoscape.js), with the same edges as an HTML table and as JSON."""

from __future__ import annotations

import math
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse

from mqmkg.errors import ParameterError
from mqmkg.relations import CATEGORIES, EDGE_KINDS, Edge, Relations, relations
from mqmkg.server.routes.timeline import checked_period
from mqmkg.server.site import Site, SiteDep, view_format

router = APIRouter(tags=["browse"])
_KINDS = {key for key, _ in EDGE_KINDS}


def edge_json(edge: Edge, site: Site) -> dict[str, object]:
    """Return an edge as JSON: its ends, kind, label, time and the claims and quotes behind it."""
    when = edge.when
    return {
        "id": edge.id,
        "source": edge.source,
        "target": edge.target,
        "kind": edge.kind,
        "label": edge.label,
        "time": when.text if when.dated else None,
        "earliest": when.earliest.isoformat() if when.earliest else None,
        "latest": when.latest.isoformat() if when.latest else None,
        "via": edge.via,
        "claims": [{"iri": c.iri, "label": c.label, "page": site.link(c.iri)} for c in edge.claims],
        "quotes": ["/source#" + q.anchor for q in edge.quotes],
    }


def graph_elements(data: Relations, site: Site) -> list[dict[str, object]]:
    """Return Cytoscape.js elements: nodes on a circle by category (a fixed start for the
    layout, so the drawing is the same on every load), then edges linked to their claims."""
    count = max(len(data.nodes), 1)
    radius = 60 * count / math.pi
    elements: list[dict[str, object]] = []
    for i, node in enumerate(data.nodes):
        angle = 2 * math.pi * i / count
        elements.append(
            {
                "group": "nodes",
                "data": {"id": node.iri, "label": node.label, "category": node.category, "href": site.link(node.iri)},
                "position": {"x": round(radius * math.cos(angle), 1), "y": round(radius * math.sin(angle), 1)},
            }
        )
    for edge in data.edges:
        claim = edge.claims[0].iri if edge.claims else edge.via or edge.source
        label = f"{edge.label} ({edge.when.text})" if edge.when.dated else edge.label
        elements.append(
            {
                "group": "edges",
                "data": {
                    "id": edge.id,
                    "source": edge.source,
                    "target": edge.target,
                    "label": label,
                    "kind": edge.kind,
                    "href": site.link(claim),
                },
            }
        )
    return elements


@router.get("/relations", summary="Relations between organisations, people and places (HTML or JSON)")
def relations_view(
    request: Request,
    site: SiteDep,
    kind: Annotated[list[str] | None, Query(description="edge kinds to show (repeatable); all when absent")] = None,
    first: Annotated[int | None, Query(alias="from", ge=1000, le=2999, description="first year")] = None,
    last: Annotated[int | None, Query(alias="to", ge=1000, le=2999, description="last year")] = None,
    undated: Annotated[bool, Query(description="with a period: keep relations the source does not date")] = True,
    format: Annotated[str | None, Query(pattern="^(html|json)$")] = None,
) -> Response:
    """Splits, names, leadership, membership, offices, alliances and their rupture, rivalries,
    accusations and denials, each edge linked to the claim behind it; filter by kind and period."""
    unknown = sorted(set(kind or ()) - _KINDS)
    if unknown:
        raise ParameterError(f"unknown relation kind {unknown[0]!r}; one of {', '.join(k for k, _ in EDGE_KINDS)}")
    checked_period(first, last)
    period = None if first is None and last is None else (first or 1000, last or 2999)
    data = relations(site.store, kind or (), period, undated)
    chosen = view_format(request.headers.get("accept"), format, {"text/html": "html", "application/json": "json"})
    names = {node.iri: node.label for node in data.nodes}
    if chosen == "html":
        return site.render(
            "relations.html",
            rel=data,
            names=names,
            kinds=EDGE_KINDS,
            categories=CATEGORIES,
            elements=graph_elements(data, site),
            first=first,
            last=last,
            query=None,
            section="relations",
        )
    nodes = [{"iri": n.iri, "label": n.label, "category": n.category, "page": site.link(n.iri)} for n in data.nodes]
    body = {
        "kinds": sorted(data.kinds),
        "period": list(period) if period else None,
        "nodes": nodes,
        "edges": [edge_json(e, site) for e in data.edges],
        "hiddenUndated": data.hidden_undated,
    }
    return JSONResponse(body, headers={"Vary": "Accept"})

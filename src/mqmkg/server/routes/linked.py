"""Linked data: entity pages under ``/id/``, the ontology, label search, VoID, downloads.

Entity IRIs ``https://w3id.org/mqmkg/id/<name>`` (``Settings.public_base``) resolve at
``/id/<name>``: HTML for browsers, Turtle, JSON-LD, N-Triples or RDF/XML by ``Accept`` or
by suffix (``.ttl``, ``.jsonld``, ``.nt``, ``.rdf``).
"""

from __future__ import annotations

from typing import Annotated

import pyoxigraph as ox
from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse

from mqmkg.config import GRAPH_BASE, ONTOLOGY_NS
from mqmkg.errors import InvalidIri, NotAcceptable, NotFound
from mqmkg.export import canonical_quads, void_turtle
from mqmkg.iri import named_node
from mqmkg.linked import entity_triples, entity_view, ontology_terms, ontology_triples, search
from mqmkg.server.site import HTML, Site, SiteDep, prefers_html
from mqmkg.sparql.formats import GRAPH_FORMATS, JSONLD, NTRIPLES, RDFXML, TURTLE, Format, ResultKind, choose
from mqmkg.sparql.results import serialize_triples

router = APIRouter(tags=["linked data"])
SUFFIXES: dict[str, Format] = {".ttl": TURTLE, ".jsonld": JSONLD, ".nt": NTRIPLES, ".rdf": RDFXML}
ONTOLOGY_GRAPHS = (GRAPH_BASE + "mqmkg", GRAPH_BASE + "alignments")
GRAPH_TYPES = tuple(f.media_type for f in GRAPH_FORMATS)


def split_suffix(name: str) -> tuple[str, Format | None]:
    """Split ``karachi.ttl`` into ``("karachi", TURTLE)``; a name without a known suffix stays whole."""
    for suffix, fmt in SUFFIXES.items():
        if name.endswith(suffix):
            return name[: -len(suffix)], fmt
    return name, None


def graph_response(triples: list[ox.Triple], fmt: Format, link: str | None = None) -> Response:
    """Serialise triples in a graph format, with a ``Vary`` and optional canonical ``Link``."""
    headers = {"Vary": "Accept"}
    if link:
        headers["Link"] = f'<{link}>; rel="canonical"'
    return Response(serialize_triples(triples, fmt), media_type=fmt.content_type(), headers=headers)


def negotiated_graph_format(request: Request) -> Format:
    """Return the graph format the client accepts, or raise 406 naming the offers."""
    choice = choose([], request.headers.get("accept"), ResultKind.GRAPH)
    if choice is None:
        raise NotAcceptable(
            f"offered: {HTML}, {', '.join(GRAPH_TYPES)} (or a .ttl, .jsonld, .nt, .rdf suffix)",
            (HTML, *GRAPH_TYPES),
        )
    return choice.format


def _not_found(site: Site, iri: str, name: str, html: bool, why: str = "") -> Response:
    suggestions = search(site.store, name.replace("-", " "), limit=8)
    if html:
        return site.render("not_found.html", status=404, iri=iri, suggestions=suggestions)
    raise NotFound(f"no entity {iri}{why}", tuple({"iri": hit.iri, "name": hit.name} for hit in suggestions))


@router.get("/id/{name:path}", summary="An entity: HTML page, or RDF by Accept or suffix")
def entity(name: str, request: Request, site: SiteDep) -> Response:
    """Dereference ``https://w3id.org/mqmkg/id/<name>``; unknown names give 404 with suggestions."""
    bare, suffix_format = split_suffix(name)
    iri = site.settings.public_base + bare
    html = suffix_format is None and prefers_html(request.headers.get("accept"), GRAPH_TYPES)
    try:
        named_node(iri)
    except InvalidIri as exc:  # e.g. /id/a%20b: no entity can have this name
        return _not_found(site, iri, bare, html, f" ({exc.reason} at character {exc.position + 1})")
    view = entity_view(site.store, iri)
    if not view.exists:
        return _not_found(site, iri, bare, html)
    if html:
        alternates = [(fmt.media_type, f"/id/{bare}{suffix}") for suffix, fmt in SUFFIXES.items()]
        return site.render("entity.html", view=view, alternates=alternates, query=None)
    fmt = suffix_format or negotiated_graph_format(request)
    return graph_response(entity_triples(site.store, iri), fmt, f"/id/{bare}")


@router.get("/ontology{suffix:path}", summary="The ontology: HTML overview, or RDF by Accept or suffix")
def ontology(suffix: str, request: Request, site: SiteDep) -> Response:
    """The mqmkg ontology (``https://w3id.org/mqmkg/ontology#``): classes, properties, schemes."""
    if suffix and suffix not in SUFFIXES:
        raise NotFound(f"no ontology document /ontology{suffix}; try .ttl, .jsonld, .nt or .rdf")
    fmt = SUFFIXES.get(suffix)
    if fmt is None and prefers_html(request.headers.get("accept"), GRAPH_TYPES):
        return site.render("ontology.html", sections=ontology_terms(site.store), namespace=ONTOLOGY_NS)
    fmt = fmt or negotiated_graph_format(request)
    return graph_response(ontology_triples(site.store, ONTOLOGY_GRAPHS), fmt)


@router.get("/search", summary="Find entities by any spelling of their names")
def search_labels(
    request: Request,
    site: SiteDep,
    q: Annotated[str, Query(max_length=200, description="text to find in labels")] = "",
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
    format: Annotated[str | None, Query(pattern="^(html|json)$")] = None,
) -> Response:
    """Case-, accent-, punctuation- and spacing-insensitive label search, best matches first."""
    hits = search(site.store, q, limit)
    html = format == "html" or (format is None and prefers_html(request.headers.get("accept"), ("application/json",)))
    if html:
        return site.render("search.html", query=q, hits=hits)
    results = [
        {
            "iri": h.iri,
            "name": h.name,
            "matched": h.matched,
            "labelKind": h.kind,
            "score": h.score,
            "page": site.link(h.iri),
        }
        for h in hits
    ]
    return JSONResponse({"query": q, "results": results}, headers={"Vary": "Accept"})


@router.get("/.well-known/void", summary="VoID and DCAT description of the dataset")
def void(request: Request, site: SiteDep) -> Response:
    """The dataset, its endpoint, its dumps (with checksums) and triple counts; Turtle by default."""
    fmt = negotiated_graph_format(request)
    data = void_turtle(
        [d for d in site.dumps.values() if d.name not in ("void.ttl", "SHA256SUMS")],
        site.quads,
        str(request.base_url),
    )
    # Canonical blank node labels, so the same VoID is the same bytes (and GET and HEAD agree).
    quads = canonical_quads(ox.parse(data, format=ox.RdfFormat.TURTLE))
    return graph_response([ox.Triple(q.subject, q.predicate, q.object) for q in quads], fmt)

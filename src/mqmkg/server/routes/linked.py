"""Linked data: entity pages under ``/id/``, the ontology, label search, VoID, downloads.

Entity IRIs ``https://w3id.org/mqmkg/id/<name>`` (``Settings.public_base``) resolve at
``/id/<name>``: HTML for browsers, Turtle, JSON-LD, N-Triples or RDF/XML by ``Accept`` or
by suffix (``.ttl``, ``.jsonld``, ``.nt``, ``.rdf``).
"""

from __future__ import annotations

from typing import Annotated

import pyoxigraph as ox
from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse

from mqmkg.config import DOC_IRI, GRAPH_BASE, ONTOLOGY_NS
from mqmkg.errors import InvalidIri, NotAcceptable, NotFound, ParameterError
from mqmkg.export import canonical_quads, void_turtle
from mqmkg.iri import named_node
from mqmkg.linked import (
    GROUPS,
    LABEL_KINDS,
    SEARCH_SECTIONS,
    entities_named,
    entity_triples,
    entity_view,
    instances,
    ontology_terms,
    ontology_triples,
    search,
    type_counts,
)
from mqmkg.server.site import HTML, Site, SiteDep, prefers_html
from mqmkg.sparql.formats import GRAPH_FORMATS, JSONLD, NTRIPLES, RDFXML, TURTLE, Format, ResultKind, choose
from mqmkg.sparql.results import serialize_triples

router = APIRouter(tags=["linked data"])
SUFFIXES: dict[str, Format] = {".ttl": TURTLE, ".jsonld": JSONLD, ".nt": NTRIPLES, ".rdf": RDFXML}
ONTOLOGY_GRAPHS = (GRAPH_BASE + "mqmkg", GRAPH_BASE + "alignments")
GRAPH_TYPES = tuple(f.media_type for f in GRAPH_FORMATS)
CLAIM_KINDS = "^(" + "|".join(key for key, _ in GROUPS) + ")$"


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


def _not_found(site: Site, iri: str, name: str, html: bool, named: tuple[str, ...] = (), why: str = "") -> Response:
    suggestions = search(site.store, name.replace("-", " "), limit=max(8, len(named)))
    if html:
        return site.render("not_found.html", status=404, iri=iri, suggestions=suggestions)
    message = f"no entity {iri}{why}" + (f"; {name!r} names {len(named)} entities" if named else "")
    raise NotFound(message, tuple({"iri": hit.iri, "name": hit.name} for hit in suggestions))


def _redirect_to_named(site: Site, target: str, suffix: str, request: Request) -> Response:
    """303 from a name to the one entity it names, keeping the suffix and the query string.

    303 See Other, not 301: ``/id/<name>`` is a lookup by label, not an IRI of the graph,
    and the answer can change when the curation adds a label elsewhere (the name then
    becomes ambiguous); a 301 would let clients and caches treat it as a permanent alias.
    """
    query = f"?{request.url.query}" if request.url.query else ""
    return RedirectResponse(site.link(target) + suffix + query, status_code=303)


@router.get("/id/{name:path}", summary="An entity: HTML page, or RDF by Accept or suffix")
def entity(
    name: str,
    request: Request,
    site: SiteDep,
    kind: Annotated[str | None, Query(pattern=CLAIM_KINDS, description="HTML only: list claims of one kind")] = None,
) -> Response:
    """Dereference ``https://w3id.org/mqmkg/id/<name>``.

    A name that is no entity but one entity's label (normalized as ``/search`` does:
    ``mqm-a``, ``MQM(A)``) is a 303 to that entity; other names give 404 with suggestions.
    """
    bare, suffix_format = split_suffix(name)
    iri = site.settings.public_base + bare
    html = suffix_format is None and prefers_html(request.headers.get("accept"), GRAPH_TYPES)
    try:
        named_node(iri)
        why = ""
    except InvalidIri as exc:  # e.g. /id/MQM%20(A): no entity has this IRI, but it may be one's name
        why = f" ({exc.reason} at character {exc.position + 1})"
    view = entity_view(site.store, iri) if not why else None
    if view is None or not view.exists:
        named = entities_named(site.store, bare, site.settings.public_base)
        if len(named) == 1:
            return _redirect_to_named(site, named[0], name[len(bare) :], request)
        return _not_found(site, iri, bare, html, named, why)
    if html:
        alternates = [(fmt.media_type, f"/id/{bare}{suffix}") for suffix, fmt in SUFFIXES.items()]
        return site.render(
            "entity.html",
            view=view,
            alternates=alternates,
            kind=kind,
            label_kinds=LABEL_KINDS,
            is_document=iri == DOC_IRI,
            query=None,
        )
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


@router.get("/search", summary="Find entities by any spelling of their names, or browse them by type")
def search_labels(
    request: Request,
    site: SiteDep,
    q: Annotated[str, Query(max_length=200, description="text to find in labels")] = "",
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
    format: Annotated[str | None, Query(pattern="^(html|json)$")] = None,
    type_: Annotated[str | None, Query(alias="type", max_length=500, description="browse: a class IRI")] = None,
) -> Response:
    """Case-, accent-, punctuation- and spacing-insensitive label search, best matches first.

    Each hit has its types, its section (entities, events, facts, sources, claims) and the
    label that matched. Without ``q``: the classes with their instance counts; with
    ``type``: that class's instances.
    """
    html = format == "html" or (format is None and prefers_html(request.headers.get("accept"), ("application/json",)))
    types = type_counts(site.store)
    if type_ is not None:
        chosen = next((t for t in types if t.iri == type_), None)
        if chosen is None:
            raise ParameterError(f"no instances of type {type_!r}; browse /search for the types with instances")
        members = instances(site.store, type_)
        if html:
            return site.render(
                "search.html", query="", hits=[], types=types, chosen=chosen, members=members, section="search"
            )
        listed = [{"iri": iri, "name": name, "page": site.link(iri)} for iri, name in members]
        return JSONResponse({"type": type_, "label": chosen.label, "instances": listed}, headers={"Vary": "Accept"})
    hits = search(site.store, q, limit)
    if html:
        return site.render(
            "search.html",
            query=q,
            hits=hits,
            sections=SEARCH_SECTIONS,
            types=types,
            chosen=None,
            members=[],
            section="search",
        )
    results = [
        {
            "iri": h.iri,
            "name": h.name,
            "matched": h.matched,
            "labelKind": h.kind,
            "score": h.score,
            "types": list(h.types),
            "section": h.section,
            "page": site.link(h.iri),
        }
        for h in hits
    ]
    body: dict[str, object] = {"query": q, "results": results}
    if not q.strip():
        body["types"] = [{"iri": t.iri, "label": t.label, "section": t.section, "count": t.count} for t in types]
    return JSONResponse(body, headers={"Vary": "Accept"})


@router.get("/.well-known/void", summary="VoID and DCAT description of the dataset")
def void(request: Request, site: SiteDep) -> Response:
    """The dataset, its endpoint, its dumps (with checksums) and triple counts; Turtle by default."""
    fmt = negotiated_graph_format(request)
    data = void_turtle(list(site.dumps.values()), site.quads, str(request.base_url), site.release)
    # Canonical blank node labels, so the same VoID is the same bytes (and GET and HEAD agree).
    quads = canonical_quads(ox.parse(data, format=ox.RdfFormat.TURTLE))
    return graph_response([ox.Triple(q.subject, q.predicate, q.object) for q in quads], fmt)

"""``/queries``: the canned queries, their text, and runs with parameters bound safely."""

from __future__ import annotations

from urllib.parse import parse_qsl

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse

from mqmkg.errors import NotFound, ParameterError
from mqmkg.queries import CannedQuery
from mqmkg.server.routes.sparql import EndpointDep, client_of
from mqmkg.server.site import SiteDep, prefers_html
from mqmkg.sparql.formats import GRAPH_FORMATS, RESULT_FORMATS
from mqmkg.sparql.guard import query_form
from mqmkg.sparql.protocol import QueryRequest

router = APIRouter(tags=["canned queries"])
SPARQL_QUERY = "application/sparql-query"


def formats_for(query: CannedQuery) -> list[str]:
    """Return the ``format=`` names a query's result can be given in."""
    graph = query_form(query.text) in ("CONSTRUCT", "DESCRIBE")
    return [f.name for f in (GRAPH_FORMATS if graph else RESULT_FORMATS)]


def _lookup(site: SiteDep, name: str) -> CannedQuery:
    if name not in site.catalog:
        raise NotFound(f"no canned query named {name!r}; see /queries for the list")
    return site.catalog[name]


def describe(query: CannedQuery, base: str) -> dict[str, object]:
    """Return the JSON description of a canned query, with its links."""
    return {
        "name": query.name,
        "title": query.title,
        "description": query.description,
        "keywords": list(query.keywords),
        "form": query_form(query.text),
        "parameters": [
            {"name": p.name, "type": p.kind, "default": p.default, "description": p.description}
            for p in query.parameters
        ],
        "links": {
            "self": f"{base}queries/{query.name}",
            "text": f"{base}queries/{query.name}?format=rq",
            "run": {fmt: f"{base}queries/{query.name}/run?format={fmt}" for fmt in formats_for(query)},
        },
    }


def _wants(request: Request, others: tuple[str, ...]) -> str:
    """Return "html", "json" or "rq" from ``format=`` or the Accept header."""
    requested = request.query_params.get("format")
    if requested in ("html", "json", "rq"):
        return requested
    if requested:
        raise ParameterError(f"format={requested!r}: use html, json or rq")
    accept = request.headers.get("accept")
    return "html" if prefers_html(accept, others) else "rq" if SPARQL_QUERY in (accept or "") else "json"


@router.get("/queries", summary="List the canned queries (HTML or JSON)")
def list_queries(request: Request, site: SiteDep) -> Response:
    """Every canned query with its title, description, parameters and run links."""
    base = str(request.base_url)
    queries = sorted(site.catalog.values(), key=lambda q: q.title.casefold())
    if _wants(request, ("application/json",)) == "html":
        return site.render("queries.html", queries=queries, formats_for=formats_for)
    return JSONResponse({"queries": [describe(q, base) for q in queries]}, headers={"Vary": "Accept"})


@router.get("/queries/{name}", summary="One canned query: its text, parameters and run links")
def show_query(name: str, request: Request, site: SiteDep) -> Response:
    """The query as HTML, JSON, or its raw text (``format=rq`` / ``Accept: application/sparql-query``)."""
    query = _lookup(site, name)
    wanted = _wants(request, ("application/json", SPARQL_QUERY))
    if wanted == "html":
        return site.render("query.html", q=query, formats=formats_for(query))
    if wanted == "rq":
        return PlainTextResponse(query.text, media_type=SPARQL_QUERY, headers={"Vary": "Accept"})
    body = describe(query, str(request.base_url)) | {"text": query.text}
    return JSONResponse(body, headers={"Vary": "Accept"})


@router.get("/queries/{name}/run", summary="Run a canned query with parameters, in any result format")
def run_query(name: str, request: Request, site: SiteDep, endpoint: EndpointDep) -> Response:
    """Bind ``?param=value`` pairs as RDF terms (never into the text) and run it like ``/sparql``."""
    query = _lookup(site, name)
    pairs = parse_qsl(request.url.query, keep_blank_values=True)
    formats = tuple(value for key, value in pairs if key == "format")
    values: dict[str, str] = {}
    for key, value in pairs:
        if key == "format":
            continue
        if key in values:
            raise ParameterError(f"parameter {key!r} given more than once")
        values[key] = value
    substitutions = tuple((var.value, term) for var, term in query.substitutions(values).items())
    sparql = QueryRequest(
        query=query.text,
        default_graphs=(),
        named_graphs=(),
        formats=formats,
        accept=request.headers.get("accept"),
        endpoint=f"{request.base_url}sparql",
    )
    result = endpoint.answer(sparql, query.text, substitutions, client_of(request))
    headers = dict(result.headers) | {"Content-Type": result.content_type}
    return Response(content=result.body, headers=headers)

"""``/queries``: the canned queries, their text, and runs with parameters bound safely.

Browsers get pages in the manner of Datasette's canned queries: the parameter form, the
highlighted query text, and runs shown as a table (``format=html``, or by ``Accept``) with
the row count, the time, the truncation notice and download links in every format. Every
other run carries a ``Content-Disposition`` file name (``<query>.<extension>``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse

from mqmkg.errors import MqmkgError, NotFound, ParameterError
from mqmkg.queries import CannedQuery
from mqmkg.server.errors import status_for
from mqmkg.server.routes.sparql import EndpointDep, client_of, prefers_html_to_results, sparql_response
from mqmkg.server.site import Site, SiteDep, prefers_html
from mqmkg.sparql.endpoint import ROW_LIMIT_HEADER, ROWS_HEADER, TRUNCATED_HEADER, SparqlEndpoint, SparqlResponse
from mqmkg.sparql.formats import ALL_FORMATS, GRAPH_FORMATS, RESULT_FORMATS, Format
from mqmkg.sparql.guard import query_form
from mqmkg.sparql.protocol import QueryRequest, parse_params
from mqmkg.web.editor import EXTENSIONS, example_text, wikidata_items
from mqmkg.web.results import CellMaker, Table, highlight_sparql

router = APIRouter(tags=["canned queries"])
SPARQL_QUERY = "application/sparql-query"


def formats_for(query: CannedQuery) -> list[str]:
    """Return the ``format=`` names a query's result can be given in."""
    return [f.name for f in _formats_of(query)]


def _formats_of(query: CannedQuery) -> tuple[Format, ...]:
    return GRAPH_FORMATS if query_form(query.text) in ("CONSTRUCT", "DESCRIBE") else RESULT_FORMATS


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


def run_link(query: CannedQuery, values: dict[str, str], fmt: str) -> str:
    """Return the URL running ``query`` with ``values`` in format ``fmt`` (``html`` for the page)."""
    return f"/queries/{query.name}/run?{urlencode([*values.items(), ('format', fmt)])}"


@dataclass(frozen=True)
class Run:
    """A run shown on the page: the table, how many rows, how long, and whether it was cut."""

    table: Table
    rows: int
    seconds: float
    truncated: bool
    row_limit: int


def _page(
    site: Site,
    query: CannedQuery,
    values: dict[str, str],
    run: Run | None = None,
    error: str | None = None,
    status: int = 200,
) -> Response:
    current = {p.name: values.get(p.name, p.default) for p in query.parameters}
    try:
        editor_text = example_text(query, current)
    except ParameterError:  # the values are refused: the page shows why; the editor gets the defaults
        editor_text = example_text(query)
    return site.render(
        "query.html",
        status=status,
        q=query,
        values=current,
        formats=formats_for(query),
        downloads=[(f.name, EXTENSIONS[f.name], run_link(query, current, f.name)) for f in _formats_of(query)],
        highlighted=highlight_sparql(query.text),
        editor_link="/sparql?" + urlencode({"query": editor_text}),
        run=run,
        error=error,
    )


@router.get("/queries", summary="List the canned queries (HTML or JSON)")
def list_queries(request: Request, site: SiteDep) -> Response:
    """Every canned query with its title, description, parameters and run links."""
    base = str(request.base_url)
    queries = sorted(site.catalog.values(), key=lambda q: q.title.casefold())
    if _wants(request, ("application/json",)) == "html":
        return site.render("queries.html", queries=queries, formats_for=formats_for, run_link=run_link)
    return JSONResponse({"queries": [describe(q, base) for q in queries]}, headers={"Vary": "Accept"})


@router.get("/queries/{name}", summary="One canned query: its text, parameters and run links")
def show_query(name: str, request: Request, site: SiteDep) -> Response:
    """The query as HTML, JSON, or its raw text (``format=rq`` / ``Accept: application/sparql-query``)."""
    query = _lookup(site, name)
    wanted = _wants(request, ("application/json", SPARQL_QUERY))
    if wanted == "html":
        return _page(site, query, {})
    if wanted == "rq":
        return PlainTextResponse(query.text, media_type=SPARQL_QUERY, headers={"Vary": "Accept"})
    body = describe(query, str(request.base_url)) | {"text": query.text}
    return JSONResponse(body, headers={"Vary": "Accept"})


def _run_parameters(request: Request) -> tuple[tuple[str, ...], dict[str, str]]:
    pairs = parse_params(request.scope.get("query_string", b""), "the URL query string")
    formats = tuple(value for key, value in pairs if key == "format")
    values: dict[str, str] = {}
    for key, value in pairs:
        if key == "format":
            continue
        if key in values:
            raise ParameterError(f"parameter {key!r} given more than once")
        values[key] = value
    return formats, values


def _run(
    endpoint: SparqlEndpoint,
    request: Request,
    query: CannedQuery,
    values: dict[str, str],
    formats: tuple[str, ...],
    if_none_match: str | None = None,
) -> SparqlResponse:
    substitutions = tuple((var.value, term) for var, term in query.substitutions(values).items())
    sparql = QueryRequest(
        query=query.text,
        default_graphs=(),
        named_graphs=(),
        formats=formats,
        accept=request.headers.get("accept"),
        endpoint=f"{request.base_url}sparql",
    )
    return endpoint.answer(sparql, query.text, substitutions, if_none_match, client_of(request))


def _run_page(
    site: Site, endpoint: SparqlEndpoint, request: Request, query: CannedQuery, values: dict[str, str]
) -> Response:
    graph = query_form(query.text) in ("CONSTRUCT", "DESCRIBE")
    started = time.perf_counter()
    try:
        result = _run(endpoint, request, query, values, ("ntriples",) if graph else ("json",))
    except MqmkgError as exc:
        return _page(site, query, values, error=str(exc), status=status_for(exc))
    seconds = time.perf_counter() - started
    cells = CellMaker(site.link, wikidata_items(site.settings))
    table = cells.from_ntriples(result.body) if graph else cells.from_json(result.body)
    headers = dict(result.headers)
    run = Run(
        table=table,
        rows=int(headers[ROWS_HEADER]),
        seconds=seconds,
        truncated=headers[TRUNCATED_HEADER] == "true",
        row_limit=int(headers[ROW_LIMIT_HEADER]),
    )
    response = _page(site, query, values, run=run)
    response.headers.update({k: v for k, v in headers.items() if k.startswith("X-MQMKG-")})
    return response


def _file_name(query: CannedQuery, content_type: str) -> str:
    media = content_type.split(";")[0].strip()
    fmt = next((f for f in ALL_FORMATS if media in (f.media_type, *f.aliases)), None)
    return f"{query.name}.{EXTENSIONS[fmt.name] if fmt else 'txt'}"


@router.get("/queries/{name}/run", summary="Run a canned query with parameters, in any result format or as a page")
def run_query(name: str, request: Request, site: SiteDep, endpoint: EndpointDep) -> Response:
    """Bind ``?param=value`` pairs as RDF terms (never into the text) and run it like ``/sparql``.

    ``format=html`` (or a browser's ``Accept``) shows the result as a table; every other
    format comes as a download named ``<query>.<extension>``.
    """
    query = _lookup(site, name)
    formats, values = _run_parameters(request)
    if "html" in formats or (not formats and prefers_html_to_results(request.headers.get("accept"))):
        return _run_page(site, endpoint, request, query, values)
    result = _run(endpoint, request, query, values, formats, request.headers.get("if-none-match"))
    response = sparql_response(result)
    if result.status == 200:
        response.headers["Content-Disposition"] = f'attachment; filename="{_file_name(query, result.content_type)}"'
    return response

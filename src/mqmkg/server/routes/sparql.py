"""``/sparql``: the SPARQL 1.1 Protocol query operation and the service description.

The handlers are ``async``: they read the request body without blocking, check and
negotiate a short query and answer it from the result cache on the event loop (no thread
hop), and wait for a query worker in the thread pool.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from mqmkg.errors import PayloadTooLarge, ProtocolError
from mqmkg.server.site import HTML, SiteDep, get_site
from mqmkg.sparql.conneg import negotiate
from mqmkg.sparql.endpoint import SparqlEndpoint, SparqlResponse
from mqmkg.sparql.formats import ALL_FORMATS
from mqmkg.sparql.prefixes import HOUSE_PREFIXES, KNOWN_PREFIXES
from mqmkg.sparql.protocol import HttpInput
from mqmkg.web.editor import editor_config, examples, wikidata_items

router = APIRouter(tags=["SPARQL"])

_PARAMETERS = [
    {
        "name": "query",
        "in": "query",
        "required": False,
        "schema": {"type": "string", "pattern": "\\S"},
        "description": "A SPARQL 1.1 query (exactly one). Without it, GET returns the service description.",
        "examples": {
            "ask": {"value": "ASK { ?s ?p ?o }"},
            "select": {"value": "SELECT ?class (COUNT(*) AS ?n) WHERE { ?s a ?class } GROUP BY ?class"},
            "construct": {"value": "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o } LIMIT 5"},
        },
    },
    {
        "name": "default-graph-uri",
        "in": "query",
        "required": False,
        "schema": {"type": "array", "items": {"type": "string", "format": "iri"}},
        "explode": True,
        "description": "Named graphs of the store to merge into the default graph (repeatable).",
    },
    {
        "name": "named-graph-uri",
        "in": "query",
        "required": False,
        "schema": {"type": "array", "items": {"type": "string", "format": "iri"}},
        "explode": True,
        "description": "Named graphs of the store available to GRAPH (repeatable).",
    },
    {
        "name": "format",
        "in": "query",
        "required": False,
        "schema": {
            "type": "string",
            "enum": ["json", "xml", "csv", "tsv", "turtle", "ntriples", "jsonld", "rdfxml"],
        },
        "description": "Result format; overrides the Accept header.",
    },
]


def get_endpoint(request: Request) -> SparqlEndpoint:
    """Return the app's endpoint (built by ``create_app``)."""
    endpoint: SparqlEndpoint = request.app.state.sparql
    return endpoint


EndpointDep = Annotated[SparqlEndpoint, Depends(get_endpoint)]


def client_of(request: Request) -> str:
    """Return the client's identity for fair sharing: its address (uvicorn has already put the
    X-Forwarded-For client there when the peer is one of ``Settings.trusted_proxies``)."""
    return request.client.host if request.client else ""


async def read_body(request: Request, limit: int) -> bytes:
    """Read the request body, refusing it with 413 as soon as it exceeds ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            length = int(declared)
        except ValueError:
            raise ProtocolError(f"invalid Content-Length: {declared!r}") from None
        if length > limit:
            raise PayloadTooLarge(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(limit)
        chunks.append(chunk)
    return b"".join(chunks)


async def _respond(request: Request, endpoint: SparqlEndpoint, body: bytes) -> Response:
    inp = HttpInput(
        method=request.method,
        query_string=request.scope.get("query_string", b""),
        content_type=request.headers.get("content-type"),
        body=body,
        accept=request.headers.get("accept"),
        endpoint=str(request.url.replace(query="", fragment="")),
        if_none_match=request.headers.get("if-none-match"),
    )
    client = client_of(request)
    if len(inp.query_string) + len(inp.body) > ON_LOOP_BYTES:  # a long text: read it off the event loop
        return sparql_response(await run_in_threadpool(endpoint.handle, inp, client))
    started = endpoint.start(inp, client)  # no waiting: a cached answer or a 304 goes out without a thread hop
    if isinstance(started, SparqlResponse):
        return sparql_response(started)
    return sparql_response(await run_in_threadpool(endpoint.finish, started))


# Requests up to this size are checked, negotiated and answered from the cache on the event loop
# (a few hundred microseconds at most); longer ones entirely in the thread pool.
ON_LOOP_BYTES = 16 * 1024


def sparql_response(result: SparqlResponse) -> Response:
    """Turn the endpoint's answer into an HTTP response (a 304 carries no Content-Type)."""
    headers = dict(result.headers)
    if result.content_type:
        headers["Content-Type"] = result.content_type
    return Response(content=result.body, status_code=result.status, headers=headers)


# Every media type a SPARQL client may ask for; HTML comes last so it loses every tie (``*/*``).
_PROTOCOL_TYPES = tuple(media for f in ALL_FORMATS for media in (f.media_type, *f.aliases))


def prefers_html_to_results(accept: str | None) -> bool:
    """Tell whether ``Accept`` prefers HTML to every SPARQL result type: a browser, not ``*/*``."""
    return negotiate(accept, (*_PROTOCOL_TYPES, HTML)) == HTML


def is_navigation(request: Request) -> bool:
    """Tell whether a request is a browser loading a page: ``Sec-Fetch-Dest: document``, or an
    ``Accept`` that lists XHTML, as every browser's page request does."""
    accept = (request.headers.get("accept") or "").lower()
    return request.headers.get("sec-fetch-dest") == "document" or "application/xhtml+xml" in accept


def wants_editor(request: Request) -> bool:
    """Tell whether a GET asks for the editor: no ``format=``, HTML preferred to every SPARQL type,
    and either a browser's page load or no SPARQL type acceptable at all.

    ``*/*`` alone (curl, most libraries) still gets results or the service description; so
    does Java's default ``text/html, image/gif, image/jpeg, *; q=.2, */*; q=.2``, which prefers
    HTML but is no browser and accepts results too. An Accept header that does not name HTML
    cannot prefer it (HTML loses every tie), so protocol clients are told apart without
    parsing anything.
    """
    accept = request.headers.get("accept")
    if not accept or "html" not in accept.lower():
        return False
    if "format" in request.query_params or not prefers_html_to_results(accept):
        return False
    return is_navigation(request) or negotiate(accept, _PROTOCOL_TYPES) is None


def editor_page(request: Request, site: SiteDep) -> Response:
    """The query editor (YASGUI); it runs ``?query=``, if any, in the browser."""
    settings = site.settings
    found = examples(site.catalog)
    endpoint_url = str(request.url.replace(query="", fragment=""))
    return site.render(
        "sparql.html",
        endpoint_url=endpoint_url,
        examples=found,
        prefixes=HOUSE_PREFIXES,
        settings=settings,
        config=editor_config(settings, found, wikidata_items(settings), endpoint_url),
    )


@router.get(
    "/sparql",
    summary="SPARQL query via GET, the service description, or (for browsers) the query editor",
    response_class=Response,
    openapi_extra={"parameters": _PARAMETERS},
)
async def sparql_get(request: Request) -> Response:
    """Run ``?query=`` (SPARQL 1.1 Protocol §2.1.1); with no query, describe the service.

    A browser (``Accept`` preferring ``text/html``, no ``format=``) gets the query editor
    instead, with ``?query=`` loaded and run: a result can be shared as a link. (The app's
    state is read directly, not through dependencies: resolving them cost a quarter of the
    server's time per query.)
    """
    if wants_editor(request):
        return editor_page(request, get_site(request))
    return await _respond(request, get_endpoint(request), b"")


@router.get("/sparql/prefixes", summary="The house prefixes: usable in any query without a PREFIX line")
def house_prefixes(request: Request) -> Response:
    """``{prefix: namespace}`` (the prefix.cc format the editor reads); ``?known=1`` adds the
    vocabularies the endpoint can name the PREFIX line of but does not predeclare."""
    table = dict(HOUSE_PREFIXES) | (dict(KNOWN_PREFIXES) if request.query_params.get("known") else {})
    return JSONResponse(table, headers={"Cache-Control": "public, max-age=3600"})


@router.post(
    "/sparql",
    summary="SPARQL query via POST (form-encoded or application/sparql-query)",
    response_class=Response,
    openapi_extra={
        "parameters": _PARAMETERS[1:],
        "requestBody": {
            "required": True,
            "content": {
                "application/x-www-form-urlencoded": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "query": {"type": "string", "pattern": "\\S"},
                            "default-graph-uri": {"type": "array", "items": {"type": "string", "format": "iri"}},
                            "named-graph-uri": {"type": "array", "items": {"type": "string", "format": "iri"}},
                            "format": _PARAMETERS[-1]["schema"],
                        },
                        "required": ["query"],
                    },
                    "examples": {"ask": {"value": {"query": "ASK { ?s ?p ?o }"}}},
                },
                "application/sparql-query": {
                    "schema": {"type": "string", "pattern": "\\S"},
                    "examples": {"ask": {"value": "ASK { ?s ?p ?o }"}},
                },
            },
        },
    },
)
async def sparql_post(request: Request) -> Response:
    """Run a query sent in the body (SPARQL 1.1 Protocol §2.1.2 and §2.1.3)."""
    endpoint = get_endpoint(request)
    body = await read_body(request, endpoint.settings.max_body_bytes)
    return await _respond(request, endpoint, body)

"""``/sparql``: the SPARQL 1.1 Protocol query operation and the service description.

The handlers are ``async`` only to read the request body without blocking; everything
else (parsing, the guard, waiting for the worker, serialising) runs in the thread pool.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from mqmkg.errors import PayloadTooLarge, ProtocolError
from mqmkg.sparql.endpoint import SparqlEndpoint
from mqmkg.sparql.protocol import HttpInput

router = APIRouter(tags=["SPARQL"])

_PARAMETERS = [
    {
        "name": "query",
        "in": "query",
        "required": False,
        "schema": {"type": "string"},
        "description": "A SPARQL 1.1 query (exactly one). Without it, GET returns the service description.",
    },
    {
        "name": "default-graph-uri",
        "in": "query",
        "required": False,
        "schema": {"type": "array", "items": {"type": "string"}},
        "explode": True,
        "description": "Named graphs of the store to merge into the default graph (repeatable).",
    },
    {
        "name": "named-graph-uri",
        "in": "query",
        "required": False,
        "schema": {"type": "array", "items": {"type": "string"}},
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
_RESPONSES: dict[int | str, dict[str, object]] = {
    200: {
        "description": "Query results, or the service description",
        "content": {
            media_type: {}
            for media_type in (
                "application/sparql-results+json",
                "application/sparql-results+xml",
                "text/csv",
                "text/tab-separated-values",
                "text/turtle",
                "application/n-triples",
                "application/ld+json",
                "application/rdf+xml",
            )
        },
    },
    400: {"description": "Protocol misuse or query syntax error (with line and column)"},
    403: {"description": "Update, LOAD, or SERVICE to an endpoint not on the allow-list"},
    406: {"description": "No acceptable result format"},
    413: {"description": "Request body too large"},
    415: {"description": "Unsupported Content-Type"},
    429: {"description": "This client has its share of concurrent queries running already (with Retry-After)"},
    502: {"description": "An allow-listed SERVICE endpoint failed"},
    503: {"description": "Query deadline exceeded, or all workers busy (with Retry-After)"},
}


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
    )
    result = await run_in_threadpool(endpoint.handle, inp, client_of(request))
    headers = dict(result.headers)
    headers["Content-Type"] = result.content_type
    return Response(content=result.body, headers=headers)


@router.get(
    "/sparql",
    summary="SPARQL query via GET, or the service description",
    response_class=Response,
    responses=_RESPONSES,
    openapi_extra={"parameters": _PARAMETERS},
)
async def sparql_get(request: Request, endpoint: EndpointDep) -> Response:
    """Run ``?query=`` (SPARQL 1.1 Protocol §2.1.1); with no query, describe the service."""
    return await _respond(request, endpoint, b"")


@router.post(
    "/sparql",
    summary="SPARQL query via POST (form-encoded or application/sparql-query)",
    response_class=Response,
    responses=_RESPONSES,
    openapi_extra={
        "parameters": _PARAMETERS[1:],
        "requestBody": {
            "required": True,
            "content": {
                "application/x-www-form-urlencoded": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "query": {"type": "string"},
                            "default-graph-uri": {"type": "array", "items": {"type": "string"}},
                            "named-graph-uri": {"type": "array", "items": {"type": "string"}},
                            "format": {"type": "string"},
                        },
                        "required": ["query"],
                    }
                },
                "application/sparql-query": {"schema": {"type": "string"}},
            },
        },
    },
)
async def sparql_post(request: Request, endpoint: EndpointDep) -> Response:
    """Run a query sent in the body (SPARQL 1.1 Protocol §2.1.2 and §2.1.3)."""
    body = await read_body(request, endpoint.settings.max_body_bytes)
    return await _respond(request, endpoint, body)


ALLOW = "GET, POST, OPTIONS"


@router.api_route(
    "/sparql",
    methods=["PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"],
    include_in_schema=False,
    response_model=None,
)
async def sparql_other(request: Request) -> Response:
    """Answer OPTIONS with the allowed methods; refuse other methods with 405 (bad_query_method)."""
    if request.method == "OPTIONS":
        return Response(status_code=204, headers={"Allow": ALLOW})
    raise StarletteHTTPException(405, f"{request.method} is not a SPARQL query operation", headers={"Allow": ALLOW})

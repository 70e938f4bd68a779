"""``/sparql``: the SPARQL 1.1 Protocol query operation and the service description.

The handlers are ``async`` only to read the request body without blocking; everything
else (parsing, the guard, waiting for the worker, serialising) runs in the thread pool.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from starlette.concurrency import run_in_threadpool

from mqmkg.errors import PayloadTooLarge, ProtocolError
from mqmkg.sparql.endpoint import SparqlEndpoint
from mqmkg.sparql.protocol import HttpInput

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
    result = await run_in_threadpool(endpoint.handle, inp)
    headers = dict(result.headers)
    headers["Content-Type"] = result.content_type
    return Response(content=result.body, headers=headers)


@router.get(
    "/sparql",
    summary="SPARQL query via GET, or the service description",
    response_class=Response,
    openapi_extra={"parameters": _PARAMETERS},
)
async def sparql_get(request: Request, endpoint: EndpointDep) -> Response:
    """Run ``?query=`` (SPARQL 1.1 Protocol §2.1.1); with no query, describe the service."""
    return await _respond(request, endpoint, b"")


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
async def sparql_post(request: Request, endpoint: EndpointDep) -> Response:
    """Run a query sent in the body (SPARQL 1.1 Protocol §2.1.2 and §2.1.3)."""
    body = await read_body(request, endpoint.settings.max_body_bytes)
    return await _respond(request, endpoint, body)

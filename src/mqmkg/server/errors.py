"""The one map from exceptions to HTTP responses.

Every error becomes an RFC 9457 ``application/problem+json`` body with a message a person
can act on (and the line and column of a syntax error); never a stack trace. Only a bug
gives a 500, and its traceback goes to the server log once, not to the client. A client
that hangs up before its request body arrived is logged as 499 (nginx's "client closed
request"), with no traceback.
"""

from __future__ import annotations

import logging
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mqmkg.errors import (
    BackendError,
    BackendTimeout,
    BatchTooLarge,
    DataSyntaxError,
    InvalidIri,
    MalformedHeader,
    MqmkgError,
    NotAcceptable,
    NotFound,
    ParameterError,
    PayloadTooLarge,
    ProtocolError,
    QueryAborted,
    QueryEvaluationError,
    QuerySyntaxError,
    QueryTimeout,
    RateLimited,
    ReconciliationError,
    ServerBusy,
    ServiceFailed,
    ServiceRefused,
    SubmissionRefused,
    UndeclaredPrefix,
    UnsupportedMediaType,
    UpdateRefused,
    ValidationAborted,
    ValidationTimeout,
)

log = logging.getLogger("mqmkg.server")

PROBLEM_JSON = "application/problem+json"
CLIENT_CLOSED = 499  # nginx's code for a client that closed the connection before the answer

STATUS: dict[type[MqmkgError], int] = {
    ProtocolError: 400,
    ParameterError: 400,
    InvalidIri: 400,
    MalformedHeader: 400,
    NotFound: 404,
    QuerySyntaxError: 400,
    QueryEvaluationError: 400,
    UpdateRefused: 403,
    ServiceRefused: 403,
    NotAcceptable: 406,
    PayloadTooLarge: 413,
    UnsupportedMediaType: 415,
    ServiceFailed: 502,
    # Fuseki answers a query timeout with 503 too; clients such as tripod rely on it.
    QueryTimeout: 503,
    ServerBusy: 503,
    QueryAborted: 503,
    BackendError: 502,
    BackendTimeout: 504,
    # Linking services (/reconcile, /shacl).
    ReconciliationError: 400,
    BatchTooLarge: 413,
    DataSyntaxError: 400,
    SubmissionRefused: 400,
    ValidationTimeout: 503,
    ValidationAborted: 503,
    # One client over its share of concurrent queries (a subclass of ServerBusy: Retry-After too).
    RateLimited: 429,
}


def status_for(exc: MqmkgError) -> int:
    """Return the HTTP status of an mqmkg error (the first match along its class hierarchy)."""
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 500


def problem(
    status: int, detail: str, error: str, headers: dict[str, str] | None = None, **extra: object
) -> JSONResponse:
    """Return an ``application/problem+json`` response."""
    body: dict[str, object] = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "error": error,
    }
    body.update({k: v for k, v in extra.items() if v is not None})
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_JSON)


async def _mqmkg_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, MqmkgError)
    status = status_for(exc)
    headers: dict[str, str] = {}
    extra: dict[str, object] = {}
    if isinstance(exc, ServerBusy):
        headers["Retry-After"] = str(exc.retry_after)
    if isinstance(exc, QuerySyntaxError | DataSyntaxError):
        extra = {"line": exc.line, "column": exc.column}
    if isinstance(exc, UndeclaredPrefix):
        extra |= {"prefix": exc.prefix, "declaration": exc.declaration}
    if isinstance(exc, NotAcceptable):
        extra = {"offered": list(exc.offered)}
    if isinstance(exc, NotFound) and exc.suggestions:
        extra = {"suggestions": list(exc.suggestions)}
    if isinstance(exc, ParameterError) and exc.parameter:
        extra = {"parameter": exc.parameter}
    if status == 500:
        log.error("unmapped mqmkg error: %r", exc)
    return problem(status, str(exc), type(exc).__name__, headers or None, **extra)


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
    if exc.status_code == 405:
        detail = f"{detail}; allowed: {exc.headers.get('Allow', 'GET, POST') if exc.headers else 'GET, POST'}"
    return problem(exc.status_code, detail, "HTTPException", dict(exc.headers) if exc.headers else None)


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return problem(400, f"invalid request: {exc.errors()}", "RequestValidationError")


async def _client_closed(_request: Request, exc: Exception) -> Response:
    """The client hung up before sending its whole request: nobody is left to answer."""
    assert isinstance(exc, ClientDisconnect)
    return Response(status_code=CLIENT_CLOSED)


class UnexpectedErrorMiddleware:
    """Turn an exception no handler maps (a bug) into one logged traceback and a 500 problem.

    Starlette's own last-resort handler re-raises after answering, so the server would log
    the same traceback twice; this middleware answers and stops there.
    """

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception as exc:
            log.exception("unexpected error in %s %r", scope.get("method"), scope.get("path"), exc_info=exc)
            if not started:
                response = problem(500, "internal server error; the server log has the details", "InternalError")
                await response(scope, receive, send)


def install_error_handlers(app: FastAPI) -> None:
    """Register the map on an app (call before adding the CORS and access-log middleware)."""
    app.add_exception_handler(MqmkgError, _mqmkg_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(ClientDisconnect, _client_closed)
    app.add_middleware(UnexpectedErrorMiddleware)


# The problem document's schema is a component of the OpenAPI document (mqmkg.server.openapi).
PROBLEM_SCHEMA: dict[str, object] = {"$ref": "#/components/schemas/Problem"}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, object]]:
    """Return OpenAPI ``responses`` entries for error statuses answered as problem+json."""
    return {
        status: {"description": HTTPStatus(status).phrase, "content": {PROBLEM_JSON: {"schema": PROBLEM_SCHEMA}}}
        for status in statuses
    }

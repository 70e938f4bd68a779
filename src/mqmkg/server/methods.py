"""HTTP methods for every route at once: HEAD wherever GET is served, a true ``Allow`` on 405.

FastAPI routes answer only the methods they declare, and a 405 from the router names the
methods of the first route whose path matched, not of every route on that path (so
``TRACE /sparql`` said ``Allow: GET`` though POST works too). This middleware reads the
app's routes at request time, so a route added later is covered without further work:

- ``HEAD`` on a path served by ``GET`` runs the GET handler and sends its status and
  headers (Content-Length included) without the body (RFC 9110 §9.3.2);
- ``OPTIONS`` (other than a CORS preflight, answered earlier by the CORS middleware) gets
  204 with ``Allow``;
- any other method the path's routes do not take gets 405 with ``Allow`` listing the
  union of the methods of every route on that path.

Requests a route takes as they are, and paths no route matches (404), pass through
untouched; so does everything under a mounted application, which matches any method.
"""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import BaseRoute, Match, Router
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mqmkg.server.errors import problem

# The methods asked of the routes to build ``Allow``.
PROBED = ("GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT")


def path_match(routes: list[BaseRoute], scope: Scope, method: str) -> Match:
    """Return FULL if a route takes ``method`` on the scope's path, PARTIAL if only other methods."""
    best = Match.NONE
    probe = dict(scope, method=method)
    for route in routes:
        match, _ = route.matches(probe)
        if match is Match.FULL:
            return match
        if match is Match.PARTIAL:
            best = match
    return best


def declared_methods(routes: list[BaseRoute], scope: Scope) -> set[str]:
    """Return the methods the routes take on the scope's path (asked through ``Route.matches``).

    Only the routes' public matching is used, so routers included in any way (FastAPI's
    nested included routers too) are covered.
    """
    return {method for method in PROBED if path_match(routes, scope, method) is Match.FULL}


def allowed_methods(declared: set[str]) -> list[str]:
    """Return what ``Allow`` lists for a path whose routes declare ``declared``."""
    allowed = set(declared) | {"OPTIONS"}
    if "GET" in allowed:
        allowed.add("HEAD")
    return sorted(allowed)


class MethodsMiddleware:
    """Serve HEAD from GET, answer OPTIONS, and refuse other methods with a complete ``Allow``."""

    def __init__(self, app: ASGIApp, router: Router):
        self.app = app
        self.router = router

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        routes = self.router.routes
        if scope["type"] != "http" or path_match(routes, scope, scope["method"]) is not Match.PARTIAL:
            await self.app(scope, receive, send)  # served as asked, or no route has this path (404)
            return
        declared = declared_methods(routes, scope)
        allow = ", ".join(allowed_methods(declared))
        method = scope["method"]
        if method == "HEAD" and "GET" in declared:
            await self.app(dict(scope, method="GET"), receive, _without_body(send))
        elif method == "OPTIONS":
            await Response(status_code=204, headers={"Allow": allow})(scope, receive, send)
        else:
            detail = f"{method} is not allowed here; allowed: {allow}"
            response = problem(405, detail, "MethodNotAllowed", {"Allow": allow})
            await response(scope, receive, send)


def _without_body(send: Send) -> Send:
    """Wrap ``send`` so the response keeps its status and headers but sends no body bytes."""

    async def head_send(message: Message) -> None:
        if message["type"] == "http.response.body":
            message = {**message, "body": b""}
        await send(message)

    return head_send

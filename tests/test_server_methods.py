"""HEAD and Allow on every route of the app (issue 8, defect 12).

The routes are read from the app itself, so a route added later is walked too: for each
path, HEAD must answer like GET without a body, OPTIONS must list the methods, and a
method no route of that path takes must get 405 with an ``Allow`` naming all of them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import httpx
import pytest
from starlette.routing import Route

from conftest import ROOT, LiveServer
from mqmkg.config import Settings
from mqmkg.server.app import create_app

# A real value per path parameter, so most GETs walk the 200 path; anything else gets "x".
SAMPLES = {"name": {"/id/": "karachi", "/queries/": "timeline", "/export/": "mqmkg.ttl"}, "suffix": {"": ".ttl"}}


@dataclass(frozen=True)
class RoutePath:
    """One path template of the app and the methods its routes declare."""

    template: str
    methods: frozenset[str]

    def url(self) -> str:
        """Fill the template's parameters with sample values."""

        def fill(match: re.Match[str]) -> str:
            choices = SAMPLES.get(match.group(1), {})
            prefix = self.template[: match.start()]
            return next((value for start, value in choices.items() if prefix.endswith(start)), "x")

        return re.sub(r"\{(\w+)(?::\w+)?\}", fill, self.template)

    def allow(self) -> str:
        allowed = set(self.methods) | {"OPTIONS"} | ({"HEAD"} if "GET" in self.methods else set())
        return ", ".join(sorted(allowed))


def app_paths() -> list[RoutePath]:
    """Every route path of the app, with the union of the methods of the routes on it."""
    app = create_app(Settings(root=ROOT))
    try:  # FastAPI keeps included routers nested from 0.13x on; iter_route_contexts flattens them
        from fastapi.routing import iter_route_contexts

        routes = [(c.path, c.methods) for c in iter_route_contexts(app.routes)]
    except ImportError:
        routes = [(r.path, r.methods) for r in app.routes if isinstance(r, Route)]
    methods: dict[str, set[str]] = {}
    for path, declared in routes:
        if path and declared:
            methods.setdefault(path, set()).update(declared)
    return [RoutePath(path, frozenset(declared)) for path, declared in sorted(methods.items())]


PATHS = app_paths()


def test_the_walk_covers_the_api() -> None:
    templates = {p.template for p in PATHS}
    assert {"/", "/health", "/sparql", "/queries", "/queries/{name}/run", "/id/{name:path}", "/docs"} <= templates


@pytest.fixture(scope="module")
def server(project_server: LiveServer) -> LiveServer:
    return project_server


@pytest.mark.parametrize("path", [p for p in PATHS if "GET" in p.methods], ids=lambda p: p.template)
def test_head_answers_every_get_route_like_get_without_a_body(server: LiveServer, path: RoutePath) -> None:
    get = httpx.get(server.url + path.url(), timeout=30)
    head = httpx.head(server.url + path.url(), timeout=30)
    assert head.status_code == get.status_code
    assert head.content == b""
    assert head.headers.get("content-type") == get.headers.get("content-type")
    assert head.headers.get("content-length") == get.headers.get("content-length") == str(len(get.content))


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.template)
def test_every_route_lists_its_real_methods(server: LiveServer, path: RoutePath) -> None:
    url = server.url + path.url()
    refused = [m for m in ("TRACE", "PATCH", "DELETE", "PUT", "POST") if m not in path.methods]
    for method in refused:
        response = httpx.request(method, url)
        assert (response.status_code, response.headers.get("allow")) == (405, path.allow()), method
        assert response.json()["error"] == "MethodNotAllowed"
    if "OPTIONS" not in path.methods:
        options = httpx.options(url)
        assert (options.status_code, options.headers.get("allow")) == (204, path.allow())


def test_unknown_paths_stay_404_for_any_method(server: LiveServer) -> None:
    for method in ("GET", "HEAD", "TRACE", "OPTIONS"):
        assert httpx.request(method, server.url + "/no/such/path").status_code == 404

"""The public URL: a request's scheme, host and prefix are pinned to it, whatever it carries;
without one, the Host header must be a valid ``host[:port]``. Driven in-process through a
small Starlette app that reports the URLs Starlette builds from the scope."""

from __future__ import annotations

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from conftest import run_async
from mqmkg.errors import SettingsError
from mqmkg.server.public_url import PublicUrl, PublicUrlMiddleware, valid_host


async def urls(request: Request) -> JSONResponse:
    return JSONResponse({"base": str(request.base_url), "url": str(request.url)})


def get(public_url: str, path: str, headers: dict[str, str]) -> httpx.Response:
    """GET through the middleware (configured with ``public_url``) in front of the echo app."""
    app = Starlette(routes=[Route("/sparql", urls)])
    app.add_middleware(PublicUrlMiddleware, public_url=public_url)

    async def call() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as http:
            return await http.get(path, headers=headers)

    return run_async(call())


FORGED = {"Host": "evil.example", "X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "http"}


@pytest.mark.parametrize(
    ("public", "path", "base", "url"),
    [
        ("https://kg.example.org/", "/sparql", "https://kg.example.org/", "https://kg.example.org/sparql"),
        (
            "https://kg.example.org:8443",
            "/sparql",
            "https://kg.example.org:8443/",
            "https://kg.example.org:8443/sparql",
        ),
        # behind a prefix: nginx may strip it (location /kg/ { proxy_pass http://app/; }) or keep it
        ("https://example.org/kg/", "/sparql", "https://example.org/kg/", "https://example.org/kg/sparql"),
        ("https://example.org/kg/", "/kg/sparql", "https://example.org/kg/", "https://example.org/kg/sparql"),
    ],
)
def test_links_follow_the_public_url_not_the_request(public: str, path: str, base: str, url: str) -> None:
    assert get(public, path + "?q=1", FORGED).json() == {"base": base, "url": url + "?q=1"}


def test_without_a_public_url_links_follow_a_valid_host() -> None:
    assert get("", "/sparql", {"Host": "kg.local:81"}).json()["base"] == "http://kg.local:81/"
    refused = get("", "/sparql", {"Host": "a%zz"})
    assert (refused.status_code, refused.json()["error"]) == (400, "MalformedHeader")


@pytest.mark.parametrize("host", ["example.org", "example.org:80", "127.0.0.1:8000", "[::1]:8000", "été.example"])
def test_valid_hosts(host: str) -> None:
    assert valid_host(host)


@pytest.mark.parametrize("host", ["", "a b", "a%zz", "a/b", "a@b", "a?b", "a#b", "[::1", "a:b:c", "x{y}", "h:8a"])
def test_invalid_hosts(host: str) -> None:
    assert not valid_host(host)


@pytest.mark.parametrize(
    "url", ["kg.example.org", "ftp://kg.example.org/", "https://", "https://kg.example.org/?x=1", "https://été.fr/"]
)
def test_a_public_url_must_be_an_http_url_with_an_ascii_host(url: str) -> None:
    with pytest.raises(SettingsError):
        PublicUrl.parse(url)

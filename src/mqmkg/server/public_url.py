"""The URL the server calls itself: the configured public URL, never an arbitrary Host header.

Every absolute link the app writes (the service description, VoID, the JSON links of the
landing page and the catalogue, the base IRI of a query) comes from Starlette's
``request.base_url`` / ``request.url``, which are built from the ASGI scope. This
middleware fixes that scope in one place:

- with ``Settings.public_url`` set (a deployment behind a proxy), the scheme, host and
  path prefix of every request are those of the public URL, whatever ``Host``,
  ``X-Forwarded-Host`` or scheme the request carries, so links never echo what a client
  sent;
- without it (local use), links follow the request's ``Host`` header, which must then be
  a valid ``host[:port]`` that forms an IRI; anything else is refused with 400 rather
  than written into links (or into the base IRI of a query, where it would fail later).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Receive, Scope, Send

from mqmkg.errors import SettingsError
from mqmkg.iri import is_iri
from mqmkg.server.errors import problem


@dataclass(frozen=True)
class PublicUrl:
    """A parsed public URL: scheme, ``host[:port]`` and path prefix (no trailing slash)."""

    scheme: str
    netloc: str
    prefix: str

    @classmethod
    def parse(cls, url: str) -> PublicUrl:
        """Parse ``Settings.public_url``; raise SettingsError unless it is an http(s) URL with an ASCII host."""
        parts = urlsplit(url)
        if (
            parts.scheme not in ("http", "https")
            or not parts.netloc.isascii()
            or not valid_host(parts.netloc)
            or parts.query
            or parts.fragment
            or not is_iri(url)
        ):
            raise SettingsError(
                f"public_url {url!r} must be an http:// or https:// URL with an ASCII host (punycode), "
                "an optional path prefix, and no query or fragment"
            )
        return cls(parts.scheme, parts.netloc, parts.path.rstrip("/"))

    def apply(self, scope: Scope) -> Scope:
        """Return the scope as if the request had arrived at the public URL."""
        headers = [(name, value) for name, value in scope["headers"] if name != b"host"]
        headers.append((b"host", self.netloc.encode("ascii")))
        path, raw_path = scope["path"], scope.get("raw_path")
        if self.prefix and not (path == self.prefix or path.startswith(self.prefix + "/")):
            path = self.prefix + path
            raw_path = self.prefix.encode() + raw_path if raw_path is not None else None
        return dict(scope, scheme=self.scheme, headers=headers, root_path=self.prefix, path=path, raw_path=raw_path)


def host_header(scope: Scope) -> str | None:
    """Return the request's Host header (latin-1 decoded), or None without one."""
    for name, value in scope["headers"]:
        if name == b"host":
            return str(value.decode("latin-1"))
    return None


def valid_host(host: str) -> bool:
    """Tell whether a Host header value is ``host[:port]`` that forms an IRI authority."""
    return bool(host) and not any(char in host for char in "/?#@") and is_iri(f"http://{host}/")


class PublicUrlMiddleware:
    """Pin the scheme, host and prefix of every request to the public URL, or validate Host."""

    def __init__(self, app: ASGIApp, public_url: str):
        self.app = app
        self.public = PublicUrl.parse(public_url) if public_url else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.public is not None:
            await self.app(self.public.apply(scope), receive, send)
            return
        host = host_header(scope)
        if host is not None and not valid_host(host):
            response = problem(400, f"invalid Host header {host!r}: expected host[:port]", "MalformedHeader")
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)

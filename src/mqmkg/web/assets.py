"""The site's static files (vendored libraries, style sheets, scripts), read once and fingerprinted.

Files under ``mqmkg/web/static/`` are served at ``/static/<path>``. Templates link them with
``static('<path>')``, which appends ``?v=<first 12 hex of the sha256>``: such a URL never
changes meaning, so it is served with a one-year, immutable cache lifetime; a URL without the
matching fingerprint is revalidated every time (``no-cache``). Every answer carries the
file's ETag, and ``If-None-Match`` gives 304.
"""

from __future__ import annotations

import hashlib
import mimetypes
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable

IMMUTABLE = "public, max-age=31536000, immutable"
# Content-Security-Policy of the pages that load vendored scripts: nothing but this server
# (no CDN, no font host, no analytics), no inline script; inline styles are allowed because
# YASGUI, Swagger UI and ReDoc set them.
SELF_ONLY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
    "font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'self'"
)
# The same for a page other sites may show in a frame (the reconciliation preview card, which
# OpenRefine shows in its own page).
FRAMABLE = SELF_ONLY.removesuffix("; frame-ancestors 'self'")
REVALIDATE = "no-cache"

_TYPES = {
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".css": "text/css",
    ".svg": "image/svg+xml",
    ".json": "application/json",
    ".map": "application/json",
    ".woff2": "font/woff2",
    ".txt": "text/plain",
    ".md": "text/markdown",
    ".png": "image/png",
}


@dataclass(frozen=True)
class Asset:
    """One static file: its bytes, media type and content hash."""

    path: str
    data: bytes
    media_type: str
    sha256: str

    @property
    def etag(self) -> str:
        return f'"{self.sha256}"'

    @property
    def version(self) -> str:
        return self.sha256[:12]


def _media_type(name: str) -> str:
    suffix = name[name.rfind(".") :] if "." in name else ""
    media_type = _TYPES.get(suffix) or mimetypes.guess_type(name)[0] or "application/octet-stream"
    text = media_type.startswith("text/") or media_type in ("application/json", "image/svg+xml")
    return media_type + ("; charset=utf-8" if text else "")


def _walk(folder: Traversable, prefix: str) -> dict[str, Asset]:
    found: dict[str, Asset] = {}
    for entry in folder.iterdir():
        path = f"{prefix}{entry.name}"
        if entry.is_dir():
            found.update(_walk(entry, path + "/"))
        elif entry.is_file() and not entry.name.startswith("."):
            data = entry.read_bytes()
            found[path] = Asset(path, data, _media_type(entry.name), hashlib.sha256(data).hexdigest())
    return found


def load_assets() -> dict[str, Asset]:
    """Read every file under ``mqmkg/web/static`` into memory, keyed by its relative path."""
    root = resources.files("mqmkg") / "web" / "static"
    return _walk(root, "") if root.is_dir() else {}


def static_url(assets: dict[str, Asset], path: str) -> str:
    """Return the fingerprinted URL of a static file; raise KeyError naming a missing one."""
    asset = assets.get(path)
    if asset is None:
        raise KeyError(f"no static file {path!r} under mqmkg/web/static")
    return f"/static/{path}?v={asset.version}"

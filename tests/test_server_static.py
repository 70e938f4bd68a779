"""``/static/``: bundled files with ETags, fingerprinted URLs cached for a year, 304s, no traversal."""

from __future__ import annotations

import hashlib
from importlib import resources

import httpx

from conftest import LiveServer
from mqmkg.web.assets import IMMUTABLE, REVALIDATE, load_assets, static_url

README = "README.md"


def test_assets_are_read_with_their_hash() -> None:
    assets = load_assets()
    data = (resources.files("mqmkg") / "web" / "static" / README).read_bytes()
    assert assets[README].data == data
    assert assets[README].sha256 == hashlib.sha256(data).hexdigest()
    assert assets[README].media_type == "text/markdown; charset=utf-8"
    assert static_url(assets, README) == f"/static/{README}?v={assets[README].sha256[:12]}"


def test_fingerprinted_url_is_immutable_and_plain_url_revalidates(live_server: LiveServer) -> None:
    asset = load_assets()[README]
    pinned = httpx.get(live_server.url + static_url(load_assets(), README))
    assert pinned.status_code == 200
    assert pinned.content == asset.data
    assert (pinned.headers["etag"], pinned.headers["cache-control"]) == (asset.etag, IMMUTABLE)
    plain = httpx.get(f"{live_server.url}/static/{README}")
    assert plain.headers["cache-control"] == REVALIDATE
    stale = httpx.get(f"{live_server.url}/static/{README}?v=000000000000")
    assert stale.headers["cache-control"] == REVALIDATE


def test_if_none_match_gives_304_and_head_has_no_body(live_server: LiveServer) -> None:
    asset = load_assets()[README]
    url = f"{live_server.url}/static/{README}"
    assert httpx.get(url, headers={"If-None-Match": asset.etag}).status_code == 304
    head = httpx.head(url)
    assert (head.status_code, head.content, head.headers["etag"]) == (200, b"", asset.etag)


def test_unknown_and_traversing_paths_are_404(live_server: LiveServer) -> None:
    for path in ("nope.js", "../templates/base.html", "..%2f..%2fconfig.py", "%2e%2e/assets.py"):
        assert httpx.get(f"{live_server.url}/static/{path}").status_code == 404, path

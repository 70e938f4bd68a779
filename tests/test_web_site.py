"""Site-wide basics: the menu on every page, landmarks, skip link, labelled fields, headings in
order, fingerprinted assets, keyboard focus, 360 px without horizontal scrolling."""

from __future__ import annotations

from collections.abc import Callable
from html.parser import HTMLParser
from typing import Any

import httpx
import pytest

from browser import PageLog
from conftest import LiveServer
from mqmkg.web.assets import FRAMABLE, SELF_ONLY

# What a browser sends when it loads a page (Chromium's navigation Accept).
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"

OpenPage = Callable[..., tuple[Any, PageLog]]
MENU = ["Home", "SPARQL", "Queries", "Search", "Source", "Timeline", "Relations", "Ontology", "Downloads", "API docs"]
MENU_PATHS = [
    "/",
    "/sparql",
    "/queries",
    "/search",
    "/source",
    "/timeline",
    "/relations",
    "/ontology",
    "/export/",
    "/docs",
]
PAGES = [
    "/",
    "/sparql",
    "/queries",
    "/queries/events-in-place-and-period",
    "/queries/statement-provenance/run?format=html",
    "/queries/describe-entity/run?format=html",
    "/docs",
    "/redoc",
    "/ontology",
    "/export/",
]


class Outline(HTMLParser):
    """What the server-rendered HTML holds: menu links, landmarks, headings, fields, labels, assets."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.menu: list[tuple[str, str]] = []
        self.landmarks: list[str] = []
        self.headings: list[int] = []
        self.fields: list[dict[str, str | None]] = []
        self.labels: set[str] = set()
        self.assets: list[str] = []
        self.skip: str | None = None
        self._in_menu = False
        self._menu_href: str | None = None
        self._in_label = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag in ("header", "nav", "main", "footer"):
            self.landmarks.append(tag)
        if tag == "nav" and a.get("aria-label") == "Site":
            self._in_menu = True
        if tag == "a" and self._in_menu:
            self._menu_href = a.get("href")
        if tag == "a" and a.get("class") == "skip-link":
            self.skip = a.get("href")
        if len(tag) == 2 and tag[0] == "h" and tag[1].isdigit():
            self.headings.append(int(tag[1]))
        if tag == "label":
            self._in_label += 1
            if a.get("for"):
                self.labels.add(str(a["for"]))
        if tag in ("input", "select", "textarea") and a.get("type") not in ("hidden", "submit"):
            self.fields.append(a | {"_wrapped": "yes" if self._in_label else None})
        if tag in ("script", "link") and (a.get("src") or a.get("href", "") or "").startswith("/static/"):
            self.assets.append(str(a.get("src") or a.get("href")))

    def handle_endtag(self, tag: str) -> None:
        if tag == "nav":
            self._in_menu = False
        if tag == "label":
            self._in_label -= 1

    def handle_data(self, data: str) -> None:
        if self._menu_href is not None and data.strip():
            self.menu.append((self._menu_href, data.strip()))
            self._menu_href = None


@pytest.mark.parametrize("path", PAGES)
def test_every_page_has_the_menu_landmarks_and_labelled_fields(project_server: LiveServer, path: str) -> None:
    response = httpx.get(project_server.url + path, headers={"Accept": "text/html"})
    assert response.status_code == 200, response.text[:300]
    outline = Outline()
    outline.feed(response.text)
    assert outline.menu == list(zip(MENU_PATHS, MENU, strict=True))
    assert outline.skip == "#main"
    assert (
        outline.landmarks[:2] == ["header", "nav"] and "main" in outline.landmarks and outline.landmarks[-1] == "footer"
    )
    assert outline.headings[0] == 1 and outline.headings.count(1) == 1, outline.headings
    assert all(b - a <= 1 for a, b in zip(outline.headings, outline.headings[1:], strict=False)), outline.headings
    for field in outline.fields:
        assert field.get("id") in outline.labels or field.get("aria-label") or field["_wrapped"], field
    assert outline.assets and all("?v=" in asset for asset in outline.assets), outline.assets
    for asset in outline.assets:
        cached = httpx.get(project_server.url + asset)
        assert cached.status_code == 200 and cached.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert cached.headers["etag"]


@pytest.mark.browser
def test_pages_work_at_360_px_with_no_console_error(project_server: LiveServer, browser_page: OpenPage) -> None:
    page, log = browser_page(project_server.url, width=360)
    for path in PAGES:
        page.goto(project_server.url + path)
        page.wait_for_load_state("networkidle")
        assert page.evaluate("document.documentElement.scrollWidth") <= 360, path
    log.assert_clean()


@pytest.mark.browser
def test_keyboard_focus_is_visible_and_the_menu_reachable(project_server: LiveServer, browser_page: OpenPage) -> None:
    page, log = browser_page(project_server.url)
    page.goto(project_server.url + "/queries")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")  # skip link, brand, then the first menu item
    focused = page.evaluate(
        "() => { const e = document.activeElement; const s = getComputedStyle(e);"
        " return [e.textContent, s.outlineStyle, s.outlineWidth]; }"
    )
    assert focused[0] == "Home" and focused[1] != "none" and focused[2] != "0px"
    page.keyboard.press("Enter")
    page.wait_for_url(project_server.url + "/")
    log.assert_clean()


@pytest.mark.parametrize(
    "path",
    sorted({*MENU_PATHS, *PAGES, "/redoc", "/id/mqm", "/id/no-such-entity", "/search?q=haqiqi", "/shacl", "/quality"}),
)
def test_every_page_may_reach_this_server_only(project_server: LiveServer, path: str) -> None:
    """A Content-Security-Policy on every HTML page: scripts, styles, images and requests from here only."""
    page = httpx.get(project_server.url + path, headers={"Accept": BROWSER_ACCEPT}, timeout=60)
    assert page.headers["content-type"].startswith("text/html"), path
    assert page.headers["content-security-policy"] == SELF_ONLY, path


def test_the_reconciliation_preview_may_be_framed_by_openrefine(project_server: LiveServer) -> None:
    card = httpx.get(project_server.url + "/reconcile/preview", params={"id": "karachi"})
    assert card.headers["content-security-policy"] == FRAMABLE
    assert "frame-ancestors" not in FRAMABLE and "script-src 'self'" in FRAMABLE

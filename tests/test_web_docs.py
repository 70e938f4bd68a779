"""/docs (Swagger UI) and /redoc (ReDoc) from vendored files, offline, in Chromium; the vendored
libraries themselves name no CDN."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from browser import PageLog
from conftest import ROOT, LiveServer

OpenPage = Callable[..., tuple[Any, PageLog]]
VENDOR = ROOT / "src" / "mqmkg" / "web" / "static" / "vendor"
# Hosts a bundle could fetch code, fonts, images or telemetry from at run time. (YASGUI can also ask
# prefix.cc and LOV for completions: editor.js switches both off; the browser tests see no such request.)
REMOTE = re.compile(
    r"https?://(?:[\w-]+\.)*(?:cdn[\w-]*\.[\w.]+|unpkg\.com|jsdelivr\.net|cdnjs\.cloudflare\.com|"
    r"fonts\.googleapis\.com|fonts\.gstatic\.com|otel\.[\w.]+)"
)


def test_every_vendored_library_has_its_licence_and_version() -> None:
    for name in ("yasgui", "swagger-ui", "redoc", "cytoscape"):
        folder = VENDOR / name
        assert (folder / "LICENSE").stat().st_size > 500, name
        version = (folder / "VERSION").read_text(encoding="utf-8")
        assert re.match(r"npm \S+ \d+\.\d+\.\d+\n", version), name


def test_no_vendored_file_names_a_cdn_font_host_or_telemetry() -> None:
    found = {
        str(path.relative_to(VENDOR)): sorted(set(REMOTE.findall(path.read_text(encoding="utf-8", errors="replace"))))
        for path in VENDOR.rglob("*")
        if path.suffix in (".js", ".css")
    }
    assert len(found) == 6  # YASGUI's script and style sheet, Swagger UI's two, ReDoc, Cytoscape.js
    assert {path: hosts for path, hosts in found.items() if hosts} == {}


def test_docs_pages_use_the_vendored_files(project_server: LiveServer) -> None:
    for path, asset in (
        ("/docs", "vendor/swagger-ui/swagger-ui-bundle.js"),
        ("/redoc", "vendor/redoc/redoc.standalone.js"),
    ):
        page = httpx.get(project_server.url + path)
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert f'src="/static/{asset}?v=' in page.text
        assert "cdn." not in page.text and "fonts.googleapis" not in page.text
        assert "default-src 'self'" in page.headers["content-security-policy"]
    assert "/docs" not in httpx.get(project_server.url + "/openapi.json").json()["paths"]


@pytest.mark.browser
def test_swagger_ui_renders_offline(project_server: LiveServer, browser_page: OpenPage) -> None:
    page, log = browser_page(project_server.url)
    page.goto(project_server.url + "/docs")
    page.locator(".swagger-ui .opblock-summary-path", has_text="/queries/organisation-changes/run").first.wait_for()
    assert page.locator(".swagger-ui .info .title").inner_text().startswith("mqmkg")
    assert page.locator(".swagger-ui .opblock").count() >= 15
    page.locator(".opblock-summary", has_text="/sparql/prefixes").first.click()
    page.get_by_role("button", name="Try it out").click()
    page.get_by_role("button", name="Execute").click()
    page.locator(".responses-wrapper .live-responses-table").wait_for()
    assert '"kg": "https://w3id.org/mqmkg/id/"' in page.locator(".live-responses-table .microlight").first.inner_text()
    assert page.locator("nav[aria-label='Site'] a[aria-current='page']").inner_text() == "API docs"
    log.assert_clean()


@pytest.mark.browser
def test_redoc_renders_offline(project_server: LiveServer, browser_page: OpenPage) -> None:
    page, log = browser_page(project_server.url, width=360)
    page.goto(project_server.url + "/redoc")
    heading = page.get_by_role("heading", name="Founding, activation, split and renaming")
    heading.wait_for()
    assert page.get_by_role("heading", name="mqmkg (0.1.0)").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    log.assert_clean()

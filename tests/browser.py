"""Real headless Chromium for the web pages: Debian's ``chromium`` driven by Playwright.

``make test`` installs the browser with apt-get where it is missing (``make browser``);
Playwright never downloads one. The fixtures here are registered from ``conftest.py``:

- ``chromium``: one browser for the session, launched with the flags that keep it off the
  network (no background networking, no component updates, no sync);
- ``browser_page(server)``: a fresh page on a live server that records console errors,
  uncaught page errors, responses of 400 and above, and every request to a host other than the server, so a test can
  end with ``page_log.assert_clean()``.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest

CHROMIUM_FLAGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
)


def chromium_path() -> str:
    """Return Debian's chromium (or ``MQMKG_CHROMIUM``); fail with the command that installs it."""
    path = os.environ.get("MQMKG_CHROMIUM") or shutil.which("chromium")
    if not path:
        pytest.fail("chromium is not installed: run `make browser` (apt-get install chromium)", pytrace=False)
    return path


@dataclass
class PageLog:
    """What a page did that a clean page must not: console errors, page errors, foreign requests."""

    origin: str
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    foreign_requests: list[str] = field(default_factory=list)
    failed_responses: list[str] = field(default_factory=list)

    def on_request(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme in ("data", "blob", "about"):
            return
        if f"{parts.scheme}://{parts.netloc}" != self.origin:
            self.foreign_requests.append(url)

    def on_response(self, status: int, url: str) -> None:
        if status >= 400:
            self.failed_responses.append(f"{status} {url}")

    def assert_clean(self) -> None:
        """Fail on any console error, page error, failed response or request to another host."""
        assert self.failed_responses == [], self.failed_responses
        assert self.console_errors == [], self.console_errors
        assert self.page_errors == [], self.page_errors
        assert self.foreign_requests == [], self.foreign_requests


@pytest.fixture(scope="session")
def chromium() -> Iterator[object]:
    """One headless Chromium for the whole session (Playwright's sync API)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), headless=True, args=list(CHROMIUM_FLAGS))
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def browser_page(chromium: object) -> Iterator[Callable[..., tuple[object, PageLog]]]:
    """Open pages on a server: ``page, log = browser_page(server.url, width=1280)``.

    Each call gets a fresh context (no shared cookies or cache) closed at the end of the test.
    """
    contexts: list[object] = []

    def open_page(origin: str, width: int = 1280, height: int = 900) -> tuple[object, PageLog]:
        context = chromium.new_context(viewport={"width": width, "height": height})  # type: ignore[attr-defined]
        contexts.append(context)
        page = context.new_page()
        log = PageLog(origin.rstrip("/"))
        page.on("console", lambda msg: log.console_errors.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda exc: log.page_errors.append(str(exc)))
        page.on("request", lambda request: log.on_request(request.url))
        page.on("response", lambda response: log.on_response(response.status, response.url))
        return page, log

    yield open_page
    for context in contexts:
        context.close()  # type: ignore[attr-defined]

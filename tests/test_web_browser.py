"""The site in a real browser: headless Chromium (Debian's) driven by Playwright."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from browser import PageLog
from conftest import LiveServer

pytestmark = pytest.mark.browser


def test_landing_page_loads_offline_without_errors(
    project_server: LiveServer, browser_page: Callable[..., tuple[object, PageLog]]
) -> None:
    page, log = browser_page(project_server.url)
    response = page.goto(project_server.url + "/")  # type: ignore[attr-defined]
    assert response.status == 200
    assert "mqmkg" in page.title()  # type: ignore[attr-defined]
    page.get_by_role("link", name="queries", exact=False).first.click()  # type: ignore[attr-defined]
    page.wait_for_url("**/queries")  # type: ignore[attr-defined]
    assert page.locator("h1").first.inner_text().strip() != ""  # type: ignore[attr-defined]
    log.assert_clean()

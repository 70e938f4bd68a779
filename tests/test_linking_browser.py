"""The linking pages in a real browser (Debian's Chromium through Playwright): the
reconciliation preview card at OpenRefine's iframe size, the /shacl form, the /quality page.

The README's screenshot of the preview card is taken here: run with
``MQMKG_UPDATE_SCREENSHOTS=1`` to write ``docs/screenshots/reconcile-preview.png``; otherwise
the picture goes to a temporary folder and the committed one is only checked to exist.
"""

from __future__ import annotations

import os
import re
import struct
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from browser import PageLog
from conftest import ROOT, LiveServer
from test_shacl import BAD

pytestmark = pytest.mark.browser
SCREENSHOT = ROOT / "docs" / "screenshots" / "reconcile-preview.png"
OpenPage = Callable[..., tuple[object, PageLog]]


def png_size(path: Path) -> tuple[int, int]:
    """Return the width and height written in a PNG file's header."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_reconcile_preview_card_fits_openrefines_iframe(
    project_server: LiveServer, browser_page: OpenPage, tmp_path: Path
) -> None:
    manifest = httpx.get(project_server.url + "/reconcile").json()["preview"]
    page, log = browser_page(project_server.url, width=manifest["width"], height=manifest["height"])
    response = page.goto(project_server.url + "/reconcile/preview?id=altaf-hussein")  # type: ignore[attr-defined]
    assert response.status == 200
    card = page.locator("article.card")  # type: ignore[attr-defined]
    assert card.locator("h1").inner_text() == "Altaf Hussein"
    assert card.locator(".wikidata a").get_attribute("href") == "http://www.wikidata.org/entity/Q2840298"
    assert "MQM leader Hussein" in card.locator("blockquote").inner_text()  # the first quote that cites a report
    assert "cites U.S. DOS Feb 1991" in card.locator(".source").inner_text()
    size = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.scrollHeight]")  # type: ignore[attr-defined]
    assert size[0] <= manifest["width"] and size[1] <= manifest["height"], size
    target = SCREENSHOT if os.environ.get("MQMKG_UPDATE_SCREENSHOTS") else tmp_path / SCREENSHOT.name
    target.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(target))  # type: ignore[attr-defined]
    assert png_size(target) == (manifest["width"], manifest["height"])
    assert png_size(SCREENSHOT) == (manifest["width"], manifest["height"])  # the README's picture is committed
    log.assert_clean()


def test_shacl_form_shows_each_result(project_server: LiveServer, browser_page: OpenPage) -> None:
    page, log = browser_page(project_server.url)
    page.goto(project_server.url + "/shacl")  # type: ignore[attr-defined]
    page.fill("#shacl-data", BAD)  # type: ignore[attr-defined]
    page.select_option("select[name=format]", "turtle")  # type: ignore[attr-defined]
    page.get_by_role("button", name="Validate").click()  # type: ignore[attr-defined]
    verdict = page.locator(".shacl-verdict")  # type: ignore[attr-defined]
    verdict.wait_for()
    assert "Does not conform." in verdict.inner_text()
    rows = page.locator("table.shacl-results tbody tr")  # type: ignore[attr-defined]
    assert rows.count() >= 2
    focus = {rows.nth(i).locator("td").nth(1).inner_text() for i in range(rows.count())}
    assert {"kg:claim-unsourced", "kg:karachi"} <= focus
    assert page.locator("#shacl-data").input_value().startswith("PREFIX kg:")  # type: ignore[attr-defined]
    log.assert_clean()


def test_quality_page(project_server: LiveServer, browser_page: OpenPage) -> None:
    page, log = browser_page(project_server.url)
    page.goto(project_server.url + "/quality")  # type: ignore[attr-defined]
    # The validation runs in the background; the page reloads itself every 5 s until it is done.
    page.locator("#validation .quality-status.ok, #validation .quality-status.failed").wait_for(timeout=900_000)  # type: ignore[attr-defined]
    status = page.locator("#validation .quality-status").inner_text()  # type: ignore[attr-defined]
    assert "0 ERROR" in status and "0 violations" in status
    checks = page.locator("table.quality-checks tbody tr")  # type: ignore[attr-defined]
    assert checks.count() == len(list((ROOT / "queries" / "qc").glob("*.rq")))
    shaded = page.locator(".quality-source span")  # type: ignore[attr-defined]
    assert shaded.count() > 20 and re.fullmatch(r"\d+ claims?", shaded.first.get_attribute("title"))
    assert page.locator(".quality-reports tbody tr").count() >= 5  # type: ignore[attr-defined]
    assert page.locator("#wikidata").get_by_role("link", name="MQM Haqiqi", exact=True).count() == 1  # type: ignore[attr-defined]
    log.assert_clean()

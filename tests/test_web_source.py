"""The provenance viewer in real headless Chromium: quote links land on a highlighted span in view."""

from __future__ import annotations

import re

import pyoxigraph as ox
import pytest

from conftest import LiveServer
from pages import OpenPage, save_screenshot, visit, wait_for_script

pytestmark = pytest.mark.browser

HIGHLIGHT = "rgb(255, 213, 74)"  # --highlight in pages.css


def evidence_spans(store: ox.Store) -> set[str]:
    """Return the anchors the graph's evidence nodes should have: ``ev-<start>-<end>``."""
    rows = store.query(
        "PREFIX oa: <http://www.w3.org/ns/oa#> SELECT DISTINCT ?s ?e WHERE "
        "{ ?ev oa:hasSelector ?p . ?p oa:start ?s ; oa:end ?e }"
    )
    return {f"ev-{row['s'].value}-{row['e'].value}" for row in rows}


def in_viewport(page: object, selector: str) -> bool:
    box = page.locator(selector).bounding_box()  # type: ignore[attr-defined]
    size = page.viewport_size  # type: ignore[attr-defined]
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= size["height"] and box["x"] >= 0


def test_a_claims_quote_link_opens_the_source_with_that_span_highlighted_in_view(
    project_server: LiveServer, browser_page: OpenPage
) -> None:
    page, log = visit(browser_page, project_server.url, "/id/claim-split-1992", height=800)
    link = page.locator("section.lead blockquote.quote a.source-link").first  # type: ignore[attr-defined]
    assert link.get_attribute("href") == "/source#ev-3732-3857"
    link.click()
    page.wait_for_url(re.compile(r"/source#ev-3732-3857$"))  # type: ignore[attr-defined]
    span = "#ev-3732-3857"
    wait_for_script(page, "document.querySelector('#ev-3732-3857').classList.contains('current')")
    assert in_viewport(page, span)
    assert page.evaluate("window.scrollY") > 500  # type: ignore[attr-defined]  # it scrolled down to it
    style = page.locator(span).evaluate(  # type: ignore[attr-defined]
        "el => [getComputedStyle(el).backgroundColor, getComputedStyle(el).outlineStyle, el.matches(':target')]"
    )
    assert style == [HIGHLIGHT, "solid", True]
    other = page.locator("#ev-3858-4048").evaluate("el => getComputedStyle(el).backgroundColor")  # type: ignore[attr-defined]
    assert other != HIGHLIGHT
    assert page.locator(span).inner_text().startswith("In 1992, a breakway MQM faction")  # type: ignore[attr-defined]
    claims = page.locator("#claims-ev-3732-3857")  # type: ignore[attr-defined]
    assert claims.is_visible()  # its paragraph's list of claims is open at it
    assert claims.locator("a[href='/id/claim-split-1992']").count() == 1
    save_screenshot(page, "source.png")
    log.assert_clean()


def test_following_a_second_quote_moves_the_highlight(project_server: LiveServer, browser_page: OpenPage) -> None:
    page, log = visit(browser_page, project_server.url, "/source#ev-7983-8092")
    wait_for_script(page, "document.querySelector('#ev-7983-8092').classList.contains('current')")
    page.locator("#ev-475-643").click()  # type: ignore[attr-defined]
    page.wait_for_url(re.compile(r"#ev-475-643$"))  # type: ignore[attr-defined]
    wait_for_script(page, "document.querySelector('#ev-475-643').classList.contains('current')")
    assert in_viewport(page, "#ev-475-643")
    assert page.locator(".ev.current").count() == 1  # type: ignore[attr-defined]
    log.assert_clean()


def test_every_evidence_span_is_an_anchor_coloured_by_its_report(
    project_server: LiveServer, browser_page: OpenPage, project_store: ox.Store
) -> None:
    page, log = visit(browser_page, project_server.url, "/source")
    anchors = set(page.locator("a.ev").evaluate_all("els => els.map(e => e.id)"))  # type: ignore[attr-defined]
    assert anchors == evidence_spans(project_store)
    keys = {
        str(row["key"].value)
        for row in project_store.query(
            "SELECT ?key WHERE { ?r a <https://w3id.org/mqmkg/ontology#CitedReport> ; "
            "<https://w3id.org/mqmkg/ontology#citationKey> ?key }"
        )
    }
    legend = page.locator(".legend li a").all_inner_texts()  # type: ignore[attr-defined]
    assert set(legend) == keys
    janes = page.locator("#ev-4234-4334")  # type: ignore[attr-defined]  # cites only Jane's 14 Feb 2003
    swatch = page.locator(".legend li", has_text="Jane's 14 Feb 2003").locator(".swatch")  # type: ignore[attr-defined]
    colour = swatch.evaluate("el => getComputedStyle(el).backgroundColor")
    assert janes.evaluate("el => getComputedStyle(el).backgroundColor") == colour
    third_party = page.locator(".third-party").inner_text()  # type: ignore[attr-defined]
    assert "https://www.globalsecurity.org/military/world/para/mqm.htm" in third_party
    assert "03f05671d3d555689d67e854f896a7c20fbfdcdf5e9611c7b87341182cb83640" in third_party
    assert "GlobalSecurity.org" in third_party and "matches" in third_party
    log.assert_clean()


@pytest.mark.parametrize(
    ("path", "selector"),
    [
        ("/timeline?from=1992&to=1992", ".tl-label a.quote-link"),
        ("/relations?kind=split", ".edge-table a.quote-link"),
        ("/search?q=Haqiqi", "#hits-claims a.source-link"),
        ("/id/ev-3732-3857", "section.lead a.source-link"),
    ],
)
def test_quotes_on_other_pages_lead_to_their_span(
    project_server: LiveServer, browser_page: OpenPage, path: str, selector: str
) -> None:
    page, log = visit(browser_page, project_server.url, path)
    link = page.locator(selector).first  # type: ignore[attr-defined]
    anchor = link.get_attribute("href").split("#", 1)[1]
    link.click()
    page.wait_for_url(re.compile(f"/source#{anchor}$"))  # type: ignore[attr-defined]
    wait_for_script(page, f"document.getElementById('{anchor}').classList.contains('current')")
    assert in_viewport(page, "#" + anchor)
    log.assert_clean()

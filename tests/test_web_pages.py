"""Entity, claim, evidence and search pages in real headless Chromium, down to 360 px."""

from __future__ import annotations

import re

import pyoxigraph as ox
import pytest

from browser import PageLog
from conftest import LiveServer
from pages import OpenPage, name_of, page_width, visit

pytestmark = pytest.mark.browser

PAGES = (
    "/id/mqm",
    "/id/mqm?kind=allegations",
    "/id/allegation-abuses-mid-1990s",
    "/id/claim-split-1992",
    "/id/ev-3732-3857",
    "/id/doc-globalsecurity-mqm",
    "/id/no-such-entity-here",
    "/search?q=Hussein",
    "/search",
    "/search?type=http%3A%2F%2Fxmlns.com%2Ffoaf%2F0.1%2FPerson",
    "/source",
    "/timeline",
    "/timeline?from=1998&to=1998",
    "/relations",
)


def expect_own_404(log: PageLog) -> None:
    """Forget the not-found page's own 404 (its response and the console line about it), nothing else."""
    assert len(log.failed_responses) == 1 and log.failed_responses[0].startswith("404 ")
    log.failed_responses.clear()
    own = "Failed to load resource: the server responded with a status of 404 (Not Found)"
    log.console_errors[:] = [line for line in log.console_errors if line != own]


def test_search_for_hussein_opens_altaf_hussains_page(
    project_server: LiveServer, browser_page: OpenPage, project_store: ox.Store
) -> None:
    page, log = visit(browser_page, project_server.url, "/search")
    page.get_by_label("Find a name in any spelling").fill("Hussein")  # type: ignore[attr-defined]
    page.get_by_label("Find a name in any spelling").press("Enter")  # type: ignore[attr-defined]
    page.wait_for_url(re.compile(r"/search\?q=Hussein$"))  # type: ignore[attr-defined]
    sections = page.locator("section.hits h2").all_inner_texts()  # type: ignore[attr-defined]
    assert sections[0].startswith("Entities") and sections[-1].startswith("Claims")
    first = page.locator("#hits-entities li.hit").first  # type: ignore[attr-defined]
    assert "person" in first.locator(".chip").all_inner_texts()
    assert "“Hussein”" in first.locator(".matched").inner_text()  # which name matched
    claim_quotes = page.locator("#hits-claims a.source-link")  # type: ignore[attr-defined]
    assert claim_quotes.count() >= 1 and claim_quotes.first.get_attribute("href").startswith("/source#ev-")
    first.locator("a.hit-name").click()
    page.wait_for_url("**/id/altaf-hussein")  # type: ignore[attr-defined]
    assert page.locator("h1").inner_text() == name_of(project_store, "altaf-hussein")  # type: ignore[attr-defined]
    assert "Altaf Hussain" in page.locator("table.names").inner_text()  # type: ignore[attr-defined]
    log.assert_clean()


def test_an_empty_search_offers_browsing_by_type_with_counts(
    project_server: LiveServer, browser_page: OpenPage
) -> None:
    page, log = visit(browser_page, project_server.url, "/search")
    person = page.locator(".type-list li", has_text="person").first  # type: ignore[attr-defined]
    count = int(person.locator(".count").inner_text())
    person.locator("a").click()
    page.wait_for_url(re.compile(r"/search\?type="))  # type: ignore[attr-defined]
    assert page.locator("ul.members li").count() == count  # type: ignore[attr-defined]
    assert "Afaq Ahmed" in page.locator("ul.members").inner_text()  # type: ignore[attr-defined]
    log.assert_clean()


def test_the_claim_filter_shows_one_kind_with_its_count(project_server: LiveServer, browser_page: OpenPage) -> None:
    page, log = visit(browser_page, project_server.url, "/id/mqm")
    chip = page.locator("nav.filter a", has_text="Allegations")  # type: ignore[attr-defined]
    count = int(chip.locator(".count").inner_text())
    total = int(page.locator("nav.filter a").first.locator(".count").inner_text())  # type: ignore[attr-defined]
    assert page.locator("#claims article.claim").count() == total > count > 0  # type: ignore[attr-defined]
    chip.click()
    page.wait_for_url(re.compile(r"/id/mqm\?kind=allegations"))  # type: ignore[attr-defined]
    assert page.locator("#claims article.claim").count() == count  # type: ignore[attr-defined]
    assert page.locator("#claims article.claim .chip-allegation").count() == count  # type: ignore[attr-defined]
    assert page.locator("nav.filter a[aria-current=true]").inner_text().startswith("Allegations")  # type: ignore[attr-defined]
    log.assert_clean()


def test_a_claim_page_leads_with_quote_report_and_parties(
    project_server: LiveServer, browser_page: OpenPage, project_store: ox.Store
) -> None:
    page, log = visit(browser_page, project_server.url, "/id/allegation-abuses-mid-1990s")
    lead = page.locator("section.lead")  # type: ignore[attr-defined]
    quote = lead.locator("blockquote.quote p").first.inner_text()
    assert quote.startswith("In the mid-1990s, the U.S. State Department")
    facts = lead.locator("dl.facts").inner_text()
    for name in ("us-state-department", "amnesty-international", "mqm"):
        assert name_of(project_store, name) in facts
    assert "AI 1 Feb 1996" in facts and "U.S. DOS Feb 1996" in facts
    assert "summary killings" in facts
    log.assert_clean()


@pytest.mark.parametrize("width", [360, 1280])
@pytest.mark.parametrize("path", PAGES)
def test_pages_fit_the_width_without_errors_or_foreign_requests(
    project_server: LiveServer, browser_page: OpenPage, path: str, width: int
) -> None:
    page, log = browser_page(project_server.url, width=width, height=800)
    response = page.goto(project_server.url + path)  # type: ignore[attr-defined]
    assert response.status == (404 if "no-such" in path else 200)
    page.wait_for_load_state("load")  # type: ignore[attr-defined]
    assert page_width(page) <= width, f"{path} scrolls sideways at {width} px"
    assert page.locator("h1").count() == 1  # type: ignore[attr-defined]
    if "no-such" in path:
        expect_own_404(log)
    log.assert_clean()


def test_every_quote_on_an_entity_page_links_to_the_source(project_server: LiveServer, browser_page: OpenPage) -> None:
    page, log = visit(browser_page, project_server.url, "/id/mqm-h")
    quotes = page.locator("blockquote.quote")  # type: ignore[attr-defined]
    assert quotes.count() > 3
    for i in range(quotes.count()):
        href = quotes.nth(i).locator("a.source-link").get_attribute("href")
        assert href.startswith("/source#ev-")
    log.assert_clean()

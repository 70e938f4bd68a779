"""The SPARQL query editor (YASGUI at /sparql) in a real headless Chromium."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import httpx
import pytest

from browser import PageLog
from conftest import ROOT, LiveServer

pytestmark = pytest.mark.browser

OpenPage = Callable[..., tuple[Any, PageLog]]
SPLIT_EXAMPLE = "Founding, activation, split and renaming"
LEADERS = """SELECT ?leader WHERE {
  ?split a mqm:Split ; prov:wasAssociatedWith/rdfs:label ?leader .
}
ORDER BY ?leader"""
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"


def open_editor(
    server: LiveServer, browser_page: OpenPage, path: str = "/sparql", width: int = 1280, height: int = 900
) -> tuple[Any, PageLog]:
    page, log = browser_page(server.url, width=width, height=height)
    response = page.goto(server.url + path)
    assert response.status == 200
    assert response.headers["content-type"].startswith("text/html")
    page.wait_for_selector(".CodeMirror:visible")
    return page, log


def type_query(page: Any, text: str) -> None:
    """Replace the visible editor's text by typing, as a person would, then run it."""
    page.locator(".CodeMirror:visible").click()
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    page.keyboard.insert_text(text)
    page.keyboard.press("Control+Enter")


def wait_for_rows(page: Any) -> str:
    """Wait until the bar above the result says how many rows came, and in how long."""
    status = page.locator("#result-status", has_text=re.compile(r"^[\d,]+ (rows?|triples?) in [\d.]+ s$"))
    status.wait_for()
    return str(status.inner_text())


def table_rows(page: Any) -> list[list[str]]:
    rows = page.locator(".yasr:visible table.dataTable tbody tr")
    rows.first.wait_for()
    return [[cell.strip() for cell in row.locator("td").all_inner_texts()] for row in rows.all()]


def only_the_expected_400(log: PageLog, server: LiveServer) -> None:
    """A refused query is a 400 from /sparql, which Chromium also logs; nothing else may fail."""
    assert log.failed_responses == [f"400 {server.url}/sparql"]
    assert [m for m in log.console_errors if "status of 400" not in m] == []
    assert log.page_errors == [] and log.foreign_requests == []


def test_browsers_get_the_editor_and_protocol_clients_do_not(project_server: LiveServer) -> None:
    html = httpx.get(project_server.sparql, headers={"Accept": BROWSER_ACCEPT})
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in html.headers["content-security-policy"]
    assert "Accept" in html.headers["vary"]
    for accept in (None, "*/*", "text/*", "application/sparql-results+json, */*;q=0.1"):
        headers = {"Accept": accept} if accept else {}
        description = httpx.get(project_server.sparql, headers=headers)
        assert description.status_code == 200
        assert not description.headers["content-type"].startswith("text/html"), accept
    params = {"format": "json", "query": "ASK {}"}
    explicit = httpx.get(project_server.sparql, params=params, headers={"Accept": BROWSER_ACCEPT})
    assert explicit.json() == {"head": {}, "boolean": True}
    posted = httpx.post(project_server.sparql, data={"query": "ASK {}"}, headers={"Accept": BROWSER_ACCEPT})
    assert not posted.headers["content-type"].startswith("text/html")


def test_editor_loads_offline_with_examples_and_house_prefixes(
    project_server: LiveServer, browser_page: OpenPage
) -> None:
    page, log = open_editor(project_server, browser_page)
    assert page.title() == "SPARQL query editor · mqmkg"
    assert page.locator("nav[aria-label='Site'] a[aria-current='page']").inner_text() == "SPARQL"
    catalog = httpx.get(project_server.url + "/queries", params={"format": "json"}).json()["queries"]
    buttons = page.locator("#example-list button[data-example]").all_inner_texts()
    assert sorted(buttons) == sorted(q["title"] for q in catalog)
    page.locator("details summary:has-text('need no')").click()
    assert "kg: https://w3id.org/mqmkg/id/" in page.inner_text(".prefix-list")
    # The starter query uses house prefixes without PREFIX lines: the editor does not flag them.
    assert "PREFIX" not in page.locator(".CodeMirror:visible").inner_text().replace("PREFIX line", "")
    assert page.locator(".CodeMirror:visible .parseErrorIcon").count() == 0
    page.keyboard.press("Escape")
    page.locator(".CodeMirror:visible").click()
    page.keyboard.press("Control+Enter")
    assert wait_for_rows(page).startswith("25 rows in ")
    log.assert_clean()


def test_running_an_example_shows_the_leaders_of_the_1992_split(
    project_server: LiveServer, browser_page: OpenPage
) -> None:
    page, log = open_editor(project_server, browser_page)
    page.get_by_role("button", name=SPLIT_EXAMPLE).click()
    assert wait_for_rows(page).startswith("4 rows in ")
    rows = table_rows(page)
    split = next(row for row in rows if "event-1992-mqm-h-split" in row[1])
    assert "MQM Haqiqi" in split[6] and "Aamir Khan | Afaq Ahmed" in split[7]
    link = page.locator(".yasr:visible a.iri", has_text="kg:event-1992-mqm-h-split")
    assert link.get_attribute("href") == "/id/event-1992-mqm-h-split"
    assert "(canned query /queries/organisation-changes)" in unquote(page.url)  # the query is in the address bar
    assert page.locator(".tabsList .tab.active").inner_text().strip().startswith(SPLIT_EXAMPLE)
    link.click()
    page.wait_for_url("**/id/event-1992-mqm-h-split")
    assert page.locator("h1").inner_text() == "Breakaway MQM faction launches MQM Haqiqi (1992)"
    log.assert_clean()


def test_result_iris_link_to_entity_pages_and_wikidata(project_server: LiveServer, browser_page: OpenPage) -> None:
    page, log = open_editor(project_server, browser_page)
    type_query(page, "SELECT ?person ?item WHERE { VALUES ?person { kg:altaf-hussein } ?person owl:sameAs ?item }")
    assert wait_for_rows(page).startswith("1 row in ")
    ours = page.locator(".yasr:visible a.iri", has_text="kg:altaf-hussein")
    assert ours.get_attribute("href") == "/id/altaf-hussein"
    assert ours.get_attribute("title") == "https://w3id.org/mqmkg/id/altaf-hussein"
    beside = page.locator(".yasr:visible a.wikidata-link")
    assert beside.inner_text() == "Q2840298"
    assert beside.get_attribute("href") == "https://www.wikidata.org/wiki/Q2840298"
    theirs = page.locator(".yasr:visible a.iri", has_text="Q2840298")
    assert theirs.get_attribute("href") == "http://www.wikidata.org/entity/Q2840298"
    log.assert_clean()


def test_a_syntax_error_shows_the_endpoints_message(project_server: LiveServer, browser_page: OpenPage) -> None:
    page, log = open_editor(project_server, browser_page)
    type_query(page, "SELECT * WHERE { ?s ?p }")
    detail = page.locator(".problem-detail")
    detail.wait_for()
    assert detail.inner_text().startswith("syntax error at line 1, column ")
    assert "400 Bad Request" in page.inner_text(".problem-title")
    assert page.inner_text("#result-status").startswith("The query failed after ")
    page.get_by_role("button", name="Show line 1").click()
    only_the_expected_400(log, project_server)


def test_an_undeclared_prefix_is_named_and_can_be_added(project_server: LiveServer, browser_page: OpenPage) -> None:
    page, log = open_editor(project_server, browser_page)
    type_query(page, "SELECT ?statement WHERE { ?statement ps:P31 ?class }")
    detail = page.locator(".problem-detail")
    detail.wait_for()
    # The editor reads prefixes as the endpoint does: ps: is flagged, the house prefixes never are.
    assert page.locator(".CodeMirror:visible .parseErrorIcon").count() == 1
    assert detail.inner_text() == (
        'syntax error at line 1, column 38: the prefix "ps:" is not declared; '
        "add this line at the top of the query: PREFIX ps: <http://www.wikidata.org/prop/statement/>"
    )
    assert "\\u{" not in detail.inner_text()
    page.get_by_role("button", name="Add “PREFIX ps: <http://www.wikidata.org/prop/statement/>” and run again").click()
    assert wait_for_rows(page).startswith("0 rows in ")
    text = page.evaluate("document.querySelector('.tabPanel.active .CodeMirror').CodeMirror.getValue()")
    assert text.startswith("PREFIX ps: <http://www.wikidata.org/prop/statement/>\nSELECT ?statement")
    only_the_expected_400(log, project_server)


def test_a_shared_link_reproduces_the_result(project_server: LiveServer, browser_page: OpenPage) -> None:
    page, log = open_editor(project_server, browser_page)
    type_query(page, LEADERS)
    wait_for_rows(page)
    shared = page.url
    assert shared == f"{project_server.url}/sparql?query={quote(LEADERS, safe='')}"
    other, other_log = browser_page(project_server.url)  # a fresh browser context: nothing stored
    other.goto(shared)
    assert wait_for_rows(other).startswith("2 rows in ")
    assert [row[1] for row in table_rows(other)] == ['"Aamir Khan"@en', '"Afaq Ahmed"@en']
    log.assert_clean()
    other_log.assert_clean()


def test_downloads_carry_the_whole_result_in_every_format(
    project_server: LiveServer, browser_page: OpenPage, tmp_path: Path
) -> None:
    page, log = open_editor(project_server, browser_page)
    page.get_by_role("button", name=SPLIT_EXAMPLE).click()
    wait_for_rows(page)
    assert page.locator("#downloads button").all_inner_texts() == ["JSON", "XML", "CSV", "TSV"]
    with page.expect_download() as event:
        page.locator("#downloads button", has_text="CSV").click()
    download = event.value
    assert download.suggested_filename == "founding-activation-split-and-renaming.csv"
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    lines = target.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "event,label,kind,date,organisationLabel,resultLabel,ledBy"
    assert any(line.startswith("https://w3id.org/mqmkg/id/event-1992-mqm-h-split,") for line in lines)
    assert any(line.endswith(",MQM Haqiqi,Aamir Khan | Afaq Ahmed") for line in lines)
    assert len(lines) == 5
    type_query(page, "CONSTRUCT WHERE { kg:mqm-h rdfs:label ?label }")
    wait_for_rows(page)
    assert page.locator("#downloads button").all_inner_texts() == ["TURTLE", "NTRIPLES", "JSONLD", "RDFXML"]
    with page.expect_download() as event:
        page.locator("#downloads button", has_text="NTRIPLES").click()
    target = tmp_path / "graph.nt"
    event.value.save_as(target)
    assert target.read_text(encoding="utf-8") == (
        '<https://w3id.org/mqmkg/id/mqm-h> <http://www.w3.org/2000/01/rdf-schema#label> "MQM Haqiqi"@en .\n'
    )
    log.assert_clean()


def test_a_truncated_result_shows_the_notice(
    live_server_factory: Callable[..., LiveServer], browser_page: OpenPage
) -> None:
    server = live_server_factory(root=ROOT, max_rows="3", workers="1")
    page, log = open_editor(server, browser_page)
    page.locator(".CodeMirror:visible").click()
    page.keyboard.press("Control+Enter")
    assert wait_for_rows(page).startswith("3 rows in ")
    notice = page.locator("#truncation-notice")
    assert notice.is_visible()
    assert notice.inner_text().startswith("Only the first 3 rows are shown: the result was cut at the endpoint's")
    assert len(table_rows(page)) == 3
    page.get_by_role("button", name=SPLIT_EXAMPLE).click()  # 4 rows: cut too
    wait_for_rows(page)
    assert notice.is_visible()
    type_query(page, LEADERS)  # 2 rows: whole
    assert wait_for_rows(page).startswith("2 rows in ")
    assert not notice.is_visible()
    log.assert_clean()


def test_the_editor_works_at_360_px(project_server: LiveServer, browser_page: OpenPage) -> None:
    page, log = open_editor(project_server, browser_page, width=360)
    page.keyboard.press("Tab")  # the skip link comes first, then leads past the menu
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    page.get_by_role("button", name=SPLIT_EXAMPLE).click()
    wait_for_rows(page)
    table_rows(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    log.assert_clean()


def test_screenshot_of_the_editor_with_a_result(
    project_server: LiveServer, browser_page: OpenPage, tmp_path: Path
) -> None:
    """Writes docs/screenshots/editor.png when MQMKG_SCREENSHOTS_DIR is set (``make screenshots``)."""
    page, log = open_editor(project_server, browser_page, width=1280, height=1000)
    page.get_by_role("button", name=SPLIT_EXAMPLE).click()
    wait_for_rows(page)
    table_rows(page)
    page.get_by_label("Simple view").check()  # no row numbers, language tags or datatypes: all rows fit
    page.evaluate(
        "() => { const list = document.getElementById('example-list');"
        " const item = list.querySelector('button[data-example=\"organisation-changes\"]').closest('li');"
        " list.scrollTop = item.offsetTop - list.offsetTop; }"
    )
    page.evaluate("window.scrollTo(0, 0)")
    shot = tmp_path / "editor.png"
    page.screenshot(path=str(shot), full_page=False)
    data = shot.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 20_000
    target = os.environ.get("MQMKG_SCREENSHOTS_DIR")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, Path(target) / "editor.png")
    log.assert_clean()

"""Canned query pages (/queries, /queries/<name>, /queries/<name>/run) over HTTP and in Chromium."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from browser import PageLog
from conftest import KG, ROOT, LiveServer
from mqmkg.config import WIKIDATA_SPARQL
from mqmkg.queries import load_catalog
from mqmkg.web.editor import EXTENSIONS, example_text

OpenPage = Callable[..., tuple[Any, PageLog]]
CATALOG = load_catalog(ROOT / "queries")
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.mark.parametrize(
    ("name", "formats"),
    [
        ("organisation-changes", ("json", "xml", "csv", "tsv")),
        ("describe-entity", ("turtle", "ntriples", "jsonld", "rdfxml")),
    ],
)
def test_every_download_carries_a_file_name(project_server: LiveServer, name: str, formats: tuple[str, ...]) -> None:
    assert (EXTENSIONS["csv"], EXTENSIONS["turtle"], EXTENSIONS["json"], EXTENSIONS["rdfxml"]) == (
        "csv",
        "ttl",
        "srj",
        "rdf",
    )
    for fmt in formats:
        response = httpx.get(f"{project_server.url}/queries/{name}/run", params={"format": fmt})
        assert response.status_code == 200
        assert response.headers["content-disposition"] == f'attachment; filename="{name}.{EXTENSIONS[fmt]}"'


def test_run_is_a_page_for_browsers_and_data_for_everyone_else(project_server: LiveServer) -> None:
    url = project_server.url + "/queries/organisation-changes/run"
    page = httpx.get(url, headers={"Accept": BROWSER_ACCEPT})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert page.headers["x-mqmkg-rows"] == "4" and page.headers["x-mqmkg-truncated"] == "false"
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert httpx.get(url, params={"format": "html"}).headers["content-type"].startswith("text/html")
    for accept in (None, "*/*", "application/sparql-results+json"):
        data = httpx.get(url, headers={"Accept": accept} if accept else {})
        assert data.headers["content-type"].startswith("application/sparql-results+json"), accept
        assert len(data.json()["results"]["bindings"]) == 4


def test_a_refused_parameter_shows_the_form_again_with_the_reason(project_server: LiveServer) -> None:
    url = project_server.url + "/queries/events-in-place-and-period/run"
    page = httpx.get(url, params={"from": "1992", "format": "html"})
    assert page.status_code == 400 and page.headers["content-type"].startswith("text/html")
    assert "from: &#39;1992&#39; is not a date (YYYY-MM-DD)" in page.text
    assert 'name="from" value="1992"' in page.text  # the form keeps what was typed
    problem = httpx.get(url, params={"from": "1992"})
    assert problem.status_code == 400 and problem.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("name", ["wikidata-facts", "wikidata-population-of-places"])
def test_federated_examples_run_from_the_editor_without_prefix_lines(project_server: LiveServer, name: str) -> None:
    """The editor's text drops the house PREFIX lines, SERVICE block included: the guard and the
    engine read it with the same predeclared prefixes, and the stand-in answers as for the canned run."""
    served = load_catalog(ROOT / "queries", {WIKIDATA_SPARQL: project_server.settings["wikidata_endpoint"]})
    text = example_text(served[name])
    assert "PREFIX" not in text and "SERVICE <" in text and "wdt:" in text
    edited = httpx.post(
        project_server.sparql, data={"query": text}, headers={"Accept": "application/sparql-results+json"}
    )
    canned = httpx.get(f"{project_server.url}/queries/{name}/run")
    assert edited.status_code == 200, edited.text
    assert edited.json()["results"] == canned.json()["results"]
    assert len(edited.json()["results"]["bindings"]) >= 1


@pytest.mark.browser
def test_the_list_shows_every_query_with_its_description(project_server: LiveServer, browser_page: OpenPage) -> None:
    page, log = browser_page(project_server.url, width=360)
    page.goto(project_server.url + "/queries")
    titles = page.locator(".query-list h2").all_inner_texts()
    assert sorted(titles) == sorted(q.title for q in CATALOG.values())
    assert page.locator("nav[aria-label='Site'] a[aria-current='page']").inner_text() == "Queries"
    assert CATALOG["organisation-changes"].description in page.inner_text("main")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    log.assert_clean()


@pytest.mark.browser
def test_a_canned_query_runs_as_a_table_with_entity_links(project_server: LiveServer, browser_page: OpenPage) -> None:
    page, log = browser_page(project_server.url)
    page.goto(project_server.url + "/queries/organisation-changes")
    assert page.locator("h1").inner_text() == "Founding, activation, split and renaming"
    assert page.locator(".query-text .highlight").inner_text().count("PREFIX") == 15
    assert page.locator("#run-format").input_value() == "html"
    page.get_by_role("button", name="Run").click()
    page.wait_for_url("**/queries/organisation-changes/run?format=html")
    assert page.inner_text(".result-count").startswith("4 rows in ")
    header = page.locator("table.results thead th").all_inner_texts()
    assert header == ["#", "event", "label", "kind", "date", "organisationLabel", "resultLabel", "ledBy"]
    split = page.locator("table.results tbody tr", has_text="event-1992-mqm-h-split")
    cells = split.locator("td").all_inner_texts()
    assert cells[6].strip() == "MQM Haqiqi @en" and cells[7].strip() == "Aamir Khan | Afaq Ahmed @en"
    assert cells[4].strip() == "1992 xsd:gYear"
    organisation = split.locator("a.iri", has_text="kg:event-1992-mqm-h-split")
    assert organisation.get_attribute("href") == "/id/event-1992-mqm-h-split"
    organisation.click()
    page.wait_for_url("**/id/event-1992-mqm-h-split")
    log.assert_clean()


@pytest.mark.browser
def test_the_form_binds_parameters(project_server: LiveServer, browser_page: OpenPage) -> None:
    page, log = browser_page(project_server.url)
    page.goto(project_server.url + "/queries/events-in-place-and-period")
    page.get_by_label("place").fill("kg:karachi")
    page.get_by_label("from").fill("1998-01-01")
    page.get_by_label("to").fill("1998-12-31")
    page.get_by_role("button", name="Run").click()
    page.wait_for_selector("table.results")
    events = page.locator("table.results tbody tr td:nth-child(5) a.iri").all_inner_texts()
    dating = [text.split()[0] for text in page.locator("table.results tbody tr td:nth-child(11)").all_inner_texts()]
    by_dating = {kind: sorted(e for e, d in zip(events, dating, strict=True) if d == kind) for kind in set(dating)}
    assert by_dating.pop("undated") == [  # kept at the end, marked, not dropped
        "kg:event-karachi-conflict",
        "kg:event-mqm-a-strikes",
        "kg:event-strike-enforcement-violence",
    ]
    assert sorted(e for found in by_dating.values() for e in found) == [
        "kg:event-1998-altaf-haqiqi-fighting",
        "kg:event-1998-karachi-tensions-resurgence",
        "kg:event-karachi-murders-reduced",
        "kg:event-mid-1990s-sindh-political-violence",
    ]
    wikidata = page.locator("table.results tbody tr").first.locator("a.wikidata-link")
    assert wikidata.inner_text() == "Q8660"
    assert page.get_by_label("place").input_value() == "kg:karachi"
    log.assert_clean()


@pytest.mark.browser
def test_csv_download_from_the_run_page(project_server: LiveServer, browser_page: OpenPage, tmp_path: Path) -> None:
    page, log = browser_page(project_server.url)
    page.goto(project_server.url + "/queries/claims-by-report/run?key=HRW+Dec+1997&format=html")
    assert page.inner_text(".result-count").startswith("3 rows in ")
    with page.expect_download() as event:
        page.locator(".downloads a", has_text="CSV").click()
    download = event.value
    assert download.suggested_filename == "claims-by-report.csv"
    target = tmp_path / "claims.csv"
    download.save_as(target)
    lines = target.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "key,claim,kind,statement,quote,start"
    # the renaming, and its former name read from two sentences together (one row per evidence sentence)
    rows = [[*line.split(",")[:3], line.rsplit(",", 1)[1]] for line in lines[1:]]
    assert rows == [
        ["HRW Dec 1997", f"{KG}claim-renaming-1997-former-name", "claim", "216"],
        ["HRW Dec 1997", f"{KG}claim-renaming-1997", "claim", "6159"],
        ["HRW Dec 1997", f"{KG}claim-renaming-1997-former-name", "claim", "6159"],
    ]
    log.assert_clean()


@pytest.mark.browser
def test_a_truncated_run_shows_the_notice(
    live_server_factory: Callable[..., LiveServer], browser_page: OpenPage
) -> None:
    server = live_server_factory(root=ROOT, max_rows="3", workers="1")
    page, log = browser_page(server.url, width=360)
    page.goto(server.url + "/queries/organisation-changes/run?format=html")
    assert page.inner_text(".result-count").startswith("3 rows in ")
    assert (
        page.locator("#truncation-notice")
        .inner_text()
        .startswith("Only the first 3 rows are shown: the result was cut at the endpoint's row limit")
    )
    assert page.locator("table.results tbody tr").count() == 3
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    log.assert_clean()


@pytest.mark.browser
def test_query_pages_work_at_360_px(project_server: LiveServer, browser_page: OpenPage) -> None:
    page, log = browser_page(project_server.url, width=360)
    for path in ("/queries/statement-provenance", "/queries/statement-provenance/run?format=html", "/"):
        page.goto(project_server.url + path)
        assert page.evaluate("document.documentElement.scrollWidth") <= 360, path
    log.assert_clean()

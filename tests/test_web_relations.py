"""The relations view in real headless Chromium: the 1992 split with its leaders, edges to claims."""

from __future__ import annotations

import re

import httpx
import pyoxigraph as ox
import pytest

from conftest import LiveServer
from pages import KG, OpenPage, name_of, visit, wait_for_script

pytestmark = pytest.mark.browser

GRAPH_EDGES = """() => window.mqmkgRelations.edges().map(e => [
  e.source().data('label'), e.data('kind'), e.target().data('label'), e.data('href')])"""


def wait_for_graph(page: object) -> None:
    page.wait_for_selector("#relations-graph[data-ready=true]")  # type: ignore[attr-defined]
    wait_for_script(page, "window.mqmkgRelations.nodes().length > 0")


def test_the_graph_shows_the_1992_split_with_its_leaders(
    project_server: LiveServer, browser_page: OpenPage, project_store: ox.Store
) -> None:
    page, log = visit(browser_page, project_server.url, "/relations")
    page.get_by_role("link", name="split and leaders").click()  # type: ignore[attr-defined]
    page.wait_for_url(re.compile(r"/relations\?kind=split&kind=leadership&kind=names$"))  # type: ignore[attr-defined]
    wait_for_graph(page)
    mqm, haqiqi = name_of(project_store, "mqm"), name_of(project_store, "mqm-h")
    edges = {(s, k, t): href for s, k, t, href in page.evaluate(GRAPH_EDGES)}  # type: ignore[attr-defined]
    assert edges[(haqiqi, "split", mqm)] == "/id/claim-split-1992"
    for leader in ("afaq-ahmed", "aamir-khan"):
        assert edges[(name_of(project_store, leader), "leadership", haqiqi)] == "/id/claim-mqm-h-leaders"
    assert {kind for _, kind, _ in edges} == {"split", "leadership", "names"}
    canvas = page.locator("#relations-graph canvas").first.bounding_box()  # type: ignore[attr-defined]
    assert canvas is not None and canvas["width"] > 300 and canvas["height"] > 200
    table = page.locator(".edge-table tbody tr[data-kind=split]", has_text=haqiqi)  # type: ignore[attr-defined]
    assert table.locator("td").nth(2).inner_text() == mqm
    assert table.locator("td").nth(3).inner_text() == "1992"
    assert table.locator("a.quote-link").get_attribute("href") == "/source#ev-3732-3857"
    leaders = page.locator(".edge-table tbody tr[data-kind=leadership]", has_text=haqiqi).all_inner_texts()  # type: ignore[attr-defined]
    assert any("Afaq Ahmed" in row for row in leaders) and any("Aamir Khan" in row for row in leaders)
    log.assert_clean()


def test_selecting_an_edge_opens_the_claim_behind_it(project_server: LiveServer, browser_page: OpenPage) -> None:
    page, log = visit(browser_page, project_server.url, "/relations?kind=split")
    wait_for_graph(page)
    point = page.evaluate(  # type: ignore[attr-defined]
        """() => { const e = window.mqmkgRelations.edges().filter(e => e.data('href') === '/id/claim-split-1992')[0];
                   const p = e.renderedMidpoint();
                   const r = document.querySelector('#relations-graph').getBoundingClientRect();
                   return [r.left + p.x, r.top + p.y]; }"""
    )
    page.mouse.click(point[0], point[1])  # type: ignore[attr-defined]
    page.wait_for_url(re.compile(r"/id/claim-split-1992$"))  # type: ignore[attr-defined]
    assert page.locator("section.lead blockquote.quote").count() == 1  # type: ignore[attr-defined]
    log.assert_clean()


def test_the_filter_by_kind_and_period(project_server: LiveServer, browser_page: OpenPage) -> None:
    page, log = visit(browser_page, project_server.url, "/relations")
    for kind in page.locator("input[name=kind]").all():  # type: ignore[attr-defined]
        if kind.get_attribute("value") not in ("accusation", "denial"):
            kind.uncheck()
    page.get_by_label("From").fill("1998")  # type: ignore[attr-defined]
    page.get_by_label("to", exact=True).fill("1998")  # type: ignore[attr-defined]
    page.get_by_label("keep undated relations").uncheck()  # type: ignore[attr-defined]
    page.get_by_role("button", name="Apply").click()  # type: ignore[attr-defined]
    page.wait_for_url(re.compile(r"/relations\?kind=accusation&kind=denial&from=1998&to=1998"))  # type: ignore[attr-defined]
    wait_for_graph(page)
    kinds = {kind for _, kind, _, _ in page.evaluate(GRAPH_EDGES)}  # type: ignore[attr-defined]
    assert kinds == {"accusation", "denial"}
    rows = page.locator(".edge-table tbody tr").all_inner_texts()  # type: ignore[attr-defined]
    assert any("Ch Shujat Hussain" in row and "August 1998" in row for row in rows)
    assert page.locator(".edge-table tbody tr").count() == len(page.evaluate(GRAPH_EDGES))  # type: ignore[attr-defined]
    assert "undated relation" in page.locator(".relations-filter").inner_text()  # type: ignore[attr-defined]
    log.assert_clean()


def test_the_edges_as_json_for_machines(project_server: LiveServer) -> None:
    body = httpx.get(
        project_server.url + "/relations", params={"kind": "split"}, headers={"Accept": "application/json"}
    )
    assert body.status_code == 200 and body.headers["content-type"].startswith("application/json")
    edges = body.json()["edges"]
    split = next(e for e in edges if e["source"] == KG + "mqm-h" and e["target"] == KG + "mqm")
    assert split["time"] == "1992" and split["claims"][0]["page"] == "/id/claim-split-1992"
    assert split["quotes"] == ["/source#ev-3732-3857"]
    bad = httpx.get(project_server.url + "/relations", params={"kind": "friendship"})
    assert bad.status_code == 400 and "friendship" in bad.json()["detail"]
    backwards = httpx.get(project_server.url + "/relations", params={"from": 1999, "to": 1990})
    assert backwards.status_code == 400

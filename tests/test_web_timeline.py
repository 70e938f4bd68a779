"""The timeline in real headless Chromium: a year's items in date order, each drawn at its precision."""

from __future__ import annotations

import re
from datetime import date

import pyoxigraph as ox
import pytest

from conftest import LiveServer
from pages import KG, OpenPage, save_screenshot, visit

pytestmark = pytest.mark.browser

TOLERANCE = 1.5  # pixels: rounding of percentages to device pixels
UNITS = {
    "http://www.w3.org/2006/time#unitYear": "year",
    "http://www.w3.org/2006/time#unitMonth": "month",
    "http://www.w3.org/2006/time#unitDay": "day",
}


def stamped(store: ox.Store, year: int) -> dict[str, tuple[str, date]]:
    """Return the events and figures the graph stamps inside ``year``: precision and first day, by name."""
    rows = store.query(
        """PREFIX sem: <http://semanticweb.cs.vu.nl/2009/11/sem/>
        PREFIX time: <http://www.w3.org/2006/time#>
        PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
        SELECT ?item ?unit ?earliest WHERE {
          ?item a ?class ; time:unitType ?unit ; sem:hasEarliestBeginTimeStamp ?earliest .
          { ?class rdfs:subClassOf* sem:Event }
          UNION { ?class rdfs:subClassOf* <https://w3id.org/mqmkg/ontology#Figure> }
        }"""
    )
    found = {}
    for row in rows:
        first = date.fromisoformat(row["earliest"].value)
        if first.year == year and row["item"].value.startswith(KG):
            found[row["item"].value.removeprefix(KG)] = (UNITS[row["unit"].value], first)
    return found


def box(page: object, selector: str) -> dict[str, float]:
    found = page.locator(selector).first.bounding_box()  # type: ignore[attr-defined]
    assert found is not None, selector
    return found


def test_a_years_events_and_figures_are_listed_in_date_order_at_their_precision(
    project_server: LiveServer, browser_page: OpenPage, project_store: ox.Store
) -> None:
    expected = stamped(project_store, 1998)
    assert {"event-1998-05-28-emergency", "fig-1998-06-karachi-killed", "event-1998-10-alliance-rupture"} <= set(
        expected
    )
    page, log = visit(browser_page, project_server.url, "/timeline?from=1998&to=1998")
    rows = page.locator(".chronology tbody tr").evaluate_all(  # type: ignore[attr-defined]
        "rows => rows.map(r => [r.dataset.iri, r.dataset.precision, r.dataset.earliest || r.dataset.latest,"
        " r.querySelector('td.when').textContent])"
    )
    listed = {iri.removeprefix(KG): (precision, first, when) for iri, precision, first, when in rows}
    for name, (precision, first) in expected.items():
        assert listed[name][:2] == (precision, first.isoformat()), name
    assert listed["event-1998-05-28-emergency"][2] == "28 May 1998"
    assert listed["fig-1998-06-karachi-killed"][2] == "June 1998"
    assert listed["event-1998-altaf-haqiqi-fighting"][2] == "1998"
    firsts = [first for _, _, first, _ in rows]
    assert firsts == sorted(firsts)
    order = [iri.removeprefix(KG) for iri, *_ in rows]
    chain = [
        "event-1998-altaf-haqiqi-fighting",
        "event-1998-05-28-emergency",
        "fig-1998-06-karachi-killed",
        "event-1998-10-alliance-rupture",
        "event-1998-10-30-governors-rule",
        "event-1998-11-20-ordinance-promulgated",
    ]
    assert [order.index(name) for name in chain] == sorted(order.index(name) for name in chain)
    assert "event-1992-mqm-h-split" not in listed
    log.assert_clean()


def test_each_item_is_drawn_at_its_precision(project_server: LiveServer, browser_page: OpenPage) -> None:
    page, log = visit(browser_page, project_server.url, "/timeline?from=1998&to=1998")

    def lane_of(name: str) -> str:
        return f"section.tl-lane:has(li[data-iri='{KG}{name}'])"

    def axis(name: str) -> tuple[float, float]:
        start = box(page, f"{lane_of(name)} .tick[data-year='1998']")["x"]
        end = box(page, f"{lane_of(name)} .tick[data-year='1999']")["x"]
        return start, end - start

    year = box(page, f"li[data-iri='{KG}event-1998-altaf-haqiqi-fighting'] .tl-bar")
    start, span = axis("event-1998-altaf-haqiqi-fighting")
    assert abs(year["x"] - start) <= TOLERANCE and abs(year["width"] - span) <= TOLERANCE
    month = box(page, f"li[data-iri='{KG}fig-1998-06-karachi-killed'] .tl-bar")
    start, span = axis("fig-1998-06-karachi-killed")
    june = (date(1998, 6, 1) - date(1998, 1, 1)).days / 365
    assert abs(month["x"] - (start + span * june)) <= TOLERANCE
    assert abs(month["width"] - span * 30 / 365) <= TOLERANCE
    day = box(page, f"li[data-iri='{KG}event-1998-05-28-emergency'] .tl-bar")
    start, span = axis("event-1998-05-28-emergency")
    may28 = (date(1998, 5, 28) - date(1998, 1, 1)).days / 365
    assert day["width"] <= 12 and day["width"] == pytest.approx(day["height"], abs=1)  # a point
    assert abs(day["x"] + day["width"] / 2 - (start + span * may28)) <= 3
    log.assert_clean()


def test_a_year_spans_its_year_on_the_whole_timeline(project_server: LiveServer, browser_page: OpenPage) -> None:
    page, log = visit(browser_page, project_server.url, "/timeline")
    lane = f"section.tl-lane:has(li[data-iri='{KG}event-1992-mqm-h-split'])"
    bar = box(page, f"li[data-iri='{KG}event-1992-mqm-h-split'] .tl-bar")
    start = box(page, f"{lane} .tick[data-year='1992']")["x"]
    end = box(page, f"{lane} .tick[data-year='1993']")["x"]
    assert abs(bar["x"] - start) <= TOLERANCE and abs(bar["x"] + bar["width"] - end) <= TOLERANCE
    assert page.locator(f"li[data-iri='{KG}event-1992-mqm-h-split']").get_attribute("data-precision") == "year"  # type: ignore[attr-defined]
    log.assert_clean()


def test_undated_events_are_listed_with_the_event_they_belong_to(
    project_server: LiveServer, browser_page: OpenPage
) -> None:
    page, log = visit(browser_page, project_server.url, "/timeline")
    item = page.locator(f".timeline-undated li[data-iri='{KG}event-strike-enforcement-violence']")  # type: ignore[attr-defined]
    assert item.locator(".part-of a").get_attribute("href") == "/id/event-mqm-a-strikes"
    assert page.locator(f".chronology tr[data-iri='{KG}event-strike-enforcement-violence']").count() == 0  # type: ignore[attr-defined]
    log.assert_clean()


def test_the_period_form_narrows_the_timeline(project_server: LiveServer, browser_page: OpenPage) -> None:
    page, log = visit(browser_page, project_server.url, "/timeline")
    page.get_by_label("From").fill("1992")  # type: ignore[attr-defined]
    page.get_by_label("to", exact=True).fill("1992")  # type: ignore[attr-defined]
    page.get_by_role("button", name="Show").click()  # type: ignore[attr-defined]
    page.wait_for_url(re.compile(r"/timeline\?from=1992&to=1992$"))  # type: ignore[attr-defined]
    assert page.locator("h1").inner_text() == "Timeline 1992"  # type: ignore[attr-defined]
    split = page.locator(f".chronology tr[data-iri='{KG}event-1992-mqm-h-split']")  # type: ignore[attr-defined]
    assert split.get_attribute("data-precision") == "year"
    army = page.locator(f".chronology tr[data-iri='{KG}event-1992-06-army-called-in']")  # type: ignore[attr-defined]
    assert army.get_attribute("data-precision") == "month" and army.locator("td.when").inner_text() == "June 1992"
    assert page.locator(f".chronology tr[data-iri='{KG}event-1998-05-28-emergency']").count() == 0  # type: ignore[attr-defined]
    log.assert_clean()


def test_timeline_screenshot(project_server: LiveServer, browser_page: OpenPage) -> None:
    page, log = visit(browser_page, project_server.url, "/timeline?from=1990&to=1999", height=1000)
    assert page.locator("section.tl-lane").count() >= 4  # type: ignore[attr-defined]
    save_screenshot(page, "timeline.png")
    log.assert_clean()

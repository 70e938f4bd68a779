"""Helpers for the browser tests of the pages: open a page and check it, save a screenshot."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pyoxigraph as ox
from playwright.sync_api import Error as PlaywrightError

from browser import PageLog
from conftest import wait_until

ROOT = Path(__file__).resolve().parents[1]
SCREENSHOTS = ROOT / "docs" / "screenshots"
KG = "https://w3id.org/mqmkg/id/"

OpenPage = Callable[..., tuple[object, PageLog]]


def visit(
    browser_page: OpenPage, origin: str, path: str, width: int = 1280, height: int = 900
) -> tuple[object, PageLog]:
    """Open ``path`` in a fresh page and check it answered 200."""
    page, log = browser_page(origin, width=width, height=height)
    response = page.goto(origin + path)  # type: ignore[attr-defined]
    assert response.status == 200, f"{path}: {response.status}"
    page.wait_for_load_state("load")  # type: ignore[attr-defined]
    return page, log


def wait_for_script(page: object, expression: str, timeout: float = 10.0) -> None:
    """Wait until the JavaScript ``expression`` is true in ``page``.

    Playwright's ``wait_for_function`` polls by evaluating the expression inside the page, which
    our Content-Security-Policy forbids (no ``unsafe-eval``); ``evaluate`` goes through the
    DevTools protocol, which the policy does not govern, so the wait asks from here.
    """

    def holds() -> bool:
        try:
            return bool(page.evaluate(expression))  # type: ignore[attr-defined]
        except PlaywrightError:  # a navigation replaced the document under the call: ask again
            return False

    assert wait_until(holds, timeout), f"never true in {timeout} s: {expression}"


def page_width(page: object) -> int:
    """Return how wide the page's content is (more than the viewport means a horizontal scroll)."""
    return int(page.evaluate("document.documentElement.scrollWidth"))  # type: ignore[attr-defined]


def name_of(store: ox.Store, name: str) -> str:
    """Return the graph's preferred label of ``kg:<name>`` (its rdfs:label if it has none)."""
    rows = list(
        store.query(
            "SELECT ?this ?name WHERE { OPTIONAL { ?this <http://www.w3.org/2004/02/skos/core#prefLabel> ?pref } "
            "OPTIONAL { ?this <http://www.w3.org/2000/01/rdf-schema#label> ?plain } "
            "BIND (COALESCE(?pref, ?plain) AS ?name) }",
            substitutions={ox.Variable("this"): ox.NamedNode(KG + name)},
        )
    )
    return str(rows[0]["name"].value)


def save_screenshot(page: object, name: str, **options: object) -> Path:
    """Write ``docs/screenshots/<name>`` (only when the picture changed, so a clean tree stays clean)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    target = SCREENSHOTS / name
    data: bytes = page.screenshot(**options)  # type: ignore[attr-defined]
    if not target.exists() or target.read_bytes() != data:
        target.write_bytes(data)
    return target

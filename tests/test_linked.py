"""Entity views and label search over the served store."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest

from mqmkg.linked import compact, entity_view, normalize, search

ROOT = Path(__file__).resolve().parents[1]
KG = "https://w3id.org/mqmkg/id/"


@pytest.fixture(scope="module")
def store(project_store: ox.Store) -> ox.Store:
    return project_store


def test_karachi_view(store: ox.Store) -> None:
    view = entity_view(store, KG + "karachi")
    assert view.exists and view.name == "Karachi"
    assert [t.label for t in view.types] == ["place"]
    assert view.wikidata == (("http://www.wikidata.org/entity/Q8660", "same as"),)
    claims = {c.iri.removeprefix(KG) for c in view.claims}
    assert {
        "claim-karachi-most-populous",
        "claim-fig-1995",
        "allegation-government-attributes-terrorism",
    } <= claims
    fig = next(c for c in view.claims if c.iri == KG + "claim-fig-1995")
    assert [r.key for r in fig.reports] == ["U.S. DOS Feb 1996"]
    assert [(q.start, q.end) for q in fig.quotes] == [(5617, 5794)]
    incoming = {(link.property.label, link.other.label) for link in view.incoming}
    assert ("located in", "Nine Zero") in incoming
    starts = [c.start for c in view.claims]
    assert starts == sorted(starts)


def test_view_of_a_fact_node_shows_its_supporting_claim(store: ox.Store) -> None:
    view = entity_view(store, KG + "event-1992-mqm-h-split")
    assert [c.iri.removeprefix(KG) for c in view.claims] == ["claim-split-1992"]
    outgoing = {(link.property.value, link.other.label) for link in view.outgoing}
    assert ("http://www.w3.org/ns/prov#wasAssociatedWith", "Afaq Ahmed") in outgoing


def test_unknown_entity_does_not_exist(store: ox.Store) -> None:
    assert not entity_view(store, KG + "no-such-thing").exists


@pytest.mark.parametrize(
    ("text", "first"),
    [
        ("Hussein", "altaf-hussein"),
        ("Mothaidda", "mqm"),
        ("MQM (A)", "mqm"),
        ("mqm-a", "mqm"),
        ("Haqiqi", "mqm-h"),
        ("hussain", "ch-shujat-hussain"),
        ("NINE ZERO", "nine-zero"),
        ("Muttahidda", "mqm"),
        ("APMSO", "mqm"),
    ],
)
def test_search_finds_any_spelling_first(store: ox.Store, text: str, first: str) -> None:
    hits = search(store, text)
    assert hits[0].iri == KG + first


def test_search_ranks_and_limits(store: ox.Store) -> None:
    hits = search(store, "Hussain")
    assert [h.iri.removeprefix(KG) for h in hits[:2]] == ["ch-shujat-hussain", "altaf-hussein"]
    assert len(search(store, "the", limit=5)) == 5
    assert search(store, "  ") == []
    assert search(store, "zzzz-not-there") == []


def test_normalize_and_compact() -> None:
    assert normalize("MQM (A)") == normalize("mqm-a") == "mqma"
    assert compact(KG + "mqm-h") == "kg:mqm-h"
    assert compact("https://w3id.org/mqmkg/ontology#Split") == "mqm:Split"
    assert compact("http://www.w3.org/ns/org#Organization") == "org:Organization"
    assert compact("http://www.w3.org/2001/XMLSchema#gYear") == "xsd:gYear"
    assert compact("http://example.org/things/widget") == "widget"

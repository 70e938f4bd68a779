"""Entity views and label search over the served store."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import RDFS, SKOS, Graph, URIRef

from mqmkg.linked import compact, entities_named, entity_view, normalize, search

ROOT = Path(__file__).resolve().parents[1]
KG = "https://w3id.org/mqmkg/id/"
LABELS = (RDFS.label, SKOS.prefLabel, SKOS.altLabel, SKOS.hiddenLabel)


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


@pytest.mark.parametrize(
    ("name", "entity"),
    [("mqm-a", "mqm"), ("MQM(A)", "mqm"), ("MQM (A)", "mqm"), ("MQM-H", "mqm-h"), ("Karachi", "karachi")],
)
def test_a_name_the_page_uses_names_one_entity(store: ox.Store, name: str, entity: str) -> None:
    assert entities_named(store, name) == (KG + entity,)


def test_names_are_whole_labels_of_instances_only(store: ox.Store) -> None:
    assert entities_named(store, "Hussein") == (KG + "altaf-hussein",)  # the name the page uses
    assert entities_named(store, "Qaumi Movement") == ()  # only part of "Muttahida Qaumi Movement"
    assert entities_named(store, "") == entities_named(store, " - ") == ()
    # the ontology class mqm:Partition is also labelled "partition"; /id/ names instances only
    assert "https://w3id.org/mqmkg/ontology#Partition" in {h.iri for h in search(store, "partition")}
    assert entities_named(store, "partition") == (KG + "event-1947-partition",)


def test_every_label_in_the_graph_names_its_entity(store: ox.Store) -> None:
    graph = Graph()
    for path in sorted((ROOT / "graph").glob("*.ttl")):
        graph.parse(path)
    named: dict[str, set[str]] = {}
    for prop in LABELS:
        for subject, label in graph.subject_objects(prop):
            if isinstance(subject, URIRef) and str(subject).startswith(KG) and (subject, RDFS.label, None) in graph:
                named.setdefault(normalize(str(label)), set()).add(str(subject))
    assert len(named) > 300
    for key, entities in named.items():
        assert entities_named(store, key) == tuple(sorted(entities)), key


def test_a_name_of_two_entities_gives_both() -> None:
    store = ox.Store()
    data = f"""
        <{KG}twin-a> <{RDFS.label}> "Twin A"@en ; <{SKOS.altLabel}> "The Twins"@en .
        <{KG}twin-b> <{RDFS.label}> "Twin B"@en ; <{SKOS.hiddenLabel}> "the-twins" .
    """
    store.load(data, format=ox.RdfFormat.TURTLE)
    assert entities_named(store, "thetwins") == (KG + "twin-a", KG + "twin-b")
    assert entities_named(store, "twin a") == (KG + "twin-a",)
    assert entities_named(store, "Twin A", base="https://example.org/") == ()

"""Wikidata links come only from the reference list, with the prescribed predicate."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from rdflib import Graph, URIRef

from mqmkg.config import Settings
from mqmkg.errors import LinkError
from mqmkg.linking import OWL_SAME_AS, SKOS_CLOSE_MATCH, links, read_reference

ROOT = Path(__file__).resolve().parents[1]
SETTINGS = Settings(root=ROOT)
MAP = SETTINGS.graph_dir / "wikidata-map.tsv"
WD = re.compile(r"https?://www\.wikidata\.org/(entity|wiki)/(Q\d+)$")


def test_every_reference_qid_is_linked_with_its_match() -> None:
    reference = read_reference(SETTINGS.reference_tsv)
    found = {link.item.rsplit("/", 1)[1]: link for link in links(SETTINGS.reference_tsv, MAP)}
    assert set(found) == set(reference)
    for qid, row in reference.items():
        assert found[qid].predicate == (OWL_SAME_AS if row["match"] == "exact" else SKOS_CLOSE_MATCH)
    assert found["Q1265113"].predicate == SKOS_CLOSE_MATCH
    assert found["Q1265113"].entity == "https://w3id.org/mqmkg/id/mqm"
    assert found["Q2840298"].entity == "https://w3id.org/mqmkg/id/altaf-hussein"
    assert found["Q2265796"].entity == "https://w3id.org/mqmkg/id/ch-shujat-hussain"


def test_graph_uses_no_other_qid_nor_form() -> None:
    graph = Graph()
    for path in sorted(SETTINGS.graph_dir.glob("*.ttl")) + sorted(SETTINGS.ontology_dir.glob("*.ttl")):
        graph.parse(path)
    allowed = set(read_reference(SETTINGS.reference_tsv))
    seen = set()
    for s, p, o in graph:
        for term in (s, p, o):
            match = WD.match(str(term)) if isinstance(term, URIRef) else None
            if match:
                assert str(term).startswith("http://www.wikidata.org/entity/"), term
                assert p in (URIRef(OWL_SAME_AS), URIRef(SKOS_CLOSE_MATCH)), (s, p, o)
                seen.add(match.group(2))
    assert seen == allowed


def test_unknown_qid_in_map_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "map.tsv"
    bad.write_text("qid\tentity\nQ42\tdouglas-adams\n", encoding="utf-8")
    with pytest.raises(LinkError, match=r"map.tsv:2: Q42 is not in"):
        links(SETTINGS.reference_tsv, bad)


def test_generated_files_are_up_to_date() -> None:
    from mqmkg.cli import generated_files

    stale = [str(path) for path, text in generated_files(SETTINGS).items() if path.read_text("utf-8") != text]
    assert not stale, f"run `mqmkg generate`: {stale}"

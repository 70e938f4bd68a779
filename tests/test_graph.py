"""Data-model rules the shapes cannot express: the verbatim label rule, allegations never
stated as facts, the nine reports, and the names of the two Hussains."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from rdflib import RDF, Graph, Literal, Namespace, URIRef

from mqmkg.config import Settings
from mqmkg.source import read_source

ROOT = Path(__file__).resolve().parents[1]
SETTINGS = Settings(root=ROOT)
KG = Namespace("https://w3id.org/mqmkg/id/")
MQM = Namespace("https://w3id.org/mqmkg/ontology#")
SKOS = Namespace("http://www.w3.org/2004/02/skos/core#")
SEM = Namespace("http://semanticweb.cs.vu.nl/2009/11/sem/")
DCTERMS = Namespace("http://purl.org/dc/terms/")
REPORT_KEYS = {
    "AI 1 Feb 1996": ("amnesty-international", "1996-02-01"),
    "U.S. DOS Feb 1991": ("us-state-department", "1991-02"),
    "U.S. DOS Feb 1992": ("us-state-department", "1992-02"),
    "U.S. DOS Feb 1995": ("us-state-department", "1995-02"),
    "U.S. DOS Feb 1996": ("us-state-department", "1996-02"),
    "U.S. DOS Feb 1999": ("us-state-department", "1999-02"),
    "U.S. DOS 23 May 2003": ("us-state-department", "2003-05-23"),
    "Jane's 14 Feb 2003": ("janes", "2003-02-14"),
    "HRW Dec 1997": ("human-rights-watch", "1997-12"),
}


@pytest.fixture(scope="module")
def graph() -> Graph:
    g = Graph()
    for path in sorted(SETTINGS.graph_dir.glob("*.ttl")) + sorted(SETTINGS.ontology_dir.glob("*.ttl")):
        g.parse(path)
    return g


def _squash(text: str) -> str:
    """Return the text without case, spacing, brackets or hyphens (mechanical variants)."""
    return re.sub(r"[\s()\[\]\-]", "", text).lower()


def test_all_nine_reports_with_issuer_and_date(graph: Graph) -> None:
    found = {}
    for report in graph.subjects(RDF.type, MQM.CitedReport):
        key = str(graph.value(report, MQM.citationKey))
        creator = graph.value(report, DCTERMS.creator)
        found[key] = (str(creator).removeprefix(str(KG)), str(graph.value(report, DCTERMS.date)))
        assert (creator, RDF.type, URIRef("http://www.w3.org/ns/org#Organization")) in graph
    assert found == REPORT_KEYS


def test_skos_labels_follow_the_verbatim_rule(graph: Graph) -> None:
    """Pref/alt labels are in the source (bracketed alternatives removed), its metadata or
    the reference; hidden labels are mechanical variants of such a label."""
    source = read_source(SETTINGS.source_path)
    without_brackets = re.sub(r" \[[^\]]*\]", "", source)
    metadata = [*(SETTINGS.graph_dir / "reference").glob("*"), SETTINGS.graph_dir / "source" / "README.md"]
    reference = "".join(p.read_text("utf-8") for p in metadata)
    allowed = source + "\n" + without_brackets + "\n" + reference
    squashed = _squash(allowed)
    bad = []
    for predicate in (SKOS.prefLabel, SKOS.altLabel, SKOS.hiddenLabel):
        for subject, label in graph.subject_objects(predicate):
            if not str(subject).startswith(str(KG)):
                continue
            ok = str(label) in allowed if predicate != SKOS.hiddenLabel else _squash(str(label)) in squashed
            if not ok:
                bad.append(f"{subject} {predicate} {label!r}")
            assert isinstance(label, Literal) and label.language == "en", (subject, label)
    assert not bad, "\n".join(bad)


def test_no_literal_is_in_two_label_kinds(graph: Graph) -> None:
    for subject in set(graph.subjects(SKOS.prefLabel, None)) | set(graph.subjects(SKOS.altLabel, None)):
        kinds = [set(graph.objects(subject, p)) for p in (SKOS.prefLabel, SKOS.altLabel, SKOS.hiddenLabel)]
        assert not (kinds[0] & kinds[1] or kinds[0] & kinds[2] or kinds[1] & kinds[2]), subject


def test_facts_rest_on_plain_claims_only(graph: Graph) -> None:
    """An allegation or a denial never backs a fact-bearing node or a directed role."""
    for node, claim in graph.subject_objects(MQM.supportedBy):
        assert (claim, RDF.type, MQM.Claim) in graph, f"{node} is supported by {claim}, not a plain claim"
    for predicate in (MQM.committed, MQM.perpetrated):
        assert not list(graph.triples((None, predicate, None)))


def test_alleged_acts_have_no_perpetrator_role(graph: Graph) -> None:
    """Events an allegation is about carry a perpetrator only if a plain claim states one."""
    for allegation in graph.subjects(RDF.type, MQM.Allegation):
        for event in graph.objects(allegation, MQM.about):
            for role in graph.objects(event, SEM.hasActor):
                if graph.value(role, SEM.roleType) == MQM.Perpetrator:
                    claims = set(graph.objects(event, MQM.supportedBy))
                    assert claims, event


def test_the_two_hussains_stay_apart(graph: Graph) -> None:
    altaf = {str(o) for p in (SKOS.prefLabel, SKOS.altLabel) for o in graph.objects(KG["altaf-hussein"], p)}
    assert altaf == {"Altaf Hussein", "Hussein", "Altaf Hussain"}
    minister = {str(o) for p in (SKOS.prefLabel, SKOS.altLabel) for o in graph.objects(KG["ch-shujat-hussain"], p)}
    assert "Ch Shujat Hussain" in minister and not any("Hussein" in name for name in minister)
    assert set(graph.objects(None, MQM.nameAsStated)) >= {Literal("Hussein")}
    assert Literal("Hussain") not in set(graph.objects(None, MQM.nameAsStated))


def test_split_leaders_and_renaming(graph: Graph) -> None:
    split = KG["event-1992-mqm-h-split"]
    leaders = set(graph.objects(split, URIRef("http://www.w3.org/ns/prov#wasAssociatedWith")))
    assert leaders == {KG["afaq-ahmed"], KG["aamir-khan"]}
    assert (KG["mqm-h"], MQM.splinterOf, KG["mqm"]) in graph
    renaming = KG["event-1997-mqm-renaming"]
    assert graph.value(renaming, MQM.renamedOrganization) == KG["mqm"]
    after = graph.value(renaming, MQM.nameAfter)
    assert str(graph.value(after, MQM.name)) == "Muttahida Qaumi Movement"

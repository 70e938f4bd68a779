"""Data-model rules the shapes cannot express: the label rules, allegations never stated as
facts, the nine reports, the names of the two Hussains, the basis of every claim, the
citation rule, and the curation decisions of issue 10 (docs/decisions.md)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from rdflib import OWL, RDF, RDFS, Graph, Literal, Namespace, URIRef
from rdflib.term import Node

from mqmkg.config import Settings
from mqmkg.source import read_source
from mqmkg.timevalues import bounds

ROOT = Path(__file__).resolve().parents[1]
SETTINGS = Settings(root=ROOT)
KG = Namespace("https://w3id.org/mqmkg/id/")
MQM = Namespace("https://w3id.org/mqmkg/ontology#")
SKOS = Namespace("http://www.w3.org/2004/02/skos/core#")
SEM = Namespace("http://semanticweb.cs.vu.nl/2009/11/sem/")
DCTERMS = Namespace("http://purl.org/dc/terms/")
OA = Namespace("http://www.w3.org/ns/oa#")
ORG = Namespace("http://www.w3.org/ns/org#")
PROV = Namespace("http://www.w3.org/ns/prov#")
FOAF = Namespace("http://xmlns.com/foaf/0.1/")
TIME = Namespace("http://www.w3.org/2006/time#")
XSD = "http://www.w3.org/2001/XMLSchema#"
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
# The classes whose instances are things an analyst lists and looks up by name: each has one
# skos:prefLabel that makes sense out of context (events, claims and figures have curator's
# rdfs:labels instead).
ENTITY_CLASSES = (
    FOAF.Agent,
    SEM.Place,
    ORG.Site,
    ORG.Post,
    MQM.LegalInstrument,
    MQM.Article,
    MQM.DesignationList,
    DCTERMS.LinguisticSystem,
    MQM.CitedReport,
)
MONTHS = {date(2000, m, 1).strftime("%B"): m for m in range(1, 13)}


@pytest.fixture(scope="module")
def graph() -> Graph:
    g = Graph()
    for path in sorted(SETTINGS.graph_dir.glob("*.ttl")) + sorted(SETTINGS.ontology_dir.glob("*.ttl")):
        g.parse(path)
    return g


@pytest.fixture(scope="module")
def source() -> str:
    return read_source(SETTINGS.source_path)


def _squash(text: str) -> str:
    """Return the text without case, spacing, brackets or hyphens (mechanical variants)."""
    return re.sub(r"[\s()\[\]\-]", "", text).lower()


def _is_a(graph: Graph, node: Node, cls: URIRef) -> bool:
    return any(cls in set(graph.transitive_objects(t, RDFS.subClassOf)) for t in graph.objects(node, RDF.type))


def _subclasses(graph: Graph, cls: URIRef) -> set[Node]:
    return set(graph.transitive_subjects(RDFS.subClassOf, cls))


def _instances(graph: Graph, *classes: URIRef) -> set[Node]:
    found: set[Node] = set()
    for cls in classes:
        for sub in _subclasses(graph, cls):
            found |= set(graph.subjects(RDF.type, sub))
    return {n for n in found if str(n).startswith(str(KG))}


def _claims(graph: Graph) -> set[Node]:
    return _instances(graph, MQM.Claim)


def _allowed_text(source: str) -> str:
    without_brackets = re.sub(r" \[[^\]]*\]", "", source)
    metadata = [*(SETTINGS.graph_dir / "reference").glob("*"), SETTINGS.graph_dir / "source" / "README.md"]
    reference = "".join(p.read_text("utf-8") for p in metadata)
    return source + "\n" + without_brackets + "\n" + reference


def _quote(graph: Graph, evidence: Node) -> str:
    for selector in graph.objects(evidence, OA.hasSelector):
        exact = graph.value(selector, OA.exact)
        if exact is not None:
            return str(exact)
    raise AssertionError(f"{evidence} has no quote")


# --- reports, names, labels ------------------------------------------------------------------


def test_all_nine_reports_with_issuer_and_date(graph: Graph) -> None:
    found = {}
    for report in graph.subjects(RDF.type, MQM.CitedReport):
        key = str(graph.value(report, MQM.citationKey))
        creator = graph.value(report, DCTERMS.creator)
        found[key] = (str(creator).removeprefix(str(KG)), str(graph.value(report, DCTERMS.date)))
        assert (creator, RDF.type, ORG.Organization) in graph
    assert found == REPORT_KEYS


def test_alt_and_hidden_labels_are_the_page_words(graph: Graph, source: str) -> None:
    """Alt labels are in the source (bracketed alternatives removed), its metadata or the
    reference; hidden labels are mechanical variants of such words."""
    allowed = _allowed_text(source)
    squashed = _squash(allowed)
    bad = []
    for predicate in (SKOS.altLabel, SKOS.hiddenLabel):
        for subject, label in graph.subject_objects(predicate):
            if not str(subject).startswith(str(KG)):
                continue
            ok = str(label) in allowed if predicate == SKOS.altLabel else _squash(str(label)) in squashed
            if not ok:
                bad.append(f"{subject} {predicate} {label!r}")
            assert isinstance(label, Literal) and label.language == "en", (subject, label)
    assert not bad, "\n".join(bad)


def test_hidden_labels_are_spellings_the_page_uses(graph: Graph, source: str) -> None:
    """A hidden label is a form the page prints, not an invented case variant ("Dawn")."""
    unused = [
        f"{s} {label}"
        for s, label in graph.subject_objects(SKOS.hiddenLabel)
        if str(s).startswith(str(KG)) and str(label) not in _allowed_text(source)
    ]
    assert not unused, unused


def test_pref_labels_are_the_page_name_or_keep_the_page_words(graph: Graph, source: str) -> None:
    """A prefLabel is a name the page uses; otherwise it is a curator's label and the page's own
    words for the node are kept as an altLabel (only the unnamed accuser has none)."""
    allowed = _allowed_text(source)
    bad = []
    for subject, label in graph.subject_objects(SKOS.prefLabel):
        if not str(subject).startswith(str(KG)) or str(label) in allowed:
            continue
        page_words = [a for a in graph.objects(subject, SKOS.altLabel) if str(a) in allowed]
        if not page_words and subject != KG["unnamed-accuser"]:
            bad.append(f"{subject}: curator's prefLabel {label!r} without the page's words as altLabel")
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize(
    ("node", "pref", "page_words"),
    [
        ("pakistan-army", "army (Pakistan)", "army"),
        ("police", "police (Sindh)", "police"),
        ("constitution-of-pakistan", "Constitution (of Pakistan)", "Constitution"),
        ("post-prime-minister", "Prime Minister (post; country not stated)", "Prime Minister"),
        ("post-interior-minister", "Interior Minister (post; government not stated)", "Interior Minister"),
        ("rural-population-sindh", "rural population (Sindh)", "rural population"),
        ("dissident-mqm-members", "dissident members (of the MQM)", "dissident members"),
        ("benazir-bhutto-brother", "unnamed brother of Benazir Bhutto", "Benazir Bhutto's brother"),
        ("newsline-editor", "unnamed editor of NEWSLINE", "editor of the monthly NEWSLINE magazine"),
        ("military-courts-sindh", "Military Courts in the Province of Sindh", "special military courts"),
    ],
)
def test_bare_page_words_become_usable_pref_labels(graph: Graph, node: str, pref: str, page_words: str) -> None:
    assert {str(x) for x in graph.objects(KG[node], SKOS.prefLabel)} == {pref}
    assert str(graph.value(KG[node], RDFS.label)) == pref
    assert Literal(page_words, lang="en") in set(graph.objects(KG[node], SKOS.altLabel))


def test_every_entity_has_one_pref_label_usable_out_of_context(graph: Graph) -> None:
    """Every agent, place, site, post, instrument, article, list, language and report has one
    English prefLabel equal to its rdfs:label, unique, and naming something: a proper name, a
    number or a curator's qualifier in parentheses, never a bare common noun ("army")."""
    entities = _instances(graph, *ENTITY_CLASSES)
    assert len(entities) > 80
    labels: dict[str, Node] = {}
    problems = []
    for node in sorted(entities, key=str):
        prefs = list(graph.objects(node, SKOS.prefLabel))
        if len(prefs) != 1:
            problems.append(f"{node}: {len(prefs)} prefLabels")
            continue
        label = str(prefs[0])
        if graph.value(node, RDFS.label) != prefs[0] or prefs[0].language != "en":
            problems.append(f"{node}: rdfs:label differs from prefLabel or not @en")
        if not re.search(r"[A-Z0-9(]", label):
            problems.append(f"{node}: {label!r} is a bare common noun")
        if label in labels:
            problems.append(f"{node}: {label!r} also labels {labels[label]}")
        labels[label] = node
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    ("node", "names"),
    [
        ("mqm", {"MQM", "MQM-A", "Altaf", "Muttahida Qaumi Movement-Altaf", "APMSO", "United National Movement"}),
        ("mqm-h", {"MQM Haqiqi", "MQM-H", "Haqiqi"}),
    ],
)
def test_the_page_names_of_the_factions_are_labels(graph: Graph, node: str, names: set[str]) -> None:
    """ "the (majority) Altaf and (minority) Haqiqi factions": the page's names are SKOS labels."""
    labels = {str(o) for p in (SKOS.prefLabel, SKOS.altLabel) for o in graph.objects(KG[node], p)}
    assert names <= labels
    hidden = {str(o) for o in graph.objects(KG[node], SKOS.hiddenLabel)}
    assert hidden == ({"MQM(A)", "MQM (A)"} if node == "mqm" else {"MQM (H)"})


def test_no_literal_is_in_two_label_kinds(graph: Graph) -> None:
    for subject in set(graph.subjects(SKOS.prefLabel, None)) | set(graph.subjects(SKOS.altLabel, None)):
        kinds = [set(graph.objects(subject, p)) for p in (SKOS.prefLabel, SKOS.altLabel, SKOS.hiddenLabel)]
        assert not (kinds[0] & kinds[1] or kinds[0] & kinds[2] or kinds[1] & kinds[2]), subject


def test_the_two_hussains_stay_apart(graph: Graph) -> None:
    altaf = {str(o) for p in (SKOS.prefLabel, SKOS.altLabel) for o in graph.objects(KG["altaf-hussein"], p)}
    assert altaf == {"Altaf Hussein", "Hussein", "Altaf Hussain"}
    minister = {str(o) for p in (SKOS.prefLabel, SKOS.altLabel) for o in graph.objects(KG["ch-shujat-hussain"], p)}
    assert "Ch Shujat Hussain" in minister and not any("Hussein" in name for name in minister)
    assert set(graph.objects(None, MQM.nameAsStated)) >= {Literal("Hussein")}
    assert Literal("Hussain") not in set(graph.objects(None, MQM.nameAsStated))


def test_membership_iris_name_a_role_only_if_they_have_one(graph: Graph) -> None:
    for membership in graph.subjects(RDF.type, ORG.Membership):
        if "-head-" in str(membership):
            assert graph.value(membership, ORG.role) == ORG.Head, membership
    assert (KG["membership-benazir-bhutto-ppp"], ORG.role, None) not in graph


# --- dates in labels ---------------------------------------------------------------------------


def _span(text: str) -> tuple[date, date] | None:
    """Return the first and last day a date phrase ("1992", "June 1992", "20 September 1996") covers."""
    text = text.strip()
    if m := re.fullmatch(r"(\d{4})", text):
        return bounds(m[1], XSD + "gYear").earliest, bounds(m[1], XSD + "gYear").latest
    if m := re.fullmatch(r"([A-Z][a-z]+) (\d{4})", text):
        b = bounds(f"{m[2]}-{MONTHS[m[1]]:02d}", XSD + "gYearMonth")
        return b.earliest, b.latest
    if m := re.fullmatch(r"(\d{1,2}) ([A-Z][a-z]+) (\d{4})", text):
        day = date(int(m[3]), MONTHS[m[2]], int(m[1]))
        return day, day
    return None


def _label_dates(label: str) -> tuple[date | None, date | None] | None:
    """Read the dating parenthesis that ends a label into (earliest, latest); None if undated.

    Forms: "(1992)", "(June 1992)", "(20 September 1996)", "(1995 and 1996)", "(1980s and
    1990s)", "(mid-1990s)", "(by ...)", "(by the end of 1996)", "(until ...)", "(from ...)",
    "(since ... 1992 ...)", "(after ... <date>)", "(before ... <year> ...)", "(name ... until 1997)";
    a trailing phrase
    after a comma ("relayed by Amnesty International, 1996") counts as the date.
    """
    m = re.search(r"\(([^()]*\d{4}[^()]*)\)$", label)
    if not m:
        return None
    text = m[1].split(", ")[-1]
    if span := _span(text):
        return span
    if m2 := re.fullmatch(r"(\d{4}) and (\d{4})", text):
        return _span(m2[1])[0], _span(m2[2])[1]  # type: ignore[index]
    if m2 := re.fullmatch(r"(\d{3})0s and (\d{3})0s", text):
        return date(int(m2[1] + "0"), 1, 1), date(int(m2[2] + "9"), 12, 31)
    if m2 := re.fullmatch(r"mid-(\d{3})0s", text):
        return date(int(m2[1] + "0"), 1, 1), date(int(m2[1] + "9"), 12, 31)
    if (m2 := re.fullmatch(r"(?:.* )?(?:by|until)(?: the end of)? (.+)", text)) and (end := _span(m2[1])):
        return None, end[1]
    if m2 := re.fullmatch(r"(?:from|since|after) .*?((?:\d{1,2} )?(?:[A-Z][a-z]+ )?\d{4}).*", text):
        return _span(m2[1])[0], None  # type: ignore[index]
    if m2 := re.fullmatch(r"before .*?(\d{4}).*", text):
        return None, _span(m2[1])[1]  # type: ignore[index]
    raise AssertionError(f"unreadable date in label {label!r}")


def test_labels_date_only_what_the_node_dates(graph: Graph) -> None:
    """A label's dating parenthesis gives exactly the node's bounds: no "(1992)" on a node with
    only a latest bound, no "(after 1992)" on an earliest bound of 1 January 1992."""
    checked, wrong = 0, []
    # claims are statements (their labels may quote the page's dates); entities are not dated
    undated_kinds = _claims(graph) | _instances(graph, *ENTITY_CLASSES)
    for node, label in graph.subject_objects(RDFS.label):
        if not str(node).startswith(str(KG)) or node in undated_kinds:
            continue
        dates = _label_dates(str(label))
        if dates is None:
            continue
        checked += 1
        earliest = graph.value(node, SEM.hasEarliestBeginTimeStamp)
        latest = graph.value(node, SEM.hasLatestEndTimeStamp)
        for interval in graph.objects(node, MQM.attestedAt):
            earliest = graph.value(interval, SEM.hasEarliestBeginTimeStamp)
            latest = graph.value(interval, SEM.hasLatestEndTimeStamp)
        got = (earliest.toPython() if earliest else None, latest.toPython() if latest else None)
        if got != dates:
            wrong.append(f"{node} {str(label)!r}: bounds {got}, label says {dates}")
    assert checked > 45
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize(
    ("label", "dates"),
    [
        ("X (1992)", (date(1992, 1, 1), date(1992, 12, 31))),
        ("X (by 1992)", (None, date(1992, 12, 31))),
        ("X (since the 1992 split)", (date(1992, 1, 1), None)),
        ("X (after the ordinance of 20 November 1998)", (date(1998, 11, 20), None)),
        ("X (by the end of 1996)", (None, date(1996, 12, 31))),
        ("X (relayed by Amnesty International, 1996)", (date(1996, 1, 1), date(1996, 12, 31))),
        ("X (June 1992)", (date(1992, 6, 1), date(1992, 6, 30))),
        ("X (mid-1990s)", (date(1990, 1, 1), date(1999, 12, 31))),
        ("X without a date", None),
    ],
)
def test_label_date_reader(label: str, dates: tuple[date | None, date | None] | None) -> None:
    assert _label_dates(label) == dates


# --- allegations and facts ---------------------------------------------------------------------


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


def test_the_forces_cover_story_accuses_militants_not_the_mqm(graph: Graph) -> None:
    story = KG["allegation-forces-encounters-with-militants"]
    assert set(graph.objects(story, MQM.allegedBy)) == {KG["pakistani-forces"]}
    assert set(graph.objects(story, MQM.accused)) == {KG["encounter-militants"]}
    assert str(graph.value(story, MQM.accusedAsStated)) == "militants"
    assert graph.value(story, MQM.allegedAct) == MQM.ArmedEncounter
    # the forces are the stated perpetrators of the killings the story is about
    killings = KG["event-staged-encounter-killings"]
    assert killings in set(graph.objects(story, MQM.about))
    perpetrators = {
        graph.value(role, RDF.value)
        for role in graph.objects(killings, SEM.hasActor)
        if graph.value(role, SEM.roleType) == MQM.Perpetrator
    }
    assert perpetrators == {KG["pakistani-forces"]}


def test_split_leaders_and_renaming(graph: Graph) -> None:
    split = KG["event-1992-mqm-h-split"]
    leaders = set(graph.objects(split, PROV.wasAssociatedWith))
    assert leaders == {KG["afaq-ahmed"], KG["aamir-khan"]}
    assert (KG["mqm-h"], MQM.splinterOf, KG["mqm"]) in graph
    renaming = KG["event-1997-mqm-renaming"]
    assert graph.value(renaming, MQM.renamedOrganization) == KG["mqm"]
    after = graph.value(renaming, MQM.nameAfter)
    assert str(graph.value(after, MQM.name)) == "Muttahida Qaumi Movement"
    # the split is stated; the faction read as MQM-H (so its leaders as MQM-H's) is a reading
    assert graph.value(KG["claim-split-1992"], MQM.basis) == MQM.StatedByPage
    for name in ("afaq-ahmed", "aamir-khan"):
        backing = graph.value(KG[f"membership-{name}-head-mqm-h"], MQM.supportedBy)
        assert backing == KG["claim-mqm-h-leaders"]
    assert graph.value(KG["claim-mqm-h-leaders"], MQM.basis) == MQM.CuratorReading


# --- the basis of a claim (item 10) --------------------------------------------------------------


def test_every_claim_has_one_basis_and_every_reading_says_which(graph: Graph) -> None:
    claims = _claims(graph)
    assert len(claims) == 121
    stated, readings = set(), set()
    for claim in claims:
        basis = list(graph.objects(claim, MQM.basis))
        kinds = set(graph.objects(claim, MQM.readingKind))
        assert len(basis) == 1, claim
        if basis[0] == MQM.StatedByPage:
            stated.add(claim)
            assert not kinds, claim
        else:
            readings.add(claim)
            assert basis[0] == MQM.CuratorReading and kinds, claim
            assert kinds <= {MQM.ReferenceResolved, MQM.TimeFromContext, MQM.PlaceFromContext, MQM.LinkFromContext}
            assert list(graph.objects(claim, MQM.contextNote)), claim
    assert (len(stated), len(readings)) == (79, 42)


def test_links_that_rest_on_a_reading_have_their_own_claim(graph: Graph) -> None:
    """Where the rest of a statement is the page's, the read link is reified by its own claim."""
    links = {
        (KG["event-1990-hussein-threatens-newsline-editor"], MQM.caseOf, KG["allegation-intimidating-journalists"]),
        (KG["event-1990-hussein-threatens-newsline-editor"], MQM.follows, KG["event-newsline-torture-article"]),
        (KG["event-1997-mqm-renaming"], MQM.nameBefore, KG["name-mqm-mohajir"]),
        (KG["event-1998-05-28-emergency"], MQM.cause, KG["event-karachi-conflict"]),
    }
    for s, p, o in links:
        assert (s, p, o) in graph
        [claim] = [c for c in graph.subjects(RDF.subject, s) if (c, RDF.predicate, p) in graph]
        assert graph.value(claim, RDF.object) == o
        assert graph.value(claim, MQM.basis) == MQM.CuratorReading
        assert MQM.LinkFromContext in set(graph.objects(claim, MQM.readingKind)) or p == MQM.follows
    for stated in (
        "claim-1990-threat",
        "claim-renaming-1997",
        "claim-1998-05-28-emergency",
        "claim-1998-tensions-resurgence",
    ):
        assert graph.value(KG[stated], MQM.basis) == MQM.StatedByPage, stated


# --- the citation rule (item 4, docs/citation-rule.md) -----------------------------------------


def test_every_claim_cites_exactly_the_reports_printed_in_its_own_sentences(graph: Graph) -> None:
    keys = {str(graph.value(r, MQM.citationKey)): r for r in graph.subjects(RDF.type, MQM.CitedReport)}
    wrong = []
    for claim in _claims(graph):
        quotes = [_quote(graph, ev) for ev in graph.objects(claim, MQM.evidence)]
        printed = {report for key, report in keys.items() if any(key in q for q in quotes)}
        cited = set(graph.objects(claim, MQM.citesReport))
        if printed != cited:
            wrong.append(f"{claim}: cites {sorted(map(str, cited))}, its sentences print {sorted(map(str, printed))}")
    assert not wrong, "\n".join(wrong)


def test_no_claim_takes_a_citation_from_the_next_sentence(graph: Graph) -> None:
    for claim in (
        "claim-1991-zafar-abbas-beating",
        "claim-zafar-abbas-journalist",
        "claim-mqm-a-strikes",
        "claim-mqm-a-critical-of-islamic-militants",
        "allegation-abbas-attack-blamed-on-mqm-leaders",
        "allegation-mqm-a-criminal-fundraising",
    ):
        assert not list(graph.objects(KG[claim], MQM.citesReport)), claim
        assert len(list(graph.objects(KG[claim], MQM.evidence))) == 1, claim


# --- the other curation items of issue 10 --------------------------------------------------------


def test_the_page_date_keeps_both_readings(graph: Graph) -> None:
    doc = KG["doc-globalsecurity-mqm"]
    assert str(graph.value(doc, MQM.lastModifiedAsStated)) == "11-07-2011 15:41:06 ZULU"
    assert graph.value(doc, DCTERMS.modified).toPython() == datetime(2011, 11, 7, 15, 41, 6, tzinfo=UTC)
    assert graph.value(doc, MQM.alternativeReading).toPython() == datetime(2011, 7, 11, 15, 41, 6, tzinfo=UTC)
    note = str(graph.value(doc, MQM.contextNote))
    assert "month first" in note and "day first" in note and "US" in note


def test_almost_daily_killings_is_a_frequency_of_days_not_a_death_rate(graph: Graph) -> None:
    fig = KG["fig-1994-karachi-almost-daily-killings"]
    assert set(graph.objects(fig, RDF.type)) == {MQM.EventFrequency}
    assert graph.value(fig, MQM.recurrence) == MQM.Daily
    assert graph.value(fig, MQM.valueQualifier) == MQM.Almost
    assert str(graph.value(fig, MQM.quantityAsStated)) == "almost daily killings"
    for absent in (MQM.unit, MQM.statedValue):
        assert graph.value(fig, absent) is None
    assert not _is_a(graph, fig, MQM.FatalityRate)


def test_inferences_the_page_does_not_support_are_dropped(graph: Graph) -> None:
    # a habitual denial answers no one accusation
    assert graph.value(KG["denial-mqm-involvement-in-violence"], MQM.responds) is None
    # the page dates the violence, not the implication
    implicated = KG["allegation-mqm-a-implicated-in-rights-abuses"]
    assert not {
        p
        for p in graph.predicates(implicated)
        if p in (SEM.hasEarliestBeginTimeStamp, SEM.hasLatestEndTimeStamp, MQM.timeAsStated)
    }
    # the 1,800 are counted "by the end of that year", from no stated start
    fig = KG["fig-karachi-1995"]
    assert graph.value(fig, SEM.hasEarliestBeginTimeStamp) is None and graph.value(fig, SEM.hasTimeStamp) is None
    assert str(graph.value(fig, SEM.hasLatestEndTimeStamp)) == "1995-12-31"
    # the undated fighting of the two factions is not the 1998 fighting
    causes = set(graph.objects(KG["event-karachi-conflict"], MQM.cause))
    assert KG["event-1998-altaf-haqiqi-fighting"] not in causes and KG["event-mqm-a-mqm-h-violence"] in causes
    # the clash of 1996 is not placed with the police of Sindh
    clash_actors = set(graph.objects(KG["event-1996-09-20-clash-with-police"], SEM.hasActor))
    assert KG["police"] not in clash_actors and KG["police-in-1996-clash"] in clash_actors
    # "Mohajirs in Pakistan and overseas" fund the MQM-A, not the Mohajirs as a whole
    assert (KG["mohajirs"], MQM.providesFundsTo, KG["mqm"]) not in graph
    assert (KG["mohajirs-in-pakistan-and-overseas"], MQM.providesFundsTo, KG["mqm"]) in graph


@pytest.mark.parametrize(
    ("claim", "kind", "words"),
    [
        ("claim-zafar-abbas-articles", MQM.ReferenceResolved, "the party"),
        ("claim-fig-1995", MQM.TimeFromContext, "latest bound"),
        ("claim-karachi-conflict-causes", MQM.ReferenceResolved, "the two MQM factions"),
        ("claim-1998-08-challenge", MQM.ReferenceResolved, "these charges"),
        ("claim-shaheed-bhutto-group-leader", MQM.ReferenceResolved, "could attach to the group or to the party"),
        ("claim-urdu-national-language", MQM.ReferenceResolved, "the national language"),
        ("claim-renaming-1997-former-name", MQM.LinkFromContext, "formerly known as"),
        ("claim-1998-altaf-haqiqi-fighting", MQM.PlaceFromContext, "no date or place of its own"),
        ("allegation-mqm-a-implicated-in-rights-abuses", MQM.ReferenceResolved, "not the implication"),
    ],
)
def test_inferences_the_page_supports_are_flagged(graph: Graph, claim: str, kind: URIRef, words: str) -> None:
    assert graph.value(KG[claim], MQM.basis) == MQM.CuratorReading
    assert kind in set(graph.objects(KG[claim], MQM.readingKind))
    assert words in str(graph.value(KG[claim], MQM.contextNote))


def test_details_live_in_data_not_only_in_labels(graph: Graph) -> None:
    sizes = {
        (graph.value(s, MQM.ofFaction), graph.value(s, MQM.relativeSize), graph.value(s, MQM.comparedWith))
        for s in graph.subjects(RDF.type, MQM.RelativeSize)
    }
    assert sizes == {(KG["mqm"], MQM.Majority, KG["mqm-h"]), (KG["mqm-h"], MQM.Minority, KG["mqm"])}
    described = {
        ("alliance-pmln-mqma-sindh", "troubled"),
        ("mohajirs", "the Urdu-speaking immigrant urban Mohajir population"),
        ("sindh", "Pakistan's southern Sindh province"),
    }
    for node, text in described:
        assert Literal(text, lang="en") in set(graph.objects(KG[node], MQM.statedDescription)), node
    causes = set(graph.objects(KG["event-1998-10-30-governors-rule"], MQM.cause))
    violence = KG["condition-1998-increased-violence"]
    assert violence in causes and str(graph.value(violence, MQM.conditionAsStated)) == "the increased violence"
    power = KG["power-1998-ordinance-convene-courts"]
    assert graph.value(power, MQM.conferredBy) == KG["ordinance-1998-armed-forces"]
    assert graph.value(power, MQM.empowered) == KG["designated-authority"]
    assert graph.value(power, MQM.onDirectionOf) == KG["government-of-pakistan"]
    assert graph.value(power, MQM.powerOver) == KG["military-courts-sindh"]


# --- time (item 12, docs/data-model.md "Time") ---------------------------------------------------


@pytest.mark.parametrize(
    ("node", "stamp", "unit", "earliest", "latest", "as_stated"),
    [
        ("event-1992-mqm-h-split", "1992", "unitYear", "1992-01-01", "1992-12-31", None),
        ("event-1992-06-army-called-in", "1992-06", "unitMonth", "1992-06-01", "1992-06-30", None),
        ("event-1998-05-28-emergency", "1998-05-28", "unitDay", "1998-05-28", "1998-05-28", None),
        ("event-mid-1990s-sindh-political-violence", None, None, "1990-01-01", "1999-12-31", "In the mid-1990s"),
        ("fig-karachi-rate-1995-07", None, None, None, "1995-07-31", "By July 1995"),
        ("event-mqm-a-mqm-h-violence", None, None, "1992-01-01", None, "subsequent"),
        ("event-karachi-conflict", None, None, None, None, None),
    ],
)
def test_time_is_encoded_at_the_page_precision(
    graph: Graph,
    node: str,
    stamp: str | None,
    unit: str | None,
    earliest: str | None,
    latest: str | None,
    as_stated: str | None,
) -> None:
    """Year, month and day stamps; "mid-1990s" as the whole decade; "By July 1995" as a latest
    bound only; "subsequent" as an earliest bound only; an undated node with no bound at all."""

    def lexical(p: URIRef) -> str | None:
        value = graph.value(KG[node], p)
        return None if value is None else str(value)

    assert lexical(SEM.hasTimeStamp) == stamp
    assert lexical(TIME.unitType) == (None if unit is None else str(TIME[unit]))
    assert (lexical(SEM.hasEarliestBeginTimeStamp), lexical(SEM.hasLatestEndTimeStamp)) == (earliest, latest)
    assert lexical(MQM.timeAsStated) == as_stated
    for bound in (SEM.hasEarliestBeginTimeStamp, SEM.hasLatestEndTimeStamp):
        for value in graph.objects(KG[node], bound):
            assert str(value.datatype) == XSD + "date"


def test_owl_same_as_only_on_reference_links(graph: Graph) -> None:
    targets = set(graph.objects(None, OWL.sameAs))
    assert all(str(t).startswith("http://www.wikidata.org/entity/Q") for t in targets)


def test_every_ontology_term_is_documented() -> None:
    """Each class, property, scheme and concept of ours has a label, a definition, a comment and
    rdfs:isDefinedBy, so /ontology and the docs can explain it."""
    ontology = Graph().parse(SETTINGS.ontology_dir / "mqmkg.ttl")
    terms = {s for s in ontology.subjects(RDF.type, None) if str(s).startswith(str(MQM))}
    assert len(terms) > 200
    missing = [
        f"{term} lacks {prop}"
        for term in sorted(terms)
        for prop in (RDFS.label, SKOS.definition, RDFS.comment, RDFS.isDefinedBy)
        if ontology.value(term, prop) is None
    ]
    assert not missing, "\n".join(missing)
    for new in (
        "basis",
        "readingKind",
        "StatedByPage",
        "CuratorReading",
        "EventFrequency",
        "RelativeSize",
        "ConferredPower",
        "alternativeReading",
        "Feeling",
        "Daily",
    ):
        assert MQM[new] in terms, new

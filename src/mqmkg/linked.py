"""Linked data: what an entity page shows, and label search under any spelling.

Pure functions over a pyoxigraph store whose default graph is the union of the dataset
(``mqmkg.sparql.dataset.load_store``). Parameters are bound with pyoxigraph
substitutions, never pasted into query text.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

import pyoxigraph as ox

from mqmkg.config import INSTANCE_BASE, ONTOLOGY_NS
from mqmkg.source import paragraphs

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDF_TYPE = RDF + "type"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
OA = "http://www.w3.org/ns/oa#"
MQM = ONTOLOGY_NS
_PREFIXES = """
PREFIX mqm: <https://w3id.org/mqmkg/ontology#>
PREFIX oa: <http://www.w3.org/ns/oa#>
PREFIX org: <http://www.w3.org/ns/org#>
PREFIX owl: <http://www.w3.org/2002/07/owl#>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX sem: <http://semanticweb.cs.vu.nl/2009/11/sem/>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
"""
# Short forms for display; the first match wins.
NAMESPACES = (
    ("kg", INSTANCE_BASE),
    ("mqm", ONTOLOGY_NS),
    ("xsd", "http://www.w3.org/2001/XMLSchema#"),
    ("rdf", RDF),
    ("rdfs", "http://www.w3.org/2000/01/rdf-schema#"),
    ("owl", "http://www.w3.org/2002/07/owl#"),
    ("skos", "http://www.w3.org/2004/02/skos/core#"),
    ("org", "http://www.w3.org/ns/org#"),
    ("oa", OA),
    ("prov", "http://www.w3.org/ns/prov#"),
    ("sem", "http://semanticweb.cs.vu.nl/2009/11/sem/"),
    ("time", "http://www.w3.org/2006/time#"),
    ("foaf", "http://xmlns.com/foaf/0.1/"),
    ("dcterms", "http://purl.org/dc/terms/"),
    ("schema", "https://schema.org/"),
    ("wd", "http://www.wikidata.org/entity/"),
)
_LABELS = (
    _PREFIXES
    + """
SELECT ?this ?kind ?label WHERE {
  VALUES (?property ?kind) { (rdfs:label "label") (skos:prefLabel "prefLabel") (skos:altLabel "altLabel")
                             (skos:hiddenLabel "hiddenLabel") }
  ?this ?property ?label .
}"""
)
_OUT = (
    _PREFIXES
    + """
SELECT ?this ?property ?value WHERE { ?this ?property ?value }"""
)
_IN = (
    _PREFIXES
    + """
SELECT ?this ?subject ?property WHERE { ?subject ?property ?this . FILTER (isIRI(?subject)) }"""
)
_NAME = (
    _PREFIXES
    + """
SELECT ?this ?name WHERE {
  OPTIONAL { ?this skos:prefLabel ?pref }
  OPTIONAL { ?this rdfs:label ?plain }
  BIND (COALESCE(?pref, ?plain) AS ?name)
}"""
)
_SEARCHABLE = (
    _PREFIXES
    + """
SELECT ?entity ?kind ?label ?name WHERE {
  VALUES (?property ?kind) { (skos:prefLabel "prefLabel") (skos:altLabel "altLabel")
                             (skos:hiddenLabel "hiddenLabel") (rdfs:label "label") }
  ?entity ?property ?label ; rdfs:label ?name .
  FILTER (isIRI(?entity))
}"""
)
# The claims an entity page lists: those about it, naming it in a role, citing or quoting it,
# answering it, or supporting it.
_CLAIMS_OF = (
    _PREFIXES
    + """
SELECT DISTINCT ?this ?claim WHERE {
  { ?claim mqm:about|mqm:allegedBy|mqm:accused|mqm:allegedVictim|mqm:deniedBy|mqm:citesReport|mqm:evidence
           |mqm:responds|rdf:subject|rdf:object ?this }
  UNION { ?this mqm:supportedBy ?claim }
  ?claim a/rdfs:subClassOf* mqm:Claim .
}"""
)
_CLAIM_ROWS = (
    _PREFIXES
    + """
SELECT ?claim ?label ?kind WHERE {
  ?claim a ?type ; rdfs:label ?label .
  ?type rdfs:subClassOf* mqm:Claim ; rdfs:label ?kind .
}"""
)
_CLAIM_QUOTES = (
    _PREFIXES
    + """
SELECT ?claim ?evidence ?quote ?start ?end WHERE {
  ?claim a/rdfs:subClassOf* mqm:Claim ; mqm:evidence ?evidence .
  ?evidence oa:hasSelector ?q , ?p .
  ?q oa:exact ?quote .
  ?p oa:start ?start ; oa:end ?end .
}"""
)
_CLAIM_REPORTS = (
    _PREFIXES
    + """
SELECT ?claim ?report ?key WHERE {
  ?claim mqm:citesReport ?report .
  OPTIONAL { ?report mqm:citationKey ?keyed }
  OPTIONAL { ?report rdfs:label ?labelled }
  BIND (COALESCE(?keyed, ?labelled, STR(?report)) AS ?key)
}"""
)
_CLAIM_NOTES = (
    _PREFIXES
    + """
SELECT ?claim ?property ?value WHERE {
  VALUES ?property { mqm:contextNote mqm:citationMode }
  ?claim ?property ?value .
}"""
)
# Why a claim is listed where it is: the first group (in GROUPS order) it qualifies for.
_CLAIM_GROUPS = (
    _PREFIXES
    + """
SELECT DISTINCT ?claim ?group WHERE {
  { ?claim a mqm:Allegation BIND ("allegations" AS ?group) }
  UNION { ?claim a mqm:Denial BIND ("denials" AS ?group) }
  UNION { ?claim mqm:about/a/rdfs:subClassOf* mqm:Figure BIND ("figures" AS ?group) }
  UNION { ?claim mqm:about/a/rdfs:subClassOf* sem:Event BIND ("events" AS ?group) }
  UNION { ?claim mqm:about/a mqm:NameUsage BIND ("names" AS ?group) }
  UNION { ?claim rdf:predicate ?name BIND ("names" AS ?group)
          VALUES ?name { rdfs:label skos:prefLabel skos:altLabel skos:hiddenLabel } }
  UNION { ?claim rdf:predicate/a mqm:ShortcutProperty BIND ("relations" AS ?group) }
  UNION { ?claim mqm:about/a ?relation BIND ("relations" AS ?group)
          VALUES ?relation { org:Membership org:Post org:OrganizationalCollaboration mqm:PotentialCoalition } }
}"""
)
_EVIDENCE = (
    _PREFIXES
    + """
SELECT ?this ?doc ?text ?quote ?start ?end WHERE {
  ?this oa:hasSource ?doc ; oa:hasSelector ?q , ?p .
  ?doc rdf:value ?text .
  ?q oa:exact ?quote .
  ?p oa:start ?start ; oa:end ?end .
}"""
)
_LINK_PREDICATES = {
    "http://www.w3.org/2002/07/owl#sameAs": "same as",
    "http://www.w3.org/2004/02/skos/core#closeMatch": "close match",
}
# The claim groups of an entity page, in display order.
GROUPS = (
    ("names", "Names"),
    ("events", "Events"),
    ("figures", "Figures"),
    ("allegations", "Allegations"),
    ("denials", "Denials"),
    ("relations", "Relations"),
    ("other", "Other statements"),
)
_GROUP_RANK = {"allegations": 0, "denials": 1, "figures": 2, "events": 3, "names": 4, "relations": 5}
# What a claim's page leads with, after its quotes and reports: these properties, in this order.
LEAD_PROPERTIES = tuple(
    MQM + name
    for name in (
        "allegedBy",
        "accuserAsStated",
        "allegedByOthers",
        "accused",
        "accusedAsStated",
        "allegedAct",
        "allegedVictim",
        "victimAsStated",
        "deniedBy",
        "deniedAct",
        "responds",
        "motiveAsStated",
        "frequencyAsStated",
        "scopeAsStated",
        "timeAsStated",
        "nameAsStated",
        "place",
    )
)
_TRIPLE = (RDF + "subject", RDF + "predicate", RDF + "object")
_BLANK_DEPTH = 3


@dataclass(frozen=True)
class Link:
    """A triple touching the entity: the other end and the property, both labelled."""

    property: Term
    other: Term


@dataclass(frozen=True)
class Term:
    """An RDF term as a page shows it: its value, whether it is an IRI, and a display label.

    A blank node carries its own triples in ``nested`` (a selector shows its quote and
    offsets), so a page never has to say "blank node".
    """

    value: str
    is_iri: bool
    label: str
    datatype: str | None = None
    language: str | None = None
    nested: tuple[Link, ...] = ()

    @property
    def is_blank(self) -> bool:
        return not self.is_iri and self.value.startswith("_:")


@dataclass(frozen=True)
class Quote:
    """One evidence sentence: its node, its offsets in the source and its verbatim text."""

    evidence: str
    start: int
    end: int
    text: str

    @property
    def anchor(self) -> str:
        """Return the fragment of this sentence on the source page (``ev-<start>-<end>``)."""
        return f"ev-{self.start}-{self.end}"


@dataclass(frozen=True)
class ReportRef:
    """A cited report: its node and its citation key as the source prints it."""

    iri: str
    key: str


@dataclass(frozen=True)
class ClaimEntry:
    """A claim as a list shows it, once: its label, kind, every quote, reports and notes."""

    iri: str
    label: str
    kind: str
    group: str
    quotes: tuple[Quote, ...]
    reports: tuple[ReportRef, ...]
    notes: tuple[str, ...]
    citation_mode: str | None

    @property
    def start(self) -> int:
        return self.quotes[0].start if self.quotes else -1


@dataclass(frozen=True)
class ClaimGroup:
    """The claims of one kind on an entity page."""

    key: str
    title: str
    claims: tuple[ClaimEntry, ...]


@dataclass(frozen=True)
class Role:
    """One property of a claim's lead (accuser, accused, act, ...) with its values."""

    property: Term
    values: tuple[Term, ...]


@dataclass(frozen=True)
class EvidenceContext:
    """An evidence sentence inside its paragraph: the text before it, the sentence, after it."""

    quote: Quote
    before: str
    after: str
    document: str


@dataclass(frozen=True)
class EntityView:
    """Everything an entity page shows."""

    iri: str
    name: str
    labels: tuple[tuple[str, Term], ...]
    types: tuple[Term, ...]
    claims: tuple[ClaimEntry, ...]
    outgoing: tuple[Link, ...]
    incoming: tuple[Link, ...]
    wikidata: tuple[tuple[str, str], ...]
    claim: ClaimEntry | None = None
    lead: tuple[Role, ...] = ()
    triple: tuple[Term, Term, Term] | None = None
    about: tuple[Term, ...] = ()
    evidence: EvidenceContext | None = None

    @property
    def exists(self) -> bool:
        return bool(self.outgoing or self.incoming)

    @property
    def groups(self) -> tuple[ClaimGroup, ...]:
        """Return the non-empty claim groups in display order."""
        found = (ClaimGroup(key, title, tuple(c for c in self.claims if c.group == key)) for key, title in GROUPS)
        return tuple(group for group in found if group.claims)


def _select(store: ox.Store, query: str, this: ox.NamedNode | ox.BlankNode) -> list[ox.QuerySolution]:
    return list(store.query(query, substitutions={ox.Variable("this"): this}))


def _name(store: ox.Store, term: ox.NamedNode) -> str:
    rows = _select(store, _NAME, term)
    if rows and rows[0]["name"] is not None:
        return str(rows[0]["name"].value)
    return compact(term.value)


def compact(iri: str) -> str:
    """Return a short form of an IRI for display (``kg:``, ``mqm:``, ``xsd:``, ... or its last segment)."""
    for prefix, namespace in NAMESPACES:
        if iri.startswith(namespace) and len(iri) > len(namespace):
            return f"{prefix}:{iri[len(namespace) :]}"
    return re.split(r"[#/]", iri.rstrip("/#"))[-1] or iri


def _term(store: ox.Store, node: ox.NamedNode | ox.BlankNode | ox.Literal, depth: int = 0) -> Term:
    if isinstance(node, ox.NamedNode):
        return Term(node.value, True, _name(store, node))
    if isinstance(node, ox.BlankNode):
        nested: tuple[Link, ...] = ()
        if depth < _BLANK_DEPTH:
            pairs = {(q.predicate, q.object) for q in store.quads_for_pattern(node, None, None)}
            nested = tuple(
                sorted(
                    (Link(_term(store, p), _term(store, o, depth + 1)) for p, o in pairs),
                    key=lambda link: (link.property.label, link.other.label),
                )
            )
        kinds = [link.other.label for link in nested if link.property.value == RDF_TYPE]
        return Term(f"_:{node.value}", False, ", ".join(kinds) or "(node)", nested=nested)
    datatype = None if node.language else node.datatype.value
    return Term(node.value, False, node.value, datatype, node.language)


def _int(node: ox.Literal | ox.NamedNode | ox.BlankNode | None) -> int:
    return int(node.value) if node is not None else -1


def claim_index(store: ox.Store) -> dict[str, ClaimEntry]:
    """Return every claim of the graph as a list entry (each quote, report and note once), by IRI."""
    rows: dict[str, tuple[str, str]] = {}
    for row in store.query(_CLAIM_ROWS):
        iri, kind = row["claim"].value, str(row["kind"].value)
        if iri not in rows or rows[iri][1] == "claim":  # the most specific class wins
            rows[iri] = (str(row["label"].value), kind)
    quotes: dict[str, set[Quote]] = {}
    for row in store.query(_CLAIM_QUOTES):
        quote = Quote(row["evidence"].value, _int(row["start"]), _int(row["end"]), str(row["quote"].value))
        quotes.setdefault(row["claim"].value, set()).add(quote)
    reports: dict[str, set[ReportRef]] = {}
    for row in store.query(_CLAIM_REPORTS):
        reports.setdefault(row["claim"].value, set()).add(ReportRef(row["report"].value, str(row["key"].value)))
    notes: dict[str, list[str]] = {}
    modes: dict[str, str] = {}
    for row in store.query(_CLAIM_NOTES):
        if row["property"].value == MQM + "citationMode":
            modes[row["claim"].value] = str(row["value"].value)
        else:
            notes.setdefault(row["claim"].value, []).append(str(row["value"].value))
    groups: dict[str, str] = {}
    for row in store.query(_CLAIM_GROUPS):
        iri, group = row["claim"].value, str(row["group"].value)
        if iri not in groups or _GROUP_RANK[group] < _GROUP_RANK[groups[iri]]:
            groups[iri] = group
    return {
        iri: ClaimEntry(
            iri=iri,
            label=label,
            kind=kind,
            group=groups.get(iri, "other"),
            quotes=tuple(sorted(quotes.get(iri, ()), key=lambda q: (q.start, q.end))),
            reports=tuple(sorted(reports.get(iri, ()), key=lambda r: r.key)),
            notes=tuple(sorted(notes.get(iri, ()))),
            citation_mode=modes.get(iri),
        )
        for iri, (label, kind) in rows.items()
    }


def _evidence_context(store: ox.Store, this: ox.NamedNode) -> EvidenceContext | None:
    rows = _select(store, _EVIDENCE, this)
    if not rows:
        return None
    row = rows[0]
    text, start, end = str(row["text"].value), _int(row["start"]), _int(row["end"])
    quote = Quote(this.value, start, end, str(row["quote"].value))
    block = next((p for p in paragraphs(text) if p.start <= start and end <= p.end), None)
    before = text[block.start : start] if block else ""
    after = text[end : block.end] if block else ""
    return EvidenceContext(quote, before, after, row["doc"].value)


def entity_view(store: ox.Store, iri: str) -> EntityView:
    """Return what the page of ``iri`` shows; ``exists`` is False for an unknown IRI."""
    this = ox.NamedNode(iri)
    labels = tuple(
        sorted(
            ((str(r["kind"].value), _term(store, r["label"])) for r in _select(store, _LABELS, this)),
            key=lambda pair: (list(LABEL_KINDS).index(pair[0]), pair[1].label.casefold()),
        )
    )
    outgoing, types, wikidata = [], [], []
    for row in _select(store, _OUT, this):
        prop, value = row["property"], row["value"]
        if prop.value == RDF_TYPE:
            types.append(_term(store, value))
        elif prop.value in _LINK_PREDICATES and value.value.startswith("http://www.wikidata.org/entity/"):
            wikidata.append((value.value, _LINK_PREDICATES[prop.value]))
        outgoing.append(Link(_term(store, prop), _term(store, value)))
    incoming = [Link(_term(store, r["property"]), _term(store, r["subject"])) for r in _select(store, _IN, this)]
    index = claim_index(store)
    listed = {row["claim"].value for row in _select(store, _CLAIMS_OF, this)}
    claims = sorted((index[c] for c in listed if c in index), key=lambda c: (c.start, c.iri))
    by_property: dict[str, list[Link]] = {}
    for link in outgoing:
        by_property.setdefault(link.property.value, []).append(link)
    lead = tuple(
        Role(by_property[p][0].property, tuple(link.other for link in by_property[p]))
        for p in LEAD_PROPERTIES
        if p in by_property
    )
    parts = [by_property.get(p, []) for p in _TRIPLE]
    triple = (parts[0][0].other, parts[1][0].other, parts[2][0].other) if all(parts) else None
    order = lambda link: (link.property.label, link.other.label)  # noqa: E731
    return EntityView(
        iri=iri,
        name=_name(store, this),
        labels=labels,
        types=tuple(sorted(types, key=lambda t: t.label)),
        claims=tuple(claims),
        outgoing=tuple(sorted(outgoing, key=order)),
        incoming=tuple(sorted(incoming, key=order)),
        wikidata=tuple(sorted(wikidata)),
        claim=index.get(iri),
        lead=lead if iri in index else (),
        triple=triple if iri in index else None,
        about=tuple(sorted((link.other for link in by_property.get(MQM + "about", [])), key=lambda t: t.label)),
        evidence=_evidence_context(store, this),
    )


def normalize(text: str) -> str:
    """Fold case, accents, punctuation and spacing: "MQM (A)" and "mqm-a" both give "mqma"."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().casefold()
    return re.sub(r"[^a-z0-9]", "", folded)


_KIND_BONUS = {"prefLabel": 3, "altLabel": 2, "hiddenLabel": 1, "label": 0}
LABEL_KINDS = {
    "prefLabel": "preferred name",
    "label": "label",
    "altLabel": "other name",
    "hiddenLabel": "spelling variant",
}
# How search results and browsing are grouped, by class (subclasses included); the first
# match wins, anything else is an entity. Evidence sentences are browsed, never searched
# (their labels are mechanical: "source sentence at characters ...").
SEARCH_SECTIONS = (
    ("entities", "Entities"),
    ("events", "Events"),
    ("facts", "Figures, memberships, names and other facts"),
    ("sources", "Sources and reports"),
    ("claims", "Claims"),
    ("sentences", "Source sentences"),
    ("vocabulary", "Ontology terms"),
)
_SECTION_ROOTS = """
  VALUES (?root ?section ?rank) {
    (mqm:Claim "claims" 1) (sem:Event "events" 2) (mqm:Figure "facts" 3) (org:Membership "facts" 3)
    (org:Post "facts" 3) (mqm:NameUsage "facts" 3) (mqm:Position "facts" 3) (mqm:Condition "facts" 3)
    (org:OrganizationalCollaboration "facts" 3) (mqm:PotentialCoalition "facts" 3)
    (oa:SpecificResource "sentences" 4) (mqm:CitedReport "sources" 4) (<http://xmlns.com/foaf/0.1/Document> "sources" 4)
  }"""
_NODE_SECTIONS = (
    _PREFIXES
    + """
SELECT ?entity ?section ?rank WHERE {"""
    + _SECTION_ROOTS
    + """
  ?entity a/rdfs:subClassOf* ?root .
  FILTER (STRSTARTS(STR(?entity), "https://w3id.org/mqmkg/id/"))
}"""
)
_NODE_TYPES = (
    _PREFIXES
    + """
SELECT ?entity ?type ?label WHERE {
  ?entity a ?type .
  OPTIONAL { ?type rdfs:label ?label }
  FILTER (STRSTARTS(STR(?entity), "https://w3id.org/mqmkg/id/"))
}"""
)
_TYPE_SECTIONS = (
    _PREFIXES
    + """
SELECT ?type ?section ?rank WHERE {"""
    + _SECTION_ROOTS
    + """
  ?type rdfs:subClassOf* ?root .
}"""
)
_INSTANCES = (
    _PREFIXES
    + """
SELECT ?this ?entity WHERE {
  ?entity a ?this .
  FILTER (STRSTARTS(STR(?entity), "https://w3id.org/mqmkg/id/"))
}"""
)


@dataclass(frozen=True)
class SearchHit:
    """One node found by a label: the label that matched and how, its types, its section."""

    iri: str
    name: str
    matched: str
    kind: str
    score: int
    types: tuple[str, ...] = ()
    section: str = "entities"
    quotes: tuple[Quote, ...] = ()

    @property
    def matched_as(self) -> str:
        """Return how the matched label is used: "preferred name", "other name", ..."""
        return LABEL_KINDS.get(self.kind, self.kind)


@dataclass(frozen=True)
class TypeCount:
    """A class with instances in the graph, for browsing: its label, section and count."""

    iri: str
    label: str
    section: str
    count: int


def _match_score(label: str, needle: str) -> int:
    """Score where ``needle`` occurs in ``label``: 300 whole, 200 at a word start, 100 inside, 0 absent."""
    hay = normalize(label)
    if needle not in hay:
        return 0
    if hay == needle:
        return 300
    starts = [0] + [m.end() for m in re.finditer(r"[^A-Za-z0-9]+", label)]
    return 200 if any(normalize(label[i:]).startswith(needle) for i in starts) else 100


def _sections(store: ox.Store, query: str, key: str) -> dict[str, str]:
    best: dict[str, tuple[int, str]] = {}
    for row in store.query(query):
        node, rank = row[key].value, int(row["rank"].value)
        if node not in best or rank < best[node][0]:
            best[node] = (rank, str(row["section"].value))
    return {node: section for node, (_, section) in best.items()}


def node_sections(store: ox.Store) -> dict[str, str]:
    """Return the section of every typed instance that is not an entity (claims, events, ...)."""
    return _sections(store, _NODE_SECTIONS, "entity")


def node_types(store: ox.Store) -> dict[str, tuple[str, ...]]:
    """Return the type labels of every instance, by IRI."""
    found: dict[str, set[str]] = {}
    for row in store.query(_NODE_TYPES):
        label = str(row["label"].value) if row["label"] is not None else compact(row["type"].value)
        found.setdefault(row["entity"].value, set()).add(label)
    return {iri: tuple(sorted(labels)) for iri, labels in found.items()}


def search(store: ox.Store, text: str, limit: int = 20) -> list[SearchHit]:
    """Return nodes whose labels contain ``text`` (normalized), best first, with types and section.

    Scoring: an exact normalized match beats a match at the start of a word beats one
    inside a word; then SKOS preferred labels beat alternative and hidden ones, which beat
    plain rdfs:label matches (claims and events); instance IRIs beat ontology terms.
    Evidence sentences are left out; a claim comes with its quotes.
    """
    needle = normalize(text)
    if not needle:
        return []
    sections = node_sections(store)
    best: dict[str, SearchHit] = {}
    for row in store.query(_SEARCHABLE):
        iri = row["entity"].value
        label = str(row["label"].value)
        score = _match_score(label, needle)
        if not score or sections.get(iri) == "sentences":
            continue
        kind = str(row["kind"].value)
        score += 10 * _KIND_BONUS[kind] + (5 if iri.startswith(INSTANCE_BASE) else 0)
        if iri not in best or score > best[iri].score:
            best[iri] = SearchHit(iri, str(row["name"].value), label, kind, score)
    hits = sorted(best.values(), key=lambda h: (-h.score, h.name.casefold(), h.iri))[:limit]
    types = node_types(store)
    claims = claim_index(store) if any(sections.get(h.iri) == "claims" for h in hits) else {}
    return [
        SearchHit(
            h.iri,
            h.name,
            h.matched,
            h.kind,
            h.score,
            types.get(h.iri, ()),
            sections.get(h.iri, "entities" if h.iri.startswith(INSTANCE_BASE) else "vocabulary"),
            claims[h.iri].quotes if h.iri in claims else (),
        )
        for h in hits
    ]


def type_counts(store: ox.Store) -> list[TypeCount]:
    """Return every class with instances, with its section and instance count, largest first."""
    sections = _sections(store, _TYPE_SECTIONS, "type")
    counts: dict[str, int] = {}
    labels: dict[str, str] = {}
    for row in store.query(_NODE_TYPES):
        type_iri = row["type"].value
        counts[type_iri] = counts.get(type_iri, 0) + 1
        labels[type_iri] = str(row["label"].value) if row["label"] is not None else compact(type_iri)
    found = [TypeCount(t, labels[t], sections.get(t, "entities"), n) for t, n in counts.items()]
    return sorted(found, key=lambda t: (-t.count, t.label.casefold()))


def instances(store: ox.Store, type_iri: str) -> list[tuple[str, str]]:
    """Return ``(iri, name)`` of every instance of a class (exactly typed), sorted by name."""
    rows = _select(store, _INSTANCES, ox.NamedNode(type_iri))
    found = {(row["entity"].value, _name(store, row["entity"])) for row in rows}
    return sorted(found, key=lambda pair: (pair[1].casefold(), pair[0]))


def entities_named(store: ox.Store, name: str, base: str = INSTANCE_BASE) -> tuple[str, ...]:
    """Return the entities under ``base`` that have a label equal to ``name`` once both are normalized.

    "mqm-a", "MQM(A)" and "MQM (A)" all name the entity labelled "MQM-A". Labels are the
    ones ``search`` reads (SKOS preferred, alternative and hidden labels, rdfs:label); the
    IRIs come back sorted, so more than one means the name is ambiguous.
    """
    needle = normalize(name)
    if not needle:
        return ()
    found = {
        row["entity"].value
        for row in store.query(_SEARCHABLE)
        if row["entity"].value.startswith(base) and normalize(str(row["label"].value)) == needle
    }
    return tuple(sorted(found))


_INBOUND_ABOUT = (
    _PREFIXES
    + """
CONSTRUCT { ?claim mqm:about ?this ; rdfs:label ?label } WHERE { ?claim mqm:about ?this ; rdfs:label ?label }"""
)
_TERMS = (
    _PREFIXES
    + """
SELECT ?term ?section ?label ?definition ?comment WHERE {
  VALUES (?type ?section) {
    (owl:Class "Classes") (owl:ObjectProperty "Object properties") (owl:DatatypeProperty "Datatype properties")
    (skos:ConceptScheme "Concept schemes") (skos:Concept "Concepts")
  }
  ?term a ?type .
  FILTER (STRSTARTS(STR(?term), "https://w3id.org/mqmkg/ontology#"))
  OPTIONAL { ?term rdfs:label ?label }
  OPTIONAL { ?term skos:definition ?definition }
  OPTIONAL { ?term rdfs:comment ?comment }
}"""
)
SECTIONS = ("Classes", "Object properties", "Datatype properties", "Concept schemes", "Concepts")


@dataclass(frozen=True)
class OntologyTerm:
    """One term of our ontology as the ontology page lists it."""

    local: str
    label: str
    definition: str
    comment: str


def entity_triples(store: ox.Store, iri: str) -> list[ox.Triple]:
    """Return the entity's concise bounded description plus the claims about it, sorted."""
    this = ox.NamedNode(iri)
    triples = set(store.query("DESCRIBE ?this", substitutions={ox.Variable("this"): this}))
    triples.update(store.query(_INBOUND_ABOUT, substitutions={ox.Variable("this"): this}))
    return sorted(triples, key=str)


def ontology_terms(store: ox.Store) -> list[tuple[str, list[OntologyTerm]]]:
    """Return our ontology's terms by section (classes, properties, schemes, concepts)."""
    found: dict[str, dict[str, OntologyTerm]] = {section: {} for section in SECTIONS}
    for row in store.query(_TERMS):
        local = row["term"].value.removeprefix(ONTOLOGY_NS)
        text = {k: str(row[k].value) if row[k] is not None else "" for k in ("label", "definition", "comment")}
        found[str(row["section"].value)][local] = OntologyTerm(local, **text)
    return [(section, sorted(found[section].values(), key=lambda t: t.local.casefold())) for section in SECTIONS]


def ontology_triples(store: ox.Store, graph_names: Iterable[str]) -> list[ox.Triple]:
    """Return the triples of the ontology's named graphs, sorted."""
    triples = {
        ox.Triple(q.subject, q.predicate, q.object)
        for name in graph_names
        for q in store.quads_for_pattern(None, None, None, ox.NamedNode(name))
    }
    return sorted(triples, key=str)

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

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
_PREFIXES = """
PREFIX mqm: <https://w3id.org/mqmkg/ontology#>
PREFIX oa: <http://www.w3.org/ns/oa#>
PREFIX owl: <http://www.w3.org/2002/07/owl#>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
"""
_LABELS = (
    _PREFIXES
    + """
SELECT ?this ?kind ?label WHERE {
  VALUES (?property ?kind) { (rdfs:label "label") (skos:prefLabel "prefLabel") (skos:altLabel "altLabel")
                             (skos:hiddenLabel "hiddenLabel") }
  ?this ?property ?label .
}"""
)
_CLAIMS = (
    _PREFIXES
    + """
SELECT ?this ?claim ?kind ?statement ?quote ?start ?end ?report WHERE {
  { ?claim mqm:about ?this } UNION { ?this mqm:supportedBy ?claim }
  ?claim a ?type ; rdfs:label ?statement ; mqm:evidence ?evidence .
  ?type rdfs:label ?kind .
  ?evidence oa:hasSelector ?q , ?p .
  ?q oa:exact ?quote .
  ?p oa:start ?start ; oa:end ?end .
  OPTIONAL { ?claim mqm:citesReport/mqm:citationKey ?report }
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
_LINK_PREDICATES = {
    "http://www.w3.org/2002/07/owl#sameAs": "same as",
    "http://www.w3.org/2004/02/skos/core#closeMatch": "close match",
}


@dataclass(frozen=True)
class Term:
    """An RDF term as a page shows it: its value, whether it is an IRI, and a display label."""

    value: str
    is_iri: bool
    label: str
    datatype: str | None = None
    language: str | None = None


@dataclass(frozen=True)
class Statement:
    """A claim about the entity with one of its evidence sentences."""

    claim: str
    kind: str
    label: str
    quote: str
    start: int
    end: int
    reports: tuple[str, ...]


@dataclass(frozen=True)
class Link:
    """A triple touching the entity: the other end and the property, both labelled."""

    property: Term
    other: Term


@dataclass(frozen=True)
class EntityView:
    """Everything an entity page shows."""

    iri: str
    name: str
    labels: tuple[tuple[str, str], ...]
    types: tuple[Term, ...]
    statements: tuple[Statement, ...]
    outgoing: tuple[Link, ...]
    incoming: tuple[Link, ...]
    wikidata: tuple[tuple[str, str], ...]

    @property
    def exists(self) -> bool:
        return bool(self.outgoing or self.incoming)


@dataclass(frozen=True)
class SearchHit:
    """One entity found by a label, with the label that matched and its score."""

    iri: str
    name: str
    matched: str
    kind: str
    score: int


def _select(store: ox.Store, query: str, this: ox.NamedNode) -> list[ox.QuerySolution]:
    return list(store.query(query, substitutions={ox.Variable("this"): this}))


def _name(store: ox.Store, term: ox.NamedNode) -> str:
    rows = _select(store, _NAME, term)
    if rows and rows[0]["name"] is not None:
        return str(rows[0]["name"].value)
    return compact(term.value)


def compact(iri: str) -> str:
    """Return a short form of an IRI for display (kg:, mqm: or the last path segment)."""
    for prefix, namespace in (("kg", INSTANCE_BASE), ("mqm", ONTOLOGY_NS)):
        if iri.startswith(namespace):
            return f"{prefix}:{iri[len(namespace) :]}"
    return re.split(r"[#/]", iri.rstrip("/#"))[-1] or iri


def _term(store: ox.Store, node: ox.NamedNode | ox.BlankNode | ox.Literal) -> Term:
    if isinstance(node, ox.NamedNode):
        return Term(node.value, True, _name(store, node))
    if isinstance(node, ox.BlankNode):
        return Term(f"_:{node.value}", False, "(blank node)")
    datatype = None if node.language else node.datatype.value
    return Term(node.value, False, node.value, datatype, node.language)


def entity_view(store: ox.Store, iri: str) -> EntityView:
    """Return what the page of ``iri`` shows; ``exists`` is False for an unknown IRI."""
    this = ox.NamedNode(iri)
    labels = tuple(sorted((str(r["kind"].value), str(r["label"].value)) for r in _select(store, _LABELS, this)))
    outgoing, types, wikidata = [], [], []
    for row in _select(store, _OUT, this):
        prop, value = row["property"], row["value"]
        if prop.value == RDF_TYPE:
            types.append(_term(store, value))
        elif prop.value in _LINK_PREDICATES and value.value.startswith("http://www.wikidata.org/entity/"):
            wikidata.append((value.value, _LINK_PREDICATES[prop.value]))
        outgoing.append(Link(_term(store, prop), _term(store, value)))
    incoming = [Link(_term(store, r["property"]), _term(store, r["subject"])) for r in _select(store, _IN, this)]
    quotes: dict[tuple[str, int], ox.QuerySolution] = {}
    reports: dict[tuple[str, int], set[str]] = {}
    for row in _select(store, _CLAIMS, this):
        key = (row["claim"].value, int(row["start"].value))
        quotes[key] = row
        reports.setdefault(key, set()).update([row["report"].value] if row["report"] else [])
    statements = [
        Statement(
            claim=claim,
            kind=str(row["kind"].value),
            label=str(row["statement"].value),
            quote=str(row["quote"].value),
            start=start,
            end=int(row["end"].value),
            reports=tuple(sorted(reports[(claim, start)])),
        )
        for (claim, start), row in quotes.items()
    ]
    return EntityView(
        iri=iri,
        name=_name(store, this),
        labels=labels,
        types=tuple(sorted(types, key=lambda t: t.label)),
        statements=tuple(sorted(statements, key=lambda s: (s.start, s.claim))),
        outgoing=tuple(sorted(outgoing, key=lambda link: (link.property.label, link.other.label))),
        incoming=tuple(sorted(incoming, key=lambda link: (link.property.label, link.other.label))),
        wikidata=tuple(sorted(wikidata)),
    )


def normalize(text: str) -> str:
    """Fold case, accents, punctuation and spacing: "MQM (A)" and "mqm-a" both give "mqma"."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().casefold()
    return re.sub(r"[^a-z0-9]", "", folded)


_KIND_BONUS = {"prefLabel": 3, "altLabel": 2, "hiddenLabel": 1, "label": 0}


def _match_score(label: str, needle: str) -> int:
    """Score where ``needle`` occurs in ``label``: 300 whole, 200 at a word start, 100 inside, 0 absent."""
    hay = normalize(label)
    if needle not in hay:
        return 0
    if hay == needle:
        return 300
    starts = [0] + [m.end() for m in re.finditer(r"[^A-Za-z0-9]+", label)]
    return 200 if any(normalize(label[i:]).startswith(needle) for i in starts) else 100


def search(store: ox.Store, text: str, limit: int = 20) -> list[SearchHit]:
    """Return entities whose labels contain ``text`` (normalized), best first.

    Scoring: an exact normalized match beats a match at the start of a word beats one
    inside a word; then SKOS preferred labels beat alternative and hidden ones, which beat
    plain rdfs:label matches (claims and events); instance IRIs beat ontology terms.
    """
    needle = normalize(text)
    if not needle:
        return []
    best: dict[str, SearchHit] = {}
    for row in store.query(_SEARCHABLE):
        label = str(row["label"].value)
        score = _match_score(label, needle)
        if not score:
            continue
        iri, kind = row["entity"].value, str(row["kind"].value)
        score += 10 * _KIND_BONUS[kind] + (5 if iri.startswith(INSTANCE_BASE) else 0)
        if iri not in best or score > best[iri].score:
            best[iri] = SearchHit(iri, str(row["name"].value), label, kind, score)
    return sorted(best.values(), key=lambda h: (-h.score, h.name.casefold(), h.iri))[:limit]


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

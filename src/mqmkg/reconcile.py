"""Reconciliation Service API v0.2 over the graph: candidates, suggest, data extension.

Framework-free: ``build_index`` reads the store once into an ``Index``; ``parse_batch``,
``parse_extend`` and the ``suggest_*`` functions check what a client sent (raising
``ReconciliationError`` with a message a person can act on), and ``reconcile``, ``extend``,
``propose_properties`` and ``manifest`` return JSON-ready dicts in the specification's shapes
(https://www.w3.org/community/reports/reconciliation/CG-FINAL-specs-0.2-20230410/).

**Entities.** Every IRI under the public base that has a label, except the records that hold
statements rather than name things (claims, evidence, memberships, name usages, figures,
positions, conditions, roles). An entity's id is its IRI's local name (``altaf-hussein``).

**Score** (0-100) of an entity for a query string: the best over its ``skos:prefLabel``,
``skos:altLabel``, ``skos:hiddenLabel`` and ``rdfs:label`` of

- 100 if the label equals the query once both are folded by ``mqmkg.linked.normalize``
  (case, accents, punctuation, brackets and spacing ignored: "MQM (A)" = "mqm-a" = "MQM(A)");
- otherwise ``95 * max(chars, words)``, rounded half up. ``chars`` is the normalised Levenshtein
  similarity of the folded strings when both have at least 5 characters (typos: "Karachy" ~
  "Karachi"; shorter strings are acronyms, where one letter is another name: "MQM-P" is not
  "MQM-H"). ``words`` compares words: each query word counts its closest label word (1 if
  equal, its Levenshtein similarity if at least 0.8, else 0); with ``m`` their sum,
  ``words = max(2m / (|q| + |l|), m / |q| * (0.4 + 0.6 * m / |l|))``: the first is the Dice
  overlap, the second lets a query whose words all occur in a longer name ("Haqiqi" in "MQM
  Haqiqi") score well, less so the longer that name is.

Candidates below ``MIN_SCORE`` are dropped; ties go to the preferred label, then the name.
A query that is an entity's id (``mqm``, ``kg:mqm`` or its IRI) returns it with score 100.
``match`` is true only when exactly one candidate scores 100 (an exact label, or the id)
after the type and property filters: an unambiguous exact match.

**Filters.** ``type``: keep entities having one of the types (all of them with
``type_strict: "all"``); an entity's types include its classes' superclasses and its
``org:classification`` concepts with their broader concepts (a faction is a political
party). ``properties``: every given property must match (like SQL's WHERE): a year matches
any date of the entity or of its events; a name matches a value whose label scores at least
``PROPERTY_MATCH`` (or whose id is given); a Wikidata QID matches exactly.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import pyoxigraph as ox
from rapidfuzz.distance import Levenshtein

from mqmkg.config import ONTOLOGY_NS
from mqmkg.errors import BatchTooLarge, ReconciliationError
from mqmkg.linked import normalize, search
from mqmkg.report import PREFIXES

API_VERSIONS = ("0.2",)
MIN_SCORE = 60
PROPERTY_MATCH = 80
DEFAULT_LIMIT = 10
MAX_LIMIT = 100
MAX_BATCH = 100
MAX_EXTEND_IDS = 500
MAX_QUERY_CHARS = 200
SUGGEST_PAGE = 10
# OpenRefine's default Wikidata reconciliation service: the "wikidata" extension column
# names it, so OpenRefine turns the QIDs it returns into a column reconciled to Wikidata.
WIKIDATA_RECONCILE = "https://wikidata.reconci.link/en/api"
WIKIDATA_ENTITY = "http://www.wikidata.org/entity/"

_SKOS = "http://www.w3.org/2004/02/skos/core#"
_RDFS = "http://www.w3.org/2000/01/rdf-schema#"
LABEL_KINDS = {
    _SKOS + "prefLabel": "prefLabel",
    _SKOS + "altLabel": "altLabel",
    _SKOS + "hiddenLabel": "hiddenLabel",
    _RDFS + "label": "label",
}
_KIND_RANK = {"prefLabel": 0, "label": 1, "altLabel": 2, "hiddenLabel": 3}
# Classes whose instances record statements rather than name things (with their subclasses).
RECORD_CLASSES = frozenset(
    {
        ONTOLOGY_NS + "Claim",
        ONTOLOGY_NS + "NameUsage",
        ONTOLOGY_NS + "Figure",
        ONTOLOGY_NS + "Position",
        ONTOLOGY_NS + "Condition",
        "http://www.w3.org/ns/oa#SpecificResource",
        "http://www.w3.org/ns/org#Membership",
        "http://semanticweb.cs.vu.nl/2009/11/sem/Role",
    }
)
DEFAULT_TYPES = (
    "http://www.w3.org/ns/org#Organization",
    ONTOLOGY_NS + "PoliticalParty",
    ONTOLOGY_NS + "PartyFaction",
    "http://xmlns.com/foaf/0.1/Person",
    "http://semanticweb.cs.vu.nl/2009/11/sem/Place",
    "http://semanticweb.cs.vu.nl/2009/11/sem/Event",
    ONTOLOGY_NS + "CitedReport",
    ONTOLOGY_NS + "Collective",
    ONTOLOGY_NS + "Population",
    ONTOLOGY_NS + "LegalInstrument",
)
_WORD_SPLIT = re.compile(r"[\s\-\u2010-\u2015/]+")
_QID = re.compile(r"^Q[1-9][0-9]*$")

_PREFIXES = """
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX mqm: <https://w3id.org/mqmkg/ontology#>
PREFIX org: <http://www.w3.org/ns/org#>
PREFIX owl: <http://www.w3.org/2002/07/owl#>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX sem: <http://semanticweb.cs.vu.nl/2009/11/sem/>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
"""
_Q_LABELS = (
    _PREFIXES
    + """SELECT ?e ?p ?label ?base WHERE {
  VALUES ?p { skos:prefLabel skos:altLabel skos:hiddenLabel rdfs:label }
  ?e ?p ?label . FILTER (isIRI(?e) && STRSTARTS(STR(?e), ?base))
}"""
)
_Q_TYPES = (
    _PREFIXES
    + """SELECT ?e ?type ?super ?base WHERE {
  { ?e a ?type } UNION { ?e org:classification ?type }
  FILTER (isIRI(?e) && STRSTARTS(STR(?e), ?base))
  ?type (rdfs:subClassOf|skos:broader)* ?super . FILTER (isIRI(?super))
}"""
)
_Q_TYPE_NAMES = (
    _PREFIXES
    + """SELECT DISTINCT ?type ?name ?broader WHERE {
  { ?e a ?t } UNION { ?e org:classification ?t }
  ?t (rdfs:subClassOf|skos:broader)* ?type .
  OPTIONAL { ?type rdfs:label|skos:prefLabel ?name }
  OPTIONAL { ?type rdfs:subClassOf|skos:broader ?broader . FILTER (isIRI(?broader)) }
}"""
)
_Q_WIKIDATA = (
    _PREFIXES
    + """SELECT ?e ?link ?item WHERE {
  VALUES ?link { owl:sameAs skos:closeMatch }
  ?e ?link ?item . FILTER (STRSTARTS(STR(?item), "http://www.wikidata.org/entity/"))
}"""
)
_Q_LEADERS = (
    _PREFIXES
    + """SELECT DISTINCT ?org ?person WHERE {
  { ?person org:headOf ?org } UNION { ?m org:member ?person ; org:organization ?org ; org:role org:Head }
}"""
)
_Q_PLACES = (
    _PREFIXES
    + """SELECT DISTINCT ?e ?place WHERE {
  ?e ?p ?place . ?place a sem:Place . FILTER (?p NOT IN (rdf:subject, rdf:object, mqm:about) && ?e != ?place)
}"""
)
_Q_EVENTS = (
    _PREFIXES
    + """SELECT DISTINCT ?e ?event WHERE {
  ?event a/rdfs:subClassOf* sem:Event .
  { ?event ?p ?e } UNION { ?e ?p ?event }
  FILTER (isIRI(?e) && ?e != ?event && ?p NOT IN (rdf:type, mqm:supportedBy))
}"""
)
_Q_DATES = (
    _PREFIXES
    + """SELECT ?e ?stamp ?earliest ?latest ?stated WHERE {
  ?e sem:hasTimeStamp|dcterms:date|sem:hasEarliestBeginTimeStamp|sem:hasLatestEndTimeStamp|mqm:timeAsStated ?any .
  FILTER (isIRI(?e))
  OPTIONAL { ?e sem:hasTimeStamp|dcterms:date ?stamp }
  OPTIONAL { ?e sem:hasEarliestBeginTimeStamp ?earliest }
  OPTIONAL { ?e sem:hasLatestEndTimeStamp ?latest }
  OPTIONAL { ?e mqm:timeAsStated ?stated }
}"""
)
_Q_FOUNDED = _PREFIXES + "SELECT ?org ?event WHERE { ?event mqm:foundedOrganization ?org }"
_Q_CLAIMS = (
    _PREFIXES
    + """SELECT DISTINCT ?e ?claim ?report WHERE {
  { ?claim mqm:about|rdf:subject|rdf:object|mqm:accused|mqm:allegedBy|mqm:deniedBy ?e }
  UNION { ?e mqm:supportedBy ?claim }
  ?claim a/rdfs:subClassOf* mqm:Claim . FILTER (isIRI(?e))
  OPTIONAL { ?claim mqm:citesReport ?report }
}"""
)


# --- records ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Label:
    """One label of an entity, with its kind and folded forms."""

    text: str
    kind: str
    key: str
    words: tuple[str, ...]


@dataclass(frozen=True)
class TypeRef:
    """A type (class or classification concept): its IRI, name and direct broader types."""

    id: str
    name: str
    broader: tuple[str, ...] = ()


@dataclass(frozen=True)
class Dated:
    """When something happened, as the graph states it: stamp, bounds and wording."""

    stamp: str | None
    earliest: str | None
    latest: str | None
    stated: str | None

    @property
    def text(self) -> str:
        """Return the date at its stated precision ("1992", "1998-05-28"), else the bounds."""
        if self.stamp:
            return self.stamp
        if self.earliest or self.latest:
            return f"{self.earliest or '..'}/{self.latest or '..'}"
        return self.stated or ""

    @property
    def years(self) -> tuple[int, int] | None:
        """Return the first and last year the date may fall in (an open side takes the other's)."""
        found = [int(text[:4]) for text in (self.earliest, self.latest, self.stamp) if text and text[:4].isdigit()]
        if not found:
            return None
        first = int(self.earliest[:4]) if self.earliest and self.earliest[:4].isdigit() else min(found)
        last = int(self.latest[:4]) if self.latest and self.latest[:4].isdigit() else max(found)
        return (first, last)


@dataclass(frozen=True)
class WikidataLink:
    """An entity's Wikidata item and how it is linked (``exact``: owl:sameAs, ``close``)."""

    qid: str
    match: str
    label: str

    @property
    def url(self) -> str:
        return WIKIDATA_ENTITY + self.qid


@dataclass(frozen=True)
class Entity:
    """One reconcilable entity."""

    id: str
    iri: str
    name: str
    labels: tuple[Label, ...]
    types: tuple[TypeRef, ...]
    type_closure: frozenset[str]
    wikidata: WikidataLink | None
    dated: Dated | None

    def description(self) -> str:
        """Return a short description: its types, date and Wikidata item."""
        parts = [", ".join(t.name for t in self.types)]
        if self.dated and self.dated.text:
            parts.append(self.dated.text)
        if self.wikidata:
            parts.append(f"Wikidata {self.wikidata.qid} ({self.wikidata.match} match)")
        return " · ".join(part for part in parts if part)


@dataclass(frozen=True)
class Property:
    """A property of the data extension and of query filters."""

    id: str
    name: str
    description: str
    kind: str  # "str", "int" or "entity"


@dataclass(frozen=True)
class Value:
    """A property value: an entity (``id``) or a literal (``text``, ``number``), with years."""

    text: str
    id: str | None = None
    description: str | None = None
    number: int | None = None
    years: tuple[int, int] | None = None

    def as_json(self) -> dict[str, object]:
        if self.id is not None:
            found: dict[str, object] = {"id": self.id, "name": self.text}
            if self.description:
                found["description"] = self.description
            return found
        if self.number is not None:
            return {"int": self.number}
        return {"str": self.text}


PROPERTIES = (
    Property("name", "Name", "The preferred label (skos:prefLabel, else rdfs:label).", "str"),
    Property("labels", "All names", "Every label: preferred, alternative, hidden, rdfs:label.", "str"),
    Property("type", "Type", "Classes and org:classification kinds (names).", "str"),
    Property(
        "wikidata",
        "Wikidata item",
        "The linked Wikidata item (QID), as an entity of the Wikidata reconciliation service.",
        "entity",
    ),
    Property("wikidata-match", "Wikidata link kind", "exact (owl:sameAs) or close (skos:closeMatch).", "str"),
    Property("date", "Date", "The entity's own date at its stated precision (events, reports).", "str"),
    Property("founded", "Founded", "The date of the organisation's founding event.", "str"),
    Property("events", "Events", "Events the entity takes part in; description: their date.", "entity"),
    Property("leaders", "Leaders", "Heads of the organisation (org:headOf, or a membership as org:Head).", "entity"),
    Property("leads", "Leads", "Organisations the person heads.", "entity"),
    Property("places", "Places", "Places linked to the entity (sem:hasPlace, located in, destination, ...).", "entity"),
    Property("reports", "Cited reports", "Reports cited by the claims about the entity.", "entity"),
    Property("claims", "Claims", "How many claims of the source are about the entity.", "int"),
)
PROPERTY_IDS = {p.id: p for p in PROPERTIES}
_DATE_PROPERTIES = frozenset({"date", "founded", "events", "year"})
_ALWAYS_PROPOSED = ("name", "labels", "type", "claims")


@dataclass(frozen=True)
class Index:
    """Everything the service needs, read once from the store."""

    base: str
    entities: Mapping[str, Entity]
    types: Mapping[str, TypeRef]
    facts: Mapping[str, Mapping[str, tuple[Value, ...]]] = field(default_factory=dict)

    def entity(self, ident: str) -> Entity | None:
        """Return the entity named by an id, ``kg:`` CURIE or full IRI."""
        text = ident.strip()
        for prefix in (self.base, "kg:"):
            text = text.removeprefix(prefix)
        return self.entities.get(text)

    def values(self, entity_id: str, prop: str) -> tuple[Value, ...]:
        return self.facts.get(entity_id, {}).get(prop, ())


# --- building the index -------------------------------------------------------------------


def words_of(text: str) -> tuple[str, ...]:
    """Return the folded words of a name ("Khidmat-e-Khalq" gives khidmat, e, khalq)."""
    return tuple(word for word in (normalize(part) for part in _WORD_SPLIT.split(text)) if word)


def make_label(text: str, kind: str) -> Label:
    return Label(text, kind, normalize(text), words_of(text))


def _rows(store: ox.Store, query: str, base: str | None = None) -> list[ox.QuerySolution]:
    subs = {ox.Variable("base"): ox.Literal(base)} if base is not None else None
    return list(store.query(query, substitutions=subs))


def _local(iri: str) -> str:
    return re.split(r"[#/]", iri.rstrip("/#"))[-1] or iri


def _dated(row: ox.QuerySolution) -> Dated:
    def text(name: str) -> str | None:
        term = row[name]
        return None if term is None else str(term.value)

    return Dated(text("stamp"), text("earliest"), text("latest"), text("stated"))


def build_index(store: ox.Store, base: str, wikidata_labels: Mapping[str, str] | None = None) -> Index:
    """Read the reconcilable entities, their types, links and facts from ``store``."""
    labels: dict[str, list[Label]] = defaultdict(list)
    for row in _rows(store, _Q_LABELS, base):
        labels[row["e"].value].append(make_label(str(row["label"].value), LABEL_KINDS[row["p"].value]))
    direct: dict[str, set[str]] = defaultdict(set)
    closure: dict[str, set[str]] = defaultdict(set)
    for row in _rows(store, _Q_TYPES, base):
        iri = row["e"].value
        direct[iri].add(row["type"].value)
        closure[iri].update((row["type"].value, row["super"].value))
    names: dict[str, str] = {}
    broader: dict[str, set[str]] = defaultdict(set)
    for row in _rows(store, _Q_TYPE_NAMES):
        if row["name"] is not None:
            names.setdefault(row["type"].value, str(row["name"].value))
        if row["broader"] is not None and row["broader"] != row["type"]:
            broader[row["type"].value].add(row["broader"].value)
    types = {
        t: TypeRef(t, names.get(t, _local(t)), tuple(sorted(broader[t])))
        for t in sorted({t for found in closure.values() for t in found})
    }
    qids = {}
    for row in _rows(store, _Q_WIKIDATA):
        qid = row["item"].value.removeprefix(WIKIDATA_ENTITY)
        match = "exact" if row["link"].value.endswith("sameAs") else "close"
        qids[row["e"].value] = WikidataLink(qid, match, (wikidata_labels or {}).get(qid, qid))
    dates = {row["e"].value: _dated(row) for row in _rows(store, _Q_DATES)}
    entities: dict[str, Entity] = {}
    for iri, found in labels.items():
        if closure[iri] & RECORD_CLASSES:
            continue
        ordered = tuple(sorted(set(found), key=lambda label: (_KIND_RANK[label.kind], label.text)))
        ident = iri[len(base) :]
        entities[ident] = Entity(
            id=ident,
            iri=iri,
            name=ordered[0].text,
            labels=ordered,
            types=tuple(sorted((types[t] for t in direct[iri]), key=lambda t: (t.id.startswith(_SKOS), t.name))),
            type_closure=frozenset(closure[iri]),
            wikidata=qids.get(iri),
            dated=dates.get(iri),
        )
    return Index(base, entities, types, _facts(store, base, entities, dates))


def _facts(
    store: ox.Store, base: str, entities: Mapping[str, Entity], dates: Mapping[str, Dated]
) -> dict[str, dict[str, tuple[Value, ...]]]:
    """Return each entity's extension values, property by property."""
    facts: dict[str, dict[str, set[Value]]] = defaultdict(lambda: defaultdict(set))

    def entity_of(term: ox.NamedNode | ox.BlankNode | ox.Literal) -> Entity | None:
        value = term.value if isinstance(term, ox.NamedNode) else ""
        return entities.get(value[len(base) :]) if value.startswith(base) else None

    def ref(entity: Entity, with_date: bool = False) -> Value:
        dated = entity.dated if with_date else None
        return Value(entity.name, entity.id, dated.text if dated else None, years=dated.years if dated else None)

    def pairs(query: str, left: str, right: str) -> Iterable[tuple[Entity, Entity]]:
        for row in _rows(store, query):
            a, b = entity_of(row[left]), entity_of(row[right])
            if a is not None and b is not None:
                yield a, b

    for org, person in pairs(_Q_LEADERS, "org", "person"):
        facts[org.id]["leaders"].add(ref(person))
        facts[person.id]["leads"].add(ref(org))
    for entity, place in pairs(_Q_PLACES, "e", "place"):
        facts[entity.id]["places"].add(ref(place))
    for entity, event in pairs(_Q_EVENTS, "e", "event"):
        facts[entity.id]["events"].add(ref(event, with_date=True))
    for org, event in pairs(_Q_FOUNDED, "org", "event"):
        if event.dated:
            facts[org.id]["founded"].add(Value(event.dated.text, years=event.dated.years))
    claims: dict[str, set[str]] = defaultdict(set)
    for row in _rows(store, _Q_CLAIMS):
        entity = entity_of(row["e"])
        if entity is None:
            continue
        claims[entity.id].add(row["claim"].value)
        report = entity_of(row["report"]) if row["report"] is not None else None
        if report is not None:
            facts[entity.id]["reports"].add(ref(report))
    for entity in entities.values():
        found = facts[entity.id]
        found["name"].add(Value(entity.name))
        found["labels"].update(Value(label.text) for label in entity.labels)
        found["type"].update(Value(t.name) for t in entity.types)
        found["claims"].add(Value(str(len(claims[entity.id])), number=len(claims[entity.id])))
        if entity.wikidata:
            link = entity.wikidata
            found["wikidata"].add(Value(link.label, link.qid))
            found["wikidata-match"].add(Value(link.match))
        dated = dates.get(entity.iri)
        if dated and dated.text:
            found["date"].add(Value(dated.text, years=dated.years))
    return {
        ident: {
            prop: tuple(sorted(values, key=lambda v: (v.description is None, v.description or "", v.text, v.id or "")))
            for prop, values in props.items()
        }
        for ident, props in facts.items()
    }


# --- scoring ------------------------------------------------------------------------------


def _word_similarity(a: str, b: str) -> float:
    if a == b:
        return 1.0
    similarity = Levenshtein.normalized_similarity(a, b)
    return similarity if similarity >= 0.8 else 0.0


def label_score(query_key: str, query_words: tuple[str, ...], label: Label) -> tuple[int, float, float]:
    """Return (score 0-100, character similarity, word similarity) of a label for a query."""
    if query_key == label.key:
        return 100, 1.0, 1.0
    short = min(len(query_key), len(label.key)) < 5
    chars = 0.0 if short else Levenshtein.normalized_similarity(query_key, label.key)
    words = 0.0
    if query_words and label.words:
        matched = sum(max(_word_similarity(q, w) for w in label.words) for q in query_words)
        cover = matched / len(query_words) * (0.4 + 0.6 * min(1.0, matched / len(label.words)))
        words = max(2 * matched / (len(query_words) + len(label.words)), cover)
    return int(95 * max(chars, words) + 0.5), chars, words


@dataclass(frozen=True)
class Scored:
    """An entity's best label for a query."""

    entity: Entity
    score: int
    label: Label
    chars: float
    words: float


def best_label(entity: Entity, query: str) -> Scored:
    """Return the entity's best-scoring label for ``query`` (ties: the preferred kind)."""
    key, words = normalize(query), words_of(query)
    best: Scored | None = None
    for label in entity.labels:
        score, chars, word = label_score(key, words, label)
        if best is None or score > best.score:
            best = Scored(entity, score, label, chars, word)
    assert best is not None  # every entity has a label
    return best


# --- queries ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PropertyFilter:
    """One ``{"pid": ..., "v": ...}`` of a query, with its values normalised."""

    pid: str
    values: tuple[str | int | float | bool | dict[str, str], ...]


@dataclass(frozen=True)
class Query:
    """One reconciliation query, checked."""

    text: str | None
    types: tuple[str, ...]
    type_strict: str
    limit: int
    properties: tuple[PropertyFilter, ...]


def _fail(key: str, message: str) -> ReconciliationError:
    return ReconciliationError(f"query {key!r}: {message}")


def expand_type(index: Index, ident: str) -> str:
    """Return the type IRI named by an IRI or a CURIE with the project's prefixes."""
    prefix, _, local = ident.partition(":")
    iri = PREFIXES[prefix] + local if prefix in PREFIXES and not local.startswith("//") else ident
    if iri not in index.types:
        raise ReconciliationError(
            f"unknown type {ident!r}: see the manifest's defaultTypes or /reconcile/suggest/type?prefix="
        )
    return iri


def _property_values(key: str, pid: str, raw: object) -> tuple[str | int | float | bool | dict[str, str], ...]:
    items = raw if isinstance(raw, list) else [raw]
    if not items:
        raise _fail(key, f"property {pid!r} has no value")
    values: list[str | int | float | bool | dict[str, str]] = []
    for item in items:
        if isinstance(item, dict):
            ident = item.get("id")
            if not isinstance(ident, str) or not ident or set(item) - {"id", "name"}:
                raise _fail(key, f"property {pid!r}: an entity value is {{'id': ..., 'name': ...}}")
            values.append({"id": ident})
        elif isinstance(item, str | int | float | bool):
            if isinstance(item, float) and not math.isfinite(item):
                raise _fail(key, f"property {pid!r}: {item!r} is not a finite number")
            if isinstance(item, str) and len(item) > MAX_QUERY_CHARS:
                raise _fail(key, f"property {pid!r}: a value longer than {MAX_QUERY_CHARS} characters")
            values.append(item)
        else:
            raise _fail(key, f"property {pid!r}: values are strings, numbers, booleans or {{'id': ...}}")
    return tuple(values)


def parse_query(index: Index, key: str, raw: object) -> Query:
    """Check one query object of a batch (the specification's JSON schema, and our limits)."""
    if isinstance(raw, str):  # the v0.1 shorthand: a bare query string
        raw = {"query": raw}
    if not isinstance(raw, dict):
        raise _fail(key, "must be a JSON object with a 'query' and optional 'type', 'limit', 'properties'")
    unknown = set(raw) - {"query", "type", "type_strict", "limit", "properties"}
    if unknown:
        raise _fail(key, f"unknown field(s) {sorted(unknown)}; allowed: query, type, type_strict, limit, properties")
    text = raw.get("query")
    if text is not None and (not isinstance(text, str) or not text.strip()):
        raise _fail(key, "'query' must be a non-empty string")
    if isinstance(text, str) and len(text) > MAX_QUERY_CHARS:
        raise _fail(key, f"'query' is longer than {MAX_QUERY_CHARS} characters")
    kind = raw.get("type", [])
    kinds = [kind] if isinstance(kind, str) else kind
    if not isinstance(kinds, list) or not all(isinstance(k, str) and k for k in kinds):
        raise _fail(key, "'type' must be a type id or a list of type ids")
    strict = raw.get("type_strict", "any")
    if strict not in ("any", "should", "all"):
        raise _fail(key, "'type_strict' must be 'any', 'should' or 'all'")
    limit = raw.get("limit", DEFAULT_LIMIT)
    if isinstance(limit, bool) or not isinstance(limit, int | float) or limit != limit or limit < 1:
        raise _fail(key, "'limit' must be a positive integer")
    if isinstance(limit, float) and (not math.isfinite(limit) or not limit.is_integer()):
        raise _fail(key, "'limit' must be a positive integer")
    props = raw.get("properties", [])
    if not isinstance(props, list):
        raise _fail(key, "'properties' must be a list of {'pid': ..., 'v': ...}")
    filters = []
    for prop in props:
        if not isinstance(prop, dict) or set(prop) != {"pid", "v"} or not isinstance(prop["pid"], str):
            raise _fail(key, "each property is {'pid': <property id>, 'v': <value or list of values>}")
        pid = prop["pid"]
        if pid not in PROPERTY_IDS and pid != "year":
            raise _fail(key, f"unknown property {pid!r}; see /reconcile/suggest/property?prefix=")
        filters.append(PropertyFilter(pid, _property_values(key, pid, prop["v"])))
    if text is None and not filters:
        raise _fail(key, "give a 'query' string, 'properties', or both")
    return Query(
        text=text.strip() if isinstance(text, str) else None,
        types=tuple(expand_type(index, k) for k in kinds),
        type_strict=strict,
        limit=min(int(limit), MAX_LIMIT),
        properties=tuple(filters),
    )


def parse_batch(index: Index, batch: object) -> dict[str, Query]:
    """Check a query batch (a JSON object of queries keyed by the client's ids)."""
    if isinstance(batch, dict) and not batch:
        return {}
    if not isinstance(batch, dict):
        raise ReconciliationError('queries= must be a JSON object of queries, e.g. {"q0": {"query": "Karachi"}}')
    if len(batch) > MAX_BATCH:
        raise BatchTooLarge(f"{len(batch)} queries in one batch; the manifest's batchSize is {MAX_BATCH}")
    return {str(key): parse_query(index, str(key), raw) for key, raw in batch.items()}


def _has_types(entity: Entity, query: Query) -> bool:
    if not query.types:
        return True
    found = [t in entity.type_closure for t in query.types]
    return all(found) if query.type_strict == "all" else any(found)


def _year(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float) and math.isfinite(value) and float(value).is_integer():
        return int(value)
    text = str(value).strip()
    return int(text[:4]) if len(text) >= 4 and text[:4].isdigit() and (len(text) == 4 or text[4] in "-/") else None


def _value_matches(index: Index, value: Value, wanted: object) -> bool:
    if isinstance(wanted, dict):
        target = index.entity(wanted["id"])
        return value.id is not None and (value.id == wanted["id"] or (target is not None and target.id == value.id))
    if value.number is not None and not isinstance(wanted, bool) and isinstance(wanted, int | float):
        return value.number == wanted
    text = str(wanted).lower() if isinstance(wanted, bool) else str(wanted)
    if value.id is not None and index.entity(text) is not None and index.entity(text).id == value.id:
        return True
    labels = index.entities[value.id].labels if value.id in index.entities else (make_label(value.text, "label"),)
    key, words = normalize(text), words_of(text)
    return bool(key) and max(label_score(key, words, label)[0] for label in labels) >= PROPERTY_MATCH


def _matches_year(index: Index, entity: Entity, wanted: object) -> bool:
    year = _year(wanted)
    if year is None:
        return False
    dated = [entity.dated.years] if entity.dated and entity.dated.years else []
    for prop in ("date", "founded", "events"):
        dated += [v.years for v in index.values(entity.id, prop) if v.years]
    return any(first <= year <= last for first, last in dated)


def property_matches(index: Index, entity: Entity, prop: PropertyFilter) -> bool:
    """Tell whether one of the entity's values of ``prop.pid`` matches one of the given values."""
    if prop.pid == "wikidata":
        qid = entity.wikidata.qid if entity.wikidata else None
        wanted = {str(v["id"] if isinstance(v, dict) else v).strip().removeprefix(WIKIDATA_ENTITY) for v in prop.values}
        return qid in wanted
    if prop.pid in ("year", "date", "founded") or (prop.pid == "events" and all(_year(v) for v in prop.values)):
        if prop.pid == "year":
            return any(_matches_year(index, entity, v) for v in prop.values)
        values = index.values(entity.id, prop.pid)
        return any(
            v.years and (year := _year(w)) is not None and v.years[0] <= year <= v.years[1]
            for v in values
            for w in prop.values
        )
    return any(_value_matches(index, v, w) for v in index.values(entity.id, prop.pid) for w in prop.values)


def candidate(scored: Scored, match: bool) -> dict[str, object]:
    """Return a reconciliation candidate in the specification's shape (plus Wikidata fields)."""
    entity = scored.entity
    found: dict[str, object] = {
        "id": entity.id,
        "name": entity.name,
        "description": entity.description(),
        "score": scored.score,
        "match": match,
        "type": [{"id": t.id, "name": t.name} for t in entity.types],
        "features": [
            {"id": "name_exact", "value": scored.score == 100},
            {"id": "name_characters", "value": round(scored.chars, 4)},
            {"id": "name_words", "value": round(scored.words, 4)},
        ],
        "matchedLabel": scored.label.text,
        "matchedLabelKind": scored.label.kind,
    }
    if entity.wikidata:
        found["wikidata"] = entity.wikidata.qid
        found["wikidataUrl"] = entity.wikidata.url
        found["wikidataMatch"] = entity.wikidata.match
    return found


def reconcile_one(index: Index, query: Query) -> list[dict[str, object]]:
    """Return the ranked candidates of one query."""
    pool = [
        e
        for e in index.entities.values()
        if _has_types(e, query) and all(property_matches(index, e, p) for p in query.properties)
    ]
    if query.text is None:
        scored = [Scored(e, 100, e.labels[0], 0.0, 0.0) for e in pool]
        unique = len(scored) == 1 and any(p.pid == "wikidata" for p in query.properties)
        ranked = sorted(scored, key=lambda s: (s.entity.name.casefold(), s.entity.id))
        return [candidate(s, unique) for s in ranked[: query.limit]]
    by_id = index.entity(query.text)
    scored = []
    for entity in pool:
        best = best_label(entity, query.text)
        if by_id is not None and entity.id == by_id.id:
            best = Scored(entity, 100, best.label, 1.0, 1.0)
        if best.score >= MIN_SCORE:
            scored.append(best)
    ranked = sorted(
        scored,
        key=lambda s: (-s.score, _KIND_RANK[s.label.kind], s.entity.name.casefold(), s.entity.id),
    )
    exact = [s for s in ranked if s.score == 100]
    return [candidate(s, len(exact) == 1 and s is exact[0]) for s in ranked[: query.limit]]


def reconcile(index: Index, queries: Mapping[str, Query]) -> dict[str, dict[str, list[dict[str, object]]]]:
    """Answer a checked batch: ``{key: {"result": [candidates]}}``."""
    return {key: {"result": reconcile_one(index, query)} for key, query in queries.items()}


# --- suggest ------------------------------------------------------------------------------


def _starts_a_word(text: str, needle: str) -> int:
    """Return 2 if ``text`` starts with ``needle`` (folded), 1 if one of its words does, else 0."""
    if normalize(text).startswith(needle):
        return 2
    starts = [m.end() for m in re.finditer(r"[^0-9A-Za-z]+", text)]
    return 1 if any(normalize(text[i:]).startswith(needle) for i in starts) else 0


def _page(items: list[dict[str, object]], cursor: int) -> dict[str, object]:
    page = items[cursor : cursor + SUGGEST_PAGE]
    found: dict[str, object] = {"result": page}
    if cursor + SUGGEST_PAGE < len(items):
        found["cursor"] = cursor + SUGGEST_PAGE
    return found


def suggest_entities(
    index: Index, store: ox.Store, prefix: str, cursor: int = 0, types: tuple[str, ...] = ()
) -> dict[str, object]:
    """Autocomplete entities whose name, or a word of one of their names, starts with ``prefix``.

    The labels are found by ``mqmkg.linked.search`` (the site's search, same folding); ids
    that start with the prefix are offered too.
    """
    needle = normalize(prefix)
    if not needle:
        return {"result": []}
    ranked: dict[str, tuple[int, int, str]] = {}
    for hit in search(store, prefix, limit=1_000_000):
        entity = index.entity(hit.iri) if hit.iri.startswith(index.base) else None
        rank = _starts_a_word(hit.matched, needle) if entity else 0
        if entity is not None and rank:
            ranked[entity.id] = (-rank, _KIND_RANK.get(hit.kind, 9), entity.name.casefold())
    for entity in index.entities.values():
        if entity.id not in ranked and normalize(entity.id).startswith(needle):
            ranked[entity.id] = (-1, 9, entity.name.casefold())
    query = Query(None, types, "any", MAX_LIMIT, ())
    items = [
        {
            "id": e.id,
            "name": e.name,
            "description": e.description(),
            "notable": [{"id": t.id, "name": t.name} for t in e.types],
        }
        for e in sorted((index.entities[i] for i in ranked), key=lambda e: (ranked[e.id], e.id))
        if _has_types(e, query)
    ]
    return _page(items, cursor)


def _suggest_named(items: Iterable[tuple[str, str, str]], prefix: str, cursor: int) -> dict[str, object]:
    needle = normalize(prefix)
    if not needle:
        return {"result": []}
    ranked = []
    for ident, name, description in items:
        rank = max(_starts_a_word(name, needle), 1 if normalize(ident).startswith(needle) else 0)
        if not rank:
            local = ident.split(":", 1)[-1]
            rank = 1 if normalize(_local(local)).startswith(needle) else 0
        if rank:
            ranked.append(((-rank, name.casefold(), ident), {"id": ident, "name": name, "description": description}))
    return _page([item for _, item in sorted(ranked, key=lambda pair: pair[0])], cursor)


def suggest_types(index: Index, prefix: str, cursor: int = 0) -> dict[str, object]:
    """Autocomplete types by name or IRI local name."""
    return _suggest_named(((t.id, t.name, t.id) for t in index.types.values()), prefix, cursor)


def suggest_properties(prefix: str, cursor: int = 0) -> dict[str, object]:
    """Autocomplete the properties of data extension and query filters."""
    return _suggest_named(((p.id, p.name, p.description) for p in PROPERTIES), prefix, cursor)


# --- data extension -----------------------------------------------------------------------


@dataclass(frozen=True)
class ExtendRequest:
    """A checked data extension query."""

    ids: tuple[str, ...]
    properties: tuple[str, ...]


def parse_extend(raw: object) -> ExtendRequest:
    """Check a data extension query: ``{"ids": [...], "properties": [{"id": ...}, ...]}``."""
    if not isinstance(raw, dict) or set(raw) - {"ids", "properties"} or not {"ids", "properties"} <= set(raw):
        raise ReconciliationError('extend= must be {"ids": [entity ids], "properties": [{"id": property id}, ...]}')
    ids, props = raw["ids"], raw["properties"]
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise ReconciliationError("extend: 'ids' must be a list of entity id strings")
    if len(ids) > MAX_EXTEND_IDS:
        raise BatchTooLarge(f"extend: {len(ids)} ids in one request; at most {MAX_EXTEND_IDS}")
    if not isinstance(props, list) or not all(isinstance(p, dict) and isinstance(p.get("id"), str) for p in props):
        raise ReconciliationError("extend: 'properties' must be a list of {'id': property id, 'settings': {...}}")
    for prop in props:
        if set(prop) - {"id", "settings"}:
            raise ReconciliationError(f"extend: property {prop['id']!r} has fields other than 'id' and 'settings'")
        if prop["id"] not in PROPERTY_IDS:
            raise ReconciliationError(f"extend: unknown property {prop['id']!r}; see /reconcile/properties?type=")
    return ExtendRequest(tuple(ids), tuple(p["id"] for p in props))


def extend(index: Index, request: ExtendRequest) -> dict[str, object]:
    """Answer a data extension query in the specification's shape (unknown ids get no values)."""
    meta: list[dict[str, object]] = []
    for pid in request.properties:
        prop = PROPERTY_IDS[pid]
        entry: dict[str, object] = {"id": prop.id, "name": prop.name}
        if pid == "wikidata":
            entry["service"] = WIKIDATA_RECONCILE
        meta.append(entry)
    rows: dict[str, dict[str, list[dict[str, object]]]] = {}
    for ident in request.ids:
        entity = index.entity(ident)
        rows[ident] = {
            pid: [v.as_json() for v in index.values(entity.id, pid)] if entity else [] for pid in request.properties
        }
    return {"meta": meta, "rows": rows}


def propose_properties(index: Index, type_id: str | None, limit: int | None) -> dict[str, object]:
    """Return the properties that entities of ``type_id`` (or any entity) have values for."""
    iri = expand_type(index, type_id) if type_id else None
    members = [e for e in index.entities.values() if iri is None or iri in e.type_closure]
    used = {prop for e in members for prop, values in index.facts.get(e.id, {}).items() if values}
    chosen = [p for p in PROPERTIES if p.id in used or p.id in _ALWAYS_PROPOSED]
    found: dict[str, object] = {
        "properties": [{"id": p.id, "name": p.name, "description": p.description} for p in chosen[:limit]]
    }
    if type_id:
        found["type"] = type_id
    if limit is not None:
        found["limit"] = limit
    return found


# --- manifest -----------------------------------------------------------------------------


def manifest(index: Index, server: str, name: str, version: str) -> dict[str, object]:
    """Return the service manifest; ``server`` is this server's base URL without a final slash."""

    def service(path: str) -> dict[str, str]:
        return {"service_url": server, "service_path": path}

    return {
        "versions": list(API_VERSIONS),
        "name": name,
        "identifierSpace": index.base,
        "schemaSpace": ONTOLOGY_NS,
        "documentation": f"{server}/docs#/reconciliation",
        "serviceVersion": version,
        "view": {"url": f"{server}/id/{{{{id}}}}"},
        "preview": {"url": f"{server}/reconcile/preview?id={{{{id}}}}", "width": 430, "height": 300},
        "suggest": {
            "entity": service("/reconcile/suggest/entity"),
            "type": service("/reconcile/suggest/type"),
            "property": service("/reconcile/suggest/property"),
        },
        "extend": {"propose_properties": service("/reconcile/properties"), "property_settings": []},
        "defaultTypes": [
            {"id": t, "name": index.types[t].name} | ({"broader": _broader(index, t)} if index.types[t].broader else {})
            for t in DEFAULT_TYPES
            if t in index.types
        ],
        "batchSize": MAX_BATCH,
    }


def _broader(index: Index, type_id: str) -> list[dict[str, str]]:
    return [{"id": b, "name": index.types[b].name} for b in index.types[type_id].broader if b in index.types]

"""Relations between organisations, factions, people, groups and places, as labelled edges.

Each edge comes from the node or triple that states it, and carries the claims behind it:

- a split event (``org:originalOrganization``/``org:resultingOrganization``);
- names and renamings (``mqm:NameUsage``, ``mqm:Renaming``);
- memberships (``org:Membership``: leadership when the role is ``org:Head``; alliance
  membership when the organisation is an ``org:OrganizationalCollaboration``) and posts;
- the rupture of an alliance (``mqm:AllianceRupture``: an edge between its members);
- allegations (accuser to accused) and denials (denier to the accuser answered);
- shortcut triples (``mqm:ShortcutProperty``: rivalry, affiliation, location, ...) unless an
  edge above already states the same link.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import pyoxigraph as ox

from mqmkg.config import INSTANCE_BASE
from mqmkg.linked import MQM, ClaimEntry, Quote, claim_index
from mqmkg.timevalues import When

ORG = "http://www.w3.org/ns/org#"
_PREFIXES = """
PREFIX mqm: <https://w3id.org/mqmkg/ontology#>
PREFIX org: <http://www.w3.org/ns/org#>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX sem: <http://semanticweb.cs.vu.nl/2009/11/sem/>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX time: <http://www.w3.org/2006/time#>
PREFIX foaf: <http://xmlns.com/foaf/0.1/>
"""
# The kinds of edge, in the order the filter lists them.
EDGE_KINDS = (
    ("split", "Split"),
    ("names", "Names and renaming"),
    ("leadership", "Leadership"),
    ("membership", "Membership"),
    ("office", "Offices"),
    ("alliance", "Alliance"),
    ("rupture", "Alliance rupture"),
    ("rivalry", "Rivalry"),
    ("affiliation", "Affiliation"),
    ("accusation", "Accusations"),
    ("denial", "Denials"),
    ("place", "Places"),
    ("other", "Other relations"),
)
_SHORTCUT_KINDS = {
    MQM + "splinterOf": "split",
    MQM + "mergedInto": "split",
    ORG + "headOf": "leadership",
    MQM + "alliedWith": "alliance",
    MQM + "rivalOf": "rivalry",
    MQM + "affiliatedWith": "affiliation",
    MQM + "factionOf": "affiliation",
    MQM + "subgroupOf": "affiliation",
    MQM + "locatedIn": "place",
    ORG + "hasPrimarySite": "place",
}
# Node categories by class (subclasses included), first match wins; the rest are "other".
CATEGORIES = (
    ("alliance", "Alliance"),
    ("organization", "Organisation"),
    ("person", "Person"),
    ("group", "Group"),
    ("place", "Place"),
    ("name", "Name"),
    ("post", "Post"),
    ("other", "Other"),
)
_NODES = (
    _PREFIXES
    + """
SELECT ?node ?category ?rank WHERE {
  VALUES (?root ?category ?rank) {
    (org:OrganizationalCollaboration "alliance" 1) (org:Organization "organization" 2) (foaf:Person "person" 3)
    (foaf:Group "group" 4) (mqm:Collective "group" 4) (mqm:UnnamedAgent "group" 4) (sem:Place "place" 5)
    (org:Site "place" 5) (mqm:NameUsage "name" 6) (org:Post "post" 7)
  }
  ?node a/rdfs:subClassOf* ?root .
}"""
)
_NAMES = (
    _PREFIXES
    + """
SELECT ?node ?name WHERE {
  ?node rdfs:label ?label .
  OPTIONAL { ?node mqm:name ?usage }
  OPTIONAL { ?node skos:prefLabel ?pref }
  BIND (COALESCE(?usage, ?pref, ?label) AS ?name)
}"""
)
_TIMES = (
    _PREFIXES
    + """
SELECT DISTINCT ?node ?interval ?unit ?earliest ?latest WHERE {
  { ?node mqm:attestedAt ?interval }
  UNION { ?node sem:hasEarliestBeginTimeStamp|sem:hasLatestEndTimeStamp ?own . BIND (?node AS ?interval) }
  ?interval sem:hasEarliestBeginTimeStamp|sem:hasLatestEndTimeStamp ?bound .
  OPTIONAL { ?interval time:unitType ?unit }
  OPTIONAL { ?interval sem:hasEarliestBeginTimeStamp ?earliest }
  OPTIONAL { ?interval sem:hasLatestEndTimeStamp ?latest }
}"""
)
_SUPPORT = (
    _PREFIXES
    + """
SELECT ?node ?claim WHERE { ?node mqm:supportedBy ?claim }"""
)
_MEMBERSHIPS = (
    _PREFIXES
    + """
SELECT ?via ?source ?target ?head ?alliance WHERE {
  ?via a org:Membership ; org:member ?source ; org:organization ?target .
  BIND (EXISTS { ?via org:role org:Head } AS ?head)
  BIND (EXISTS { ?target a org:OrganizationalCollaboration } AS ?alliance)
}"""
)
_POSTS = (
    _PREFIXES
    + """
SELECT ?via ?source ?target ?label WHERE {
  { ?via a org:Post ; org:heldBy ?source . BIND (?via AS ?target) BIND ("holds the post" AS ?label) }
  UNION { ?via a org:Post ; org:postIn ?target . BIND (?via AS ?source) BIND ("post in" AS ?label) }
}"""
)
_SPLITS = (
    _PREFIXES
    + """
SELECT ?via ?source ?target WHERE {
  ?via a mqm:Split ; org:originalOrganization ?target ; org:resultingOrganization ?source .
}"""
)
_NAMINGS = (
    _PREFIXES
    + """
SELECT ?via ?source ?target ?label WHERE {
  { ?via a mqm:NameUsage ; mqm:ofOrganization ?target . BIND (?via AS ?source) BIND ("name of" AS ?label) }
  UNION { ?via a mqm:Renaming ; mqm:nameBefore ?source ; mqm:nameAfter ?target . BIND ("renamed to" AS ?label) }
}"""
)
_RUPTURES = (
    _PREFIXES
    + """
SELECT ?via ?source ?target WHERE {
  ?via a mqm:AllianceRupture ; mqm:ofAlliance ?alliance .
  ?m1 org:organization ?alliance ; org:member ?source .
  ?m2 org:organization ?alliance ; org:member ?target .
  FILTER (STR(?source) < STR(?target))
}"""
)
_ALLEGATIONS = (
    _PREFIXES
    + """
SELECT ?via ?source ?target (GROUP_CONCAT(DISTINCT ?act; separator=", ") AS ?acts) WHERE {
  ?via a mqm:Allegation ; mqm:allegedBy ?source ; mqm:accused ?target .
  OPTIONAL { ?via mqm:allegedAct/(skos:prefLabel|rdfs:label) ?act }
} GROUP BY ?via ?source ?target"""
)
_DENIALS = (
    _PREFIXES
    + """
SELECT ?via ?source ?target (GROUP_CONCAT(DISTINCT ?act; separator=", ") AS ?acts) WHERE {
  ?via a mqm:Denial ; mqm:deniedBy ?source ; mqm:responds/mqm:allegedBy ?target .
  OPTIONAL { ?via mqm:deniedAct/(skos:prefLabel|rdfs:label) ?act }
} GROUP BY ?via ?source ?target"""
)
_SHORTCUTS = (
    _PREFIXES
    + """
SELECT ?source ?property ?target ?label ?claim WHERE {
  ?property a mqm:ShortcutProperty .
  ?source ?property ?target .
  FILTER (isIRI(?target) && STRSTARTS(STR(?target), "https://w3id.org/mqmkg/id/"))
  OPTIONAL { ?property rdfs:label ?label }
  OPTIONAL { ?claim rdf:subject ?source ; rdf:predicate ?property ; rdf:object ?target }
}"""
)


@dataclass(frozen=True)
class Node:
    """An organisation, person, group, place, name or post that some edge touches."""

    iri: str
    label: str
    category: str


@dataclass(frozen=True)
class Edge:
    """A labelled link from ``source`` to ``target``, its time, and the claims behind it."""

    source: str
    target: str
    kind: str
    label: str
    when: When
    claims: tuple[ClaimEntry, ...]
    via: str | None = None

    @property
    def id(self) -> str:
        return f"{self.kind}|{self.source}|{self.target}|{self.via or ''}"

    @property
    def quotes(self) -> tuple[Quote, ...]:
        found = {q for claim in self.claims for q in claim.quotes}
        return tuple(sorted(found, key=lambda q: q.start))


@dataclass(frozen=True)
class Relations:
    """The edges kept by the filter, the nodes they touch, and what the filter left out."""

    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    counts: tuple[tuple[str, str, int], ...]
    kinds: frozenset[str]
    period: tuple[int, int] | None
    undated: bool
    hidden_undated: int


def _when(rows: Iterable[ox.QuerySolution]) -> dict[str, When]:
    """Combine a node's bounds (its own, or those of each ``mqm:attestedAt`` interval) into one."""
    parts: dict[str, list[tuple[date | None, date | None, str | None]]] = {}
    for row in rows:
        earliest = date.fromisoformat(row["earliest"].value) if row["earliest"] is not None else None
        latest = date.fromisoformat(row["latest"].value) if row["latest"] is not None else None
        unit = row["unit"].value if row["unit"] is not None else None
        parts.setdefault(row["node"].value, []).append((earliest, latest, unit))
    found = {}
    for node, spans in parts.items():
        spans = sorted(set(spans), key=str)
        firsts = [s[0] for s in spans if s[0] is not None]
        lasts = [s[1] for s in spans if s[1] is not None]
        unit = spans[0][2] if len(spans) == 1 else None
        found[node] = When(min(firsts) if firsts else None, max(lasts) if lasts else None, unit)
    return found


def all_edges(store: ox.Store) -> tuple[list[Edge], dict[str, Node]]:
    """Return every relation edge of the graph and the nodes they touch."""
    claims = claim_index(store)
    times = _when(store.query(_TIMES))
    support: dict[str, list[str]] = {}
    for row in store.query(_SUPPORT):
        support.setdefault(row["node"].value, []).append(row["claim"].value)
    undated = When(None, None)

    def backing(node: str, extra: Iterable[str] = ()) -> tuple[ClaimEntry, ...]:
        found = {claims[c] for c in (*support.get(node, ()), *extra) if c in claims}
        return tuple(sorted(found, key=lambda c: (c.start, c.iri)))

    edges: list[Edge] = []

    def add(query: str, kind: str, label: str | None = None, own_claim: bool = False) -> None:
        for row in store.query(query):
            via = row["via"].value
            text = label or str(row["label"].value)
            edges.append(
                Edge(
                    row["source"].value,
                    row["target"].value,
                    kind,
                    text,
                    times.get(via, undated),
                    backing(via, [via] if own_claim else []),
                    via,
                )
            )

    add(_SPLITS, "split", "split from")
    add(_NAMINGS, "names")
    for row in store.query(_MEMBERSHIPS):
        via, head, alliance = row["via"].value, row["head"].value == "true", row["alliance"].value == "true"
        kind = "alliance" if alliance else "leadership" if head else "membership"
        label = "member of the alliance" if alliance else "head of" if head else "member of"
        edges.append(
            Edge(row["source"].value, row["target"].value, kind, label, times.get(via, undated), backing(via), via)
        )
    add(_POSTS, "office")
    add(_RUPTURES, "rupture", "alliance ruptured with")
    for query, kind, verb in ((_ALLEGATIONS, "accusation", "accuses"), (_DENIALS, "denial", "denies")):
        for row in store.query(query):
            via, acts = row["via"].value, str(row["acts"].value)
            label = f"{verb}: {acts}" if acts else verb
            edges.append(
                Edge(
                    row["source"].value,
                    row["target"].value,
                    kind,
                    label,
                    times.get(via, undated),
                    backing(via, [via]),
                    via,
                )
            )
    stated = {(e.source, e.target, e.kind) for e in edges} | {(e.target, e.source, e.kind) for e in edges}
    shortcuts: dict[tuple[str, str, str], tuple[str, set[str]]] = {}
    for row in store.query(_SHORTCUTS):
        prop = row["property"].value
        key = (row["source"].value, prop, row["target"].value)
        label = str(row["label"].value) if row["label"] is not None else prop.rsplit("#", 1)[-1]
        shortcuts.setdefault(key, (label, set()))[1].update([row["claim"].value] if row["claim"] is not None else [])
    for (source, prop, target), (label, backers) in sorted(shortcuts.items()):
        kind = _SHORTCUT_KINDS.get(prop, "other")
        if (source, target, kind) not in stated:
            edges.append(Edge(source, target, kind, label, undated, backing("", backers)))
    return edges, _nodes(store, {e.source for e in edges} | {e.target for e in edges})


def _nodes(store: ox.Store, iris: set[str]) -> dict[str, Node]:
    ranks: dict[str, tuple[int, str]] = {}
    for row in store.query(_NODES):
        node, rank = row["node"].value, int(row["rank"].value)
        if node in iris and (node not in ranks or rank < ranks[node][0]):
            ranks[node] = (rank, str(row["category"].value))
    names = {row["node"].value: str(row["name"].value) for row in store.query(_NAMES) if row["node"].value in iris}
    found = {}
    for iri in iris:
        category = ranks.get(iri, (0, "other"))[1]
        name = names.get(iri, iri.removeprefix(INSTANCE_BASE))
        found[iri] = Node(iri, f"“{name}”" if category == "name" else name, category)
    return found


def relations(
    store: ox.Store,
    kinds: Iterable[str] = (),
    period: tuple[int, int] | None = None,
    undated: bool = True,
) -> Relations:
    """Return the edges of the chosen kinds (all when none) whose time meets ``period`` (years).

    With a period, an undated edge is kept only if ``undated`` is true; the count of those
    left out is reported.
    """
    edges, nodes = all_edges(store)
    chosen = frozenset(kinds) or frozenset(k for k, _ in EDGE_KINDS)
    kept = [e for e in edges if e.kind in chosen]
    hidden = 0
    if period:
        start, end = date(period[0], 1, 1), date(period[1], 12, 31)
        dated = [e for e in kept if e.when.dated and e.when.overlaps(start, end)]
        loose = [e for e in kept if not e.when.dated]
        hidden = 0 if undated else len(loose)
        kept = dated + (loose if undated else [])
    kept.sort(key=lambda e: (e.kind, nodes[e.source].label.casefold(), nodes[e.target].label.casefold(), e.id))
    touched = {e.source for e in kept} | {e.target for e in kept}
    counts = tuple((key, title, sum(e.kind == key for e in edges)) for key, title in EDGE_KINDS)
    return Relations(
        nodes=tuple(sorted((nodes[i] for i in touched), key=lambda n: (n.category, n.label.casefold()))),
        edges=tuple(kept),
        counts=counts,
        kinds=chosen,
        period=period,
        undated=undated,
        hidden_undated=hidden,
    )

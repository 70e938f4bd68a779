"""The dataset the endpoint serves: a snapshot of the store that worker processes load.

The parent builds the store once (``mqmkg.store.build_store``) and keeps an N-Quads snapshot
and per-graph triple counts. Each worker loads the snapshot into its own in-memory store and
copies the union of all named graphs into the store's default graph, so that:

- queries without a dataset see the union of the named graphs as a set (pyoxigraph's
  ``use_default_graph_as_union`` keeps a triple twice if two graphs hold it, and it also
  overrides a query's ``FROM``);
- ``FROM`` / ``FROM NAMED`` and the protocol's ``default-graph-uri`` / ``named-graph-uri``
  select graphs of the store the usual way, nothing is ever fetched.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyoxigraph as ox

from mqmkg.config import Settings


@dataclass(frozen=True)
class GraphStats:
    """One named graph and its number of triples."""

    name: str
    triples: int


@dataclass(frozen=True)
class Snapshot:
    """The served dataset as N-Quads bytes, with the counts the service description reports."""

    nquads: bytes
    graphs: tuple[GraphStats, ...]
    default_graph_triples: int

    @property
    def graph_names(self) -> frozenset[str]:
        return frozenset(g.name for g in self.graphs)

    @property
    def quads(self) -> int:
        return sum(g.triples for g in self.graphs)


def snapshot_of(store: ox.Store) -> Snapshot:
    """Return the snapshot of a store: its quads and the triple count of every named graph."""
    counts: dict[str, int] = {}
    union: set[tuple[object, object, object]] = set()
    for quad in store:
        if isinstance(quad.graph_name, ox.NamedNode):
            counts[quad.graph_name.value] = counts.get(quad.graph_name.value, 0) + 1
        union.add((quad.subject, quad.predicate, quad.object))
    graphs = tuple(GraphStats(name, counts[name]) for name in sorted(counts))
    nquads = store.dump(format=ox.RdfFormat.N_QUADS)
    return Snapshot(nquads=nquads, graphs=graphs, default_graph_triples=len(union))


def build_snapshot(settings: Settings, quads: list[ox.Quad] | None = None) -> Snapshot:
    """Build the store from the project files (or ``quads``) and return its snapshot."""
    from mqmkg.store import build_store

    return snapshot_of(build_store(settings, quads=quads))


def load_store(nquads: bytes) -> ox.Store:
    """Return an in-memory store holding the snapshot, the union of its graphs as default graph."""
    store = ox.Store()
    store.load(nquads, format=ox.RdfFormat.N_QUADS)
    named = [q for q in store if not isinstance(q.graph_name, ox.DefaultGraph)]
    store.extend(ox.Quad(q.subject, q.predicate, q.object, ox.DefaultGraph()) for q in named)
    return store

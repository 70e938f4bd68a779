"""The dataset the endpoint serves: a snapshot of the store that worker processes load.

The parent opens the served store once (``mqmkg.store.open_store``: built in memory, or
reused from disk) and keeps an N-Quads snapshot, its content fingerprint and per-graph
triple counts. Each worker loads the snapshot into its own in-memory store, whose default
graph is the union of all named graphs, so that:

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
from mqmkg.store import GraphStats, OpenedStore, add_union, store_stats

__all__ = ["GraphStats", "Snapshot", "build_snapshot", "load_store", "snapshot_of", "snapshot_opened"]


@dataclass(frozen=True)
class Snapshot:
    """The served dataset as N-Quads bytes, with the counts the service description reports.

    ``fingerprint`` is the content hash of the files the dataset was built from (empty when
    unknown): answers cached under one fingerprint are never served under another.
    """

    nquads: bytes
    graphs: tuple[GraphStats, ...]
    default_graph_triples: int
    fingerprint: str = ""

    @property
    def graph_names(self) -> frozenset[str]:
        return frozenset(g.name for g in self.graphs)

    @property
    def quads(self) -> int:
        return sum(g.triples for g in self.graphs)


def snapshot_of(store: ox.Store, fingerprint: str = "") -> Snapshot:
    """Return the snapshot of a store: its quads and the triple count of every named graph.

    The default graph's count is that of the union of the named graphs, whether or not the
    store holds that union already.
    """
    graphs, default = store_stats(store)
    return Snapshot(store.dump(format=ox.RdfFormat.N_QUADS), graphs, default, fingerprint)


def snapshot_opened(opened: OpenedStore, dump: bool = True) -> Snapshot:
    """Return the snapshot of a served store (its statistics are already known); with
    ``dump=False`` its quads are left out (``nquads`` empty): the workers open the store itself."""
    nquads = opened.store.dump(format=ox.RdfFormat.N_QUADS) if dump else b""
    return Snapshot(nquads, opened.graphs, opened.default_graph_triples, opened.fingerprint)


def build_snapshot(settings: Settings, quads: list[ox.Quad] | None = None) -> Snapshot:
    """Build the store from the project files (or ``quads``) and return its snapshot."""
    from mqmkg.store import build_store, fingerprint

    return snapshot_of(build_store(settings, quads=quads), fingerprint(settings) if quads is None else "")


def load_store(nquads: bytes) -> ox.Store:
    """Return an in-memory store holding the snapshot, the union of its graphs as default graph."""
    store = ox.Store()
    store.load(nquads, format=ox.RdfFormat.N_QUADS)
    if not any(True for _ in store.quads_for_pattern(None, None, None, ox.DefaultGraph())):
        add_union(store)
    return store

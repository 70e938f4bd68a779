"""``mqmkg publish --to URL``: load the dataset into a SPARQL server through the Graph Store Protocol.

Every named graph of the dataset (one per file, ``https://w3id.org/mqmkg/graph/<stem>``) is
sent with ``PUT URL?graph=<name>``, and the union of all of them with ``PUT URL?default``:
the same layout as the embedded store, so that a ``mqmkg serve --backend`` in front of that
server gives the same answers. Before each ``PUT`` the graph on the server is read back
(``GET``) and compared with ours as RDF (blank nodes canonicalised, literals read the way
pyoxigraph stores them); a graph that is already there is left alone, so a second run
changes nothing.

https://www.w3.org/TR/sparql11-http-rdf-update/
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import httpx
import pyoxigraph as ox

from mqmkg.config import Settings
from mqmkg.errors import MqmkgError
from mqmkg.store import dataset_quads

N_TRIPLES = "application/n-triples"


class PublishError(MqmkgError):
    """The Graph Store answered a request with an error, or could not be reached."""


@dataclass(frozen=True)
class GraphUpload:
    """One graph to publish: its name (None: the default graph) and its triples."""

    name: str | None
    triples: tuple[ox.Triple, ...]

    @property
    def label(self) -> str:
        return f"<{self.name}>" if self.name else "the default graph (union)"

    def params(self) -> dict[str, str]:
        return {"graph": self.name} if self.name else {"default": ""}

    def body(self) -> bytes:
        return b"".join(sorted(f"{t} .\n".encode() for t in self.triples))


@dataclass(frozen=True)
class Outcome:
    """What publishing one graph did: ``created``, ``replaced`` or ``unchanged``."""

    graph: str
    triples: int
    action: str


def uploads(settings: Settings) -> list[GraphUpload]:
    """Return the named graphs of the dataset, sorted by name, then their union as the default graph."""
    by_graph: dict[str, set[ox.Triple]] = {}
    for quad in dataset_quads(settings):
        by_graph.setdefault(quad.graph_name.value, set()).add(ox.Triple(quad.subject, quad.predicate, quad.object))
    union = set().union(*by_graph.values())
    named = [GraphUpload(name, tuple(sorted(triples, key=str))) for name, triples in sorted(by_graph.items())]
    return [*named, GraphUpload(None, tuple(sorted(union, key=str)))]


def comparable(triples: Iterable[ox.Triple]) -> frozenset[str]:
    """Return a graph as a set of canonical N-Triples lines, literals as pyoxigraph stores them.

    A pyoxigraph store (an Oxigraph server too) gives ``xsd:nonNegativeInteger`` back as
    ``xsd:integer``; reading both sides through one store makes them compare equal.
    """
    store = ox.Store()
    store.extend(ox.Quad(t.subject, t.predicate, t.object) for t in triples)
    dataset = ox.Dataset(store)
    dataset.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    return frozenset(str(ox.Triple(q.subject, q.predicate, q.object)) for q in dataset)


def _check(response: httpx.Response, what: str) -> None:
    if response.status_code >= 400:
        text = response.text.strip().splitlines()[0][:500] if response.text.strip() else response.reason_phrase
        raise PublishError(f"{what}: the Graph Store answered {response.status_code}: {text}")


def current(client: httpx.Client, url: str, upload: GraphUpload) -> tuple[ox.Triple, ...] | None:
    """Return the triples the Graph Store holds in this graph, or None if it has no such graph."""
    response = client.get(url, params=upload.params(), headers={"Accept": N_TRIPLES})
    if response.status_code == 404:
        return None
    _check(response, f"GET {upload.label}")
    media_type = response.headers.get("content-type", N_TRIPLES).split(";")[0].strip()
    rdf_format = ox.RdfFormat.from_media_type(media_type) or ox.RdfFormat.N_TRIPLES
    return tuple(ox.Triple(q.subject, q.predicate, q.object) for q in ox.parse(response.content, format=rdf_format))


def publish_graph(client: httpx.Client, url: str, upload: GraphUpload) -> Outcome:
    """Put one graph on the Graph Store unless it already holds exactly these triples."""
    there = current(client, url, upload)
    if there is not None and comparable(there) == comparable(upload.triples):
        return Outcome(upload.label, len(upload.triples), "unchanged")
    response = client.put(url, params=upload.params(), content=upload.body(), headers={"Content-Type": N_TRIPLES})
    _check(response, f"PUT {upload.label}")
    return Outcome(upload.label, len(upload.triples), "replaced" if there else "created")


def publish(
    settings: Settings,
    url: str,
    *,
    timeout: float = 300.0,
    headers: dict[str, str] | None = None,
    progress: Callable[[str], None] = print,
) -> list[Outcome]:
    """Publish the dataset to the Graph Store at ``url``, reporting each graph through ``progress``.

    ``headers`` go with every request (e.g. ``Authorization`` for a store that needs it).
    """
    graphs = uploads(settings)
    progress(f"publishing {len(graphs) - 1} named graphs and their union to {url}")
    outcomes = []
    try:
        with httpx.Client(timeout=timeout, follow_redirects=False, headers=headers) as client:
            for index, upload in enumerate(graphs, start=1):
                outcome = publish_graph(client, url, upload)
                outcomes.append(outcome)
                progress(f"[{index}/{len(graphs)}] {outcome.graph}: {outcome.triples:,} triples, {outcome.action}")
    except httpx.HTTPError as exc:
        raise PublishError(f"cannot publish to {url}: {exc}") from exc
    changed = sum(1 for o in outcomes if o.action != "unchanged")
    progress(f"done: {changed} graph(s) written, {len(outcomes) - changed} already up to date")
    return outcomes

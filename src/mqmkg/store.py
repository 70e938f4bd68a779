"""Build the pyoxigraph store from ``ontology/``, ``graph/`` and the source text.

Each Turtle file becomes one named graph, ``https://w3id.org/mqmkg/graph/<stem>``;
queries see the union of all of them as their default graph. The source document's
full text is added as the ``rdf:value`` of the document node, in the ``source`` graph,
so that SPARQL and SHACL can check evidence quotes against it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

import pyoxigraph as ox

from mqmkg.config import DOC_IRI, GRAPH_BASE, Settings
from mqmkg.errors import EmptyGraph, GraphFileError
from mqmkg.source import read_source

RDF_VALUE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#value")
SOURCE_GRAPH = ox.NamedNode(GRAPH_BASE + "source")


def graph_files(settings: Settings) -> list[Path]:
    """Return the Turtle files that make up the dataset, ontology first, sorted."""
    files: list[Path] = []
    for directory in (settings.ontology_dir, settings.graph_dir):
        if not directory.is_dir():
            raise GraphFileError(directory, "directory not found")
        files.extend(sorted(directory.glob("*.ttl")))
    return files


def graph_name(path: Path) -> ox.NamedNode:
    """Return the named graph that holds the triples of one file."""
    return ox.NamedNode(GRAPH_BASE + path.stem)


def parse_file(path: Path) -> Iterator[ox.Triple]:
    """Parse one Turtle file; raise GraphFileError with file:line:column on bad input."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise GraphFileError(path, exc.strerror or str(exc)) from exc
    try:
        triples = list(ox.parse(data, format=ox.RdfFormat.TURTLE, base_iri=path.resolve().as_uri()))
    except SyntaxError as exc:
        raise GraphFileError(path, exc.msg, exc.lineno, exc.offset) from exc
    except ValueError as exc:  # e.g. invalid UTF-8
        raise GraphFileError(path, str(exc)) from exc
    return iter(triples)


def dataset_quads(settings: Settings, files: Iterable[Path] | None = None) -> list[ox.Quad]:
    """Return every quad of the dataset: the files' triples plus the source text."""
    chosen = graph_files(settings) if files is None else list(files)
    seen: dict[str, Path] = {}
    quads: list[ox.Quad] = []
    for path in chosen:
        if path.stem in seen:
            raise GraphFileError(path, f"graph name clashes with {seen[path.stem]}")
        seen[path.stem] = path
        name = graph_name(path)
        quads.extend(ox.Quad(t.subject, t.predicate, t.object, name) for t in parse_file(path))
    if not quads:
        raise EmptyGraph("no triples in " + ", ".join(str(p) for p in chosen) if chosen else "no files")
    text = read_source(settings.source_path)
    quads.append(ox.Quad(ox.NamedNode(DOC_IRI), RDF_VALUE, ox.Literal(text), SOURCE_GRAPH))
    return quads


def build_store(
    settings: Settings, files: Iterable[Path] | None = None, quads: list[ox.Quad] | None = None
) -> ox.Store:
    """Return a store holding the dataset (or ``quads``), in memory or at ``settings.store_path``."""
    quads = dataset_quads(settings, files) if quads is None else quads
    store = ox.Store(str(settings.store_path)) if settings.store_path else ox.Store()
    if settings.store_path:
        store.clear()
    store.extend(quads)
    return store

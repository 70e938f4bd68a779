"""Build the pyoxigraph store from ``ontology/``, ``graph/`` and the source text.

Each Turtle file becomes one named graph, ``https://w3id.org/mqmkg/graph/<stem>``; the
source document's full text is added as the ``rdf:value`` of the document node, in the
``source`` graph, so that SPARQL and SHACL can check evidence quotes against it.

The store the server answers from (``served_store``, ``open_store``) also holds the union
of all named graphs as its default graph, so that queries without a dataset see every
triple once. It is built in memory by default, or kept on disk (``Settings.store_path``,
``mqmkg serve --store DIR``) and reused across restarts for as long as the content
fingerprint of the files it was built from stays the same.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import traceback
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

import pyoxigraph as ox

from mqmkg.config import DOC_IRI, GRAPH_BASE, Settings
from mqmkg.errors import EmptyGraph, GraphFileError, StoreDirError
from mqmkg.source import read_source

RDF_VALUE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#value")
SOURCE_GRAPH = ox.NamedNode(GRAPH_BASE + "source")
# Bumped whenever what a store directory holds, or how it is laid out, changes: a store built
# by another layout is rebuilt.
STORE_LAYOUT = "mqmkg-store-1"
# Files at least this large go through pyoxigraph's bulk loader when the store is on disk.
BULK_BYTES = 4 * 1024 * 1024
_UNION = "INSERT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } }"
_GRAPH_COUNTS = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"
_DEFAULT_COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
_UNION_COUNT = "SELECT (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } } }"


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


def _syntax_error(path: Path, exc: SyntaxError) -> GraphFileError:
    return GraphFileError(path, exc.msg, exc.lineno, exc.offset)


def parse_file(path: Path) -> Iterator[ox.Triple]:
    """Parse one Turtle file; raise GraphFileError with file:line:column on bad input."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise GraphFileError(path, exc.strerror or str(exc)) from exc
    try:
        triples = list(ox.parse(data, format=ox.RdfFormat.TURTLE, base_iri=path.resolve().as_uri()))
    except SyntaxError as exc:
        raise _syntax_error(path, exc) from exc
    except ValueError as exc:  # e.g. invalid UTF-8
        raise GraphFileError(path, str(exc)) from exc
    return iter(triples)


def _unique(files: Iterable[Path]) -> list[Path]:
    """Return the files, refusing two whose names would give the same named graph."""
    seen: dict[str, Path] = {}
    for path in files:
        if path.stem in seen:
            raise GraphFileError(path, f"graph name clashes with {seen[path.stem]}")
        seen[path.stem] = path
    return list(seen.values())


def _source_quad(settings: Settings) -> ox.Quad:
    return ox.Quad(ox.NamedNode(DOC_IRI), RDF_VALUE, ox.Literal(read_source(settings.source_path)), SOURCE_GRAPH)


def dataset_quads(settings: Settings, files: Iterable[Path] | None = None) -> list[ox.Quad]:
    """Return every quad of the dataset: the files' triples plus the source text."""
    chosen = _unique(graph_files(settings) if files is None else files)
    quads: list[ox.Quad] = []
    for path in chosen:
        name = graph_name(path)
        quads.extend(ox.Quad(t.subject, t.predicate, t.object, name) for t in parse_file(path))
    if not quads:
        raise EmptyGraph("no triples in " + ", ".join(str(p) for p in chosen) if chosen else "no files")
    quads.append(_source_quad(settings))
    return quads


def load_files(store: ox.Store, settings: Settings, files: Iterable[Path], *, on_disk: bool = False) -> None:
    """Load each file into its named graph, plus the source text, inside pyoxigraph (no Python object per triple).

    ``on_disk``: each file also goes into the default graph as it is loaded, which makes the
    union there (``add_union``'s SPARQL update is slow on RocksDB), and large files go
    through the bulk loader.
    """
    chosen = _unique(files)
    for path in chosen:
        bulk = on_disk and _size(path) >= BULK_BYTES
        for target in (graph_name(path), ox.DefaultGraph()) if on_disk else (graph_name(path),):
            _load(store, path, target, bulk)
    if not any(True for _ in store.quads_for_pattern(None, None, None, None)):
        raise EmptyGraph("no triples in " + ", ".join(str(p) for p in chosen) if chosen else "no files")
    source = _source_quad(settings)
    store.add(source)
    if on_disk:
        store.add(ox.Quad(source.subject, source.predicate, source.object, ox.DefaultGraph()))


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError as exc:
        raise GraphFileError(path, exc.strerror or str(exc)) from exc


def _load(store: ox.Store, path: Path, graph: ox.NamedNode | ox.DefaultGraph, bulk: bool) -> None:
    loader = store.bulk_load if bulk else store.load
    try:
        loader(path=str(path), format=ox.RdfFormat.TURTLE, base_iri=path.resolve().as_uri(), to_graph=graph)
    except SyntaxError as exc:
        raise _syntax_error(path, exc) from exc
    except OSError as exc:
        raise GraphFileError(path, exc.strerror or str(exc)) from exc
    except ValueError as exc:
        raise GraphFileError(path, str(exc)) from exc


def add_union(store: ox.Store) -> None:
    """Copy every named graph's triples into the default graph (a set: shared triples once)."""
    store.update(_UNION)


def build_store(
    settings: Settings, files: Iterable[Path] | None = None, quads: list[ox.Quad] | None = None
) -> ox.Store:
    """Return an in-memory store holding the dataset (or ``quads``) in named graphs; the default graph is empty."""
    store = ox.Store()
    if quads is not None:
        store.extend(quads)
    else:
        load_files(store, settings, graph_files(settings) if files is None else files)
    return store


def served_store(settings: Settings) -> ox.Store:
    """Return the in-memory store the server answers from: the named graphs plus their union."""
    store = build_store(settings)
    add_union(store)
    return store


# -- content fingerprint ------------------------------------------------------------------


@dataclass(frozen=True)
class FileDigest:
    """One input file: its path relative to the root, size, modification time and SHA-256."""

    path: str
    size: int
    mtime_ns: int
    sha256: str


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def file_digests(settings: Settings, known: Mapping[str, FileDigest] | None = None) -> tuple[FileDigest, ...]:
    """Return the digest of every input file (graph files and the source text).

    A file whose size and modification time match ``known`` keeps its recorded SHA-256
    (as git's index and make do); any other file is read and hashed.
    """
    known = known or {}
    digests = []
    for path in [*graph_files(settings), settings.source_path]:
        relative = str(path.relative_to(settings.root)) if path.is_relative_to(settings.root) else str(path)
        try:
            stat = path.stat()
        except OSError as exc:
            raise GraphFileError(path, exc.strerror or str(exc)) from exc
        recorded = known.get(relative)
        if recorded and (recorded.size, recorded.mtime_ns) == (stat.st_size, stat.st_mtime_ns):
            digests.append(recorded)
        else:
            digests.append(FileDigest(relative, stat.st_size, stat.st_mtime_ns, _sha256(path)))
    return tuple(digests)


def fingerprint_of(digests: Iterable[FileDigest]) -> str:
    """Return the content fingerprint of the input files: names and bytes, never times."""
    digest = hashlib.sha256(STORE_LAYOUT.encode())
    for item in digests:
        digest.update(f"\n{item.path}\t{item.sha256}".encode())
    return digest.hexdigest()


def fingerprint(settings: Settings) -> str:
    """Return the content fingerprint of the dataset at ``settings.root``."""
    return fingerprint_of(file_digests(settings))


# -- statistics ------------------------------------------------------------------------------


@dataclass(frozen=True)
class GraphStats:
    """One named graph and its number of triples."""

    name: str
    triples: int


def store_stats(store: ox.Store) -> tuple[tuple[GraphStats, ...], int]:
    """Return the triple count of every named graph, by name, and of their union.

    The union is the store's default graph when it holds one, else it is counted across the
    named graphs.
    """
    graphs = sorted(
        (GraphStats(row["g"].value, int(row["n"].value)) for row in store.query(_GRAPH_COUNTS)),
        key=lambda g: g.name,
    )
    has_union = any(True for _ in store.quads_for_pattern(None, None, None, ox.DefaultGraph()))
    union = next(iter(store.query(_DEFAULT_COUNT if has_union else _UNION_COUNT)))["n"]
    return tuple(graphs), int(union.value) if union is not None else 0


# -- a store kept on disk ---------------------------------------------------------------------


@dataclass(frozen=True)
class Manifest:
    """What a store directory was built from, and the statistics the server reports about it."""

    layout: str
    fingerprint: str
    files: tuple[FileDigest, ...]
    graphs: tuple[GraphStats, ...]
    default_graph_triples: int

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        data = json.loads(text)
        return cls(
            layout=str(data["layout"]),
            fingerprint=str(data["fingerprint"]),
            files=tuple(FileDigest(**item) for item in data["files"]),
            graphs=tuple(GraphStats(**item) for item in data["graphs"]),
            default_graph_triples=int(data["default_graph_triples"]),
        )


@dataclass(frozen=True)
class OpenedStore:
    """A store ready to serve: opened (or built), with its fingerprint and statistics.

    ``path`` is the on-disk store the query workers may open read-only, or None in memory;
    ``built`` tells whether this start had to build it.
    """

    store: ox.Store
    fingerprint: str
    graphs: tuple[GraphStats, ...]
    default_graph_triples: int
    path: Path | None
    built: bool


def _read_manifest(path: Path) -> Manifest | None:
    try:
        return Manifest.from_json(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError, TypeError):
        return None


@contextlib.contextmanager
def _locked(directory: Path) -> Iterator[None]:
    """Hold an exclusive lock on a store directory (another server building it waits)."""
    with (directory / ".lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def open_store(settings: Settings) -> OpenedStore:
    """Return the served store: built in memory, or opened from ``settings.store_path``.

    A store directory holds ``oxigraph/`` (a RocksDB store with the named graphs and their
    union) and ``manifest.json`` (the fingerprint of the files it was built from, and its
    statistics). It is rebuilt, next to the old one and then swapped in, only when the
    fingerprint of the files differs; otherwise it is opened read-only at once.
    """
    if settings.store_path is None:
        store = served_store(settings)
        graphs, default = store_stats(store)
        return OpenedStore(store, fingerprint(settings), graphs, default, None, True)
    directory = settings.store_path
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreDirError(f"cannot use {directory} as a store directory: {exc.strerror or exc}") from exc
    with _locked(directory):
        manifest_path = directory / "manifest.json"
        manifest = _read_manifest(manifest_path)
        known = {f.path: f for f in manifest.files} if manifest and manifest.layout == STORE_LAYOUT else {}
        digests = file_digests(settings, known)
        current = fingerprint_of(digests)
        location = directory / "oxigraph"
        built = manifest is None or manifest.fingerprint != current or not location.is_dir()
        if built:
            graphs, default = _build_on_disk(settings, directory)
        else:
            assert manifest is not None
            graphs, default = manifest.graphs, manifest.default_graph_triples
        fresh = Manifest(STORE_LAYOUT, current, digests, graphs, default)
        if fresh != manifest:
            _write_atomically(manifest_path, fresh.to_json())
        try:
            store = ox.Store.read_only(str(location))
        except OSError as exc:
            raise StoreDirError(f"cannot open the store in {location}: {exc}") from exc
    return OpenedStore(store, current, graphs, default, location, built)


def _build_on_disk(settings: Settings, directory: Path) -> tuple[tuple[GraphStats, ...], int]:
    """Build a store in ``directory/oxigraph.new``, then swap it in for ``directory/oxigraph``."""
    fresh, location, old = directory / "oxigraph.new", directory / "oxigraph", directory / "oxigraph.old"
    for leftover in (fresh, old):
        shutil.rmtree(leftover, ignore_errors=True)
    (directory / "manifest.json").unlink(missing_ok=True)  # a crash from here on means "rebuild"
    try:
        stats = _fill(fresh, settings)
    except BaseException as exc:
        # The frames of the traceback hold the store open; clear them so it is closed first.
        traceback.clear_frames(exc.__traceback__)
        shutil.rmtree(fresh, ignore_errors=True)
        raise
    if location.exists():
        location.rename(old)
    fresh.rename(location)
    shutil.rmtree(old, ignore_errors=True)
    return stats


def _fill(location: Path, settings: Settings) -> tuple[tuple[GraphStats, ...], int]:
    """Load the dataset into a new on-disk store at ``location``; return its statistics, the store closed."""
    store = ox.Store(str(location))
    load_files(store, settings, graph_files(settings), on_disk=True)
    store.flush()
    return store_stats(store)


def _write_atomically(path: Path, text: str) -> None:
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)

"""The store: one named graph per file, the source text on the document, clear errors."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest

from conftest import EXPLOSIVE, QUERY_PREFIXES, LiveServer, select, wait_until
from mqmkg.config import DOC_IRI, GRAPH_BASE, Settings
from mqmkg.errors import EmptyGraph, GraphFileError, StoreDirError
from mqmkg.store import (
    FileDigest,
    build_store,
    dataset_quads,
    file_digests,
    fingerprint,
    graph_files,
    open_store,
    parse_file,
)

ROOT = Path(__file__).resolve().parents[1]
SETTINGS = Settings(root=ROOT)
KG = "https://w3id.org/mqmkg/id/"


def test_named_graph_per_file_and_union_default() -> None:
    settings = Settings(root=ROOT)
    store = build_store(settings)
    graphs = {g.value for g in store.named_graphs()}
    expected = {GRAPH_BASE + p.stem for p in graph_files(settings)} | {GRAPH_BASE + "source"}
    assert graphs == expected
    ask = "ASK { <https://w3id.org/mqmkg/id/mqm-h> <https://w3id.org/mqmkg/ontology#splinterOf> ?o }"
    assert store.query(ask, use_default_graph_as_union=True)
    assert not store.query(ask)  # the store's own default graph is empty
    text = store.query(
        f"SELECT ?t WHERE {{ <{DOC_IRI}> <http://www.w3.org/1999/02/22-rdf-syntax-ns#value> ?t }}",
        use_default_graph_as_union=True,
    )
    assert len(next(iter(text))["t"].value) == 9783


def _copy_root(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    shutil.copytree(ROOT / "ontology", root / "ontology")
    (root / "graph" / "source").mkdir(parents=True)
    shutil.copy(ROOT / "graph" / "source" / "globalsecurity-mqm.txt", root / "graph" / "source")
    shutil.copy(ROOT / "graph" / "agents.ttl", root / "graph")
    return root


def test_broken_turtle_reports_file_line_column(tmp_path: Path) -> None:
    root = _copy_root(tmp_path)
    broken = root / "graph" / "broken.ttl"
    broken.write_text("@prefix kg: <https://w3id.org/mqmkg/id/> .\nkg:a kg:b kg:c .\nkg:a kg:b .\n", "utf-8")
    with pytest.raises(GraphFileError) as info:
        build_store(Settings(root=root))
    assert info.value.path == broken and info.value.line == 3
    assert str(info.value).startswith(f"{broken}:3:")


def test_missing_and_empty_inputs_are_clear(tmp_path: Path) -> None:
    with pytest.raises(GraphFileError, match="directory not found"):
        build_store(Settings(root=tmp_path))
    with pytest.raises(GraphFileError, match="No such file"):
        list(parse_file(tmp_path / "absent.ttl"))
    root = tmp_path / "empty"
    (root / "ontology").mkdir(parents=True)
    (root / "graph").mkdir()
    (root / "graph" / "blank.ttl").write_text("# nothing\n", "utf-8")
    with pytest.raises(EmptyGraph):
        build_store(Settings(root=root))


def test_non_utf8_file_is_a_graph_file_error(tmp_path: Path) -> None:
    bad = tmp_path / "latin1.ttl"
    bad.write_bytes(b'<http://a> <http://b> "caf\xe9" .\n')
    with pytest.raises(GraphFileError):
        list(parse_file(bad))


def test_each_named_graph_holds_exactly_its_file() -> None:
    """Triple counts agree per file (blank nodes get new ids), plus the text on the source graph."""
    settings = Settings(root=ROOT)
    store = build_store(settings)
    for path in graph_files(settings):
        name = ox.NamedNode(GRAPH_BASE + path.stem)
        extra = 1 if path.stem == "source" else 0
        assert len(list(store.quads_for_pattern(None, None, None, name))) == len(list(parse_file(path))) + extra


# -- the served store: in memory, or kept on disk and reused ------------------------------

SPLINTER = "ASK { <https://w3id.org/mqmkg/id/mqm-h> <https://w3id.org/mqmkg/ontology#splinterOf> ?o }"
LABEL = "SELECT ?l { <https://w3id.org/mqmkg/id/karachi> <http://www.w3.org/2000/01/rdf-schema#label> ?l }"


def _full_root(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    shutil.copytree(ROOT / "ontology", root / "ontology")
    shutil.copytree(ROOT / "graph", root / "graph")
    return root


def test_served_store_holds_the_union_as_its_default_graph() -> None:
    opened = open_store(Settings(root=ROOT))
    assert opened.path is None and opened.built
    assert opened.store.query(SPLINTER)  # the default graph is the union, no option needed
    assert opened.default_graph_triples == len({(q.subject, q.predicate, q.object) for q in dataset_quads(SETTINGS)})
    assert {g.name for g in opened.graphs} == {q.graph_name.value for q in dataset_quads(SETTINGS)}
    assert opened.fingerprint == fingerprint(SETTINGS)


def test_store_directory_is_reused_until_the_content_changes(tmp_path: Path) -> None:
    root = _full_root(tmp_path)
    settings = Settings(root=root, store_path=tmp_path / "store")
    first = open_store(settings)
    assert first.built and first.path == tmp_path / "store" / "oxigraph"
    assert first.store.query(SPLINTER)
    marker = (first.path / "CURRENT").stat().st_ino
    del first

    second = open_store(settings)  # same files: opened, not rebuilt
    assert not second.built and (second.path / "CURRENT").stat().st_ino == marker
    assert [r["l"].value for r in second.store.query(LABEL)] == ["Karachi"]
    del second

    places = root / "graph" / "places.ttl"
    places.write_bytes(places.read_bytes())  # touched, same bytes: still not rebuilt
    touched = open_store(settings)
    assert not touched.built
    del touched

    places.write_text(places.read_text("utf-8").replace('"Karachi"@en', '"Karachi (city)"@en'), "utf-8")
    changed = open_store(settings)
    assert changed.built and changed.fingerprint != fingerprint(Settings(root=ROOT))
    assert [r["l"].value for r in changed.store.query(LABEL)] == ["Karachi (city)"]
    assert not (tmp_path / "store" / "oxigraph.new").exists() and not (tmp_path / "store" / "oxigraph.old").exists()


def test_store_directory_statistics_match_the_memory_store(tmp_path: Path) -> None:
    on_disk = open_store(Settings(root=ROOT, store_path=tmp_path / "store"))
    in_memory = open_store(Settings(root=ROOT))
    assert (on_disk.graphs, on_disk.default_graph_triples) == (in_memory.graphs, in_memory.default_graph_triples)
    assert on_disk.fingerprint == in_memory.fingerprint
    disk_quads = {str(q) for q in on_disk.store.quads_for_pattern(None, None, None, ox.DefaultGraph())}
    memory_quads = {str(q) for q in in_memory.store.quads_for_pattern(None, None, None, ox.DefaultGraph())}
    blank = "_:"
    assert {q for q in disk_quads if blank not in q} == {q for q in memory_quads if blank not in q}
    reopened = open_store(Settings(root=ROOT, store_path=tmp_path / "store"))
    assert not reopened.built and (reopened.graphs, reopened.default_graph_triples) == (
        on_disk.graphs,
        on_disk.default_graph_triples,
    )


def test_a_broken_graph_leaves_the_old_store_in_place(tmp_path: Path) -> None:
    root = _full_root(tmp_path)
    settings = Settings(root=root, store_path=tmp_path / "store")
    open_store(settings)
    (root / "graph" / "broken.ttl").write_text("@prefix kg: <https://w3id.org/mqmkg/id/> .\nkg:a kg:b .\n", "utf-8")
    with pytest.raises(GraphFileError) as info:
        open_store(settings)
    assert info.value.line == 2
    assert (tmp_path / "store" / "oxigraph" / "CURRENT").exists()
    assert not (tmp_path / "store" / "oxigraph.new").exists()
    (root / "graph" / "broken.ttl").unlink()
    assert open_store(settings).built  # the failed attempt left no manifest: rebuilt, then reused
    assert not open_store(settings).built


def test_a_store_directory_that_cannot_be_made_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory", "utf-8")
    with pytest.raises(StoreDirError, match="cannot use"):
        open_store(Settings(root=ROOT, store_path=blocker / "store"))


def test_file_digests_reuse_recorded_hashes_only_for_unchanged_stats(tmp_path: Path) -> None:
    root = _full_root(tmp_path)
    settings = Settings(root=root)
    digests = {d.path: d for d in file_digests(settings)}
    forged = {path: FileDigest(d.path, d.size, d.mtime_ns, "0" * 64) for path, d in digests.items()}
    assert all(d.sha256 == "0" * 64 for d in file_digests(settings, forged))  # stats match: recorded hash kept
    places = root / "graph" / "places.ttl"
    places.write_bytes(places.read_bytes() + b"\n")
    again = {d.path: d for d in file_digests(settings, forged)}
    assert again["graph/places.ttl"].sha256 == hashlib.sha256(places.read_bytes()).hexdigest()


def test_a_server_with_a_store_directory_answers_from_it_and_reuses_it(
    live_server_factory: Callable[..., LiveServer], tmp_path: Path
) -> None:
    """``serve --store``: the forked workers open the on-disk store read-only, a worker killed
    at its deadline is replaced by one that opens it again, and a restart reuses the store."""
    store_dir = tmp_path / "store"
    settings = {"root": ROOT, "store_path": store_dir, "workers": "1", "query_timeout": "1.0"}
    first = live_server_factory(**settings)
    assert "store built" in first.log() and "5,7" in first.log()
    splinter = QUERY_PREFIXES + "SELECT ?a ?b { ?a mqm:splinterOf ?b } ORDER BY ?a"
    expected = [{"a": KG + "breakaway-mqm-factions", "b": KG + "mqm"}, {"a": KG + "mqm-h", "b": KG + "mqm"}]
    assert select(first, splinter) == expected
    before = first.worker_pids()
    slow = httpx.get(first.sparql, params={"query": EXPLOSIVE}, timeout=30)
    assert slow.status_code == 503 and slow.json()["error"] == "QueryTimeout"
    assert wait_until(lambda: first.worker_pids() and first.worker_pids() != before)
    assert select(first, splinter) == expected  # the replacement opened the store again
    first.stop()
    again = live_server_factory(**settings)
    assert "store reused" in again.log()
    assert select(again, splinter) == expected

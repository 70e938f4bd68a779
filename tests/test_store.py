"""The store: one named graph per file, the source text on the document, clear errors."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyoxigraph as ox
import pytest

from mqmkg.config import DOC_IRI, GRAPH_BASE, Settings
from mqmkg.errors import EmptyGraph, GraphFileError
from mqmkg.store import build_store, graph_files, parse_file

ROOT = Path(__file__).resolve().parents[1]


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

"""Exports: byte-identical on every run, and each loads back isomorphic to the dataset."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pyoxigraph as ox
import pytest
from pyld import jsonld as pyld
from rdflib import RDF, Graph, Literal, URIRef
from rdflib.compare import isomorphic
from typer.testing import CliRunner

from mqmkg.cli import app
from mqmkg.config import DOC_IRI, Settings
from mqmkg.export import build_dumps
from mqmkg.store import dataset_quads

ROOT = Path(__file__).resolve().parents[1]
SETTINGS = Settings(root=ROOT)


@pytest.fixture(scope="module")
def dumps() -> dict[str, bytes]:
    return {d.name: d.data for d in build_dumps(SETTINGS)}


@pytest.fixture(scope="module")
def reference() -> Graph:
    """The union graph, built straight from the files (not through the exporter)."""
    graph = Graph()
    for path in sorted(SETTINGS.ontology_dir.glob("*.ttl")) + sorted(SETTINGS.graph_dir.glob("*.ttl")):
        graph.parse(path)
    text = SETTINGS.source_path.read_text(encoding="ascii")
    graph.add((URIRef(DOC_IRI), RDF.value, Literal(text)))
    return graph


def test_export_twice_gives_identical_bytes(tmp_path: Path) -> None:
    runner = CliRunner()
    first, second = tmp_path / "a", tmp_path / "b"
    for out in (first, second):
        result = runner.invoke(app, ["export", "--root", str(ROOT), "--out", str(out)])
        assert result.exit_code == 0, result.output
    names = sorted(p.name for p in first.iterdir())
    assert names == sorted(
        ["mqmkg.ttl", "mqmkg.nt", "mqmkg.nq", "mqmkg.jsonld", "context.jsonld", "void.ttl", "SHA256SUMS"]
    )
    for name in names:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


def test_checksums_match_files(dumps: dict[str, bytes]) -> None:
    lines = dumps["SHA256SUMS"].decode().splitlines()
    assert len(lines) == 6
    for line in lines:
        digest, name = line.split("  ")
        assert hashlib.sha256(dumps[name]).hexdigest() == digest


@pytest.mark.parametrize(("name", "fmt"), [("mqmkg.ttl", "turtle"), ("mqmkg.nt", "nt"), ("mqmkg.jsonld", "json-ld")])
def test_dump_is_isomorphic_in_rdflib(dumps: dict[str, bytes], reference: Graph, name: str, fmt: str) -> None:
    graph = Graph().parse(data=dumps[name], format=fmt)
    assert len(graph) == len(reference)
    assert isomorphic(graph, reference)


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("mqmkg.ttl", ox.RdfFormat.TURTLE),
        ("mqmkg.nt", ox.RdfFormat.N_TRIPLES),
        ("mqmkg.jsonld", ox.RdfFormat.JSON_LD),
    ],
)
def test_dump_is_isomorphic_in_pyoxigraph(dumps: dict[str, bytes], name: str, fmt: ox.RdfFormat) -> None:
    loaded = ox.Dataset(ox.Quad(t.subject, t.predicate, t.object) for t in ox.parse(dumps[name], format=fmt))
    expected = ox.Dataset(ox.Quad(q.subject, q.predicate, q.object) for q in dataset_quads(SETTINGS))
    loaded.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    expected.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    assert loaded == expected


def test_nquads_keep_the_named_graphs(dumps: dict[str, bytes]) -> None:
    quads = list(ox.parse(dumps["mqmkg.nq"], format=ox.RdfFormat.N_QUADS))
    graphs = {q.graph_name.value for q in quads}
    assert "https://w3id.org/mqmkg/graph/factions" in graphs
    assert len(quads) == len(dataset_quads(SETTINGS))


def test_jsonld_expands_with_pyld_using_the_published_context(dumps: dict[str, bytes]) -> None:
    document = json.loads(dumps["mqmkg.jsonld"])
    assert document["@context"] == json.loads(dumps["context.jsonld"])["@context"]
    expanded = pyld.expand(document)
    ids = {node["@id"] for node in expanded}
    assert "https://w3id.org/mqmkg/id/mqm-h" in ids


def test_void_describes_dumps_endpoint_and_counts(dumps: dict[str, bytes]) -> None:
    void = Graph().parse(data=dumps["void.ttl"], format="turtle")
    q = """
        PREFIX void: <http://rdfs.org/ns/void#>
        PREFIX dcat: <http://www.w3.org/ns/dcat#>
        PREFIX spdx: <http://spdx.org/rdf/terms#>
        SELECT ?endpoint ?triples (COUNT(DISTINCT ?dump) AS ?dumps) WHERE {
          ?d a void:Dataset , dcat:Dataset ; void:sparqlEndpoint ?endpoint ; void:triples ?triples ;
             void:uriSpace "https://w3id.org/mqmkg/id/" ; void:dataDump ?dump .
          ?dump dcat:mediaType ?type ; spdx:checksum/spdx:checksumValue ?sum .
        } GROUP BY ?endpoint ?triples"""
    [row] = list(void.query(q))
    assert str(row.endpoint) == "https://w3id.org/mqmkg/sparql"
    assert int(row.triples) == len(Graph().parse(data=dumps["mqmkg.nt"], format="nt"))
    assert int(row.dumps) == 5

"""Exports: byte-identical on every run, and each loads back isomorphic to the dataset."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pyoxigraph as ox
import pytest
from pyld import jsonld as pyld
from rdflib import DCTERMS, OWL, PROV, RDF, SKOS, Graph, Literal, Namespace, URIRef
from rdflib.compare import isomorphic
from typer.testing import CliRunner

import mqmkg
from mqmkg.cli import app
from mqmkg.config import DOC_IRI, Settings
from mqmkg.export import build_dumps
from mqmkg.release import release_of
from mqmkg.store import dataset_quads

ROOT = Path(__file__).resolve().parents[1]
SETTINGS = Settings(root=ROOT)
KG = "https://w3id.org/mqmkg/id/"
MQM = Namespace("https://w3id.org/mqmkg/ontology#")
DCAT = Namespace("http://www.w3.org/ns/dcat#")  # rdflib's closed DCAT namespace predates DCAT 3's dcat:version
XSD_DATETIME = URIRef("http://www.w3.org/2001/XMLSchema#dateTime")
FILES = [
    "mqmkg.ttl",
    "mqmkg.nt",
    "mqmkg.nq",
    "mqmkg.jsonld",
    "context.jsonld",
    "mqmkg-wikidata-links.ttl",
    "globalsecurity-mqm.txt",
    "void.ttl",
    "README",
    "SHA256SUMS",
]


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
    assert names == sorted(FILES)
    for name in names:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


def test_checksums_match_files(dumps: dict[str, bytes]) -> None:
    lines = dumps["SHA256SUMS"].decode().splitlines()
    assert [line.split("  ")[1] for line in lines] == [name for name in FILES if name != "SHA256SUMS"]
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
    assert int(row.dumps) == 4  # the four complete RDF dumps; the links file is the linksets' dump


@pytest.fixture(scope="module")
def dist(dumps: dict[str, bytes], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The export written to a directory, as `make export` leaves dist/."""
    directory = tmp_path_factory.mktemp("dist")
    for name, data in dumps.items():
        (directory / name).write_bytes(data)
    return directory


def _void(dumps: dict[str, bytes]) -> Graph:
    return Graph().parse(data=dumps["void.ttl"], format="turtle")


def test_sha256sum_checks_every_file(dist: Path) -> None:
    done = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=dist, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines() == [f"{name}: OK" for name in FILES if name != "SHA256SUMS"]
    (dist / "mqmkg.ttl").write_bytes((dist / "mqmkg.ttl").read_bytes() + b"\n")
    try:
        broken = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=dist, capture_output=True, text=True)
        assert broken.returncode == 1 and "mqmkg.ttl: FAILED" in broken.stdout
    finally:
        (dist / "mqmkg.ttl").write_bytes((dist / "mqmkg.ttl").read_bytes()[:-1])


def test_source_text_ships_byte_for_byte_with_its_rights(dumps: dict[str, bytes]) -> None:
    text = dumps["globalsecurity-mqm.txt"]
    assert text == SETTINGS.source_path.read_bytes()
    graph = Graph().parse(SETTINGS.graph_dir / "source.ttl")
    assert hashlib.sha256(text).hexdigest() == str(graph.value(URIRef(DOC_IRI), MQM.sha256))
    void = _void(dumps)
    txt = URIRef("https://w3id.org/mqmkg/export/globalsecurity-mqm.txt")
    assert (txt, DCTERMS.rightsHolder, URIRef(KG + "globalsecurity-org")) in void
    assert "GlobalSecurity.org's own terms apply" in str(void.value(txt, DCTERMS.rights))
    assert void.value(txt, DCTERMS.license) is None  # we do not license it
    assert (txt, PROV.alternateOf, URIRef(DOC_IRI)) in void


def test_void_gives_version_date_and_licences(dumps: dict[str, bytes]) -> None:
    void = _void(dumps)
    dataset = URIRef("https://w3id.org/mqmkg/dataset")
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]["version"]
    assert str(void.value(dataset, DCAT.version)) == pyproject == mqmkg.__version__
    modified = release_of(ROOT).modified  # the latest commit of graph/ or ontology/ (test_release.py)
    if modified is None:  # not a git checkout, no SOURCE_DATE_EPOCH
        assert void.value(dataset, DCTERMS.modified) is None
    else:
        assert void.value(dataset, DCTERMS.modified) == Literal(
            modified.strftime("%Y-%m-%dT%H:%M:%SZ"), datatype=XSD_DATETIME
        )
    assert void.value(dataset, DCTERMS.license) == URIRef("https://creativecommons.org/licenses/by/4.0/")
    assert "GlobalSecurity.org's text" in str(void.value(dataset, DCTERMS.rights))
    ontology = URIRef("https://w3id.org/mqmkg/graph/mqmkg")
    assert void.value(ontology, DCTERMS.license) == URIRef("https://opensource.org/licenses/MIT")
    for dump in ("mqmkg.ttl", "mqmkg.nq", "mqmkg-wikidata-links.ttl"):
        url = URIRef("https://w3id.org/mqmkg/export/" + dump)
        assert void.value(url, DCTERMS.license) == URIRef("https://creativecommons.org/licenses/by/4.0/")


def test_wikidata_links_ship_as_their_own_file_and_linksets(dumps: dict[str, bytes]) -> None:
    links = Graph().parse(data=dumps["mqmkg-wikidata-links.ttl"], format="turtle")
    expected = Graph().parse(SETTINGS.graph_dir / "wikidata.ttl")
    assert len(expected) > 20
    assert isomorphic(links, expected)
    void = _void(dumps)
    rows = {
        str(row.predicate): int(row.triples)
        for row in void.query(
            """
            PREFIX void: <http://rdfs.org/ns/void#>
            SELECT ?predicate ?triples WHERE {
              <https://w3id.org/mqmkg/dataset> void:subset ?linkset .
              ?linkset a void:Linkset ; void:linkPredicate ?predicate ; void:triples ?triples ;
                void:subjectsTarget <https://w3id.org/mqmkg/dataset> ;
                void:objectsTarget ?wikidata ;
                void:dataDump <https://w3id.org/mqmkg/export/mqmkg-wikidata-links.ttl> .
              ?wikidata void:uriSpace "http://www.wikidata.org/entity/" .
            }"""
        )
    }
    assert rows == {
        str(OWL.sameAs): len(list(links.triples((None, OWL.sameAs, None)))),
        str(SKOS.closeMatch): len(list(links.triples((None, SKOS.closeMatch, None)))),
    }
    assert rows[str(SKOS.closeMatch)] >= 1  # the MQM: Wikidata's item has a different scope


def test_readme_describes_every_file(dumps: dict[str, bytes]) -> None:
    readme = dumps["README"].decode()
    for name in FILES:
        assert re.search(rf"^    {re.escape(name)} ", readme, re.MULTILINE), name
    union = len(Graph().parse(data=dumps["mqmkg.nt"], format="nt"))
    assert f"    content    {union} triples;" in readme
    assert f"version    {mqmkg.__version__} " in readme
    assert "the .nq keeps them" in readme and "GlobalSecurity.org's, not ours" in readme
    assert "sha256sum -c SHA256SUMS" in readme


def _blocks(readme: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", readme, re.DOTALL)


def test_readme_python_recipes_run_and_print_what_they_say(dist: Path, dumps: dict[str, bytes]) -> None:
    """The rdflib and pyoxigraph recipes, run as a user would, in the export directory."""
    blocks = _blocks(dumps["README"].decode(), "python")
    assert [("rdflib" in b, "pyoxigraph" in b) for b in blocks] == [(True, False), (False, True)]
    union = len(Graph().parse(data=dumps["mqmkg.nt"], format="nt"))
    quads = len(list(ox.parse(dumps["mqmkg.nq"], format=ox.RdfFormat.N_QUADS)))
    factions = sum(1 for line in dumps["mqmkg.nq"].decode().splitlines() if line.endswith("/graph/factions> ."))
    links = Graph().parse(data=dumps["mqmkg-wikidata-links.ttl"], format="turtle")
    same_as = len(list(links.triples((None, OWL.sameAs, None))))
    expected = [[union, factions, len(links)], [quads, same_as]]
    for block, numbers in zip(blocks, expected, strict=True):
        promised = [int(n) for n in re.findall(r"^print\(.*\)  # (\d+) ", block, re.MULTILINE)]
        assert promised == numbers
        done = subprocess.run([sys.executable, "-c", block], cwd=dist, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        assert done.stdout.split() == [str(n) for n in numbers]


def test_readme_oxigraph_cli_recipe_runs(dist: Path, dumps: dict[str, bytes], tmp_path: Path) -> None:
    readme = dumps["README"].decode()
    [block] = [b for b in _blocks(readme, "sh") if b.startswith("oxigraph load")]
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(["bash", "-e", "-c", block], cwd=dist, capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    links = Graph().parse(data=dumps["mqmkg-wikidata-links.ttl"], format="turtle")
    same_as = len(list(links.triples((None, OWL.sameAs, None))))
    assert done.stdout.split() == ["?n", str(same_as)]
    assert f"prints `?n` and `{same_as}`" in readme
    shutil.rmtree(dist / "mqmkg-db")


def test_readme_says_jena_is_untested(dumps: dict[str, bytes]) -> None:
    readme = dumps["README"].decode()
    [jena] = [b for b in _blocks(readme, "sh") if "tdb2.tdbloader" in b]
    assert "riot --validate mqmkg.nq" in jena and "fuseki-server" in jena
    assert "mqmkg's tests do\nnot run them" in readme

"""`mqmkg validate` on fixture project roots: the report, its text and the exit status.

Roots live in tests/fixtures/validate/ (see its README.md); variants that differ from the
clean root in one file are made in tmp_path. The QC queries are the real queries/qc/.
"""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mqmkg.cli import app
from mqmkg.config import Settings
from mqmkg.report import LoadProblem, QcRow, QuoteProblem, ShaclResult, ValidationReport
from mqmkg.validate import QC_SUFFIX, run_validation

REPO = Path(__file__).resolve().parents[1]
QC_DIR = REPO / "queries" / "qc"
FIXTURES = REPO / "tests" / "fixtures" / "validate"
CHECKS = len(list(QC_DIR.glob(f"*{QC_SUFFIX}")))
KG = "https://w3id.org/mqmkg/id/"
MQM = "https://w3id.org/mqmkg/ontology#"
SH = "http://www.w3.org/ns/shacl#"


def cli(root: Path, qc_dir: Path = QC_DIR) -> tuple[int, str]:
    """Run `mqmkg validate` in-process; return the exit status and the output."""
    result = CliRunner().invoke(app, ["validate", "--root", str(root), "--qc-dir", str(qc_dir)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.output


def variant(tmp_path: Path, files: dict[str, str] | None = None) -> Path:
    """Copy the clean root to tmp_path and write the given files (relative path -> text)."""
    root = tmp_path / "root"
    shutil.copytree(FIXTURES / "clean", root)
    for name, text in (files or {}).items():
        (root / name).write_text(text, encoding="utf-8")
    return root


def summary(output: str) -> str:
    return output.rstrip("\n").splitlines()[-1]


def test_clean_root_passes_with_exact_counts() -> None:
    status, output = cli(FIXTURES / "clean")
    assert output == (
        f"validate: 0 ERROR, 0 WARN, 0 INFO ({CHECKS} QC checks); "
        "SHACL 0 violations, 0 warnings, 0 infos; 6 quotes checked, 0 wrong\n"
    )
    assert status == 0


def test_cli_exit_status_in_a_subprocess() -> None:
    command = [sys.executable, "-m", "mqmkg", "validate", "--qc-dir", str(QC_DIR), "--root"]
    clean = subprocess.run([*command, str(FIXTURES / "clean")], capture_output=True, text=True, check=False)
    broken = subprocess.run([*command, str(FIXTURES / "shacl-violation")], capture_output=True, text=True, check=False)
    missing = subprocess.run([*command, str(FIXTURES / "missing-graph")], capture_output=True, text=True, check=False)
    assert (clean.returncode, broken.returncode, missing.returncode) == (0, 1, 2)


def test_warnings_and_infos_do_not_fail(tmp_path: Path) -> None:
    extra = """PREFIX foaf: <http://xmlns.com/foaf/0.1/>
PREFIX kg: <https://w3id.org/mqmkg/id/>
PREFIX mqm: <https://w3id.org/mqmkg/ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
kg:report-hrw-1997-12 a mqm:CitedReport ; rdfs:label "HRW Dec 1997"@en ; mqm:citationKey "HRW Dec 1997" .
kg:benazir-bhutto a foaf:Person ; rdfs:label "Benazir Bhutto"@en .
"""
    status, output = cli(variant(tmp_path, {"graph/extra.ttl": extra}))
    assert output.splitlines()[:4] == [
        f"QC rows (3, {CHECKS} checks):",
        "  WARN  uncited-report      kg:report-hrw-1997-12  mqm:citesReport  -",
        "  WARN  unmentioned-entity  kg:benazir-bhutto      mqm:about        -",
        "  INFO  no-wikidata-link    kg:benazir-bhutto      owl:sameAs       -",
    ]
    assert summary(output).startswith("validate: 0 ERROR, 2 WARN, 1 INFO (")
    assert status == 0


def test_broken_turtle_reports_every_file_with_line_and_column() -> None:
    root = FIXTURES / "broken-turtle"
    status, output = cli(root)
    assert f"{root}/graph/document.ttl:7:5: Parser error at line 7 between columns 5 and 15: " in output
    assert "A dot is expected at the end of statements" in output
    assert f"{root}/graph/places.ttl:5:14: " in output
    assert "The prefix sem: has not been declared" in output
    assert "INCOMPLETE: 2 problems kept checks from running" in summary(output)
    assert status == 2


def test_shacl_violation_names_shape_focus_and_path() -> None:
    root = FIXTURES / "shacl-violation"
    report = run_validation(Settings(root=root), qc_dir=QC_DIR)
    assert [(r.focus, r.path, r.component, r.shape, r.severity) for r in report.shacl] == [
        (
            f"<{KG}allegation-abuses-mid-1990s>",
            "<http://www.w3.org/ns/prov#wasDerivedFrom>",
            f"<{SH}MinCountConstraintComponent>",
            f"<{MQM}ClaimShape>",  # reached through mqm:Allegation rdfs:subClassOf mqm:Claim
            "Violation",
        )
    ]
    status, output = cli(root)
    assert (
        "  Violation  shape mqm:ClaimShape  focus kg:allegation-abuses-mid-1990s  path prov:wasDerivedFrom\n" in output
    )
    assert "  ERROR  claim-unsourced  kg:allegation-abuses-mid-1990s  prov:wasDerivedFrom  -\n" in output
    assert summary(output).startswith("validate: 1 ERROR, 0 WARN, 0 INFO (")
    assert "SHACL 1 violation, 0 warnings, 0 infos; 1 quote checked, 0 wrong" in summary(output)
    assert status == 1


def test_wrong_offsets_show_where_the_quote_is() -> None:
    root = FIXTURES / "wrong-offsets"
    report = run_validation(Settings(root=root), qc_dir=QC_DIR)
    exact = "The MQM-A routinely denied involvement in violence."
    assert report.quote_problems == (QuoteProblem(f"<{KG}ev-wrong-offsets>", exact, 2366, 2417, (2367,)),)
    status, output = cli(root)
    assert (
        "  kg:ev-wrong-offsets: oa:exact is not the source text at [2366, 2417); "
        "the quote occurs at [2367, 2418) (kg:ev-2367-2418)\n"
    ) in output
    assert f'  ERROR  quote-mismatch  kg:ev-wrong-offsets  oa:exact  "{exact}"\n' in output
    assert summary(output).endswith("; 1 quote checked, 1 wrong")
    assert status == 1


def test_missing_graph_directory() -> None:
    root = FIXTURES / "missing-graph"
    status, output = cli(root)
    assert output.splitlines()[:2] == ["Could not run (1):", f"  {root}/graph: graph directory not found"]
    assert status == 2


def test_empty_graph() -> None:
    root = FIXTURES / "empty-graph"
    status, output = cli(root)
    assert f"  {root}/graph: the graph directory's 1 *.ttl file(s) hold no triples\n" in output
    assert status == 2


def test_empty_project_directories(tmp_path: Path) -> None:
    for name in ("ontology", "graph", "shapes"):
        (tmp_path / name).mkdir()
    status, output = cli(tmp_path)
    assert output.splitlines()[:5] == [
        "Could not run (4):",
        f"  {tmp_path}/ontology: the ontology directory holds no *.ttl files",
        f"  {tmp_path}/graph: the graph directory holds no *.ttl files",
        f"  {tmp_path}/shapes: the shapes directory holds no *.ttl files",
        f"  {tmp_path}/graph/source/globalsecurity-mqm.txt: cannot read the source: No such file or directory",
    ]
    assert status == 2


def test_shapes_syntax_error_still_runs_the_qc_queries() -> None:
    root = FIXTURES / "bad-shapes"
    status, output = cli(root)
    assert f"  {root}/shapes/claim.ttl:8:63: Parser error at line 8 column 63: " in output
    assert f"validate: 0 ERROR, 0 WARN, 0 INFO ({CHECKS} QC checks); SHACL 0 violations" in summary(output)
    assert status == 2


ANNOTATED = """PREFIX kg: <https://w3id.org/mqmkg/id/>
PREFIX mqm: <https://w3id.org/mqmkg/ontology#>

kg:mqm mqm:locatedIn kg:karachi {| mqm:accordingTo kg:amnesty-international |} .
"""
BAD_MIN_COUNT = """PREFIX mqm: <https://w3id.org/mqmkg/ontology#>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX sh: <http://www.w3.org/ns/shacl#>
mqm:ClaimShape a sh:NodeShape ; sh:targetClass mqm:Claim ;
    sh:property [ sh:path prov:wasDerivedFrom ; sh:minCount "one" ] .
"""
BAD_SPARQL = (
    (FIXTURES / "clean" / "shapes" / "evidence.ttl")
    .read_text(encoding="utf-8")
    .replace("?doc rdf:value ?text .", "?doc rdf:value .")
)


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        pytest.param(
            {"graph/annotated.ttl": ANNOTATED},
            "graph/annotated.ttl:4:33: RDF 1.2 triple terms or annotations: rdflib and pySHACL cannot",
            id="rdf12-annotation",
        ),
        pytest.param(
            {"shapes/claim.ttl": BAD_MIN_COUNT},
            "shapes/claim.ttl: malformed shape mqm:ClaimShape: Value is not Literal with datatype "
            "xsd:integer (meta-SHACL, path sh:minCount)",
            id="meta-shacl",
        ),
        pytest.param(
            {"shapes/evidence.ttl": BAD_SPARQL},
            "shapes/evidence.ttl: a SHACL-SPARQL query does not parse: ",
            id="shacl-sparql-syntax",
        ),
        pytest.param(
            {"graph/mqm.ttl": "<urn:a> <urn:b> <urn:c> .\n"},
            "graph/mqm.ttl: graph name clashes with ",
            id="graph-name-clash",
        ),
        pytest.param(
            {"graph/source/globalsecurity-mqm.txt": "not the source\n"},
            "graph/source/globalsecurity-mqm.txt: sha256 ",
            id="source-checksum",
        ),
    ],
)
def test_one_bad_file_stops_validation_with_its_name(tmp_path: Path, files: dict[str, str], expected: str) -> None:
    root = variant(tmp_path, files)
    status, output = cli(root)
    assert f"\n  {root}/{expected}" in output
    assert status == 2


def test_malformed_qc_queries_are_named_and_the_rest_still_run() -> None:
    qc_dir = FIXTURES / "qc-malformed"
    report = run_validation(Settings(root=FIXTURES / "clean"), qc_dir=qc_dir)
    assert report.problems == (
        LoadProblem(
            f"{qc_dir}/bad-projection-violation.rq",
            "must be SELECT ?entity ?property ?value, not ?entity ?value",
        ),
        LoadProblem(f"{qc_dir}/bad-syntax-violation.rq:6:3", "SPARQL syntax error: Expected SelectQuery, found '?'"),
        LoadProblem(f"{qc_dir}/misnamed.rq", "a QC query file is named <check>-violation.rq"),
        LoadProblem(f"{qc_dir}/no-header-violation.rq:1", "comment header lacks '# title:' and '# description:'"),
        LoadProblem(
            f"{qc_dir}/not-in-profile-violation.rq",
            f"check 'not-in-profile' has no level in {qc_dir}/profile.tsv",
        ),
        LoadProblem(f"{qc_dir}/profile.tsv", "check 'no-file' has no file no-file-violation.rq"),
    )
    assert report.checks_run == 1
    assert {row.check for row in report.qc} == {"ok"}
    assert report.exit_code == 2


@pytest.mark.parametrize(
    ("profile", "where", "message"),
    [
        ("check\tlevel\n", "profile.tsv:1", "first line must be the header 'level<TAB>check'"),
        ("level\tcheck\nLOUD\tmissing-label\n", "profile.tsv:2", "expected 'LEVEL<TAB>check'"),
        (
            "level\tcheck\nWARN\tmissing-label\nINFO\tmissing-label\n",
            "profile.tsv:3",
            "check 'missing-label' is listed twice",
        ),
    ],
)
def test_malformed_profile(tmp_path: Path, profile: str, where: str, message: str) -> None:
    qc_dir = tmp_path / "qc"
    shutil.copytree(QC_DIR, qc_dir)
    (qc_dir / "profile.tsv").write_text(profile, encoding="utf-8")
    status, output = cli(FIXTURES / "clean", qc_dir)
    assert f"  {qc_dir}/{where}: {message}" in output
    assert status == 2


def test_missing_source(tmp_path: Path) -> None:
    root = variant(tmp_path)
    (root / "graph" / "source" / "globalsecurity-mqm.txt").unlink()
    status, output = cli(root)
    assert (
        f"  {root}/graph/source/globalsecurity-mqm.txt: cannot read the source: No such file or directory\n" in output
    )
    assert status == 2


def test_validation_never_writes_the_servers_store(tmp_path: Path) -> None:
    store = tmp_path / "store"
    report = run_validation(Settings(root=FIXTURES / "clean", store_path=store), qc_dir=QC_DIR)
    assert report.ok
    assert not store.exists()


def test_output_is_deterministic() -> None:
    settings = Settings(root=FIXTURES / "shacl-violation")
    assert run_validation(settings, qc_dir=QC_DIR).render() == run_validation(settings, qc_dir=QC_DIR).render()


ERROR_ROW = QcRow("claim-unsourced", "ERROR", f"<{KG}c>", "<http://www.w3.org/ns/prov#wasDerivedFrom>", None)
WARN_ROW = dataclasses.replace(ERROR_ROW, check="uncited-report", level="WARN")
SHACL_WARNING = ShaclResult("Warning", f"<{MQM}S>", f"<{KG}c>", None, f"<{SH}MinCountConstraintComponent>", "m")


@pytest.mark.parametrize(
    ("fields", "exit_code"),
    [
        ({}, 0),
        ({"qc": (WARN_ROW,), "shacl": (SHACL_WARNING,)}, 0),
        ({"qc": (ERROR_ROW,)}, 1),
        ({"shacl": (dataclasses.replace(SHACL_WARNING, severity="Violation"),)}, 1),
        ({"quote_problems": (QuoteProblem(f"<{KG}ev-1-2>", "x", 1, 2),)}, 1),
        ({"problems": (LoadProblem("x.rq", "bad"),)}, 2),
        ({"problems": (LoadProblem("x.rq", "bad"),), "qc": (ERROR_ROW,)}, 2),
    ],
)
def test_exit_code(fields: dict[str, object], exit_code: int) -> None:
    report = ValidationReport(root=Path("."), **fields)  # type: ignore[arg-type]
    assert (report.exit_code, report.ok) == (exit_code, exit_code == 0)


def test_report_is_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        ValidationReport(root=Path(".")).qc = ()  # type: ignore[misc]

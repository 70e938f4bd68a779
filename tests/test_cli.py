"""The command line's own surface: plain --help listing every command and setting, --version,
``validate --quiet`` / ``--show-info``."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from dataclasses import fields
from pathlib import Path

import typer
from typer.testing import CliRunner

from mqmkg.cli import app, env_name, shown
from mqmkg.config import Settings
from mqmkg.report import QcRow, ShaclResult, ValidationReport
from test_validate import CHECKS, QC_DIR, variant

ROOT = Path(__file__).resolve().parents[1]
BOX_DRAWING = set("╭╮╰╯│─━┃")


def invoke(*args: str) -> typer.testing.Result:
    return CliRunner().invoke(app, list(args))


def test_help_is_plain_and_lists_every_command() -> None:
    result = invoke("--help")
    assert result.exit_code == 0
    assert not BOX_DRAWING & set(result.output), "rich panels in --help"
    assert "``" not in result.output and "[bold" not in result.output
    commands = {c.name or c.callback.__name__ for c in app.registered_commands}  # type: ignore[union-attr]
    assert commands == {"serve", "validate", "export", "check-queries", "evidence", "generate", "publish"}
    listed = result.output.split("Commands:")[1].split("Settings:")[0]
    assert {line.split()[0] for line in listed.strip().splitlines()} == commands
    assert "..." not in listed  # each command's summary fits


def test_help_lists_every_setting_with_its_variable_and_default() -> None:
    output = invoke("--help").output
    defaults = Settings()
    for field in fields(Settings):
        assert f"  {env_name(field.name)}={shown(getattr(defaults, field.name))}\n" in output, field.name
    assert "MQMKG_QUERY_TIMEOUT=10.0\n        Seconds a query may run before its worker is killed (503)." in output
    assert "MQMKG_SERVICE_ALLOWLIST=https://query.wikidata.org/sparql\n" in output


def test_serve_help_shows_defaults_and_variables() -> None:
    output = invoke("serve", "--help").output
    assert "[default: 127.0.0.1; env: MQMKG_HOST]" in output
    assert "[default: 8000; env: MQMKG_PORT]" in output
    assert "MQMKG_QUERY_TIMEOUT" in output.replace("\n", " ").replace("  ", " ")


def test_version_is_the_package_version() -> None:
    version = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]["version"]
    assert invoke("--version").output == f"mqmkg {version}\n"
    done = subprocess.run([sys.executable, "-m", "mqmkg", "--version"], capture_output=True, text=True, check=True)
    assert done.stdout == f"mqmkg {version}\n"


# An entity no claim mentions: a WARN row (unmentioned-entity) and an INFO row (no-wikidata-link).
EXTRA = (
    "<https://w3id.org/mqmkg/id/benazir-bhutto> a <http://xmlns.com/foaf/0.1/Person> ;"
    ' <http://www.w3.org/2000/01/rdf-schema#label> "Benazir Bhutto"@en .\n'
)


def test_validate_quiet_lists_problems_and_the_summary_only(tmp_path: Path) -> None:
    root = variant(tmp_path, {"graph/extra.ttl": EXTRA})
    common = ["validate", "--root", str(root), "--qc-dir", str(QC_DIR)]
    full, quiet, everything = invoke(*common), invoke(*common, "--quiet"), invoke(*common, "-q", "--show-info")
    assert full.exit_code == quiet.exit_code == everything.exit_code == 0
    summary = f"validate: 0 ERROR, 1 WARN, 1 INFO ({CHECKS} QC checks); "
    assert quiet.output.splitlines() == [
        f"QC rows (1, {CHECKS} checks):",
        "  WARN  unmentioned-entity  kg:benazir-bhutto  mqm:about  -",
        "Not listed: 1 INFO row (--show-info lists them).",
        full.output.splitlines()[-1],
    ]
    assert full.output.splitlines()[-1].startswith(summary)
    assert "  INFO  no-wikidata-link    kg:benazir-bhutto  owl:sameAs  -" in everything.output
    assert everything.output == full.output


def test_render_without_info_keeps_everything_else() -> None:
    kg, sh = "https://w3id.org/mqmkg/id/", "http://www.w3.org/ns/shacl#"
    info = ShaclResult("Info", f"<{kg}S>", f"<{kg}a>", None, f"<{sh}ClassConstraintComponent>", "note")
    violation = ShaclResult("Violation", f"<{kg}S>", f"<{kg}b>", None, f"<{sh}MinCountConstraintComponent>", "bad")
    rows = (QcRow("no-wikidata-link", "INFO", f"<{kg}a>", None, None), QcRow("x", "ERROR", f"<{kg}b>", None, None))
    report = ValidationReport(ROOT, shacl=(info, violation), qc=rows, checks_run=2)
    quiet = report.render(info=False).splitlines()
    assert quiet[-2:] == ["Not listed: 1 INFO row and 1 SHACL info (--show-info lists them).", report.summary()]
    assert "SHACL results (1):" in quiet and "  Violation  shape kg:S  focus kg:b  path -" in quiet
    assert "QC rows (1, 2 checks):" in quiet and not any("no-wikidata-link" in line for line in quiet)
    assert "no-wikidata-link" in report.render() and "Not listed" not in report.render()

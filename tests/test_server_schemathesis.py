"""Schemathesis against ``/openapi.json`` of a live server (issue 8).

The real CLI runs every check (server errors, status codes, media types, headers and
bodies conforming to the document, negative data refused, undeclared methods answered
405 with Allow, ...) with the settings of ``tests/schemathesis.toml``: a fixed seed and a
bounded number of cases per operation. The run must pass, and the HTTP archive it writes
must hold no 5xx. The figures (operations, cases, status counts) are printed.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import warnings
from collections import Counter
from pathlib import Path

import pytest

from conftest import ROOT, LiveServer
from mqmkg.config import Settings
from mqmkg.server.app import create_app

SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"
CONFIG = Path(__file__).parent / "schemathesis.toml"


def test_openapi_document_is_generated_without_warnings() -> None:
    """No duplicate operation id (FastAPI warns for one), every operation with explicit responses."""
    app = create_app(Settings(root=ROOT))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        document = app.openapi()
    operations = [op for item in document["paths"].values() for op in item.values()]
    ids = [op["operationId"] for op in operations]
    assert len(ids) == len(set(ids))
    assert all("422" not in op["responses"] and "200" in op["responses"] for op in operations)
    run = document["paths"]["/queries/events-in-place-and-period/run"]["get"]
    assert {p["name"]: p["schema"].get("format") for p in run["parameters"]} == {
        "place": "iri",
        "from": "date",
        "to": "date",
        "format": None,
    }


@pytest.mark.slow
def test_schemathesis_finds_no_server_error_and_no_schema_violation(project_server: LiveServer, tmp_path: Path) -> None:
    har = tmp_path / "schemathesis.har"
    result = subprocess.run(
        [
            str(SCHEMATHESIS),
            "--config-file",
            str(CONFIG),
            "--no-color",
            "run",
            f"{project_server.url}/openapi.json",
            "--report",
            "har",
            "--report-har-path",
            str(har),
        ],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parent)},  # for schemathesis_hooks
    )
    summary = result.stdout[result.stdout.find("SUMMARY") :]
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    generated = re.search(r"(\d+) generated, (\d+) passed", summary)
    tested = re.search(r"Tested: (\d+)", summary)
    assert generated and tested, summary
    assert generated.group(1) == generated.group(2)
    entries = json.loads(har.read_text())["log"]["entries"]
    statuses = Counter(entry["response"]["status"] for entry in entries)
    print(f"\nschemathesis: {tested.group(1)} operations, {generated.group(1)} cases, {len(entries)} requests")
    print("statuses:", dict(sorted(statuses.items())))
    assert int(tested.group(1)) >= 35
    assert not [status for status in statuses if status >= 500], statuses
    assert statuses[200] > 100 and statuses[405] > 0  # served cases, and undeclared methods refused

"""The Makefile: `make help` shows the real URL and the overrides; `make serve` installs no test tools."""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def make(*args: str) -> str:
    done = subprocess.run(["make", "--no-print-directory", *args], cwd=ROOT, capture_output=True, text=True, check=True)
    return done.stdout


def test_help_shows_the_url_and_the_overrides() -> None:
    output = make("help")
    assert "http://127.0.0.1:8000/" in output
    assert "$(HOST)" not in output and "$(PORT)" not in output
    assert "HOST=127.0.0.1" in output and "PORT=8000" in output and "make serve PORT=8080" in output
    assert "http://0.0.0.0:8123/" in make("help", "HOST=0.0.0.0", "PORT=8123")


def test_every_target_is_in_help() -> None:
    targets = {
        line.split(":")[0]
        for line in (ROOT / "Makefile").read_text("utf-8").splitlines()
        if line[:1].isalpha() and ":" in line and "##" in line
    }
    listed = {line.split()[0] for line in make("help").splitlines() if line.startswith("  ")}
    assert targets == listed
    assert {"serve", "test", "install", "install-runtime"} <= targets


def test_serve_installs_the_runtime_only_and_test_installs_the_test_tools(tmp_path: Path) -> None:
    venv = str(tmp_path / "venv")  # a venv that does not exist: make -n shows every install step
    serve = make("-n", "serve", f"VENV={venv}")
    assert "pip install -q -e .\n" in serve and "[test]" not in serve
    assert f"{venv}/bin/mqmkg serve --host 127.0.0.1 --port 8000" in serve
    test = make("-n", "test", f"VENV={venv}")
    assert "pip install -q -e .\n" in test and "pip install -q -e '.[test]'" in test

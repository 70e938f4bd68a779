"""The version and date an export reports: never the wall clock."""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from rdflib import DCTERMS, Graph, URIRef

from conftest import ENDPOINT_ROOT
from mqmkg.config import Settings
from mqmkg.export import build_dumps
from mqmkg.release import Release, release_of

DATASET = URIRef("https://w3id.org/mqmkg/dataset")


def _git(root: Path, *args: str, date: str | None = None) -> None:
    env = dict(os.environ)
    if date:
        env.update(GIT_AUTHOR_DATE=date, GIT_COMMITTER_DATE=date)
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args],
        cwd=root,
        env=env,
        check=True,
        capture_output=True,
    )


def test_source_date_epoch_wins() -> None:
    release = release_of(ENDPOINT_ROOT, {"SOURCE_DATE_EPOCH": "1700000000"})
    assert release.modified == datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)
    assert release.modified_iso == "2023-11-14T22:13:20Z"


def test_the_date_is_the_last_commit_that_changed_the_graph(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    root = tmp_path / "project"
    shutil.copytree(ENDPOINT_ROOT, root)
    _git(root, "init", "-q")
    _git(root, "add", "graph", "ontology")
    _git(root, "commit", "-q", "-m", "graph", date="2020-01-02T03:04:05+00:00")
    (root / "notes.txt").write_text("not part of the dataset\n")
    _git(root, "add", "notes.txt")
    _git(root, "commit", "-q", "-m", "notes", date="2021-06-07T08:09:10+00:00")
    assert release_of(root, {}).modified_iso == "2020-01-02T03:04:05Z"
    first = {d.name: d.data for d in build_dumps(Settings(root=root))}
    void = Graph().parse(data=first["void.ttl"], format="turtle")
    assert void.value(DATASET, DCTERMS.modified).toPython() == datetime(2020, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert b'dcterms:modified "2020-01-02T03:04:05Z"^^xsd:dateTime' in first["void.ttl"]
    assert "modified   2020-01-02T03:04:05Z (the latest commit" in first["README"].decode()
    assert first == {d.name: d.data for d in build_dumps(Settings(root=root))}


def test_without_history_the_date_is_not_recorded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    root = tmp_path / "project"
    shutil.copytree(ENDPOINT_ROOT, root)
    assert release_of(root, {}) == Release(modified=None)
    dumps = {d.name: d.data for d in build_dumps(Settings(root=root))}
    void = Graph().parse(data=dumps["void.ttl"], format="turtle")
    assert void.value(DATASET, DCTERMS.modified) is None
    assert "modified   not recorded" in dumps["README"].decode()

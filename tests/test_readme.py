"""The README's example queries run and give the answers they promise."""

from __future__ import annotations

import re
from pathlib import Path

import pyoxigraph as ox
import pytest

ROOT = Path(__file__).resolve().parents[1]
BLOCKS = re.findall(r"```sparql\n(.*?)```", (ROOT / "README.md").read_text("utf-8"), re.DOTALL)


@pytest.fixture(scope="module")
def store(project_store: ox.Store) -> ox.Store:
    return project_store


def test_readme_has_the_examples() -> None:
    assert len(BLOCKS) == 4
    assert sum("SERVICE" in block for block in BLOCKS) == 1


def test_split_leaders(store: ox.Store) -> None:
    rows = list(store.query(BLOCKS[0]))
    assert {r["leader"].value for r in rows} == {"Afaq Ahmed", "Aamir Khan"}
    assert {r["created"].value for r in rows} == {"MQM Haqiqi"}


def test_allegations_against_the_mqm(store: ox.Store) -> None:
    rows = list(store.query(BLOCKS[1]))
    assert len({r["allegation"].value for r in rows}) == 10
    assert {r["report"].value for r in rows if r["report"] is not None} == {
        "U.S. DOS Feb 1991",
        "AI 1 Feb 1996",
        "U.S. DOS Feb 1996",
    }
    assert {r["accuser"].value for r in rows} >= {"U.S. State Department", "Amnesty International"}


def test_timeline(store: ox.Store) -> None:
    rows = list(store.query(BLOCKS[2]))
    assert len(rows) == 47
    assert rows[-1]["label"].value == "September 11, 2001 terror attacks"


def test_first_screen_gives_the_two_commands_the_url_and_the_audience() -> None:
    text = (ROOT / "README.md").read_text("utf-8")
    lines = text.splitlines()
    assert lines[3].startswith("make serve ") and lines[4].startswith("make test ")
    first_screen = "\n".join(lines[:35])
    assert "Then open <http://127.0.0.1:8000/>" in first_screen
    for audience in ("*Analysts*", "*People linking to Wikidata and other datasets*", "*Apps consuming the dumps*"):
        assert audience in first_screen
    assert "../shared" not in text
    assert "](LICENSE)" in text and (ROOT / "LICENSE").is_file()

"""The pinned source: checksum, copies, sentence split, evidence quotes and coverage."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from rdflib import Graph, Namespace

from mqmkg.config import Settings
from mqmkg.errors import SourceMismatch
from mqmkg.source import SOURCE_SHA256, content_bounds, locate, read_source, sentences

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
OA = Namespace("http://www.w3.org/ns/oa#")
MQM = Namespace("https://w3id.org/mqmkg/ontology#")
SETTINGS = Settings(root=ROOT)


@pytest.fixture(scope="module")
def text() -> str:
    return read_source(SETTINGS.source_path)


@pytest.fixture(scope="module")
def graph() -> Graph:
    g = Graph()
    for path in sorted(SETTINGS.graph_dir.glob("*.ttl")):
        g.parse(path)
    return g


def test_source_sha256_is_pinned() -> None:
    data = SETTINGS.source_path.read_bytes()
    assert hashlib.sha256(data).hexdigest() == SOURCE_SHA256
    assert len(data) == 9783
    data.decode("ascii")


@pytest.mark.parametrize(
    "relative",
    [
        "source/globalsecurity-mqm.txt",
        "source/README.md",
        "reference/wikidata-links.tsv",
        "reference/README.md",
    ],
)
def test_copies_match_shared(relative: str) -> None:
    shared = SHARED / relative
    if not shared.exists():
        pytest.skip(f"{shared} is not on this machine (fresh clone without ../shared)")
    assert (SETTINGS.graph_dir / relative).read_bytes() == shared.read_bytes()


def test_read_source_rejects_a_changed_copy(tmp_path: Path) -> None:
    changed = tmp_path / "copy.txt"
    changed.write_bytes(SETTINGS.source_path.read_bytes().replace(b"breakway", b"breakaway"))
    with pytest.raises(SourceMismatch, match="sha256"):
        read_source(changed)


def test_content_excludes_banner_and_footer(text: str) -> None:
    start, end = content_bounds(text)
    assert (
        text[:start].strip()
        == "The Largest Security-Cleared Career Network for Defense and Intelligence Jobs - JOIN NOW"
    )
    assert text[end:].startswith("Join the mailing list")
    assert "Page last modified" in text[end:]


def test_sentences_split_where_expected(text: str) -> None:
    found = sentences(text)
    assert len(found) == 65
    assert found[0].text == "Muttahida Quami Movement (MQM)"
    assert found[-1].text.endswith("(U.S. DOS 23 May 2003).")
    quotes = [s.text for s in found]
    # "U.S." does not end a sentence; a full stop inside closing quotes does.
    assert any(q.startswith("In the mid-1990s, the U.S. State Department") for q in quotes)
    assert 'The offenses include the newly defined offense of "Creating Civil Commotion."' in quotes
    assert all(text[s.start : s.end] == s.text for s in found)


def test_locate_finds_unique_quotes_and_refuses_others(text: str) -> None:
    span = locate(text, "MQM-A leader Hussein fled in 1992 to Britain")
    assert (span.start, span.end) == (4234, 4278)
    with pytest.raises(SourceMismatch, match="more than once"):
        locate(text, "MQM-A")
    with pytest.raises(SourceMismatch, match="not in source"):
        locate(text, "Altaf Hussain")


def test_every_quote_is_verbatim_at_its_offsets(graph: Graph, text: str) -> None:
    wrong = []
    for ev in set(graph.subjects(OA.hasSelector, None)):
        selectors = list(graph.objects(ev, OA.hasSelector))
        exact = next(str(graph.value(s, OA.exact)) for s in selectors if graph.value(s, OA.exact) is not None)
        start = next(int(graph.value(s, OA.start)) for s in selectors if graph.value(s, OA.start) is not None)
        end = next(int(graph.value(s, OA.end)) for s in selectors if graph.value(s, OA.end) is not None)
        if text[start:end] != exact:
            right = text.find(exact)
            wrong.append(f"{ev}: {exact[:50]!r} at {start}-{end}; found at {right}-{right + len(exact)}")
    assert not wrong, "\n".join(wrong)


def test_every_sentence_backs_a_claim(graph: Graph, text: str) -> None:
    used: set[tuple[int, int]] = set()
    for ev in set(graph.objects(None, MQM.evidence)):
        for selector in graph.objects(ev, OA.hasSelector):
            if graph.value(selector, OA.start) is not None:
                used.add((int(graph.value(selector, OA.start)), int(graph.value(selector, OA.end))))
    missing = [f"{s.start}-{s.end}: {s.text}" for s in sentences(text) if (s.start, s.end) not in used]
    coverage = 1 - len(missing) / len(sentences(text))
    assert not missing, f"sentence coverage {coverage:.1%}; uncovered:\n" + "\n".join(missing)

"""The pinned source document: its text, checksum, sentences and quote offsets."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from mqmkg.errors import SourceMismatch

SOURCE_SHA256 = "03f05671d3d555689d67e854f896a7c20fbfdcdf5e9611c7b87341182cb83640"
CONTENT_START = "Muttahida Quami Movement (MQM)"
CONTENT_END = "Join the mailing list"
# Abbreviations after which a full stop does not end a sentence.
_ABBREVIATIONS = ("U.S.", "e.g.")
_BOUNDARY = re.compile(r"(?:(?<=\.)|(?<=\.\"))[ ]+|\n+")


@dataclass(frozen=True)
class Span:
    """A half-open character range ``[start, end)`` of the source and its text."""

    start: int
    end: int
    text: str

    @property
    def iri_name(self) -> str:
        """Return the local name of the evidence node for this span."""
        return f"ev-{self.start}-{self.end}"


def read_source(path: Path) -> str:
    """Read the source as ASCII without newline translation and check its sha256."""
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != SOURCE_SHA256:
        raise SourceMismatch(f"{path}: sha256 {digest} != pinned {SOURCE_SHA256}")
    return data.decode("ascii")


def content_bounds(text: str) -> tuple[int, int]:
    """Return the offsets of the document's content, site banner and footer excluded."""
    return text.index(CONTENT_START), text.index(CONTENT_END)


def sentences(text: str) -> list[Span]:
    """Split the content into sentences: title lines, then paragraph sentences.

    A sentence ends at a full stop (or a full stop and a closing quote) followed by
    spaces, or at a line break, except after an abbreviation such as "U.S.".
    """
    start, end = content_bounds(text)
    spans: list[Span] = []
    cursor = start
    for match in _BOUNDARY.finditer(text, start, end):
        piece = text[cursor : match.start()]
        if match.group().startswith(" ") and piece.endswith(_ABBREVIATIONS):
            continue
        if piece.strip():
            spans.append(Span(cursor, match.start(), piece))
        cursor = match.end()
    tail = text[cursor:end].rstrip()
    if tail:
        spans.append(Span(cursor, cursor + len(tail), tail))
    return spans


def locate(text: str, quote: str) -> Span:
    """Return the unique span of ``quote`` in ``text``; raise if absent or ambiguous."""
    first = text.find(quote)
    if first < 0:
        raise SourceMismatch(f"quote not in source: {quote[:70]!r}")
    if text.find(quote, first + 1) >= 0:
        raise SourceMismatch(f"quote occurs more than once: {quote[:70]!r}")
    return Span(first, first + len(quote), quote)

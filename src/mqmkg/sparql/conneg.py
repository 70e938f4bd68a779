"""HTTP content negotiation: parse ``Accept`` and pick the best offered media type.

Follows RFC 9110 §12.5.1: each offered type takes the quality of the most specific media
range that matches it (``type/subtype`` over ``type/*`` over ``*/*``; more parameters are
more specific), ``q=0`` means "not acceptable", and ties go to the server's order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class MediaRange:
    """One element of an Accept header."""

    type: str
    subtype: str
    params: tuple[tuple[str, str], ...]
    q: float

    def specificity(self) -> tuple[int, int]:
        """Return a sort key: exact types beat ``type/*`` beat ``*/*``; parameters break ties."""
        if self.type == "*":
            level = 0
        elif self.subtype == "*":
            level = 1
        else:
            level = 2
        return level, len(self.params)

    def matches(self, media_type: str) -> bool:
        """Tell whether this range covers a bare ``type/subtype`` (parameters ignored)."""
        kind, _, sub = media_type.lower().partition("/")
        if self.type == "*":
            return True
        if self.type != kind:
            return False
        return self.subtype in ("*", sub)


def _split_elements(header: str) -> list[str]:
    """Split on commas that are not inside a quoted parameter value."""
    parts: list[str] = []
    current: list[str] = []
    quoted = False
    escaped = False
    for char in header:
        if escaped:
            escaped = False
        elif char == "\\" and quoted:
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char == "," and not quoted:
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    parts.append("".join(current))
    return [part.strip() for part in parts if part.strip()]


def parse_media_range(element: str) -> MediaRange | None:
    """Parse one Accept element; return None if it is malformed."""
    pieces = [piece.strip() for piece in element.split(";")]
    full = pieces[0].lower()
    if full == "*":  # sent by some old Java clients for */*
        full = "*/*"
    kind, slash, sub = full.partition("/")
    if not slash or not kind or not sub or (kind == "*" and sub != "*"):
        return None
    q = 1.0
    params: list[tuple[str, str]] = []
    for piece in pieces[1:]:
        name, eq, value = piece.partition("=")
        name = name.strip().lower()
        value = value.strip().strip('"')
        if not eq or not name:
            continue
        if name == "q":
            try:
                q = float(value)
            except ValueError:
                return None
            if not 0.0 <= q <= 1.0:
                return None
            break  # anything after q is an accept-extension, not a media-type parameter
        params.append((name, value))
    return MediaRange(kind, sub, tuple(params), q)


def parse_accept(header: str | None) -> list[MediaRange]:
    """Parse an Accept header; an absent, empty or wholly malformed one means ``*/*``."""
    ranges = [r for r in (parse_media_range(e) for e in _split_elements(header or "")) if r is not None]
    return ranges or [MediaRange("*", "*", (), 1.0)]


def quality(ranges: Sequence[MediaRange], media_type: str) -> float:
    """Return the quality the client gives to one offered media type."""
    matching = [r for r in ranges if r.matches(media_type)]
    if not matching:
        return 0.0
    best = max(r.specificity() for r in matching)
    # Several ranges of equal specificity (e.g. repeated): the highest q counts.
    return max(r.q for r in matching if r.specificity() == best)


def negotiate(header: str | None, offers: Sequence[str]) -> str | None:
    """Return the offered media type the client prefers, or None if it accepts none of them."""
    ranges = parse_accept(header)
    best: str | None = None
    best_q = 0.0
    for offer in offers:
        q = quality(ranges, offer)
        if q > best_q:
            best, best_q = offer, q
    return best

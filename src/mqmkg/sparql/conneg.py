"""HTTP content negotiation: parse ``Accept`` and pick the best offered media type.

Follows RFC 9110 §12.5.1: each offered type takes the quality of the most specific media
range that matches it (``type/subtype`` over ``type/*`` over ``*/*``; more parameters are
more specific), ``q=0`` means "not acceptable", and ties go to the server's order.

A malformed Accept header is refused (400, :class:`MalformedHeader`) rather than read as
``*/*``: a client that asked for ``text/csv;q=abc`` should learn that its header is wrong,
not receive JSON. Oxigraph's server does the same for a bad q-value. Two old habits that
are unambiguous are still read: ``*`` for ``*/*`` and a q-value such as ``.2`` or
``0.8333`` (both in Java's default ``Accept``). Empty list members (``a, ,b``) are allowed
by the list syntax (RFC 9110 §5.6.1).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from mqmkg.errors import MalformedHeader

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"')
_QVALUE = re.compile(r"(?:0?\.\d+|[01](?:\.\d*)?)")


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


def _split_outside_quotes(text: str, separator: str) -> list[str]:
    """Split on ``separator`` where it is not inside a quoted string; drop empty members."""
    parts: list[str] = []
    current: list[str] = []
    quoted = False
    escaped = False
    for char in text:
        if escaped:
            escaped = False
        elif char == "\\" and quoted:
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char == separator and not quoted:
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    parts.append("".join(current))
    return [part.strip() for part in parts if part.strip()]


def _bad(element: str, why: str) -> MalformedHeader:
    return MalformedHeader("Accept", f"{element!r}: {why} (RFC 9110 §12.5.1)")


def _parameter(element: str, piece: str) -> tuple[str, str]:
    name, eq, value = piece.partition("=")
    name, value = name.strip().lower(), value.strip()
    if not eq or not _TOKEN.fullmatch(name):
        raise _bad(element, f"parameter {piece.strip()!r} is not name=value")
    if _QUOTED.fullmatch(value):
        return name, re.sub(r"\\(.)", r"\1", value[1:-1])
    if not _TOKEN.fullmatch(value):
        raise _bad(element, f"parameter value {value!r} is neither a token nor a quoted string")
    return name, value


def parse_media_range(element: str) -> MediaRange:
    """Parse one Accept element, or raise MalformedHeader saying what is wrong with it."""
    pieces = _split_outside_quotes(element, ";") or [""]
    full = pieces[0].lower()
    if full == "*":  # sent by some old Java clients for */*
        full = "*/*"
    kind, slash, sub = full.partition("/")
    if not slash or not _TOKEN.fullmatch(kind) or not _TOKEN.fullmatch(sub) or (kind == "*" and sub != "*"):
        raise _bad(element, "a media range is type/subtype, type/* or */*")
    q = 1.0
    params: list[tuple[str, str]] = []
    for piece in pieces[1:]:
        name, value = _parameter(element, piece)
        if name == "q":
            if not _QVALUE.fullmatch(value) or float(value) > 1.0:
                raise _bad(element, f"q={value} is not a quality between 0 and 1")
            q = float(value)
            break  # anything after q is an accept-extension, not a media-type parameter
        params.append((name, value))
    return MediaRange(kind, sub, tuple(params), q)


def parse_accept(header: str | None) -> list[MediaRange]:
    """Parse an Accept header; an absent or empty one means ``*/*``; a malformed one raises."""
    ranges = [parse_media_range(element) for element in _split_outside_quotes(header or "", ",")]
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

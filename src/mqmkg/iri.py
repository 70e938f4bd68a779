"""Check text against the IRI grammar of RFC 3987 before it becomes an RDF term.

Every IRI that comes from a request (a canned-query parameter, an ``/id/`` name, the
request's own URL) passes through :func:`check_iri` or :func:`named_node`, so text that
is not an IRI is refused with the position of its first bad character instead of failing
later inside the engine. The grammar is RFC 3987 §2.2 (``IRI``: absolute, with optional
query and fragment); IPv6 literals are checked with :mod:`ipaddress`.

https://www.rfc-editor.org/rfc/rfc3987#section-2.2
"""

from __future__ import annotations

import ipaddress
import re

import pyoxigraph as ox

from mqmkg.errors import InvalidIri

_UCS = (
    "\u00a0-\ud7ff\uf900-\ufdcf\ufdf0-\uffef"
    "\U00010000-\U0001fffd\U00020000-\U0002fffd\U00030000-\U0003fffd\U00040000-\U0004fffd"
    "\U00050000-\U0005fffd\U00060000-\U0006fffd\U00070000-\U0007fffd\U00080000-\U0008fffd"
    "\U00090000-\U0009fffd\U000a0000-\U000afffd\U000b0000-\U000bfffd\U000c0000-\U000cfffd"
    "\U000d0000-\U000dfffd\U000e1000-\U000efffd"
)
_PRIVATE = "\ue000-\uf8ff\U000f0000-\U000ffffd\U00100000-\U0010fffd"
_UNRESERVED = "A-Za-z0-9._~\\-" + _UCS
_SUB_DELIMS = "!$&'()*+,;="
_PCT = "%[0-9A-Fa-f]{2}"
_PCHAR = f"(?:[{_UNRESERVED}{_SUB_DELIMS}:@]|{_PCT})"
_SEGMENT = f"{_PCHAR}*"
_SEGMENT_NZ = f"{_PCHAR}+"
_USERINFO = f"(?:[{_UNRESERVED}{_SUB_DELIMS}:]|{_PCT})*"
_DEC_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]\d|\d)"
_IPV4 = rf"{_DEC_OCTET}(?:\.{_DEC_OCTET}){{3}}"
_IP_LITERAL = r"\[(?P<ip>[^\]]*)\]"
_REG_NAME = f"(?:[{_UNRESERVED}{_SUB_DELIMS}]|{_PCT})*"
_AUTHORITY = f"(?:{_USERINFO}@)?(?:{_IP_LITERAL}|{_IPV4}|{_REG_NAME})(?::[0-9]*)?"
_HIER_PART = (
    f"(?://{_AUTHORITY}(?:/{_SEGMENT})*"  # "//" iauthority ipath-abempty
    f"|/(?:{_SEGMENT_NZ}(?:/{_SEGMENT})*)?"  # ipath-absolute
    f"|{_SEGMENT_NZ}(?:/{_SEGMENT})*"  # ipath-rootless
    ")?"  # ipath-empty
)
_QUERY = f"(?:{_PCHAR}|[{_PRIVATE}/?])*"
_FRAGMENT = f"(?:{_PCHAR}|[/?])*"
IRI_PATTERN = f"[A-Za-z][A-Za-z0-9+.\\-]*:{_HIER_PART}(?:\\?{_QUERY})?(?:#{_FRAGMENT})?"
_IRI = re.compile(IRI_PATTERN)
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")
_NEVER = re.compile(f"[^A-Za-z0-9\\-._~{_SUB_DELIMS}:@/?#\\[\\]%{_UCS}{_PRIVATE}]")
_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
_BIDI = re.compile("[\u200e\u200f\u202a-\u202e]")  # RFC 3987 §4.1: MUST NOT appear in an IRI
_IPV_FUTURE = re.compile(f"v[0-9A-Fa-f]+\\.[A-Za-z0-9._~\\-{_SUB_DELIMS}:]+")


def _valid_ip_literal(text: str) -> bool:
    if _IPV_FUTURE.fullmatch(text):
        return True
    if "%" in text:  # a zone identifier (RFC 6874) is not part of RFC 3987
        return False
    try:
        ipaddress.IPv6Address(text)
    except ValueError:
        return False
    return True


def _first_problem(text: str) -> tuple[int, str]:
    """Return where and why ``text`` is not an IRI (it has already failed the grammar)."""
    if not _SCHEME.match(text):
        return 0, "an IRI starts with a scheme such as https: (RFC 3987 §2.2)"
    bad = _NEVER.search(text)
    if bad:
        return bad.start(), f"character {bad.group()!r} (U+{ord(bad.group()):04X}) is not allowed in an IRI"
    percent = _BAD_PERCENT.search(text)
    if percent:
        return percent.start(), "'%' must be followed by two hexadecimal digits"
    fragment = text.find("#")
    if fragment >= 0 and "#" in text[fragment + 1 :]:
        return text.index("#", fragment + 1), "a second '#' (a fragment cannot hold '#')"
    if "[" in text or "]" in text:
        return text.find("[") if "[" in text else text.find("]"), "brackets only enclose an IP literal host"
    return len(text.split(":", 1)[0]) + 1, "malformed authority, path, query or fragment"


def check_iri(text: str) -> str:
    """Return ``text`` if it is an IRI (RFC 3987), or raise InvalidIri with its first bad position."""
    bidi = _BIDI.search(text)
    if bidi:
        reason = f"bidirectional formatting character U+{ord(bidi.group()):04X} (RFC 3987 §4.1)"
        return _raise(text, bidi.start(), reason)
    match = _IRI.fullmatch(text)
    if match and (match.group("ip") is None or _valid_ip_literal(match.group("ip"))):
        return text
    if match:
        return _raise(text, text.find("[") + 1, "not an IPv6 address or IPvFuture literal")
    position, reason = _first_problem(text)
    return _raise(text, position, reason)


def _raise(text: str, position: int, reason: str) -> str:
    raise InvalidIri(text, position, reason)


def named_node(text: str) -> ox.NamedNode:
    """Return the pyoxigraph IRI term for ``text``, or raise InvalidIri (never ValueError)."""
    check_iri(text)
    try:
        return ox.NamedNode(text)
    except ValueError as exc:  # the engine's reading is stricter than RFC 3987 here
        raise InvalidIri(text, 0, str(exc)) from exc


def is_iri(text: str) -> bool:
    """Tell whether ``text`` is an IRI that the engine also accepts."""
    try:
        named_node(text)
    except InvalidIri:
        return False
    return True

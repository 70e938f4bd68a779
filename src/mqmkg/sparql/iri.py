"""Resolve a relative IRI against a base as the engine (Oxigraph's ``oxiri``) does.

RFC 3986 §5.2.2, with ``oxiri``'s one departure: a reference that has a scheme or an
authority keeps its path as written (``http://a/../b`` stays as it is); only paths taken
relative to the base lose their dot segments. The tests replay RFC 3986 §5.4's examples
against pyoxigraph.
"""

from __future__ import annotations

import re

_PARTS = re.compile(r"^(?:([A-Za-z][A-Za-z0-9+.\-]*):)?(?://([^/?#]*))?([^?#]*)(?:\?([^#]*))?(?:#(.*))?$", re.DOTALL)


def _split(iri: str) -> tuple[str | None, str | None, str, str | None, str | None]:
    match = _PARTS.match(iri)
    assert match is not None  # every string matches: each part is optional
    scheme, authority, path, query, fragment = match.groups()
    return scheme, authority, path, query, fragment


def remove_dot_segments(path: str) -> str:
    """RFC 3986 §5.2.4."""
    output: list[str] = []
    while path:
        if path.startswith("../"):
            path = path[3:]
        elif path.startswith(("./", "/./")):
            path = path[2:]
        elif path == "/.":
            path = "/"
        elif path.startswith("/../"):
            path = path[3:]
            if output:
                output.pop()
        elif path == "/..":
            path = "/"
            if output:
                output.pop()
        elif path in (".", ".."):
            path = ""
        else:
            start = 1 if path.startswith("/") else 0
            cut = path.find("/", start)
            cut = len(path) if cut < 0 else cut
            output.append(path[:cut])
            path = path[cut:]
    return "".join(output)


def _join(scheme: str | None, authority: str | None, path: str, query: str | None, fragment: str | None) -> str:
    text = f"{scheme}:" if scheme is not None else ""
    if authority is not None:
        text += f"//{authority}"
    text += path
    if query is not None:
        text += f"?{query}"
    if fragment is not None:
        text += f"#{fragment}"
    return text


def resolve(reference: str, base: str | None) -> str:
    """Return ``reference`` resolved against ``base`` (unchanged if it is absolute or there is no base)."""
    scheme, authority, path, query, fragment = _split(reference)
    if scheme is not None or base is None:
        return reference
    b_scheme, b_authority, b_path, b_query, _ = _split(base)
    if authority is not None:
        return _join(b_scheme, authority, path, query, fragment)
    if path == "":
        return _join(b_scheme, b_authority, b_path, query if query is not None else b_query, fragment)
    if path.startswith("/"):
        return _join(b_scheme, b_authority, remove_dot_segments(path), query, fragment)
    directory = "/" if b_authority is not None and b_path == "" else b_path[: b_path.rfind("/") + 1]
    merged = directory + path
    return _join(b_scheme, b_authority, remove_dot_segments(merged), query, fragment)

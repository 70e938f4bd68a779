"""Refuse what must never run: updates, and SERVICE calls outside the allow-list.

pyoxigraph sends SERVICE requests itself, to any host, with no hook to filter them, so the
allow-list is enforced on the query text before the engine sees it:

1. a cheap scan: a query that never spells ``service`` (in any case, even through a
   ``\\u`` escape) cannot call one;
2. otherwise rdflib parses it and every ``SERVICE`` target, with prefixes and the base IRI
   resolved, must be an allow-listed endpoint, spelled exactly; ``SERVICE ?var`` is refused;
3. a small tokenizer that skips strings, comments and IRIs counts the ``SERVICE`` keywords
   too: if it sees more than rdflib did, or rdflib cannot parse a query that has any, the
   query is refused rather than trusted.

The tokenizer also names the query form (SELECT, ASK, CONSTRUCT, DESCRIBE, or an update
keyword) by skipping the prologue, so updates sent as ``query=`` get a clear refusal.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from mqmkg.errors import ServiceRefused

QUERY_FORMS = ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE")
UPDATE_KEYWORDS = ("INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY", "WITH")

# Order matters: the first alternative that matches at a position wins, as in a lexer.
# No alternative can backtrack more than linearly; an unterminated string ends the scan.
_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<comment>\#[^\r\n]*)
  | (?P<string>\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"
              |'''(?:[^'\\]|\\.|'(?!''))*'''
              |"(?:[^"\\\r\n]|\\.)*"
              |'(?:[^'\\\r\n]|\\.)*')
  | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
  | (?P<var>[?$][\w\u00b7\u0300-\u036f\u203f-\u2040]+)
  | (?P<pname>[^\W\d][\w.\-]*:[\w.\-:%\\]*|:[\w.\-:%\\]*)
  | (?P<word>[^\W\d][\w\-]*)
  | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)
_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")


@dataclass(frozen=True)
class Token:
    """A lexical token: its kind (``iri``, ``string``, ``word``, ``pname``, …) and text."""

    kind: str
    text: str
    start: int


def tokens(text: str) -> Iterator[Token]:
    """Yield the tokens of a query, whitespace and comments left out.

    An opening quote with no closing one ends the scan: such a query cannot parse, so
    nothing after it can run.
    """
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:  # pragma: no cover - ``other`` matches any character
            return
        kind = match.lastgroup or "other"
        if kind == "other" and match.group() in "\"'":
            return
        if kind not in ("ws", "comment"):
            yield Token(kind, match.group(), position)
        position = match.end()


def unescape_codepoints(text: str) -> str:
    """Apply SPARQL's ``\\uXXXX`` / ``\\UXXXXXXXX`` escapes (SPARQL 1.1 §19.2)."""

    def replace(match: re.Match[str]) -> str:
        code = int(match.group(1) or match.group(2), 16)
        return chr(code) if code <= 0x10FFFF else match.group()

    return _ESCAPE.sub(replace, text)


def query_form(text: str) -> str | None:
    """Return the first keyword after the prologue (upper case), or None if there is none.

    ``SELECT``, ``ASK``, ``CONSTRUCT`` and ``DESCRIBE`` are queries; ``INSERT``, ``LOAD`` and
    the other update keywords mean someone sent an update as a query.
    """
    stream = tokens(text)
    for token in stream:
        upper = token.text.upper()
        if token.kind == "word" and upper == "BASE":
            next(stream, None)
            continue
        if token.kind == "word" and upper == "PREFIX":
            next(stream, None)
            next(stream, None)
            continue
        if token.kind == "word":
            return upper
        return None
    return None


def nesting_depth(text: str) -> int:
    """Return how deep brackets ``( { [`` nest outside strings, comments and IRIs.

    pyoxigraph's recursive-descent parser overflows its stack (and the process dies) on
    a few thousand levels; the endpoint refuses deep queries before they reach it.
    """
    depth = deepest = 0
    for token in tokens(text):
        if token.kind != "other":
            continue
        if token.text in "({[":
            depth += 1
            deepest = max(deepest, depth)
        elif token.text in ")}]":
            depth = max(depth - 1, 0)
    return deepest


def mentions_service(text: str) -> bool:
    """Tell whether the letters ``service`` occur anywhere, escapes decoded (the cheap scan)."""
    return "service" in text.lower() or ("\\" in text and "service" in unescape_codepoints(text).lower())


def count_service_keywords(text: str) -> int:
    """Count ``SERVICE`` keyword tokens (not strings, comments, IRIs, prefixed names, variables)."""
    return sum(1 for t in tokens(unescape_codepoints(text)) if t.kind == "word" and t.text.upper() == "SERVICE")


@dataclass(frozen=True)
class ServiceCall:
    """A SERVICE clause found by the parser: its target IRI, or None for ``SERVICE ?var``."""

    iri: str | None
    variable: str | None


def service_calls(text: str, base_iri: str | None, prefixes: Mapping[str, str] | None = None) -> list[ServiceCall]:
    """Return every SERVICE clause of a query, IRIs resolved; raise ValueError if it does not parse.

    ``prefixes`` are the prefixes the engine predeclares (the house prefixes): the query's
    own ``PREFIX`` lines override them, as in the engine.
    """
    import functools

    from rdflib.plugins.sparql.algebra import translatePName, translatePrologue, traverse
    from rdflib.plugins.sparql.parser import parseQuery
    from rdflib.plugins.sparql.parserutils import CompValue
    from rdflib.term import URIRef, Variable

    try:
        parsed = parseQuery(text)
        prologue = translatePrologue(parsed[0], base_iri, initNs=dict(prefixes or {}))  # issue 9: house prefixes
        tree = traverse(parsed[1], functools.partial(translatePName, prologue=prologue))
    except RecursionError as exc:  # rdflib 7.6 recurses forever on SERVICE nested in SERVICE
        raise ValueError("too deeply nested for its grammar (nested SERVICE clauses are not supported)") from exc
    except Exception as exc:  # rdflib raises pyparsing errors, ValueError, KeyError, …
        raise ValueError(str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from exc
    found: list[ServiceCall] = []

    def visit(node: object) -> None:
        if isinstance(node, CompValue) and node.name == "ServiceGraphPattern":
            term = node.get("term")
            if isinstance(term, Variable):
                found.append(ServiceCall(None, str(term)))
            elif isinstance(term, URIRef):
                found.append(ServiceCall(str(term), None))
            else:
                found.append(ServiceCall(None, repr(term)))

    traverse(tree, visit)
    return found


def check_services(
    text: str,
    base_iri: str | None,
    allowlist: tuple[str, ...],
    prefixes: Mapping[str, str] | None = None,  # issue 9: the engine's predeclared prefixes
) -> tuple[str, ...]:
    """Return the allow-listed endpoints a query calls; raise ServiceRefused for anything else."""
    if not mentions_service(text):
        return ()
    keywords = count_service_keywords(text)
    try:
        calls = service_calls(text, base_iri, prefixes)
    except ValueError as exc:
        if keywords == 0:
            return ()  # "service" only in strings, comments or names; the engine reports the syntax error
        raise ServiceRefused(f"the query uses SERVICE and the guard's parser (rdflib) cannot check it: {exc}") from exc
    if keywords > len(calls):
        raise ServiceRefused("the query has SERVICE keywords the guard's parser did not account for")
    allowed = _allowed_text(allowlist)
    used: list[str] = []
    for call in calls:
        if call.iri is None:
            raise ServiceRefused(
                f"SERVICE with a variable ({call.variable}) is refused: only these endpoints may be called: {allowed}"
            )
        if call.iri not in allowlist:
            raise ServiceRefused(f"SERVICE <{call.iri}> is not on the allow-list; allowed: {allowed}")
        if call.iri not in used:
            used.append(call.iri)
    return tuple(used)


def _allowed_text(allowlist: tuple[str, ...]) -> str:
    return ", ".join(f"<{iri}>" for iri in allowlist) if allowlist else "none"

"""Refuse what must never run: updates, queries too deep for the engine, and SERVICE calls
outside the allow-list.

pyoxigraph sends SERVICE requests itself, to any host, with no hook to filter them, so the
allow-list is judged on the query text, by two independent readings of exactly the text the
engine runs:

1. ``mqmkg.sparql.lexer``, which reads the text as the engine's grammar does (comments end
   at CR or LF, no escapes outside strings and IRIs, ``<`` by context, keywords glued to
   their neighbours), finds every place the engine could see a ``SERVICE`` keyword and the
   endpoint each one names (prefixes, ``BASE`` and the endpoint's own IRI applied);
2. rdflib's SPARQL parser, on the same text with its line ends and escapes made to mean
   what they mean to the engine (CR read as LF; no escape may decode to a character that
   changes how the text splits into tokens).

A query runs only if both readings find the same SERVICE endpoints, every one of them on
the allow-list, and the lexer read every ``SERVICE`` with certainty; otherwise it is refused
with the reason. This is one of two barriers: queries that call no allow-listed endpoint
run in worker processes with no network at all (``mqmkg.sparql.isolation``), so a mistake
here alone cannot reach a host.

A query that never spells ``service`` (in any case, even through a ``\\u`` escape) cannot
call one, and is not parsed by rdflib at all.
"""

from __future__ import annotations

import contextlib
import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass

from mqmkg.errors import QueryTooComplex, ServiceRefused
from mqmkg.sparql.iri import resolve
from mqmkg.sparql.lexer import Scan, Token, expand_pname, line_column, scan, tokens, unescape_iri

__all__ = [
    "QUERY_FORMS",
    "UPDATE_KEYWORDS",
    "QueryFacts",
    "ServiceCall",
    "check_limits",
    "check_services",
    "count_service_keywords",
    "inspect",
    "mentions_service",
    "nesting_depth",
    "query_form",
    "service_calls",
    "tokens",
    "unescape_codepoints",
]

QUERY_FORMS = ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE")
UPDATE_KEYWORDS = ("INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY", "WITH")

_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")
# Characters that, produced by rdflib's up-front escape decoding, could end a string or an
# IRI early, start a comment, or change what a backslash means: the engine never decodes
# escapes before it splits the text into tokens.
_TOKEN_CHANGING = frozenset("\"'\\<>{}|^`#") | {chr(c) for c in range(0x21)} | {chr(c) for c in range(0x7F, 0xA0)}


@dataclass(frozen=True)
class QueryFacts:
    """What the lexer learns about a query before any worker sees it."""

    form: str | None
    brackets: int
    depth: int
    # Every keyword and function name the query spells, upper case (the result cache reads it).
    words: frozenset[str] = frozenset()


def inspect(text: str) -> QueryFacts:
    """Read a query once: its form (first keyword after the prologue), bracket nesting, tree depth, words."""
    found = scan(text)
    words = frozenset(t.text.upper() for t in found.tokens if t.kind == "word")
    return QueryFacts(form=_form(found.tokens), brackets=found.brackets, depth=found.depth, words=words)


def check_limits(facts: QueryFacts, max_brackets: int, max_depth: int) -> None:
    """Raise QueryTooComplex for a query the engine's recursive parser or evaluator might not survive."""
    if facts.brackets > max_brackets:
        raise QueryTooComplex(
            f"the query nests brackets {facts.brackets} deep; the limit is {max_brackets} (Settings.max_query_depth)"
        )
    if facts.depth > max_depth:
        raise QueryTooComplex(
            f"the query's parse tree would be {facts.depth} levels deep (brackets, chains of operators such as "
            f"+ || ! / |, and chained patterns such as UNION, OPTIONAL, FILTER); the limit is {max_depth} "
            "(Settings.max_query_complexity): split the expression, or use IN (...) or VALUES for long alternatives"
        )


def _form(found: tuple[Token, ...]) -> str | None:
    stream = iter(found)
    for token in stream:
        upper = token.text.upper()
        if token.kind == "word" and upper in ("BASE", "VERSION"):
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


def query_form(text: str) -> str | None:
    """Return the first keyword after the prologue (upper case), or None if there is none.

    ``SELECT``, ``ASK``, ``CONSTRUCT`` and ``DESCRIBE`` are queries; ``INSERT``, ``LOAD`` and
    the other update keywords mean someone sent an update as a query.
    """
    return _form(scan(text).tokens)


def nesting_depth(text: str) -> int:
    """Return how deep brackets ``( { [`` nest outside strings, comments and IRIs."""
    return scan(text).brackets


def unescape_codepoints(text: str) -> str:
    """Apply SPARQL's ``\\uXXXX`` / ``\\UXXXXXXXX`` escapes everywhere (SPARQL 1.1 §19.2), as rdflib does."""

    def replace(match: re.Match[str]) -> str:
        code = int(match.group(1) or match.group(2), 16)
        return chr(code) if code <= 0x10FFFF else match.group()

    return _ESCAPE.sub(replace, text)


def mentions_service(text: str) -> bool:
    """Tell whether the letters ``service`` occur anywhere, escapes decoded (the cheap scan)."""
    return "service" in text.lower() or ("\\" in text and "service" in unescape_codepoints(text).lower())


# -- the lexer's reading ----------------------------------------------------------------------


@dataclass(frozen=True)
class ServiceCall:
    """A SERVICE clause: its target IRI, or the variable of ``SERVICE ?var``."""

    iri: str | None
    variable: str | None


@dataclass(frozen=True)
class _Reading:
    calls: tuple[ServiceCall, ...]
    doubts: tuple[str, ...]  # why a SERVICE keyword could not be read with certainty


def _is_site(token: Token) -> bool:
    """Tell whether the engine could read a SERVICE keyword in this token.

    The engine's keywords need no word boundary, so ``SERVICESILENT`` and ``trueSERVICE``
    hold one; a prefixed name can hide one in its prefix (``SERVICEex:x``) but not in its
    local part; variables, blank nodes and language tags cannot.
    """
    if token.kind == "word":
        return "service" in token.text.lower()
    if token.kind == "pname":
        return "service" in token.text.partition(":")[0].lower()
    return False


def _prologue(found: tuple[Token, ...], base_iri: str | None, prefixes: Mapping[str, str]) -> tuple[str | None, dict]:
    """Return the base IRI and prefix map in force after the prologue, as the engine builds them."""
    base, names = base_iri, dict(prefixes)
    index = 0
    while index < len(found):
        word = found[index].text.upper() if found[index].kind == "word" else ""
        if word == "BASE" and index + 1 < len(found) and found[index + 1].kind == "iri":
            value = unescape_iri(found[index + 1].text[1:-1])
            base = resolve(value, base) if value is not None else base
            index += 2
        elif word == "PREFIX" and index + 2 < len(found) and found[index + 2].kind == "iri":
            value = unescape_iri(found[index + 2].text[1:-1])
            if value is not None:
                names[found[index + 1].text[:-1]] = resolve(value, base)
            index += 3
        elif word == "VERSION":
            index += 2
        else:
            break
    return base, names


def _where(text: str, token: Token) -> str:
    line, column = line_column(text, token.start)
    return f"line {line}, column {column}"


def _lexer_reading(text: str, found: Scan, base_iri: str | None, prefixes: Mapping[str, str]) -> _Reading:
    """Read every SERVICE site; stop at the first one that cannot be read with certainty."""
    base, names = _prologue(found.tokens, base_iri, prefixes)
    calls: list[ServiceCall] = []
    stream = found.tokens
    for index, token in enumerate(stream):
        if not _is_site(token):
            continue
        if token.kind != "word" or token.text.upper() != "SERVICE":
            doubt = f"{token.text!r} at {_where(text, token)} may hold a SERVICE keyword glued to a neighbour"
            return _Reading(tuple(calls), (doubt,))
        following = stream[index + 1 : index + 3]
        if following and following[0].kind == "word" and following[0].text.upper() == "SILENT":
            following = following[1:]
        call, doubt = _target(text, token, following[0] if following else None, base, names)
        if doubt:
            return _Reading(tuple(calls), (doubt,))
        calls.append(call)  # type: ignore[arg-type]
    if calls and found.ambiguities:
        ambiguity = found.ambiguities[0]
        line, column = line_column(text, ambiguity.start)
        doubt = (
            f"{ambiguity.text!r} at line {line}, column {column} reads as less-than here but would also "
            "make an IRI that hides a comment or a quote"
        )
        return _Reading(tuple(calls), (doubt,))
    return _Reading(tuple(calls), ())


def _target(
    text: str, keyword: Token, target: Token | None, base: str | None, names: Mapping[str, str]
) -> tuple[ServiceCall | None, str]:
    """Read the endpoint after a SERVICE keyword: a call, or why it cannot be read."""
    if target is None:
        return None, f"SERVICE at {_where(text, keyword)} names no endpoint"
    if target.kind == "var":
        return ServiceCall(None, "?" + target.text[1:]), ""
    if target.kind == "iri":
        value = unescape_iri(target.text[1:-1])
        if value is None:
            return None, f"the IRI {target.text} at {_where(text, target)} holds an escape the engine refuses"
        return ServiceCall(resolve(value, base), None), ""
    if target.kind == "pname":
        value = expand_pname(target.text, names)
        if value is None:
            return None, f"the prefix of {target.text} at {_where(text, target)} is not declared"
        return ServiceCall(value, None), ""
    return None, f"SERVICE at {_where(text, keyword)} is followed by {target.text!r}, not an endpoint"


# -- rdflib's reading -------------------------------------------------------------------------


def rdflib_text(text: str) -> str:
    """Return the text rdflib must read to split it into tokens as the engine does.

    rdflib decodes every escape before parsing and ends comments only at LF; the engine
    decodes escapes only inside strings and IRIs (anywhere else a backslash is a syntax
    error) and ends comments at CR too. CR plays the same part as LF everywhere in the
    grammar, so it is read as LF. An escape that would decode to a quote, a backslash,
    ``<``, ``>``, ``#``, white space or a control character could move a token boundary for
    rdflib alone, so it is written ``\u0058`` (``X``) instead: a character like any other
    inside a string, and still an error anywhere the engine would refuse it.
    """
    from rdflib.plugins.sparql.parser import expandUnicodeEscapes_re

    def neutral(match: re.Match[str]) -> str:
        code = int(match.group(1), 16)
        return "\\u0058" if code <= 0x10FFFF and chr(code) in _TOKEN_CHANGING else match.group()

    return expandUnicodeEscapes_re.sub(neutral, text).replace("\r", "\n")


def service_calls(text: str, base_iri: str | None, prefixes: Mapping[str, str] | None = None) -> list[ServiceCall]:
    """Return every SERVICE clause rdflib finds, IRIs resolved; raise ValueError if it cannot read the query."""
    readable = rdflib_text(text)
    return _rdflib_calls(readable, base_iri, prefixes)


def _rdflib_calls(readable: str, base_iri: str | None, prefixes: Mapping[str, str] | None) -> list[ServiceCall]:
    from rdflib.plugins.sparql.algebra import translatePName, translatePrologue, traverse
    from rdflib.plugins.sparql.parser import parseQuery
    from rdflib.plugins.sparql.parserutils import CompValue
    from rdflib.term import URIRef, Variable

    try:
        parsed = parseQuery(readable)
        prologue = translatePrologue(parsed[0], base_iri, dict(prefixes or {}))
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
                found.append(ServiceCall(None, "?" + str(term)))
            elif isinstance(term, URIRef):
                found.append(ServiceCall(str(term), None))
            else:
                found.append(ServiceCall(None, repr(term)))

    traverse(tree, visit)
    return found


def without_inner_hashes(text: str, found: Scan) -> str:
    """Return the text with every ``#`` inside an IRI or a string (as the lexer reads it) written ``%23``.

    rdflib 7.6 records each SERVICE clause's text by searching the whole query again with
    ``#`` taken as a comment start everywhere, and fails when a ``#`` inside an IRI or string
    stands before a SERVICE on the same line (``?s <http://a#p> ?o . SERVICE …``). Removing
    those ``#`` can only show rdflib more of the text as code, never hide any from it.
    """
    parts: list[str] = []
    done = 0
    for token in found.tokens:
        if token.kind in ("iri", "string") and "#" in token.text:
            parts.append(text[done : token.start])
            parts.append(token.text.replace("#", "%23"))
            done = token.end
    parts.append(text[done:])
    return "".join(parts)


# -- the verdict ------------------------------------------------------------------------------


def count_service_keywords(text: str) -> int:
    """Count the places where the engine could read a ``SERVICE`` keyword (not strings, comments, IRIs)."""
    return sum(1 for token in scan(text).tokens if _is_site(token))


def _describe(calls: list[ServiceCall] | tuple[ServiceCall, ...]) -> str:
    if not calls:
        return "none"
    return ", ".join(f"<{c.iri}>" if c.iri is not None else str(c.variable) for c in calls)


def _key(call: ServiceCall) -> tuple[str, str]:
    return (call.iri or "", call.variable or "")


def check_services(
    text: str, base_iri: str | None, allowlist: tuple[str, ...], prefixes: Mapping[str, str] | None = None
) -> tuple[str, ...]:
    """Return the allow-listed endpoints a query calls; raise ServiceRefused for anything else.

    ``prefixes`` are the prefixes the engine is given besides those the query declares (the
    house prefixes); both readings use them.
    """
    if not mentions_service(text):
        return ()
    names = dict(prefixes or {})
    found = scan(text)
    mine = _lexer_reading(text, found, base_iri, names)
    if mine.doubts:  # refused without asking rdflib, which may be slow on a large text
        raise ServiceRefused(f"the guard cannot read the query's SERVICE clauses with certainty: {mine.doubts[0]}")
    try:
        theirs: list[ServiceCall] | None = service_calls(text, base_iri, names)
        unreadable = ""
    except ValueError as exc:
        theirs, unreadable = None, str(exc)
    if theirs is None and mine.calls and without_inner_hashes(text, found) != text:
        with contextlib.suppress(ValueError):  # then the first failure stands
            theirs = _rdflib_calls(rdflib_text(without_inner_hashes(text, found)), base_iri, names)
    if theirs is None and not mine.calls:
        return ()  # "service" only in strings, comments or names; the engine reports any syntax error
    if theirs is None:
        raise ServiceRefused(f"the query uses SERVICE and the guard's parser (rdflib) cannot check it: {unreadable}")
    if sorted(map(_key, mine.calls)) != sorted(map(_key, theirs)):
        raise ServiceRefused(
            f"the guard's two readings of the query disagree about SERVICE: the engine's grammar reads "
            f"{_describe(mine.calls)}, rdflib reads {_describe(theirs)}"
        )
    allowed = _allowed_text(allowlist)
    used: list[str] = []
    for call in mine.calls:
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

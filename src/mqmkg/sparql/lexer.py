"""Read SPARQL query text exactly as the engine does: pyoxigraph 0.5.13 (Oxigraph's spargebra
PEG grammar), so that what the guard judges is what the engine runs.

The SPARQL 1.1 terminals (§19.8) are regular but for one: ``<`` is the less-than operator
after an operand inside an expression, and opens an IRIREF everywhere else. Oxigraph, being
a PEG parser, decides by grammar context (``FILTER(1<2)#>`` is ``1 < 2`` then a comment,
although ``<2)#>`` would also match IRIREF); so does this lexer: it tracks which brackets it
is inside (group pattern, blank-node property list, expression, term list, triple term) and
whether the previous token ended an operand.

Other engine facts mirrored here, each replayed against pyoxigraph in the tests:

- whitespace is space, tab, CR and LF; a ``#`` comment ends at CR or at LF;
- codepoint escapes (``\\uXXXX``) are not decoded before parsing (the
  ``standard-unicode-escaping`` build feature is off): they mean a character inside strings
  and IRIs only, and anywhere else a backslash is a syntax error (but for the PN_LOCAL
  escapes such as ``ex:a\\#b``);
- inside an IRI the escape's digits go through Rust's ``u32::from_str_radix``, which takes
  a leading ``+`` (``\\u+041`` is ``A``); an IRIREF runs to the first ``>`` and the IRI
  parser then rejects what is not an IRI;
- keywords are matched by prefix, ASCII case-insensitively, with no word boundary:
  ``SERVICESILENT<x>``, ``SERVICEex:x`` and ``trueSERVICE`` all hold a SERVICE keyword;
- names use the grammar's character classes exactly (nothing beyond U+FFFF).

Besides the tokens, one pass measures how deep the parse tree can get (brackets, operator
chains, chained patterns): the engine's parser and evaluator recurse on that depth.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

_BASE = (
    "A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u02ff\u0370-\u037d\u037f-\u1fff\u200c-\u200d"
    "\u2070-\u218f\u2c00-\u2fef\u3001-\ud7ff\uf900-\ufdcf\ufdf0-\ufffd"
)
_U = "_" + _BASE
_CHARS = "\\-0-9\u00b7\u0300-\u036f\u203f-\u2040" + _U
_PLX = r"(?:%[0-9A-Fa-f]{2}|\\[_~.\-!$&'()*+,;=/?#@%])"
_PN_PREFIX = rf"[{_BASE}][{_CHARS}]*+(?:\.++[{_CHARS}]++)*+"
_PN_LOCAL = rf"(?:[{_U}:0-9]|{_PLX})(?:[{_CHARS}:]|{_PLX})*+(?:\.++(?:[{_CHARS}:]|{_PLX})++)?+"
_ECHAR = r"\\[tbnrf\"'\\]"
_UCHAR = r"\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8}"

# Each terminal as the PEG reads it: greedy repetitions that never give back (possessive).
_TERMINALS: tuple[tuple[str, str], ...] = (
    ("string", rf"'''(?:(?:''|')?+(?:[^'\\]|{_ECHAR}|{_UCHAR}))*+'''"),
    ("string", rf'"""(?:(?:""|")?+(?:[^"\\]|{_ECHAR}|{_UCHAR}))*+"""'),
    ("string", rf"'(?:[^'\\\n\r]|{_ECHAR}|{_UCHAR})*+'"),
    ("string", rf'"(?:[^"\\\n\r]|{_ECHAR}|{_UCHAR})*+"'),
    ("bnode", rf"_:[{_U}0-9][{_CHARS}]*+(?:\.++[{_CHARS}]++)*+"),
    ("pname", rf"(?:{_PN_PREFIX})?+:(?:{_PN_LOCAL})?+"),
    ("var", rf"[?$][{_U}0-9][{_U}0-9\u00b7\u0300-\u036f\u203f-\u2040]*+"),
    ("langtag", r"@[a-zA-Z]++(?:-[a-zA-Z0-9]++)*+(?:--[a-zA-Z]++)?+"),
    ("number", r"(?>[0-9]++\.[0-9]*+|\.[0-9]++|[0-9]++)[eE][+-]?[0-9]++|[0-9]*+\.[0-9]++|[0-9]++"),
    ("word", rf"[{_U}][{_U}0-9]*+"),
    ("punct", r"\^\^|&&|\|\||!=|>=|<=|\{\||\|\}|>>|[{}()\[\].,;*/+\-!=<>^|?~]"),
)
_TERMINAL = re.compile("|".join(f"(?P<{kind}{i}>{pattern})" for i, (kind, pattern) in enumerate(_TERMINALS)))
_SKIP = re.compile(r"(?:[ \t\r\n]++|#[^\r\n]*+)*+")
_IRIREF = re.compile(r"<([^>]*+)>")
# What an IRI body may hold (RFC 3987 characters, escapes, ``%XX``); anything else is refused
# by the engine's IRI parser. Used only to tell a plausible IRIREF from an operator.
# It stops at the first character that cannot be in one, so looking costs linear time overall.
_PLAUSIBLE_IRI = re.compile(
    r"<((?:[^\x00-\x20<>\"{}|^`\\\x7f-\x9f%]|%[0-9A-Fa-f]{2}|\\u[+0-9A-Fa-f][0-9A-Fa-f]{3}|\\U[+0-9A-Fa-f][0-9A-Fa-f]{7})*+)>"
)

OPERAND_WORDS = frozenset({"true", "false"})
# Tokens that make the parse tree one level deeper where they stand (binary and unary
# operators, path operators, and the keywords that nest or chain graph patterns; in a group
# pattern, the ``.``, ``;`` and ``,`` that add triple patterns count too, and so does each
# term of a collection, which the engine builds as a nested list).
_OPERATORS = frozenset({"||", "&&", "=", "!=", "<", ">", "<=", ">=", "+", "-", "*", "/", "!", "^", "|", "?"})
_NESTING_WORDS = frozenset(
    {"UNION", "OPTIONAL", "MINUS", "FILTER", "BIND", "SERVICE", "GRAPH", "EXISTS", "NOT", "IN", "LATERAL", "VALUES"}
)


@dataclass(frozen=True)
class Token:
    """A lexical token: its kind (``iri``, ``string``, ``word``, ``pname``, ``punct``, …), text and offset."""

    kind: str
    text: str
    start: int

    @property
    def end(self) -> int:
        return self.start + len(self.text)


@dataclass(frozen=True)
class Ambiguity:
    """A ``<`` read as less-than whose text would also make an IRI holding ``#`` or a quote."""

    start: int
    text: str


@dataclass
class _Frame:
    """An open bracket while scanning, with the depth bookkeeping of its current segment."""

    kind: str  # root, group, bnode, expr, terms, triple, reified
    mode: str = "plain"  # plain, select, modifiers, filter, values (which clause we are in)
    operators: int = 0
    deepest_child: int = 0
    best: int = 0

    def close_segment(self) -> None:
        self.best = max(self.best, self.operators + self.deepest_child)
        self.operators = self.deepest_child = 0

    def depth(self) -> int:
        return max(self.best, self.operators + self.deepest_child)


@dataclass(frozen=True)
class Scan:
    """Everything one pass over a query finds.

    ``tokens`` stop where the engine must fail (an unterminated string, a stray character):
    nothing after that point can run. ``complete`` tells whether the scan reached the end.
    """

    tokens: tuple[Token, ...]
    depth: int
    brackets: int
    ambiguities: tuple[Ambiguity, ...]
    complete: bool
    stop: int | None = None
    stop_reason: str = ""


@dataclass
class _Scanner:
    text: str
    frames: list[_Frame] = field(default_factory=lambda: [_Frame("root")])
    tokens: list[Token] = field(default_factory=list)
    ambiguities: list[Ambiguity] = field(default_factory=list)
    brackets: int = 0

    @property
    def frame(self) -> _Frame:
        return self.frames[-1]

    def ends_operand(self) -> bool:
        if not self.tokens:
            return False
        last = self.tokens[-1]
        if last.kind in ("var", "iri", "pname", "string", "number", "langtag", "bnode"):
            return True
        if last.kind == "word":
            return last.text in OPERAND_WORDS
        return last.kind == "punct" and last.text in (")", "]", ">>")

    def push(self, kind: str, token: Token) -> None:
        if self.frame.mode == "select" and kind == "group":
            self.frame.mode = "plain"  # the WHERE clause of a (sub)query starts
        self.tokens.append(token)
        self.frames.append(_Frame(kind))
        self.brackets = max(self.brackets, len(self.frames) - 1)

    def pop(self, token: Token) -> None:
        self.tokens.append(token)
        if len(self.frames) == 1:
            return  # an unbalanced closer: the engine reports it
        closed = self.frames.pop()
        parent = self.frame
        parent.deepest_child = max(parent.deepest_child, 1 + closed.depth())
        if parent.mode == "filter" or (parent.mode == "values" and closed.kind == "group"):
            parent.mode = "plain"

    def open_paren(self, token: Token) -> None:
        frame = self.frame
        previous = self.tokens[-1] if self.tokens else None
        if frame.kind == "expr":
            kind = "expr"
        elif frame.kind in ("terms", "triple", "reified", "bnode") or frame.mode == "values":
            kind = "terms"
        elif frame.mode in ("select", "modifiers"):
            kind = "expr"
        elif previous is not None and previous.kind == "word" and previous.text != "a":
            kind = "expr"  # FILTER(, BIND(, STR(, …
        elif previous is not None and previous.kind in ("iri", "pname") and frame.mode == "filter":
            kind = "expr"  # FILTER <f>( : a function call
        else:
            kind = "terms"  # a collection, a path group
        self.push(kind, token)

    def word(self, token: Token) -> None:
        upper = token.text.upper()
        frame = self.frame
        if upper == "SELECT":
            frame.mode = "select"
        elif upper in ("GROUP", "ORDER", "HAVING"):
            frame.mode = "modifiers"
        elif upper in ("WHERE", "LIMIT", "OFFSET", "BIND", "ASK", "CONSTRUCT", "DESCRIBE"):
            frame.mode = "plain"
        elif upper == "VALUES":
            frame.mode = "values"
        elif upper == "FILTER":
            frame.mode = "filter"
        if upper in _NESTING_WORDS:
            frame.operators += 1
        self.term(token)

    def less_than(self, position: int) -> int:
        """Read a ``<``: an operator after an operand in an expression, else an IRI or ``<<``."""
        text = self.text
        if self.frame.kind == "expr" and self.ends_operand():
            operator = "<=" if text.startswith("<=", position) else "<"
            candidate = _PLAUSIBLE_IRI.match(text, position)
            if candidate and re.search("[#']", candidate.group(1)):
                self.ambiguities.append(Ambiguity(position, candidate.group()))
            self.frame.operators += 1
            self.tokens.append(Token("punct", operator, position))
            return position + len(operator)
        if text.startswith("<<(", position):
            self.push("triple", Token("punct", "<<(", position))
            return position + 3
        if text.startswith("<<", position):
            self.push("reified", Token("punct", "<<", position))
            return position + 2
        match = _IRIREF.match(text, position)
        if match is None:
            return -1
        self.term(Token("iri", match.group(), position))
        return match.end()

    def term(self, token: Token) -> None:
        """Add a term; in a collection or a VALUES row each one nests the list a level deeper."""
        if self.frame.kind == "terms":
            self.frame.operators += 1
        self.tokens.append(token)

    def punct(self, token: Token) -> None:
        text = token.text
        frame = self.frame
        if text == "(":
            self.open_paren(token)
        elif text == "{" or text == "{|":
            self.push("group", token)
        elif text == "[":
            self.push("bnode", token)
        elif text in (")", "}", "|}", "]") or (text == ">>" and frame.kind == "reified"):
            self.pop(token)
        elif text == "," and frame.kind in ("expr", "terms", "triple", "root"):
            frame.close_segment()  # arguments and list items sit side by side
            self.tokens.append(token)
        elif text in ".;," and frame.kind in ("group", "bnode"):
            frame.operators += 1  # one more triple pattern: the engine joins them one level deeper each
            self.tokens.append(token)
        else:
            if text in _OPERATORS:
                frame.operators += 1
            self.tokens.append(token)

    def depth(self) -> int:
        """Return the tree depth measure, closing any brackets left open."""
        carried = 0
        for frame in reversed(self.frames[1:]):
            carried = 1 + max(frame.best, frame.operators + max(frame.deepest_child, carried))
        root = self.frames[0]
        return max(root.best, root.operators + max(root.deepest_child, carried))

    def run(self) -> Scan:
        text = self.text
        position = _SKIP.match(text, 0).end()  # type: ignore[union-attr]
        stop_reason = ""
        while position < len(text):
            char = text[position]
            if char == "<":
                end = self.less_than(position)
                if end < 0:
                    stop_reason = "an IRI with no closing '>'"
                    break
            elif text.startswith(")>>", position) and self.frame.kind == "triple":
                self.pop(Token("punct", ")>>", position))
                end = position + 3
            else:
                match = _TERMINAL.match(text, position)
                if match is None:
                    stop_reason = (
                        "a string that does not end or holds a bad escape"
                        if char in "\"'"
                        else f"the character {char!r}"
                    )
                    break
                kind = (match.lastgroup or "punct").rstrip("0123456789")
                token = Token(kind, match.group(), position)
                if kind == "punct":
                    self.punct(token)
                elif kind == "word":
                    self.word(token)
                else:
                    self.term(token)
                end = match.end()
            position = _SKIP.match(text, end).end()  # type: ignore[union-attr]
        complete = position >= len(text)
        return Scan(
            tokens=tuple(self.tokens),
            depth=self.depth(),
            brackets=self.brackets,
            ambiguities=tuple(self.ambiguities),
            complete=complete,
            stop=None if complete else position,
            stop_reason=stop_reason,
        )


def scan(text: str) -> Scan:
    """Read a query into tokens (whitespace and comments left out), measuring its depth."""
    return _Scanner(text).run()


def tokens(text: str) -> Iterator[Token]:
    """Yield the tokens of a query, whitespace and comments left out."""
    yield from scan(text).tokens


def line_column(text: str, offset: int) -> tuple[int, int]:
    """Return the 1-based line and column of an offset (LF, CR and CRLF end lines)."""
    before = text[:offset]
    lines = re.split(r"\r\n|\r|\n", before)
    return len(lines), len(lines[-1]) + 1


def _hex_value(digits: str) -> int | None:
    """Parse like Rust's ``u32::from_str_radix(digits, 16)``: an optional ``+``, then hex digits."""
    body = digits[1:] if digits.startswith("+") else digits
    if not body or any(c not in "0123456789abcdefABCDEF" for c in body):
        return None
    return int(body, 16)


def unescape_iri(body: str) -> str | None:
    """Decode the ``\\u``/``\\U`` escapes of an IRIREF body as the engine does; None if it refuses them."""
    out: list[str] = []
    rest = body
    while "\\" in rest:
        before, _, after = rest.partition("\\")
        out.append(before)
        size = {"u": 4, "U": 8}.get(after[:1])
        if size is None or len(after) < 1 + size:
            return None
        code = _hex_value(after[1 : 1 + size])
        if code is None or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
            return None
        out.append(chr(code))
        rest = after[1 + size :]
    out.append(rest)
    return "".join(out)


_LOCAL_ESCAPE = re.compile(r"\\(.)")


def expand_pname(text: str, prefixes: Mapping[str, str]) -> str | None:
    """Expand a prefixed name (``ex:a\\#b``) with the declared prefixes; None if the prefix is unknown."""
    prefix, _, local = text.partition(":")
    if prefix not in prefixes:
        return None
    return prefixes[prefix] + _LOCAL_ESCAPE.sub(r"\1", local)

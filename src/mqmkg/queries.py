"""The catalogue of canned queries: ``queries/*.rq`` with their comment headers.

Each file starts with ``#`` lines::

    # title: Statements resting on a report
    # description: Every claim ... that cites the given report.
    # keywords: reports, provenance
    # param: key string = U.S. DOS Feb 1996 ; the report's citation key

A parameter has a name (a variable of the query, projected by its SELECT, as pyoxigraph
substitutions require), a type (``iri``, ``string``, ``date``, ``gYear``, ``integer``), a default and
a description. Values are bound as RDF terms through pyoxigraph substitutions, never by
editing the query text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import pyoxigraph as ox

from mqmkg.config import INSTANCE_BASE
from mqmkg.errors import InvalidIri, ParameterError, QueryFileError
from mqmkg.iri import named_node
from mqmkg.sparql.guard import QUERY_FORMS, tokens

XSD = "http://www.w3.org/2001/XMLSchema#"
_HEADER = re.compile(r"^#\s*(\w+):\s*(.*?)\s*$")
_PARAM = re.compile(r"^(\w+)\s+(iri|string|date|gYear|integer)\s*=\s*(.*?)\s*;\s*(.+)$")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_GYEAR = re.compile(r"-?\d{4}")
_INTEGER = re.compile(r"[+-]?\d{1,18}")
REQUIRED = ("title", "description", "keywords")
_DECLARED = re.compile(r"^\s*PREFIX\s+([A-Za-z][\w.-]*)\s*:\s*<([^>\s]*)>", re.IGNORECASE | re.MULTILINE)
_LOCAL_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]*")


def _iri(value: str) -> ox.NamedNode:
    """An IRI, or ``kg:name`` for an instance; checked against RFC 3987 (mqmkg.iri)."""
    try:
        return named_node(INSTANCE_BASE + value[3:] if value.startswith("kg:") else value)
    except InvalidIri as exc:
        raise ValueError(f"not an IRI (a full IRI or kg:name): {exc.reason} at character {exc.position + 1}") from exc


def _date(value: str) -> ox.Literal:
    """An ``xsd:date`` YYYY-MM-DD that names a day of the calendar (no 1992-02-31)."""
    if not _DATE.fullmatch(value):
        raise ValueError("not a date (YYYY-MM-DD)")
    try:
        date.fromisoformat(value)
    except ValueError as exc:
        raise ValueError(f"not a day of the calendar ({exc})") from exc
    return ox.Literal(value, datatype=ox.NamedNode(XSD + "date"))


def _gyear(value: str) -> ox.Literal:
    """An ``xsd:gYear``: four digits, optionally negative."""
    if not _GYEAR.fullmatch(value):
        raise ValueError("not a year (YYYY)")
    return ox.Literal(value, datatype=ox.NamedNode(XSD + "gYear"))


def _integer(value: str) -> ox.Literal:
    """An ``xsd:integer`` of at most 18 digits."""
    if not _INTEGER.fullmatch(value):
        raise ValueError("not an integer (at most 18 digits)")
    return ox.Literal(value, datatype=ox.NamedNode(XSD + "integer"))


_TYPED: dict[str, Callable[[str], ox.NamedNode | ox.Literal]] = {
    "iri": _iri,
    "date": _date,
    "gYear": _gyear,
    "integer": _integer,
}


@dataclass(frozen=True)
class Parameter:
    """One query parameter: its variable name, type, default and description."""

    name: str
    kind: str
    default: str
    description: str

    def term(self, raw: str) -> ox.NamedNode | ox.Literal:
        """Return the RDF term for a raw value, or raise ParameterError naming the parameter.

        A ``string`` is taken as given; every other type is checked for real (an IRI against
        RFC 3987, a date against the calendar) after trimming surrounding spaces.
        """
        if self.kind == "string":
            return ox.Literal(raw)
        try:
            return _TYPED[self.kind](raw.strip())
        except ValueError as exc:
            raise ParameterError(f"{self.name}: {raw!r} is {exc}", self.name) from exc


@dataclass(frozen=True)
class CannedQuery:
    """A query file and its header metadata."""

    name: str
    title: str
    description: str
    keywords: tuple[str, ...]
    parameters: tuple[Parameter, ...]
    text: str

    def substitutions(self, values: Mapping[str, str] | None = None) -> dict[ox.Variable, ox.NamedNode | ox.Literal]:
        """Return the bindings for ``values`` over the defaults; unknown names are refused."""
        values = dict(values or {})
        known = {p.name for p in self.parameters}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ParameterError(f"unknown parameter(s) {', '.join(unknown)}; {self.name} takes {sorted(known)}")
        return {ox.Variable(p.name): p.term(values.get(p.name, p.default)) for p in self.parameters}

    def with_values(self, values: Mapping[str, str] | None = None) -> str:
        """Return the text with its parameters bound by a ``VALUES`` block, for editing by hand.

        The block opens the ``WHERE`` group, so the group's FILTERs and the aggregates see
        the values as they see substitutions; a ``DESCRIBE ?x`` without a group gets one.
        The values are the defaults (or ``values``), checked and written as RDF terms.
        """
        bindings = self.substitutions(values)
        if not bindings:
            return self.text
        declared = {namespace: prefix for prefix, namespace in _DECLARED.findall(self.text)}
        names = " ".join(f"?{variable.value}" for variable in bindings)
        terms = " ".join(_sparql_term(term, declared) for term in bindings.values())
        block = f"VALUES ({names}) {{ ({terms}) }}"
        at, opens_group = _group_start(self.text)
        if opens_group:
            return f"{self.text[:at]}\n  {block}{self.text[at:]}"
        return f"{self.text[:at].rstrip()} WHERE {{ {block} }}\n{self.text[at:].lstrip()}"


def _compact(iri: str, declared: Mapping[str, str]) -> str:
    """Return ``prefix:local`` when the query declares the namespace and the local name is plain."""
    for namespace, prefix in declared.items():
        local = iri.removeprefix(namespace)
        if local != iri and _LOCAL_NAME.fullmatch(local):
            return f"{prefix}:{local}"
    return f"<{iri}>"


def _sparql_term(term: ox.NamedNode | ox.Literal, declared: Mapping[str, str]) -> str:
    """Write a parameter value in SPARQL syntax, with the query's own prefixes where they fit."""
    if isinstance(term, ox.NamedNode):
        return _compact(term.value, declared)
    if term.datatype.value == XSD + "string" or term.language:
        return str(term)
    return f"{ox.Literal(term.value)}^^{_compact(term.datatype.value, declared)}"


def _group_start(text: str) -> tuple[int, bool]:
    """Return where a query's WHERE group opens (just after its ``{``), or where a DESCRIBE's ends.

    The second value tells which: True for a group, False for a ``DESCRIBE`` without one.
    """
    stream = list(tokens(text))
    form = next((i for i, t in enumerate(stream) if t.kind == "word" and t.text.upper() in QUERY_FORMS), None)
    if form is None:
        raise QueryFileError("no SELECT, ASK, CONSTRUCT or DESCRIBE in the query")
    where = next((i for i, t in enumerate(stream) if t.kind == "word" and t.text.upper() == "WHERE"), None)
    start = form if where is None and stream[form].text.upper() in ("SELECT", "ASK") else where
    if start is not None:
        brace = next(t for t in stream[start:] if t.text == "{")
        return brace.start + 1, True
    described = stream[form + 1 :]
    end = next((t for t in described if t.kind not in ("var", "iri", "pname") and t.text != "*"), None)
    return (end.start if end else len(text.rstrip())), False


def parse_query_file(path: Path) -> CannedQuery:
    """Parse the header of one ``.rq`` file; raise QueryFileError naming the file and line."""
    text = path.read_text(encoding="utf-8")
    fields: dict[str, str] = {}
    parameters: list[Parameter] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.startswith("#"):
            break
        match = _HEADER.match(line)
        if not match:
            continue
        key, value = match.groups()
        if key == "param":
            param = _PARAM.match(value)
            if not param:
                raise QueryFileError(f"{path}:{number}: param must read 'name type = default ; description'")
            parameters.append(Parameter(*param.groups()))
        else:
            fields[key] = value
    missing = [key for key in REQUIRED if not fields.get(key)]
    if missing:
        raise QueryFileError(f"{path}: header lacks {', '.join(missing)}")
    return CannedQuery(
        name=path.stem,
        title=fields["title"],
        description=fields["description"],
        keywords=tuple(k.strip() for k in fields["keywords"].split(",") if k.strip()),
        parameters=tuple(parameters),
        text=text,
    )


def load_catalog(directory: Path, endpoints: Mapping[str, str] | None = None) -> dict[str, CannedQuery]:
    """Return every canned query of ``directory`` (not its subdirectories), by name.

    ``endpoints`` maps a SERVICE endpoint the files name (the Wikidata Query Service) to
    the one configured in its place, e.g. a local stand-in: the configured IRI, checked as
    an IRI, replaces ``<old>`` in the trusted query text; user values are never pasted in.
    """
    catalog = {}
    for path in sorted(directory.glob("*.rq")):
        query = parse_query_file(path)
        for old, new in (endpoints or {}).items():
            if new != old:
                query = replace(query, text=query.text.replace(f"<{old}>", f"<{ox.NamedNode(new).value}>"))
        catalog[path.stem] = query
    return catalog

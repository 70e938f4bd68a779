"""Query results as a table a person reads: what the canned-query pages render.

Pure functions from the endpoint's own serialisations (SPARQL JSON results, N-Triples) to
frozen view records; the templates escape every string once, on output. An IRI of this
dataset links to its ``/id/`` page (with its Wikidata item beside it when it has one),
other http(s) IRIs link to themselves; a literal's language or datatype is a small tag.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import pyoxigraph as ox
from markupsafe import Markup
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import SparqlLexer

from mqmkg.sparql.prefixes import HOUSE_PREFIXES

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
RDF_LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
WIKIDATA_PAGE = "https://www.wikidata.org/wiki/"
_LOCAL = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
_FORMATTER = HtmlFormatter(cssclass="highlight", wrapcode=True)


@dataclass(frozen=True)
class Cell:
    """One value: its text, a link, a small tag (language or datatype) and a tooltip."""

    kind: str  # "iri", "literal", "bnode" or "empty"
    text: str
    href: str | None = None
    tag: str | None = None
    title: str | None = None
    wikidata: str | None = None  # the QID of the Wikidata item an IRI of ours is linked to


@dataclass(frozen=True)
class Table:
    """A result as columns and rows; ``boolean`` is set for an ASK answer."""

    columns: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    boolean: bool | None = None


def compact(iri: str) -> str:
    """Return ``prefix:local`` for an IRI in a house namespace, or the IRI itself."""
    for prefix, namespace in HOUSE_PREFIXES.items():
        local = iri.removeprefix(namespace)
        if local != iri and _LOCAL.match(local):
            return f"{prefix}:{local}"
    return iri


@dataclass(frozen=True)
class CellMaker:
    """Builds cells: ``link`` maps an IRI to where it resolves here; ``wikidata`` maps IRIs to QIDs."""

    link: Callable[[str], str]
    wikidata: Mapping[str, str]

    def iri(self, iri: str) -> Cell:
        href = self.link(iri)
        if href == iri and not iri.startswith(("http://", "https://")):
            href = None  # urn:, mailto: … are shown, not linked
        return Cell("iri", compact(iri), href, None, iri, self.wikidata.get(iri))

    def literal(self, value: str, language: str | None, datatype: str | None) -> Cell:
        if language:
            return Cell("literal", value, tag=f"@{language}", title=f"language: {language}")
        if datatype and datatype not in (XSD_STRING, RDF_LANG_STRING):
            return Cell("literal", value, tag=compact(datatype), title=f"datatype: {datatype}")
        return Cell("literal", value)

    def json_term(self, term: Mapping[str, str] | None) -> Cell:
        """A cell from a SPARQL JSON results term (https://www.w3.org/TR/sparql11-results-json/)."""
        if term is None:
            return Cell("empty", "")
        if term["type"] == "uri":
            return self.iri(term["value"])
        if term["type"] == "bnode":
            return Cell("bnode", f"_:{term['value']}", title="blank node")
        return self.literal(term["value"], term.get("xml:lang"), term.get("datatype"))

    def ox_term(self, term: object) -> Cell:
        """A cell from a pyoxigraph term (graph results)."""
        if isinstance(term, ox.NamedNode):
            return self.iri(term.value)
        if isinstance(term, ox.BlankNode):
            return Cell("bnode", f"_:{term.value}", title="blank node")
        if isinstance(term, ox.Literal):
            return self.literal(term.value, term.language, term.datatype.value)
        return Cell("literal", str(term))

    def from_json(self, body: bytes) -> Table:
        """The table of a SPARQL JSON results document (SELECT or ASK)."""
        document = json.loads(body)
        if "boolean" in document:
            answer = bool(document["boolean"])
            return Table(("result",), ((Cell("literal", "true" if answer else "false"),),), answer)
        columns = tuple(document["head"]["vars"])
        bindings: Sequence[Mapping[str, Mapping[str, str]]] = document["results"]["bindings"]
        return Table(columns, tuple(tuple(self.json_term(row.get(c)) for c in columns) for row in bindings))

    def from_ntriples(self, body: bytes) -> Table:
        """The table of an N-Triples graph (CONSTRUCT or DESCRIBE): subject, predicate, object."""
        triples = ox.parse(body, format=ox.RdfFormat.N_TRIPLES)
        rows = tuple(tuple(self.ox_term(t) for t in (q.subject, q.predicate, q.object)) for q in triples)
        return Table(("subject", "predicate", "object"), rows)


def highlight_sparql(text: str) -> Markup:
    """Return a query as highlighted HTML (Pygments escapes the text; the result is safe)."""
    return Markup(highlight(text, SparqlLexer(), _FORMATTER))  # Pygments output is escaped


def highlight_css() -> str:
    """Return the style sheet of the highlighting (static/highlight.css is generated from it)."""
    return str(_FORMATTER.get_style_defs(".highlight"))

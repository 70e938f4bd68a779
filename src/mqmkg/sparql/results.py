"""Serialise query results: solution tables and booleans in the four SPARQL results
formats, graphs in Turtle, N-Triples, JSON-LD and RDF/XML.

Solution tables are written here rather than by pyoxigraph because the endpoint cuts them
at the row cap and the byte cap, and pyoxigraph only serialises a whole, unconsumed result
iterator. ``write_solutions`` and ``write_triples`` read a result lazily and stop at either
cap, so an oversized result is never built in full; what they return is still a complete,
valid document.

- JSON: https://www.w3.org/TR/sparql11-results-json/
- XML: https://www.w3.org/TR/rdf-sparql-XMLres/
- CSV and TSV: https://www.w3.org/TR/sparql11-results-csv-tsv/ (CSV: CRLF line ends and
  RFC 4180 quoting; TSV: terms in Turtle/N-Triples syntax with tab, newline and carriage
  return escaped, LF line ends)

Booleans (ASK) have no CSV/TSV form in the spec; like Apache Jena, they are written as a
one-column table with the variable ``_askResult``.
"""

from __future__ import annotations

import csv
import functools
import io
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

import pyoxigraph as ox

from mqmkg.errors import NotAcceptable
from mqmkg.sparql.formats import CSV, JSON, JSONLD, NTRIPLES, RDFXML, TSV, TURTLE, XML, Format
from mqmkg.sparql.prefixes import HOUSE_PREFIXES

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
RDF_LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
RDF_DIR_LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#dirLangString"
RESULTS_NS = "http://www.w3.org/2005/sparql-results#"
# XML parsers turn a raw CR into LF (XML 1.0 §2.11): write it as a character reference.
_XML_TEXT = {"\r": "&#13;"}

# Prefixes offered to graph serialisers (the house prefixes); only those a result uses are written.
PREFIXES = HOUSE_PREFIXES

Term = ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple
Row = Sequence[Term | None]

_RDF_FORMATS = {
    TURTLE.name: ox.RdfFormat.TURTLE,
    NTRIPLES.name: ox.RdfFormat.N_TRIPLES,
    JSONLD.name: ox.RdfFormat.JSON_LD,
    RDFXML.name: ox.RdfFormat.RDF_XML,
}


# JSON string syntax as json.dumps(..., ensure_ascii=False) writes it (the C encoder).
_json_string: Callable[[str], str] = json.encoder.encode_basestring  # type: ignore[attr-defined]


def _literal_datatype(literal: ox.Literal) -> str | None:
    datatype = literal.datatype.value
    return None if datatype in (XSD_STRING, RDF_LANG_STRING, RDF_DIR_LANG_STRING) else datatype


def json_term(term: Term) -> dict[str, object]:
    """Return the SPARQL JSON object of one RDF term."""
    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    if isinstance(term, ox.Triple):
        return {
            "type": "triple",
            "value": {
                "subject": json_term(term.subject),
                "predicate": json_term(term.predicate),
                "object": json_term(term.object),
            },
        }
    out: dict[str, object] = {"type": "literal", "value": term.value}
    if term.language:
        out["xml:lang"] = term.language
        if term.direction is not None:
            out["its:dir"] = str(term.direction.value if hasattr(term.direction, "value") else term.direction)
    datatype = _literal_datatype(term)
    if datatype is not None:
        out["datatype"] = datatype
    return out


def _json_head(variables: Sequence[str]) -> str:
    names = json.dumps(list(variables), ensure_ascii=False, separators=(",", ":"))
    return '{"head":{"vars":' + names + '},"results":{"bindings":['


@functools.lru_cache(maxsize=256)
def _json_keys(variables: tuple[str, ...]) -> tuple[tuple[int, str], ...]:
    """Return each variable's column and JSON key (``"name":``), sorted by name as the output is."""
    return tuple((i, _json_string(name) + ":") for i, name in sorted(enumerate(variables), key=lambda item: item[1]))


def _json_term_text(term: Term) -> str:
    """Return the SPARQL JSON of one term as text, keys sorted; the same as ``json_term`` gives, faster."""
    if isinstance(term, ox.NamedNode):
        return '{"type":"uri","value":' + _json_string(term.value) + "}"
    if isinstance(term, ox.Literal):
        value = _json_string(term.value)
        if term.language:
            if term.direction is not None:  # rare: let the general path write its:dir
                return json.dumps(json_term(term), ensure_ascii=False, sort_keys=True, separators=(",", ":"))
            return '{"type":"literal","value":' + value + ',"xml:lang":' + _json_string(term.language) + "}"
        datatype = _literal_datatype(term)
        if datatype is None:
            return '{"type":"literal","value":' + value + "}"
        return '{"datatype":' + _json_string(datatype) + ',"type":"literal","value":' + value + "}"
    if isinstance(term, ox.BlankNode):
        return '{"type":"bnode","value":' + _json_string(term.value) + "}"
    return json.dumps(json_term(term), ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _json_row(variables: Sequence[str], row: Row) -> str:
    keys = _json_keys(tuple(variables))
    parts = [key + _json_term_text(row[i]) for i, key in keys if row[i] is not None]  # type: ignore[arg-type]
    return "{" + ",".join(parts) + "}"


def xml_term(term: Term) -> str:
    """Return the SPARQL XML element of one RDF term."""
    if isinstance(term, ox.NamedNode):
        return f"<uri>{escape(term.value)}</uri>"
    if isinstance(term, ox.BlankNode):
        return f"<bnode>{escape(term.value)}</bnode>"
    if isinstance(term, ox.Triple):
        return (
            f"<triple><subject>{xml_term(term.subject)}</subject>"
            f"<predicate>{xml_term(term.predicate)}</predicate>"
            f"<object>{xml_term(term.object)}</object></triple>"
        )
    attributes = ""
    if term.language:
        attributes += f" xml:lang={quoteattr(term.language)}"
    datatype = _literal_datatype(term)
    if datatype is not None:
        attributes += f" datatype={quoteattr(datatype)}"
    return f"<literal{attributes}>{escape(term.value, _XML_TEXT)}</literal>"


def _xml_head(variables: Sequence[str]) -> str:
    declared = "".join(f"  <variable name={quoteattr(name)}/>\n" for name in variables)
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<sparql xmlns="{RESULTS_NS}">\n<head>\n{declared}</head>\n<results>\n'
    )


def _xml_row(variables: Sequence[str], row: Row) -> str:
    bindings = "".join(
        f"    <binding name={quoteattr(name)}>{xml_term(value)}</binding>\n"
        for name, value in zip(variables, row, strict=True)
        if value is not None
    )
    return f"  <result>\n{bindings}  </result>\n"


def csv_term(term: Term | None) -> str:
    """Return the CSV cell of one term: IRIs bare, blank nodes as ``_:id``, literals' lexical form."""
    if term is None:
        return ""
    if isinstance(term, ox.NamedNode | ox.Literal):
        return term.value
    return str(term)


def _csv_line(cells: Iterable[str]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL).writerow(cells)
    return out.getvalue()


def _csv_row(_variables: Sequence[str], row: Row) -> str:
    return _csv_line(csv_term(value) for value in row)


def tsv_term(term: Term | None) -> str:
    """Return the TSV cell of one term in N-Triples syntax (tab, LF and CR escaped)."""
    return "" if term is None else str(term)


def _tsv_head(variables: Sequence[str]) -> str:
    return "\t".join(f"?{name}" for name in variables) + "\n"


def _tsv_row(_variables: Sequence[str], row: Row) -> str:
    return "\t".join(tsv_term(value) for value in row) + "\n"


@dataclass(frozen=True)
class _TableWriter:
    """One results format in parts: the text before the rows, a row, between rows, after them."""

    head: Callable[[Sequence[str]], str]
    row: Callable[[Sequence[str], Row], str]
    separator: str
    tail: str


_TABLE_WRITERS = {
    JSON.name: _TableWriter(_json_head, _json_row, ",", "]}}"),
    XML.name: _TableWriter(_xml_head, _xml_row, "", "</results>\n</sparql>\n"),
    CSV.name: _TableWriter(_csv_line, _csv_row, "", ""),
    TSV.name: _TableWriter(_tsv_head, _tsv_row, "", ""),
}


@dataclass(frozen=True)
class Capped:
    """A serialised result and how many rows (or triples) it holds.

    ``truncated_by`` names the limit that cut it: ``"rows"`` (the row cap) or ``"bytes"``
    (the byte cap); None when the result is complete.
    """

    body: bytes
    rows: int
    truncated_by: str | None = None


def write_solutions(
    variables: Sequence[str], rows: Iterable[Row], fmt: Format, max_rows: int = 0, max_bytes: int = 0
) -> Capped:
    """Write a solution table, reading ``rows`` lazily and stopping at either cap (0: none).

    The byte cap counts the whole body: the row that would take it past ``max_bytes`` is left
    out with every row after it, and the document is closed as a complete one.
    """
    if fmt.name not in _TABLE_WRITERS:
        raise NotAcceptable(f"{fmt.media_type} cannot carry a solution table", (fmt.media_type,))
    writer = _TABLE_WRITERS[fmt.name]
    head = writer.head(variables).encode("utf-8")
    tail = writer.tail.encode("utf-8")
    separator = writer.separator.encode("utf-8")
    room = max_bytes - len(head) - len(tail) if max_bytes else None
    chunks = [head]
    size = count = 0
    truncated_by = None
    for row in rows:
        if max_rows and count == max_rows:
            truncated_by = "rows"
            break
        chunk = writer.row(variables, row).encode("utf-8")
        if count:
            chunk = separator + chunk
        if room is not None and size + len(chunk) > room:
            truncated_by = "bytes"
            break
        chunks.append(chunk)
        size += len(chunk)
        count += 1
    chunks.append(tail)
    return Capped(b"".join(chunks), count, truncated_by)


def serialize_solutions(variables: Sequence[str], rows: Sequence[Row], fmt: Format) -> bytes:
    """Write a whole solution table in one of the four results formats."""
    return write_solutions(variables, rows, fmt).body


def serialize_boolean(value: bool, fmt: Format) -> bytes:
    """Write an ASK result."""
    word = "true" if value else "false"
    if fmt is JSON:
        return json.dumps({"boolean": value, "head": {}}, sort_keys=True, separators=(",", ":")).encode()
    if fmt is XML:
        return (
            f'<?xml version="1.0" encoding="UTF-8"?>\n<sparql xmlns="{RESULTS_NS}">\n'
            f"<head/>\n<boolean>{word}</boolean>\n</sparql>\n"
        ).encode()
    if fmt is CSV:
        return f"_askResult\r\n{word}\r\n".encode()
    if fmt is TSV:
        return f"?_askResult\n{word}\n".encode()
    raise NotAcceptable(f"{fmt.media_type} cannot carry a boolean", (fmt.media_type,))


def _iris(term: Term) -> list[str]:
    if isinstance(term, ox.NamedNode):
        return [term.value]
    if isinstance(term, ox.Literal):
        datatype = _literal_datatype(term)
        return [datatype] if datatype else []
    if isinstance(term, ox.Triple):
        return _iris(term.subject) + _iris(term.predicate) + _iris(term.object)
    return []


def used_prefixes(triples: Sequence[ox.Triple]) -> dict[str, str]:
    """Return the entries of PREFIXES that some IRI of the triples starts with, in PREFIXES order."""
    namespaces = set()
    for triple in triples:
        for iri in _iris(triple):
            namespaces.update(ns for ns in PREFIXES.values() if iri.startswith(ns))
    return {name: ns for name, ns in PREFIXES.items() if ns in namespaces}


def serialize_triples(triples: Sequence[ox.Triple], fmt: Format) -> bytes:
    """Write a graph in one of the four graph formats."""
    if fmt.name not in _RDF_FORMATS:
        raise NotAcceptable(f"{fmt.media_type} cannot carry a graph", (fmt.media_type,))
    rdf_format = _RDF_FORMATS[fmt.name]
    if fmt is NTRIPLES:
        return ox.serialize(triples, format=rdf_format)
    body = ox.serialize(triples, format=rdf_format, prefixes=used_prefixes(triples))
    if fmt is RDFXML:
        # pyoxigraph 0.5.13 writes a literal's CR raw, which XML parsers read back as LF.
        body = body.replace(b"\r", b"&#13;")
    return body


def _nt_size(term: Term) -> int:
    """Return how many bytes a term takes in N-Triples, escapes not counted."""
    if isinstance(term, ox.Triple):
        return _nt_size(term.subject) + _nt_size(term.predicate) + _nt_size(term.object) + 8  # << s p o >>
    size = len(term.value.encode("utf-8")) + 2  # <iri>, _:id or "text"
    if isinstance(term, ox.Literal):
        datatype = _literal_datatype(term)
        if term.language:
            size += len(term.language) + 1
        elif datatype is not None:
            size += len(datatype) + 4
    return size


def write_triples(triples: Iterable[ox.Triple], fmt: Format, max_rows: int = 0, max_bytes: int = 0) -> Capped:
    """Write a graph, reading ``triples`` lazily and stopping at either cap (0: none).

    Triples are taken while their N-Triples lines would fit in ``max_bytes``; a body that
    still comes out larger (escapes, or the markup of RDF/XML and JSON-LD) is written again
    from fewer triples until it fits, so it never passes the cap.
    """
    taken: list[ox.Triple] = []
    size = 0
    truncated_by = None
    for triple in triples:
        if max_rows and len(taken) == max_rows:
            truncated_by = "rows"
            break
        line = _nt_size(triple.subject) + _nt_size(triple.predicate) + _nt_size(triple.object) + 5  # "s p o .\n"
        if max_bytes and size + line > max_bytes:
            truncated_by = "bytes"
            break
        taken.append(triple)
        size += line
    body = serialize_triples(taken, fmt)
    while max_bytes and len(body) > max_bytes and taken:
        keep = min(len(taken) - 1, len(taken) * max_bytes // len(body))
        taken = taken[:keep]
        truncated_by = "bytes"
        body = serialize_triples(taken, fmt)
    return Capped(body, len(taken), truncated_by)

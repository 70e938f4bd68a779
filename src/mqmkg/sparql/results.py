"""Serialise query results: solution tables and booleans in the four SPARQL results
formats, graphs in Turtle, N-Triples, JSON-LD and RDF/XML.

Solution tables are written here rather than by pyoxigraph because the endpoint cuts them
at the row cap, and pyoxigraph only serialises a whole, unconsumed result iterator.

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
import io
import json
from collections.abc import Sequence
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


def solutions_json(variables: Sequence[str], rows: Sequence[Row]) -> bytes:
    """Write SPARQL 1.1 Query Results JSON."""
    bindings = [
        {name: json_term(value) for name, value in zip(variables, row, strict=True) if value is not None}
        for row in rows
    ]
    document = {"head": {"vars": list(variables)}, "results": {"bindings": bindings}}
    return json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


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


def solutions_xml(variables: Sequence[str], rows: Sequence[Row]) -> bytes:
    """Write SPARQL Query Results XML."""
    out = io.StringIO()
    out.write(f'<?xml version="1.0" encoding="UTF-8"?>\n<sparql xmlns="{RESULTS_NS}">\n<head>\n')
    for name in variables:
        out.write(f"  <variable name={quoteattr(name)}/>\n")
    out.write("</head>\n<results>\n")
    for row in rows:
        out.write("  <result>\n")
        for name, value in zip(variables, row, strict=True):
            if value is not None:
                out.write(f"    <binding name={quoteattr(name)}>{xml_term(value)}</binding>\n")
        out.write("  </result>\n")
    out.write("</results>\n</sparql>\n")
    return out.getvalue().encode("utf-8")


def csv_term(term: Term | None) -> str:
    """Return the CSV cell of one term: IRIs bare, blank nodes as ``_:id``, literals' lexical form."""
    if term is None:
        return ""
    if isinstance(term, ox.NamedNode | ox.Literal):
        return term.value
    return str(term)


def solutions_csv(variables: Sequence[str], rows: Sequence[Row]) -> bytes:
    """Write SPARQL 1.1 Query Results CSV."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(variables)
    for row in rows:
        writer.writerow([csv_term(value) for value in row])
    return out.getvalue().encode("utf-8")


def tsv_term(term: Term | None) -> str:
    """Return the TSV cell of one term in N-Triples syntax (tab, LF and CR escaped)."""
    return "" if term is None else str(term)


def solutions_tsv(variables: Sequence[str], rows: Sequence[Row]) -> bytes:
    """Write SPARQL 1.1 Query Results TSV."""
    lines = ["\t".join(f"?{name}" for name in variables)]
    lines.extend("\t".join(tsv_term(value) for value in row) for row in rows)
    return ("\n".join(lines) + "\n").encode("utf-8")


def serialize_solutions(variables: Sequence[str], rows: Sequence[Row], fmt: Format) -> bytes:
    """Write a solution table in one of the four results formats."""
    writers = {
        JSON.name: solutions_json,
        XML.name: solutions_xml,
        CSV.name: solutions_csv,
        TSV.name: solutions_tsv,
    }
    if fmt.name not in writers:
        raise NotAcceptable(f"{fmt.media_type} cannot carry a solution table", (fmt.media_type,))
    return writers[fmt.name](variables, rows)


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

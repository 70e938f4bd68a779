"""Result serialisers: every format parses back, in pyoxigraph and rdflib (and pyld), to
the terms that went in; CSV and TSV follow their spec's escaping."""

from __future__ import annotations

import csv
import io
import json

import pyld.jsonld
import pyoxigraph as ox
import pytest
import rdflib
from rdflib.compare import isomorphic
from rdflib.query import Result

from mqmkg.sparql.formats import CSV, GRAPH_FORMATS, JSON, JSONLD, NTRIPLES, RDFXML, TSV, TURTLE, XML
from mqmkg.sparql.results import (
    serialize_boolean,
    serialize_solutions,
    serialize_triples,
    used_prefixes,
)

XSD = "http://www.w3.org/2001/XMLSchema#"
KG = "https://w3id.org/mqmkg/id/"
AWKWARD = 'Sindh\'s capital, "City of Lights"\tport\nUrdu: کراچی\r\\end'


def iri(value: str) -> ox.NamedNode:
    return ox.NamedNode(value)


def typed(value: str, datatype: str) -> ox.Literal:
    return ox.Literal(value, datatype=iri(XSD + datatype))


VARIABLES = ["s", "label", "n", "when", "x"]
ROWS: list[tuple[ox.NamedNode | ox.BlankNode | ox.Literal | None, ...]] = [
    (
        iri(KG + "karachi"),
        ox.Literal(AWKWARD, language="en"),
        typed("178", "integer"),
        typed("1998-06-01", "date"),
        None,
    ),
    (
        ox.BlankNode("b0"),
        ox.Literal("plain, with comma"),
        typed("1.5", "double"),
        None,
        iri("http://example.org/a?b=c&d=%3Ce%3E"),
    ),
    (None, None, None, None, None),
]

RDFS_COMMENT = iri("http://www.w3.org/2000/01/rdf-schema#comment")
SPLINTER_OF = iri("https://w3id.org/mqmkg/ontology#splinterOf")
OA = "http://www.w3.org/ns/oa#"
TRIPLES = [
    ox.Triple(iri(KG + "karachi"), RDFS_COMMENT, ox.Literal(AWKWARD, language="en")),
    ox.Triple(iri(KG + "mqm-h"), SPLINTER_OF, iri(KG + "mqm")),
    ox.Triple(ox.BlankNode("sel"), iri(OA + "start"), typed("0", "nonNegativeInteger")),
    ox.Triple(iri(KG + "ev-1"), iri(OA + "hasSelector"), ox.BlankNode("sel")),
]

OX_RESULTS = {
    JSON.name: ox.QueryResultsFormat.JSON,
    XML.name: ox.QueryResultsFormat.XML,
    TSV.name: ox.QueryResultsFormat.TSV,
}


def as_rdflib(term: object) -> object:
    """Map a pyoxigraph term to the rdflib term it must parse back as."""
    if term is None:
        return None
    if isinstance(term, ox.NamedNode):
        return rdflib.URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return rdflib.BNode(term.value)
    assert isinstance(term, ox.Literal)
    if term.language:
        return rdflib.Literal(term.value, lang=term.language)
    if term.datatype.value == XSD + "string":
        return rdflib.Literal(term.value)
    return rdflib.Literal(term.value, datatype=rdflib.URIRef(term.datatype.value), normalize=False)


def oxigraph_rows(body: bytes, fmt: ox.QueryResultsFormat) -> tuple[list[str], list[tuple[object, ...]]]:
    parsed = ox.parse_query_results(body, format=fmt)
    assert isinstance(parsed, ox.QuerySolutions)
    variables = [v.value for v in parsed.variables]
    return variables, [tuple(solution) for solution in parsed]


@pytest.mark.parametrize("name", ["json", "xml", "tsv"])
def test_solutions_parse_back_in_pyoxigraph(name: str) -> None:
    fmt = {"json": JSON, "xml": XML, "tsv": TSV}[name]
    variables, rows = oxigraph_rows(serialize_solutions(VARIABLES, ROWS, fmt), OX_RESULTS[name])
    assert variables == VARIABLES
    # TSV keeps numbers' lexical form only up to Turtle's short syntax: compare as terms.
    assert rows == [tuple(row) for row in ROWS]


@pytest.mark.parametrize("name", ["json", "xml", "tsv"])
def test_solutions_match_pyoxigraphs_own_serialiser(name: str) -> None:
    store = ox.Store()
    for triple in TRIPLES:
        store.add(ox.Quad(triple.subject, triple.predicate, triple.object))
    query = "SELECT ?s ?p ?o ?unbound { ?s ?p ?o } ORDER BY ?s ?p ?o"
    fmt = {"json": JSON, "xml": XML, "tsv": TSV}[name]
    theirs = store.query(query).serialize(format=OX_RESULTS[name])  # type: ignore[union-attr]
    solutions = store.query(query)
    assert isinstance(solutions, ox.QuerySolutions)
    ours = serialize_solutions(["s", "p", "o", "unbound"], [tuple(s) for s in solutions], fmt)
    assert oxigraph_rows(ours, OX_RESULTS[name]) == oxigraph_rows(theirs, OX_RESULTS[name])
    if name == "json":
        assert json.loads(ours) == json.loads(theirs)


@pytest.mark.parametrize("name", ["json", "xml", "csv", "tsv"])
def test_solutions_parse_back_in_rdflib(name: str) -> None:
    fmt = {"json": JSON, "xml": XML, "csv": CSV, "tsv": TSV}[name]
    result = Result.parse(io.BytesIO(serialize_solutions(VARIABLES, ROWS, fmt)), format=name)
    assert [str(v) for v in result.vars or []] == VARIABLES
    parsed = [tuple(row.get(rdflib.Variable(v)) for v in VARIABLES) for row in result]  # type: ignore[union-attr]
    if name == "csv":  # CSV keeps lexical forms only; rdflib reads "_:b0" as a blank node named so
        expected = [
            tuple(
                rdflib.Literal(t.value)
                if isinstance(t, ox.Literal)
                else rdflib.BNode(str(t))
                if isinstance(t, ox.BlankNode)
                else as_rdflib(t)
                for t in row
            )
            for row in ROWS
        ]
    else:
        expected = [tuple(as_rdflib(t) for t in row) for row in ROWS]
    # rdflib 7.6's result parsers drop a row with no binding at all (pyoxigraph keeps it, above).
    assert parsed == expected[:-1]


def test_csv_follows_rfc4180_and_the_results_spec() -> None:
    body = serialize_solutions(VARIABLES, ROWS, CSV).decode("utf-8")
    assert body.startswith("s,label,n,when,x\r\n")
    assert body.endswith("\r\n")
    records = list(csv.reader(io.StringIO(body, newline="")))
    assert records == [
        VARIABLES,
        [KG + "karachi", AWKWARD, "178", "1998-06-01", ""],
        ["_:b0", "plain, with comma", "1.5", "", "http://example.org/a?b=c&d=%3Ce%3E"],
        ["", "", "", "", ""],
    ]
    assert '"Sindh\'s capital, ""City of Lights""' in body  # quotes doubled inside a quoted field


def test_tsv_escapes_tabs_and_newlines_and_uses_term_syntax() -> None:
    body = serialize_solutions(VARIABLES, ROWS, TSV).decode("utf-8")
    lines = body.split("\n")
    assert lines[0] == "?s\t?label\t?n\t?when\t?x"
    assert lines[-1] == ""
    assert all(line.count("\t") == 4 for line in lines[:-1])  # no raw tab or newline in a term
    assert lines[1].split("\t") == [
        f"<{KG}karachi>",
        '"Sindh\'s capital, \\"City of Lights\\"\\tport\\nUrdu: کراچی\\r\\\\end"@en',
        f'"178"^^<{XSD}integer>',
        f'"1998-06-01"^^<{XSD}date>',
        "",
    ]
    assert lines[2].split("\t")[0] == "_:b0"
    assert lines[3] == "\t\t\t\t"


def test_truncated_tables_serialise_like_complete_ones() -> None:
    assert json.loads(serialize_solutions(["a"], [], JSON)) == {
        "head": {"vars": ["a"]},
        "results": {"bindings": []},
    }
    assert serialize_solutions(["a", "b"], [], CSV) == b"a,b\r\n"
    assert serialize_solutions(["a", "b"], [], TSV) == b"?a\t?b\n"


@pytest.mark.parametrize("value", [True, False])
def test_booleans(value: bool) -> None:
    for fmt, ox_format in ((JSON, ox.QueryResultsFormat.JSON), (XML, ox.QueryResultsFormat.XML)):
        parsed = ox.parse_query_results(serialize_boolean(value, fmt), format=ox_format)
        assert isinstance(parsed, ox.QueryBoolean)
        assert bool(parsed) is value
        assert Result.parse(io.BytesIO(serialize_boolean(value, fmt)), format=fmt.name).askAnswer is value
    word = "true" if value else "false"
    assert serialize_boolean(value, CSV) == f"_askResult\r\n{word}\r\n".encode()
    assert serialize_boolean(value, TSV) == f"?_askResult\n{word}\n".encode()
    tsv = Result.parse(io.BytesIO(serialize_boolean(value, TSV)), format="tsv")
    assert [row[0].toPython() for row in tsv] == [value]  # type: ignore[index]


def expected_graph() -> rdflib.Graph:
    graph = rdflib.Graph()
    for triple in TRIPLES:
        graph.add((as_rdflib(triple.subject), as_rdflib(triple.predicate), as_rdflib(triple.object)))  # type: ignore[arg-type]
    return graph


RDFLIB_FORMAT = {TURTLE.name: "turtle", NTRIPLES.name: "nt", JSONLD.name: "json-ld", RDFXML.name: "xml"}
OX_FORMAT = {
    TURTLE.name: ox.RdfFormat.TURTLE,
    NTRIPLES.name: ox.RdfFormat.N_TRIPLES,
    JSONLD.name: ox.RdfFormat.JSON_LD,
    RDFXML.name: ox.RdfFormat.RDF_XML,
}


@pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated:DeprecationWarning")
@pytest.mark.parametrize("fmt", GRAPH_FORMATS, ids=lambda f: f.name)
def test_graphs_parse_back_in_rdflib_and_pyoxigraph(fmt: object) -> None:
    from mqmkg.sparql.formats import Format

    assert isinstance(fmt, Format)
    body = serialize_triples(TRIPLES, fmt)
    graph = rdflib.Graph().parse(data=body, format=RDFLIB_FORMAT[fmt.name])
    assert isomorphic(graph, expected_graph())
    parsed = list(ox.parse(body, format=OX_FORMAT[fmt.name]))
    assert len(parsed) == len(TRIPLES)


def test_jsonld_parses_in_pyld() -> None:
    document = json.loads(serialize_triples(TRIPLES, JSONLD))
    nquads = pyld.jsonld.to_rdf(document, {"format": "application/n-quads"})
    assert isomorphic(rdflib.Graph().parse(data=nquads, format="nt"), expected_graph())


def test_turtle_declares_only_the_prefixes_it_uses() -> None:
    body = serialize_triples(TRIPLES, TURTLE).decode()
    declared = sorted(line.split()[1] for line in body.splitlines() if line.startswith("@prefix"))
    assert declared == ["kg:", "mqm:", "oa:", "rdfs:", "xsd:"]  # xsd: for nonNegativeInteger
    assert used_prefixes([]) == {}
    assert serialize_triples([], NTRIPLES) == b""


def test_ntriples_keep_result_order_and_are_line_based() -> None:
    lines = serialize_triples(TRIPLES, NTRIPLES).decode().splitlines()
    assert len(lines) == len(TRIPLES)
    assert lines[1] == f"<{KG}mqm-h> <https://w3id.org/mqmkg/ontology#splinterOf> <{KG}mqm> ."

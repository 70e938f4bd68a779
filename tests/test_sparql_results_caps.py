"""The byte cap and the row cap while serialising: results are read lazily, cut before the
row that would pass a cap, closed as complete documents, and say which cap cut them."""

from __future__ import annotations

import csv
import io
import itertools
import json
from collections.abc import Iterator

import pyoxigraph as ox
import pytest
import rdflib

from mqmkg.sparql.formats import CSV, GRAPH_FORMATS, JSON, JSONLD, NTRIPLES, RDFXML, TSV, TURTLE, XML, Format
from mqmkg.sparql.results import write_solutions, write_triples

KG = "https://w3id.org/mqmkg/id/"
VARIABLES = ["a", "b", "c", "d", "e"]
TABLE_FORMATS = {"json": JSON, "xml": XML, "csv": CSV, "tsv": TSV}
OX_RESULTS = {"json": ox.QueryResultsFormat.JSON, "xml": ox.QueryResultsFormat.XML, "tsv": ox.QueryResultsFormat.TSV}
RDFLIB_GRAPH = {TURTLE.name: "turtle", NTRIPLES.name: "nt", JSONLD.name: "json-ld", RDFXML.name: "xml"}


def long_rows(consumed: list[int] | None = None) -> Iterator[tuple[ox.Literal | ox.NamedNode, ...]]:
    """An endless table of five long literals a row (quotes, markup and non-ASCII text inside)."""
    for i in itertools.count():
        if consumed is not None:
            consumed.append(i)
        text = f'row {i} "quoted" <b>&amp;</b> کراچی ' + "x" * 900
        yield (ox.NamedNode(f"{KG}r{i}"), *(ox.Literal(f"{text}{column}") for column in range(4)))


def long_triples(consumed: list[int]) -> Iterator[ox.Triple]:
    """An endless graph of long literals."""
    for i in itertools.count():
        consumed.append(i)
        text = f'triple {i} "quoted" <b>&amp;</b> کراچی ' + "y" * 900
        yield ox.Triple(ox.NamedNode(f"{KG}t{i}"), ox.NamedNode(KG + "says"), ox.Literal(text, language="en"))


def table_rows(body: bytes, name: str) -> int:
    """Parse a results document and return its number of rows (raises if it is not complete)."""
    if name == "csv":
        records = list(csv.reader(io.StringIO(body.decode("utf-8"), newline="")))
        assert records[0] == VARIABLES
        return len(records) - 1
    parsed = ox.parse_query_results(body, format=OX_RESULTS[name])
    assert isinstance(parsed, ox.QuerySolutions)
    assert [v.value for v in parsed.variables] == VARIABLES
    return len(list(parsed))


@pytest.mark.parametrize("name", list(TABLE_FORMATS))
def test_an_endless_table_is_cut_at_the_byte_cap_and_stays_a_valid_document(name: str) -> None:
    fmt = TABLE_FORMATS[name]
    consumed: list[int] = []
    capped = write_solutions(VARIABLES, long_rows(consumed), fmt, max_rows=0, max_bytes=50_000)
    assert capped.truncated_by == "bytes"
    assert len(capped.body) <= 50_000
    assert table_rows(capped.body, name) == capped.rows
    # It stopped at the row that did not fit: one row read beyond those written, no more.
    assert len(consumed) == capped.rows + 1
    # And it kept every row that fitted: one more would have passed the cap.
    one_more = list(itertools.islice(long_rows(), capped.rows + 1))
    assert len(write_solutions(VARIABLES, one_more, fmt).body) > 50_000


@pytest.mark.parametrize("name", list(TABLE_FORMATS))
def test_the_row_cap_and_the_byte_cap_each_say_they_cut(name: str) -> None:
    fmt = TABLE_FORMATS[name]
    rows = list(itertools.islice(long_rows(), 10))
    by_rows = write_solutions(VARIABLES, rows, fmt, max_rows=3, max_bytes=1_000_000)
    assert (by_rows.rows, by_rows.truncated_by) == (3, "rows")
    complete = write_solutions(VARIABLES, rows, fmt, max_rows=10, max_bytes=1_000_000)
    assert (complete.rows, complete.truncated_by) == (10, None)
    exact = write_solutions(VARIABLES, rows, fmt, max_rows=0, max_bytes=len(complete.body))
    assert (exact.rows, exact.truncated_by, exact.body) == (10, None, complete.body)
    tight = write_solutions(VARIABLES, rows, fmt, max_rows=0, max_bytes=len(complete.body) - 1)
    assert (tight.rows, tight.truncated_by) == (9, "bytes")
    assert table_rows(tight.body, name) == 9
    nothing_fits = write_solutions(VARIABLES, rows, fmt, max_rows=0, max_bytes=200)
    assert (nothing_fits.rows, nothing_fits.truncated_by) == (0, "bytes")
    assert table_rows(nothing_fits.body, name) == 0


def test_json_tables_are_written_as_one_sorted_compact_document() -> None:
    rows = list(itertools.islice(long_rows(), 3))
    body = write_solutions(VARIABLES, rows, JSON).body
    document = json.loads(body)
    assert body == json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


@pytest.mark.parametrize("fmt", GRAPH_FORMATS, ids=lambda f: f.name)
def test_an_endless_graph_is_cut_at_the_byte_cap_in_every_format(fmt: Format) -> None:
    consumed: list[int] = []
    capped = write_triples(long_triples(consumed), fmt, max_rows=0, max_bytes=40_000)
    assert capped.truncated_by == "bytes"
    assert len(capped.body) <= 40_000
    assert capped.rows > 10
    assert len(consumed) <= capped.rows * 2 + 1  # read lazily: never far past what was written
    graph = rdflib.Graph().parse(data=capped.body, format=RDFLIB_GRAPH[fmt.name])
    assert len(graph) == capped.rows


def test_the_row_cap_cuts_graphs_before_the_byte_cap() -> None:
    consumed: list[int] = []
    capped = write_triples(long_triples(consumed), NTRIPLES, max_rows=5, max_bytes=1_000_000)
    assert (capped.rows, capped.truncated_by) == (5, "rows")
    assert len(capped.body.decode().splitlines()) == 5
    assert len(consumed) == 6
    complete = write_triples(itertools.islice(long_triples([]), 5), TURTLE, max_rows=5, max_bytes=1_000_000)
    assert (complete.rows, complete.truncated_by) == (5, None)

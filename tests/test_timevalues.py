"""Stamp + precision -> xsd:date bounds, and the graph's bounds agree with them."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from rdflib import Graph, Namespace

from mqmkg.timevalues import TIME, XSD, TimeValueError, bounds

ROOT = Path(__file__).resolve().parents[1]
SEM = Namespace("http://semanticweb.cs.vu.nl/2009/11/sem/")
TIME_NS = Namespace(TIME)


@pytest.mark.parametrize(
    ("lexical", "datatype", "earliest", "latest", "unit"),
    [
        ("1992", XSD + "gYear", date(1992, 1, 1), date(1992, 12, 31), "unitYear"),
        ("1996-02", XSD + "gYearMonth", date(1996, 2, 1), date(1996, 2, 29), "unitMonth"),
        ("1995-02", XSD + "gYearMonth", date(1995, 2, 1), date(1995, 2, 28), "unitMonth"),
        ("1998-05-28", XSD + "date", date(1998, 5, 28), date(1998, 5, 28), "unitDay"),
    ],
)
def test_bounds(lexical: str, datatype: str, earliest: date, latest: date, unit: str) -> None:
    assert bounds(lexical, datatype) == type(bounds(lexical, datatype))(earliest, latest, TIME + unit)


@pytest.mark.parametrize(
    ("lexical", "datatype"),
    [
        ("95", XSD + "gYear"),
        ("1995-13", XSD + "gYearMonth"),
        ("1995-02-30", XSD + "date"),
        ("1995", XSD + "string"),
    ],
)
def test_bad_stamps_are_refused(lexical: str, datatype: str) -> None:
    with pytest.raises(TimeValueError):
        bounds(lexical, datatype)


def test_graph_bounds_match_their_stamps() -> None:
    graph = Graph()
    for path in sorted((ROOT / "graph").glob("*.ttl")):
        graph.parse(path)
    stamps = list(graph.subject_objects(SEM.hasTimeStamp))
    assert len(stamps) > 40
    wrong = []
    for node, stamp in stamps:
        expected = bounds(str(stamp), str(stamp.datatype))
        got = (
            graph.value(node, SEM.hasEarliestBeginTimeStamp).toPython(),
            graph.value(node, SEM.hasLatestEndTimeStamp).toPython(),
            str(graph.value(node, TIME_NS.unitType)),
        )
        if got != (expected.earliest, expected.latest, expected.unit):
            wrong.append(f"{node} {stamp}: {got} != {expected}")
    assert not wrong, "\n".join(wrong)

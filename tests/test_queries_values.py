"""Canned queries as editor examples: parameters written into the text as a VALUES block."""

from __future__ import annotations

import pyoxigraph as ox
import pytest

from conftest import ROOT
from mqmkg.queries import CannedQuery, load_catalog

CATALOG = load_catalog(ROOT / "queries")
PARAMETERISED = sorted(name for name, query in CATALOG.items() if query.parameters)


def answer(store: ox.Store, text: str, substitutions: dict[ox.Variable, ox.NamedNode | ox.Literal] | None) -> object:
    result = store.query(text, substitutions=substitutions or None)
    if isinstance(result, ox.QuerySolutions):
        variables = [v.value for v in result.variables]
        # Rows compared as a multiset: ORDER BY keys that tie leave the engine free to order the rest.
        return variables, sorted(tuple(str(row[v]) if row[v] is not None else "" for v in variables) for row in result)
    return sorted(str(triple) for triple in result)  # type: ignore[union-attr]


def test_the_catalogue_has_parameterised_queries_of_every_shape() -> None:
    forms = {CATALOG[name].text.split("\n\n", 1)[-1].split(None, 1)[0] for name in PARAMETERISED}
    assert {"SELECT", "CONSTRUCT", "DESCRIBE"} <= forms
    assert len(PARAMETERISED) >= 9


@pytest.mark.parametrize("name", PARAMETERISED)
def test_values_block_gives_the_same_answer_as_substitutions(name: str, project_store: ox.Store) -> None:
    query: CannedQuery = CATALOG[name]
    inline = query.with_values()
    assert "VALUES (" in inline
    expected = answer(project_store, query.text, query.substitutions())
    assert answer(project_store, inline, None) == expected
    rows = expected[1] if isinstance(expected, tuple) else expected
    assert rows, f"{name} answers nothing with its defaults: the comparison would prove nothing"


def test_values_are_written_with_the_querys_own_prefixes() -> None:
    text = CATALOG["events-in-place-and-period"].with_values()
    assert 'VALUES (?place ?from ?to) { (kg:sindh "1992-01-01"^^xsd:date "1995-12-31"^^xsd:date) }' in text
    assert (
        CATALOG["describe-entity"]
        .with_values()
        .rstrip()
        .endswith("DESCRIBE ?entity WHERE { VALUES (?entity) { (kg:mqm-h) } }")
    )


def test_values_take_other_values_and_check_them() -> None:
    text = CATALOG["claims-by-report"].with_values({"key": 'He said "no"'})
    assert 'VALUES (?key) { ("He said \\"no\\"") }' in text
    with pytest.raises(Exception, match="not an IRI"):
        CATALOG["about-entity"].with_values({"entity": "not an iri"})


def test_queries_without_parameters_are_unchanged() -> None:
    assert CATALOG["organisation-changes"].with_values() == CATALOG["organisation-changes"].text

"""A seeded generator of synthetic graphs shaped like the curated one.

The curated graph (organisations with factions and leaders, people with posts, places,
dated events with figures, cited reports, claims with quotes) is copied as many times as
a size needs. Every copy is clearly synthetic: its instances live under
``http://example.org/synthetic/c<k>/``, its Wikidata links point into
``http://example.org/synthetic/wikidata/`` (never a real-looking QID), its labels and quotes
carry ``[synthetic c<k>]``, and a seeded random offset moves its dates by up to 30 years and
its numbers by up to 20 %. The vocabulary (ontology terms, SKOS concepts) is shared, so every
canned query finds the same shapes in each copy.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

import pyoxigraph as ox

KG = "https://w3id.org/mqmkg/id/"
WD = "http://www.wikidata.org/entity/"
SYNTHETIC = "http://example.org/synthetic/"
XSD = "http://www.w3.org/2001/XMLSchema#"
SIZES = {"S": 5_000, "M": 100_000, "L": 1_000_000}


def _shift_year(text: str, years: int) -> str:
    sign = "-" if text.startswith("-") else ""
    digits = text.lstrip("-")
    year, _, rest = digits.partition("-")
    shifted = f"{sign}{int(year) + years:04d}"
    if rest.startswith("02-29"):  # the shifted year may have no 29 February
        rest = "02-28" + rest[5:]
    return shifted + ("-" + rest if rest else "")


def _literal(term: ox.Literal, copy: int, rng: random.Random, years: int) -> ox.Literal:
    datatype = term.datatype.value
    if datatype in (XSD + "date", XSD + "gYear", XSD + "gYearMonth", XSD + "dateTime"):
        return ox.Literal(_shift_year(term.value, years), datatype=term.datatype)
    if datatype in (XSD + "integer", XSD + "nonNegativeInteger", XSD + "decimal"):
        try:
            number = int(term.value)
        except ValueError:
            return term
        return ox.Literal(str(max(0, round(number * rng.uniform(0.8, 1.2)))), datatype=term.datatype)
    if term.language or datatype == XSD + "string":
        text = f"{term.value} [synthetic c{copy}]"
        return ox.Literal(text, language=term.language) if term.language else ox.Literal(text)
    return term


def _node(term: ox.NamedNode | ox.BlankNode, copy: int) -> ox.NamedNode | ox.BlankNode:
    if isinstance(term, ox.BlankNode):
        return ox.BlankNode(f"c{copy}x{term.value}")
    if term.value.startswith(KG):
        return ox.NamedNode(f"{SYNTHETIC}c{copy}/{term.value[len(KG) :]}")
    if term.value.startswith(WD):
        return ox.NamedNode(f"{SYNTHETIC}wikidata/c{copy}-{term.value[len(WD) :]}")
    return term


def instance_triples(quads: list[ox.Quad]) -> list[ox.Triple]:
    """Return the distinct triples of the curated instance data (ontology left out)."""
    seen = {
        ox.Triple(q.subject, q.predicate, q.object)
        for q in quads
        if not q.graph_name.value.endswith(("/mqmkg", "/alignments"))
    }
    return sorted(seen, key=str)


def synthetic_copies(template: list[ox.Triple], triples: int, seed: int) -> Iterator[ox.Triple]:
    """Yield about ``triples`` synthetic triples: seeded, rewritten copies of ``template``."""
    rng = random.Random(seed)
    copies = max(1, round(triples / len(template)))
    for copy in range(1, copies + 1):
        years = rng.randint(-30, 30)
        for t in template:
            obj = t.object
            if isinstance(obj, ox.Literal):
                obj = _literal(obj, copy, rng, years)
            elif isinstance(obj, ox.NamedNode | ox.BlankNode):
                obj = _node(obj, copy)
            yield ox.Triple(_node(t.subject, copy), t.predicate, obj)  # type: ignore[arg-type]


def synthetic_ntriples(template: list[ox.Triple], curated: int, size: str, seed: int) -> bytes:
    """Return N-Triples that bring a dataset of ``curated`` triples to about the size ``S``/``M``/``L``."""
    wanted = max(0, SIZES[size] - curated)
    if wanted < len(template) // 2:
        return b""
    return ox.serialize(synthetic_copies(template, wanted, seed), format=ox.RdfFormat.N_TRIPLES) or b""

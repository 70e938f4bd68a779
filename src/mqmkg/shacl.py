"""Validate contributed RDF against the project's shapes, together with the graph.

Like Fuseki's validation operation, but the data graph is the curated graph plus the
submission, so a contributed claim may point at our entities and evidence. Only the
submission's nodes are focus nodes (every subject, predicate and non-class object of a
submitted triple, where a shape targets them), so the answer is about the contribution and takes
about 0.1-0.3 s per node rather than the half minute a full validation takes.

pySHACL's own ``focus_nodes`` option cannot be used for this (pySHACL 0.40.1): it also filters
the value nodes that ``sh:node``, ``sh:qualifiedValueShape`` and the logical constraints pass
to nested shapes, and it drops blank nodes, so a claim citing a correct evidence sentence is
reported as breaking the evidence's "exactly one selector" counts (a nested shape that sees no
value node conforms). ``only_focus`` restricts, instead, the focus nodes a shape takes from its
own targets, and leaves nested validation alone (``tests/test_shacl.py`` shows both).

- ``parse_submission`` reads Turtle, N-Triples or JSON-LD with pyoxigraph (syntax errors keep
  the parser's line and column; JSON-LD remote contexts are never fetched: pyoxigraph has no
  document loader set) and refuses named graphs and RDF 1.2 triple terms.
- ``load_base`` reads ontology, graph, shapes and the source text as ``mqmkg validate`` does.
- ``validate_submission`` runs pySHACL as ``mqmkg validate`` runs it (``advanced=True``, no
  inference, the ontology in the data and as ``ont_graph``) on a copy of the base, so nothing
  a submission adds survives it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pyoxigraph as ox

from mqmkg.config import DOC_IRI, Settings
from mqmkg.errors import DataSyntaxError, SubmissionRefused
from mqmkg.report import ShaclResult
from mqmkg.source import read_source

if TYPE_CHECKING:  # rdflib and pySHACL load only in the validation process (server start-up stays fast)
    import rdflib

# Media types a submission may have, with the parser for each.
SUBMISSION_FORMATS: dict[str, ox.RdfFormat] = {
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "application/ld+json": ox.RdfFormat.JSON_LD,
}
FORMAT_NAMES = {"turtle": "text/turtle", "ntriples": "application/n-triples", "jsonld": "application/ld+json"}


@dataclass(frozen=True)
class Base:
    """What every submission is validated with: data (ontology, graph, page text), shapes, ontology."""

    data: rdflib.Graph
    shapes: rdflib.Graph
    ontology: rdflib.Graph


@dataclass(frozen=True)
class Outcome:
    """A validation of one submission: the results, and the report graph as N-Triples."""

    conforms: bool
    results: tuple[ShaclResult, ...]
    report: bytes
    triples: int
    focus_nodes: int
    seconds: float


JSONLD_TYPE = "application/ld+json"


def parse_submission(data: bytes, media_type: str) -> tuple[ox.Triple, ...]:
    """Parse submitted RDF; raise ``DataSyntaxError`` at the parser's line and column."""
    if media_type == JSONLD_TYPE and data.lstrip()[:1] not in (b"{", b"["):
        # JSON-LD 1.1 §9: a document is an object or an array; pyoxigraph reads a bare string or number as no triples.
        raise DataSyntaxError(f"{media_type}: a JSON-LD document is a JSON object or array", 1, 1)
    try:
        quads = list(ox.parse(data, format=SUBMISSION_FORMATS[media_type]))
    except SyntaxError as exc:
        raise DataSyntaxError(f"{media_type}: {exc.msg}", exc.lineno, exc.offset) from None
    except ValueError as exc:  # not UTF-8, for one
        raise DataSyntaxError(f"{media_type}: {exc}") from None
    if any(not isinstance(q.graph_name, ox.DefaultGraph) for q in quads):
        raise SubmissionRefused("named graphs are not validated: send one graph (no @graph with an @id)")
    if any(isinstance(q.subject, ox.Triple) or isinstance(q.object, ox.Triple) for q in quads):
        raise SubmissionRefused("RDF 1.2 triple terms cannot be validated (rdflib and pySHACL cannot read them)")
    return tuple(ox.Triple(q.subject, q.predicate, q.object) for q in quads)


def load_base(settings: Settings) -> Base:
    """Read ontology, graph, shapes and source text as ``mqmkg validate`` reads them."""
    import rdflib
    from rdflib.namespace import RDF

    from mqmkg.validate import parse_dir, rdflib_graph

    ontology = parse_dir(settings.ontology_dir, "ontology")
    graph = parse_dir(settings.graph_dir, "graph")
    shapes = parse_dir(settings.shapes_dir, "shapes")
    problems = [*ontology.problems, *graph.problems, *shapes.problems]
    if problems:
        raise SubmissionRefused("the server's own graph or shapes do not load: " + problems[0].render())
    data = rdflib_graph([*ontology.triples, *graph.triples])
    data.add((rdflib.URIRef(DOC_IRI), RDF.value, rdflib.Literal(read_source(settings.source_path))))
    return Base(data, rdflib_graph(shapes.triples), rdflib_graph(ontology.triples))


def focus_nodes(submission: rdflib.Graph) -> list[rdflib.term.Node]:
    """Return the nodes a submission describes, points at or uses as predicates.

    Predicates count because some shapes target properties (a shortcut property is checked
    for a backing claim wherever it is used); the classes it types nodes with do not.
    """
    import rdflib
    from rdflib.namespace import RDF

    found = set(submission.subjects()) | set(submission.predicates())
    found.update(o for p, o in submission.predicate_objects() if p != RDF.type and not isinstance(o, rdflib.Literal))
    return sorted(found, key=str)


@contextmanager
def only_focus(chosen: frozenset[rdflib.term.Node]) -> Iterator[None]:
    """Let each shape validate only the ``chosen`` nodes among its targets (nested shapes: all).

    Wraps ``pyshacl.shape.Shape.validate`` for the duration; a shape called with no focus
    (from the validator, which then reads the shape's targets) gets its targets' intersection
    with ``chosen``. Meant for a process that validates one thing at a time (the validation
    worker), not for threads.
    """
    from pyshacl.shape import Shape

    original = Shape.validate

    def validate(
        self: Shape,
        executor: object,
        target_graph: object,
        focus: object = None,
        _evaluation_path: list[object] | None = None,
    ) -> tuple[bool, list[object]]:
        if focus is None:
            targets = [node for node in self.focus_nodes(target_graph) if node in chosen]
            if not targets:
                return True, []
            focus = targets
        return original(self, executor, target_graph, focus, _evaluation_path)

    Shape.validate = validate  # type: ignore[method-assign]
    try:
        yield
    finally:
        Shape.validate = original  # type: ignore[method-assign]


EMPTY_REPORT = (
    b"_:report <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <http://www.w3.org/ns/shacl#ValidationReport> .\n"
    b'_:report <http://www.w3.org/ns/shacl#conforms> "true"^^<http://www.w3.org/2001/XMLSchema#boolean> .\n'
)
NOTHING = Outcome(conforms=True, results=(), report=EMPTY_REPORT, triples=0, focus_nodes=0, seconds=0.0)


def validate_submission(base: Base, ntriples: bytes) -> Outcome:
    """Validate submitted N-Triples with the base; the base itself is left as it was."""
    from pyshacl import validate as shacl_validate

    from mqmkg.validate import rdflib_graph, shacl_results

    started = time.perf_counter()
    submission = rdflib_graph(ox.parse(ntriples, format=ox.RdfFormat.N_TRIPLES))
    data = base.data + submission  # a new graph: the base never sees the submission
    focus = focus_nodes(submission)
    with only_focus(frozenset(focus)):
        conforms, report, _ = shacl_validate(
            data, shacl_graph=base.shapes, ont_graph=base.ontology, inference="none", advanced=True, inplace=True
        )
    return Outcome(
        conforms=bool(conforms),
        results=shacl_results(report, base.shapes),
        report=report.serialize(format="nt", encoding="utf-8"),
        triples=len(submission),
        focus_nodes=len(focus),
        seconds=time.perf_counter() - started,
    )

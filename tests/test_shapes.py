"""SHACL fixtures for shapes/*.ttl: every fixture, constraint coverage, meta-SHACL, the real graph.

**Layout.** ``tests/shapes/<name>/`` holds the fixtures of ``shapes/<name>.ttl``:
``valid-*.ttl`` must conform; each ``invalid-<constraint>.ttl`` breaks one constraint and lists,
in comment lines, every result the validation report must hold, no more and no fewer::

    # expect: <focusNode> <resultPath or -> <sourceConstraintComponent> <sourceShape>
    # nested: <focusNode> <resultPath or -> <sourceConstraintComponent> <sourceShape>
    # base: ontology

Terms are CURIEs with the prefixes of the shapes (``PREFIXES``) or ``<iri>``; an inverse path
is ``^org:organization``. Results are compared as sets of these tuples, never by message text.

**Data graph.** Every fixture is validated against ALL shapes (shapes/*.ttl, nothing left
out), on the ontology merged into the data graph (pySHACL ignores ``ont_graph`` for
``sh:class`` and ``sh:targetClass`` when inference is off), with ``advanced=True`` and
``inference="none"``, as ``mqmkg validate`` does. The base under each fixture is:

- ontology/*.ttl, graph/source.ttl (the page, its publisher, the unnamed accuser, the cited
  reports), the page text as ``rdf:value`` of kg:doc-globalsecurity-mqm, and the descriptions
  (CBD) in graph/*.ttl of ``BASE_NODES``: the reports' issuers and a few evidence sentences;
- with ``# base: ontology``, only ontology/*.ttl: the fixture describes the page itself (the
  source-document fixtures, which must be able to leave out what graph/source.ttl states).

Files are read as ``mqmkg validate`` reads them (pyoxigraph, lexical forms kept).

**Blank focus nodes.** Fixtures give IRIs (kg:fixture-...) to every node a result can be
about. Where a blank node is the point (a sem:Role written as the graph writes it), its focus
is written ``[p o; p o]``: its outgoing triples whose objects are not blank, as
``predicate object`` CURIE pairs sorted and joined by ``; `` (``describe``).

**Nested shapes.** Shapes that are only reached through ``sh:node`` or
``sh:qualifiedValueShape`` (the SKOS-scheme shapes, the selector shapes) never appear as a
report's sourceShape: a broken selector shows as a qualified-count result on the evidence.
A ``# nested:`` line names the inner result too; the test checks it by validating the
fixture once more with the inner shape given ``sh:targetNode`` the nested focus (an IRI).
Alternatives of ``sh:or``, ``sh:xone`` and ``sh:not`` are covered through the owning shape's
Or/Xone/Not result.

**Coverage.** A constraint is a (sourceShape, sourceConstraintComponent) pair of a targeted
shape or of its property shapes, or of a nested shape. A pair whose parameter has k values
(four ``sh:not`` on DisjointnessShape, two ``sh:sparql`` on TimeShape, two ``sh:disjoint``)
bundles k constraints that a report cannot tell apart, so it needs k invalid fixtures.

**Speed.** pySHACL 0.40.1 hands rdflib the text of a SHACL-SPARQL query once per focus node,
and rdflib parses it every time (~35 ms; the ontology's SKOS concepts alone are ~100 focus
nodes). ``memoized_query`` keeps the parsed and translated query per text: the reuse that
rdflib's ``prepareQuery`` exists for, so results do not change
(``test_prepared_queries_give_the_same_report`` compares with plain pySHACL). A fixture then
costs ~0.15 s of CPU, most of it the ontology's own nodes; ``outcomes`` spreads the fixtures
over one spawned worker per core. The fixtures' triples are added to a cached base graph and
removed again after each run (``fixture_data``).
"""

from __future__ import annotations

import multiprocessing
import os
import re
import traceback
from collections import Counter
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import rdflib
from pyshacl import validate
from pyshacl.entrypoints import meta_validate
from rdflib import RDF, RDFS, BNode, Literal, URIRef
from rdflib.namespace import SH, NamespaceManager
from rdflib.plugins.sparql.processor import SPARQLProcessor, parseQuery, translateQuery

from mqmkg.store import parse_file
from mqmkg.validate import rdflib_graph

REPO = Path(__file__).resolve().parents[1]
SHAPES_DIR = REPO / "shapes"
FIXTURES = REPO / "tests" / "shapes"
SOURCE_TEXT = REPO / "graph" / "source" / "globalsecurity-mqm.txt"
KG = "https://w3id.org/mqmkg/id/"
MQM = "https://w3id.org/mqmkg/ontology#"
DOC = URIRef(KG + "doc-globalsecurity-mqm")

PREFIXES = {
    "dcterms": "http://purl.org/dc/terms/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "kg": KG,
    "mqm": MQM,
    "oa": "http://www.w3.org/ns/oa#",
    "org": "http://www.w3.org/ns/org#",
    "prov": "http://www.w3.org/ns/prov#",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "schema": "https://schema.org/",
    "sem": "http://semanticweb.cs.vu.nl/2009/11/sem/",
    "sh": "http://www.w3.org/ns/shacl#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "time": "http://www.w3.org/2006/time#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}

# Base nodes taken with their descriptions from graph/*.ttl: the issuers of the reports in
# graph/source.ttl, and the evidence sentences the fixtures cite.
BASE_NODES = tuple(
    URIRef(KG + name)
    for name in (
        "amnesty-international",
        "us-state-department",
        "human-rights-watch",
        "janes",
        "ev-719-801",  # KKF is a charitable organisation affiliated with MQM.
        "ev-2156-2366",  # ... accused the MQM-A ... (see, e.g., AI 1 Feb 1996; U.S. DOS Feb 1996).
        "ev-2367-2418",  # The MQM-A routinely denied involvement in violence.
        "ev-3732-3857",  # In 1992, a breakway MQM faction ... launched the MQM Haqiqi (MQM-H) ...
        "ev-5617-5794",  # By July 1995, the rate of political killings ... (U.S. DOS Feb 1996).
    )
)

# sourceConstraintComponent of each constraint parameter (SHACL 1.0 section 4 and 5).
PARAMETERS = {
    SH["class"]: SH.ClassConstraintComponent,
    SH.datatype: SH.DatatypeConstraintComponent,
    SH.nodeKind: SH.NodeKindConstraintComponent,
    SH.minCount: SH.MinCountConstraintComponent,
    SH.maxCount: SH.MaxCountConstraintComponent,
    SH.minExclusive: SH.MinExclusiveConstraintComponent,
    SH.minInclusive: SH.MinInclusiveConstraintComponent,
    SH.maxExclusive: SH.MaxExclusiveConstraintComponent,
    SH.maxInclusive: SH.MaxInclusiveConstraintComponent,
    SH.minLength: SH.MinLengthConstraintComponent,
    SH.maxLength: SH.MaxLengthConstraintComponent,
    SH.pattern: SH.PatternConstraintComponent,
    SH.languageIn: SH.LanguageInConstraintComponent,
    SH.uniqueLang: SH.UniqueLangConstraintComponent,
    SH.equals: SH.EqualsConstraintComponent,
    SH.disjoint: SH.DisjointConstraintComponent,
    SH.lessThan: SH.LessThanConstraintComponent,
    SH.lessThanOrEquals: SH.LessThanOrEqualsConstraintComponent,
    SH["not"]: SH.NotConstraintComponent,
    SH["and"]: SH.AndConstraintComponent,
    SH["or"]: SH.OrConstraintComponent,
    SH.xone: SH.XoneConstraintComponent,
    SH.node: SH.NodeConstraintComponent,
    SH.qualifiedMinCount: SH.QualifiedMinCountConstraintComponent,
    SH.qualifiedMaxCount: SH.QualifiedMaxCountConstraintComponent,
    SH.closed: SH.ClosedConstraintComponent,
    SH.hasValue: SH.HasValueConstraintComponent,
    SH["in"]: SH.InConstraintComponent,
    SH.sparql: SH.SPARQLConstraintComponent,
}
# Shape predicates that are not constraints of their own (targets, auxiliary parameters, text).
NOT_CONSTRAINTS = {
    RDF.type,
    RDFS.label,
    RDFS.comment,
    SH.path,
    SH.property,
    SH.targetClass,
    SH.targetNode,
    SH.targetSubjectsOf,
    SH.targetObjectsOf,
    SH.message,
    SH.name,
    SH.description,
    SH.severity,
    SH.deactivated,
    SH.order,
    SH.group,
    SH.flags,
    SH.ignoredProperties,
    SH.qualifiedValueShape,
    SH.qualifiedValueShapesDisjoint,
}
TARGETS = (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf)

Result = tuple[str, str, str, str]
_LINE = re.compile(r"^#\s*(expect|nested|base):\s*(.*?)\s*$")
_TUPLE = re.compile(r"^(\[[^\]]*\]|\S+)\s+(\S+)\s+(\S+)\s+(\S+)$")


# --- terms ------------------------------------------------------------------------------


@cache
def namespaces() -> NamespaceManager:
    manager = NamespaceManager(rdflib.Graph(), bind_namespaces="none")
    for prefix, namespace in PREFIXES.items():
        manager.bind(prefix, namespace, override=True, replace=True)
    return manager


def curie(term: rdflib.term.Node) -> str:
    """Return an IRI or literal as a CURIE / Turtle term with ``PREFIXES``."""
    return term.n3(namespaces())


def expand(token: str) -> rdflib.term.Node:
    """Return the IRI a CURIE or ``<iri>`` token stands for."""
    if token.startswith("<") and token.endswith(">"):
        return URIRef(token[1:-1])
    prefix, _, local = token.partition(":")
    if prefix not in PREFIXES or not local:
        raise ValueError(f"not a CURIE with a known prefix: {token!r}")
    return URIRef(PREFIXES[prefix] + local)


def describe(data: rdflib.Graph, node: BNode) -> str:
    """Return the stable description of a blank focus node: ``[p o; p o]``, sorted."""
    pairs = sorted(f"{curie(p)} {curie(o)}" for p, o in data.predicate_objects(node) if not isinstance(o, BNode))
    return "[" + "; ".join(pairs) + "]"


def path_text(report: rdflib.Graph, path: rdflib.term.Node | None) -> str:
    """Return a result path as ``-``, a CURIE, or ``^CURIE`` for an inverse path."""
    if path is None:
        return "-"
    if isinstance(path, URIRef):
        return curie(path)
    inverse = report.value(path, SH.inversePath)
    if isinstance(inverse, URIRef):
        return "^" + curie(inverse)
    raise AssertionError(f"no notation for the result path {path!r}")


def normalise(text: str, where: str) -> Result:
    """Return an ``# expect:`` or ``# nested:`` tuple in canonical notation."""
    match = _TUPLE.match(text)
    if not match:
        raise ValueError(f"{where}: expected 'focus path component shape', got {text!r}")
    focus, path, component, shape = match.groups()
    if not focus.startswith("["):
        focus = curie(expand(focus))
    else:
        focus = "[" + "; ".join(part.strip() for part in focus[1:-1].split(";")) + "]"
    if path != "-":
        path = ("^" + curie(expand(path[1:]))) if path.startswith("^") else curie(expand(path))
    return focus, path, curie(expand(component)), curie(expand(shape))


# --- fixtures ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Fixture:
    """One fixture file with the results it declares."""

    shape_file: str
    path: Path
    expect: frozenset[Result]
    nested: frozenset[Result]
    base: str

    @property
    def id(self) -> str:
        return f"{self.shape_file}/{self.path.name}"

    @property
    def valid(self) -> bool:
        return self.path.name.startswith("valid-")


def read_fixture(path: Path) -> Fixture:
    """Read a fixture's ``# expect:``, ``# nested:`` and ``# base:`` lines."""
    expect: set[Result] = set()
    nested: set[Result] = set()
    base = "default"
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        match = _LINE.match(line)
        if not match:
            continue
        key, value = match.groups()
        where = f"{path}:{number}"
        if key == "base":
            if value != "ontology":
                raise ValueError(f"{where}: the only base option is 'ontology', not {value!r}")
            base = value
        else:
            (expect if key == "expect" else nested).add(normalise(value, where))
    return Fixture(path.parent.name, path, frozenset(expect), frozenset(nested), base)


def shape_files() -> list[str]:
    return sorted(p.stem for p in SHAPES_DIR.glob("*.ttl") if p.stem != "prefixes")


def all_fixtures() -> list[Fixture]:
    return [read_fixture(path) for path in sorted(FIXTURES.glob("*/*.ttl"))]


FIXTURE_LIST = all_fixtures()


# --- graphs -----------------------------------------------------------------------------


def load(paths: Iterable[Path]) -> rdflib.Graph:
    """Parse Turtle files as ``mqmkg validate`` does (pyoxigraph, lexical forms kept)."""
    return rdflib_graph(triple for path in paths for triple in parse_file(path))


@cache
def shapes_graph() -> rdflib.Graph:
    return load(sorted(SHAPES_DIR.glob("*.ttl")))


@cache
def ontology() -> rdflib.Graph:
    return load(sorted((REPO / "ontology").glob("*.ttl")))


@cache
def real_graph() -> rdflib.Graph:
    return load(sorted((REPO / "graph").glob("*.ttl")))


@cache
def source_text() -> str:
    with open(SOURCE_TEXT, encoding="ascii", newline="") as handle:
        return handle.read()


def cbd(graph: rdflib.Graph, node: rdflib.term.Node) -> Iterator[tuple[Any, Any, Any]]:
    """Yield the concise bounded description of a node: its triples, through blank objects."""
    for p, o in graph.predicate_objects(node):
        yield node, p, o
        if isinstance(o, BNode):
            yield from cbd(graph, o)


@cache
def base_graph(kind: str) -> rdflib.Graph:
    """Return the graph every fixture of this base kind is added to (see the module docstring)."""
    graph = rdflib.Graph()
    graph += ontology()
    if kind == "default":
        graph += load([REPO / "graph" / "source.ttl"])
        graph.add((DOC, RDF.value, Literal(source_text())))
        for node in BASE_NODES:
            described = list(cbd(real_graph(), node))
            assert described, f"base node {curie(node)} is not described in graph/*.ttl"
            for triple in described:
                graph.add(triple)
    return graph


@contextmanager
def fixture_data(fixture: Fixture) -> Iterator[rdflib.Graph]:
    """Add the fixture's triples to its (cached) base graph for the duration of the block.

    Only triples the base lacks are added and removed again, so the base stays as built:
    copying the ~1,900 base triples for every fixture would cost more than validating.
    """
    graph = base_graph(fixture.base)
    size = len(graph)
    added = [triple for triple in load([fixture.path]) if triple not in graph]
    for triple in added:
        graph.add(triple)
    try:
        yield graph
    finally:
        for triple in added:
            graph.remove(triple)
        assert len(graph) == size


def run(data: rdflib.Graph, shapes: rdflib.Graph) -> tuple[bool, set[Result]]:
    """Validate and return conformance and the report's result tuples."""
    conforms, report, _ = validate(data, shacl_graph=shapes, advanced=True, inference="none", inplace=True)
    found: set[Result] = set()
    for result in report.objects(None, SH.result):
        focus = report.value(result, SH.focusNode)
        found.add(
            (
                describe(data, focus) if isinstance(focus, BNode) else curie(focus),
                path_text(report, report.value(result, SH.resultPath)),
                curie(report.value(result, SH.sourceConstraintComponent)),
                curie(report.value(result, SH.sourceShape)),
            )
        )
    return bool(conforms), found


def difference(expected: set[Result] | frozenset[Result], found: set[Result] | frozenset[Result]) -> str:
    lines = [f"  missing:    {' '.join(r)}" for r in sorted(expected - found)]
    lines += [f"  unexpected: {' '.join(r)}" for r in sorted(found - expected)]
    return "\n".join(lines)


# --- the shapes' constraints ------------------------------------------------------------


def property_shapes(shapes: rdflib.Graph, shape: rdflib.term.Node) -> list[rdflib.term.Node]:
    return list(shapes.objects(shape, SH.property))


def targeted_shapes(shapes: rdflib.Graph) -> set[rdflib.term.Node]:
    return {s for target in TARGETS for s in shapes.subjects(target, None)}


def nested_shapes(shapes: rdflib.Graph) -> set[rdflib.term.Node]:
    """Return the untargeted shapes reached through sh:node or sh:qualifiedValueShape."""
    top = targeted_shapes(shapes)
    found: set[rdflib.term.Node] = set()
    frontier = set(top) | {p for s in top for p in property_shapes(shapes, s)}
    while frontier:
        shape = frontier.pop()
        for parameter in (SH.node, SH.qualifiedValueShape):
            for inner in shapes.objects(shape, parameter):
                if inner not in top and inner not in found:
                    found.add(inner)
                    frontier |= {inner, *property_shapes(shapes, inner)}
    return found


def shape_constraints(shapes: rdflib.Graph, shape: rdflib.term.Node) -> Counter[tuple[str, str]]:
    """Return (shape, component) -> how many constraints of that component the shape has."""
    pairs: Counter[tuple[str, str]] = Counter()
    for predicate in set(shapes.predicates(shape, None)):
        if predicate in NOT_CONSTRAINTS:
            continue
        if predicate not in PARAMETERS:
            raise AssertionError(f"{curie(shape)}: unknown shape parameter {curie(predicate)}")
        count = len(list(shapes.objects(shape, predicate)))
        pairs[(curie(shape), curie(PARAMETERS[predicate]))] += count
    return pairs


def constraints(shapes: rdflib.Graph) -> tuple[Counter[tuple[str, str]], Counter[tuple[str, str]]]:
    """Return the reportable constraints and the nested ones, as (shape, component) counts."""
    top: Counter[tuple[str, str]] = Counter()
    for shape in targeted_shapes(shapes):
        for each in (shape, *property_shapes(shapes, shape)):
            top += shape_constraints(shapes, each)
    nested: Counter[tuple[str, str]] = Counter()
    for shape in nested_shapes(shapes):
        for each in (shape, *property_shapes(shapes, shape)):
            nested += shape_constraints(shapes, each)
    return top, nested


def owner(shapes: rdflib.Graph, shape: rdflib.term.Node) -> rdflib.term.Node:
    """Return the node shape a property shape belongs to (or the shape itself)."""
    return shapes.value(None, SH.property, shape) or shape


@dataclass(frozen=True)
class Outcome:
    """What validating one fixture gave: the report's tuples, and the nested shapes' tuples."""

    conforms: bool = False
    found: frozenset[Result] = frozenset()
    nested: frozenset[Result] = frozenset()
    error: str | None = None


def nested_run_shapes(fixture: Fixture) -> tuple[rdflib.Graph, set[str]]:
    """Return the shapes with each ``# nested:`` shape targeted at its focus, and the nested names."""
    shapes = rdflib.Graph()
    shapes += shapes_graph()
    inner = {curie(s) for s in nested_shapes(shapes)}
    inner |= {curie(p) for s in nested_shapes(shapes) for p in property_shapes(shapes, s)}
    for focus, _, _, shape in fixture.nested:
        if shape not in inner:
            raise ValueError(f"# nested: {shape} is not reached through sh:node or sh:qualifiedValueShape")
        if focus.startswith("["):
            raise ValueError("# nested: the focus must be an IRI")
        shapes.add((owner(shapes, expand(shape)), SH.targetNode, expand(focus)))
    return shapes, inner


def outcome_of(fixture_id: str) -> Outcome:
    """Validate one fixture (and, for ``# nested:`` lines, once more with the inner shapes targeted)."""
    try:
        fixture = next(f for f in FIXTURE_LIST if f.id == fixture_id)
        with fixture_data(fixture) as data:
            conforms, found = run(data, shapes_graph())
            nested: set[Result] = set()
            if fixture.nested:
                shapes, inner = nested_run_shapes(fixture)
                nested = {r for r in run(data, shapes)[1] if r[3] in inner}
        return Outcome(conforms, frozenset(found), frozenset(nested))
    except Exception:  # reported by the test of this fixture, not lost in a worker process
        return Outcome(error=traceback.format_exc())


# --- tests ------------------------------------------------------------------------------

_PLAIN_QUERY = SPARQLProcessor.query
_PREPARED: dict[tuple[Any, ...], Any] = {}


def memoized_query(
    self: SPARQLProcessor,
    query: Any,
    initBindings: Any = None,
    initNs: Any = None,
    base: Any = None,
    DEBUG: bool = False,
) -> Any:
    """``SPARQLProcessor.query`` that parses and translates each query text only once."""
    if isinstance(query, str):
        key = (query, base, tuple(sorted((k, str(v)) for k, v in (initNs or {}).items())))
        if key not in _PREPARED:
            _PREPARED[key] = translateQuery(parseQuery(query), base, initNs)
        query = _PREPARED[key]
    return _PLAIN_QUERY(self, query, initBindings, initNs, base, DEBUG)


def install_memoized_query() -> None:
    """Worker initializer: the workers' pySHACL uses ``memoized_query`` too."""
    SPARQLProcessor.query = memoized_query  # type: ignore[method-assign]


@pytest.fixture(scope="module", autouse=True)
def prepared_queries() -> Iterator[None]:
    """Parse and translate each SPARQL text once per module (see the module docstring)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(SPARQLProcessor, "query", memoized_query)
        yield


@pytest.fixture(scope="module")
def outcomes(request: pytest.FixtureRequest, prepared_queries: None) -> dict[str, Outcome]:
    """Validate the fixtures this session runs, in one worker process per core.

    Each fixture is still validated on its own, against all shapes; the workers only share
    the work. They are spawned, not forked (other tests may have left threads running), so
    each loads the graphs once and installs ``memoized_query``. One core: no workers.
    """
    wanted = [
        item.callspec.params["fixture"].id
        for item in request.session.items
        if getattr(item, "obj", None) is test_fixture and hasattr(item, "callspec")
    ]
    workers = min(len(wanted) // 20, os.cpu_count() or 1)
    if workers <= 1:
        return {name: outcome_of(name) for name in wanted}
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=install_memoized_query) as pool:
        return dict(zip(wanted, pool.map(outcome_of, wanted, chunksize=4), strict=True))


@pytest.mark.parametrize("fixture", FIXTURE_LIST, ids=lambda f: f.id)
def test_fixture(fixture: Fixture, outcomes: dict[str, Outcome]) -> None:
    """A valid fixture conforms to all shapes; an invalid one gives exactly its results."""
    if fixture.valid:
        assert not fixture.expect and not fixture.nested, "a valid fixture expects no results"
    else:
        assert fixture.expect, "an invalid fixture needs '# expect:' lines"
    result = outcomes[fixture.id]
    assert result.error is None, result.error
    assert result.found == fixture.expect, "report differs from the '# expect:' lines:\n" + difference(
        fixture.expect, result.found
    )
    assert result.conforms == (not fixture.expect)
    assert result.nested == fixture.nested, "nested results differ from the '# nested:' lines:\n" + difference(
        fixture.nested, result.nested
    )


def test_every_shape_file_has_fixtures() -> None:
    """Each shape file has a fixture directory with a valid fixture; each fixture has a file."""
    directories = sorted(p.name for p in FIXTURES.iterdir() if p.is_dir())
    assert directories == shape_files()
    valid = {f.shape_file for f in FIXTURE_LIST if f.valid}
    assert valid == set(shape_files()), f"no valid fixture for {sorted(set(shape_files()) - valid)}"
    misnamed = [f.id for f in FIXTURE_LIST if not re.match(r"^(valid|invalid)-[a-z0-9-]+\.ttl$", f.path.name)]
    assert misnamed == []


def test_invalid_fixtures_break_a_constraint_of_their_file() -> None:
    """An invalid fixture of shapes/<name>.ttl expects a result from a shape defined there."""
    defined: dict[str, set[str]] = {}
    for name in shape_files():
        file_graph = load([SHAPES_DIR / f"{name}.ttl"])
        defined[name] = {curie(s) for s in file_graph.subjects() if isinstance(s, URIRef)}
    strays = [
        f.id
        for f in FIXTURE_LIST
        if not f.valid and not any(r[3] in defined[f.shape_file] for r in f.expect | f.nested)
    ]
    assert strays == []


def test_every_constraint_has_an_invalid_fixture() -> None:
    """Each (sourceShape, component) pair is expected by as many invalid fixtures as it bundles."""
    top, nested = constraints(shapes_graph())
    seen: Counter[tuple[str, str]] = Counter()
    for fixture in FIXTURE_LIST:
        seen.update({(r[3], r[2]) for r in fixture.expect | fixture.nested})
    uncovered = [
        f"{shape} {component}: {seen[(shape, component)]} of {need} fixture(s){' (nested)' if kind else ''}"
        for kind, counts in enumerate((top, nested))
        for (shape, component), need in sorted(counts.items())
        if seen[(shape, component)] < need
    ]
    print(f"{sum(top.values())} reportable and {sum(nested.values())} nested constraints")
    print("\n".join(["uncovered:", *uncovered]) if uncovered else "every constraint is covered")
    assert uncovered == [], "constraints without an invalid fixture:\n" + "\n".join(uncovered)
    unknown = sorted(set(seen) - set(top) - set(nested))
    assert unknown == [], f"fixtures expect constraints that no shape has: {unknown}"


def test_every_property_shape_is_named() -> None:
    """Property shapes are IRIs, so a report's sourceShape can be written in a fixture."""
    blank = [s for s in set(shapes_graph().subjects(SH.path, None)) if isinstance(s, BNode)]
    assert blank == []


def test_shapes_conform_to_shacl_shacl() -> None:
    """shapes/ itself conforms to SHACL-SHACL (pySHACL's meta-SHACL, as ``meta_shacl=True``)."""
    conforms, _, text = meta_validate(shapes_graph())
    assert conforms, text


def test_base_graph_conforms() -> None:
    """The base under the fixtures is valid by itself, so a fixture's results are its own."""
    conforms, found = run(base_graph("default"), shapes_graph())
    assert found == set() and conforms


def test_prepared_queries_give_the_same_report(monkeypatch: pytest.MonkeyPatch) -> None:
    """``memoized_query`` changes nothing: plain pySHACL gives the same tuples.

    The data is small (no ontology, so no ~100 SKOS focus nodes for the plain run to parse
    for): the base's evidence sentences and the page text, plus fixtures whose SPARQL
    constraints fire on one focus node among several that pass.
    """
    chosen = (
        "evidence/invalid-sparql-quote.ttl",
        "labels/invalid-sparql-label-differs.ttl",
        "time/invalid-sparql-unit.ttl",
    )
    fixtures = [f for f in FIXTURE_LIST if f.id in chosen]
    assert len(fixtures) == len(chosen)
    data = rdflib.Graph()
    data.add((DOC, RDF.value, Literal(source_text())))
    for node in BASE_NODES:
        for triple in cbd(real_graph(), node):
            data.add(triple)
    for fixture in fixtures:
        data += load([fixture.path])
    memo = run(data, shapes_graph())
    monkeypatch.setattr(SPARQLProcessor, "query", _PLAIN_QUERY)
    plain = run(data, shapes_graph())
    assert memo == plain
    sparql = {r for f in fixtures for r in f.expect if r[2] == "sh:SPARQLConstraintComponent"}
    assert len(sparql) == len(fixtures) and sparql <= plain[1]


def test_real_graph_conforms() -> None:
    """ontology/ + graph/ + the page text conform to shapes/ (as in ``mqmkg validate``)."""
    data = rdflib.Graph()
    data += ontology()
    data += real_graph()
    data.add((DOC, RDF.value, Literal(source_text())))
    conforms, found = run(data, shapes_graph())
    assert conforms, "the graph does not conform:\n" + "\n".join(" ".join(r) for r in sorted(found))

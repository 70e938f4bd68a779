"""Validate the project: parse every file, run SHACL and the QC queries, check the quotes.

``run_validation`` is the loader: it reads ``ontology/``, ``graph/``, ``shapes/``, the source
and ``queries/qc/``, and returns one ``ValidationReport`` (see ``mqmkg.report`` for the exit
status convention). It never raises for bad input: every file that cannot be read or parsed,
and every part that cannot run, becomes a ``LoadProblem`` naming the file, and the parts that
can still run do.

- **Parsing** uses ``mqmkg.store.parse_file`` (pyoxigraph) for every Turtle file, so a syntax
  error reads ``path:line:column: message``. pySHACL gets rdflib graphs converted from those
  triples, so there is one parser and one kind of error message.
- **SHACL**: the shapes graph is first checked against SHACL-SHACL (meta-SHACL), then pySHACL
  runs with data = ontology + graph + the document's ``rdf:value``, ``ont_graph`` = ontology,
  ``advanced=True`` (SHACL-SPARQL) and no inference: ``sh:targetClass`` and ``sh:class``
  already follow ``rdfs:subClassOf*`` in the data graph, which holds the ontology, while RDFS
  inference would add domain and range types that widen the targets.
- **QC queries** (``queries/qc/<name>-violation.rq``, levels in ``profile.tsv``) run on the
  pyoxigraph store that ``mqmkg.store.build_store`` builds, the same data the server serves.
- **Quotes**: each evidence's ``oa:exact`` is compared in Python with the source bytes at
  ``[oa:start, oa:end)``; a mismatch reports where the quote does occur.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pyoxigraph as ox
import rdflib
from pyparsing import ParseBaseException
from pyshacl import validate as shacl_validate
from pyshacl.entrypoints import meta_validate
from pyshacl.errors import ReportableRuntimeError
from rdflib.collection import Collection
from rdflib.namespace import RDF, SH, XSD
from rdflib.plugins.sparql import prepareQuery

from mqmkg.config import DOC_IRI, Settings
from mqmkg.errors import CheckDefinitionError, GraphFileError, MqmkgError
from mqmkg.report import LEVELS, LoadProblem, QcRow, QuoteProblem, ShaclResult, ValidationReport, compact
from mqmkg.source import read_source
from mqmkg.store import build_store, parse_file

QC_SUFFIX = "-violation.rq"
PROFILE = "profile.tsv"
PROFILE_HEADER = ("level", "check")
PROJECTION = ("entity", "property", "value")
_HEADER_LINE = re.compile(r"^#\s*(title|description):\s*(.*)$")
_CONTINUATION = re.compile(r"^#\s{2,}(\S.*)$")
_PARSE_POSITION = re.compile(r"\s*\(at char \d+\), \(line:\d+, col:\d+\)$")
_TRIPLE_TERM_SYNTAX = re.compile(r"<<|\{\|")
_TRIPLE_TERMS = (
    "RDF 1.2 triple terms or annotations: rdflib and pySHACL cannot read them, "
    'and an annotation also asserts its triple; use a claim node (docs/data-model.md, "Claims, evidence and reports")'
)
_PATH_MODIFIERS = ((SH.inversePath, "^{}"), (SH.zeroOrMorePath, "{}*"), (SH.oneOrMorePath, "{}+"))
_QUOTES_QUERY = """
PREFIX oa: <http://www.w3.org/ns/oa#>
SELECT ?evidence ?exact ?start ?end WHERE {
  ?evidence oa:hasSelector ?q, ?p .
  ?q a oa:TextQuoteSelector ; oa:exact ?exact .
  ?p a oa:TextPositionSelector ; oa:start ?start ; oa:end ?end .
}
"""


@dataclass(frozen=True)
class QcCheck:
    """One QC query with its level and header metadata."""

    name: str
    level: str
    title: str
    description: str
    path: Path
    query: str


@dataclass(frozen=True)
class ParsedDir:
    """The Turtle files of one directory, parsed: the triples of each file, and problems."""

    directory: Path
    parsed: tuple[tuple[Path, tuple[ox.Triple, ...]], ...]
    problems: tuple[LoadProblem, ...]

    @property
    def files(self) -> tuple[Path, ...]:
        return tuple(path for path, _ in self.parsed)

    @property
    def triples(self) -> tuple[ox.Triple, ...]:
        return tuple(triple for _, triples in self.parsed for triple in triples)

    def files_with(self, subjects: Iterable[str] = (), predicates: Iterable[str] = ()) -> str:
        """Return the files describing any of these subjects or using these predicates."""
        subjects, predicates = set(subjects), set(predicates)
        names = [
            str(path)
            for path, triples in self.parsed
            if any(str(t.subject) in subjects or t.predicate.value in predicates for t in triples)
        ]
        return ", ".join(names) or str(self.directory)


# --- terms ------------------------------------------------------------------------------


def to_rdflib(term: ox.NamedNode | ox.BlankNode | ox.Literal) -> rdflib.term.Identifier:
    """Convert a pyoxigraph term to rdflib, keeping lexical forms as written."""
    if isinstance(term, ox.NamedNode):
        return rdflib.URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return rdflib.BNode(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return rdflib.Literal(term.value, lang=term.language, normalize=False)
        datatype = None if term.datatype.value == str(XSD.string) else rdflib.URIRef(term.datatype.value)
        return rdflib.Literal(term.value, datatype=datatype, normalize=False)
    raise TypeError(f"no rdflib form for {term!r} (RDF 1.2 triple terms are not supported by rdflib)")


def ntriples(node: rdflib.term.Node | None) -> str | None:
    """Return the N-Triples form of an rdflib term, as pyoxigraph writes it."""
    if node is None:
        return None
    if isinstance(node, rdflib.URIRef):
        return str(ox.NamedNode(str(node)))
    if isinstance(node, rdflib.BNode):
        return f"_:{node}"
    if isinstance(node, rdflib.Literal):
        if node.language:
            return str(ox.Literal(str(node), language=node.language))
        datatype = ox.NamedNode(str(node.datatype)) if node.datatype else None
        return str(ox.Literal(str(node), datatype=datatype))
    return str(node)


def rdflib_graph(triples: Iterable[ox.Triple]) -> rdflib.Graph:
    """Return an rdflib graph holding the given pyoxigraph triples."""
    graph = rdflib.Graph()
    for triple in triples:
        graph.add((to_rdflib(triple.subject), to_rdflib(triple.predicate), to_rdflib(triple.object)))
    return graph


# --- loading ----------------------------------------------------------------------------


def _problem(exc: GraphFileError) -> LoadProblem:
    """Return the problem a located error describes (CheckDefinitionError included)."""
    where = ":".join(str(part) for part in (exc.path, exc.line, exc.column) if part is not None)
    return LoadProblem(where, exc.message)


def _first_line_matching(path: Path, pattern: re.Pattern[str]) -> tuple[int, int] | tuple[()]:
    """Return the 1-based line and column of the first match of ``pattern`` in a file."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if match := pattern.search(line):
            return number, match.start() + 1
    return ()


def parse_dir(directory: Path, role: str) -> ParsedDir:
    """Parse every ``*.ttl`` in ``directory``; a missing, empty or bad file is a problem."""
    if not directory.is_dir():
        return ParsedDir(directory, (), (LoadProblem(str(directory), f"{role} directory not found"),))
    files = sorted(directory.glob("*.ttl"))
    problems: list[LoadProblem] = []
    parsed: list[tuple[Path, tuple[ox.Triple, ...]]] = []
    for path in files:
        try:
            triples = tuple(parse_file(path))
            if any(isinstance(t.subject, ox.Triple) or isinstance(t.object, ox.Triple) for t in triples):
                raise GraphFileError(path, _TRIPLE_TERMS, *_first_line_matching(path, _TRIPLE_TERM_SYNTAX))
            parsed.append((path, triples))
        except GraphFileError as exc:
            problems.append(_problem(exc))
    if not files:
        problems.append(LoadProblem(str(directory), f"the {role} directory holds no *.ttl files"))
    elif not problems and not any(triples for _, triples in parsed):
        message = f"the {role} directory's {len(files)} *.ttl file(s) hold no triples"
        problems.append(LoadProblem(str(directory), message))
    return ParsedDir(directory, tuple(parsed), tuple(problems))


def parse_header(path: Path, text: str) -> tuple[str, str]:
    """Return the ``# title:`` and ``# description:`` of a QC query's comment header."""
    fields: dict[str, str] = {}
    key = ""
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        if match := _HEADER_LINE.match(line):
            key = match.group(1)
            fields[key] = match.group(2).strip()
        elif (match := _CONTINUATION.match(line)) and key:
            fields[key] += " " + match.group(1).strip()
    missing = [name for name in ("title", "description") if not fields.get(name)]
    if missing:
        raise CheckDefinitionError(path, "comment header lacks " + " and ".join(f"'# {m}:'" for m in missing), 1)
    return fields["title"], fields["description"]


def load_check(path: Path, level: str) -> QcCheck:
    """Read one QC query, check its header, syntax (rdflib) and projection."""
    name = path.name.removesuffix(QC_SUFFIX)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CheckDefinitionError(path, f"cannot read: {exc}") from exc
    title, description = parse_header(path, text)
    try:
        parsed = prepareQuery(text)
    except ParseBaseException as exc:
        message = _PARSE_POSITION.sub("", str(exc))
        raise CheckDefinitionError(path, f"SPARQL syntax error: {message}", exc.lineno, exc.col) from exc
    except Exception as exc:  # rdflib raises plain Exception, e.g. for an unknown prefix
        raise CheckDefinitionError(path, f"SPARQL error: {exc}") from exc
    projection = tuple(str(var) for var in parsed.algebra.get("PV", ()))
    if parsed.algebra.name != "SelectQuery" or projection != PROJECTION:
        got = " ".join("?" + var for var in projection) or parsed.algebra.name
        raise CheckDefinitionError(path, f"must be SELECT ?entity ?property ?value, not {got}")
    return QcCheck(name, level, title, description, path, text)


def read_profile(path: Path) -> dict[str, str]:
    """Return check name -> level from ``profile.tsv`` (columns ``level``, ``check``)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise CheckDefinitionError(path, f"cannot read the QC profile: {exc}") from exc
    if not lines or tuple(lines[0].split("\t")) != PROFILE_HEADER:
        raise CheckDefinitionError(path, "first line must be the header 'level<TAB>check'", 1)
    levels: dict[str, str] = {}
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip() or line.startswith("#"):
            continue
        cells = line.split("\t")
        if len(cells) != 2 or cells[0] not in LEVELS or not cells[1]:
            raise CheckDefinitionError(path, f"expected 'LEVEL<TAB>check' with LEVEL in {LEVELS}: {line!r}", number)
        if cells[1] in levels:
            raise CheckDefinitionError(path, f"check {cells[1]!r} is listed twice", number)
        levels[cells[1]] = cells[0]
    return levels


def load_checks(qc_dir: Path) -> tuple[tuple[QcCheck, ...], tuple[LoadProblem, ...]]:
    """Load every QC query in ``qc_dir`` with its level from the profile."""
    if not qc_dir.is_dir():
        return (), (LoadProblem(str(qc_dir), "QC query directory not found"),)
    problems: list[LoadProblem] = []
    try:
        levels = read_profile(qc_dir / PROFILE)
    except CheckDefinitionError as exc:
        return (), (_problem(exc),)
    files = sorted(qc_dir.glob("*.rq"))
    names = {path.name.removesuffix(QC_SUFFIX) for path in files}
    checks: list[QcCheck] = []
    for path in files:
        name = path.name.removesuffix(QC_SUFFIX)
        try:
            if not path.name.endswith(QC_SUFFIX):
                raise CheckDefinitionError(path, f"a QC query file is named <check>{QC_SUFFIX}")
            if name not in levels:
                raise CheckDefinitionError(path, f"check {name!r} has no level in {qc_dir / PROFILE}")
            checks.append(load_check(path, levels[name]))
        except CheckDefinitionError as exc:
            problems.append(_problem(exc))
    problems.extend(
        LoadProblem(str(qc_dir / PROFILE), f"check {name!r} has no file {name}{QC_SUFFIX}")
        for name in sorted(set(levels) - names)
    )
    if not files:
        problems.append(LoadProblem(str(qc_dir), "no QC queries (*.rq)"))
    return tuple(checks), tuple(problems)


# --- running ----------------------------------------------------------------------------


def run_check(store: ox.Store, check: QcCheck) -> tuple[QcRow, ...]:
    """Run one QC query on the store (default graph = union of all graphs)."""
    try:
        solutions = store.query(check.query, use_default_graph_as_union=True)
    except SyntaxError as exc:
        raise CheckDefinitionError(check.path, f"pyoxigraph: {exc.msg}", exc.lineno, exc.offset) from exc
    rows: list[QcRow] = []
    for solution in solutions:
        terms = [solution[name] for name in PROJECTION]
        rows.append(QcRow(check.name, check.level, *(None if t is None else str(t) for t in terms)))
    return tuple(rows)


def run_checks(store: ox.Store, checks: Iterable[QcCheck]) -> tuple[tuple[QcRow, ...], tuple[LoadProblem, ...]]:
    """Run every QC query; one that pyoxigraph rejects becomes a problem."""
    rows: list[QcRow] = []
    problems: list[LoadProblem] = []
    for check in checks:
        try:
            rows.extend(run_check(store, check))
        except CheckDefinitionError as exc:
            problems.append(_problem(exc))
    return tuple(rows), tuple(problems)


def _offset(term: ox.Literal) -> int | None:
    text = term.value if isinstance(term, ox.Literal) else ""
    return int(text) if text.isdigit() else None


def _occurrences(text: str, quote: str) -> Iterator[int]:
    start = text.find(quote) if quote else -1
    while start >= 0:
        yield start
        start = text.find(quote, start + 1)


def check_quotes(store: ox.Store, text: str) -> tuple[int, tuple[QuoteProblem, ...]]:
    """Compare every evidence quote with ``text`` at its offsets; return (checked, problems)."""
    problems: list[QuoteProblem] = []
    checked = 0
    for solution in store.query(_QUOTES_QUERY, use_default_graph_as_union=True):
        checked += 1
        exact = solution["exact"].value
        start, end = _offset(solution["start"]), _offset(solution["end"])
        if start is not None and end is not None and start <= end and text[start:end] == exact:
            continue
        problems.append(QuoteProblem(str(solution["evidence"]), exact, start, end, tuple(_occurrences(text, exact))))
    return checked, tuple(sorted(problems, key=lambda p: (p.evidence, p.start or -1)))


def path_text(graph: rdflib.Graph, node: rdflib.term.Node) -> str:
    """Return a SHACL property path as a SPARQL path over ``<iri>``s."""
    if isinstance(node, rdflib.URIRef):
        return f"<{node}>"

    def grouped(inner: rdflib.term.Node) -> str:
        text = path_text(graph, inner)
        return f"({text})" if isinstance(inner, rdflib.BNode) and text[0] not in "(^" else text

    if (node, RDF.first, None) in graph:
        return "/".join(path_text(graph, item) for item in Collection(graph, node))
    for predicate, form in _PATH_MODIFIERS:
        inner = graph.value(node, predicate)
        if inner is not None:
            return form.format(grouped(inner))
    inner = graph.value(node, SH.zeroOrOnePath)
    if inner is not None:
        return f"{grouped(inner)}?"
    alternatives = graph.value(node, SH.alternativePath)
    if alternatives is not None:
        return "(" + "|".join(path_text(graph, item) for item in Collection(graph, alternatives)) + ")"
    return f"_:{node}"


def named_shape(shapes: rdflib.Graph, node: rdflib.term.Node | None) -> rdflib.term.Node | None:
    """Return the node shape that holds a blank property shape, else the node itself."""
    if isinstance(node, rdflib.BNode):
        return next(shapes.subjects(SH.property, node), node)
    return node


def shacl_results(results: rdflib.Graph, shapes: rdflib.Graph) -> tuple[ShaclResult, ...]:
    """Read the ``sh:ValidationResult``s of a pySHACL results graph."""
    found: list[ShaclResult] = []
    for result in results.subjects(RDF.type, SH.ValidationResult):
        source = named_shape(shapes, results.value(result, SH.sourceShape))
        path = results.value(result, SH.resultPath)
        severity = results.value(result, SH.resultSeverity)
        found.append(
            ShaclResult(
                severity=str(severity).removeprefix(str(SH)) if severity else "Violation",
                shape=ntriples(source) or "-",
                focus=ntriples(results.value(result, SH.focusNode)) or "-",
                path=None if path is None else path_text(results, path),
                component=ntriples(results.value(result, SH.sourceConstraintComponent)) or "-",
                message="; ".join(sorted(str(m) for m in results.objects(result, SH.resultMessage))),
                value=ntriples(results.value(result, SH.value)),
            )
        )
    return tuple(sorted(found, key=ShaclResult.sort_key))


def run_shacl(
    data: rdflib.Graph, ontology: rdflib.Graph, shapes: ParsedDir
) -> tuple[tuple[ShaclResult, ...], tuple[LoadProblem, ...]]:
    """Check the shapes with meta-SHACL, then validate the data; return results or problems."""
    shapes_graph = rdflib_graph(shapes.triples)
    conforms, meta_results, _ = meta_validate(shapes_graph)
    if not conforms:
        return (), tuple(
            LoadProblem(
                shapes.files_with(subjects=[result.focus]),
                f"malformed shape {compact(ntriples(named_shape(shapes_graph, _node(result.focus))))}: "
                f"{result.message} (meta-SHACL, path {compact(result.path)})",
            )
            for result in shacl_results(meta_results, shapes_graph)
        )
    try:
        _, results, _ = shacl_validate(
            data, shacl_graph=shapes_graph, ont_graph=ontology, inference="none", advanced=True
        )
    except ParseBaseException as exc:
        where = shapes.files_with(predicates=[str(SH.select), str(SH.ask)])
        return (), (LoadProblem(where, f"a SHACL-SPARQL query does not parse: {exc}"),)
    except ReportableRuntimeError as exc:
        return (), (LoadProblem(str(shapes.directory), f"pySHACL could not run: {exc}"),)
    return shacl_results(results, shapes_graph), ()


def _node(ntriples_term: str) -> rdflib.term.Node:
    """Return the rdflib IRI or blank node written ``<iri>`` or ``_:id``."""
    if ntriples_term.startswith("_:"):
        return rdflib.BNode(ntriples_term[2:])
    return rdflib.URIRef(ntriples_term[1:-1])


def run_validation(settings: Settings, qc_dir: Path | None = None) -> ValidationReport:
    """Validate the project at ``settings.root``; QC queries from ``qc_dir`` or ``queries/qc``."""
    settings = replace(settings, store_path=None)  # never touch the server's on-disk store
    qc_dir = settings.queries_dir / "qc" if qc_dir is None else qc_dir
    ontology = parse_dir(settings.ontology_dir, "ontology")
    graph = parse_dir(settings.graph_dir, "graph")
    shapes = parse_dir(settings.shapes_dir, "shapes")
    checks, check_problems = load_checks(qc_dir)
    problems = [*ontology.problems, *graph.problems, *shapes.problems, *check_problems]
    report = ValidationReport(root=settings.root)
    text = None
    if settings.graph_dir.is_dir():
        try:
            text = read_source(settings.source_path)
        except OSError as exc:
            problems.append(LoadProblem(str(settings.source_path), f"cannot read the source: {exc.strerror}"))
        except MqmkgError as exc:  # SourceMismatch, whose message starts with the path
            where = str(settings.source_path)
            problems.append(LoadProblem(where, str(exc).removeprefix(f"{where}: ")))
    if ontology.problems or graph.problems or text is None:
        return replace(report, problems=tuple(problems))

    try:
        data = rdflib_graph([*ontology.triples, *graph.triples])
    except TypeError as exc:
        return replace(report, problems=(*problems, LoadProblem(str(settings.graph_dir), str(exc))))
    data.add((rdflib.URIRef(DOC_IRI), RDF.value, rdflib.Literal(text)))
    shacl: tuple[ShaclResult, ...] = ()
    if not shapes.problems:
        shacl, shacl_problems = run_shacl(data, rdflib_graph(ontology.triples), shapes)
        problems.extend(shacl_problems)

    try:
        store = build_store(settings, [*ontology.files, *graph.files])
    except GraphFileError as exc:  # e.g. two files whose names give the same named graph
        return replace(report, problems=(*problems, _problem(exc)), shacl=shacl)
    rows, run_problems = run_checks(store, checks)
    checked, quote_problems = check_quotes(store, text)
    return replace(
        report,
        problems=(*problems, *run_problems),
        shacl=shacl,
        qc=tuple(sorted(rows, key=QcRow.sort_key)),
        checks_run=len(checks) - len(run_problems),
        quotes_checked=checked,
        quote_problems=quote_problems,
    )

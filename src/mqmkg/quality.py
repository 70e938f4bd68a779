"""The data-quality report: validation results, evidence coverage, citations, links, classes.

Two parts with different costs:

- ``graph_quality`` (a few fixed queries on the served store, well under a second): how much
  of the source text the evidence covers and how many claims rest on each span, claims per
  cited report, the entities the ``no-wikidata-link`` QC check lists (that query file, run
  here), and instances per class;
- ``ProjectValidation``: the full ``mqmkg validate`` run (SHACL, QC checks, quotes), which
  takes tens of seconds; the server runs it once, in a validation process, when the page is
  first asked for (``mqmkg.validation_worker``), and the page shows it when it is done.

``quality_json`` renders both as one JSON document.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pyoxigraph as ox

from mqmkg.report import LEVELS, ValidationReport, compact
from mqmkg.source import content_bounds, sentences

if TYPE_CHECKING:  # mqmkg.validate loads pySHACL: only when the report is first built
    from mqmkg.validate import QcCheck

UNLINKED_CHECK = "no-wikidata-link"
_PREFIXES = """
PREFIX mqm: <https://w3id.org/mqmkg/ontology#>
PREFIX oa: <http://www.w3.org/ns/oa#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
"""
_EVIDENCE = (
    _PREFIXES
    + """SELECT DISTINCT ?claim ?start ?end WHERE {
  ?claim a/rdfs:subClassOf* mqm:Claim ; mqm:evidence/oa:hasSelector ?selector .
  ?selector oa:start ?start ; oa:end ?end .
}"""
)
_REPORTS = (
    _PREFIXES
    + """SELECT ?report ?key (COUNT(DISTINCT ?claim) AS ?claims) WHERE {
  ?report a mqm:CitedReport ; mqm:citationKey ?key .
  OPTIONAL { ?claim mqm:citesReport ?report }
} GROUP BY ?report ?key"""
)
_CLASSES = (
    _PREFIXES
    + """SELECT ?base ?class (SAMPLE(?label) AS ?name) (COUNT(DISTINCT ?instance) AS ?instances) WHERE {
  ?instance a ?class . FILTER (isIRI(?instance) && STRSTARTS(STR(?instance), ?base))
  OPTIONAL { ?class rdfs:label ?label }
} GROUP BY ?class ?base"""
)
_NAMES = _PREFIXES + "SELECT ?this ?name WHERE { ?this skos:prefLabel|rdfs:label ?name }"


@dataclass(frozen=True)
class Span:
    """A stretch of the source resting on ``depth`` claims (0: none)."""

    start: int
    end: int
    depth: int


@dataclass(frozen=True)
class Coverage:
    """How the claims' evidence covers the document's content."""

    start: int
    end: int
    spans: tuple[Span, ...]
    sentences: int
    sentences_backed: int
    unbacked: tuple[tuple[int, int], ...]
    letters: int  # characters of content that are not white space
    letters_covered: int  # of those, the ones inside some claim's evidence

    @property
    def covered(self) -> int:
        return sum(s.end - s.start for s in self.spans if s.depth)

    @property
    def share(self) -> float:
        """Return the share of the content's non-space characters that lie in evidence."""
        return self.letters_covered / self.letters if self.letters else 0.0

    @property
    def max_depth(self) -> int:
        return max((s.depth for s in self.spans), default=0)


@dataclass(frozen=True)
class ReportClaims:
    """A cited report and the number of claims that cite it."""

    id: str
    key: str
    claims: int


@dataclass(frozen=True)
class Named:
    """An entity or class with its name and a count (instances, or 0 where none applies)."""

    iri: str
    name: str
    count: int = 0


@dataclass(frozen=True)
class GraphQuality:
    """The parts of the report read straight from the graph."""

    coverage: Coverage
    reports: tuple[ReportClaims, ...]
    unlinked: tuple[Named, ...]
    classes: tuple[Named, ...]


@dataclass(frozen=True)
class ProjectValidation:
    """A full validation run and the QC checks it ran (for their titles and levels)."""

    report: ValidationReport
    checks: tuple[QcCheck, ...]
    seconds: float


def coverage(store: ox.Store, text: str) -> Coverage:
    """Return how many claims rest on each stretch of the document's content."""
    start, end = content_bounds(text)
    claims_at: list[set[str]] = [set() for _ in range(end - start)]
    for row in store.query(_EVIDENCE):
        first, last = max(int(row["start"].value), start), min(int(row["end"].value), end)
        for offset in range(first, last):
            claims_at[offset - start].add(row["claim"].value)
    spans: list[Span] = []
    for offset, claims in enumerate(claims_at, start=start):
        if spans and spans[-1].depth == len(claims) and spans[-1].end == offset:
            spans[-1] = Span(spans[-1].start, offset + 1, len(claims))
        else:
            spans.append(Span(offset, offset + 1, len(claims)))
    parts = sentences(text)
    unbacked = tuple((s.start, s.end) for s in parts if not any(claims_at[i - start] for i in range(s.start, s.end)))
    letters = [not text[i].isspace() for i in range(start, end)]
    covered = sum(1 for i, letter in enumerate(letters) if letter and claims_at[i])
    return Coverage(start, end, tuple(spans), len(parts), len(parts) - len(unbacked), unbacked, sum(letters), covered)


def _names(store: ox.Store) -> dict[str, str]:
    names: dict[str, str] = {}
    for row in store.query(_NAMES):
        if isinstance(row["this"], ox.NamedNode):
            names.setdefault(row["this"].value, str(row["name"].value))
    return names


def graph_quality(store: ox.Store, text: str, base: str, qc_dir: Path) -> GraphQuality:
    """Return coverage, claims per report, unlinked entities and class counts of the store."""
    from mqmkg.validate import load_check, run_check

    names = _names(store)
    reports = sorted(
        (
            ReportClaims(row["report"].value.removeprefix(base), str(row["key"].value), int(row["claims"].value))
            for row in store.query(_REPORTS)
        ),
        key=lambda r: (-r.claims, r.key),
    )
    check = qc_dir / f"{UNLINKED_CHECK}-violation.rq"
    rows = run_check(store, load_check(check, "INFO")) if check.is_file() else ()
    unlinked = {row.entity.strip("<>") for row in rows if row.entity}
    classes = [
        Named(
            row["class"].value,
            str(row["name"].value) if row["name"] else compact(f"<{row['class'].value}>"),
            int(row["instances"].value),
        )
        for row in store.query(_CLASSES, substitutions={ox.Variable("base"): ox.Literal(base)})
    ]
    return GraphQuality(
        coverage=coverage(store, text),
        reports=tuple(reports),
        unlinked=tuple(sorted((Named(iri, names.get(iri, iri)) for iri in unlinked), key=lambda n: n.name.casefold())),
        classes=tuple(sorted(classes, key=lambda c: (-c.count, c.name.casefold()))),
    )


def validation_json(run: ProjectValidation) -> dict[str, object]:
    """Return a validation run as JSON: status, counts per level, each check, every finding."""
    report = run.report
    per_check = Counter(row.check for row in report.qc)
    return {
        "status": "done",
        "summary": report.summary(),
        "exitCode": report.exit_code,
        "seconds": round(run.seconds, 1),
        "levels": report.counts,
        "shacl": report.shacl_counts,
        "quotes": {"checked": report.quotes_checked, "wrong": len(report.quote_problems)},
        "checks": [
            {
                "name": c.name,
                "level": c.level,
                "title": c.title,
                "description": c.description,
                "rows": per_check[c.name],
            }
            for c in sorted(run.checks, key=lambda c: (LEVELS.index(c.level), c.name))
        ],
        "problems": [p.render() for p in report.problems],
        "shaclResults": [
            {
                "severity": r.severity,
                "focusNode": r.focus,
                "path": r.path,
                "constraint": r.component,
                "shape": r.shape,
                "message": r.message,
            }
            for r in report.shacl
        ],
        "qcRows": [
            {"check": r.check, "level": r.level, "entity": r.entity, "property": r.property, "value": r.value}
            for r in report.qc
        ],
        "quoteProblems": [p.render() for p in report.quote_problems],
    }


def quality_json(graph: GraphQuality, validation: dict[str, object], base: str) -> dict[str, object]:
    """Return the whole report as one JSON document."""
    cov = graph.coverage
    return {
        "validation": validation,
        "coverage": {
            "contentStart": cov.start,
            "contentEnd": cov.end,
            "coveredCharacters": cov.covered,
            "letters": cov.letters,
            "lettersCovered": cov.letters_covered,
            "share": round(cov.share, 4),
            "sentences": cov.sentences,
            "sentencesBacked": cov.sentences_backed,
            "unbackedSentences": [{"start": s, "end": e} for s, e in cov.unbacked],
            "maxClaimsOnASpan": cov.max_depth,
            "spans": [{"start": s.start, "end": s.end, "claims": s.depth} for s in cov.spans],
        },
        "claimsPerReport": [{"id": r.id, "key": r.key, "claims": r.claims} for r in graph.reports],
        "withoutWikidata": [{"id": n.iri.removeprefix(base), "name": n.name} for n in graph.unlinked],
        "classes": [{"class": c.iri, "name": c.name, "instances": c.count} for c in graph.classes],
    }

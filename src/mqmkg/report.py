"""The validation report: plain records of what `mqmkg validate` found, and their text form.

RDF terms are kept as N-Triples strings (``<iri>``, ``_:id``, ``"text"@en``,
``"1"^^<…#integer>``), the same whichever engine produced them; ``compact`` shortens
the IRIs in them with the project's prefixes for display.

Exit status (``ValidationReport.exit_code``):

- 0: everything ran, with no ERROR row, no SHACL violation and no wrong quote
  (WARN and INFO rows, SHACL warnings and infos are allowed);
- 1: everything ran and found an ERROR row, a SHACL violation or a wrong quote;
- 2: validation could not run completely: a missing or unreadable file or directory,
  malformed Turtle, an empty graph, a source copy that fails its checksum, malformed
  shapes, a malformed QC query or profile. This wins over 1.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from mqmkg.sparql.prefixes import HOUSE_PREFIXES

LEVELS = ("ERROR", "WARN", "INFO")
SEVERITIES = ("Violation", "Warning", "Info")

# The prefixes reports shorten IRIs with: a subset of the house prefixes, in this order.
PREFIXES: dict[str, str] = {
    name: HOUSE_PREFIXES[name]
    for name in [
        "kg",
        "mqm",
        "org",
        "prov",
        "oa",
        "sem",
        "time",
        "skos",
        "dcterms",
        "foaf",
        "schema",
        "wd",
        "rdf",
        "rdfs",
        "owl",
        "xsd",
        "sh",
    ]
}
_IRI = re.compile(r"<([^<>\"{}|^`\\\s]*)>")
_LOCAL = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
_MAX_TERM = 70


def compact(text: str | None) -> str:
    """Return ``text`` with each ``<iri>`` in a known namespace written ``prefix:local``."""
    if text is None:
        return "-"

    def shorten(match: re.Match[str]) -> str:
        iri = match.group(1)
        for prefix, namespace in PREFIXES.items():
            local = iri.removeprefix(namespace)
            if local != iri and _LOCAL.match(local) and not local.endswith("."):
                return f"{prefix}:{local}"
        return match.group(0)

    return _IRI.sub(shorten, text)


def _short(term: str | None) -> str:
    """Return a compact term, long literals cut to a readable length."""
    text = compact(term)
    if len(text) <= _MAX_TERM or not text.startswith('"'):
        return text
    return text[: _MAX_TERM - 4] + '..."' + text[text.rindex('"') + 1 :]


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


@dataclass(frozen=True)
class LoadProblem:
    """Something that kept part of the validation from running."""

    where: str  # "path", "path:line" or "path:line:column"
    message: str

    def render(self) -> str:
        return f"{self.where}: {self.message}"


@dataclass(frozen=True)
class ShaclResult:
    """One ``sh:ValidationResult``.

    ``shape`` is the named node shape when the source shape is a blank property shape
    of it, else the source shape itself.
    """

    severity: str  # a member of SEVERITIES
    shape: str
    focus: str
    path: str | None  # a SPARQL property path over <iri>s
    component: str
    message: str
    value: str | None = None

    def sort_key(self) -> tuple[int, str, str, str, str]:
        return (SEVERITIES.index(self.severity), self.shape, self.focus, self.path or "", self.message)


@dataclass(frozen=True)
class QcRow:
    """One row of a QC query, ROBOT report style."""

    check: str
    level: str  # a member of LEVELS
    entity: str | None
    property: str | None
    value: str | None

    def sort_key(self) -> tuple[int, str, str, str, str]:
        return (
            LEVELS.index(self.level),
            self.check,
            self.entity or "",
            self.property or "",
            self.value or "",
        )


@dataclass(frozen=True)
class QuoteProblem:
    """An evidence quote that is not the source text at its offsets."""

    evidence: str
    exact: str
    start: int | None  # None when the offset is not an integer
    end: int | None
    found: tuple[int, ...] = ()  # start offsets where the quote does occur

    def render(self) -> str:
        where = f"[{self.start}, {self.end})" if self.start is not None and self.end is not None else ""
        head = f"{compact(self.evidence)}: "
        if not where:
            head += "oa:start/oa:end are not integer offsets"
        else:
            head += f"oa:exact is not the source text at {where}"
        if not self.found:
            return head + "; the quote does not occur in the source"
        spans = ", ".join(f"[{s}, {s + len(self.exact)}) (kg:ev-{s}-{s + len(self.exact)})" for s in self.found)
        return f"{head}; the quote occurs at {spans}"


@dataclass(frozen=True)
class ValidationReport:
    """Everything one validation run found; rendering is pure."""

    root: Path
    problems: tuple[LoadProblem, ...] = ()
    shacl: tuple[ShaclResult, ...] = ()
    qc: tuple[QcRow, ...] = ()
    checks_run: int = 0
    quotes_checked: int = 0
    quote_problems: tuple[QuoteProblem, ...] = ()

    @property
    def counts(self) -> dict[str, int]:
        """Return the number of QC rows per level."""
        seen = Counter(row.level for row in self.qc)
        return {level: seen[level] for level in LEVELS}

    @property
    def shacl_counts(self) -> dict[str, int]:
        """Return the number of SHACL results per severity."""
        seen = Counter(result.severity for result in self.shacl)
        return {severity: seen[severity] for severity in SEVERITIES}

    @property
    def complete(self) -> bool:
        """Return whether every part of the validation ran."""
        return not self.problems

    @property
    def ok(self) -> bool:
        """Return whether validation ran completely and found nothing that fails the build."""
        return (
            self.complete
            and self.counts["ERROR"] == 0
            and self.shacl_counts["Violation"] == 0
            and not self.quote_problems
        )

    @property
    def exit_code(self) -> int:
        """Return 0 (ok), 1 (violations found) or 2 (validation could not run completely)."""
        if not self.complete:
            return 2
        return 0 if self.ok else 1

    def summary(self) -> str:
        """Return the one-line summary: counts per level, SHACL results, quotes."""
        levels = ", ".join(f"{n} {level}" for level, n in self.counts.items())
        shacl = self.shacl_counts
        line = (
            f"validate: {levels} ({_plural(self.checks_run, 'QC check')}); "
            f"SHACL {_plural(shacl['Violation'], 'violation')}, {_plural(shacl['Warning'], 'warning')}, "
            f"{_plural(shacl['Info'], 'info')}; "
            f"{_plural(self.quotes_checked, 'quote')} checked, {len(self.quote_problems)} wrong"
        )
        if self.problems:
            return f"{line}; INCOMPLETE: {_plural(len(self.problems), 'problem')} kept checks from running"
        return line

    def render(self, info: bool = True) -> str:
        """Return the report as text: sections with findings, then the summary line.

        With ``info`` False the INFO rows and SHACL infos are not listed (only counted, in
        the summary and in one line saying how to list them).
        """
        shacl = [r for r in self.shacl if info or r.severity != "Info"]
        qc = [r for r in self.qc if info or r.level != "INFO"]
        lines: list[str] = []
        if self.problems:
            lines.append(f"Could not run ({len(self.problems)}):")
            lines.extend("  " + problem.render() for problem in self.problems)
        if shacl:
            lines.append(f"SHACL results ({len(shacl)}):")
            for result in sorted(shacl, key=ShaclResult.sort_key):
                lines.append(
                    f"  {result.severity}  shape {compact(result.shape)}  focus {compact(result.focus)}"
                    f"  path {compact(result.path)}"
                    + (f"  value {_short(result.value)}" if result.value is not None else "")
                )
                lines.append(f"      {compact(result.message)}")
        if qc:
            lines.append(f"QC rows ({len(qc)}, {self.checks_run} checks):")
            rows = [
                (row.level, row.check, _short(row.entity), _short(row.property), _short(row.value))
                for row in sorted(qc, key=QcRow.sort_key)
            ]
            widths = [max(len(row[i]) for row in rows) for i in range(4)]
            for row in rows:
                cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
                lines.append("  " + "  ".join([*cells, row[4]]))
        if self.quote_problems:
            lines.append(f"Wrong quotes ({len(self.quote_problems)} of {self.quotes_checked}):")
            lines.extend("  " + problem.render() for problem in self.quote_problems)
        hidden = [
            _plural(n, noun)
            for n, noun in ((len(self.qc) - len(qc), "INFO row"), (len(self.shacl) - len(shacl), "SHACL info"))
            if n
        ]
        if hidden:
            lines.append(f"Not listed: {' and '.join(hidden)} (--show-info lists them).")
        lines.append(self.summary())
        return "\n".join(lines)

"""The project's own documentation (docs/*.md) is tested against the real graph.

Conventions (docs/README.md, "How the examples are tested"):

- A fenced ``sparql`` block is a query. The Markdown table that follows it (after blank lines
  only) shows its result: the header row names the projected variables in order, each row one
  solution. Cells hold IRIs compacted with the project's prefixes (``mqmkg.export.PREFIXES``:
  ``kg:mqm``, ``mqm:Split``),
  literals as their lexical form, ``|`` inside a value written ``\\|``, and an unbound variable
  as an empty cell. A last row whose cells are all ``…`` means the result has more rows than
  shown and the shown rows are its first ones. Every ``sparql`` block is followed by a table.
- A fenced ``turtle`` block is an excerpt of the real graph: it parses with those prefixes,
  and every triple in it without a blank node is in graph/ or ontology/.
- No document links outside the repository's own files except web URLs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import BNode, Graph

from mqmkg.export import PREFIXES

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
TURTLE_PREFIXES = "".join(f"PREFIX {p}: <{iri}>\n" for p, iri in PREFIXES.items())
MORE = "…"
_FENCE = re.compile(r"^```(\w+)\n(.*?)^```\n", re.M | re.S)


@dataclass(frozen=True)
class Example:
    """A query in a document and the table that follows it."""

    doc: str
    line: int
    query: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    more: bool

    @property
    def id(self) -> str:
        return f"{self.doc}:{self.line}"


def split_row(line: str) -> tuple[str, ...]:
    """Split a Markdown table row into cells, honouring ``\\|``."""
    inner = line.strip()
    assert inner.startswith("|") and inner.endswith("|"), line
    cells = re.split(r"(?<!\\)\|", inner[1:-1])
    return tuple(cell.strip().replace("\\|", "|") for cell in cells)


def table_after(text: str, position: int) -> list[str]:
    """Return the table lines that follow ``position`` after blank lines only."""
    lines = text[position:].split("\n")
    while lines and not lines[0].strip():
        lines.pop(0)
    table = []
    for line in lines:
        if not line.startswith("|"):
            break
        table.append(line)
    return table


def examples(path: Path) -> list[Example]:
    text = path.read_text(encoding="utf-8")
    found = []
    for match in _FENCE.finditer(text):
        if match[1] != "sparql":
            continue
        line = text[: match.start()].count("\n") + 1
        table = table_after(text, match.end())
        assert len(table) >= 2, f"{path.name}:{line}: a sparql block without a result table"
        header = split_row(table[0])
        assert set(table[1].replace("|", "").strip()) <= set("-: "), f"{path.name}:{line}: no separator row"
        rows = [split_row(row) for row in table[2:]]
        more = bool(rows) and all(cell == MORE for cell in rows[-1])
        if more:
            rows = rows[:-1]
        found.append(Example(path.name, line, match[2], header, tuple(rows), more))
    return found


def turtle_blocks(path: Path) -> list[tuple[int, str]]:
    text = path.read_text(encoding="utf-8")
    return [(text[: m.start()].count("\n") + 1, m[2]) for m in _FENCE.finditer(text) if m[1] == "turtle"]


DOC_FILES = sorted(DOCS.glob("*.md"))
EXAMPLES = [example for path in DOC_FILES for example in examples(path)]
TURTLE = [(path.name, line, block) for path in DOC_FILES for line, block in turtle_blocks(path)]


def cell(term: ox.NamedNode | ox.BlankNode | ox.Literal | None) -> str:
    """Render a result term as the documents write it."""
    if term is None:
        return ""
    if isinstance(term, ox.NamedNode):
        for prefix, iri in PREFIXES.items():
            if term.value.startswith(iri):
                return f"{prefix}:{term.value.removeprefix(iri)}"
        return term.value
    if isinstance(term, ox.BlankNode):
        return "_:" + term.value
    return term.value


def render(store: ox.Store, query: str) -> tuple[tuple[str, ...], list[tuple[str, ...]]]:
    """Run a documented query and return its variables and rows as table cells."""
    solutions = store.query(query)
    assert isinstance(solutions, ox.QuerySolutions), "documented queries are SELECT queries"
    names = tuple(v.value for v in solutions.variables)
    return names, [tuple(cell(row[name]) for name in names) for row in solutions]


@pytest.fixture(scope="module")
def store(project_store: ox.Store) -> ox.Store:
    return project_store


@pytest.fixture(scope="module")
def graph() -> Graph:
    g = Graph()
    for path in sorted((ROOT / "graph").glob("*.ttl")) + sorted((ROOT / "ontology").glob("*.ttl")):
        g.parse(path)
    return g


def test_the_documents_exist_and_hold_examples() -> None:
    names = {path.name for path in DOC_FILES}
    assert {"README.md", "data-model.md", "cookbook.md", "citation-rule.md", "decisions.md"} <= names
    per_doc = {path.name: len(examples(path)) for path in DOC_FILES}
    assert per_doc["data-model.md"] >= 9 and per_doc["cookbook.md"] >= 9
    assert len(TURTLE) >= 9


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.id for e in EXAMPLES])
def test_every_documented_query_returns_the_rows_it_shows(store: ox.Store, example: Example) -> None:
    names, rows = render(store, example.query)
    assert names == example.header, f"{example.id}: columns {names}, the table shows {example.header}"
    if example.more:
        assert len(rows) > len(example.rows), f"{example.id}: the table promises more rows than there are"
        rows = rows[: len(example.rows)]
    ordered = re.search(r"\bORDER\s+BY\b", example.query, re.I) is not None
    got, shown = (rows, list(example.rows)) if ordered else (sorted(rows), sorted(example.rows))
    assert got == shown, f"{example.id}: the query returns\n" + "\n".join(" | ".join(r) for r in got)


@pytest.mark.parametrize(("doc", "line", "block"), TURTLE, ids=[f"{d}:{n}" for d, n, _ in TURTLE])
def test_every_turtle_example_is_taken_from_the_graph(graph: Graph, doc: str, line: int, block: str) -> None:
    excerpt = Graph().parse(data=TURTLE_PREFIXES + block, format="turtle")
    ground = [t for t in excerpt if not any(isinstance(term, BNode) for term in t)]
    assert ground, f"{doc}:{line}: no triple to check"
    missing = [t for t in ground if t not in graph]
    assert not missing, f"{doc}:{line}: not in the graph:\n" + "\n".join(" ".join(x.n3() for x in t) for t in missing)


def readme_documentation_section() -> str:
    """Return the README's "Documentation" section (the part of the README these docs own)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(r"^## Documentation\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert match, "README.md has no '## Documentation' section"
    return match[1]


def test_documents_do_not_point_outside_the_repository() -> None:
    section = readme_documentation_section()
    assert all(
        f"docs/{name}" in section for name in ("data-model.md", "cookbook.md", "citation-rule.md", "decisions.md")
    )
    for path, text in [*((p, p.read_text(encoding="utf-8")) for p in DOC_FILES), (ROOT / "README.md", section)]:
        assert "../shared" not in text, path
        prose = _FENCE.sub("", text)
        for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", prose):
            if re.match(r"[a-z]+://", target):
                continue
            assert (path.parent / target).resolve().exists(), f"{path.name}: broken link {target}"


def test_the_table_conventions_are_read_as_documented(tmp_path: Path, store: ox.Store) -> None:
    """A table is read cell by cell (``\\|`` kept inside a value), and a last row of ``…``
    promises more rows; a wrong row is caught."""
    doc = tmp_path / "example.md"
    query = (
        "PREFIX kg: <https://w3id.org/mqmkg/id/>\nPREFIX skos: <http://www.w3.org/2004/02/skos/core#>\n"
        'SELECT ?name ?joined WHERE { kg:mqm-h skos:altLabel ?name . BIND (CONCAT(?name, "|x") AS ?joined) }\n'
        "ORDER BY ?name\n"
    )
    doc.write_text(
        f"Text.\n\n```sparql\n{query}```\n\n| name | joined |\n|---|---|\n| Haqiqi | Haqiqi\\|x |\n| … | … |\n",
        encoding="utf-8",
    )
    [example] = examples(doc)
    assert example.header == ("name", "joined") and example.rows == (("Haqiqi", "Haqiqi|x"),) and example.more
    names, rows = render(store, example.query)
    assert names == example.header and rows[: len(example.rows)] == list(example.rows) and len(rows) == 2
    doc.write_text(doc.read_text(encoding="utf-8").replace("| Haqiqi | Haqiqi\\|x |", "| MQM-H | MQM-H\\|x |"))
    [wrong] = examples(doc)
    assert rows[: len(wrong.rows)] != list(wrong.rows)

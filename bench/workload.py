"""The benchmark's queries: the canned ones with their defaults, a point lookup, a DESCRIBE, a CONSTRUCT.

Every peer gets the same text over the SPARQL protocol, so parameters are written into the
text here (a ``VALUES`` row at the top of the WHERE clause, or the term itself for a bare
``DESCRIBE ?x``): this is test data we control, never user input. Federated canned queries
(``SERVICE``) are left out: the peers have no Wikidata to call, and neither has this machine.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from mqmkg.queries import load_catalog

JSON = "application/sparql-results+json"
NTRIPLES = "application/n-triples"
KG = "https://w3id.org/mqmkg/id/"

# The analyst queries of the goals (issue: timeline, counts, allegations, about-entity, search).
ANALYST = ("timeline", "counts-by-class", "all-allegations", "about-entity", "search-labels")

LOOKUP = f"""PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX owl: <http://www.w3.org/2002/07/owl#>
SELECT ?label ?link WHERE {{
  <{KG}altaf-hussein> rdfs:label ?label .
  OPTIONAL {{ <{KG}altaf-hussein> owl:sameAs ?link }}
}}"""
DESCRIBE = f"DESCRIBE <{KG}mqm>"


@dataclass(frozen=True)
class Workload:
    """One query of the benchmark: its name, text and the Accept header for its form."""

    name: str
    text: str
    accept: str

    @property
    def analyst(self) -> bool:
        return self.name in ANALYST


def _form(text: str) -> str:
    body = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith(("#", "PREFIX", "BASE")))
    match = re.search(r"\b(SELECT|ASK|CONSTRUCT|DESCRIBE)\b", body, re.IGNORECASE)
    return match.group(1).upper() if match else "SELECT"


def _term(kind: str, value: str) -> str:
    if kind == "iri":
        return f"<{KG}{value[3:]}>" if value.startswith("kg:") else f"<{value}>"
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    if kind == "date":
        return f'"{escaped}"^^<http://www.w3.org/2001/XMLSchema#date>'
    if kind == "integer":
        return f'"{escaped}"^^<http://www.w3.org/2001/XMLSchema#integer>'
    return f'"{escaped}"'


def inline_defaults(text: str, parameters: list[tuple[str, str, str]]) -> str:
    """Write ``(name, kind, default)`` parameters into a query's text (trusted defaults only)."""
    if not parameters:
        return text
    where = re.search(r"\bWHERE\s*\{", text, re.IGNORECASE)
    if where is None:
        for name, kind, default in parameters:
            text = re.sub(rf"\?{name}\b", _term(kind, default), text)
        return text
    names = " ".join(f"?{name}" for name, _, _ in parameters)
    row = " ".join(_term(kind, default) for _, kind, default in parameters)
    return f"{text[: where.end()]}\n  VALUES ({names}) {{ ({row}) }}{text[where.end() :]}"


def workloads(queries_dir: Path) -> list[Workload]:
    """Return the point lookup, every local canned query with its defaults, DESCRIBE and CONSTRUCT."""
    found = [Workload("lookup", LOOKUP, JSON)]
    for name, query in sorted(load_catalog(queries_dir).items()):
        if re.search(r"\bSERVICE\b", query.text, re.IGNORECASE):
            continue
        parameters = [(p.name, p.kind, p.default) for p in query.parameters]
        text = inline_defaults(query.text, parameters)
        accept = NTRIPLES if _form(text) in ("CONSTRUCT", "DESCRIBE") else JSON
        found.append(Workload(name, text, accept))
    found.append(Workload("describe-mqm", DESCRIBE, NTRIPLES))
    return found

"""What the query editor page needs: the examples, the house prefixes, the limits, the links.

The page (``templates/sparql.html``) embeds this as JSON for ``static/editor.js``, which
drives the vendored YASGUI. Nothing here reads the request: the examples come from the
trusted catalogue with their default parameter values.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from mqmkg.config import Settings
from mqmkg.linking import WD_ENTITY, links
from mqmkg.queries import CannedQuery
from mqmkg.sparql.formats import GRAPH_FORMATS, RESULT_FORMATS
from mqmkg.sparql.guard import query_form
from mqmkg.sparql.prefixes import HOUSE_PREFIXES

STARTER_QUERY = """\
# The house prefixes (kg:, mqm:, rdfs:, sem:, …) need no PREFIX line here.
# Ctrl+Enter (or the ▶ button) runs the query; the examples are beside the editor.
SELECT ?event ?label ?date WHERE {
  ?event sem:hasEarliestBeginTimeStamp ?date ; rdfs:label ?label .
}
ORDER BY ?date ?label
LIMIT 25
"""

_HEADER = re.compile(r"^#\s*(title|description|keywords|param):")
_PREFIX_LINE = re.compile(r"^\s*PREFIX\s+([A-Za-z][\w.-]*)\s*:\s*<([^>\s]*)>\s*$", re.IGNORECASE)

# File name extensions of the downloads, by format= name.
EXTENSIONS = {
    "json": "srj",
    "xml": "srx",
    "csv": "csv",
    "tsv": "tsv",
    "turtle": "ttl",
    "ntriples": "nt",
    "jsonld": "jsonld",
    "rdfxml": "rdf",
}


@dataclass(frozen=True)
class Example:
    """A canned query offered in the editor, its parameters written in as a VALUES block."""

    query: CannedQuery
    text: str
    form: str


def example_text(query: CannedQuery, values: Mapping[str, str] | None = None) -> str:
    """Return a canned query as the editor shows it.

    Its parameters (``values``, or the defaults) are written in as a VALUES block; the header comments (shown beside the
    editor) give way to one line naming the canned query; ``PREFIX`` lines that repeat a
    house prefix are dropped, since the endpoint predeclares them.
    """
    lines = [f"# {query.title} (canned query /queries/{query.name})"]
    for line in query.with_values(values).splitlines():
        if _HEADER.match(line):
            continue
        declared = _PREFIX_LINE.match(line)
        if declared and HOUSE_PREFIXES.get(declared.group(1)) == declared.group(2):
            continue
        lines.append(line)
    while len(lines) > 1 and not lines[1].strip():
        del lines[1]
    return "\n".join(lines) + "\n"


def examples(catalog: Mapping[str, CannedQuery]) -> list[Example]:
    """Return the canned queries as editor examples, sorted by title."""
    found = [Example(q, example_text(q), query_form(q.text) or "SELECT") for q in catalog.values()]
    return sorted(found, key=lambda e: e.query.title.casefold())


def wikidata_items(settings: Settings) -> dict[str, str]:
    """Return ``{entity IRI: QID}`` from the verified reference list and the map (none if absent)."""
    map_tsv = settings.graph_dir / "wikidata-map.tsv"
    if not (map_tsv.is_file() and settings.reference_tsv.is_file()):
        return {}
    return {link.entity: link.item.removeprefix(WD_ENTITY) for link in links(settings.reference_tsv, map_tsv)}


def editor_config(
    settings: Settings, found: Iterable[Example], wikidata: Mapping[str, str], endpoint: str
) -> dict[str, object]:
    """Return the JSON configuration of the editor page."""
    formats: dict[str, list[dict[str, str]]] = {
        kind: [{"name": f.name, "label": f.name.upper(), "extension": EXTENSIONS[f.name]} for f in group]
        for kind, group in (("results", RESULT_FORMATS), ("graph", GRAPH_FORMATS))
    }
    return {
        "endpoint": endpoint,
        "prefixesUrl": "/sparql/prefixes",
        "prefixes": dict(HOUSE_PREFIXES),
        "publicBase": settings.public_base,
        "maxRows": settings.max_rows,
        "starter": STARTER_QUERY,
        "formats": formats,
        "wikidata": {
            iri.removeprefix(settings.public_base): qid
            for iri, qid in wikidata.items()
            if iri.startswith(settings.public_base)
        },
        "examples": {e.query.name: {"title": e.query.title, "text": e.text} for e in found},
    }

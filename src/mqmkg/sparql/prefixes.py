"""The house prefixes: accepted in every query without a ``PREFIX`` line.

Like the Wikidata Query Service, the endpoint predeclares the prefixes of the namespaces
this project's own files declare (ontology, graph, shapes, canned queries, dumps), so
``SELECT * { ?s a mqm:Split }`` runs as it is. A query that declares a prefix itself keeps
its own declaration. The same table goes to the engine (pyoxigraph ``prefixes=``) and to
the SERVICE guard, so both read a query the same way; it is listed in the service
description (``sh:declare``), at ``/sparql/prefixes``, in the editor and in the README.

A prefixed name whose prefix is declared nowhere gets a 400 that names it, with the
``PREFIX`` line to add when it is a vocabulary we know (Wikidata's statement model), or
the house prefix it was probably meant to be.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from mqmkg.config import INSTANCE_BASE, ONTOLOGY_NS
from mqmkg.sparql.guard import tokens

HOUSE_PREFIXES: Mapping[str, str] = MappingProxyType(
    {
        "kg": INSTANCE_BASE,
        "mqm": ONTOLOGY_NS,
        "crm": "http://www.cidoc-crm.org/cidoc-crm/",
        "dcat": "http://www.w3.org/ns/dcat#",
        "dcterms": "http://purl.org/dc/terms/",
        "foaf": "http://xmlns.com/foaf/0.1/",
        "formats": "http://www.w3.org/ns/formats/",
        "oa": "http://www.w3.org/ns/oa#",
        "org": "http://www.w3.org/ns/org#",
        "owl": "http://www.w3.org/2002/07/owl#",
        "prov": "http://www.w3.org/ns/prov#",
        "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
        "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
        "schema": "https://schema.org/",
        "sd": "http://www.w3.org/ns/sparql-service-description#",
        "sem": "http://semanticweb.cs.vu.nl/2009/11/sem/",
        "sh": "http://www.w3.org/ns/shacl#",
        "skos": "http://www.w3.org/2004/02/skos/core#",
        "spdx": "http://spdx.org/rdf/terms#",
        "time": "http://www.w3.org/2006/time#",
        "void": "http://rdfs.org/ns/void#",
        "wd": "http://www.wikidata.org/entity/",
        "wdt": "http://www.wikidata.org/prop/direct/",
        "xsd": "http://www.w3.org/2001/XMLSchema#",
    }
)
"""Prefix → namespace IRI, accepted without declaration (in this order in every listing)."""

KNOWN_PREFIXES: Mapping[str, str] = MappingProxyType(
    {
        # Wikidata's statement model, for federated queries copied from the Wikidata Query Service.
        "p": "http://www.wikidata.org/prop/",
        "ps": "http://www.wikidata.org/prop/statement/",
        "pq": "http://www.wikidata.org/prop/qualifier/",
        "pr": "http://www.wikidata.org/prop/reference/",
        "psv": "http://www.wikidata.org/prop/statement/value/",
        "pqv": "http://www.wikidata.org/prop/qualifier/value/",
        "wikibase": "http://wikiba.se/ontology#",
        "bd": "http://www.bigdata.com/rdf#",
    }
)
"""Vocabularies we do not predeclare but can name the ``PREFIX`` line of."""


def declaration(prefix: str, namespace: str) -> str:
    """Return the ``PREFIX`` line declaring ``prefix``."""
    return f"PREFIX {prefix}: <{namespace}>"


def declarations(prefixes: Mapping[str, str] = HOUSE_PREFIXES) -> str:
    """Return one ``PREFIX`` line per prefix, in table order."""
    return "\n".join(declaration(p, ns) for p, ns in prefixes.items())


@dataclass(frozen=True)
class UndeclaredPrefix:
    """A prefixed name whose prefix neither the query nor the house table declares."""

    prefix: str
    line: int
    column: int
    suggestion: str | None
    """The ``PREFIX`` line to add, when the prefix is a known vocabulary."""
    meant: str | None
    """A house prefix the name was probably meant to use (a near miss such as ``mqn``)."""

    def message(self) -> str:
        """Return the sentence the 400 shows."""
        text = f'the prefix "{self.prefix}:" is not declared'
        if self.suggestion:
            return f"{text}; add this line at the top of the query: {self.suggestion}"
        if self.meant:
            return f'{text}; did you mean "{self.meant}:"? It is predeclared here (no PREFIX line needed)'
        return f"{text}; declare it with a line PREFIX {self.prefix}: <namespace IRI> at the top of the query"


def _prefixed_names(query: str) -> Iterator[tuple[str, int, bool]]:
    """Yield (prefix, offset, is_declaration) for every prefixed name outside strings, IRIs, comments."""
    expect_declaration = False
    for token in tokens(query):
        if token.kind == "word" and token.text.upper() == "PREFIX":
            expect_declaration = True
            continue
        if token.kind == "pname":
            prefix = token.text.partition(":")[0]
            if prefix != "_":  # a blank node label, not a prefixed name
                yield prefix, token.start, expect_declaration
        expect_declaration = False


def find_undeclared(query: str, predeclared: Mapping[str, str]) -> UndeclaredPrefix | None:
    """Return the first prefixed name whose prefix is declared neither in the query nor in ``predeclared``."""
    declared = set(predeclared)
    for prefix, start, is_declaration in _prefixed_names(query):
        if is_declaration:
            declared.add(prefix)
            continue
        if prefix in declared:
            continue
        line = query.count("\n", 0, start) + 1
        column = start - (query.rfind("\n", 0, start) + 1) + 1
        namespace = KNOWN_PREFIXES.get(prefix) or HOUSE_PREFIXES.get(prefix)
        suggestion = declaration(prefix, namespace) if namespace else None
        close = difflib.get_close_matches(prefix, list(predeclared), n=1, cutoff=0.6)
        return UndeclaredPrefix(prefix, line, column, suggestion, close[0] if close and not suggestion else None)
    return None

"""The result formats the endpoint offers, their media types and ``format=`` names."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

FORMATS_NS = "http://www.w3.org/ns/formats/"


class ResultKind(StrEnum):
    """What a query returns: a solution table or boolean (SELECT, ASK), or a graph."""

    RESULTS = "results"
    GRAPH = "graph"


@dataclass(frozen=True)
class Format:
    """One result format: its canonical media type, Accept aliases and ``format=`` names."""

    name: str
    kind: ResultKind
    media_type: str
    aliases: tuple[str, ...]
    names: tuple[str, ...]
    w3c_iri: str
    text: bool

    def content_type(self, media_type: str | None = None) -> str:
        """Return the Content-Type header value, with ``charset=utf-8`` for text types."""
        chosen = media_type or self.media_type
        return f"{chosen}; charset=utf-8" if self.text else chosen


JSON = Format(
    "json",
    ResultKind.RESULTS,
    "application/sparql-results+json",
    ("application/json",),
    ("json", "srj"),
    FORMATS_NS + "SPARQL_Results_JSON",
    False,
)
XML = Format(
    "xml",
    ResultKind.RESULTS,
    "application/sparql-results+xml",
    (),
    ("xml", "srx"),
    FORMATS_NS + "SPARQL_Results_XML",
    False,
)
CSV = Format("csv", ResultKind.RESULTS, "text/csv", (), ("csv",), FORMATS_NS + "SPARQL_Results_CSV", True)
TSV = Format(
    "tsv",
    ResultKind.RESULTS,
    "text/tab-separated-values",
    (),
    ("tsv",),
    FORMATS_NS + "SPARQL_Results_TSV",
    True,
)
TURTLE = Format(
    "turtle",
    ResultKind.GRAPH,
    "text/turtle",
    ("application/turtle", "application/x-turtle"),
    ("turtle", "ttl", "n3"),
    FORMATS_NS + "Turtle",
    True,
)
NTRIPLES = Format(
    "ntriples",
    ResultKind.GRAPH,
    "application/n-triples",
    (),
    ("ntriples", "nt", "n-triples"),
    FORMATS_NS + "N-Triples",
    False,
)
JSONLD = Format(
    "jsonld",
    ResultKind.GRAPH,
    "application/ld+json",
    ("application/x-json+ld",),
    ("jsonld", "json-ld"),
    FORMATS_NS + "JSON-LD",
    False,
)
RDFXML = Format(
    "rdfxml",
    ResultKind.GRAPH,
    "application/rdf+xml",
    (),
    ("rdfxml", "rdf+xml", "rdf"),
    FORMATS_NS + "RDF_XML",
    False,
)

# In server preference order: the first is the default when the client states none.
RESULT_FORMATS: tuple[Format, ...] = (JSON, XML, CSV, TSV)
GRAPH_FORMATS: tuple[Format, ...] = (TURTLE, NTRIPLES, JSONLD, RDFXML)
ALL_FORMATS: tuple[Format, ...] = RESULT_FORMATS + GRAPH_FORMATS
BY_NAME: dict[str, Format] = {f.name: f for f in ALL_FORMATS}

# ``format=json`` / ``format=xml`` on a CONSTRUCT or DESCRIBE mean the graph flavour of the
# same syntax, as SPARQLWrapper and Virtuoso use them.
_GRAPH_FLAVOUR = {"json": JSONLD, "xml": RDFXML}


def formats_of(kind: ResultKind) -> tuple[Format, ...]:
    """Return the formats that can carry a result of this kind, in preference order."""
    return RESULT_FORMATS if kind is ResultKind.RESULTS else GRAPH_FORMATS


def offered_media_types(kind: ResultKind) -> list[tuple[str, Format]]:
    """Return ``(media type, format)`` pairs to negotiate over: canonical types, then aliases."""
    chosen = formats_of(kind)
    return [(f.media_type, f) for f in chosen] + [(alias, f) for f in chosen for alias in f.aliases]


def format_from_names(values: Iterable[str], kind: ResultKind) -> Format | None:
    """Return the format a ``format=`` parameter asks for, or None if none fits this kind.

    Each value may be a short name (``json``, ``turtle``, …) or a media type. Several values
    may be given (SPARQLWrapper sends ``format=tsv&format=text/tab-separated-values``): the
    first one that names a format for this kind wins.
    """
    allowed = formats_of(kind)
    for raw in values:
        value = raw.strip().lower().split(";", 1)[0].strip()
        for fmt in allowed:
            if value in fmt.names or value == fmt.media_type or value in fmt.aliases:
                return fmt
        if kind is ResultKind.GRAPH and value in _GRAPH_FLAVOUR:
            return _GRAPH_FLAVOUR[value]
    return None


def describe_offers(kind: ResultKind) -> str:
    """Return a human-readable list of what can be asked for, for 406 messages."""
    chosen = formats_of(kind)
    types = ", ".join(f.media_type for f in chosen)
    names = "|".join(f.name for f in chosen)
    return f"{types} (or format={names})"


@dataclass(frozen=True)
class Choice:
    """The format picked for a response and the media type to announce for it."""

    format: Format
    media_type: str

    @property
    def content_type(self) -> str:
        return self.format.content_type(self.media_type)


def choose(format_params: Iterable[str], accept: str | None, kind: ResultKind) -> Choice | None:
    """Pick the response format: ``format=`` if given, else the Accept header; None: 406.

    A client with no preference, or a browser (``*/*``), gets the first format of the kind:
    SPARQL JSON for solutions and booleans, Turtle for graphs.
    """
    from mqmkg.sparql.conneg import negotiate

    params = list(format_params)
    if params:
        fmt = format_from_names(params, kind)
        return Choice(fmt, fmt.media_type) if fmt is not None else None
    offers = offered_media_types(kind)
    chosen = negotiate(accept, [media_type for media_type, _ in offers])
    if chosen is None:
        return None
    return Choice(dict(offers)[chosen], chosen)

"""The SPARQL 1.1 Service Description returned by ``GET /sparql`` without a query.

The service's IRI is the URL the client fetched: ``<…/sparql> a sd:Service ; sd:endpoint
<…/sparql>``, or ``<…/sparql?format=turtle> a sd:Service ; sd:endpoint <…/sparql>`` when
the description was asked for with a query string. Clients that look for the service at
the URL they fetched find it there (Comunica, for one, reads ``sd:endpoint`` only from a
subject equal to the fetched URL or from a blank node), and every other reader sees an
ordinary service description. The dataset and default graph hang off the endpoint URL
(``#dataset``, ``#default-graph``).

https://www.w3.org/TR/sparql11-service-description/
"""

from __future__ import annotations

import pyoxigraph as ox

from mqmkg.iri import is_iri
from mqmkg.sparql.dataset import Snapshot
from mqmkg.sparql.formats import ALL_FORMATS
from mqmkg.sparql.prefixes import HOUSE_PREFIXES

SD = "http://www.w3.org/ns/sparql-service-description#"
VOID = "http://rdfs.org/ns/void#"
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
RDFS_COMMENT = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#comment")
DCTERMS_TITLE = ox.NamedNode("http://purl.org/dc/terms/title")
XSD_INTEGER = ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")
XSD_ANY_URI = ox.NamedNode("http://www.w3.org/2001/XMLSchema#anyURI")
SH = "http://www.w3.org/ns/shacl#"


def _sd(name: str) -> ox.NamedNode:
    return ox.NamedNode(SD + name)


def _count(n: int) -> ox.Literal:
    return ox.Literal(str(n), datatype=XSD_INTEGER)


def prefix_declarations(service: ox.NamedNode) -> list[ox.Triple]:
    """Describe the house prefixes as SHACL prefix declarations (``sh:declare``), as shapes/ does.

    https://www.w3.org/TR/shacl/#sparql-prefixes
    """
    triples = []
    for index, (prefix, namespace) in enumerate(HOUSE_PREFIXES.items()):
        entry = ox.BlankNode(f"prefix{index}")
        triples += [
            ox.Triple(service, ox.NamedNode(SH + "declare"), entry),
            ox.Triple(entry, ox.NamedNode(SH + "prefix"), ox.Literal(prefix)),
            ox.Triple(entry, ox.NamedNode(SH + "namespace"), ox.Literal(namespace, datatype=XSD_ANY_URI)),
        ]
    return triples


def service_description(
    endpoint: str,
    snapshot: Snapshot,
    *,
    query_timeout: float,
    max_rows: int,
    allowlist: tuple[str, ...],
    fetched: str | None = None,
) -> list[ox.Triple]:
    """Return the triples describing the endpoint, its formats, features and dataset.

    The service is named by ``fetched`` (the URL asked for) when that is an IRI, else by
    ``endpoint``.
    """
    service = ox.NamedNode(fetched if fetched and is_iri(fetched) else endpoint)
    dataset = ox.NamedNode(endpoint + "#dataset")
    default_graph = ox.NamedNode(endpoint + "#default-graph")
    allowed = ", ".join(allowlist) if allowlist else "none"
    triples = [
        ox.Triple(service, RDF_TYPE, _sd("Service")),
        ox.Triple(service, DCTERMS_TITLE, ox.Literal("mqmkg SPARQL endpoint", language="en")),
        ox.Triple(
            service,
            RDFS_COMMENT,
            ox.Literal(
                f"Read-only SPARQL 1.1 Query endpoint. Each query has a deadline of {query_timeout:g} s; "
                f"results are cut at {max_rows} rows (header X-MQMKG-Truncated); SERVICE may call only: "
                f"{allowed}. The default graph is the union of all named graphs. The prefixes given by "
                "sh:declare need no PREFIX line; a query's own PREFIX lines take precedence.",
                language="en",
            ),
        ),
        ox.Triple(service, _sd("endpoint"), ox.NamedNode(endpoint)),
        ox.Triple(service, _sd("supportedLanguage"), _sd("SPARQL11Query")),
        ox.Triple(service, _sd("feature"), _sd("UnionDefaultGraph")),
        ox.Triple(service, _sd("feature"), _sd("BasicFederatedQuery")),
    ]
    triples.extend(ox.Triple(service, _sd("resultFormat"), ox.NamedNode(f.w3c_iri)) for f in ALL_FORMATS)
    triples.extend(prefix_declarations(service))
    triples.extend(
        [
            ox.Triple(service, _sd("defaultDataset"), dataset),
            ox.Triple(dataset, RDF_TYPE, _sd("Dataset")),
            ox.Triple(dataset, _sd("defaultGraph"), default_graph),
        ]
    )
    entries = [ox.BlankNode(f"namedGraph{index}") for index in range(len(snapshot.graphs))]
    triples.extend(ox.Triple(dataset, _sd("namedGraph"), entry) for entry in entries)
    triples.extend(
        [
            ox.Triple(default_graph, RDF_TYPE, _sd("Graph")),
            ox.Triple(default_graph, ox.NamedNode(VOID + "triples"), _count(snapshot.default_graph_triples)),
        ]
    )
    for index, (graph, entry) in enumerate(zip(snapshot.graphs, entries, strict=True)):
        description = ox.BlankNode(f"graph{index}")
        triples.extend(
            [
                ox.Triple(entry, RDF_TYPE, _sd("NamedGraph")),
                ox.Triple(entry, _sd("name"), ox.NamedNode(graph.name)),
                ox.Triple(entry, _sd("graph"), description),
                ox.Triple(description, RDF_TYPE, _sd("Graph")),
                ox.Triple(description, ox.NamedNode(VOID + "triples"), _count(graph.triples)),
            ]
        )
    return triples

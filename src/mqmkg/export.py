"""Deterministic dumps of the dataset: Turtle, N-Triples, N-Quads, JSON-LD, checksums, VoID.

The same input gives the same bytes: blank nodes are relabelled by RDFC-1.0
(pyoxigraph ``Dataset.canonicalize``), N-Triples and N-Quads lines are sorted, Turtle is
rdflib's ``longturtle`` with a fixed prefix table, JSON keys are sorted, and no file
carries a timestamp. Each dump records the SHA-256 of its bytes and of the dataset's
RDFC-1.0 canonical N-Quads.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.term import Node

from mqmkg.config import GRAPH_BASE, INSTANCE_BASE, Settings
from mqmkg.sparql.prefixes import HOUSE_PREFIXES
from mqmkg.store import dataset_quads

# The prefixes of the dumps: a subset of the house prefixes (mqmkg.sparql.prefixes), in this order.
PREFIXES: dict[str, str] = {
    name: HOUSE_PREFIXES[name]
    for name in [
        "kg",
        "mqm",
        "dcat",
        "dcterms",
        "foaf",
        "oa",
        "org",
        "owl",
        "prov",
        "rdf",
        "rdfs",
        "schema",
        "sd",
        "sem",
        "skos",
        "spdx",
        "time",
        "void",
        "wd",
        "xsd",
    ]
}
DATASET_IRI = "https://w3id.org/mqmkg/dataset"
DEFAULT_PUBLIC_URL = "https://w3id.org/mqmkg/"
DATA_LICENSE = "https://creativecommons.org/licenses/by/4.0/"
SOURCE_URL = "https://www.globalsecurity.org/military/world/para/mqm.htm"
EXAMPLES = ("mqm", "mqm-h", "altaf-hussein", "event-1992-mqm-h-split", "allegation-abuses-mid-1990s")


@dataclass(frozen=True)
class Dump:
    """One export file: its name, media type and bytes."""

    name: str
    media_type: str
    data: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def canonical_quads(quads: Iterable[ox.Quad]) -> list[ox.Quad]:
    """Return the quads with RDFC-1.0 blank node labels, sorted by their N-Quads form."""
    dataset = ox.Dataset(quads)
    dataset.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    return sorted(dataset, key=str)


def _lines(terms: Sequence[ox.Quad] | Sequence[ox.Triple]) -> bytes:
    return b"".join(f"{term} .\n".encode() for term in sorted({str(t) for t in terms}))


def ntriples(quads: Sequence[ox.Quad]) -> bytes:
    """Return the union graph as sorted N-Triples (duplicates across graphs merged)."""
    return _lines([ox.Triple(q.subject, q.predicate, q.object) for q in quads])


def nquads(quads: Sequence[ox.Quad]) -> bytes:
    """Return the dataset, named graphs kept, as sorted N-Quads."""
    return _lines(quads)


def rdfc_sha256(quads: Sequence[ox.Quad]) -> str:
    """Return the SHA-256 of the canonical N-Quads of the dataset."""
    return hashlib.sha256(nquads(quads)).hexdigest()


def _rdflib_term(term: ox.NamedNode | ox.BlankNode | ox.Literal) -> Node:
    """Convert a pyoxigraph term, keeping blank node labels (canonical, so stable)."""
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if term.language:
        return Literal(term.value, lang=term.language)
    if term.datatype.value == PREFIXES["xsd"] + "string":
        return Literal(term.value)  # rdflib keeps "x" and "x"^^xsd:string apart; RDF 1.1 does not
    return Literal(term.value, datatype=URIRef(term.datatype.value), normalize=False)


def _rdflib_graph(quads: Sequence[ox.Quad]) -> Graph:
    """Return the union graph in rdflib, with the fixed prefix table bound."""
    graph = Graph()
    for prefix, namespace in PREFIXES.items():
        graph.bind(prefix, namespace, override=True, replace=True)
    for quad in quads:
        graph.add((_rdflib_term(quad.subject), _rdflib_term(quad.predicate), _rdflib_term(quad.object)))
    return graph


def turtle(quads: Sequence[ox.Quad]) -> bytes:
    """Return readable, sorted Turtle (rdflib longturtle) with the fixed prefix table."""
    return _rdflib_graph(quads).serialize(format="longturtle", encoding="utf-8")


def jsonld_context() -> dict[str, object]:
    """Return the published JSON-LD context: our prefixes, nothing else."""
    return {"@context": dict(sorted(PREFIXES.items()))}


def jsonld(quads: Sequence[ox.Quad]) -> bytes:
    """Return compacted JSON-LD with the published context, nodes sorted by @id."""
    context = jsonld_context()["@context"]
    document = json.loads(_rdflib_graph(quads).serialize(format="json-ld", context=context, auto_compact=True))
    nodes = document.get("@graph", [document])
    for node in nodes:
        node.pop("@context", None)
    ordered = {"@context": context, "@graph": sorted(nodes, key=lambda n: str(n.get("@id", "")))}
    return (json.dumps(ordered, sort_keys=True, indent=1, ensure_ascii=False) + "\n").encode()


def void_turtle(dumps: Sequence[Dump], quads: Sequence[ox.Quad], public_url: str = DEFAULT_PUBLIC_URL) -> bytes:
    """Return the VoID + DCAT description of the dataset, its dumps and its endpoint."""
    base = public_url.rstrip("/") + "/"
    triples = {(q.subject, q.predicate, q.object) for q in quads}
    subjects = {
        str(t[0]) for t in triples if isinstance(t[0], ox.NamedNode) and str(t[0]).startswith("<" + INSTANCE_BASE)
    }
    classes = {str(t[2]) for t in triples if t[1].value == PREFIXES["rdf"] + "type"}
    properties = {str(t[1]) for t in triples}
    graphs: dict[str, int] = {}
    for quad in quads:
        graphs[quad.graph_name.value] = graphs.get(quad.graph_name.value, 0) + 1
    lines = [f"PREFIX {p}: <{ns}>" for p, ns in sorted(PREFIXES.items())]
    lines += [
        "",
        f"<{DATASET_IRI}> a void:Dataset , dcat:Dataset ;",
        '    dcterms:title "mqmkg: a source-backed knowledge graph of the Muttahida Qaumi Movement"@en ;',
        '    dcterms:description "Every entity, event, figure, allegation and denial in the'
        " GlobalSecurity.org MQM profile, as claims with the cited report and the verbatim"
        ' sentence they come from."@en ;',
        f"    dcterms:license <{DATA_LICENSE}> ;",
        f"    dcterms:source <{SOURCE_URL}> ;",
        f"    void:sparqlEndpoint <{base}sparql> ;",
        f'    void:uriSpace "{INSTANCE_BASE}" ;',
        f"    void:triples {len(triples)} ;",
        f"    void:entities {len(subjects)} ;",
        f"    void:classes {len(classes)} ;",
        f"    void:properties {len(properties)} ;",
        f'    mqm:rdfcSha256 "{rdfc_sha256(quads)}" ;',
        *[f"    void:exampleResource kg:{name} ;" for name in EXAMPLES],
        *[f"    void:vocabulary <{ns}> ;" for p, ns in sorted(PREFIXES.items()) if p not in ("kg", "wd", "xsd")],
        *[f"    void:dataDump <{base}export/{d.name}> ;" for d in dumps],
        *[f"    dcat:distribution <{base}export/{d.name}> ;" for d in dumps],
        *[f"    void:subset <{name}> ;" for name in sorted(graphs)],
        f"    dcat:landingPage <{base}> .",
        "",
    ]
    for name, count in sorted(graphs.items()):
        lines += [f'<{name}> a void:Dataset ; void:triples {count} ; rdfs:label "{name.removeprefix(GRAPH_BASE)}" .']
    lines.append("")
    for dump in dumps:
        lines += [
            f"<{base}export/{dump.name}> a dcat:Distribution ;",
            f"    dcat:downloadURL <{base}export/{dump.name}> ;",
            f'    dcat:mediaType "{dump.media_type}" ;',
            f"    dcat:byteSize {len(dump.data)} ;",
            "    spdx:checksum [ a spdx:Checksum ; spdx:algorithm spdx:checksumAlgorithm_sha256 ;",
            f'        spdx:checksumValue "{dump.sha256}" ] .',
            "",
        ]
    lines += [
        f"<{base}sparql> a dcat:DataService , sd:Service ;",
        f"    dcat:endpointURL <{base}sparql> ;",
        f"    dcat:servesDataset <{DATASET_IRI}> ;",
        "    dcterms:conformsTo <https://www.w3.org/TR/sparql11-protocol/> .",
        "",
    ]
    return "\n".join(lines).encode()


def build_dumps(settings: Settings, public_url: str = DEFAULT_PUBLIC_URL) -> list[Dump]:
    """Return every export file, VoID and checksums included, computed in memory."""
    return dumps_of(canonical_quads(dataset_quads(settings)), public_url)


def dumps_of(quads: Sequence[ox.Quad], public_url: str = DEFAULT_PUBLIC_URL) -> list[Dump]:
    """Return the export files of canonical quads (see ``canonical_quads``)."""
    nt = ntriples(quads)
    dumps = [
        Dump("mqmkg.ttl", "text/turtle", turtle(quads)),
        Dump("mqmkg.nt", "application/n-triples", nt),
        Dump("mqmkg.nq", "application/n-quads", nquads(quads)),
        Dump("mqmkg.jsonld", "application/ld+json", jsonld(quads)),
        Dump("context.jsonld", "application/ld+json", (json.dumps(jsonld_context(), indent=1) + "\n").encode()),
    ]
    dumps.append(Dump("void.ttl", "text/turtle", void_turtle(dumps, quads, public_url)))
    sums = "".join(f"{d.sha256}  {d.name}\n" for d in dumps)
    return [*dumps, Dump("SHA256SUMS", "text/plain", sums.encode())]


def write_dumps(dumps: Iterable[Dump], directory: Path) -> list[Path]:
    """Write the dumps into ``directory``; return the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for dump in dumps:
        path = directory / dump.name
        path.write_bytes(dump.data)
        written.append(path)
    return written

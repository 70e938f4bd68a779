"""Deterministic dumps of the dataset: Turtle, N-Triples, N-Quads, JSON-LD, the Wikidata
links, the source text, VoID/DCAT, a README and checksums.

The same input gives the same bytes: blank nodes are relabelled by RDFC-1.0
(pyoxigraph ``Dataset.canonicalize``), N-Triples and N-Quads lines are sorted, Turtle is
rdflib's ``longturtle`` with a fixed prefix table, JSON keys are sorted, and the only date
is the one passed in (``mqmkg.release``: never the wall clock). Each dump records the
SHA-256 of its bytes and of the dataset's RDFC-1.0 canonical N-Quads.
"""

from __future__ import annotations

import hashlib
import json
import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pyoxigraph as ox

from mqmkg.config import DOC_IRI, GRAPH_BASE, INSTANCE_BASE, WIKIDATA_SPARQL, Settings
from mqmkg.release import Release, release_of
from mqmkg.sparql.prefixes import HOUSE_PREFIXES
from mqmkg.store import RDF_VALUE, dataset_quads

if TYPE_CHECKING:
    from rdflib import Graph
    from rdflib.term import Node

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
CODE_LICENSE = "https://opensource.org/licenses/MIT"
SOURCE_URL = "https://www.globalsecurity.org/military/world/para/mqm.htm"
ONTOLOGY_GRAPHS = (GRAPH_BASE + "mqmkg", GRAPH_BASE + "alignments")
WIKIDATA_ENTITY = "http://www.wikidata.org/entity/"
WIKIDATA_DATASET = "https://www.wikidata.org/"
LINK_PREDICATES = {  # link predicate -> local name of its linkset
    "http://www.w3.org/2002/07/owl#sameAs": "wikidata-same-as",
    "http://www.w3.org/2004/02/skos/core#closeMatch": "wikidata-close-match",
}
FULL_DUMPS = ("mqmkg.ttl", "mqmkg.nt", "mqmkg.nq", "mqmkg.jsonld")
LINKS_DUMP = "mqmkg-wikidata-links.ttl"
SOURCE_DUMP = "globalsecurity-mqm.txt"
NOT_IN_VOID = ("void.ttl", "README", "SHA256SUMS")
DATA_RIGHTS = (
    "The curation (every graph but the ontology) is licensed under CC BY 4.0; the ontology"
    " (graphs mqmkg and alignments) under the MIT License. The quoted source text is not"
    " covered by either: the rdf:value of kg:doc-globalsecurity-mqm and the oa:exact quote of"
    f" every evidence selector are GlobalSecurity.org's text ({SOURCE_URL}), reproduced"
    " verbatim for provenance."
)
QUOTING_GRAPHS = (GRAPH_BASE + "source", GRAPH_BASE + "evidence")
QUOTE_RIGHTS = (
    "Holds GlobalSecurity.org's text, quoted verbatim for provenance (the source document's rdf:value,"
    " the evidence quotes); that text is not covered by the CC BY 4.0 licence of the curation."
)
SOURCE_RIGHTS = (
    f"Third-party text: GlobalSecurity.org's page {SOURCE_URL}, a plain-text capture kept byte"
    " for byte because the evidence offsets of mqmkg point into it. Quoted for provenance;"
    " mqmkg does not license it, GlobalSecurity.org's own terms apply."
)
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
    from rdflib import BNode, Literal, URIRef  # imported when dumps are made, not at server start

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
    from rdflib import Graph

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


def _literal(text: str) -> str:
    """Return ``text`` as a Turtle string literal (JSON's escapes are Turtle's)."""
    return json.dumps(text, ensure_ascii=False)


FILE_DESCRIPTIONS = {
    "mqmkg.ttl": "the whole dataset as one graph: the union of the named graphs, each triple once (which graph"
    " a triple came from is lost); readable, sorted Turtle",
    "mqmkg.nt": "the same union graph as N-Triples, one sorted line per triple",
    "mqmkg.nq": "the whole dataset with its named graphs kept, as N-Quads, one sorted line per quad; it is the"
    " canonical (RDFC-1.0) form, so its SHA-256 is the dataset's mqm:rdfcSha256",
    "mqmkg.jsonld": "the same union graph as compacted JSON-LD, nodes sorted by @id",
    "context.jsonld": "the JSON-LD context mqmkg.jsonld uses: the prefixes, nothing else",
    LINKS_DUMP: "only the links to Wikidata (owl:sameAs, and skos:closeMatch where Wikidata's item has a"
    " different scope), as Turtle; they are in the dumps above too",
    SOURCE_DUMP: "the source document, GlobalSecurity.org's page as plain text, byte for byte: evidence"
    " offsets point into these bytes (third-party text, see Licence)",
    "void.ttl": "VoID and DCAT: the dataset, its version and date, counts, licences, every file with its"
    " SHA-256, the Wikidata linksets, the SPARQL endpoint",
    "README": "this file",
    "SHA256SUMS": "the SHA-256 of every file here but itself",
}


@dataclass(frozen=True)
class Counts:
    """The numbers the VoID and the README report, computed from the canonical quads."""

    triples: int
    quads: int
    entities: int
    classes: int
    properties: int
    graphs: tuple[tuple[str, int], ...]
    links: tuple[tuple[str, int], ...]  # (link predicate, triples), as LINK_PREDICATES orders them


def link_triples(quads: Sequence[ox.Quad]) -> list[ox.Triple]:
    """Return the links to Wikidata entities (owl:sameAs, skos:closeMatch), each once."""
    return sorted(
        {
            ox.Triple(q.subject, q.predicate, q.object)
            for q in quads
            if q.predicate.value in LINK_PREDICATES and str(q.object.value).startswith(WIKIDATA_ENTITY)
        },
        key=str,
    )


def counts_of(quads: Sequence[ox.Quad]) -> Counts:
    """Count triples, entities, classes, properties, triples per graph and links per predicate."""
    triples = {(q.subject, q.predicate, q.object) for q in quads}
    graphs: dict[str, int] = {}
    for quad in quads:
        graphs[quad.graph_name.value] = graphs.get(quad.graph_name.value, 0) + 1
    links = link_triples(quads)
    return Counts(
        triples=len(triples),
        quads=len(quads),
        entities=len(
            {t[0].value for t in triples if isinstance(t[0], ox.NamedNode) and t[0].value.startswith(INSTANCE_BASE)}
        ),
        classes=len({t[2] for t in triples if t[1].value == PREFIXES["rdf"] + "type"}),
        properties=len({t[1] for t in triples}),
        graphs=tuple(sorted(graphs.items())),
        links=tuple((p, sum(1 for t in links if t.predicate.value == p)) for p in LINK_PREDICATES),
    )


def _distribution(base: str, dump: Dump) -> list[str]:
    """Return the Turtle lines describing one file of the export."""
    url = f"<{base}export/{dump.name}>"
    lines = [
        f"{url} a dcat:Distribution ;",
        f"    dcterms:title {_literal(dump.name)} ;",
        f"    dcterms:description {_literal(FILE_DESCRIPTIONS.get(dump.name, dump.name))}@en ;",
        f"    dcat:downloadURL {url} ;",
        f'    dcat:mediaType "{dump.media_type}" ;',
        f"    dcat:byteSize {len(dump.data)} ;",
    ]
    if dump.name == SOURCE_DUMP:
        lines += [
            f"    dcterms:source <{SOURCE_URL}> ;",
            "    dcterms:rightsHolder kg:globalsecurity-org ;",
            f"    dcterms:rights {_literal(SOURCE_RIGHTS)}@en ;",
            "    prov:alternateOf kg:doc-globalsecurity-mqm ;",
        ]
    else:
        lines += [f"    dcterms:license <{DATA_LICENSE}> ;", f"    dcterms:rights {_literal(DATA_RIGHTS)}@en ;"]
    return [
        *lines,
        "    spdx:checksum [ a spdx:Checksum ; spdx:algorithm spdx:checksumAlgorithm_sha256 ;",
        f'        spdx:checksumValue "{dump.sha256}" ] .',
        "",
    ]


def void_turtle(
    dumps: Sequence[Dump],
    quads: Sequence[ox.Quad],
    public_url: str = DEFAULT_PUBLIC_URL,
    release: Release | None = None,
) -> bytes:
    """Return the VoID + DCAT description of the dataset, its files, linksets and endpoint.

    Files named in ``NOT_IN_VOID`` (the VoID itself, the README, the checksums) are not described.
    """
    base = public_url.rstrip("/") + "/"
    release = release or Release()
    counts = counts_of(quads)
    files = [d for d in dumps if d.name not in NOT_IN_VOID]
    full = [d for d in files if d.name in FULL_DUMPS]
    linksets = [f"{DATASET_IRI}/{name}" for name in LINK_PREDICATES.values()]
    lines = [f"PREFIX {p}: <{ns}>" for p, ns in sorted(PREFIXES.items())]
    lines += [
        "",
        f"<{DATASET_IRI}> a void:Dataset , dcat:Dataset ;",
        '    dcterms:title "mqmkg: a source-backed knowledge graph of the Muttahida Qaumi Movement"@en ;',
        '    dcterms:description "Every entity, event, figure, allegation and denial in the'
        " GlobalSecurity.org MQM profile, as claims with the cited report and the verbatim"
        ' sentence they come from."@en ;',
        f"    dcat:version {_literal(release.version)} ;",
        f"    owl:versionInfo {_literal(release.version)} ;",
        *([f'    dcterms:modified "{release.modified_iso}"^^xsd:dateTime ;'] if release.modified_iso else []),
        f"    dcterms:license <{DATA_LICENSE}> ;",
        f"    dcterms:rights {_literal(DATA_RIGHTS)}@en ;",
        f"    dcterms:source <{SOURCE_URL}> ;",
        "    prov:wasDerivedFrom kg:doc-globalsecurity-mqm ;",
        f"    void:sparqlEndpoint <{base}sparql> ;",
        f'    void:uriSpace "{INSTANCE_BASE}" ;',
        f"    void:triples {counts.triples} ;",
        f"    void:entities {counts.entities} ;",
        f"    void:classes {counts.classes} ;",
        f"    void:properties {counts.properties} ;",
        f'    mqm:rdfcSha256 "{rdfc_sha256(quads)}" ;',
        *[f"    void:exampleResource kg:{name} ;" for name in EXAMPLES],
        *[f"    void:vocabulary <{ns}> ;" for p, ns in sorted(PREFIXES.items()) if p not in ("kg", "wd", "xsd")],
        *[f"    void:dataDump <{base}export/{d.name}> ;" for d in full],
        *[f"    dcat:distribution <{base}export/{d.name}> ;" for d in full],
        *[f"    void:subset <{name}> ;" for name, _ in counts.graphs],
        *[f"    void:subset <{linkset}> ;" for linkset in linksets],
        f"    dcat:landingPage <{base}> .",
        "",
    ]
    for name, count in counts.graphs:
        lines.append(f'<{name}> a void:Dataset ; void:triples {count} ; rdfs:label "{name.removeprefix(GRAPH_BASE)}"')
        if name in ONTOLOGY_GRAPHS:
            lines[-1] += f" ;\n    dcterms:license <{CODE_LICENSE}>"
        if name in QUOTING_GRAPHS:
            lines[-1] += f" ;\n    dcterms:rights {_literal(QUOTE_RIGHTS)}@en"
        lines[-1] += " ."
    lines.append("")
    for linkset, (predicate, count) in zip(linksets, counts.links, strict=True):
        lines += [
            f"<{linkset}> a void:Linkset ;",
            f"    rdfs:label {_literal(compact_iri(predicate) + ' links to Wikidata')}@en ;",
            f"    void:subjectsTarget <{DATASET_IRI}> ;",
            f"    void:objectsTarget <{WIKIDATA_DATASET}> ;",
            f"    void:linkPredicate <{predicate}> ;",
            f"    void:triples {count} ;",
            f"    void:dataDump <{base}export/{LINKS_DUMP}> .",
            "",
        ]
    lines += [
        f"<{WIKIDATA_DATASET}> a void:Dataset ;",
        '    dcterms:title "Wikidata"@en ;',
        f'    void:uriSpace "{WIKIDATA_ENTITY}" ;',
        f"    void:sparqlEndpoint <{WIKIDATA_SPARQL}> .",
        "",
    ]
    for dump in files:
        lines += _distribution(base, dump)
    lines += [
        f"<{base}sparql> a dcat:DataService , sd:Service ;",
        f"    dcat:endpointURL <{base}sparql> ;",
        f"    dcat:servesDataset <{DATASET_IRI}> ;",
        "    dcterms:conformsTo <https://www.w3.org/TR/sparql11-protocol/> .",
        "",
    ]
    return "\n".join(lines).encode()


def compact_iri(iri: str) -> str:
    """Return ``prefix:local`` for an IRI in the fixed prefix table, else the IRI."""
    for prefix, namespace in PREFIXES.items():
        if iri.startswith(namespace) and prefix not in ("kg", "mqm"):
            return prefix + ":" + iri[len(namespace) :]
    return iri


def source_text(quads: Sequence[ox.Quad]) -> bytes:
    """Return the source document's bytes: the rdf:value of the document node."""
    for quad in quads:
        if quad.subject.value == DOC_IRI and quad.predicate == RDF_VALUE:
            return str(quad.object.value).encode("utf-8")
    raise ValueError(f"no rdf:value of {DOC_IRI} in the dataset")


README = """\
mqmkg {version}: dumps of the MQM knowledge graph
{rule}

A curated, source-backed knowledge graph of Pakistan's Muttahida Qaumi Movement (MQM), built
from one document, GlobalSecurity.org's MQM profile ({source_url}).
Every statement is a claim node carrying the report the page cites and the verbatim sentence it
comes from, with character offsets into the source text.

    version    {version} (the version of the mqmkg package that wrote these files)
    modified   {modified}
    dataset    {dataset} (described in void.ttl: VoID and DCAT)
    endpoint   {base}sparql (SPARQL 1.1; `mqmkg serve` serves these same files under /export/)
    content    {triples} triples; {quads} quads in {graph_count} named graphs
    RDFC-1.0   {rdfc}

`make export` (`mqmkg export`) writes these files. They are byte-identical for the same input:
blank nodes get canonical (RDFC-1.0) labels, N-Triples and N-Quads lines are sorted, the Turtle
uses a fixed prefix table, and no file records when it was written (the date above is the
content's, never the clock's).


Files
-----

{files}

Every RDF dump holds the whole dataset: the ontology (graphs mqmkg and alignments), the curated
graph, the Wikidata links and the source text (the rdf:value of kg:doc-globalsecurity-mqm, in
graph source). The .ttl, .nt and .jsonld flatten the named graphs into their union (each triple
once: which graph a triple came from is lost); the .nq keeps them. The named graphs, one per
Turtle file of the project, are https://w3id.org/mqmkg/graph/<name>:

{graphs}


Verify the checksums
--------------------

```sh
sha256sum -c SHA256SUMS    # GNU coreutils; on macOS: shasum -a 256 -c SHA256SUMS
```

Every line must say OK. void.ttl gives the same SHA-256 for each file (spdx:checksum), and its
mqm:rdfcSha256 is the SHA-256 of mqmkg.nq, the canonical N-Quads of the dataset.
globalsecurity-mqm.txt has the SHA-256 the graph records for the source (mqm:sha256 of
kg:doc-globalsecurity-mqm).


Load
----

rdflib (Python; `pip install rdflib`):

```python
from rdflib import Dataset, Graph, URIRef

graph = Graph().parse("mqmkg.ttl", format="turtle")  # or mqmkg.nt (format="nt"), mqmkg.jsonld ("json-ld")
print(len(graph))  # {triples} triples: the union of the named graphs

dataset = Dataset().parse("mqmkg.nq", format="nquads")  # the named graphs kept
print(len(dataset.graph(URIRef("https://w3id.org/mqmkg/graph/factions"))))  # {factions} triples in graph factions

links = Graph().parse("{links_dump}", format="turtle")
print(len(links))  # {link_count} links to Wikidata
```

Oxigraph from Python (`pip install pyoxigraph`):

```python
import pyoxigraph as ox

store = ox.Store()  # in memory; ox.Store("mqmkg-db") keeps it on disk
store.bulk_load(path="mqmkg.nq", format=ox.RdfFormat.N_QUADS)
print(len(store))  # {quads} quads
same_as = "SELECT (COUNT(*) AS ?n) WHERE {{ ?s <http://www.w3.org/2002/07/owl#sameAs> ?o }}"
[row] = store.query(same_as, use_default_graph_as_union=True)
print(row["n"].value)  # {same_as} owl:sameAs links
```

With use_default_graph_as_union (or the CLI's --union-default-graph) a triple held by two named
graphs is counted twice; to query the union as a set, load mqmkg.ttl into the default graph
instead: store.load(path="mqmkg.ttl", format=ox.RdfFormat.TURTLE).

The Oxigraph server (`pip install oxigraph`, or a release binary):

```sh
oxigraph load --location mqmkg-db --file mqmkg.nq
oxigraph query --location mqmkg-db --union-default-graph --results-format tsv \\
  --query 'SELECT (COUNT(*) AS ?n) WHERE {{ ?s <http://www.w3.org/2002/07/owl#sameAs> ?o }}'
```

prints `?n` and `{same_as}`. Then `oxigraph serve-read-only --location mqmkg-db
--union-default-graph` answers SPARQL at http://localhost:7878/query.

Apache Jena (riot, TDB2, Fuseki). These commands follow Jena's documentation; mqmkg's tests do
not run them (Jena is not installed where they run):

```sh
riot --validate mqmkg.nq                       # parse every quad; prints nothing when all is well
riot --count mqmkg.nq                          # {quads} quads
tdb2.tdbloader --loc mqmkg-tdb2 mqmkg.nq       # a TDB2 database with the named graphs
tdb2.tdbquery --loc mqmkg-tdb2 'SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}'
fuseki-server --tdb2 --loc mqmkg-tdb2 /mqmkg   # SPARQL at http://localhost:3030/mqmkg/sparql
```

In TDB2 the graph <urn:x-arq:UnionGraph> is the union of the named graphs
(`SELECT ... FROM <urn:x-arq:UnionGraph> WHERE ...`).


Licence
-------

Three kinds of content, three sets of terms (LICENSE in the project says the same):

- The curation: every graph but the ontology, and these dumps as a compilation: Creative Commons
  Attribution 4.0 International (CC BY 4.0, {data_license}).
  Attribute it as "mqmkg, {dataset}".
- The ontology (graphs mqmkg and alignments) and the project's code: the MIT License.
- The source text is GlobalSecurity.org's, not ours: {source_dump}, the rdf:value of
  kg:doc-globalsecurity-mqm and the oa:exact quote of every evidence selector reproduce its
  page {source_url} verbatim, for provenance (each claim points at the
  sentence it rests on). Neither licence above covers that text; GlobalSecurity.org's own terms
  apply to any reuse of it beyond quotation.
"""


def _table(rows: Sequence[tuple[str, ...]]) -> str:
    """Return rows as aligned, indented plain-text columns (the last column unpadded)."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    return "\n".join(
        "    " + "  ".join([*(c.ljust(w) for c, w in zip(row, widths, strict=False)), row[-1]]) for row in rows
    )


def readme(dumps: Sequence[Dump], quads: Sequence[ox.Quad], public_url: str, release: Release) -> bytes:
    """Return dist/README: what each file holds, how to check it, how to load it, its licences."""
    counts = counts_of(quads)
    names = [d.name for d in dumps] + ["README", "SHA256SUMS"]
    media = {d.name: d.media_type for d in dumps} | {"README": "text/plain", "SHA256SUMS": "text/plain"}
    sizes = {d.name: f"{len(d.data):,} B" for d in dumps}
    files = _table([(name, media[name], sizes.get(name, ""), "") for name in names])
    indent = " " * 8
    files = "\n".join(
        line.rstrip()
        + "\n"
        + textwrap.fill(FILE_DESCRIPTIONS[name], 96, initial_indent=indent, subsequent_indent=indent)
        for line, name in zip(files.splitlines(), names, strict=True)
    )
    graph_counts = dict(counts.graphs)
    title = f"mqmkg {release.version}: dumps of the MQM knowledge graph"
    text = README.format(
        version=release.version,
        rule="=" * len(title),
        source_url=SOURCE_URL,
        modified=(release.modified_iso + " (the latest commit that changed ontology/ or graph/)")
        if release.modified_iso
        else "not recorded (no git history and no SOURCE_DATE_EPOCH when these files were written)",
        dataset=DATASET_IRI,
        base=public_url.rstrip("/") + "/",
        triples=counts.triples,
        quads=counts.quads,
        graph_count=len(counts.graphs),
        rdfc=rdfc_sha256(quads),
        files=files,
        graphs=_table([(name.removeprefix(GRAPH_BASE), f"{count} triples") for name, count in counts.graphs]),
        factions=graph_counts.get(GRAPH_BASE + "factions", 0),
        links_dump=LINKS_DUMP,
        link_count=sum(count for _, count in counts.links),
        same_as=dict(counts.links)["http://www.w3.org/2002/07/owl#sameAs"],
        data_license=DATA_LICENSE,
        source_dump=SOURCE_DUMP,
    )
    return text.encode()


def build_dumps(settings: Settings, public_url: str = DEFAULT_PUBLIC_URL) -> list[Dump]:
    """Return every export file, VoID, README and checksums included, computed in memory."""
    return dumps_of(canonical_quads(dataset_quads(settings)), public_url, release_of(settings.root))


def dumps_of(
    quads: Sequence[ox.Quad], public_url: str = DEFAULT_PUBLIC_URL, release: Release | None = None
) -> list[Dump]:
    """Return the export files of canonical quads (see ``canonical_quads``)."""
    release = release or Release()
    dumps = [
        Dump("mqmkg.ttl", "text/turtle", turtle(quads)),
        Dump("mqmkg.nt", "application/n-triples", ntriples(quads)),
        Dump("mqmkg.nq", "application/n-quads", nquads(quads)),
        Dump("mqmkg.jsonld", "application/ld+json", jsonld(quads)),
        Dump("context.jsonld", "application/ld+json", (json.dumps(jsonld_context(), indent=1) + "\n").encode()),
        Dump(
            LINKS_DUMP, "text/turtle", turtle([ox.Quad(t.subject, t.predicate, t.object) for t in link_triples(quads)])
        ),
        Dump(SOURCE_DUMP, "text/plain", source_text(quads)),
    ]
    dumps.append(Dump("void.ttl", "text/turtle", void_turtle(dumps, quads, public_url, release)))
    dumps.append(Dump("README", "text/plain", readme(dumps, quads, public_url, release)))
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

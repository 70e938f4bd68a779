"""The source document as the provenance viewer shows it: paragraphs, evidence spans, claims.

Read from the store alone (the document's ``rdf:value`` is the file's text, added at build
time), so the view shows exactly the bytes the evidence offsets point into. Each evidence
span lists the claims that rest on it and the reports those claims cite.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import pyoxigraph as ox

from mqmkg.config import DOC_IRI
from mqmkg.linked import ClaimEntry, Quote, ReportRef, claim_index
from mqmkg.source import SOURCE_SHA256, content_bounds, paragraphs

_DOCUMENT = """
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX foaf: <http://xmlns.com/foaf/0.1/>
PREFIX mqm: <https://w3id.org/mqmkg/ontology#>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
SELECT ?this ?text ?title ?url ?publisher ?modified WHERE {
  ?this rdf:value ?text .
  OPTIONAL { ?this dcterms:title ?title }
  OPTIONAL { ?this foaf:page ?url }
  OPTIONAL { ?this dcterms:publisher/(skos:prefLabel|rdfs:label) ?publisher }
  OPTIONAL { ?this mqm:lastModifiedAsStated ?modified }
}"""
_SPANS = """
PREFIX oa: <http://www.w3.org/ns/oa#>
SELECT ?this ?evidence ?quote ?start ?end WHERE {
  ?evidence oa:hasSource ?this ; oa:hasSelector ?q , ?p .
  ?q oa:exact ?quote .
  ?p oa:start ?start ; oa:end ?end .
}"""
_REPORTS = """
PREFIX mqm: <https://w3id.org/mqmkg/ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX sem: <http://semanticweb.cs.vu.nl/2009/11/sem/>
SELECT ?report ?key ?earliest WHERE {
  ?report a mqm:CitedReport ; mqm:citationKey ?key .
  OPTIONAL { ?report sem:hasEarliestBeginTimeStamp ?earliest }
}"""


@dataclass(frozen=True)
class LegendEntry:
    """A cited report in the viewer's legend: its colour slot and how many spans it colours."""

    report: ReportRef
    colour: int
    spans: int


@dataclass(frozen=True)
class EvidenceSpan:
    """A sentence that is evidence: its quote, the claims resting on it, their reports."""

    quote: Quote
    claims: tuple[ClaimEntry, ...]
    reports: tuple[ReportRef, ...]
    colours: tuple[int, ...]

    @property
    def anchor(self) -> str:
        return self.quote.anchor


@dataclass(frozen=True)
class Segment:
    """A run of a paragraph's text: plain text, or one evidence span."""

    text: str
    span: EvidenceSpan | None = None


@dataclass(frozen=True)
class Paragraph:
    """A block of the document: its offsets, its runs, and whether it is site furniture."""

    start: int
    end: int
    segments: tuple[Segment, ...]
    furniture: bool

    @property
    def spans(self) -> tuple[EvidenceSpan, ...]:
        return tuple(s.span for s in self.segments if s.span is not None)


@dataclass(frozen=True)
class SourceView:
    """The provenance viewer: the document, its metadata and checksum, the report legend."""

    iri: str
    title: str
    url: str
    publisher: str
    modified: str
    sha256: str
    pinned_sha256: str
    paragraphs: tuple[Paragraph, ...]
    legend: tuple[LegendEntry, ...]
    text: str

    @property
    def checksum_ok(self) -> bool:
        return self.sha256 == self.pinned_sha256

    @property
    def spans(self) -> tuple[EvidenceSpan, ...]:
        return tuple(span for p in self.paragraphs for span in p.spans)


def _legend(store: ox.Store) -> list[ReportRef]:
    """Return the cited reports oldest first (by their earliest date), then by key."""
    rows = [
        (str(r["earliest"].value) if r["earliest"] is not None else "9999", str(r["key"].value), r["report"].value)
        for r in store.query(_REPORTS)
    ]
    return [ReportRef(iri, key) for _, key, iri in sorted(set(rows))]


def _span_reports(quote: Quote, claims: list[ClaimEntry]) -> list[ReportRef]:
    """Order a span's reports: those whose key the sentence itself prints first, then borrowed ones."""
    found = {r for claim in claims for r in claim.reports}
    return sorted(found, key=lambda r: (r.key not in quote.text, r.key))


def source_view(store: ox.Store, doc_iri: str = DOC_IRI) -> SourceView | None:
    """Return the document as the viewer shows it, or None if the store does not hold its text."""
    this = ox.NamedNode(doc_iri)
    subs = {ox.Variable("this"): this}
    rows = list(store.query(_DOCUMENT, substitutions=subs))
    if not rows:
        return None
    meta = rows[0]
    text = str(meta["text"].value)

    def value(key: str) -> str:
        return str(meta[key].value) if meta[key] is not None else ""

    index = claim_index(store)
    resting: dict[str, list[ClaimEntry]] = {}
    for claim in index.values():
        for quote in claim.quotes:
            resting.setdefault(quote.evidence, []).append(claim)
    legend = _legend(store)
    slots = {report.iri: i for i, report in enumerate(legend)}
    spans: list[EvidenceSpan] = []
    for row in store.query(_SPANS, substitutions=subs):
        quote = Quote(row["evidence"].value, int(row["start"].value), int(row["end"].value), str(row["quote"].value))
        claims = sorted(resting.get(quote.evidence, []), key=lambda c: (c.kind, c.label))
        reports = _span_reports(quote, claims)
        spans.append(EvidenceSpan(quote, tuple(claims), tuple(reports), tuple(slots[r.iri] for r in reports)))
    spans.sort(key=lambda s: s.quote.start)
    counts = {slot: sum(slot in s.colours for s in spans) for slot in slots.values()}
    content_start, content_end = content_bounds(text)
    blocks = []
    for block in paragraphs(text):
        inside = [s for s in spans if block.start <= s.quote.start and s.quote.end <= block.end]
        segments, cursor = [], block.start
        for span in inside:
            if span.quote.start < cursor:  # overlapping evidence: keep the first span whole
                continue
            if span.quote.start > cursor:
                segments.append(Segment(text[cursor : span.quote.start]))
            segments.append(Segment(text[span.quote.start : span.quote.end], span))
            cursor = span.quote.end
        if cursor < block.end:
            segments.append(Segment(text[cursor : block.end]))
        furniture = block.end <= content_start or block.start >= content_end
        blocks.append(Paragraph(block.start, block.end, tuple(segments), furniture))
    return SourceView(
        iri=doc_iri,
        title=value("title"),
        url=value("url"),
        publisher=value("publisher"),
        modified=value("modified"),
        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        pinned_sha256=SOURCE_SHA256,
        paragraphs=tuple(blocks),
        legend=tuple(LegendEntry(r, slots[r.iri], counts[slots[r.iri]]) for r in legend),
        text=text,
    )

"""The HTML views without a browser: escaping once, claims grouped by kind, one entry per claim
with every quote, claim and evidence pages, the source viewer, timeline and relations data."""

from __future__ import annotations

import re
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import pyoxigraph as ox
import pytest

from mqmkg.config import INSTANCE_BASE, Settings
from mqmkg.linked import GROUPS, Term, claim_index, entity_view, search, type_counts
from mqmkg.provenance import source_view
from mqmkg.relations import relations
from mqmkg.release import Release
from mqmkg.server.site import Published, Site, page_environment
from mqmkg.source import SOURCE_SHA256, paragraphs, read_source, sentences
from mqmkg.timeline import timeline
from mqmkg.timevalues import TIME, When
from mqmkg.web.assets import load_assets

ROOT = Path(__file__).resolve().parents[1]
KG = INSTANCE_BASE
NASTY = """He said "no" & <b>won't</b> 'go'"""
# A small graph with one claim of each kind about kg:thing, a claim with two evidence
# sentences and a context note, and a label full of characters HTML must escape.
FIXTURE = """
PREFIX kg: <https://w3id.org/mqmkg/id/>
PREFIX mqm: <https://w3id.org/mqmkg/ontology#>
PREFIX oa: <http://www.w3.org/ns/oa#>
PREFIX org: <http://www.w3.org/ns/org#>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX sem: <http://semanticweb.cs.vu.nl/2009/11/sem/>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>

kg:thing a org:Organization ; rdfs:label %(nasty)s@en ; skos:prefLabel %(nasty)s@en ;
    skos:altLabel "Thing <alt>"@en ; mqm:founded "1984"^^xsd:gYear ; mqm:comment "plain" .
kg:other a org:Organization ; rdfs:label "Other"@en .
kg:event a mqm:Split ; rdfs:label "An event"@en ; mqm:supportedBy kg:claim-event .
kg:event2 a mqm:Founding ; rdfs:label "Another event"@en ; mqm:supportedBy kg:claim-event2 .
kg:fig a mqm:FatalityFigure ; rdfs:label "A figure"@en ; mqm:supportedBy kg:claim-figure .
kg:name a mqm:NameUsage ; rdfs:label "A name"@en ; mqm:ofOrganization kg:thing .
kg:thing mqm:rivalOf kg:other .

kg:claim-name a mqm:Claim ; rdfs:label "Name claim"@en ; mqm:about kg:thing , kg:name ; mqm:evidence kg:ev-0-10 .
kg:claim-event a mqm:Claim ; rdfs:label "Event claim"@en ; mqm:about kg:thing , kg:event ;
    mqm:evidence kg:ev-0-10 , kg:ev-11-22 ;
    mqm:contextNote "The second sentence carries the citation."@en ;
    mqm:citesReport kg:report-x ; mqm:citationMode "see, e.g." .
kg:claim-event2 a mqm:Claim ; rdfs:label "Second event claim"@en ; mqm:about kg:thing , kg:event2 ;
    mqm:evidence kg:ev-11-22 .
kg:claim-figure a mqm:Claim ; rdfs:label "Figure claim"@en ; mqm:about kg:thing , kg:fig ; mqm:evidence kg:ev-0-10 .
kg:allegation-x a mqm:Allegation ; rdfs:label "An allegation with \\"quotes\\" & <tags>"@en ;
    mqm:allegedBy kg:other ; mqm:accused kg:thing ; mqm:allegedAct mqm:Torture ; mqm:evidence kg:ev-0-10 .
kg:denial-x a mqm:Denial ; rdfs:label "A denial"@en ; mqm:deniedBy kg:thing ; mqm:responds kg:allegation-x ;
    mqm:evidence kg:ev-11-22 .
kg:claim-rival a mqm:Claim ; rdfs:label "Relation claim"@en ;
    rdf:subject kg:thing ; rdf:predicate mqm:rivalOf ; rdf:object kg:other ; mqm:evidence kg:ev-0-10 .
kg:claim-plain a mqm:Claim ; rdfs:label "Plain claim"@en ; mqm:about kg:thing ; mqm:evidence kg:ev-0-10 .
kg:report-x a mqm:CitedReport ; mqm:citationKey "X <1> & Y" .

kg:doc a <http://xmlns.com/foaf/0.1/Document> ; rdf:value "First one.\\nSecond <2>.\\n\\nNext para." .
kg:ev-0-10 a oa:SpecificResource ; oa:hasSource kg:doc ;
    oa:hasSelector [ a oa:TextQuoteSelector ; oa:exact "First one." ] ,
                   [ a oa:TextPositionSelector ; oa:start 0 ; oa:end 10 ] .
kg:ev-11-22 a oa:SpecificResource ; oa:hasSource kg:doc ;
    oa:hasSelector [ a oa:TextQuoteSelector ; oa:exact "Second <2>." ] ,
                   [ a oa:TextPositionSelector ; oa:start 11 ; oa:end 22 ] .
"""


class TextOf(HTMLParser):
    """Collect the text of the elements matching a tag (and optional class), as a browser shows it."""

    def __init__(self, tag: str, cls: str | None = None) -> None:
        super().__init__(convert_charrefs=True)
        self.tag, self.cls, self.depth, self.found = tag, cls, 0, []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = (dict(attrs).get("class") or "").split()
        if self.depth:
            self.depth += tag == self.tag
        elif tag == self.tag and (self.cls is None or self.cls in classes):
            self.depth = 1
            self.found.append("")

    def handle_endtag(self, tag: str) -> None:
        if self.depth and tag == self.tag:
            self.depth -= 1

    def handle_data(self, data: str) -> None:
        if self.depth:
            self.found[-1] += data


def texts(html: str, tag: str, cls: str | None = None) -> list[str]:
    parser = TextOf(tag, cls)
    parser.feed(html)
    return [" ".join(t.split()) for t in parser.found]


@pytest.fixture(scope="module")
def small() -> ox.Store:
    store = ox.Store()
    store.load(path=str(ROOT / "ontology" / "mqmkg.ttl"), format=ox.RdfFormat.TURTLE)
    nasty = '"' + NASTY.replace('"', '\\"') + '"'
    store.load(FIXTURE % {"nasty": nasty}, format=ox.RdfFormat.TURTLE)
    return store


def site_for(store: ox.Store) -> Site:
    return Site(
        settings=Settings(root=ROOT),
        store=store,
        catalog={},
        published=lambda: Published((), {}, Release()),
        pages=page_environment(),
        assets=load_assets(),
    )


def render_entity(store: ox.Store, name: str, **extra: object) -> str:
    view = entity_view(store, KG + name)
    context = {"alternates": [], "kind": None, "label_kinds": {}, "is_document": False, "query": None}
    context.update(extra)
    return bytes(site_for(store).render("entity.html", view=view, **context).body).decode()


def test_a_literal_with_quotes_and_tags_is_escaped_exactly_once(small: ox.Store) -> None:
    page = render_entity(small, "thing")
    assert texts(page, "h1") == [NASTY]  # what the reader sees is the literal itself
    assert "<b>won't</b>" not in page  # never markup
    assert "&amp;#34;" not in page and "&amp;#39;" not in page and "&amp;amp;" not in page and "&amp;lt;" not in page
    assert "Thing &lt;alt&gt;" in page
    allegation = next(t for t in texts(page, "h4") if "allegation" in t)
    assert allegation == 'allegation An allegation with "quotes" & <tags>'
    assert "X &lt;1&gt; &amp; Y" in page


def test_a_term_renders_as_markup_once_with_a_tag_for_its_language_or_datatype(small: ox.Store) -> None:
    site = site_for(small)
    plain = site.term_html(Term(NASTY, False, NASTY, "http://www.w3.org/2001/XMLSchema#string"))
    assert str(plain) == "He said &#34;no&#34; &amp; &lt;b&gt;won&#39;t&lt;/b&gt; &#39;go&#39;"
    tagged = site.term_html(Term("x", False, "x", None, "en"))
    assert str(tagged) == 'x <span class="tag" title="language">en</span>'
    year = site.term_html(Term("1984", False, "1984", "http://www.w3.org/2001/XMLSchema#gYear"))
    assert str(year) == '1984 <span class="tag" title="datatype">xsd:gYear</span>'
    page = render_entity(small, "thing")
    assert "@en" not in page and "(string)" not in page and "(gYear)" not in page
    assert '1984 <span class="tag" title="datatype">xsd:gYear</span>' in page


def test_claims_are_grouped_by_kind_with_counts(small: ox.Store) -> None:
    view = entity_view(small, KG + "thing")
    groups = {g.key: [c.iri.removeprefix(KG) for c in g.claims] for g in view.groups}
    assert groups == {
        "names": ["claim-name"],
        "events": ["claim-event", "claim-event2"],
        "figures": ["claim-figure"],
        "allegations": ["allegation-x"],
        "denials": ["denial-x"],
        "relations": ["claim-rival"],
        "other": ["claim-plain"],
    }
    assert [g.key for g in view.groups] == [key for key, _ in GROUPS]
    page = render_entity(small, "thing")
    assert texts(page, "h3") == [
        "Names (1)",
        "Events (2)",
        "Figures (1)",
        "Allegations (1)",
        "Denials (1)",
        "Relations (1)",
        "Other statements (1)",
    ]
    links = texts(page, "a")
    assert "All 8" in links and "Events 2" in links


def test_the_filter_shows_one_kind(small: ox.Store) -> None:
    page = render_entity(small, "thing", kind="events")
    assert texts(page, "h3") == ["Events (2)"]
    assert [t for t in texts(page, "h4")] == ["claim Event claim", "claim Second event claim"]


def test_one_entry_per_claim_with_all_its_evidence_and_its_note(small: ox.Store) -> None:
    page = render_entity(small, "thing")
    entries = re.findall(r'<article class="claim claim-claim">.*?</article>', page, re.S)
    event = [e for e in entries if 'href="/id/claim-event"' in e]
    assert len(event) == 1
    assert texts(event[0], "blockquote") == [
        "First one. In the source · characters 0–10",
        "Second <2>. In the source · characters 11–22",
    ]
    assert 'href="/source#ev-0-10"' in event[0] and 'href="/source#ev-11-22"' in event[0]
    assert "The second sentence carries the citation." in event[0]
    assert texts(event[0], "q") == ["see, e.g."]
    claims_section = page[page.index('id="claims"') : page.index('id="statements-title"')]
    assert claims_section.count('href="/id/claim-event"') == 1


def test_every_multi_sentence_claim_of_the_graph_is_listed_once_with_every_quote(project_store: ox.Store) -> None:
    index = claim_index(project_store)
    several = [c for c in index.values() if len(c.quotes) > 1]
    assert several, "the graph has claims with two evidence sentences"
    for claim in several:
        about = entity_view(project_store, claim.iri)  # the claim's own page leads with every quote
        assert about.claim == claim
        holder = about.about[0].value if about.about else claim.quotes[0].evidence
        view = entity_view(project_store, holder)
        listed = [c for c in view.claims if c.iri == claim.iri]
        assert len(listed) == 1 and listed[0].quotes == claim.quotes


def test_a_claim_page_leads_with_its_quote_report_accuser_accused_and_act(project_store: ox.Store) -> None:
    view = entity_view(project_store, KG + "allegation-abuses-mid-1990s")
    assert view.claim is not None and view.claim.kind == "allegation"
    assert [(q.start, q.end) for q in view.claim.quotes] == [(2156, 2366)]
    assert [r.key for r in view.claim.reports] == ["AI 1 Feb 1996", "U.S. DOS Feb 1996"]
    lead = {role.property.value.rsplit("#", 1)[-1]: {t.value for t in role.values} for role in view.lead}
    assert lead["allegedBy"] == {KG + "us-state-department", KG + "amnesty-international"}
    assert lead["accused"] == {KG + "mqm"}
    assert "https://w3id.org/mqmkg/ontology#SummaryKilling" in lead["allegedAct"]
    page = render_entity(project_store, "allegation-abuses-mid-1990s")
    lead_html = page[page.index('class="lead"') : page.index("</section>")]
    assert "In the mid-1990s, the U.S. State Department, Amnesty International, and others accused" in lead_html
    assert 'href="/source#ev-2156-2366"' in lead_html
    assert ">AI 1 Feb 1996</a>" in lead_html and "alleged by" in lead_html and "alleged act" in lead_html


def test_a_reified_claim_shows_the_triple_it_states(project_store: ox.Store) -> None:
    view = entity_view(project_store, KG + "claim-split-1992")
    assert view.triple is not None
    assert [t.value for t in view.triple] == [KG + "mqm-h", "https://w3id.org/mqmkg/ontology#splinterOf", KG + "mqm"]


def test_an_evidence_page_shows_its_sentence_in_its_paragraph_and_no_blank_node(project_store: ox.Store) -> None:
    text = read_source(ROOT / "graph" / "source" / "globalsecurity-mqm.txt")
    view = entity_view(project_store, KG + "ev-3732-3857")
    assert view.evidence is not None
    block = next(p for p in paragraphs(text) if p.start <= 3732 < p.end)
    context = view.evidence
    assert context.before + context.quote.text + context.after == block.text
    assert context.quote.text == text[3732:3857]
    # the split itself, and its leaders (a claim of its own since the curation made the reading explicit)
    assert sorted(c.iri for c in view.claims) == [KG + "claim-mqm-h-leaders", KG + "claim-split-1992"]
    page = render_entity(project_store, "ev-3732-3857")
    assert "(blank node)" not in page and "_:" not in page
    assert texts(page, "mark") == [" ".join(text[3732:3857].split())]
    assert "oa:exact" in page and "3857" in page  # the selectors, shown by their content


def test_search_types_hits_and_puts_entities_before_claims(project_store: ox.Store) -> None:
    hits = search(project_store, "Hussein")
    assert hits[0].iri == KG + "altaf-hussein"
    assert hits[0].section == "entities" and "person" in hits[0].types
    assert hits[0].matched_as in ("preferred name", "other name")
    sections = [h.section for h in hits]
    assert "claims" in sections and "entities" in sections
    claim_hits = [h for h in hits if h.section == "claims"]
    assert all(h.quotes for h in claim_hits)
    assert not any(h.iri.startswith(KG + "ev-") for h in search(project_store, "characters"))


def test_browsing_counts_every_type(project_store: ox.Store) -> None:
    counts = {t.iri: t for t in type_counts(project_store)}
    query = (
        "SELECT (COUNT(DISTINCT ?p) AS ?n) WHERE { ?p a <http://xmlns.com/foaf/0.1/Person> "
        'FILTER (STRSTARTS(STR(?p), "https://w3id.org/mqmkg/id/")) }'
    )
    persons = next(iter(project_store.query(query)))["n"]
    person = counts["http://xmlns.com/foaf/0.1/Person"]
    assert person.count == int(persons.value) and person.section == "entities"
    assert counts["https://w3id.org/mqmkg/ontology#Allegation"].section == "claims"
    assert counts["http://www.w3.org/ns/oa#SpecificResource"].section == "sentences"


def test_the_source_view_is_the_document_with_every_sentence_marked(project_store: ox.Store) -> None:
    text = read_source(ROOT / "graph" / "source" / "globalsecurity-mqm.txt")
    view = source_view(project_store)
    assert view is not None and view.checksum_ok and view.sha256 == SOURCE_SHA256
    assert view.url == "https://www.globalsecurity.org/military/world/para/mqm.htm"
    assert view.publisher == "GlobalSecurity.org"
    rebuilt = "".join(seg.text for p in view.paragraphs for seg in p.segments)
    assert rebuilt == "".join(p.text for p in paragraphs(text))
    assert [(s.quote.start, s.quote.end) for s in view.spans] == [(s.start, s.end) for s in sentences(text)]
    index = claim_index(project_store)
    for span in view.spans:
        assert span.quote.text == text[span.quote.start : span.quote.end]
        assert {c.iri for c in span.claims} == {c.iri for c in index.values() if span.quote in c.quotes}
        assert span.claims, f"coverage is total: {span.anchor} backs a claim"
    assert view.paragraphs[0].furniture and view.paragraphs[-1].furniture
    split = next(s for s in view.spans if s.anchor == "ev-4049-4233")
    assert [r.key for r in split.reports] == ["AI 1 Feb 1996", "Jane's 14 Feb 2003", "U.S. DOS Feb 1999"]


def test_time_is_written_at_its_precision() -> None:
    assert When(date(1992, 1, 1), date(1992, 12, 31), TIME + "unitYear").text == "1992"
    assert When(date(1998, 6, 1), date(1998, 6, 30), TIME + "unitMonth").text == "June 1998"
    assert When(date(1998, 5, 28), date(1998, 5, 28), TIME + "unitDay").text == "28 May 1998"
    assert When(date(1995, 1, 1), date(1996, 12, 31)).text == "1995–1996"
    assert When(None, date(1995, 7, 31)).text == "not after July 1995"
    assert When(date(1998, 11, 20), None).text == "not before 20 November 1998"
    assert When(date(1998, 11, 20), date(1999, 2, 17)).text == "20 November 1998 – 17 February 1999"
    assert When(None, None).precision == "none" and not When(None, None).dated


def test_the_timeline_draws_each_item_at_its_precision(project_store: ox.Store) -> None:
    tl = timeline(project_store, 1998, 1998)
    items = {i.iri.removeprefix(KG): i for i in tl.items}
    assert items["event-1998-05-28-emergency"].when.precision == "day"
    assert (
        items["fig-1998-06-karachi-killed"].when.precision == "month" and items["fig-1998-06-karachi-killed"].is_figure
    )
    assert items["event-1998-altaf-haqiqi-fighting"].when.precision == "year"
    year = tl.axis.place(items["event-1998-altaf-haqiqi-fighting"].when)
    assert (year.left, year.width) == (0.0, 100.0)
    month = tl.axis.place(items["fig-1998-06-karachi-killed"].when)
    assert month.width == pytest.approx(100 * 30 / 365, abs=1e-3)
    assert month.left == pytest.approx(100 * (date(1998, 6, 1) - date(1998, 1, 1)).days / 365, abs=1e-3)
    day = tl.axis.place(items["event-1998-05-28-emergency"].when)
    assert day.width == pytest.approx(100 / 365, abs=1e-3)
    order = [i.iri.removeprefix(KG) for i in tl.items]
    assert order.index("event-1998-05-28-emergency") < order.index("fig-1998-06-karachi-killed")
    assert order.index("event-1998-10-alliance-rupture") < order.index("event-1998-10-30-governors-rule")
    starts = [i.when.sort_key for i in tl.items]
    assert starts == sorted(starts)
    assert "event-1992-mqm-h-split" not in items


def test_the_whole_timeline_groups_by_theme_and_lists_undated_events_with_their_parent(
    project_store: ox.Store,
) -> None:
    tl = timeline(project_store)
    themes = dict(tl.themes)
    assert KG + "event-1992-mqm-h-split" in {i.iri for i in themes["The movement and its factions"]}
    assert all(i.is_figure for i in themes["Figures"]) and len(themes["Figures"]) >= 5
    undated = {i.iri.removeprefix(KG): i for i in tl.undated}
    parents = {iri.removeprefix(KG) for iri, _ in undated["event-strike-enforcement-violence"].parents}
    assert parents == {"event-mqm-a-strikes"}
    assert all(not i.when.dated for i in tl.undated) and all(i.when.dated for i in tl.items)
    year = tl.axis.place(next(i for i in tl.items if i.iri == KG + "event-1992-mqm-h-split").when)
    total = (tl.axis.end - tl.axis.start).days
    assert year.width == pytest.approx(100 * 366 / total, abs=1e-3)  # 1992 is a leap year


def test_relations_show_the_1992_split_with_its_leaders_each_backed_by_a_claim(project_store: ox.Store) -> None:
    rel = relations(project_store, ["split", "leadership"])
    edges = {(e.kind, e.source.removeprefix(KG), e.target.removeprefix(KG)): e for e in rel.edges}
    split = edges[("split", "mqm-h", "mqm")]
    assert split.when.text == "1992" and [c.iri for c in split.claims] == [KG + "claim-split-1992"]
    assert split.quotes[0].anchor == "ev-3732-3857"
    for leader in ("afaq-ahmed", "aamir-khan"):  # their leadership is a claim of its own (a curator's reading)
        assert edges[("leadership", leader, "mqm-h")].claims[0].iri == KG + "claim-mqm-h-leaders"
    assert {e.kind for e in rel.edges} == {"split", "leadership"}
    names = {n.iri.removeprefix(KG): n.label for n in rel.nodes}
    assert names["afaq-ahmed"] == "Afaq Ahmed" and names["aamir-khan"] == "Aamir Khan"


def test_relations_filter_by_period_and_keep_accusations_and_denials_apart(project_store: ox.Store) -> None:
    everything = relations(project_store)
    assert all(e.claims for e in everything.edges), "every edge rests on a claim"
    accused = {
        (e.source.removeprefix(KG), e.target.removeprefix(KG))
        for e in everything.edges
        if e.kind == "accusation" and e.via == KG + "allegation-abuses-mid-1990s"
    }
    assert accused == {("us-state-department", "mqm"), ("amnesty-international", "mqm")}
    # the MQM-A's routine denial answers no accusation in particular (the page ties it to none): no edge;
    # the Interior Minister's denials of 1998 answer the MQM's allegation and an impression nobody is named for
    denials = {
        (e.source.removeprefix(KG), e.target.removeprefix(KG), e.via) for e in everything.edges if e.kind == "denial"
    }
    assert denials == {
        ("ch-shujat-hussain", "mqm", KG + "denial-1998-08-security-agencies"),
        ("ch-shujat-hussain", "unnamed-accuser", KG + "denial-1998-08-agencies-patronising-mqm-h"),
    }
    in_1998 = relations(project_store, period=(1998, 1998), undated=False)
    assert in_1998.hidden_undated > 0
    assert all(e.when.dated and e.when.overlaps(date(1998, 1, 1), date(1998, 12, 31)) for e in in_1998.edges)
    assert "rupture" in {e.kind for e in in_1998.edges} and "split" not in {e.kind for e in in_1998.edges}

"""Canned queries: headers parse, every query parses in rdflib, and each answers the
analysts' questions with the rows the graph should give."""

from __future__ import annotations

import re
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib.plugins.sparql import prepareQuery

from mqmkg.config import Settings
from mqmkg.errors import ParameterError, QueryFileError
from mqmkg.queries import CannedQuery, load_catalog, parse_query_file

ROOT = Path(__file__).resolve().parents[1]
SETTINGS = Settings(root=ROOT)
CATALOG = load_catalog(SETTINGS.queries_dir)
KG = "https://w3id.org/mqmkg/id/"


@pytest.fixture(scope="module")
def store(project_store: ox.Store) -> ox.Store:
    return project_store


def run(store: ox.Store, name: str, **values: str) -> list[dict[str, str]]:
    """Run a canned query with parameters; return rows as {variable: lexical value}."""
    query = CATALOG[name]
    solutions = store.query(query.text, substitutions=query.substitutions(values))
    names = [v.value for v in solutions.variables]
    return [{n: row[n].value for n in names if row[n] is not None} for row in solutions]


@pytest.mark.parametrize("name", sorted(CATALOG))
def test_query_parses_in_rdflib_and_has_a_header(name: str) -> None:
    query = CATALOG[name]
    prepareQuery(query.text)
    assert query.title and query.description and query.keywords


def test_cited_reports_oldest_first_with_issuer_and_date(store: ox.Store) -> None:
    rows = run(store, "cited-reports")
    assert [(r["key"], r["issuerLabel"], r["date"]) for r in rows] == [
        ("U.S. DOS Feb 1991", "U.S. State Department", "1991-02"),
        ("U.S. DOS Feb 1992", "U.S. State Department", "1992-02"),
        ("U.S. DOS Feb 1995", "U.S. State Department", "1995-02"),
        ("AI 1 Feb 1996", "Amnesty International", "1996-02-01"),
        ("U.S. DOS Feb 1996", "U.S. State Department", "1996-02"),
        ("HRW Dec 1997", "Human Rights Watch", "1997-12"),
        ("U.S. DOS Feb 1999", "U.S. State Department", "1999-02"),
        ("Jane's 14 Feb 2003", "Jane's", "2003-02-14"),
        ("U.S. DOS 23 May 2003", "U.S. State Department", "2003-05-23"),
    ]


def test_statements_resting_on_usdos_feb_1996(store: ox.Store) -> None:
    rows = run(store, "claims-by-report", key="U.S. DOS Feb 1996")
    claims = {r["claim"].removeprefix(KG) for r in rows}
    assert claims == {
        "allegation-abuses-mid-1990s",
        "claim-strike-ransacking",
        "claim-fig-1995",
        "claim-staged-encounter-killings",
        "allegation-forces-encounters-with-militants",
    }
    assert all(r["key"] == "U.S. DOS Feb 1996" for r in rows)
    assert any(r["quote"].startswith("By July 1995, the rate of political killings") for r in rows)


def test_statements_resting_on_hrw(store: ox.Store) -> None:
    rows = run(store, "claims-by-report", key="HRW Dec 1997")
    # the reading that the renaming replaced the Mohajir name rests on two sentences, one citing HRW
    assert [(r["claim"].removeprefix(KG), r["start"]) for r in rows] == [
        ("claim-renaming-1997-former-name", "216"),
        ("claim-renaming-1997", "6159"),
        ("claim-renaming-1997-former-name", "6159"),
    ]
    assert rows[1]["quote"].startswith("Following a crackdown in 1997, the MQM-A adopted its present name")


def test_organisation_relations(store: ox.Store) -> None:
    rows = run(store, "organisation-relations")
    triples = {(r["subjectLabel"], r["relationLabel"], r["objectLabel"]) for r in rows}
    assert triples == {
        ("MQM Haqiqi", "splinter of", "Muttahida Qaumi Movement"),
        ("breakaway MQM factions", "splinter of", "Muttahida Qaumi Movement"),
        ("Khidmat-e-Khalq Foundation", "affiliated with", "Muttahida Qaumi Movement"),
        ("Pakistan Muslim League (N)", "allied with", "Muttahida Qaumi Movement"),
        ("Shaheed Bhutto group", "faction of", "Pakistan People's Party"),
        ("DAWN", "owned by", "Herald Publications"),
        ("Muttahida Qaumi Movement", "rival of", "MQM Haqiqi"),
        ("Muttahida Qaumi Movement", "rival of", "Sindhi nationalist groups"),
        ("Muttahida Qaumi Movement", "rival of", "government forces (fought by MQM-A militants)"),
        ("Muttahida Qaumi Movement", "rival of", "breakaway MQM factions"),
        ("Muttahida Qaumi Movement", "rival of", "militants from other ethnic-based movements (fought by the MQM-A)"),
    }


def test_allegations_against_the_mqm_with_accusers_and_denial(store: ox.Store) -> None:
    rows = {r["allegation"].removeprefix(KG): r for r in run(store, "allegations-against", accused="kg:mqm")}
    assert len(rows) == 10
    mid_1990s = rows["allegation-abuses-mid-1990s"]
    assert set(mid_1990s["accusers"].split(" | ")) == {"U.S. State Department", "Amnesty International"}
    assert mid_1990s["accusersAsStated"] == "the U.S. State Department, Amnesty International, and others"
    assert mid_1990s["accusedAsStated"] == "the MQM-A and a rival faction"
    assert set(mid_1990s["acts"].split(" | ")) == {"summary killings", "torture", "other abuses"}
    assert set(mid_1990s["reports"].split(" | ")) == {"AI 1 Feb 1996", "U.S. DOS Feb 1996"}
    assert mid_1990s["basis"] == "stated by the page"
    # "routinely denied" answers no one accusation (docs/decisions.md)
    assert not mid_1990s.get("denials")
    ppp = rows["allegation-ppp-activists-tortured-killed"]
    assert set(ppp["accusers"].split(" | ")) == {
        "Pakistan People's Party",
        "other parties (reporting MQM-A abuses with the PPP, 1996)",
    }
    assert ppp["accusersAsStated"] == "the PPP and other parties"
    assert ppp["basis"] == "curator's reading"
    assert rows["allegation-government-attributes-terrorism"]["accusers"] == "Government of Pakistan"
    abbas = rows["allegation-abbas-attack-blamed-on-mqm-leaders"]
    assert (abbas["accusers"], abbas["accusersAsStated"]) == (
        "unnamed accuser (not named on the page)",
        "widely blamed",
    )
    assert abbas["accusedAsStated"] == "MQM leaders"


def test_the_forces_cover_story_is_findable_but_not_against_the_mqm(store: ox.Store) -> None:
    story = KG + "allegation-forces-encounters-with-militants"
    against = {r["allegation"] for r in run(store, "allegations-against", accused="kg:mqm")}
    assert story not in against
    [row] = run(store, "allegations-against", accused="kg:encounter-militants")
    assert row["allegation"] == story and row["accusers"] == "Pakistani forces"
    everything = {r["allegation"]: r for r in run(store, "all-allegations")}
    assert everything[story]["accusedAsStated"] == "militants"
    assert KG + "allegation-forces-encounters-with-militants" in {
        r["claim"] for r in run(store, "about-entity", entity="kg:event-staged-encounter-killings")
    }


def test_allegations_against_security_agencies_are_denied(store: ox.Store) -> None:
    rows = run(store, "allegations-against", accused="kg:security-agencies")
    assert {r["allegation"].removeprefix(KG): r["accusers"] for r in rows} == {
        "allegation-1998-security-agencies-karachi-unrest": "Muttahida Qaumi Movement",
        "allegation-agencies-patronising-mqm-h": "unnamed accuser (not named on the page)",
    }
    assert all("Ch Shujat Hussain denies" in r["denials"] for r in rows)


def test_casualty_figures_by_period_with_qualifiers(store: ox.Store) -> None:
    rows = run(store, "casualty-figures")
    got = [(r["quantity"], r["kind"], r.get("qualifier"), r.get("value"), r.get("min"), r.get("max")) for r in rows]
    assert got == [
        ("scores of vendors", "victim figure", None, None, None, None),
        ("almost daily killings", "event frequency", "almost", None, None, None),
        ("hundreds of people", "fatality figure", None, None, None, None),
        ("dozens of members of the Muttahida Quami Movement", "fatality figure", None, None, None, None),
        ("an average of ten per day", "fatality rate", "average", "10", None, None),
        ("more than 1,800", "fatality figure", "more than", "1800", "1801", None),
        ("about 175 deaths", "fatality figure", "about", "175", None, None),
        ("over 3600 people killed", "fatality figure", "over", "3600", "3601", None),
        ("178 people", "fatality figure", "exactly", "178", "178", "178"),
    ]
    # "almost daily killings": killings on almost every day, not a death rate
    almost = rows[1]
    assert (almost.get("unit"), almost["recurrence"]) == (None, "daily")
    assert rows[5].get("earliest") is None and rows[5]["latest"] == "1995-12-31"
    by_quantity = {r["quantity"]: r for r in rows}
    assert by_quantity["about 175 deaths"]["places"] == "Sindh | Punjab | North-West Frontier Province"
    assert by_quantity["more than 1,800"]["report"] == "U.S. DOS Feb 1996"


def test_timeline_in_date_order_with_precision(store: ox.Store) -> None:
    rows = run(store, "timeline")
    items = [r["item"].removeprefix(KG) for r in rows]
    assert len(items) == len(set(items)) == 65
    dated = [r for r in rows if r["dated"] == "true"]
    events = [r["item"].removeprefix(KG) for r in dated if not r["item"].startswith(KG + "fig-")]
    assert len(events) == 47
    assert events[:3] == [
        "event-mohajir-migration",
        "event-1947-creation-of-pakistan",
        "event-1947-partition",
    ]
    assert events[-1] == "event-2001-09-11-attacks"
    in_1998 = [e for e in events if e.startswith("event-1998")]
    assert in_1998 == [
        "event-1998-altaf-haqiqi-fighting",
        "event-1998-karachi-tensions-resurgence",
        "event-1998-05-28-emergency",
        "event-1998-08-challenge-to-mqm-a",
        "event-1998-08-interior-minister-statement",
        "event-1998-10-alliance-rupture",
        "event-1998-10-30-governors-rule",
        "event-1998-11-20-ordinance-promulgated",
    ]
    founding = rows[items.index("event-1984-03-18-mqm-founding")]
    assert (founding["stamp"], founding["precision"]) == ("1984-03-18", "http://www.w3.org/2006/time#unitDay")
    migration = rows[0]
    assert migration["timeAsStated"].count(" | ") == 1


def test_timeline_shows_dated_figures_beside_events_and_keeps_undated_events(store: ox.Store) -> None:
    rows = run(store, "timeline")
    items = [r["item"].removeprefix(KG) for r in rows]
    figures = [(r["item"].removeprefix(KG), r["quantity"]) for r in rows if "quantity" in r]
    assert len(figures) == 9
    assert ("fig-1998-06-karachi-killed", "178 people") in figures
    # the June 1998 toll sits between the Emergency of 28 May and the challenge of August 1998
    june = items.index("fig-1998-06-karachi-killed")
    assert items[june - 1] == "event-1998-05-28-emergency" and items[june + 1] == "event-1998-08-challenge-to-mqm-a"
    frequency = rows[items.index("fig-1994-karachi-almost-daily-killings")]
    assert (frequency["kind"], frequency["stamp"]) == ("event frequency", "1994")
    undated = [r["item"].removeprefix(KG) for r in rows if r["dated"] == "false"]
    assert undated == items[-9:]
    assert set(undated) == {
        "event-karachi-conflict",
        "event-mid-1990s-mqm-a-fighting",
        "event-mohajir-funding-of-mqm-a",
        "event-mqm-a-strikes",
        "event-smaller-mqm-factions-emerge",
        "event-staged-encounter-killings",
        "event-strike-enforcement-violence",
        "event-strike-ransacking-and-attacks",
        "global-campaign-against-terrorism",
    }


def test_everything_about_karachi(store: ox.Store) -> None:
    rows = run(store, "about-entity", entity="kg:karachi")
    claims = list(dict.fromkeys(r["claim"].removeprefix(KG) for r in rows))
    assert claims == [
        "claim-nine-zero-in-karachi",
        "claim-karachi-in-pakistan",
        "claim-karachi-overstretched",
        "claim-karachi-port-city",
        "claim-karachi-commercial-capital",
        "claim-karachi-in-sindh",
        "claim-mqm-a-heavily-involved-in-violence",
        "claim-1991-zafar-abbas-beating",
        "claim-mqm-a-strikes",
        "claim-1994-fighting",
        "claim-fig-1995",
        "claim-1996-violence-abating",
        "claim-1996-violence-quelled",
        "allegation-government-attributes-terrorism",
        "claim-1998-altaf-haqiqi-fighting",
        "claim-1998-tensions-resurgence",
        "claim-karachi-most-populous",
        "claim-1998-karachi-figures",
        "claim-karachi-conflict-causes",
        "allegation-1998-security-agencies-karachi-unrest",
        "denial-1998-08-security-agencies",
        "claim-karachi-murders-reduced",
    ]
    starts = [int(r["start"]) for r in rows]
    assert starts == sorted(starts)


@pytest.mark.parametrize(
    ("text", "entity"),
    [
        ("Hussein", "altaf-hussein"),
        ("mothaidda", "mqm"),
        ("Haqiqi", "mqm-h"),
        ("MQM (A)", "mqm"),
        ("APMSO", "mqm"),
        ("shujaat", "ch-shujat-hussain"),
        ("Newsline", "newsline"),
        ("Altaf", "mqm"),
        ("MQM-A", "mqm"),
        ("MQM (H)", "mqm-h"),
        ("army", "pakistan-army"),
    ],
)
def test_search_by_any_spelling(store: ox.Store, text: str, entity: str) -> None:
    rows = run(store, "search-labels", q=text)
    assert rows and rows[0]["entity"] == KG + entity


def test_people_and_their_roles(store: ox.Store) -> None:
    rows = run(store, "people-and-roles")
    got = {(r["personLabel"], r["role"], r.get("organisationLabel")) for r in rows}
    assert got == {
        ("Aamir Khan", "head", "MQM Haqiqi"),
        ("Afaq Ahmed", "head", "MQM Haqiqi"),
        ("Altaf Hussein", "head", "Muttahida Qaumi Movement"),
        ("Benazir Bhutto", "Prime Minister (post; country not stated)", None),
        ("Benazir Bhutto", "member (role not stated)", "Pakistan People's Party"),
        ("Ch Shujat Hussain", "Interior Minister (post; government not stated)", None),
        ("unnamed brother of Benazir Bhutto", "head", "Shaheed Bhutto group"),
        ("unnamed editor of NEWSLINE", "editor of NEWSLINE (post)", "NEWSLINE"),
    }
    brother = next(r for r in rows if r["personLabel"].startswith("unnamed brother"))
    assert brother["until"] == "1996-09-20"


def test_page_only_statements(store: ox.Store) -> None:
    rows = run(store, "page-only-statements")
    claims = {r["claim"].removeprefix(KG) for r in rows}
    assert "claim-founding-1984" in claims
    assert "claim-1999-02-17-ruling" in claims
    assert "claim-fig-1995" not in claims
    assert all(r["kind"] in ("claim", "allegation", "denial") for r in rows)


def test_events_in_sindh_between_1992_and_1995(store: ox.Store) -> None:
    rows = run(store, "events-in-place-and-period", place="kg:sindh", **{"from": "1992-01-01", "to": "1995-12-31"})
    events = {r["event"].removeprefix(KG): r["dating"] for r in rows}
    assert events == {
        "event-1980s-1990s-sindh-violence": "dated",
        "event-mid-1990s-sindh-political-violence": "dated",
        "event-1992-facilities-discovered": "dated",
        "event-1992-06-army-called-in": "dated",
        "event-1992-army-called-in-against-armed-groups": "open bound",
        "event-1993-1994-sindh-violence-intensifies": "dated",
        "event-1994-mqm-factional-fighting": "dated",
        "event-1994-mqm-sindhi-nationalist-fighting": "dated",
        "event-1994-11-army-withdrawn": "dated",
        "event-1994-11-police-inducted": "dated",
        "event-1994-11-rangers-reinforced": "dated",
        "event-1995-1996-killings-by-rangers-and-police": "dated",
        "event-1996-karachi-violence-quelled": "open bound",
        # undated events in Sindh are kept, last, not dropped
        "event-karachi-conflict": "undated",
        "event-mqm-a-strikes": "undated",
        "event-strike-enforcement-violence": "undated",
    }
    assert [r["dating"] for r in rows][-5:] == ["undated"] * 5


def test_bad_parameter_values_are_refused() -> None:
    query = CATALOG["events-in-place-and-period"]
    with pytest.raises(ParameterError, match="not a date"):
        query.substitutions({"from": "1992"})
    with pytest.raises(ParameterError, match="not an IRI"):
        query.substitutions({"place": "> } ; DROP ALL"})
    with pytest.raises(ParameterError, match="unknown parameter"):
        query.substitutions({"limit": "5"})


def test_header_without_title_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.rq"
    bad.write_text("# description: x\n# keywords: y\nSELECT * WHERE { ?s ?p ?o }\n", encoding="utf-8")
    with pytest.raises(QueryFileError, match="lacks title"):
        parse_query_file(bad)


def test_catalog_entries_are_records() -> None:
    assert all(isinstance(q, CannedQuery) for q in CATALOG.values())
    assert CATALOG["claims-by-report"].parameters[0].default == "U.S. DOS Feb 1996"


def test_counts_by_class(store: ox.Store) -> None:
    counts = {
        r["class"].rsplit("#", 1)[-1].rsplit("/", 1)[-1]: int(r["instances"]) for r in run(store, "counts-by-class")
    }
    assert counts["SpecificResource"] == 65
    assert counts["CitedReport"] == 9
    assert counts["Allegation"] == 14
    assert counts["Denial"] == 3
    assert counts["Person"] == 9


def test_claims_per_report(store: ox.Store) -> None:
    rows = {r["key"]: (int(r["claims"]), int(r["allegations"])) for r in run(store, "claims-per-report")}
    assert rows["HRW Dec 1997"] == (2, 0)
    assert rows["U.S. DOS Feb 1996"] == (5, 2)
    assert rows["U.S. DOS Feb 1992"] == (3, 0)
    assert rows["Jane's 14 Feb 2003"] == (12, 1)
    assert rows["U.S. DOS 23 May 2003"] == (1, 0)
    assert len(rows) == 9


def test_statement_provenance(store: ox.Store) -> None:
    [row] = run(store, "statement-provenance", claim="kg:claim-split-1992")
    assert row["url"] == "https://www.globalsecurity.org/military/world/para/mqm.htm"
    assert (row["start"], row["end"]) == ("3732", "3857")
    assert row["quote"].startswith("In 1992, a breakway MQM faction")
    assert "report" not in row
    rows = run(store, "statement-provenance", claim="kg:allegation-abuses-mid-1990s")
    assert {(r["report"], r["issuer"], r["reportDate"]) for r in rows} == {
        ("AI 1 Feb 1996", "Amnesty International", "1996-02-01"),
        ("U.S. DOS Feb 1996", "U.S. State Department", "1996-02"),
    }


def test_all_allegations_and_denials(store: ox.Store) -> None:
    allegations = run(store, "all-allegations")
    assert len(allegations) == 14
    accused = {r["allegation"].removeprefix(KG): r["accused"] for r in allegations}
    assert accused["allegation-government-backed-mqm-h"] == "Government of Pakistan"
    denials = {r["denial"].removeprefix(KG): r.get("allegation", "").removeprefix(KG) for r in run(store, "denials")}
    assert denials == {
        "denial-mqm-involvement-in-violence": "",
        "denial-1998-08-security-agencies": "allegation-1998-security-agencies-karachi-unrest",
        "denial-1998-08-agencies-patronising-mqm-h": "allegation-agencies-patronising-mqm-h",
    }


def test_organisation_changes_with_split_leaders(store: ox.Store) -> None:
    rows = run(store, "organisation-changes")
    assert [(r["kind"], r["date"]) for r in rows] == [
        ("founding", "1984-03-18"),
        ("political activation", "1986"),
        ("split", "1992"),
        ("renaming", "1997"),
    ]
    split = rows[2]
    assert split["resultLabel"] == "MQM Haqiqi"
    assert set(split["ledBy"].split(" | ")) == {"Afaq Ahmed", "Aamir Khan"}


def test_name_history_of_the_mqm(store: ox.Store) -> None:
    rows = run(store, "name-history", organisation="kg:mqm")
    assert [(r["name"], r.get("abbreviation"), r.get("from"), r.get("until")) for r in rows] == [
        ("All Pakistan Mohajir Students Organisation", "APMSO", "1984-03-18", None),
        ("Muttahida Qaumi Movement", "MQM", "1997-01-01", None),
        ("Mohajir Quami Movement", "MQM", None, "1997-12-31"),
        ("Muttahida Qaumi Movement-Altaf", "MQM-A", None, None),
    ]
    assert run(store, "name-history", organisation="kg:mqm-h")[0]["gloss"] == 'the "real" MQM'


def test_alliances_and_options(store: ox.Store) -> None:
    rows = {r["status"]: r for r in run(store, "alliances")}
    alliance = rows["alliance"]
    assert set(alliance["members"].split(" | ")) == {"Muttahida Qaumi Movement", "Pakistan Muslim League (N)"}
    assert alliance["until"] == "1998-10-31"
    assert "ruptures (October 1998)" in alliance["endedBy"]
    option = rows["option, not an alliance"]
    assert set(option["members"].split(" | ")) == {"Muttahida Qaumi Movement", "Pakistan People's Party"}


def test_stated_positions(store: ox.Store) -> None:
    rows = run(store, "stated-positions")
    got = {(r["holderLabel"], r["kind"]) for r in rows}
    assert got == {
        ("Muttahida Qaumi Movement", "aim"),
        ("Muttahida Qaumi Movement", "claim to represent"),
        ("Muttahida Qaumi Movement", "criticism"),
        ("Muttahida Qaumi Movement", "support"),
        ("Sindhi nationalist groups", "opposition"),
        ("Sindhis", "feeling"),
    }
    assert len(rows) == 7
    critical = next(r for r in rows if r["kind"] == "criticism")
    assert critical["since"] == "2001-09-11"


def test_who_did_what_has_only_stated_perpetrators(store: ox.Store) -> None:
    rows = run(store, "who-did-what")
    perpetrators = {(r["event"].removeprefix(KG), r["agentLabel"]) for r in rows if r["roleType"] == "perpetrator"}
    assert perpetrators == {
        ("event-1990-hussein-threatens-newsline-editor", "Altaf Hussein"),
        ("event-1991-vendor-assaults", "Muttahida Qaumi Movement"),
        ("event-1995-1996-killings-by-rangers-and-police", "Rangers"),
        ("event-1995-1996-killings-by-rangers-and-police", "police (Sindh)"),
        ("event-staged-encounter-killings", "Pakistani forces"),
        ("event-strike-enforcement-violence", "Muttahida Qaumi Movement"),
        ("event-strike-ransacking-and-attacks", "Muttahida Qaumi Movement"),
    }
    # the 1991 beating of Zafar Abbas was only blamed on MQM leaders: a victim, no perpetrator
    beating = [r for r in rows if r["event"] == KG + "event-1991-zafar-abbas-beating"]
    assert [(r["roleType"], r["agentLabel"]) for r in beating] == [("victim", "Zafar Abbas")]


def test_wikidata_links_offline(store: ox.Store) -> None:
    rows = {r["entity"].removeprefix(KG): (r["item"], r["link"]) for r in run(store, "wikidata-links")}
    assert len(rows) == 22
    assert rows["mqm"] == ("http://www.wikidata.org/entity/Q1265113", "close match")
    assert rows["karachi"] == ("http://www.wikidata.org/entity/Q8660", "same entity")


def test_describe_and_construct(store: ox.Store) -> None:
    describe = CATALOG["describe-entity"]
    triples = list(store.query(describe.text, substitutions=describe.substitutions()))
    assert (
        ox.Triple(
            ox.NamedNode(KG + "mqm-h"),
            ox.NamedNode("https://w3id.org/mqmkg/ontology#splinterOf"),
            ox.NamedNode(KG + "mqm"),
        )
        in triples
    )
    card = CATALOG["construct-entity-card"]
    graph = list(store.query(card.text, substitutions=card.substitutions()))
    about = {t.subject.value for t in graph if t.predicate.value.endswith("#about")}
    assert about == {
        KG + "claim-1990-threat",
        KG + "claim-main-mqm-known-as-mqm-a",
        KG + "claim-hussein-flight-asylum",
    }
    timeline = CATALOG["construct-timeline-sem"]
    events = {t.subject.value for t in store.query(timeline.text) if t.predicate.value.endswith("#type")}
    assert len(events) == 47


@pytest.mark.parametrize(
    ("name", "entity_class"),
    [("wikidata-facts", None), ("wikidata-population-of-places", "http://semanticweb.cs.vu.nl/2009/11/sem/Place")],
)
def test_federated_values_match_the_graph_links(store: ox.Store, name: str, entity_class: str | None) -> None:
    """The VALUES list inside SERVICE (Oxigraph passes no outer bindings) covers exactly the links."""
    text = CATALOG[name].text
    listed = set(re.findall(r"wd:(Q\d+)", text.split("SERVICE", 1)[1]))
    type_filter = f"?entity a <{entity_class}> ." if entity_class else ""
    linked = {
        row["item"].value.rsplit("/", 1)[1]
        for row in store.query(
            "SELECT ?item WHERE { ?entity <http://www.w3.org/2002/07/owl#sameAs>|"
            f"<http://www.w3.org/2004/02/skos/core#closeMatch> ?item . {type_filter} "
            'FILTER (STRSTARTS(STR(?item), "http://www.wikidata.org/entity/")) }'
        )
    }
    assert listed == linked


def test_check_queries_command_reports_a_broken_file(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from mqmkg.cli import app

    (tmp_path / "queries" / "qc").mkdir(parents=True)
    (tmp_path / "queries" / "ok.rq").write_text("# title: t\n# description: d\n# keywords: k\nASK {}\n", "utf-8")
    (tmp_path / "queries" / "bad.rq").write_text(
        "# title: t\n# description: d\n# keywords: k\nSELECT WHERE {\n", "utf-8"
    )
    result = CliRunner().invoke(app, ["check-queries", "--root", str(tmp_path)])
    assert result.exit_code == 1
    assert "bad.rq" in result.output and "2 files, 1 problems" in result.output
    clean = CliRunner().invoke(app, ["check-queries", "--root", str(ROOT)])
    assert clean.exit_code == 0, clean.output


@pytest.mark.parametrize(
    ("text", "entity"), [("Altaf", "mqm"), ("Haqiqi", "mqm-h"), ("MQM-A", "mqm"), ("MQM (A)", "mqm")]
)
def test_the_page_names_of_the_factions_resolve_by_search(store: ox.Store, text: str, entity: str) -> None:
    """ "the (majority) Altaf and (minority) Haqiqi factions": the page's names find the factions."""
    from mqmkg.linked import search

    assert search(store, text)[0].iri == KG + entity


def test_citations_as_printed(store: ox.Store) -> None:
    """One row per parenthetical citation, however the sentence is split into claims."""
    rows = run(store, "citations-as-printed")
    assert len(rows) == 17
    assert [int(r["start"]) for r in rows] == sorted(int(r["start"]) for r in rows)
    first = rows[0]
    assert first["citation"] == "see, e.g., AI 1 Feb 1996; U.S. DOS Feb 1996"
    assert (first["reportCount"], set(first["reports"].split(" | "))) == ("2", {"AI 1 Feb 1996", "U.S. DOS Feb 1996"})
    assert first["quote"].startswith("In the mid-1990s, the U.S. State Department")
    counts: dict[str, int] = {}
    for row in rows:
        for key in row["reports"].split(" | "):
            counts[key] = counts.get(key, 0) + 1
    assert counts == {
        "Jane's 14 Feb 2003": 8,
        "U.S. DOS Feb 1996": 4,
        "AI 1 Feb 1996": 3,
        "U.S. DOS Feb 1991": 1,
        "U.S. DOS Feb 1992": 1,
        "U.S. DOS Feb 1995": 1,
        "U.S. DOS Feb 1999": 1,
        "HRW Dec 1997": 1,
        "U.S. DOS 23 May 2003": 1,
    }
    assert sum(int(r["reportCount"]) for r in rows) == 21
    # Jane's is printed 8 times but backs 12 statements: the two counts answer different questions
    per_report = {r["key"]: int(r["claims"]) for r in run(store, "claims-per-report")}
    assert per_report["Jane's 14 Feb 2003"] == 12


def test_curator_readings_are_listed_with_kind_and_note(store: ox.Store) -> None:
    rows = {r["claim"].removeprefix(KG): r for r in run(store, "curator-readings")}
    assert len(rows) == 42
    assert all(r["note"] for r in rows.values())
    fig = rows["claim-fig-1995"]
    assert set(fig["readings"].split(" | ")) == {"reference resolved", "time from context"}
    assert "the port city" in fig["note"]
    abbas = rows["allegation-abbas-attack-blamed-on-mqm-leaders"]
    assert abbas["kind"] == "allegation" and "MQM leaders" in abbas["pageWords"].split(" | ")
    stated = {r["claim"] for r in run(store, "about-entity", entity="kg:karachi") if r["basis"] == "stated by the page"}
    assert not stated & {KG + c for c in rows}


def test_event_order_orders_only_what_the_bounds_order(store: ox.Store) -> None:
    rows = {r["other"].removeprefix(KG): r["relation"] for r in run(store, "event-order")}
    # the June 1992 call-in against events of 1992 known only to the year: no order is invented
    for same_year in ("event-1992-mqm-h-split", "event-1992-hussein-flight", "event-1992-facilities-discovered"):
        assert rows[same_year] == "no known order", same_year
    assert rows["event-1992-army-called-in-against-armed-groups"] == "no known order"  # "by 1992"
    assert rows["event-1986-mqm-activation"] == "before"
    assert rows["event-1994-11-army-withdrawn"] == "after"
    assert rows["fig-1998-06-karachi-killed"] == "after"
    assert rows["fig-karachi-rate-1995-07"] == "no known order"  # "By July 1995": a latest bound only
    assert rows["event-mid-1990s-sindh-political-violence"] == "no known order"
    assert rows["event-karachi-conflict"] == "undated"


def test_event_order_never_orders_a_year_against_a_finer_date_of_that_year(store: ox.Store) -> None:
    """For every event dated to the month or day, each event of the same year known only to the
    year is in no known order with it, both ways round."""
    timeline = run(store, "timeline")
    year_only = {r["item"]: r["stamp"] for r in timeline if r.get("precision", "").endswith("unitYear")}
    finer = {r["item"]: r["stamp"][:4] for r in timeline if r.get("precision", "").endswith(("unitMonth", "unitDay"))}
    pairs = 0
    for event, year in finer.items():
        relations = {r["other"]: r["relation"] for r in run(store, "event-order", event=event)}
        for other, other_year in year_only.items():
            if other_year == year:
                pairs += 1
                assert relations[other] == "no known order", (event, other)
                back = {r["other"]: r["relation"] for r in run(store, "event-order", event=other)}
                assert back[event] == "no known order", (other, event)
    assert pairs > 20

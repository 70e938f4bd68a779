"""The reconciliation index, score and filters, on the curated graph (in-process)."""

from __future__ import annotations

import pyoxigraph as ox
import pytest

from mqmkg.config import INSTANCE_BASE
from mqmkg.errors import BatchTooLarge, ReconciliationError
from mqmkg.linked import normalize
from mqmkg.reconcile import (
    MAX_BATCH,
    MIN_SCORE,
    Index,
    build_index,
    extend,
    label_score,
    make_label,
    parse_batch,
    parse_extend,
    parse_query,
    propose_properties,
    reconcile_one,
    suggest_entities,
    suggest_properties,
    suggest_types,
    words_of,
)

ORG = "http://www.w3.org/ns/org#Organization"
PERSON = "http://xmlns.com/foaf/0.1/Person"
FACTION = "https://w3id.org/mqmkg/ontology#PartyFaction"
PARTY = "https://w3id.org/mqmkg/ontology#PoliticalParty"


@pytest.fixture(scope="module")
def index(project_store: ox.Store) -> Index:
    return build_index(project_store, INSTANCE_BASE, {"Q8660": "Karachi", "Q1265113": "Muttahida Qaumi Movement"})


def ask(index: Index, **query: object) -> list[dict[str, object]]:
    return reconcile_one(index, parse_query(index, "q", query))


def ids(candidates: list[dict[str, object]]) -> list[object]:
    return [c["id"] for c in candidates]


def test_index_holds_named_things_not_statement_records(index: Index) -> None:
    assert {"mqm", "mqm-h", "altaf-hussein", "karachi", "report-hrw-1997-12", "event-1992-mqm-h-split"} <= set(
        index.entities
    )
    assert not [i for i in index.entities if i.startswith(("claim-", "allegation-", "denial-", "ev-", "membership-"))]
    assert not [i for i in index.entities if i.startswith(("name-", "fig-"))]
    mqm = index.entities["mqm"]
    assert mqm.name == "Muttahida Qaumi Movement"
    assert {"MQM(A)", "Mohajir Quami Movement", "APMSO"} <= {label.text for label in mqm.labels}
    assert mqm.wikidata is not None and (mqm.wikidata.qid, mqm.wikidata.match) == ("Q1265113", "close")
    assert index.entities["karachi"].wikidata.match == "exact"  # type: ignore[union-attr]
    assert index.entities["mqm-h"].wikidata is None  # the reference lists no QID for MQM Haqiqi


def test_types_include_superclasses_and_broader_kinds(index: Index) -> None:
    faction = index.entities["mqm-h"]
    assert {t.id for t in faction.types} == {ORG, FACTION}
    assert {ORG, FACTION, PARTY} <= faction.type_closure  # party faction skos:broader political party
    assert "http://semanticweb.cs.vu.nl/2009/11/sem/Event" in index.entities["event-1992-mqm-h-split"].type_closure
    assert index.types[FACTION].broader == (PARTY,)


def test_the_score_folds_as_search_does() -> None:
    assert normalize("MQM (A)") == normalize("MQM(A)") == normalize("mqm-a") == "mqma"
    assert words_of("Khidmat-e-Khalq Foundation") == ("khidmat", "e", "khalq", "foundation")
    exact = label_score(normalize("Karāchī"), words_of("Karāchī"), make_label("Karachi", "prefLabel"))
    assert exact == (100, 1.0, 1.0)


@pytest.mark.parametrize(
    ("query", "label", "score"),
    [
        ("Karachy", "Karachi", 81),  # one edit in seven letters: 95 * 6/7
        ("Hussain, Altaf", "Altaf Hussain", 95),  # every word, another order: not exact
        ("Haqiqi", "MQM Haqiqi", 67),  # one of two words: 95 * max(2/3, 1 * (0.4 + 0.6 / 2)) = 66.5
        ("MQM-P", "MQM-H", 48),  # acronyms get no typo tolerance; one of two words
        ("Amnesty", "Amnesty International", 67),
    ],
)
def test_documented_score(query: str, label: str, score: int) -> None:
    assert label_score(normalize(query), words_of(query), make_label(label, "altLabel"))[0] == score


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("MQM(A)", "mqm"),
        ("Mohajir Quami Movement", "mqm"),
        ("Altaf Hussain", "altaf-hussein"),
        ("Karachi", "karachi"),
        ("MQM-H", "mqm-h"),
        ("U.S. DOS Feb 1996", "report-usdos-1996-02"),
        ("kg:nine-zero", "nine-zero"),  # an id names its entity
        (INSTANCE_BASE + "sindh", "sindh"),
    ],
)
def test_exact_and_unique_is_a_match(index: Index, text: str, expected: str) -> None:
    found = ask(index, query=text)
    assert found[0]["id"] == expected and found[0]["score"] == 100 and found[0]["match"] is True
    assert [c["match"] for c in found[1:]] == [False] * (len(found) - 1)


def test_near_spellings_rank_first_without_a_match(index: Index) -> None:
    for text, expected in [("Mohajir Qaumi Movement", "mqm"), ("Karachy", "karachi"), ("MQM Haqiqy", "mqm-h")]:
        found = ask(index, query=text)
        assert found[0]["id"] == expected and found[0]["match"] is False, (text, found[:2])


def test_unrelated_names_get_no_candidate(index: Index) -> None:
    for text in ("Lahore", "Pervez Musharraf", "Jamaat-e-Islami", "Muttahida Majlis-e-Amal"):
        assert ask(index, query=text) == [], text


def test_candidates_are_ranked_scored_and_limited(index: Index) -> None:
    found = ask(index, query="Sindh", limit=3)
    assert len(found) == 3 and found[0]["id"] == "sindh"
    scores = [c["score"] for c in found]
    assert scores == sorted(scores, reverse=True) and min(scores) >= MIN_SCORE


def test_an_ambiguous_name_never_matches(index: Index) -> None:
    found = ask(index, query="Hussain")
    assert {"altaf-hussein", "ch-shujat-hussain"} <= set(ids(found))
    assert not any(c["match"] for c in found)


def test_candidates_carry_their_wikidata_link(index: Index) -> None:
    karachi = ask(index, query="Karachi")[0]
    assert (karachi["wikidata"], karachi["wikidataMatch"]) == ("Q8660", "exact")
    assert karachi["wikidataUrl"] == "http://www.wikidata.org/entity/Q8660"
    assert "Wikidata Q8660" in str(karachi["description"])
    assert "wikidata" not in ask(index, query="MQM Haqiqi")[0]


def test_type_filter(index: Index) -> None:
    assert ids(ask(index, query="Altaf", type="foaf:Person")) == ["altaf-hussein"]
    assert "altaf-hussein" not in ids(ask(index, query="Altaf", type=ORG))
    factions = ask(index, query="MQM", type=FACTION)
    assert "mqm-h" in ids(factions) and "mqm" not in ids(factions)
    assert "mqm-h" in ids(ask(index, query="MQM", type=[PARTY], limit=20))  # a faction is a party
    strict = ask(index, query="MQM", type=[ORG, FACTION], type_strict="all", limit=20)
    assert ids(strict) and all(FACTION in index.entities[str(c["id"])].type_closure for c in strict)


def test_property_filters(index: Index) -> None:
    by_leader = ask(index, query="MQM", properties=[{"pid": "leaders", "v": "Altaf Hussain"}])
    assert ids(by_leader) == ["mqm"] and by_leader[0]["match"] is True
    by_leader_id = ask(index, query="MQM", properties=[{"pid": "leaders", "v": {"id": "afaq-ahmed"}}])
    assert ids(by_leader_id) == ["mqm-h"]  # "a breakway MQM faction, led by Afaq Ahmed and Aamir Khan"
    assert by_leader_id[0]["match"] is False  # "MQM" is not one of MQM-H's names
    in_1999 = ask(index, query="Altaf Hussein", properties=[{"pid": "year", "v": 1999}])
    assert in_1999[0]["id"] == "altaf-hussein" and in_1999[0]["match"] is True  # asylum in Britain, 1999
    assert ask(index, query="Altaf Hussein", properties=[{"pid": "year", "v": "1850"}]) == []
    only_qid = ask(index, properties=[{"pid": "wikidata", "v": "Q8660"}])
    assert ids(only_qid) == ["karachi"] and only_qid[0]["match"] is True
    assert ids(ask(index, query="Karachi", properties=[{"pid": "wikidata", "v": "Q843"}])) == []


@pytest.mark.parametrize(
    ("batch", "message"),
    [
        ([], "JSON object of queries"),
        ({"q": 3}, "must be a JSON object"),
        ({"q": {"query": ""}}, "non-empty string"),
        ({"q": {"query": "x", "limit": 0}}, "positive integer"),
        ({"q": {"query": "x", "limit": 2.5}}, "positive integer"),
        ({"q": {"query": "x", "limit": True}}, "positive integer"),
        ({"q": {"query": "x", "type": "nope"}}, "unknown type 'nope'"),
        ({"q": {"query": "x", "type": [3]}}, "type id"),
        ({"q": {"query": "x", "type_strict": "maybe"}}, "type_strict"),
        ({"q": {"query": "x", "props": []}}, "unknown field"),
        ({"q": {"properties": []}}, "give a 'query'"),
        ({"q": {"limit": 1}}, "give a 'query'"),
        ({"q": {"query": "x", "properties": [{"pid": "colour", "v": "red"}]}}, "unknown property 'colour'"),
        ({"q": {"query": "x", "properties": [{"pid": "leaders"}]}}, "'pid'"),
        ({"q": {"query": "x", "properties": [{"pid": "leaders", "v": []}]}}, "no value"),
        ({"q": {"query": "x", "properties": [{"pid": "leaders", "v": {"name": "x"}}]}}, "'id'"),
        ({"q": {"query": "x" * 201}}, "longer than 200"),
    ],
)
def test_malformed_batches_are_refused_with_a_reason(index: Index, batch: object, message: str) -> None:
    with pytest.raises(ReconciliationError, match=message.replace("(", r"\(").replace("'", "'")):
        parse_batch(index, batch)


def test_batch_size_is_bounded(index: Index) -> None:
    with pytest.raises(BatchTooLarge, match="batchSize"):
        parse_batch(index, {f"q{i}": {"query": "x"} for i in range(MAX_BATCH + 1)})
    assert len(parse_batch(index, {f"q{i}": {"query": "x"} for i in range(MAX_BATCH)})) == MAX_BATCH


def test_extend_returns_facts_in_the_spec_shape(index: Index) -> None:
    request = parse_extend(
        {
            "ids": ["mqm", "karachi", "event-1992-mqm-h-split", "no-such-id"],
            "properties": [{"id": p} for p in ("wikidata", "leaders", "founded", "date", "places", "claims")],
        }
    )
    found = extend(index, request)
    meta = {m["id"]: m for m in found["meta"]}  # type: ignore[union-attr]
    assert meta["wikidata"]["service"] == "https://wikidata.reconci.link/en/api"
    rows = found["rows"]
    assert rows["mqm"]["wikidata"] == [{"id": "Q1265113", "name": "Muttahida Qaumi Movement"}]  # type: ignore[index]
    assert rows["mqm"]["leaders"] == [{"id": "altaf-hussein", "name": "Altaf Hussein"}]  # type: ignore[index]
    assert rows["mqm"]["founded"] == [{"str": "1984-03-18"}]  # type: ignore[index]
    assert rows["karachi"]["wikidata"] == [{"id": "Q8660", "name": "Karachi"}]  # type: ignore[index]
    assert rows["event-1992-mqm-h-split"]["date"] == [{"str": "1992"}]  # type: ignore[index]
    assert rows["no-such-id"] == {p: [] for p in request.properties}  # type: ignore[index]
    claims = rows["karachi"]["claims"][0]["int"]  # type: ignore[index]
    assert isinstance(claims, int) and claims >= 3


@pytest.mark.parametrize(
    "raw",
    [
        [],
        {"ids": ["mqm"]},
        {"ids": "mqm", "properties": []},
        {"ids": ["mqm"], "properties": [{"id": "colour"}]},
        {"ids": ["mqm"], "properties": [{"id": "name", "extra": 1}]},
    ],
)
def test_malformed_extension_queries_are_refused(raw: object) -> None:
    with pytest.raises(ReconciliationError):
        parse_extend(raw)


def test_property_proposals_depend_on_the_type(index: Index) -> None:
    people = {p["id"] for p in propose_properties(index, "foaf:Person", None)["properties"]}  # type: ignore[union-attr]
    orgs = {p["id"] for p in propose_properties(index, ORG, 50)["properties"]}  # type: ignore[union-attr]
    assert "leads" in people and "leaders" not in people and "founded" not in people
    assert {"leaders", "founded", "wikidata", "reports"} <= orgs
    assert propose_properties(index, ORG, 2)["limit"] == 2
    assert len(propose_properties(index, ORG, 2)["properties"]) == 2  # type: ignore[arg-type]


def test_suggest(index: Index, project_store: ox.Store) -> None:
    haq = suggest_entities(index, project_store, "haq")["result"]
    assert haq[0]["id"] == "mqm-h"  # type: ignore[index]
    assert ids(suggest_entities(index, project_store, "mohajir q")["result"])[0] == "mqm"  # type: ignore[arg-type]
    assert ids(suggest_entities(index, project_store, "altaf", types=(PERSON,))["result"]) == ["altaf-hussein"]  # type: ignore[arg-type]
    assert suggest_entities(index, project_store, "  ")["result"] == []
    page = suggest_entities(index, project_store, "s")
    assert len(page["result"]) == 10 and page["cursor"] == 10  # type: ignore[arg-type]
    following = suggest_entities(index, project_store, "s", cursor=10)["result"]
    assert not set(ids(page["result"])) & set(ids(following))  # type: ignore[arg-type]
    assert ids(suggest_types(index, "fact")["result"])[0] == FACTION  # type: ignore[index]
    assert ids(suggest_properties("lead")["result"]) == ["leaders", "leads"]  # type: ignore[arg-type]

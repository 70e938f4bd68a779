"""``/reconcile`` over HTTP on a live server: the specification's JSON schemas, an
OpenRefine-style session over a CSV of real-world spellings (with precision and recall),
errors, CORS, and a fuzz run that must never see a 5xx."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft7Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from conftest import FIXTURES, LiveServer

RECON = FIXTURES / "reconciliation"
SPEC = RECON / "spec-0.2"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
ORG = "http://www.w3.org/ns/org#Organization"


@cache
def registry() -> Registry:
    resources = []
    for path in sorted((SPEC / "schemas").glob("*.json")):
        schema = json.loads(path.read_text(encoding="utf-8"))
        resources.append((schema["$id"], Resource.from_contents(schema, default_specification=DRAFT7)))
    return Registry().with_resources(resources)


def conforms(schema_name: str, instance: object) -> None:
    """Validate ``instance`` against one of the specification's vendored schemas."""
    schema = json.loads((SPEC / "schemas" / schema_name).read_text(encoding="utf-8"))
    errors = sorted(Draft7Validator(schema, registry=registry()).iter_errors(instance), key=str)
    assert errors == [], [f"{list(e.absolute_path)}: {e.message}" for e in errors[:5]]


@pytest.fixture(scope="module")
def server(project_server: LiveServer) -> LiveServer:
    return project_server


@pytest.fixture(scope="module")
def client(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=60) as http:
        yield http


def reconcile_post(client: httpx.Client, batch: dict[str, object]) -> dict[str, dict[str, list[dict[str, object]]]]:
    response = client.post("/reconcile", data={"queries": json.dumps(batch)})
    assert response.status_code == 200, response.text
    answer: dict[str, dict[str, list[dict[str, object]]]] = response.json()
    conforms("reconciliation-result-batch.json", answer)
    return answer


# --- the manifest and the schemas -----------------------------------------------------------


def test_manifest_conforms_and_points_at_this_server(client: httpx.Client, server: LiveServer) -> None:
    response = client.get("/reconcile")
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/json")
    manifest = response.json()
    conforms("manifest.json", manifest)
    assert manifest["versions"] == ["0.2"]
    assert manifest["identifierSpace"] == "https://w3id.org/mqmkg/id/"
    assert manifest["schemaSpace"] == "https://w3id.org/mqmkg/ontology#"
    assert manifest["view"]["url"] == server.url + "/id/{{id}}"
    assert manifest["preview"]["url"] == server.url + "/reconcile/preview?id={{id}}"
    assert manifest["suggest"]["entity"] == {"service_url": server.url, "service_path": "/reconcile/suggest/entity"}
    assert manifest["extend"]["propose_properties"]["service_path"] == "/reconcile/properties"
    default = {t["id"]: t["name"] for t in manifest["defaultTypes"]}
    assert default[ORG] == "organization" and default["http://xmlns.com/foaf/0.1/Person"] == "person"
    assert default["https://w3id.org/mqmkg/ontology#PartyFaction"] == "party faction"
    assert manifest["batchSize"] == 100
    view = client.get(manifest["view"]["url"].replace("{{id}}", "karachi").removeprefix(server.url))
    assert view.status_code == 200 and "Karachi" in view.text


def test_a_post_without_an_operation_gets_the_manifest(client: httpx.Client) -> None:
    response = client.post("/reconcile", content=b"", headers=FORM)
    assert response.status_code == 200 and response.json() == client.get("/reconcile").json()


def test_single_query_is_answered_without_the_batch_wrapper(client: httpx.Client) -> None:
    plain = client.get("/reconcile", params={"query": "MQM(A)"}).json()
    as_json = client.get("/reconcile", params={"query": json.dumps({"query": "Karachi", "limit": 1})}).json()
    conforms("reconciliation-result-batch.json", {"q": plain})
    assert plain["result"][0]["id"] == "mqm" and plain["result"][0]["match"] is True
    assert [c["id"] for c in as_json["result"]] == ["karachi"]


def test_get_and_post_batches_agree(client: httpx.Client) -> None:
    batch = {"q0": {"query": "Mohajir Quami Movement"}, "q1": {"query": "Haqiqi", "limit": 2}}
    conforms("reconciliation-query-batch.json", batch)
    by_get = client.get("/reconcile", params={"queries": json.dumps(batch)})
    assert by_get.status_code == 200
    assert by_get.json() == reconcile_post(client, batch)
    assert by_get.json()["q0"]["result"][0]["match"] is True


@pytest.mark.parametrize("path", sorted((SPEC / "examples" / "reconciliation-query-batch" / "invalid").glob("*.json")))
def test_the_specs_invalid_batches_get_a_400(client: httpx.Client, path: Path) -> None:
    response = client.post("/reconcile", data={"queries": path.read_text(encoding="utf-8")})
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["error"] == "ReconciliationError"


@pytest.mark.parametrize("path", sorted((SPEC / "examples" / "reconciliation-query-batch" / "valid").glob("*.json")))
def test_the_specs_valid_batches_are_read(client: httpx.Client, path: Path) -> None:
    """The examples come from GND: their shape is accepted; only their GND vocabulary is not ours."""
    response = client.post("/reconcile", data={"queries": path.read_text(encoding="utf-8")})
    if response.status_code == 200:
        conforms("reconciliation-result-batch.json", response.json())
        assert set(response.json()) == set(json.loads(path.read_text(encoding="utf-8")))
    else:
        assert response.status_code == 400
        assert (
            "unknown type 'DifferentiatedPerson'" in response.json()["detail"]
            or "unknown property" in (response.json()["detail"])
        )


def test_the_specs_extension_queries_are_read(client: httpx.Client) -> None:
    for path in sorted((SPEC / "examples" / "data-extension-query" / "valid").glob("*.json")):
        conforms("data-extension-query.json", json.loads(path.read_text(encoding="utf-8")))
        response = client.post("/reconcile", data={"extend": path.read_text(encoding="utf-8")})
        assert response.status_code == 400 and "unknown property 'variantName'" in response.json()["detail"]


# --- an OpenRefine session over a CSV of spellings ----------------------------------------------


@dataclass(frozen=True)
class Row:
    name: str
    type: str
    expected: str
    note: str


@dataclass(frozen=True)
class Outcome:
    row: Row
    top: str
    matched: str


def rows() -> list[Row]:
    with (RECON / "names.csv").open(encoding="utf-8", newline="") as handle:
        return [Row(**record) for record in csv.DictReader(handle)]


def ratio(hits: int, total: int) -> float:
    return hits / total if total else 1.0


def figures(outcomes: list[Outcome]) -> dict[str, float | int]:
    """Precision and recall of ``match`` and of the top candidate against the expected ids."""
    expected = [o for o in outcomes if o.row.expected]
    matched = [o for o in outcomes if o.matched]
    topped = [o for o in outcomes if o.top]
    good_match = sum(1 for o in matched if o.matched == o.row.expected)
    good_top = sum(1 for o in topped if o.top == o.row.expected)
    return {
        "rows": len(outcomes),
        "rows_with_expected_id": len(expected),
        "match_precision": ratio(good_match, len(matched)),
        "match_recall": ratio(good_match, len(expected)),
        "top_precision": ratio(good_top, len(topped)),
        "top_recall": ratio(good_top, len(expected)),
    }


def test_openrefine_session_over_the_csv(
    client: httpx.Client, server: LiveServer, capsys: pytest.CaptureFixture[str]
) -> None:
    """Manifest, then batches of ten (OpenRefine's default), preview, suggest, extend."""
    manifest = client.get("/reconcile").json()
    table = rows()
    assert len(table) >= 40
    outcomes: list[Outcome] = []
    for start in range(0, len(table), 10):
        chunk = table[start : start + 10]
        batch: dict[str, object] = {}
        for i, row in enumerate(chunk):
            query: dict[str, object] = {"query": row.name, "limit": 3}
            if row.type:
                query["type"] = row.type
            batch[f"q{start + i}"] = query
        conforms("reconciliation-query-batch.json", batch)
        answer = reconcile_post(client, batch)
        for i, row in enumerate(chunk):
            candidates = answer[f"q{start + i}"]["result"]
            top = str(candidates[0]["id"]) if candidates else ""
            matched = [str(c["id"]) for c in candidates if c["match"]]
            assert len(matched) <= 1
            outcomes.append(Outcome(row, top, matched[0] if matched else ""))
    by_name = {o.row.name: o for o in outcomes}
    for name, expected in [
        ("MQM(A)", "mqm"),
        ("Mohajir Quami Movement", "mqm"),
        ("Altaf Hussain", "altaf-hussein"),
        ("Karachi", "karachi"),
    ]:
        assert by_name[name].matched == expected, by_name[name]
    assert by_name["Haqiqi"].top == "mqm-h"
    assert [o.row.name for o in outcomes if not o.row.expected and o.matched] == []

    # Preview every matched entity through the manifest's template, as OpenRefine's iframe does.
    for ident in sorted({o.matched for o in outcomes if o.matched}):
        url = manifest["preview"]["url"].replace("{{id}}", quote(ident, safe="")).removeprefix(server.url)
        card = client.get(url)
        assert card.status_code == 200 and card.headers["content-type"].startswith("text/html")
        assert f'data-id="{ident}"' in card.text

    # "Search for match" on a row left unmatched: the entity suggest service.
    suggest = manifest["suggest"]["entity"]
    found = client.get(suggest["service_path"], params={"prefix": "Haqiqi"}).json()
    conforms("suggest-entities-response.json", found)
    assert found["result"][0]["id"] == "mqm-h"

    # "Add columns from reconciled values": property proposals, then data extension.
    proposals = client.get(manifest["extend"]["propose_properties"]["service_path"], params={"type": ORG}).json()
    conforms("data-extension-property-proposal.json", proposals)
    offered = [p["id"] for p in proposals["properties"]]
    assert {"wikidata", "leaders", "founded", "places", "reports"} <= set(offered)
    ids = sorted({o.matched for o in outcomes if o.matched})
    query = {"ids": ids, "properties": [{"id": p} for p in ("wikidata", "leaders", "founded", "type")]}
    conforms("data-extension-query.json", query)
    extension = client.post("/reconcile", data={"extend": json.dumps(query)})
    assert extension.status_code == 200, extension.text
    conforms("data-extension-response.json", extension.json())
    extended = extension.json()["rows"]
    assert extended["karachi"]["wikidata"] == [{"id": "Q8660", "name": "Karachi"}]
    assert extended["altaf-hussein"]["wikidata"] == [{"id": "Q2840298", "name": "Altaf Hussain"}]
    assert extended["mqm"]["leaders"] == [{"id": "altaf-hussein", "name": "Altaf Hussein"}]
    assert extended["mqm"]["founded"] == [{"str": "1984-03-18"}]
    assert extended["mqm-h"]["wikidata"] == []

    result = figures(outcomes)
    with capsys.disabled():
        shown = {k: round(v, 3) if isinstance(v, float) else v for k, v in result.items()}
        print(f"\nreconciliation over tests/fixtures/reconciliation/names.csv: {json.dumps(shown)}")
        for o in outcomes:
            if o.top != o.row.expected or (o.row.expected and o.matched != o.row.expected):
                print(
                    f"  {o.row.name!r}: expected {o.row.expected or '-'}, top {o.top or '-'}, match {o.matched or '-'}"
                )
    assert result["match_precision"] == 1.0  # match: true only for an unambiguous exact name
    assert result["match_recall"] >= 0.6
    assert result["top_precision"] >= 0.85
    assert result["top_recall"] >= 0.85


# --- the other endpoints ------------------------------------------------------------------------


def test_suggest_services_conform(client: httpx.Client) -> None:
    entities = client.get("/reconcile/suggest/entity", params={"prefix": "kar"}).json()
    conforms("suggest-entities-response.json", entities)
    first = entities["result"][0]
    assert (first["id"], first["name"]) == ("karachi", "Karachi") and "Wikidata Q8660" in first["description"]
    assert {"id": "http://semanticweb.cs.vu.nl/2009/11/sem/Place", "name": "place"} in first["notable"]
    types = client.get("/reconcile/suggest/type", params={"prefix": "pers"}).json()
    conforms("suggest-types-response.json", types)
    assert types["result"][0]["id"] == "http://xmlns.com/foaf/0.1/Person"
    props = client.get("/reconcile/suggest/property", params={"prefix": "wiki"}).json()
    conforms("suggest-properties-response.json", props)
    assert [p["id"] for p in props["result"]] == ["wikidata", "wikidata-match"]
    typed = client.get(
        "/reconcile/suggest/entity",
        params={"prefix": "altaf", "type": "foaf:Person", "spell": "always", "exact": "false", "scoring": "schema"},
    )
    assert [e["id"] for e in typed.json()["result"]] == ["altaf-hussein"]  # OpenRefine's extra parameters ignored


def test_preview_card(client: httpx.Client) -> None:
    card = client.get("/reconcile/preview", params={"id": "karachi"})
    assert card.status_code == 200
    assert "Karachi" in card.text and "http://www.wikidata.org/entity/Q8660" in card.text
    assert "<blockquote title=" in card.text and "GlobalSecurity.org, characters" in card.text
    missing = client.get("/reconcile/preview", params={"id": "<script>alert(1)</script>"})
    assert missing.status_code == 404 and "<script>alert" not in missing.text and "&lt;script&gt;" in missing.text


def test_cors_is_open_on_every_endpoint(client: httpx.Client) -> None:
    origin = {"Origin": "http://openrefine.example"}
    for path in ("/reconcile", "/reconcile/suggest/entity?prefix=k", "/reconcile/preview?id=mqm"):
        assert client.get(path, headers=origin).headers["access-control-allow-origin"] == "*"
    posted = client.post("/reconcile", data={"queries": "{}"}, headers=origin)
    assert posted.status_code == 200 and posted.json() == {}
    assert posted.headers["access-control-allow-origin"] == "*"
    preflight = client.options(
        "/reconcile", headers=origin | {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "x"}
    )
    assert preflight.status_code == 200 and "POST" in preflight.headers["access-control-allow-methods"]


@pytest.mark.parametrize(
    ("method", "params", "body", "headers", "status", "text"),
    [
        ("GET", {"callback": "jQuery1"}, None, {}, 400, "JSONP"),
        ("GET", {"queries": "{"}, None, {}, 400, "not valid JSON"),
        ("POST", {}, b"queries=" + b"[" * 100_000, FORM, 400, "cannot be read as JSON"),
        ("GET", {"queries": '{"q": {"query": "x", "limit": 1e999}}'}, None, {}, 400, "positive integer"),
        ("GET", {"queries": "{}", "extend": "{}"}, None, {}, 400, "give one of"),
        ("POST", {}, b"queries=%7B%7D&queries=%7B%7D", FORM, 400, "more than once"),
        ("POST", {}, b"queries=%ff", FORM, 400, "not UTF-8"),
        ("POST", {}, b'{"q0": {"query": "x"}}', {"Content-Type": "application/json"}, 415, "x-www-form-urlencoded"),
        ("POST", {}, b"queries=" + b"x" * 1_100_000, FORM, 413, "larger than"),
        ("GET", {"queries": json.dumps({f"q{i}": {"query": "x"} for i in range(101)})}, None, {}, 413, "batchSize"),
        ("GET", {"extend": json.dumps({"ids": ["x"] * 501, "properties": []})}, None, {}, 413, "at most 500"),
        ("GET", {"query": "x" * 201}, None, {}, 400, "longer than 200"),
    ],
)
def test_bad_requests_get_clear_errors(
    client: httpx.Client,
    method: str,
    params: dict[str, str],
    body: bytes | None,
    headers: dict[str, str],
    status: int,
    text: str,
) -> None:
    response = client.request(method, "/reconcile", params=params, content=body, headers=headers)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert text in response.json()["detail"]


def test_unknown_preview_and_property_inputs_are_4xx(client: httpx.Client) -> None:
    assert client.get("/reconcile/preview").status_code == 400
    assert client.get("/reconcile/properties", params={"type": "nope"}).status_code == 400
    assert client.get("/reconcile/suggest/entity", params={"prefix": "a", "type": "nope"}).status_code == 400
    assert client.get("/reconcile/suggest/entity", params={"prefix": "a", "cursor": "-1"}).status_code == 400


# --- fuzzing: no input gives a 5xx --------------------------------------------------------------

_json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**30), 10**30), st.floats(allow_nan=True), st.text(max_size=30)
)
_json = st.recursive(
    _json_scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    max_leaves=12,
)
_field_names = st.sampled_from(["query", "type", "limit", "properties", "type_strict", "pid", "v", "ids", "id"])
_queries = st.dictionaries(
    st.text(max_size=5),
    st.one_of(_json, st.dictionaries(_field_names, _json, max_size=5)),
    max_size=4,
)
_FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _never_5xx(response: httpx.Response, error_type: str = "application/problem+json") -> None:
    assert response.status_code < 500, (response.request.url, response.text[:300])
    if response.status_code >= 400:
        assert response.headers["content-type"] == error_type


def _post_json(client: httpx.Client, name: str, value: object, schema: str) -> None:
    """POST ``name=<value as JSON>``: never a 5xx, and a 200 conforms to the spec's schema."""
    response = client.post("/reconcile", data={name: json.dumps(value)})
    _never_5xx(response)
    if response.status_code == 200:
        conforms(schema, response.json())


@_FUZZ
@given(batch=_queries)
def test_fuzz_query_batches(client: httpx.Client, batch: dict[str, object]) -> None:
    _post_json(client, "queries", batch, "reconciliation-result-batch.json")


@_FUZZ
@given(raw=st.text(max_size=300), key=st.sampled_from(["queries", "query", "extend"]))
def test_fuzz_raw_parameters(client: httpx.Client, raw: str, key: str) -> None:
    _never_5xx(client.get("/reconcile", params={key: raw}))
    _never_5xx(client.post("/reconcile", data={key: raw}))


@_FUZZ
@given(extension=st.dictionaries(st.sampled_from(["ids", "properties", "x"]), _json, max_size=3))
def test_fuzz_extension(client: httpx.Client, extension: dict[str, object]) -> None:
    _post_json(client, "extend", extension, "data-extension-response.json")


@_FUZZ
@given(text=st.text(max_size=60), cursor=st.integers(-5, 20_000))
def test_fuzz_suggest_and_preview(client: httpx.Client, text: str, cursor: int) -> None:
    for kind in ("entity", "type", "property"):
        _never_5xx(client.get(f"/reconcile/suggest/{kind}", params={"prefix": text, "cursor": str(cursor)}))
    preview = client.get("/reconcile/preview", params={"id": text})
    _never_5xx(preview, "text/html; charset=utf-8" if preview.status_code == 404 else "application/problem+json")
    _never_5xx(client.get("/reconcile/properties", params={"type": text}))

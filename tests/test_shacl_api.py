"""``/shacl`` over HTTP on a live server: the report by content negotiation, the summaries,
clear 4xx for bad input, the deadline, a store that never changes, and fuzzing."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator

import httpx
import pyoxigraph as ox
import pytest
import rdflib
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import ROOT, LiveServer
from test_shacl import BAD, GOOD_CLAIM, HEAD, many_claims

SH = rdflib.Namespace("http://www.w3.org/ns/shacl#")
KG = "https://w3id.org/mqmkg/id/"
TURTLE = {"Content-Type": "text/turtle"}


@pytest.fixture(scope="module")
def client(project_server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=project_server.url, timeout=120) as http:
        yield http


def post(client: httpx.Client, data: str, accept: str = "application/json", **params: str) -> httpx.Response:
    return client.post("/shacl", content=data.encode(), headers=TURTLE | {"Accept": accept}, params=params)


def _term(term: dict[str, str]) -> ox.NamedNode | ox.BlankNode | ox.Literal:
    if term["type"] == "uri":
        return ox.NamedNode(term["value"])
    if term["type"] == "bnode":
        return ox.BlankNode(term["value"])
    if "xml:lang" in term:
        return ox.Literal(term["value"], language=term["xml:lang"])
    return ox.Literal(term["value"], datatype=ox.NamedNode(term["datatype"]) if "datatype" in term else None)


def store_fingerprint(client: httpx.Client) -> tuple[str, int, bytes, object]:
    """Hash every quad the endpoint serves (RDFC-1.0, so blank node labels do not matter),
    plus an entity document and the triple count."""
    query = "SELECT ?g ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } }"
    rows = client.get("/sparql", params={"query": query}, headers={"Accept": "application/sparql-results+json"})
    assert rows.status_code == 200 and rows.headers["x-mqmkg-truncated"] == "false"
    bindings = rows.json()["results"]["bindings"]
    dataset = ox.Dataset(
        ox.Quad(_term(b["s"]), _term(b["p"]), _term(b["o"]), ox.NamedNode(b["g"]["value"])) for b in bindings
    )
    dataset.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    digest = hashlib.sha256("\n".join(sorted(str(q) for q in dataset)).encode()).hexdigest()
    entity = client.get("/id/karachi.nt").content
    return digest, len(bindings), entity, client.get("/health").json()["triples"]


def test_summary_lists_focus_path_constraint_message_severity(client: httpx.Client) -> None:
    response = post(client, BAD)
    assert response.status_code == 200 and response.headers["x-shacl-conforms"] == "false"
    summary = response.json()
    assert summary["conforms"] is False and summary["triples"] == 5
    rows = {(r["focusNode"], r["path"], r["constraint"], r["shape"]) for r in summary["results"]}
    assert (
        KG + "claim-unsourced",
        "https://w3id.org/mqmkg/ontology#evidence",
        str(SH.MinCountConstraintComponent),
        "https://w3id.org/mqmkg/ontology#ClaimShape-evidence",
    ) in rows
    assert (KG + "karachi", str(rdflib.SKOS.prefLabel), str(SH.UniqueLangConstraintComponent)) in {r[:3] for r in rows}
    assert summary["counts"] == {"Violation": len(summary["results"]), "Warning": 0, "Info": 0}
    assert all(r["severity"] == "Violation" and r["message"] for r in summary["results"])


def test_a_good_contribution_conforms(client: httpx.Client) -> None:
    response = post(client, GOOD_CLAIM)
    assert response.json()["conforms"] is True and response.json()["results"] == []
    assert response.headers["x-shacl-conforms"] == "true"


@pytest.mark.parametrize(
    ("accept", "params", "media_type", "rdf_format"),
    [
        ("text/turtle", {}, "text/turtle", "turtle"),
        ("*/*", {}, "text/turtle", "turtle"),
        ("application/ld+json", {}, "application/ld+json", "json-ld"),
        ("application/n-triples", {}, "application/n-triples", "nt"),
        ("text/html", {"format": "jsonld"}, "application/ld+json", "json-ld"),
    ],
)
def test_the_report_by_content_negotiation(
    client: httpx.Client, accept: str, params: dict[str, str], media_type: str, rdf_format: str
) -> None:
    expected = len(post(client, BAD).json()["results"])
    response = post(client, BAD, accept, **params)
    assert response.status_code == 200 and response.headers["content-type"].startswith(media_type)
    report = rdflib.Graph().parse(data=response.content, format=rdf_format)
    (node,) = report.subjects(rdflib.RDF.type, SH.ValidationReport)
    assert report.value(node, SH.conforms).toPython() is False
    results = list(report.objects(node, SH.result))
    assert len(results) == expected
    focus = {str(report.value(r, SH.focusNode)) for r in results}
    assert focus == {KG + "claim-unsourced", KG + "karachi"}


def test_an_empty_graph_conforms(client: httpx.Client) -> None:
    summary = client.post("/shacl", content=b"", headers=TURTLE | {"Accept": "application/json"}).json()
    assert (summary["conforms"], summary["triples"], summary["results"]) == (True, 0, [])
    report = rdflib.Graph().parse(data=client.post("/shacl", content=b" ", headers=TURTLE).content, format="turtle")
    assert report.value(next(report.subjects(rdflib.RDF.type, SH.ValidationReport)), SH.conforms).toPython() is True


def test_every_syntax_is_accepted(client: httpx.Client) -> None:
    graph = rdflib.Graph().parse(data=GOOD_CLAIM, format="turtle")
    for media_type, fmt in (("application/n-triples", "nt"), ("application/ld+json", "json-ld")):
        body = graph.serialize(format=fmt, encoding="utf-8")
        response = client.post(
            "/shacl", content=body, headers={"Content-Type": media_type, "Accept": "application/json"}
        )
        assert response.status_code == 200 and response.json()["conforms"] is True, response.text


@pytest.mark.parametrize(
    ("body", "headers", "status", "detail"),
    [
        (b"@prefix : <http://x/> .\n:a :b :c ;\n  :d .", TURTLE, 400, "line 3 column 6"),
        (b"\xff\xfe<a>", TURTLE, 400, "text/turtle"),
        (b"x", {"Content-Type": "text/plain"}, 415, "text/turtle"),
        (b"x", {}, 415, "text/turtle"),
        (b"#" * 300_000, TURTLE, 413, "Settings.shacl_max_bytes"),
        (GOOD_CLAIM.encode(), TURTLE | {"Accept": "image/png"}, 406, "offered"),
    ],
)
def test_bad_submissions_get_clear_errors(
    client: httpx.Client, body: bytes, headers: dict[str, str], status: int, detail: str
) -> None:
    response = client.post("/shacl", content=body, headers={"Accept": "application/json"} | headers)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert detail in response.json()["detail"]
    if status == 400 and "line" in detail:
        assert (response.json()["line"], response.json()["column"]) == (3, 6)


def test_the_form_gives_a_readable_page(client: httpx.Client) -> None:
    form = client.get("/shacl", headers={"Accept": "text/html"})
    assert form.status_code == 200 and '<textarea id="shacl-data" name="data"' in form.text
    page = client.post("/shacl", data={"data": BAD, "format": "turtle"}, headers={"Accept": "text/html"})
    assert page.status_code == 200 and "Does not conform." in page.text
    assert "<code>kg:claim-unsourced</code>" in page.text and "MinCount" in page.text
    broken = client.post("/shacl", data={"data": "<a> <b> .", "format": "ntriples"}, headers={"Accept": "text/html"})
    assert broken.status_code == 400 and "Not validated:" in broken.text and "&lt;a&gt; &lt;b&gt; ." in broken.text


def test_the_service_describes_itself(client: httpx.Client) -> None:
    about = client.get("/shacl", headers={"Accept": "application/json"}).json()
    assert about["accepts"][:3] == ["text/turtle", "application/n-triples", "application/ld+json"]
    assert about["maxBytes"] == 262_144 and about["timeoutSeconds"] == 30.0
    assert about["returns"][0] == "text/turtle"


def test_nothing_is_ever_written_to_the_store(client: httpx.Client) -> None:
    before = store_fingerprint(client)
    for data in (BAD, GOOD_CLAIM, HEAD + 'kg:karachi skos:prefLabel "Kurrachee"@en ; skos:altLabel "Kolachi"@en .'):
        assert post(client, data).status_code == 200
    assert post(client, HEAD + "kg:new-thing skos:prefLabel ", "application/json").status_code == 400
    assert store_fingerprint(client) == before
    karachi = client.get("/reconcile", params={"query": "Kurrachee"}).json()["result"]
    assert [c["id"] for c in karachi if c["score"] == 100] == []


def test_the_deadline_stops_a_long_validation(live_server_factory: Callable[..., LiveServer]) -> None:
    server = live_server_factory(root=ROOT, shacl_timeout="1", workers="1")
    many = many_claims(200)
    with httpx.Client(base_url=server.url, timeout=120) as http:
        assert post(http, GOOD_CLAIM).status_code in (200, 503)  # the first call also starts the process
        slow = post(http, many)
        assert slow.status_code == 503 and slow.json()["error"] == "ValidationTimeout"
        assert "deadline of 1 s" in slow.json()["detail"]
        quick = post(http, HEAD + 'kg:karachi rdfs:comment "port"@en .')
        assert quick.status_code in (200, 503)
        assert http.get("/health").status_code == 200
    assert "overran the 1 s deadline" in server.log()


_FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@_FUZZ
@given(
    body=st.one_of(st.binary(max_size=300), st.text(max_size=300).map(str.encode)),
    media_type=st.sampled_from(["text/turtle", "application/n-triples", "application/ld+json", "text/plain", ""]),
    accept=st.sampled_from(["*/*", "application/json", "text/html", "application/ld+json", "text/csv;q=abc", ""]),
)
def test_fuzz_never_a_server_error(client: httpx.Client, body: bytes, media_type: str, accept: str) -> None:
    response = client.post("/shacl", content=body, headers={"Content-Type": media_type, "Accept": accept})
    assert response.status_code < 500, response.text[:300]


@_FUZZ
@given(prefix=st.sampled_from([HEAD, ""]), text=st.text(max_size=200))
def test_fuzz_turtle_like_text(client: httpx.Client, prefix: str, text: str) -> None:
    response = post(client, prefix + text)
    assert response.status_code < 500 and (response.status_code != 200 or "conforms" in json.loads(response.text))

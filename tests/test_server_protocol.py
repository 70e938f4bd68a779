"""The W3C SPARQL 1.1 Protocol test cases (``protocol/manifest.ttl``), adapted to our data.

Each test is named after its W3C case. The manifest's data graphs (``data0.rdf`` …
``data3.rdf`` on kasei.us) become graphs of our fixture store, since the endpoint never
fetches a graph: data1 → ``graph/people``, data2 → ``graph/events``, data3 and data0 →
``graph/organisations``. The update cases must all be refused: the endpoint is read-only.
"""

from __future__ import annotations

from urllib.parse import urlencode
from xml.etree import ElementTree

import httpx
import pytest

from conftest import GRAPH, QUERY_PREFIXES, LiveServer

PEOPLE = GRAPH + "people"  # data1
EVENTS = GRAPH + "events"  # data2
ORGANISATIONS = GRAPH + "organisations"  # data3, data0
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
RESULT_TYPES = {"application/sparql-results+xml", "application/sparql-results+json"}
SELECT_TYPES = RESULT_TYPES | {"text/tab-separated-values", "text/csv"}
GRAPH_TYPES = {
    "application/rdf+xml",
    "text/turtle",
    "application/n-triples",
    "text/html",
    "application/ld+json",
}

# Data1 and data2 both hold a typed resource; data3 holds another.
IN_PEOPLE = "kg:afaq-ahmed a ?type"
IN_EVENTS = "kg:event-1995-crackdown a ?type2"
IN_ORGANISATIONS = "kg:mqm-h a ?type3"


def media_type(response: httpx.Response) -> str:
    return response.headers["content-type"].split(";")[0].strip()


def boolean(response: httpx.Response) -> bool:
    """Read an ASK answer from SPARQL JSON or XML."""
    assert response.status_code == 200, response.text
    if media_type(response) == "application/sparql-results+json":
        value = response.json()["boolean"]
    else:
        node = ElementTree.fromstring(response.content).find("{http://www.w3.org/2005/sparql-results#}boolean")
        assert node is not None
        value = node.text == "true"
    assert isinstance(value, bool)
    return value


def post_form(server: LiveServer, pairs: list[tuple[str, str]], **headers: str) -> httpx.Response:
    return httpx.post(server.sparql, content=urlencode(pairs).encode(), headers={**FORM, **headers})


def ask(where: str) -> str:
    return f"{QUERY_PREFIXES}ASK {{ {where} }}"


# -- positive query cases -----------------------------------------------------------------


def test_query_get(live_server: LiveServer) -> None:
    response = httpx.get(live_server.sparql, params={"query": "ASK {}", "default-graph-uri": ORGANISATIONS})
    assert media_type(response) in RESULT_TYPES
    assert boolean(response) is True


def test_query_post_form(live_server: LiveServer) -> None:
    response = post_form(live_server, [("query", "ASK {}"), ("default-graph-uri", ORGANISATIONS)])
    assert media_type(response) in RESULT_TYPES
    assert boolean(response) is True
    # The manifest's own variant: POST, no body, the query in the URL.
    response = httpx.post(live_server.sparql, params={"query": "ASK {}", "default-graph-uri": ORGANISATIONS})
    assert boolean(response) is True


def test_query_post_direct(live_server: LiveServer) -> None:
    response = httpx.post(
        live_server.sparql,
        params={"default-graph-uri": ORGANISATIONS},
        content=b"ASK {}",
        headers={"Content-Type": "application/sparql-query"},
    )
    assert media_type(response) in RESULT_TYPES
    assert boolean(response) is True


def test_query_dataset_default_graph(live_server: LiveServer) -> None:
    pairs = [("query", ask("kg:afaq-ahmed ?p ?o")), ("default-graph-uri", PEOPLE)]
    assert boolean(post_form(live_server, pairs)) is True
    # The protocol's default graph really is that graph alone:
    pairs = [("query", ask("kg:afaq-ahmed ?p ?o")), ("default-graph-uri", EVENTS)]
    assert boolean(post_form(live_server, pairs)) is False


def test_query_dataset_default_graphs_get(live_server: LiveServer) -> None:
    params = [
        ("query", ask(f"{IN_PEOPLE} . {IN_EVENTS}")),
        ("default-graph-uri", PEOPLE),
        ("default-graph-uri", EVENTS),
    ]
    assert boolean(httpx.get(live_server.sparql, params=params)) is True
    assert boolean(httpx.get(live_server.sparql, params=params[:2])) is False


def test_query_dataset_default_graphs_post(live_server: LiveServer) -> None:
    pairs = [
        ("query", ask(f"{IN_PEOPLE} . {IN_EVENTS}")),
        ("default-graph-uri", PEOPLE),
        ("default-graph-uri", EVENTS),
    ]
    assert boolean(post_form(live_server, pairs)) is True


NAMED_QUERY = ask(f"GRAPH ?g1 {{ {IN_PEOPLE} }} GRAPH ?g2 {{ {IN_EVENTS} }}")


def test_query_dataset_named_graphs_post(live_server: LiveServer) -> None:
    pairs = [("query", NAMED_QUERY), ("named-graph-uri", PEOPLE), ("named-graph-uri", EVENTS)]
    assert boolean(post_form(live_server, pairs)) is True


def test_query_dataset_named_graphs_get(live_server: LiveServer) -> None:
    params = [("query", NAMED_QUERY), ("named-graph-uri", PEOPLE), ("named-graph-uri", EVENTS)]
    assert boolean(httpx.get(live_server.sparql, params=params)) is True
    assert boolean(httpx.get(live_server.sparql, params=params[:2])) is False


def test_query_dataset_full(live_server: LiveServer) -> None:
    query = ask(f"{IN_ORGANISATIONS} GRAPH ?g1 {{ {IN_PEOPLE} }} GRAPH ?g2 {{ {IN_EVENTS} }}")
    pairs = [
        ("query", query),
        ("default-graph-uri", ORGANISATIONS),
        ("named-graph-uri", PEOPLE),
        ("named-graph-uri", EVENTS),
    ]
    assert boolean(post_form(live_server, pairs)) is True


def test_query_multiple_dataset(live_server: LiveServer) -> None:
    # FROM in the query, named graphs in the protocol: the protocol's dataset is used.
    where = f"GRAPH ?g1 {{ {IN_PEOPLE} }} GRAPH ?g2 {{ {IN_EVENTS} }}"
    query = f"{QUERY_PREFIXES}ASK FROM <{ORGANISATIONS}> {{ {where} }}"
    pairs = [("query", query), ("named-graph-uri", PEOPLE), ("named-graph-uri", EVENTS)]
    assert boolean(post_form(live_server, pairs)) is True
    # … and so the query's FROM graph is not the default graph.
    query = f"{QUERY_PREFIXES}ASK FROM <{ORGANISATIONS}> {{ {IN_ORGANISATIONS} }}"
    assert boolean(post_form(live_server, [("query", query), ("named-graph-uri", PEOPLE)])) is False
    assert boolean(post_form(live_server, [("query", query)])) is True


def test_query_content_type_select(live_server: LiveServer) -> None:
    response = post_form(live_server, [("query", "SELECT (1 AS ?value) {}"), ("default-graph-uri", ORGANISATIONS)])
    assert response.status_code == 200
    assert media_type(response) in SELECT_TYPES


def test_query_content_type_ask(live_server: LiveServer) -> None:
    response = post_form(live_server, [("query", "ASK {}"), ("default-graph-uri", ORGANISATIONS)])
    assert response.status_code == 200
    assert media_type(response) in RESULT_TYPES


def test_query_content_type_describe(live_server: LiveServer) -> None:
    response = post_form(
        live_server, [("query", "DESCRIBE <http://example.org/>"), ("default-graph-uri", ORGANISATIONS)]
    )
    assert response.status_code == 200
    assert media_type(response) in GRAPH_TYPES


def test_query_content_type_construct(live_server: LiveServer) -> None:
    response = post_form(
        live_server, [("query", "CONSTRUCT { <s> <p> 1 } WHERE {}"), ("default-graph-uri", ORGANISATIONS)]
    )
    assert response.status_code == 200
    assert media_type(response) in GRAPH_TYPES
    # Relative IRIs resolve against the endpoint (the protocol's "service-defined BASE URI").
    assert f"<{live_server.sparql[: -len('sparql')]}s>" in response.text or "<s>" not in response.text


# -- update cases: the endpoint is read-only, every one is refused ---------------------------

UPDATE_CASES = {
    "update_dataset_default_graph": ("POST", "using-graph-uri=" + PEOPLE, "update=CLEAR%20ALL", FORM),
    "update_dataset_default_graphs": (
        "POST",
        urlencode([("using-graph-uri", PEOPLE), ("using-graph-uri", EVENTS)]),
        "update=DROP%20ALL",
        FORM,
    ),
    "update_dataset_named_graphs": (
        "POST",
        urlencode([("using-named-graph-uri", PEOPLE)]),
        "update=" + "INSERT%20%7B%20%3Fs%20a%20%3Fo%20%7D%20WHERE%20%7B%20%3Fs%20a%20%3Fo%20%7D",
        FORM,
    ),
    "update_dataset_full": ("POST", "", "update=DROP%20ALL&using-graph-uri=" + PEOPLE, FORM),
    "update_post_form": ("POST", "", "update=INSERT%20DATA%20%7B%20%3Ca%3E%20%3Cb%3E%20%3Cc%3E%20%7D", FORM),
    "update_post_direct": (
        "POST",
        "",
        "INSERT DATA { <http://example.org/s> <http://example.org/p> <http://example.org/o> }",
        {"Content-Type": "application/sparql-update"},
    ),
    "update_base_uri": (
        "POST",
        "",
        "update=CLEAR%20SILENT%20GRAPH%20%3Chttp%3A%2F%2Fexample.org%2Fg%2F%3E",
        FORM,
    ),
    "bad_update_get": ("GET", "update=CLEAR%20ALL&using-graph-uri=" + PEOPLE, "", {}),
    "bad_multiple_updates": ("POST", "", "update=CLEAR%20ALL&update=CLEAR%20DEFAULT", FORM),
    "bad_update_non_utf8": (
        "POST",
        "",
        "CLEAR NAMED",
        {"Content-Type": "application/sparql-update; charset=UTF-16"},
    ),
    "bad_update_syntax": ("POST", "", "update=CLEAR%20XYZ", FORM),
    "bad_update_dataset_conflict": (
        "POST",
        "",
        "using-named-graph-uri=http%3A%2F%2Fexample%2Fpeople&update=WITH%20%3Chttp%3A%2F%2Fexample%2Fa%3E"
        "%20DELETE%20%7B%20%3Fs%20%3Fp%20%3Fo%20%7D%20WHERE%20%7B%20%3Fs%20%3Fp%20%3Fo%20%7D",
        FORM,
    ),
}


@pytest.mark.parametrize("case", sorted(UPDATE_CASES))
def test_update_cases_are_refused(live_server: LiveServer, case: str) -> None:
    method, query_string, body, headers = UPDATE_CASES[case]
    content = body.encode("utf-16") if "UTF-16" in headers.get("Content-Type", "") else body.encode()
    url = live_server.sparql + (f"?{query_string}" if query_string else "")
    response = httpx.request(method, url, content=content or None, headers=headers)
    assert response.status_code == 403, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert "read-only" in response.json()["detail"]


@pytest.mark.parametrize(
    "case",
    ["bad_update_wrong_media_type", "bad_update_missing_form_type"],
)
def test_bad_update_media_types(live_server: LiveServer, case: str) -> None:
    headers = {"Content-Type": "text/plain"} if case == "bad_update_wrong_media_type" else {}
    response = httpx.post(live_server.sparql + "?using-graph-uri=" + PEOPLE, content=b"CLEAR NAMED", headers=headers)
    assert response.status_code in (403, 415), response.text


# -- negative query cases -----------------------------------------------------------------


def test_bad_query_method(live_server: LiveServer) -> None:
    for method in ("PUT", "DELETE", "PATCH"):
        response = httpx.request(method, live_server.sparql, params={"query": "ASK {}"})
        assert response.status_code == 405
        assert set(response.headers["allow"].replace(" ", "").split(",")) >= {"GET", "POST"}
        assert response.headers["content-type"] == "application/problem+json"


def test_bad_multiple_queries(live_server: LiveServer) -> None:
    response = httpx.get(live_server.sparql + "?query=ASK%20%7B%7D&query=SELECT%20%2A%20%7B%7D")
    assert response.status_code == 400
    assert "2 'query' parameters" in response.json()["detail"]


def test_bad_query_wrong_media_type(live_server: LiveServer) -> None:
    response = httpx.post(live_server.sparql, content=b"ASK {}", headers={"Content-Type": "text/plain"})
    assert response.status_code == 415
    assert "application/sparql-query" in response.json()["detail"]


def test_bad_query_missing_form_type(live_server: LiveServer) -> None:
    response = httpx.post(live_server.sparql, content=b"query=ASK%20%7B%7D&default-graph-uri=" + PEOPLE.encode())
    assert response.status_code == 415
    assert "needs a Content-Type" in response.json()["detail"]


def test_bad_query_missing_direct_type(live_server: LiveServer) -> None:
    response = httpx.post(live_server.sparql + "?default-graph-uri=" + PEOPLE, content=b"ASK {}")
    assert response.status_code == 415


def test_bad_query_non_utf8(live_server: LiveServer) -> None:
    response = httpx.post(
        live_server.sparql,
        content="ASK {}".encode("utf-16"),
        headers={"Content-Type": "application/sparql-query; charset=UTF-16"},
    )
    assert response.status_code == 400
    assert "UTF-8" in response.json()["detail"]
    # Undeclared but invalid UTF-8, in a body and in a URL:
    response = httpx.post(
        live_server.sparql,
        content=b"ASK { ?s ?p '\xe9' }",
        headers={"Content-Type": "application/sparql-query"},
    )
    assert response.status_code == 400
    assert httpx.get(live_server.sparql + "?query=ASK%20%7B%FF%7D").status_code == 400


def test_bad_query_syntax(live_server: LiveServer) -> None:
    response = httpx.get(live_server.sparql, params={"query": "ASK {", "default-graph-uri": PEOPLE})
    assert response.status_code == 400
    problem = response.json()
    assert problem["error"] == "QuerySyntaxError"
    assert (problem["line"], problem["column"]) == (1, 6)
    assert problem["detail"].startswith("syntax error at line 1, column 6: ")
    response = httpx.get(live_server.sparql, params={"query": "SELECT *\nWHERE { ?s ?p }"})
    assert response.json()["detail"] == (
        "syntax error at line 2, column 16: expected one of LATERAL, SERVICE, [_] "
        "(rdflib: Expected SelectQuery, found '?' at line 2, column 9)"
    )


def test_unknown_protocol_graph_is_a_400(live_server: LiveServer) -> None:
    response = httpx.get(
        live_server.sparql,
        params={"query": "ASK {}", "default-graph-uri": "http://kasei.us/2009/09/sparql/data/data0.rdf"},
    )
    assert response.status_code == 400
    assert "names no graph in this store (graphs are never fetched)" in response.json()["detail"]

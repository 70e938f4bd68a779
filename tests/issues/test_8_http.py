"""Issue 8, the HTTP layer: each defect replayed against a real server, named after the
behaviour that fixes it (defects 3, 4, 9, 10, 12, 13, 15; 8 is in tests/test_deploy.py).

Each test also reads the server log written while it ran and demands no traceback there.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
import rdflib

from conftest import LiveServer, wait_until

SD = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")
KG = "https://w3id.org/mqmkg/id/"


@pytest.fixture(scope="module")
def server(project_server: LiveServer) -> LiveServer:
    """The curated graph with its canned queries."""
    return project_server


@contextmanager
def clean_log(server: LiveServer) -> Iterator[list[str]]:
    """Collect the log lines written inside the block; fail if one of them is a traceback."""
    start = len(server.log())
    lines: list[str] = []
    yield lines
    time.sleep(0.2)  # the access-log line follows the response
    lines.extend(server.log()[start:].splitlines())
    assert not [line for line in lines if "Traceback" in line or "Exception in ASGI" in line], "\n".join(lines)


def raw_request(server: LiveServer, data: bytes, close_after: float | None = None) -> bytes:
    """Send bytes on a fresh connection and read until the server closes it (send
    ``Connection: close``); with ``close_after``, hang up that many seconds after sending."""
    port = int(server.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(data)
        if close_after is not None:
            time.sleep(close_after)
            return b""
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
        return b"".join(chunks)


# -- 3. /id/<name> for names that cannot form an IRI ----------------------------------------

NOT_IRI_NAMES = ["a%20b", "a%00b", "a%3Cb", "a%22b", "a%7Bb", "a%7Cb", "a%5Eb", "a%60b", "a%5Cb", "a%FFb"]


@pytest.mark.parametrize("name", NOT_IRI_NAMES)
def test_id_name_that_cannot_form_an_iri_is_404_not_500(server: LiveServer, name: str) -> None:
    with clean_log(server):
        problem = httpx.get(f"{server.url}/id/{name}", headers={"Accept": "application/json"})
        page = httpx.get(f"{server.url}/id/{name}", headers={"Accept": "text/html"})
    assert (problem.status_code, problem.headers["content-type"]) == (404, "application/problem+json")
    assert problem.json()["error"] == "NotFound"
    assert "not allowed in an IRI" in problem.json()["detail"]
    assert page.status_code == 404 and "Nothing is known as" in page.text


def test_id_name_with_a_space_suggests_the_entity(server: LiveServer) -> None:
    # a whole name of one entity redirects to it, even where it cannot be part of an IRI
    named = httpx.get(f"{server.url}/id/altaf%20hussein", headers={"Accept": "application/json"})
    assert (named.status_code, named.headers["location"]) == (303, "/id/altaf-hussein")
    # part of a name is a 404 that suggests the entity
    problem = httpx.get(f"{server.url}/id/altaf%20huss", headers={"Accept": "application/json"})
    assert problem.status_code == 404
    assert problem.json()["suggestions"][0] == {"iri": KG + "altaf-hussein", "name": "Altaf Hussein"}


# -- 4 and 13. canned-query parameters are validated for real --------------------------------

NOT_IRIS = [
    "kg:a%25zz",
    "http://[::1",
    "a:b%23c%23d",
    "%7F",
    "kg:a%00",
    "kg:a%20b",
    "kg:%E2%80%AE",
    "http://h/%EF%BF%BD",
]


@pytest.mark.parametrize("value", NOT_IRIS)
def test_iri_parameter_that_is_not_an_iri_is_400_naming_the_parameter(server: LiveServer, value: str) -> None:
    with clean_log(server):
        response = httpx.get(f"{server.url}/queries/about-entity/run?entity={value}")
    assert response.status_code == 400, response.text
    problem = response.json()
    assert (problem["error"], problem["parameter"]) == ("ParameterError", "entity")
    assert problem["detail"].startswith("entity: ") and "is not an IRI" in problem["detail"]


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("1992-02-31", "not a day of the calendar"),
        ("1993-02-29", "not a day of the calendar"),
        ("1992-13-01", "not a day of the calendar"),
        ("1992-00-10", "not a day of the calendar"),
        ("0000-01-01", "not a day of the calendar"),
        ("1992-2-3", "not a date (YYYY-MM-DD)"),
        ("19920203", "not a date (YYYY-MM-DD)"),
        ("", "not a date (YYYY-MM-DD)"),
    ],
)
def test_impossible_date_parameter_is_400(server: LiveServer, value: str, why: str) -> None:
    response = httpx.get(f"{server.url}/queries/events-in-place-and-period/run", params={"from": value})
    assert response.status_code == 400, response.text
    assert (response.json()["parameter"], why in response.json()["detail"]) == ("from", True)


def test_leap_day_is_a_date(server: LiveServer) -> None:
    params = {"from": "1992-02-29", "to": "1995-12-31", "format": "json"}
    response = httpx.get(f"{server.url}/queries/events-in-place-and-period/run", params=params)
    rows = response.json()["results"]["bindings"]
    assert rows and {row["from"]["value"] for row in rows} == {"1992-02-29"}
    assert {row["from"]["datatype"] for row in rows} == {"http://www.w3.org/2001/XMLSchema#date"}


def test_parameter_values_that_are_not_utf8_are_400(server: LiveServer) -> None:
    response = httpx.get(f"{server.url}/queries/search-labels/run?q=%FF")
    assert response.status_code == 400 and "not valid UTF-8" in response.json()["detail"]


# -- 13. malformed Accept ----------------------------------------------------------------------


ACCEPTING_PATHS = ["/sparql?query=ASK%7B%7D", "/sparql", "/id/karachi", "/", "/queries", "/search?q=mqm"]


@pytest.mark.parametrize("path", ACCEPTING_PATHS)
def test_malformed_accept_is_400_naming_the_member(server: LiveServer, path: str) -> None:
    response = httpx.get(server.url + path, headers={"Accept": "application/json, text/csv;q=abc"})
    assert response.status_code == 400
    assert response.json()["error"] == "MalformedHeader"
    assert "'text/csv;q=abc': q=abc is not a quality" in response.json()["detail"]


def test_java_default_accept_still_gets_an_answer(server: LiveServer) -> None:
    java = "text/html, image/gif, image/jpeg, *; q=.2, */*; q=.2"
    response = httpx.get(server.sparql, params={"query": "ASK {}"}, headers={"Accept": java})
    assert (response.status_code, response.json()) == (200, {"head": {}, "boolean": True})


# -- 9. a client that hangs up in the middle of its body ---------------------------------------


def test_client_that_hangs_up_mid_body_is_logged_as_499_without_traceback(server: LiveServer) -> None:
    head = b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Type: application/sparql-query\r\nContent-Length: 1000\r\n\r\n"
    with clean_log(server) as lines:
        raw_request(server, head + b"SELECT * {", close_after=0.3)
        assert wait_until(lambda: '"POST /sparql" 499' in server.log(), 10)
    assert [line for line in lines if "/sparql" in line and '"POST' in line][-1].count("499") == 1
    assert not [line for line in lines if "ERROR" in line]


# -- 10. control characters never reach the log raw ---------------------------------------------


def test_control_characters_in_logged_fields_are_escaped(server: LiveServer) -> None:
    forged = b"/x%0D%0AINFO:%20forged%1B[31m%E2%80%AE%C2%85"
    headers = b"Host: x\r\nX-Forwarded-For: 10.0.0.1\x85\x9b2J\r\nConnection: close\r\n\r\n"
    request = b"GET " + forged + b" HTTP/1.1\r\n" + headers
    with clean_log(server) as lines:
        assert raw_request(server, request).startswith(b"HTTP/1.1 404")
    (line,) = [line for line in lines if "/x" in line]
    assert 'INFO:     10.0.0.1\\x85\\x9b2J "GET /x\\x0d\\x0aINFO: forged\\x1b[31m\\u202e\\x85" 404' in line
    assert not [line for line in lines if line.startswith("INFO: forged")]


# -- 12. HEAD and Allow (every route: tests/test_server_methods.py) ----------------------------


@pytest.mark.parametrize("path", ["/", "/health", "/id/karachi", "/sparql", "/queries"])
def test_head_answers_like_get_without_a_body(server: LiveServer, path: str) -> None:
    get = httpx.get(server.url + path)
    head = httpx.head(server.url + path)
    assert (head.status_code, head.content) == (200, b"")
    assert head.headers["content-type"] == get.headers["content-type"]
    assert head.headers["content-length"] == get.headers["content-length"] == str(len(get.content))


def test_trace_on_sparql_lists_every_method_in_allow(server: LiveServer) -> None:
    response = httpx.request("TRACE", server.sparql)
    assert (response.status_code, response.headers["allow"]) == (405, "GET, HEAD, OPTIONS, POST")
    assert response.json()["error"] == "MethodNotAllowed"


# -- 15. the service description names the service by the URL fetched -------------------------


def test_service_is_described_at_the_fetched_url(server: LiveServer) -> None:
    graph = rdflib.Graph().parse(data=httpx.get(server.sparql).content, format="turtle")
    fetched = rdflib.URIRef(server.sparql)
    assert (fetched, rdflib.RDF.type, SD.Service) in graph
    assert graph.value(fetched, SD.endpoint) == fetched
    assert graph.value(graph.value(fetched, SD.defaultDataset), SD.defaultGraph) is not None


# -- Host: links never carry a Host header that is not host[:port] ----------------------------


@pytest.mark.parametrize("host", ["a%zz", "a b", "a{b}", "[::1", "x/y", "a@b"])
def test_host_header_that_cannot_form_a_url_is_400(server: LiveServer, host: str) -> None:
    answer = raw_request(server, f"GET /sparql HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
    assert answer.startswith(b"HTTP/1.1 400"), answer
    assert b"invalid Host header" in answer


# -- found by the HEAD walk: VoID was different bytes on every request (random blank nodes) ---


def test_void_is_the_same_bytes_every_time(server: LiveServer) -> None:
    first, second = (httpx.get(server.url + "/.well-known/void").content for _ in range(2))
    assert first == second and b"_:c14n0" in first

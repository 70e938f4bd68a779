"""Property-based tests of the HTTP surface against a real server (issue 8).

Hypothesis generates canned-query parameters, ``/id/`` names, search terms, Accept and
Content-Type headers (with odd bytes), form bodies, non-UTF-8 bodies and truncated bodies.
The properties: no response is a 5xx; a refusal is a 4xx problem document; valid input
is served; and the server log written meanwhile holds no traceback. Example counts are
fixed and the generation is derandomized, so a run is bounded and repeatable.
"""

from __future__ import annotations

import re
import socket
import time
from urllib.parse import quote, urlencode

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import LiveServer, wait_until
from test_iri import GENERATED_IRIS

FUZZ = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
PROBLEM = "application/problem+json"
ANY_TEXT = st.text(st.characters(codec="utf-8"), max_size=40)
# Header bytes h11 lets a client send: visible ASCII, space, tab and obs-text (0x80-0xFF).
HEADER_BYTES = st.binary(max_size=60).map(lambda raw: bytes(b for b in raw if b == 9 or 32 <= b != 127).strip(b" \t"))
ACCEPT_PARTS = st.sampled_from(
    [
        "*/*",
        "text/csv",
        "application/sparql-results+json",
        "text/turtle",
        "text/html",
        "*",
        "a/b",
        ";",
        ",",
        "q=",
        "0.5",
    ]
)
ACCEPTS = st.one_of(
    HEADER_BYTES,
    st.lists(st.one_of(ACCEPT_PARTS, st.text('qQ=;,/ .*0123456789abc"\\', max_size=6)), max_size=8).map(
        lambda parts: "".join(parts).strip(" ").encode()
    ),
)


@pytest.fixture(scope="module")
def server(project_server: LiveServer) -> LiveServer:
    return project_server


@pytest.fixture(scope="module")
def log_start(server: LiveServer) -> int:
    """Where the server log stood before this module's first request."""
    return len(server.log())


def check(response: httpx.Response, allowed: set[int]) -> None:
    """The response is one of ``allowed``; a 4xx is a problem document naming its error (or a page)."""
    assert response.status_code in allowed, (response.status_code, response.text[:300])
    if 400 <= response.status_code < 500 and not response.headers["content-type"].startswith("text/html"):
        assert response.headers["content-type"] == PROBLEM
        assert response.json()["error"]


# -- canned-query parameters ------------------------------------------------------------------

DATES = st.one_of(st.dates().map(str), st.from_regex(r"\A\d{4}-\d{2}-\d{2}\Z"), ANY_TEXT)
IRIS = st.one_of(GENERATED_IRIS, ANY_TEXT, ANY_TEXT.map("kg:".__add__), ANY_TEXT.map("http://".__add__))


@FUZZ
@given(value=IRIS)
def test_iri_parameters_never_5xx(server: LiveServer, log_start: int, value: str) -> None:
    response = httpx.get(f"{server.url}/queries/about-entity/run", params={"entity": value}, timeout=30)
    check(response, {200, 400})
    if response.status_code == 400:
        assert response.json()["parameter"] == "entity"


@FUZZ
@given(value=GENERATED_IRIS)
def test_valid_iri_parameters_are_served(server: LiveServer, log_start: int, value: str) -> None:
    response = httpx.get(f"{server.url}/queries/about-entity/run", params={"entity": value}, timeout=30)
    check(response, {200})


@FUZZ
@given(start=DATES, end=DATES, place=IRIS)
def test_date_parameters_never_5xx(server: LiveServer, log_start: int, start: str, end: str, place: str) -> None:
    params = {"from": start, "to": end, "place": place}
    response = httpx.get(f"{server.url}/queries/events-in-place-and-period/run", params=params, timeout=30)
    check(response, {200, 400})
    if response.status_code == 400:
        assert response.json()["parameter"] in ("from", "to", "place")


@FUZZ
@given(value=ANY_TEXT, extra=st.dictionaries(ANY_TEXT, ANY_TEXT, max_size=2))
def test_string_parameters_and_unknown_ones_never_5xx(
    server: LiveServer, log_start: int, value: str, extra: dict[str, str]
) -> None:
    params = {**extra, "q": value}
    response = httpx.get(f"{server.url}/queries/search-labels/run?{urlencode(params)}", timeout=30)
    check(response, {200, 400, 406})
    if not set(extra) - {"q"}:
        assert response.status_code == 200  # any text is a string parameter


# -- /id names and search terms ------------------------------------------------------------------


ID_NAMES = st.one_of(
    ANY_TEXT.map(lambda name: quote(name, safe="")),
    st.binary(max_size=20).map(lambda raw: "".join(f"%{b:02X}" for b in raw)),
)


@settings(FUZZ, max_examples=100)
@given(name=ID_NAMES, accept=st.sampled_from(["application/json", "text/html", "text/turtle", "*/*"]))
def test_id_names_never_5xx(server: LiveServer, log_start: int, name: str, accept: str) -> None:
    check(httpx.get(f"{server.url}/id/{name}", headers={"Accept": accept}, timeout=30), {200, 404})


@FUZZ
@given(term=st.text(st.characters(codec="utf-8"), max_size=250), limit=st.integers(-5, 300))
def test_search_terms_never_5xx(server: LiveServer, log_start: int, term: str, limit: int) -> None:
    response = httpx.get(f"{server.url}/search", params={"q": term, "limit": str(limit)}, timeout=30)
    check(response, {200, 400})
    assert (response.status_code == 200) == (len(term) <= 200 and 1 <= limit <= 200)


# -- headers ---------------------------------------------------------------------------------------


@FUZZ
@given(accept=ACCEPTS, path=st.sampled_from(["/sparql?query=ASK%7B%7D", "/sparql", "/id/karachi", "/", "/queries"]))
def test_any_accept_header_gets_an_answer_or_a_4xx(
    server: LiveServer, log_start: int, accept: bytes, path: str
) -> None:
    check(httpx.get(server.url + path, headers={"Accept": accept}, timeout=30), {200, 400, 406})


@FUZZ
@given(content_type=st.one_of(HEADER_BYTES, st.sampled_from([b"application/sparql-query; charset=latin-1", b";;"])))
def test_any_content_type_gets_an_answer_or_a_4xx(server: LiveServer, log_start: int, content_type: bytes) -> None:
    response = httpx.post(server.sparql, content=b"ASK {}", headers={"Content-Type": content_type}, timeout=30)
    check(response, {200, 400, 403, 415})


# -- bodies ----------------------------------------------------------------------------------------

FORM_KEYS = st.one_of(st.sampled_from(["query", "default-graph-uri", "named-graph-uri", "format", "update"]), ANY_TEXT)
FORM_VALUES = st.one_of(ANY_TEXT, st.sampled_from(["ASK {}", "SELECT * { ?s ?p ?o } LIMIT 2", "json", ""]))


@FUZZ
@given(pairs=st.lists(st.tuples(FORM_KEYS, FORM_VALUES), max_size=4))
def test_form_bodies_never_5xx(server: LiveServer, log_start: int, pairs: list[tuple[str, str]]) -> None:
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    response = httpx.post(server.sparql, content=urlencode(pairs).encode(), headers=headers, timeout=30)
    check(response, {200, 400, 403, 406})


@FUZZ
@given(
    body=st.binary(max_size=80),
    media_type=st.sampled_from(["application/sparql-query", "application/x-www-form-urlencoded"]),
)
def test_raw_bodies_never_5xx(server: LiveServer, log_start: int, body: bytes, media_type: str) -> None:
    response = httpx.post(server.sparql, content=body, headers={"Content-Type": media_type}, timeout=30)
    check(response, {200, 400, 403, 406})
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        assert response.status_code == 400 and "not valid UTF-8" in response.json()["detail"]


@settings(max_examples=12, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.binary(min_size=1, max_size=40), missing=st.integers(1, 5000))
def test_truncated_bodies_are_client_closes(server: LiveServer, log_start: int, body: bytes, missing: int) -> None:
    before = server.log().count('"POST /sparql" 499')
    head = (
        "POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Type: application/sparql-query\r\n"
        f"Content-Length: {len(body) + missing}\r\n\r\n"
    ).encode()
    port = int(server.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head + body)
        time.sleep(0.05)
    assert wait_until(lambda: server.log().count('"POST /sparql" 499') == before + 1, 10)


def test_no_traceback_in_the_log_after_fuzzing(server: LiveServer, log_start: int) -> None:
    """Runs last in this module: nothing above was logged as a 5xx, a traceback or an error."""
    time.sleep(0.3)
    written = server.log()[log_start:]
    statuses = [int(status) for status in re.findall(r'" (\d{3}) rows=', written)]
    assert len(statuses) > 1000
    assert [status for status in statuses if status >= 500] == []
    assert "Traceback" not in written and "ERROR" not in written, written[-3000:]
    assert server.health()["status"] == "ok"

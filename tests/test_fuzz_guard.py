"""Property-based tests (hypothesis) over query text: comments, strings (short and long, both
quotes, escapes), IRIs (with ``#``, quotes and ``\\u`` escapes), codepoint escapes, CR, LF and
CRLF line ends, glued keywords, prefixes and bases, nesting and operator chains, around
SERVICE and elsewhere.

Properties:

- differential: the guard's SERVICE verdict matches what the engine really does. A test-only
  engine with the network (no worker, no isolation) runs every generated query against two
  loopback listeners, one allow-listed; whenever the guard lets a query through, the engine
  may reach only the endpoints the guard named (so never the canary);
- live: against a running server, by GET, form POST and direct POST: never a 5xx (but the
  deadline's 503), never a dead worker, and the canary listener stays at 0 connections;
- depth: trees of brackets, unary and binary operator chains and chained patterns, up to
  tens of thousands deep: a 200 or a clear 400, never a crashed worker.

Runs are bounded (fixed ``max_examples``, no deadline on this shared machine) and
derandomized, so CI sees the same cases every time; the counts are printed (``-s``).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator

import httpx
import pyoxigraph as ox
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import ENDPOINT_SETTINGS, Listener, LiveServer, StandIn, send_query, wait_until
from mqmkg.errors import ServiceRefused
from mqmkg.sparql.guard import check_services

BASE = "http://127.0.0.1:8000/sparql"
FUZZ = settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

LINE_ENDS = ["\n", "\r", "\r\n"]
# Well-formed pieces that hold the characters tricks are made of ("#", quotes, "<", escapes).
VALID = [
    " ", "\t", *LINE_ENDS, "#c\n", "#c\r", "#c\r\n", "# SERVICE <%canary%> {}\r", "?s ?p ?o .", "FILTER(1<2)",
    "FILTER(?a<?b)", "FILTER(1 <2)", 'FILTER("a#b" != "\\u005C")', "FILTER(?o != <http://a/#x>)",
    "OPTIONAL { ?s ?p ?o }", "{ ?s ?p ?o } UNION { ?s ?p ?o }", "BIND(\"'\" AS ?q)", 'BIND("""a""b""" AS ?r)',
    "?s <http://a/#p> ?o .", "BIND('''it''s''' AS ?i)", 'BIND("\\u0022" AS ?j)', "BIND(<http://a/'b> AS ?k)",
]  # fmt: skip
# Pieces that open, close or fake comments, strings and IRIs, or make "<" ambiguous.
HOSTILE = [
    "#", "#>", '"""', "'''", '"', "'", "<", ">", "<2)#>", 'FILTER(1<2)#>"""', "FILTER(1 <2)#x>", "\\u0022",
    "\\u005C", "\\u0027", "\\u0023", "\\u003E", "\\", '"\\""', "'\\''", '"\\u005C"', '"a#b"', "<http://a/#>",
    "<http://a/'b>", "ex:a\\#", "ex:a\\'", "true", "1", "?s ?p ?o", "{", "}", "(", ")", "OPTIONAL {",
    "{ SELECT * WHERE {", "FILTER EXISTS {", "FILTER NOT EXISTS {", "MINUS {", "GRAPH ?g {", ".", ";", ",",
    "SILENT", '"x"@en', "^^", "\\u0053ERVICE", "SERVICE", "service", "UNION",
]  # fmt: skip
# The first seven are well-formed; the others glue or escape the keyword.
KEYWORDS = [
    "SERVICE", "SERVICE", "SERVICE", "service", "SeRvIcE", "SERVICE SILENT", "SERVICE silent",
    "SERVICESILENT", "\\u0053ERVICE", "SERV\\u0049CE", "trueSERVICE", "1SERVICE", "}SERVICE", ".SERVICE",
]  # fmt: skip
SEPARATORS = ["", " ", "\t", *LINE_ENDS, "#c\r", "#c\n", "#c\r\n", "\r#c\n"]
TARGETS = [
    "<%canary%>", "<%allowed%>", "<%allowed%>", "al:%allowed_local%", "ex:x", "al:x", ":x", "<x>", "<>",
    "<%canary_escaped%>", "<//%canary_authority%/x>", "?v", "$v", "<%canary%", "%canary%",
]  # fmt: skip
PROLOGUES = [
    "", "PREFIX ex: <%canary%> ", "PREFIX al: <%allowed_base%> ", "PREFIX : <%canary%> ", "BASE <%canary%> ",
    "BASE <%allowed%> ", "PREFIX ex: <%allowed_base%> PREFIX ex: <%canary%> ", "PREFIX al: <%canary%>\r",
    "# PREFIX ex: <%allowed_base%>\rPREFIX ex: <%canary%>\n",
]  # fmt: skip


def text_of(pieces: list[str]) -> str:
    return "".join(pieces)


@st.composite
def queries(draw: st.DrawFn) -> str:
    """A query around one or two SERVICE clauses, either well-formed (but written with the
    characters tricks are made of) or with hostile pieces that may hide a SERVICE."""
    hostile = draw(st.booleans())
    junk = st.lists(st.sampled_from(VALID * 2 + HOSTILE if hostile else VALID), max_size=4).map(text_of)
    keywords = st.sampled_from(KEYWORDS if hostile else KEYWORDS[:7])
    parts = [draw(st.sampled_from(PROLOGUES)), "SELECT * WHERE {", draw(junk)]
    for _ in range(draw(st.integers(1, 2))):
        sep = st.sampled_from(SEPARATORS)
        parts += [draw(keywords), draw(sep), draw(st.sampled_from(TARGETS)), draw(sep)]
        parts += ["{ ?x ?y ?z }", draw(junk)]
    parts += ["}", draw(junk)]
    return "".join(parts)


def fill(template: str, canary: Listener, allowed: str) -> str:
    host = f"127.0.0.1:{canary.port}"
    values = {
        "canary": canary.url("/x"),
        "allowed": allowed,
        "allowed_base": allowed.rsplit("/", 1)[0] + "/",
        "allowed_local": allowed.rsplit("/", 1)[1],
        "canary_escaped": f"http://127.0.0.1:{canary.port}/\\u0078",
        "canary_authority": host,
    }
    for name, value in values.items():
        template = template.replace(f"%{name}%", value)
    return template


@pytest.fixture(scope="module")
def canary() -> Iterator[Listener]:
    item = Listener()
    yield item
    item.close()


@pytest.fixture(scope="module")
def live_canary() -> Iterator[Listener]:
    item = Listener()
    yield item
    item.close()


@pytest.fixture(scope="module")
def allowed_listener() -> Iterator[Listener]:
    item = Listener()
    yield item
    item.close()


def verdict(query: str, allowlist: tuple[str, ...]) -> tuple[str, ...] | None:
    """The guard's verdict: the endpoints it lets the query call, or None if it refuses the query."""
    try:
        return check_services(query, BASE, allowlist)
    except ServiceRefused:
        return None


def test_the_guards_verdict_matches_what_the_engine_does(canary: Listener, allowed_listener: Listener) -> None:
    allowed = allowed_listener.url("/sparql")
    store = ox.Store()  # test-only: the engine with the network, and no isolation
    store.add(ox.Quad(ox.NamedNode("http://a/s"), ox.NamedNode("http://a/p"), ox.Literal(True)))
    tally = {"cases": 0, "refused": 0, "federated": 0, "engine calls": 0, "canary calls (all refused)": 0}

    @FUZZ
    @given(template=queries())
    def check(template: str) -> None:
        query = fill(template, canary, allowed)
        found = verdict(query, (allowed,))
        canary_before, allowed_before = len(canary.connections), len(allowed_listener.connections)
        try:
            result = store.query(query, base_iri=BASE)
            if isinstance(result, ox.QueryBoolean):
                bool(result)
            else:
                list(result)
        except (SyntaxError, OSError, RuntimeError, ValueError):
            pass
        reached = set()
        if len(canary.connections) > canary_before:
            reached.add("canary")
        if len(allowed_listener.connections) > allowed_before:
            reached.add(allowed)
        tally["cases"] += 1
        tally["refused"] += found is None
        tally["federated"] += bool(found)
        tally["engine calls"] += bool(reached)
        tally["canary calls (all refused)"] += "canary" in reached
        if found is not None:
            assert reached <= set(found), (query, found, reached)

    check()
    print(f"differential: {json.dumps(tally)}")
    assert tally["cases"] >= 250 and tally["federated"] > 0 and tally["canary calls (all refused)"] > 0


def settled(server: LiveServer) -> bool:
    """Wait until every worker of both kinds is idle again (a timed-out one is being replaced)."""

    def idle() -> bool:
        health = server.health()
        federated = health["isolation"]["federated_workers"]  # type: ignore[index]
        return health["workers"]["idle"] == 2 and federated["idle"] == federated["size"]  # type: ignore[index]

    return wait_until(idle, 60)


def acceptable(response: httpx.Response) -> bool:
    """Never a 5xx but the two that report on others: the deadline's 503 (a query may be slow; its
    worker is replaced, not crashed) and the 502 of an allow-listed endpoint that failed."""
    if response.status_code < 500:
        return True
    error = response.json().get("error")
    return (response.status_code, error) in ((503, "QueryTimeout"), (502, "ServiceFailed"))


def test_live_fuzz_never_reaches_the_canary(
    live_server: LiveServer, live_canary: Listener, wikidata_standin: StandIn
) -> None:
    before = live_server.health()["workers"]
    statuses: dict[int, int] = {}
    reasons: Counter[str] = Counter()
    timeouts = 0

    @settings(FUZZ, max_examples=120)
    @given(template=queries(), how=st.sampled_from(["GET", "form", "direct"]))
    def check(template: str, how: str) -> None:
        nonlocal timeouts
        query = fill(template, live_canary, wikidata_standin.query_url)
        response = send_query(live_server, how, query)
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        assert acceptable(response), (query, response.text)
        timeouts += response.status_code == 503
        if response.status_code >= 400:
            detail = response.json()["detail"]
            reasons[detail[: detail.find(":") if ":" in detail else 40]] += 1

    check()
    assert settled(live_server)
    print(f"live fuzz: {sum(statuses.values())} requests, statuses {dict(sorted(statuses.items()))}")
    print("refusals:", dict(reasons.most_common(8)))
    assert live_canary.connections == []
    after = live_server.health()["workers"]
    assert after["replaced"] == before["replaced"] + timeouts  # type: ignore[index,operator]
    assert statuses.get(403, 0) > 0 and statuses.get(200, 0) > 0


LAYERS = ["paren", "not", "minus", "plus", "or", "and", "times", "in", "group", "union", "optional", "minus-pattern",
          "filter", "bind", "triples", "values", "path-alt", "collection", "bnode", "subselect"]  # fmt: skip


def expression(layers: list[tuple[str, int, bool]]) -> str:
    """Build an expression by wrapping ``1`` in the expression layers (count, where the inner part goes)."""
    text = "1"
    for kind, count, inner_first in layers:
        if kind == "paren":
            text = "(" * count + text + ")" * count
        elif kind == "not":
            text = "!" * count + f"({text})"
        elif kind == "minus":
            text = "-(" * count + text + ")" * count
        elif kind in ("plus", "or", "and", "times"):
            operator = {"plus": "+", "or": "||", "and": "&&", "times": "*"}[kind]
            terms = ["1"] * count
            terms[0 if inner_first else -1] = f"({text})"
            text = operator.join(terms)
        elif kind == "in":
            text = f"({text}) IN (" + ",".join(["1"] * count) + ")"
    return text


def pattern(layers: list[tuple[str, int, bool]], inner: str) -> str:
    """Wrap a group pattern in the pattern layers."""
    text = inner
    for kind, count, inner_first in layers:
        if kind == "group":
            text = "{" * count + text + "}" * count
        elif kind in ("union", "optional", "minus-pattern"):
            keyword = {"union": " UNION ", "optional": " OPTIONAL ", "minus-pattern": " MINUS "}[kind]
            blocks = ["{}"] * count
            blocks[0 if inner_first else -1] = "{" + text + "}"
            text = keyword.join(blocks) if kind == "union" else blocks[0] + keyword + keyword.join(blocks[1:])
        elif kind == "filter":
            text = text + " FILTER(true)" * count
        elif kind == "bind":
            text = text + "".join(f" BIND({i} AS ?b{i})" for i in range(count))
        elif kind == "triples":
            text = text + "".join(f" ?t{i} <p:p> ?t{i + 1} ." for i in range(count))
        elif kind == "values":
            text = text + " VALUES ?v { " + " ".join(["1"] * count) + " }"
        elif kind == "path-alt":
            text = text + " ?s " + "|".join(["<p:p>"] * count) + " ?o ."
        elif kind == "collection":
            text = text + " ?s <p:p> (" + " 1" * count + ") ."
        elif kind == "bnode":
            text = text + " ?s <p:p> " + "[ <p:p> " * count + "1" + " ]" * count + " ."
        elif kind == "subselect":
            text = "{ SELECT * WHERE " * count + "{" + text + "}" + " }" * count
    return text


EXPRESSION_KINDS = {"paren", "not", "minus", "plus", "or", "and", "times", "in"}
MAX_BODY = int(ENDPOINT_SETTINGS["max_body_bytes"])


@st.composite
def deep_queries(draw: st.DrawFn) -> str:
    size = st.one_of(st.integers(1, 60), st.integers(400, 1_200), st.integers(5_000, 25_000))
    layers = draw(st.lists(st.tuples(st.sampled_from(LAYERS), size, st.booleans()), min_size=1, max_size=4))
    while True:
        filter_text = f"FILTER(({expression([x for x in layers if x[0] in EXPRESSION_KINDS])}) != 0)"
        query = "ASK " + "{" + pattern([x for x in layers if x[0] not in EXPRESSION_KINDS], filter_text) + "}"
        if len(query.encode()) <= MAX_BODY:
            return query
        layers = [(kind, max(1, count // 2), first) for kind, count, first in layers]  # under the body cap


def test_deep_and_long_queries_never_crash_a_worker(live_server: LiveServer) -> None:
    before = live_server.health()["workers"]
    statuses: dict[int, int] = {}
    timeouts = 0

    @settings(FUZZ, max_examples=50)
    @given(query=deep_queries())
    def check(query: str) -> None:
        nonlocal timeouts
        response = send_query(live_server, "direct", query)
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        assert acceptable(response), (len(query), query[:200], response.text)
        if response.status_code == 400:
            assert response.json()["error"] in ("QueryTooComplex", "QuerySyntaxError", "QueryEvaluationError")
        timeouts += response.status_code == 503

    check()
    assert settled(live_server)
    print(f"depth fuzz: {sum(statuses.values())} requests, statuses {dict(sorted(statuses.items()))}")
    after = live_server.health()["workers"]
    # Only the deadline replaces a worker; no query crashed one.
    assert after["replaced"] == before["replaced"] + timeouts  # type: ignore[index,operator]
    assert statuses.get(200, 0) > 0 and statuses.get(400, 0) > 0

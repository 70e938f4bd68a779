"""Caching on a live server: ETag and Cache-Control on every answer, 304 on If-None-Match without
running the query, the result cache (hits, its switch) and its key: a new graph never serves an
old answer."""

from __future__ import annotations

import shutil
from collections.abc import Callable

import httpx
import pytest

from conftest import ENDPOINT_ROOT, ENDPOINT_SETTINGS, QUERY_PREFIXES, LiveServer, StandIn, json_rows, wait_until

SPLINTER = QUERY_PREFIXES + "SELECT ?a ?b { ?a mqm:splinterOf ?b }"
LABEL = QUERY_PREFIXES + "SELECT ?label { kg:karachi rdfs:label ?label }"


@pytest.fixture(scope="module")
def cached(live_server_factory: Callable[..., LiveServer]) -> LiveServer:
    return live_server_factory(root=ENDPOINT_ROOT, result_cache="64", **ENDPOINT_SETTINGS)


@pytest.fixture(scope="module")
def uncached(live_server_factory: Callable[..., LiveServer]) -> LiveServer:
    return live_server_factory(root=ENDPOINT_ROOT, result_cache="0", **ENDPOINT_SETTINGS)


def get(server: LiveServer, query: str, **headers: str) -> httpx.Response:
    return httpx.get(server.sparql, params={"query": query}, headers=headers, timeout=30)


def cache_stats(server: LiveServer) -> dict[str, int]:
    stats = server.health()["cache"]
    assert isinstance(stats, dict)
    return stats


def test_every_answer_carries_validators_and_a_repeat_is_a_cache_hit(cached: LiveServer) -> None:
    query = SPLINTER + " # first"
    first = get(cached, query)
    assert first.status_code == 200
    assert first.headers["etag"].startswith('W/"')
    assert first.headers["cache-control"] == "public, max-age=300"
    assert first.headers["x-mqmkg-cache"] == "miss"
    hits = cache_stats(cached)["hits"]
    second = get(cached, query)
    assert second.headers["x-mqmkg-cache"] == "hit"
    assert (second.content, second.headers["etag"]) == (first.content, first.headers["etag"])
    assert second.headers["x-mqmkg-rows"] == "1" and second.headers["content-type"] == first.headers["content-type"]
    assert cache_stats(cached)["hits"] == hits + 1
    # CORS clients may read the validators and the cache status.
    exposed = get(cached, query, Origin="http://example.org").headers["access-control-expose-headers"].lower()
    assert "etag" in exposed and "x-mqmkg-cache" in exposed


def test_if_none_match_gets_304_without_running_the_query(uncached: LiveServer) -> None:
    first = get(uncached, SPLINTER)
    assert first.headers["x-mqmkg-cache"] == "off"
    etag = first.headers["etag"]
    # The access log line is written once the answer is sent: wait for it before counting.
    assert wait_until(lambda: '"GET /sparql" 200 rows=1' in uncached.log())
    before = uncached.log().count('"GET /sparql" 200 rows=1')
    again = get(uncached, SPLINTER, **{"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert (again.headers["etag"], again.headers["cache-control"]) == (etag, "public, max-age=300")
    assert "content-type" not in again.headers
    # The access log shows a 304 with no rows (written once the answer is sent): no worker evaluated it.
    assert wait_until(lambda: uncached.log().count('"GET /sparql" 304 rows=-') >= 1)
    assert uncached.log().count('"GET /sparql" 200 rows=1') == before
    # Any other tag, or another Accept (another representation, another tag), gets the answer.
    assert get(uncached, SPLINTER, **{"If-None-Match": '"something-else"'}).status_code == 200
    csv = get(uncached, SPLINTER, Accept="text/csv", **{"If-None-Match": etag})
    assert csv.status_code == 200 and csv.headers["etag"] != etag
    assert csv.headers["vary"].startswith("Accept")


def test_the_key_holds_format_dataset_and_parameters(cached: LiveServer) -> None:
    tags = {
        get(cached, SPLINTER).headers["etag"],
        get(cached, SPLINTER, Accept="text/csv").headers["etag"],
        get(cached, SPLINTER, Accept="application/json").headers["etag"],  # same syntax, other Content-Type
        httpx.get(
            cached.sparql,
            params={"query": SPLINTER, "default-graph-uri": "https://w3id.org/mqmkg/graph/organisations"},
        ).headers["etag"],
    }
    assert len(tags) == 4


def test_canned_query_runs_are_validated_per_parameters(project_server: LiveServer) -> None:
    url = project_server.url + "/queries/claims-by-report/run"
    default = httpx.get(url, timeout=30)
    other = httpx.get(url, params={"key": "U.S. DOS Feb 1996"}, timeout=30)
    third = httpx.get(url, params={"key": "no such report"}, timeout=30)
    assert default.status_code == other.status_code == third.status_code == 200
    assert default.headers["etag"] == other.headers["etag"]  # the default value, given explicitly
    assert third.headers["etag"] != default.headers["etag"] and json_rows(third) == []
    again = httpx.get(url, params={"key": "no such report"}, headers={"If-None-Match": third.headers["etag"]})
    assert again.status_code == 304


def test_answers_from_other_servers_or_the_clock_are_never_kept(cached: LiveServer, wikidata_standin: StandIn) -> None:
    clock = QUERY_PREFIXES + "SELECT (NOW() AS ?t) (STRUUID() AS ?u) {}"
    first, second = get(cached, clock), get(cached, clock)
    assert first.headers["x-mqmkg-cache"] == second.headers["x-mqmkg-cache"] == "bypass"
    assert first.headers["cache-control"] == "no-cache"
    assert first.content != second.content and first.headers["etag"] != second.headers["etag"]
    assert not first.headers["etag"].startswith("W/")  # a strong tag of these very bytes
    assert get(cached, clock, **{"If-None-Match": first.headers["etag"]}).status_code == 200  # it changed


def test_the_service_description_is_validated_too(cached: LiveServer) -> None:
    description = httpx.get(cached.sparql, headers={"Accept": "text/turtle"})
    assert description.status_code == 200 and description.headers["cache-control"] == "public, max-age=300"
    assert httpx.get(cached.sparql, headers={"If-None-Match": description.headers["etag"]}).status_code == 304


def test_a_new_graph_never_serves_an_old_answer(
    live_server_factory: Callable[..., LiveServer], tmp_path_factory: pytest.TempPathFactory
) -> None:
    root = tmp_path_factory.mktemp("cache-root") / "root"
    shutil.copytree(ENDPOINT_ROOT, root)
    before = live_server_factory(root=root, **ENDPOINT_SETTINGS)
    old = get(before, LABEL)
    assert [r["label"] for r in json_rows(old)] == ["Karachi"]
    fingerprint = before.health()["fingerprint"]
    before.stop()
    for name in ("events.ttl", "people.ttl"):  # the two files that label Karachi
        path = root / "graph" / name
        text = path.read_text("utf-8")
        assert '"Karachi"@en' in text
        path.write_text(text.replace('"Karachi"@en', '"Karachi (Sindh)"@en'), "utf-8")
    after = live_server_factory(root=root, **ENDPOINT_SETTINGS)
    assert after.health()["fingerprint"] != fingerprint
    new = get(after, LABEL, **{"If-None-Match": old.headers["etag"]})
    assert new.status_code == 200 and new.headers["etag"] != old.headers["etag"]
    assert [r["label"] for r in json_rows(new)] == ["Karachi (Sindh)"]

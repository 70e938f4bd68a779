"""The app around the endpoint: /health, OpenAPI, CORS, the access log, start-up errors and
a clean shutdown that leaves no worker behind."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from conftest import ENDPOINT_ROOT, QUERY_PREFIXES, ROOT, LiveServer, alive, free_port
from mqmkg.config import Settings, settings_from_env


def test_health(live_server: LiveServer) -> None:
    health = live_server.health()
    assert (health["status"], health["triples"], health["quads"], health["graphs"]) == ("ok", 57, 58, 5)
    workers = health["workers"]
    assert isinstance(workers, dict)
    assert workers["size"] == 2
    assert len(workers["pids"]) == 2


def test_openapi_documents_the_endpoint(live_server: LiveServer) -> None:
    spec = httpx.get(live_server.url + "/openapi.json").json()
    assert set(spec["paths"]["/sparql"]) == {"get", "post"}
    get = spec["paths"]["/sparql"]["get"]
    assert [p["name"] for p in get["parameters"]] == [
        "query",
        "default-graph-uri",
        "named-graph-uri",
        "format",
    ]
    post = spec["paths"]["/sparql"]["post"]
    assert set(post["requestBody"]["content"]) == {
        "application/x-www-form-urlencoded",
        "application/sparql-query",
    }
    assert "/health" in spec["paths"]
    docs = httpx.get(live_server.url + "/docs")
    assert docs.status_code == 200
    assert "swagger" in docs.text.lower()


def test_cors_is_open_for_reads_without_credentials(live_server: LiveServer) -> None:
    origin = {"Origin": "https://analyst.example"}
    response = httpx.get(live_server.sparql, params={"query": "ASK {}"}, headers=origin)
    assert response.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in response.headers
    exposed = {h.strip().lower() for h in response.headers["access-control-expose-headers"].split(",")}
    assert {"x-mqmkg-truncated", "x-mqmkg-row-limit", "x-mqmkg-rows"} <= exposed
    preflight = httpx.options(
        live_server.sparql,
        headers={
            **origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert "POST" in preflight.headers["access-control-allow-methods"]
    plain = httpx.options(live_server.sparql)
    assert (plain.status_code, plain.headers["allow"]) == (204, "GET, HEAD, OPTIONS, POST")
    error = httpx.get(live_server.sparql, params={"query": "ASK {"}, headers=origin)
    assert error.headers["access-control-allow-origin"] == "*"  # errors are readable cross-origin too


def count(server: LiveServer, pattern: str) -> int:
    return len(re.findall(pattern, server.log()))


def test_one_access_log_line_per_query(live_server: LiveServer) -> None:
    ok = r'127\.0\.0\.1 "GET /sparql" 200 rows=3 truncated=false ms=\d+\.\d'
    refused = r'"POST /sparql" 415 rows=- truncated=- ms=\d+\.\d'
    before = (count(live_server, ok), count(live_server, refused))
    query = QUERY_PREFIXES + "SELECT ?p { ?p a <http://xmlns.com/foaf/0.1/Person> }"
    assert httpx.get(live_server.sparql, params={"query": query}).headers["x-mqmkg-rows"] == "3"
    assert httpx.post(live_server.sparql, content=b"ASK {}", headers={"Content-Type": "text/plain"}).status_code == 415
    time.sleep(0.2)
    assert (count(live_server, ok), count(live_server, refused)) == (before[0] + 1, before[1] + 1)
    assert count(live_server, r"uvicorn\.access|HTTP/1\.1\" 200") == 0  # uvicorn's own access log is off


def test_binds_loopback_by_default() -> None:
    assert Settings().host == "127.0.0.1"
    assert settings_from_env({"MQMKG_HOST": "0.0.0.0", "MQMKG_PORT": "9000"}).port == 9000


def test_clean_shutdown_leaves_no_worker(live_server_factory: Callable[..., LiveServer]) -> None:
    server = live_server_factory(root=ENDPOINT_ROOT, workers=2)
    pids = server.worker_pids()
    assert all(alive(pid) for pid in pids)
    # uvicorn shuts down gracefully, then re-raises SIGTERM so the exit status says why.
    assert server.stop() in (0, -15)
    assert not any(alive(pid) for pid in pids)
    assert "Application shutdown complete" in server.log()


def test_a_broken_graph_stops_start_up_with_its_location(tmp_path: Path) -> None:
    root = tmp_path / "root"
    shutil.copytree(ENDPOINT_ROOT, root)
    (root / "graph" / "broken.ttl").write_text("@prefix kg: <https://w3id.org/mqmkg/id/> .\nkg:a kg:b .\n")
    result = subprocess.run(
        [sys.executable, "-m", "mqmkg", "serve", "--root", str(root), "--port", str(free_port())],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert result.returncode == 2
    assert re.search(r"error: .*broken\.ttl:2:\d+: ", result.stderr), result.stderr

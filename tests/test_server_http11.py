"""The HTTP/1.1 protocol the server runs: httptools (when installed) with the same read deadlines as
h11, a bound on the request head, and keep-alive connections that carry many requests."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from urllib.parse import quote

import httpx
import pytest

from conftest import ENDPOINT_ROOT, EXPLOSIVE, QUERY_PREFIXES, LiveServer
from mqmkg.server.http11 import MAX_HEAD_BYTES, TimedH11Protocol, timed_h11


def test_httptools_is_used_when_installed_with_the_same_deadlines() -> None:
    pytest.importorskip("httptools")
    protocol = timed_h11(3.0, 4.0, 5.0)
    assert protocol.__name__ == "TimedHttpToolsProtocol" and not issubclass(protocol, TimedH11Protocol)
    assert (protocol.header_timeout, protocol.body_timeout, protocol.send_timeout) == (3.0, 4.0, 5.0)


def raw(server: LiveServer, data: bytes) -> bytes:
    port = int(server.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(data)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_a_long_get_query_is_served_and_a_huge_head_refused(live_server: LiveServer) -> None:
    filler = "# " + "x" * 30_000 + "\n"  # a 30 KB comment: longer than h11's 16 KiB, shorter than the bound
    long_query = QUERY_PREFIXES + filler + "ASK { ?s ?p ?o }"
    answer = httpx.get(live_server.sparql, params={"query": long_query}, timeout=30)
    assert (answer.status_code, answer.json()["boolean"]) == (200, True)
    huge = "/sparql?query=" + quote("ASK {} #" + "x" * (MAX_HEAD_BYTES + 10))
    reply = raw(live_server, f"GET {huge} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    assert reply.startswith(b"HTTP/1.1 400 ")
    assert httpx.get(live_server.url + "/health").status_code == 200  # the server is unharmed


def test_one_connection_carries_many_requests(live_server: LiveServer) -> None:
    with httpx.Client(timeout=30) as client:
        answers = [client.get(live_server.sparql, params={"query": f"ASK {{ }} # {i}"}) for i in range(50)]
        posted = client.post(
            live_server.sparql, content=b"ASK {}", headers={"Content-Type": "application/sparql-query"}
        )
    assert {a.status_code for a in answers} == {200} and posted.json()["boolean"] is True


def test_a_request_pipelined_behind_a_response_gets_its_answer_however_long_it_waits(
    live_server_factory: Callable[..., LiveServer],
) -> None:
    """A request whose head arrived while the previous response was being sent must not be cut by
    the head deadline armed when that response completes (the httptools protocol did, closing
    the connection without an answer once the request had waited ``header_timeout`` seconds
    for a worker: the load test's oversized clients hit it)."""
    server = live_server_factory(root=ENDPOINT_ROOT, workers=1, header_timeout=1, query_timeout=3)
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=15) as busy:
        # The only worker is held by a runaway query until its 3 s deadline.
        busy.sendall(f"GET /sparql?query={quote(EXPLOSIVE)} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
        with socket.create_connection((host, int(port)), timeout=15) as pipelined:
            pipelined.sendall(
                f"GET /health HTTP/1.1\r\nHost: {host}\r\n\r\n"
                f"GET /sparql?query={quote('ASK {}')} HTTP/1.1\r\nHost: {host}\r\n"
                "Accept: application/sparql-results+json\r\n\r\n".encode()
            )
            received = b""
            while received.count(b"HTTP/1.1 ") < 2 or not received.rstrip().endswith(b"}"):
                chunk = pipelined.recv(65536)
                if not chunk:
                    break
                received += chunk
    answers = received.split(b"HTTP/1.1 ")[1:]
    assert len(answers) == 2, received
    assert answers[0].startswith(b"200") and answers[1].startswith(b"200"), received
    assert json.loads(answers[1].split(b"\r\n\r\n", 1)[1]) == {"head": {}, "boolean": True}

"""The deployment: mqmkg's own read deadlines, and ``deploy/nginx/mqmkg.conf`` in a real nginx
(Debian's, run in the foreground with its own prefix under tmp_path and stopped by PID) in
front of a real mqmkg server, all on loopback (issue 8, defect 8).

The server runs with short deadlines (head 2 s, body 3 s, an unread response 2 s) so the
slow-client tests are quick;
nginx runs the deploy file as shipped, with only its addresses and host name filled in.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import rdflib

from conftest import ENDPOINT_ROOT, ROOT, LiveServer, free_port, stop_process, wait_for, wait_until

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
SITE = ROOT / "deploy" / "nginx" / "mqmkg.conf"
SD = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")
HEAD_TIMEOUT, BODY_TIMEOUT, SEND_TIMEOUT = 2.0, 3.0, 2.0
NGINX_HEADER_TIMEOUT = 10.0  # client_header_timeout in deploy/nginx/mqmkg.conf


def site_config(app_port: int, listen_port: int) -> str:
    """The deploy file with its EDIT lines filled in for loopback; each must occur exactly once."""
    text = SITE.read_text(encoding="utf-8")
    for old, new in {
        "server 127.0.0.1:8000;": f"server 127.0.0.1:{app_port};",
        "listen 80 default_server;": f"listen 127.0.0.1:{listen_port} default_server;",
        "listen 80;": f"listen 127.0.0.1:{listen_port};",
        "server_name kg.example.org;": "server_name 127.0.0.1;",
    }.items():
        assert text.count(old) == 1, f"{SITE} no longer holds {old!r} once"
        text = text.replace(old, new)
    return text


def main_config(prefix: Path) -> str:
    """A foreground, single-process nginx whose files all live under ``prefix``."""
    return f"""daemon off;
master_process off;
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log info;
events {{ worker_connections 256; }}
http {{
    access_log {prefix}/access.log;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    default_type application/octet-stream;
    include {prefix}/site.conf;
}}
"""


def nginx_command(prefix: Path, *extra: str) -> list[str]:
    return [NGINX, "-p", f"{prefix}/", "-c", str(prefix / "nginx.conf"), "-e", str(prefix / "error.log"), *extra]


@dataclass
class Proxied:
    """nginx on ``url`` in front of the mqmkg server ``app`` (whose public URL is ``url``)."""

    url: str
    app: LiveServer
    prefix: Path

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1].rstrip("/"))


@pytest.fixture(scope="module")
def proxied(
    live_server_factory: Callable[..., LiveServer], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Proxied]:
    listen = free_port()
    public = f"http://127.0.0.1:{listen}/"
    app = live_server_factory(
        root=ENDPOINT_ROOT,
        public_url=public,
        header_timeout=HEAD_TIMEOUT,
        body_timeout=BODY_TIMEOUT,
        send_timeout=SEND_TIMEOUT,
        workers=1,
    )
    prefix = tmp_path_factory.mktemp("nginx")
    (prefix / "site.conf").write_text(site_config(int(app.url.rsplit(":", 1)[1]), listen))
    (prefix / "nginx.conf").write_text(main_config(prefix))
    process = subprocess.Popen(nginx_command(prefix), stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        wait_for(public + "health", process, 30, lambda: (prefix / "error.log").read_text())
        yield Proxied(public.rstrip("/"), app, prefix)
    finally:
        stop_process(process)


def test_the_deploy_file_is_valid_nginx(proxied: Proxied) -> None:
    result = subprocess.run(nginx_command(proxied.prefix, "-t"), capture_output=True, text=True, timeout=30)
    assert result.returncode == 0 and "syntax is ok" in result.stderr, result.stderr


def test_requests_pass_through_the_proxy(proxied: Proxied) -> None:
    ask = httpx.get(proxied.url + "/sparql", params={"query": "ASK { ?s ?p ?o }"})
    assert (ask.status_code, ask.json()["boolean"], ask.headers["x-mqmkg-rows"]) == (200, True, "1")
    form = httpx.post(proxied.url + "/sparql", data={"query": "SELECT (1 AS ?one) {}"})
    assert form.json()["results"]["bindings"] == [
        {"one": {"type": "literal", "value": "1", "datatype": "http://www.w3.org/2001/XMLSchema#integer"}}
    ]
    head = httpx.head(proxied.url + "/health")
    assert (head.status_code, head.content) == (200, b"")
    assert "server" not in head.headers or "nginx/" not in head.headers["server"]  # server_tokens off


def test_unknown_host_is_refused_by_the_proxy(proxied: Proxied) -> None:
    before = proxied.app.log().count('"GET /"')
    response = httpx.get(proxied.url + "/", headers={"Host": "evil.example"})
    assert response.status_code == 421
    assert proxied.app.log().count('"GET /"') == before  # never reached mqmkg


FORGED = {"X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "https", "Forwarded": "host=evil.example"}


def links_of(base: str, headers: dict[str, str]) -> tuple[dict[str, str], rdflib.URIRef]:
    """The landing page's JSON links, and the subject of the service description's sd:Service."""
    links = httpx.get(base + "/", headers={"Accept": "application/json", **headers}).json()["links"]
    graph = rdflib.Graph().parse(data=httpx.get(base + "/sparql", headers=headers).content, format="turtle")
    (service,) = graph.subjects(rdflib.RDF.type, SD.Service)
    return links, service  # type: ignore[return-value]


def test_links_name_the_public_url_whatever_the_request_says(proxied: Proxied) -> None:
    public = proxied.url + "/"
    through_proxy = links_of(proxied.url, FORGED)
    direct = links_of(proxied.app.url, {"Host": "evil.example:1234", **FORGED})
    for links, service in (through_proxy, direct):
        assert links["sparql"] == public + "sparql" and links["void"] == public + ".well-known/void"
        assert service == rdflib.URIRef(public + "sparql")
    void = httpx.get(proxied.url + "/.well-known/void", headers=FORGED).text
    assert "evil" not in void and f"<{public}sparql>" in void


def test_forwarded_for_is_the_address_nginx_saw(proxied: Proxied) -> None:
    probe = f"/id/probe-{uuid.uuid4().hex}"
    httpx.get(proxied.url + probe, headers={"X-Forwarded-For": "203.0.113.9", "Accept": "application/json"})
    assert wait_until(lambda: probe in proxied.app.log(), 5)
    (line,) = [line for line in proxied.app.log().splitlines() if probe in line]
    assert '127.0.0.1 "GET ' + probe + '" 404' in line and "203.0.113.9" not in line


def test_oversized_body_is_refused_by_the_proxy(proxied: Proxied) -> None:
    before = proxied.app.log().count('"POST /sparql"')
    body = b"ASK {}" + b" " * 2_000_000
    response = httpx.post(proxied.url + "/sparql", content=body, headers={"Content-Type": "application/sparql-query"})
    assert (response.status_code, response.headers["content-type"]) == (413, "application/problem+json")
    assert response.json()["error"] == "PayloadTooLarge"
    assert proxied.app.log().count('"POST /sparql"') == before


def slowloris(port: int, interval: float, limit: float) -> tuple[float, bytes]:
    """Send a request head one byte every ``interval`` s; return when and what the server closed with."""
    head = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 200
    started = time.monotonic()
    answer = b""
    with socket.create_connection(("127.0.0.1", port), timeout=limit) as sock:
        for byte in head:
            try:
                sock.sendall(bytes([byte]))
            except OSError:
                break
            sock.settimeout(interval)
            try:
                chunk = sock.recv(4096)
            except TimeoutError:
                continue
            except OSError:
                break
            answer += chunk
            if not chunk or time.monotonic() - started > limit:
                break
    return time.monotonic() - started, answer


def test_slowloris_is_cut_by_the_proxy(proxied: Proxied) -> None:
    elapsed, _ = slowloris(proxied.port, 1.0, 40)
    print(f"\nnginx cut a slowloris head after {elapsed:.1f} s (client_header_timeout {NGINX_HEADER_TIMEOUT:g} s)")
    assert NGINX_HEADER_TIMEOUT - 1 <= elapsed <= NGINX_HEADER_TIMEOUT + 10


def app_port(proxied: Proxied) -> int:
    return int(proxied.app.url.rsplit(":", 1)[1])


def test_slowloris_is_cut_by_mqmkg_itself(proxied: Proxied) -> None:
    elapsed, answer = slowloris(app_port(proxied), 0.25, 30)
    print(f"\nmqmkg cut a slowloris head after {elapsed:.2f} s (header_timeout {HEAD_TIMEOUT:g} s)")
    assert HEAD_TIMEOUT - 0.5 <= elapsed <= HEAD_TIMEOUT + 6
    assert answer.startswith(b"HTTP/1.1 408 Request Timeout\r\n")
    assert wait_until(lambda: "408 rows=- truncated=- ms=" in proxied.app.log(), 5)


def test_slow_body_is_cut_by_mqmkg_with_408(proxied: Proxied) -> None:
    head = b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Type: application/sparql-query\r\nContent-Length: 200\r\n\r\n"
    started = time.monotonic()
    answer = b""
    with socket.create_connection(("127.0.0.1", app_port(proxied)), timeout=30) as sock:
        sock.sendall(head + b"ASK {")
        while time.monotonic() - started < 30:
            try:
                sock.sendall(b" ")
            except OSError:
                break
            sock.settimeout(0.3)
            try:
                chunk = sock.recv(4096)
            except TimeoutError:
                continue
            answer += chunk
            if not chunk:
                break
    elapsed = time.monotonic() - started
    assert BODY_TIMEOUT - 0.5 <= elapsed <= BODY_TIMEOUT + 6
    assert answer.startswith(b"HTTP/1.1 408 Request Timeout\r\n")
    assert wait_until(lambda: '"POST /sparql" 408' in proxied.app.log(), 5)
    assert "Traceback" not in proxied.app.log()


def test_the_408_survives_a_client_that_keeps_sending(proxied: Proxied) -> None:
    """A client still sending when its body deadline passes reads the whole 408: the server
    stops writing, drops what keeps arriving for a while, and only then closes (closing on
    unread input answers with a TCP reset, which can destroy the 408 before it is read)."""
    head = b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Type: application/sparql-query\r\nContent-Length: 9999\r\n\r\n"
    with socket.create_connection(("127.0.0.1", app_port(proxied)), timeout=30) as sock:
        sock.sendall(head + b"ASK {")
        end = time.monotonic() + BODY_TIMEOUT + 1.0
        while time.monotonic() < end:  # never reading, a byte every 10 ms, past the deadline
            sock.sendall(b" ")
            time.sleep(0.01)
        answer = b""
        while chunk := sock.recv(4096):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 408 Request Timeout\r\n"), answer


def test_idle_connection_is_closed_quietly(proxied: Proxied) -> None:
    with socket.create_connection(("127.0.0.1", app_port(proxied)), timeout=30) as sock:
        started = time.monotonic()
        assert sock.recv(100) == b""
        assert time.monotonic() - started <= HEAD_TIMEOUT + 6


def test_others_are_served_while_slow_clients_hold_connections(proxied: Proxied) -> None:
    port = app_port(proxied)
    held = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(50)]
    try:
        for sock in held:
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")  # never finished
        assert httpx.get(proxied.app.url + "/health", timeout=10).status_code == 200
        time.sleep(HEAD_TIMEOUT + 1)
        closed = 0
        for sock in held:
            sock.settimeout(5)
            closed += sock.recv(4096).startswith(b"HTTP/1.1 408")
        assert closed == len(held)
    finally:
        for sock in held:
            sock.close()


def test_client_that_stops_reading_is_dropped(proxied: Proxied) -> None:
    """A ~9.6 MB answer to a client that reads nothing: once the kernel buffers (4 MB here) and
    the transport's are full, the server's writes pause; after ``send_timeout`` it hangs up."""
    big = "a" * 8000
    values = " ".join(str(n) for n in range(300))
    query = f'SELECT ?x {{ VALUES ?n {{ {values} }} BIND(CONCAT("{big}", "{big}", "{big}", "{big}", STR(?n)) AS ?x) }}'
    head = f"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Type: application/sparql-query\r\nContent-Length: {len(query)}"
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(("127.0.0.1", app_port(proxied)))
        sock.sendall(f"{head}\r\n\r\n{query}".encode())
        assert wait_until(lambda: "client stopped reading for 2 s" in proxied.app.log(), 60)
        sock.settimeout(10)
        received = 0
        try:
            while chunk := sock.recv(1 << 20):
                received += len(chunk)
        except ConnectionResetError:
            pass
    assert 0 < received < 300 * 32_000  # cut short, not delivered

"""uvicorn's HTTP/1.1 protocols with deadlines for reading a request's head and body.

uvicorn closes idle keep-alive connections (``timeout_keep_alive``) but sets no limit on
how long a client may take to send a request: one byte every few seconds keeps a
connection and its buffers forever (slowloris). These subclasses add two deadlines, both
counted from when the server starts waiting, not reset by each byte:

- the request head (request line and headers) must be complete within
  ``header_timeout`` seconds of the connection opening or of the previous response;
- the body must be complete within ``body_timeout`` seconds of the head.

A client that misses one gets ``408 Request Timeout`` and the connection is closed. An
idle connection that never started a request is closed quietly, as a keep-alive timeout
would. A client that stops reading a response (its socket buffers full, so the server's
writes are paused) for ``send_timeout`` seconds is disconnected, so a slow reader cannot
hold a response in memory for ever.

Two parsers carry the same deadlines (``ReadDeadlines``): httptools (llhttp, in C), used
when it is installed (it spends a fifth of the CPU time h11 does per request), and h11
(pure Python) otherwise. The size of the head is bounded with a 400 (httptools:
``MAX_HEAD_BYTES`` here; h11: ``h11_max_incomplete_event_size`` for a head still arriving);
the body by ``Settings.max_body_bytes``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from mqmkg.server.access_log import READ_TIMEOUT_KEY, access_line

log = logging.getLogger("mqmkg.access")
_TIMEOUT_BODY = b"request not received in time\n"
_TIMEOUT_HEADERS = [
    (b"content-type", b"text/plain; charset=utf-8"),
    (b"content-length", str(len(_TIMEOUT_BODY)).encode()),
    (b"connection", b"close"),
]
_TIMEOUT_RESPONSE = (
    b"HTTP/1.1 408 Request Timeout\r\n"
    + b"".join(name + b": " + value + b"\r\n" for name, value in _TIMEOUT_HEADERS)
    + b"\r\n"
    + _TIMEOUT_BODY
)
# The longest request head (request line and headers) the httptools protocol reads; longer is a
# 400. (h11 bounds only a head that arrives in pieces, at 16 KiB; long GET queries need more.)
MAX_HEAD_BYTES = 64 * 1024
# After a 408, how long the server keeps reading (and dropping) what the client still sends
# before it closes: closing on unread input sends a TCP reset, which can destroy the 408 in
# the client's buffers before it is read (nginx's lingering_close, for the same reason).
LINGER_SECONDS = 2.0


class ReadDeadlines:
    """The deadlines, for a protocol that says when it waits for a head or a body (``_set_phase``)."""

    header_timeout: float = 10.0
    body_timeout: float = 30.0
    send_timeout: float = 30.0
    # Provided by the uvicorn protocol this is mixed into.
    loop: asyncio.AbstractEventLoop
    transport: asyncio.Transport
    client: tuple[str, int] | None
    cycle: Any

    # The transport callbacks both protocols share (this class comes first in their MRO).
    def connection_lost(self, exc: Exception | None) -> None:
        self._set_phase(None)
        self._writable()
        super().connection_lost(exc)  # type: ignore[misc]

    def pause_writing(self) -> None:
        super().pause_writing()  # type: ignore[misc]
        self._start_write_deadline()

    def resume_writing(self) -> None:
        super().resume_writing()  # type: ignore[misc]
        self._writable()

    def _init_deadlines(self) -> None:
        self._phase: str | None = None
        self._deadline: asyncio.TimerHandle | None = None
        self._write_deadline: asyncio.TimerHandle | None = None
        self._started = 0.0
        self._received = False
        self._lingering = False

    def _start_write_deadline(self) -> None:
        if self._write_deadline is None:
            self._write_deadline = self.loop.call_later(self.send_timeout, self._stalled)

    def _writable(self) -> None:
        if self._write_deadline is not None:
            self._write_deadline.cancel()
            self._write_deadline = None

    def _stalled(self) -> None:
        """The client has read nothing for ``send_timeout`` seconds: drop it and its buffers."""
        self._write_deadline = None
        scope = self.cycle.scope if self.cycle is not None else {}
        host = self.client[0] if self.client else "-"
        line = access_line(host, str(scope.get("method", "-")), str(scope.get("path", "-")), "-", "-", "-", 0.0)
        log.info("%s (client stopped reading for %g s; connection dropped)", line, self.send_timeout)
        self.transport.abort()

    def _set_phase(self, phase: str | None) -> None:
        if phase == self._phase:
            return
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None
        self._phase = phase
        self._started = time.perf_counter()
        if phase == "head":
            self._received = False
            self._deadline = self.loop.call_later(self.header_timeout, self._expired, phase)
        elif phase == "body":
            self._deadline = self.loop.call_later(self.body_timeout, self._expired, phase)

    def _expired(self, phase: str) -> None:
        self._deadline = None
        self._phase = None
        if self.transport.is_closing():
            return
        if phase == "head" and not self._received:
            self.transport.close()  # an idle connection: close it as a keep-alive timeout does
            return
        if phase == "head":
            self._log_head_timeout()
            self.transport.write(_TIMEOUT_RESPONSE)
        else:
            self._answer_body_timeout()
        self._close_lingering()

    def _close_lingering(self) -> None:
        """Send our end of the stream, drop what still arrives for ``LINGER_SECONDS``, then close."""
        if not self.transport.can_write_eof():
            self.transport.close()
            return
        self._lingering = True
        self.transport.write_eof()
        self.loop.call_later(LINGER_SECONDS, self.transport.close)

    def _log_head_timeout(self) -> None:
        host = self.client[0] if self.client else "-"
        ms = (time.perf_counter() - self._started) * 1000
        log.info("%s", access_line(host, "-", "-", "408", "-", "-", ms) + " (request head too slow)")

    def _answer_body_timeout(self) -> None:
        """Send 408 if the app has not answered yet, and tell the app the client is gone."""
        cycle = self.cycle
        if cycle is None or cycle.response_started:
            return
        cycle.scope[READ_TIMEOUT_KEY] = True
        self._write_timeout_response()
        cycle.response_started = cycle.response_complete = cycle.disconnected = True
        cycle.message_event.set()

    def _write_timeout_response(self) -> None:
        self.transport.write(_TIMEOUT_RESPONSE)


class TimedH11Protocol(ReadDeadlines, H11Protocol):
    """An h11 protocol that cuts requests whose head or body arrives too slowly."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._init_deadlines()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:  # type: ignore[override]
        super().connection_made(transport)  # type: ignore[arg-type]
        self._follow_state()

    def data_received(self, data: bytes) -> None:
        if self._lingering:  # after a 408: read and dropped
            return
        self._received = True
        super().data_received(data)
        self._follow_state()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._follow_state()

    def _follow_state(self) -> None:
        """Arm the deadline that fits what the client owes us now: a head, a body, or nothing."""
        if self.transport is None or self.transport.is_closing():
            self._set_phase(None)
        elif self.conn.their_state is h11.IDLE:
            self._set_phase("head")
        elif self.conn.their_state is h11.SEND_BODY:
            self._set_phase("body")
        else:
            self._set_phase(None)

    def _write_timeout_response(self) -> None:
        for event in (
            h11.Response(status_code=408, headers=_TIMEOUT_HEADERS, reason=b"Request Timeout"),
            h11.Data(data=_TIMEOUT_BODY),
            h11.EndOfMessage(),
        ):
            self.transport.write(self.conn.send(event) or b"")


def _httptools_protocol() -> type | None:
    """Return the httptools protocol with the deadlines, or None if httptools is not installed."""
    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
    except ImportError:  # httptools is optional: h11 serves alone
        return None

    class TimedHttpToolsProtocol(ReadDeadlines, HttpToolsProtocol):  # type: ignore[misc, valid-type]
        """An httptools protocol that cuts requests whose head or body arrives too slowly."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._init_deadlines()
            self._head_bytes = 0

        def connection_made(self, transport: asyncio.BaseTransport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._set_phase("head")

        def data_received(self, data: bytes) -> None:
            if self._lingering:  # after a 408: read and dropped
                return
            self._received = True
            super().data_received(data)

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self._head_bytes = 0
            self._set_phase("head")
            self._received = True  # a request has begun: its deadline ends in a 408, not a quiet close

        def on_url(self, url: bytes) -> None:
            self._count_head(len(url))
            super().on_url(url)

        def on_header(self, name: bytes, value: bytes) -> None:
            self._count_head(len(name) + len(value) + 4)
            super().on_header(name, value)

        def _count_head(self, size: int) -> None:
            """Refuse a head longer than MAX_HEAD_BYTES (the parser's error makes uvicorn answer 400)."""
            self._head_bytes += size
            if self._head_bytes > MAX_HEAD_BYTES:
                raise ValueError(f"request head longer than {MAX_HEAD_BYTES} bytes")

        def on_headers_complete(self) -> None:
            super().on_headers_complete()
            chunked = any(name == b"transfer-encoding" for name, _ in self.headers)
            length = next((value for name, value in self.headers if name == b"content-length"), b"0")
            self._set_phase("body" if chunked or length.strip() not in (b"0", b"") else None)

        def on_message_complete(self) -> None:
            super().on_message_complete()
            self._set_phase(None)

        def on_response_complete(self) -> None:
            # A request that arrived while this response was sent (pipelined, or sent by a client
            # that read the response before the server finished draining it) starts now: its head
            # is already in, so no head deadline may be armed over it while the app answers it.
            pipelined = bool(self.pipeline)
            super().on_response_complete()
            if not pipelined and not self.transport.is_closing():
                self._set_phase("head")

    return TimedHttpToolsProtocol


def timed_h11(header_timeout: float, body_timeout: float, send_timeout: float) -> type[ReadDeadlines]:
    """Return the protocol class to pass as uvicorn's ``http=``, with these deadlines in seconds:
    httptools when it is installed, else h11."""
    base = _httptools_protocol() or TimedH11Protocol
    return type(
        base.__name__,
        (base,),
        {"header_timeout": header_timeout, "body_timeout": body_timeout, "send_timeout": send_timeout},
    )

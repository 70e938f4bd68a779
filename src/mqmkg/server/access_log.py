"""One access-log line per request: status, result rows, truncation and time.

A pure ASGI middleware: it reads the status and the ``X-MQMKG-Rows`` / ``X-MQMKG-Truncated``
headers from the response start message, so routes need not report anything. Every field
is escaped (:func:`escape_field`), so a request cannot forge or split log lines.
"""

from __future__ import annotations

import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("mqmkg.access")

# Set in the scope by the HTTP protocol (mqmkg.server.http11) when it cut a request whose
# body did not arrive in time; the app then only sees a disconnect.
READ_TIMEOUT_KEY = "mqmkg.read_timeout"


def _escape_char(char: str) -> str:
    if char in '"\\':
        return "\\" + char
    if char.isprintable():
        return char
    code = ord(char)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def escape_field(text: str) -> str:
    r"""Return ``text`` with every non-printable character written as ``\xNN``, ``\uNNNN`` or ``\UNNNNNNNN``.

    Non-printable means Python's reading of Unicode: control characters (CR, LF, NUL, DEL,
    C1), format characters (bidirectional overrides), line and paragraph separators,
    surrogates and unassigned code points. ``"`` and ``\`` are escaped too, since fields
    are quoted.
    """
    if text.isprintable() and '"' not in text and "\\" not in text:
        return text
    return "".join(_escape_char(char) for char in text)


def access_line(host: str, method: str, path: str, status: str, rows: str, truncated: str, ms: float) -> str:
    """Return one access-log line, every field escaped."""
    fields = [escape_field(value) for value in (host, method, path, status, rows, truncated)]
    return '{} "{} {}" {} rows={} truncated={} ms={:.1f}'.format(*fields, ms)


class AccessLogMiddleware:
    """Log ``client "METHOD path" status rows=… truncated=… ms=…`` for each HTTP request."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        seen: dict[str, str] = {"status": "500", "rows": "-", "truncated": "-"}

        async def record(message: Message) -> None:
            if message["type"] == "http.response.start":
                seen["status"] = str(message["status"])
                for name, value in message.get("headers", []):
                    key = name.decode("latin-1").lower()
                    if key == "x-mqmkg-rows":
                        seen["rows"] = value.decode("latin-1")
                    elif key == "x-mqmkg-truncated":
                        seen["truncated"] = value.decode("latin-1")
            await send(message)

        try:
            await self.app(scope, receive, record)
        finally:
            client = scope.get("client")
            status = "408" if scope.get(READ_TIMEOUT_KEY) else seen["status"]
            log.info(
                "%s",
                access_line(
                    client[0] if client else "-",
                    str(scope.get("method", "-")),
                    str(scope.get("path", "")),
                    status,
                    seen["rows"],
                    seen["truncated"],
                    (time.perf_counter() - started) * 1000,
                ),
            )

"""One access-log line per request: status, result rows, truncation and time.

A pure ASGI middleware: it reads the status and the ``X-MQMKG-Rows`` / ``X-MQMKG-Truncated``
headers from the response start message, so routes need not report anything.
"""

from __future__ import annotations

import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("mqmkg.access")


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
            host = client[0] if client else "-"
            path = scope.get("path", "")
            log.info(
                '%s "%s %s" %s rows=%s truncated=%s ms=%.1f',
                host,
                scope.get("method", "-"),
                path,
                seen["status"],
                seen["rows"],
                seen["truncated"],
                (time.perf_counter() - started) * 1000,
            )

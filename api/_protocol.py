"""uvicorn's HTTP/1.1 protocol (httptools) with a deadline for each request head and a
connection limit answered in problem JSON.

uvicorn bounds the idle time between two requests on a keep-alive connection
(``timeout_keep_alive``), but not the time a client takes to send a request's head: a
connection trickling its headers a byte at a time, or saying nothing at all, stayed open
forever. Here a new connection, and each request once its first byte arrived, has
``head_timeout`` seconds to complete the request line and headers; past that, the connection
gets 408 ``request-timeout`` (if it had begun a request) and is closed.

Beyond ``connection_limit`` open connections or requests in progress in this worker, a
request gets 503 ``server-busy`` and its connection is closed (uvicorn's
``limit_concurrency``, with problem JSON instead of plain text).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from .problems import MEDIA_TYPE, PROBLEM_TYPE_PREFIX, PROBLEMS

__all__ = ["GuardedHttpProtocol"]

log = logging.getLogger("xietong.api")

_BUSY_WARNING_SECONDS = 10.0  # at most one log line per this time while refusing


def _problem_json(kind: str, detail: str) -> bytes:
    status, title = PROBLEMS[kind]
    body = {
        "type": PROBLEM_TYPE_PREFIX + kind,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": None,
    }
    return json.dumps(body).encode()


def _closing_headers(body: bytes) -> list[tuple[bytes, bytes]]:
    """Headers of a problem answer after which the connection closes."""
    return [
        (b"content-type", MEDIA_TYPE.encode()),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"),
        (b"x-content-type-options", b"nosniff"),
        (b"connection", b"close"),
    ]


class _Busy:
    """The ASGI app answering a request over the connection limit."""

    last_warning = 0.0

    def __init__(self, limit: int) -> None:
        self.body = _problem_json(
            "server-busy", f"this gateway worker serves at most {limit} connections at once."
        )
        self.limit = limit

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        now = time.monotonic()
        if now - _Busy.last_warning > _BUSY_WARNING_SECONDS:
            _Busy.last_warning = now
            log.warning("refusing requests: %d connections or requests open", self.limit)
        await send(
            {
                "type": "http.response.start",
                "status": 503,
                "headers": [*_closing_headers(self.body), (b"retry-after", b"1")],
            }
        )
        await send({"type": "http.response.body", "body": self.body, "more_body": False})


class GuardedHttpProtocol(HttpToolsProtocol):
    """:class:`HttpToolsProtocol` with a request head deadline and a connection limit."""

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        head_timeout, connection_limit = self.limits()
        self.head_timeout = head_timeout
        self.connection_limit = connection_limit
        self.limit_concurrency = None  # checked here, to answer with problem JSON
        self.gateway_app = self.app
        self.busy_app = _Busy(connection_limit) if connection_limit is not None else None
        self.head_timer: asyncio.TimerHandle | None = None
        self.head_begun = False

    def limits(self) -> tuple[float, int | None]:
        """(seconds a request head may take, connections or requests in progress beyond
        which requests get 503, None for no limit): what a subclass configures."""
        raise NotImplementedError

    # A silent new connection is on the clock too.
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_head_timer()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.head_begun = True
        self._arm_head_timer()

    def on_headers_complete(self) -> None:
        self._disarm_head_timer()
        self.head_begun = False
        limit = self.connection_limit
        over = limit is not None and (len(self.connections) >= limit or len(self.tasks) >= limit)
        self.app = self.busy_app if over and self.busy_app is not None else self.gateway_app
        super().on_headers_complete()

    def _arm_head_timer(self) -> None:
        if self.head_timer is None:
            self.head_timer = self.loop.call_later(self.head_timeout, self._head_timed_out)

    def _disarm_head_timer(self) -> None:
        if self.head_timer is not None:
            self.head_timer.cancel()
            self.head_timer = None

    def _head_timed_out(self) -> None:
        self.head_timer = None
        if self.transport.is_closing():
            return
        # (No answer in the middle of another one's: a pipelined request's head may time out
        # while the previous answer is still being written.)
        if self.head_begun and (self.cycle is None or self.cycle.response_complete):
            body = _problem_json(
                "request-timeout",
                f"the request head did not arrive within {self.head_timeout:g} s.",
            )
            head = b"".join(
                name + b": " + value + b"\r\n" for name, value in _closing_headers(body)
            )
            self.transport.write(b"HTTP/1.1 408 Request Timeout\r\n" + head + b"\r\n" + body)
        self.transport.close()

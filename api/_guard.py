"""Request bodies bounded, paced and authorized before they are read.

FastAPI reads and parses a route's body before it runs the route's dependencies, the API key
check among them: without this guard an anonymous client could make the gateway hold a huge
JSON body in memory before hearing 401. For a request with a body, :class:`RequestGuard`

- refuses a body declared larger than its route allows (``Content-Length``) without reading
  it, and stops reading one that streams past the limit (chunked): 413 ``body-too-large``;
  every route but the file upload gets ``XIETONG_API_MAX_BODY``, the upload keeps its own
  streaming limit (``XIETONG_API_MAX_UPLOAD``, enforced by the route);
- checks the key of a route that needs one (the scope its :func:`api.deps.require`
  dependencies ask for) before reading any of the body, and leaves the callers it admitted
  where those dependencies find them (:data:`api.deps.AUTHORIZED_CALLERS`);
- gives the body ``XIETONG_API_BODY_TIMEOUT`` seconds per piece, and, but for the upload, as
  much for the whole body: 408 ``request-timeout`` after that.

An answer given before the whole body arrived closes the connection, so that the rest of the
body is not read. Requests without a body pass straight through.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from fastapi.dependencies.models import Dependant
from fastapi.routing import RouteContext, iter_route_contexts
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ledger.apikeys import SCOPES
from ledger.apikeys import Scope as KeyScope

from . import problems
from .deps import AUTHORIZED_CALLERS, Caller, authorize, required_scope
from .state import ApiState

__all__ = ["RequestGuard"]

_DISCONNECT: Message = {"type": "http.disconnect"}


@dataclass(frozen=True)
class _Rule:
    """What a route allows a request body."""

    #: Key scopes the route's dependencies require (none: public, or no /v1 route).
    scopes: tuple[KeyScope, ...]
    #: Largest body; None where the route streams its body under its own limit (the upload).
    limit: int | None
    #: Whether the whole body must arrive within the body timeout (not only each piece).
    whole_body_deadline: bool


class RequestGuard:
    """The ASGI middleware of this module (a plain one, like ``api.app._Observe``)."""

    def __init__(self, app: ASGIApp, *, state: ApiState) -> None:
        self.app = app
        self.state = state
        settings = state.settings
        self.default_rule = _Rule(scopes=(), limit=settings.api_max_body, whole_body_deadline=True)
        self.body_timeout = settings.api_body_timeout
        self._routes: list[tuple[RouteContext, _Rule]] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared, chunked = _framing(scope)
        if not declared and not chunked:
            await self.app(scope, receive, send)
            return
        rule = self._rule(scope)
        exchange = _Exchange(scope, receive, send, rule, self.body_timeout)
        if rule.limit is not None and declared is not None and declared > rule.limit:
            detail = (
                f"the request body ({declared} bytes) exceeds this route's {rule.limit}-byte limit."
            )
            await exchange.answer(_problem(scope, "body-too-large", detail))
            return
        if rule.scopes:
            try:
                scope[AUTHORIZED_CALLERS] = await self._authorize(scope, rule.scopes)
            except Exception as exc:  # answered as the route's own dependency would be
                await exchange.answer(await _handled(scope, exc))
                return
        await exchange.run(self.app)

    async def _authorize(
        self, scope: Scope, needed: tuple[KeyScope, ...]
    ) -> dict[KeyScope, Caller]:
        request = Request(scope)
        return {one: await run_in_threadpool(authorize, request, self.state, one) for one in needed}

    def _rule(self, scope: Scope) -> _Rule:
        """The rule of the route that will answer ``scope`` (the default where none does)."""
        if self._routes is None:  # the app's routes are all there by its first request
            max_body = self.default_rule.limit
            assert max_body is not None
            self._routes = [
                (context, _rule_of(context, max_body))
                for context in iter_route_contexts(scope["app"].routes)
            ]
        for context, rule in self._routes:
            match, _ = context.matches(scope)
            if match is Match.FULL:
                return rule
        return self.default_rule


class _Exchange:
    """One request with a body on its way through the guard."""

    def __init__(self, scope: Scope, receive: Receive, send: Send, rule: _Rule, timeout: float):
        self.scope = scope
        self._receive = receive
        self._send = send
        self.rule = rule
        self.timeout = timeout
        self.deadline: float | None = None
        self.received = 0
        self.body_complete = False
        self.response_started = False
        self.answered = False  # by the guard: whatever the app sends after is dropped

    async def run(self, app: ASGIApp) -> None:
        """Call ``app`` with the paced, bounded body; its answer unless the guard gave one."""
        try:
            await app(self.scope, self.receive, self.send)
        except ClientDisconnect:
            # A route reading the stream itself met the end the guard put to the body: the
            # guard's answer stands.
            if not self.answered:
                raise

    async def receive(self) -> Message:
        if self.answered:
            return _DISCONNECT
        if self.body_complete:  # the app waits for a disconnect: no body timeout applies
            return await self._receive()
        try:
            async with asyncio.timeout(self._wait()):
                message = await self._receive()
        except TimeoutError:
            pace = "a piece of it" if self.deadline is None else "all of it"
            await self.answer(
                _problem(
                    self.scope,
                    "request-timeout",
                    f"the request body stalled: {pace} did not arrive within {self.timeout:g} s.",
                )
            )
            return _DISCONNECT
        if message["type"] != "http.request":
            self.body_complete = True
            return message
        self.received += len(message.get("body", b""))
        self.body_complete = not message.get("more_body", False)
        if self.rule.limit is not None and self.received > self.rule.limit:
            detail = f"the request body exceeds this route's {self.rule.limit}-byte limit."
            await self.answer(_problem(self.scope, "body-too-large", detail))
            return _DISCONNECT
        return message

    def _wait(self) -> float:
        """Seconds the next piece of the body may take."""
        if not self.rule.whole_body_deadline:
            return self.timeout
        now = asyncio.get_running_loop().time()
        if self.deadline is None:
            self.deadline = now + self.timeout
        return max(0.0, min(self.timeout, self.deadline - now))

    async def send(self, message: Message) -> None:
        if not self.answered:
            await self._forward(message)

    async def _forward(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.response_started = True
            if not self.body_complete:  # answered early: do not read the rest of the body
                MutableHeaders(scope=message)["connection"] = "close"
        await self._send(message)

    async def answer(self, response: Response) -> None:
        """Answer in the app's place (unless its answer has begun) and end the exchange."""
        if not self.response_started:
            await response(self.scope, self._receive, self._forward)
        self.answered = True


def _framing(scope: Scope) -> tuple[int | None, bool]:
    """The declared Content-Length (None when absent or unreadable), and whether the body
    comes chunked."""
    declared: int | None = None
    chunked = False
    for name, value in scope["headers"]:
        if name == b"content-length":
            declared = int(value) if value.isdigit() else None
        elif name == b"transfer-encoding":
            chunked = True
    return declared, chunked


def _rule_of(context: RouteContext, max_body: int) -> _Rule:
    dependant: Dependant | None = getattr(context, "dependant", None)
    needed = {required_scope(sub.call) for sub in _dependencies(dependant)} - {None}
    scopes = tuple(one for one in SCOPES if one in needed)
    if getattr(context, "body_field", None) is None and _streams_binary(context):
        return _Rule(scopes=scopes, limit=None, whole_body_deadline=False)
    return _Rule(scopes=scopes, limit=max_body, whole_body_deadline=True)


def _dependencies(dependant: Dependant | None) -> Iterator[Dependant]:
    if dependant is None:
        return
    for sub in dependant.dependencies:
        yield sub
        yield from _dependencies(sub)


def _streams_binary(context: RouteContext) -> bool:
    """Whether the route documents a binary body it reads as a stream (the file upload)."""
    extra: dict[str, Any] = getattr(context, "openapi_extra", None) or {}
    content = extra.get("requestBody", {}).get("content", {})
    return "application/octet-stream" in content


def _problem(scope: Scope, kind: str, detail: str) -> Response:
    return problems.problem_response(kind, detail, instance=Request(scope).url.path)


async def _handled(scope: Scope, exc: Exception) -> Response:
    """The app's answer to ``exc`` (its exception handlers), as if a route had raised it."""
    handlers = scope["app"].exception_handlers
    for kind in type(exc).__mro__:
        handler = handlers.get(kind)
        if handler is not None:
            response = handler(Request(scope), exc)
            if inspect.isawaitable(response):
                response = await response
            assert isinstance(response, Response)
            return response
    raise exc

"""Request dependencies: the process state, a database session, the caller's API key."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlmodel import Session

from ledger.apikeys import (
    ApiKeyError,
    InsufficientScopeError,
    Scope,
    authenticate,
    scope_allows,
)

from .state import ApiState

__all__ = [
    "API_KEY_COOKIE",
    "API_KEY_HEADER",
    "Caller",
    "SessionDep",
    "StateDep",
    "authorize",
    "get_session",
    "get_state",
    "require",
]

API_KEY_HEADER = "X-API-Key"
#: The portal keeps a signed-in key in this cookie (HttpOnly, SameSite=Strict).
API_KEY_COOKIE = "xietong_key"
_KEY_CACHE_SECONDS = 5.0  # a revoked key stops working within this time


async def get_state(request: Request) -> ApiState:
    # async: FastAPI runs a plain function dependency in its thread pool, a hop that costs
    # more than the work on a small machine.
    state: ApiState = request.app.state.xietong
    return state


StateDep = Annotated[ApiState, Depends(get_state)]


def get_session(state: StateDep) -> Iterator[Session]:
    session = Session(state.gateway.engine)
    try:
        yield session
    finally:
        try:
            session.close()
        except (OperationalError, InterfaceError):
            # The database dropped the connection after the answer was made (a restart): the
            # answer stands (it may be on its way already: raising now would log an internal
            # error), and the connection is discarded rather than returned to the pool.
            with contextlib.suppress(Exception):
                session.invalidate()


SessionDep = Annotated[Session, Depends(get_session)]


@dataclass(frozen=True)
class Caller:
    """Who sent the request: an API key (id, scope), or anonymous on open read routes."""

    key_id: str | None
    scope: str | None


class _KeyCache:
    def __init__(self) -> None:
        self._entries: dict[str, tuple[float, Caller]] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> Caller | None:
        with self._lock:
            entry = self._entries.get(key)
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1]

    def put(self, key: str, caller: Caller) -> None:
        with self._lock:
            if len(self._entries) > 10_000:
                self._entries.clear()
            self._entries[key] = (time.monotonic() + _KEY_CACHE_SECONDS, caller)


_cache = _KeyCache()


def _presented_key(request: Request, *, allow_cookie: bool) -> str | None:
    key = request.headers.get(API_KEY_HEADER)
    if key is None:
        auth = request.headers.get("Authorization", "")
        if auth[:7].lower() == "bearer ":
            key = auth[7:]
    if key is None and allow_cookie:  # never for writes: a cookie would invite CSRF
        key = request.cookies.get(API_KEY_COOKIE)
    return key.strip() if key else None


def require(scope: Scope) -> Callable[..., Awaitable[Caller]]:
    """A dependency admitting callers whose key covers ``scope`` (reads may be open)."""

    async def dependency(request: Request, state: StateDep) -> Caller:
        key = _presented_key(request, allow_cookie=scope == "read")
        if key is None or _cache.get(f"{id(state)}:{key}") is not None:
            return authorize(request, state, scope)  # answered from memory: no thread needed
        return await run_in_threadpool(authorize, request, state, scope)  # reads the key's row

    return dependency


def authorize(request: Request, state: ApiState, scope: Scope) -> Caller:
    """The caller of ``request`` if its key (header, bearer token or the portal's cookie)
    covers ``scope``; ApiKeyError, InsufficientScopeError or RateLimitedError otherwise."""
    key = _presented_key(request, allow_cookie=scope == "read")
    if key is None:
        if scope == "read" and state.settings.api_open_reads:
            caller = Caller(key_id=None, scope=None)
            state.limiter.check("anon:" + (request.client.host if request.client else "?"))
            return caller
        raise ApiKeyError(
            f"this route needs an API key with scope {scope!r} in the {API_KEY_HEADER} header."
        )
    cache_key = f"{id(state)}:{key}"
    caller_or_none = _cache.get(cache_key)
    if caller_or_none is None:
        with Session(state.gateway.engine) as session:
            row = authenticate(session=session, key=key)
        caller_or_none = Caller(key_id=row.id, scope=row.scope)
        _cache.put(cache_key, caller_or_none)
    caller = caller_or_none
    if not scope_allows(caller.scope or "", scope):
        raise InsufficientScopeError(
            f"this route needs scope {scope!r}; the key has scope {caller.scope!r}."
        )
    state.limiter.check("key:" + (caller.key_id or ""))
    return caller

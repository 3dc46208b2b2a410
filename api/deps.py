"""Request dependencies: the process state, a database session, the caller's API key.

A caller presents a key in ``X-API-Key`` or as a bearer token; on read routes the portal's
session cookie (:data:`SESSION_COOKIE`, see :mod:`ledger.portal_sessions`) counts too. Every
failed authentication (no key where one is needed, a wrong, revoked or malformed key, an
ended session) is counted against the client's address (:func:`api._client.client_address`)
and logged at WARNING without the key; an address past ``XIETONG_API_AUTH_FAILURES_*`` gets
429 ``rate-limited`` with ``Retry-After`` for every authentication, a correct key included,
until its budget has come back (otherwise a guesser would simply go on guessing).
"""

from __future__ import annotations

import contextlib
import logging
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
from ledger.portal_sessions import resolve_session
from ledger.watch import Watchers

from ._client import came_over_tls, client_address
from .ratelimit import RateLimitedError
from .state import ApiState

__all__ = [
    "API_KEY_HEADER",
    "AUTHORIZED_CALLERS",
    "SECURE_SESSION_COOKIE",
    "SESSION_COOKIE",
    "Caller",
    "SessionDep",
    "StateDep",
    "WatchersDep",
    "admit_authentication",
    "authorize",
    "count_failed_authentication",
    "get_session",
    "get_state",
    "presented_session",
    "public_rate_limited",
    "require",
    "require_watch",
    "required_scope",
    "session_cookie_name",
    "visible_watchers",
]

API_KEY_HEADER = "X-API-Key"
#: The portal's session id (HttpOnly, SameSite=Strict; Secure over TLS): read routes only.
SESSION_COOKIE = "xietong_session"
#: Its name over TLS: browsers keep a ``__Host-`` cookie only when it is Secure, has Path=/ and
#: no Domain, so no plain-HTTP page or sibling domain can set or shadow it (ASVS V3.4.4).
SECURE_SESSION_COOKIE = "__Host-" + SESSION_COOKIE
log = logging.getLogger("xietong.api")
_KEY_CACHE_SECONDS = 5.0  # a revoked key stops working within this time


async def get_state(request: Request) -> ApiState:
    # async: FastAPI runs a plain function dependency in its thread pool, a hop that costs
    # more than the work on a small machine.
    state: ApiState = request.app.state.xietong
    return state


StateDep = Annotated[ApiState, Depends(get_state)]


async def public_rate_limited(request: Request, state: StateDep) -> None:
    """For public routes (no key: the trust file, the checkpoints): rate-limited per client
    address like anonymous reads."""
    state.limiter.check("anon:" + client_address(request, state.settings.trusted_proxies))


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
    #: Whether the key came through a portal session (the cookie) rather than a header.
    via_session: bool = False


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


def _presented_key(request: Request) -> str | None:
    key = request.headers.get(API_KEY_HEADER)
    if key is None:
        auth = request.headers.get("Authorization", "")
        if auth[:7].lower() == "bearer ":
            key = auth[7:]
    return key.strip() if key else None


def session_cookie_name(request: Request, trusted_proxies: str) -> str:
    """The session cookie's name for ``request``: :data:`SECURE_SESSION_COOKIE` when it came
    over TLS (see :func:`api._client.came_over_tls`), :data:`SESSION_COOKIE` otherwise. Over
    TLS only the ``__Host-`` cookie counts."""
    return SECURE_SESSION_COOKIE if came_over_tls(request, trusted_proxies) else SESSION_COOKIE


def presented_session(request: Request, state: ApiState) -> str | None:
    """The portal session id ``request`` carries in its cookie, if any."""
    name = session_cookie_name(request, state.settings.trusted_proxies)
    session_id = request.cookies.get(name, "").strip()
    return session_id or None


def _presented_session(request: Request, state: ApiState, scope: Scope) -> str | None:
    """The portal's session id, on read routes only (on writes a cookie would invite CSRF)."""
    return presented_session(request, state) if scope == "read" else None


#: Where api._guard leaves the callers it authorized before reading a request body
#: (scope → Caller), so that the route's own dependency does not authorize them again.
AUTHORIZED_CALLERS = "xietong.authorized"
_REQUIRED_SCOPES: dict[object, Scope] = {}


def required_scope(dependency: object) -> Scope | None:
    """The scope ``dependency`` admits if :func:`require` made it, else None."""
    return _REQUIRED_SCOPES.get(dependency)


def require(scope: Scope) -> Callable[..., Awaitable[Caller]]:
    """A dependency admitting callers whose key covers ``scope`` (reads may be open)."""

    async def dependency(request: Request, state: StateDep) -> Caller:
        early: Caller | None = request.scope.get(AUTHORIZED_CALLERS, {}).get(scope)
        if early is not None:
            return early
        key = _presented_key(request)
        if (key is None and _presented_session(request, state, scope) is None) or (
            key is not None and _cache.get(f"{id(state)}:{key}") is not None
        ):
            return authorize(request, state, scope)  # answered from memory: no thread needed
        return await run_in_threadpool(authorize, request, state, scope)  # reads a row

    _REQUIRED_SCOPES[dependency] = scope
    return dependency


def authorize(
    request: Request, state: ApiState, scope: Scope, *, count_missing: bool = True
) -> Caller:
    """The caller of ``request`` if its key (header, bearer token or, for reads, the portal's
    session) covers ``scope``; ApiKeyError, InsufficientScopeError or RateLimitedError
    otherwise (see the module's docstring for failed authentications).

    ``count_missing=False``: presenting nothing is not a failed authentication (a portal page
    visited before signing in, which the sign-in page answers); a wrong key or session is."""
    address = client_address(request, state.settings.trusted_proxies)
    key = _presented_key(request)
    session_id = _presented_session(request, state, scope) if key is None else None
    if key is None and session_id is None:
        if scope == "read" and state.settings.api_open_reads:
            state.limiter.check("anon:" + address)
            return Caller(key_id=None, scope=None)
        missing = ApiKeyError(
            f"this route needs an API key with scope {scope!r} in the {API_KEY_HEADER} header."
        )
        raise _failed(request, state, address, missing) if count_missing else missing
    _admit(request, state, address)
    try:
        if key is not None:
            caller = _key_caller(state, key)
        else:
            assert session_id is not None
            caller = _session_caller(state, session_id)
    except ApiKeyError as exc:
        raise _failed(request, state, address, exc) from None
    if not scope_allows(caller.scope or "", scope):
        raise InsufficientScopeError(
            f"this route needs scope {scope!r}; the key has scope {caller.scope!r}."
        )
    state.limiter.check("key:" + (caller.key_id or ""))
    return caller


def _key_caller(state: ApiState, key: str) -> Caller:
    cache_key = f"{id(state)}:{key}"
    caller = _cache.get(cache_key)
    if caller is None:
        with Session(state.gateway.engine) as session:
            row = authenticate(session=session, key=key)
        caller = Caller(key_id=row.id, scope=row.scope)
        _cache.put(cache_key, caller)
    return caller


def _session_caller(state: ApiState, session_id: str) -> Caller:
    """The caller behind a portal session (read from the database on every request: a
    signed-out session or a revoked key stops at once)."""
    settings = state.settings
    with Session(state.gateway.engine) as session:
        row = resolve_session(
            session=session,
            session_id=session_id,
            now=int(time.time()),
            idle=settings.portal_session_idle_seconds,
            absolute=settings.portal_session_max_seconds,
        )
    return Caller(key_id=row.id, scope=row.scope, via_session=True)


#: The watcher routes' one authorization: their router and :func:`visible_watchers` share it,
#: so that FastAPI authorizes a request once.
require_watch = require("watch")


def visible_watchers(
    state: StateDep, caller: Annotated[Caller, Depends(require_watch)]
) -> Watchers:
    """The watchers the caller may see and change: a ``watch`` key's own (those it added),
    all of the department's for an admin key (ledger.watch.Watchers.limited_to)."""
    watchers = state.watchers
    if caller.scope == "watch" and caller.key_id is not None:
        return watchers.limited_to(caller.key_id)
    return watchers


WatchersDep = Annotated[Watchers, Depends(visible_watchers)]


def _route(request: Request) -> str:
    return f"{request.method} {request.url.path}"


def _admit(request: Request, state: ApiState, address: str) -> None:
    """RateLimitedError (logged) if ``address`` has used up its failed authentications."""
    try:
        state.auth_failures.check(address)
    except RateLimitedError as exc:
        log.warning(
            "authentication refused: too many failures from %s on %s (retry in %.0f s)",
            address,
            _route(request),
            exc.retry_after,
        )
        raise


def _failed(request: Request, state: ApiState, address: str, error: ApiKeyError) -> Exception:
    """Count and log a failed authentication; the error to raise (429 past the budget)."""
    try:
        _admit(request, state, address)  # already past it: refused, not counted again
    except RateLimitedError as exc:
        return exc
    state.auth_failures.failed(address)
    log.warning("authentication failed from %s on %s: %s", address, _route(request), error)
    return error


def count_failed_authentication(request: Request, state: ApiState, error: ApiKeyError) -> None:
    """Count a failed authentication that did not go through :func:`authorize` (the portal's
    sign-in form); raises RateLimitedError past the budget."""
    address = client_address(request, state.settings.trusted_proxies)
    failure = _failed(request, state, address, error)
    if isinstance(failure, RateLimitedError):
        raise failure


def admit_authentication(request: Request, state: ApiState) -> None:
    """RateLimitedError if the request's address has used up its failed authentications."""
    _admit(request, state, client_address(request, state.settings.trusted_proxies))

"""Sessions of the auditor portal: an opaque random id in the browser, its hash in the database.

Signing in with a read key opens a session: 256 random bits (``secrets.token_urlsafe``) go
into the portal's cookie; only their SHA-256 is stored, with the id of the key that opened
it, so a copy of the database opens no session and the key itself never reaches the browser
again. A session ends when it has been idle for ``idle`` seconds, ``absolute`` seconds after
it was opened, when its holder signs out, and when its key is revoked (checked on each use:
:func:`resolve_session` reads the key's row). The session's CSRF token is derived from its
id (:func:`csrf_token`): the form that signs out must carry it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from sqlmodel import Session, col, delete

from .apikeys import ApiKeyError
from .db.tables import ApiKey, PortalSession

__all__ = [
    "SessionExpiredError",
    "csrf_token",
    "csrf_token_matches",
    "end_session",
    "end_sessions_of_key",
    "open_session",
    "resolve_session",
]

#: last_seen is written again only when it is at least this old (not on every page).
_TOUCH_SECONDS = 15


class SessionExpiredError(ApiKeyError):
    """The portal session is unknown, has ended or expired, or its key was revoked."""


def _digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def csrf_token(session_id: str) -> str:
    """The CSRF token of the session ``session_id`` (not derivable from the stored hash)."""
    return hashlib.sha256(b"xietong-csrf:" + session_id.encode()).hexdigest()


def csrf_token_matches(session_id: str, token: str) -> bool:
    """Whether ``token`` is the CSRF token of ``session_id`` (constant time)."""
    return hmac.compare_digest(csrf_token(session_id).encode(), token.encode())


def open_session(*, session: Session, key_id: str, now: int, absolute: int) -> str:
    """Open a session for the key ``key_id``; returns its id (shown once: to the cookie).
    Sessions that have passed ``absolute`` seconds are forgotten on the way."""
    session.exec(delete(PortalSession).where(col(PortalSession.created_at) <= now - absolute))
    session_id = secrets.token_urlsafe(32)
    session.add(
        PortalSession(id_hash=_digest(session_id), key_id=key_id, created_at=now, last_seen=now)
    )
    session.commit()
    return session_id


def resolve_session(
    *, session: Session, session_id: str, now: int, idle: int, absolute: int
) -> ApiKey:
    """The key behind the live session ``session_id`` (its last use set to ``now``);
    SessionExpiredError if there is none, it expired (and is then ended) or its key was
    revoked."""
    row = session.get(PortalSession, _digest(session_id))
    if row is None:
        raise SessionExpiredError("the portal session is not known here; sign in again.")
    key = session.get(ApiKey, row.key_id)
    if (
        now - row.last_seen >= idle
        or now - row.created_at >= absolute
        or key is None
        or key.revoked_at is not None
    ):
        session.delete(row)
        session.commit()
        raise SessionExpiredError("the portal session has ended; sign in again.")
    if now - row.last_seen >= _TOUCH_SECONDS:
        row.last_seen = now
        session.add(row)
        session.expunge(key)  # kept as loaded (the commit would expire it): the caller reads it
        session.commit()
    return key


def end_session(*, session: Session, session_id: str) -> None:
    """End the session ``session_id`` (nothing happens when it is not there)."""
    session.exec(delete(PortalSession).where(col(PortalSession.id_hash) == _digest(session_id)))
    session.commit()


def end_sessions_of_key(*, session: Session, key_id: str) -> int:
    """End every session opened with the key ``key_id``, in the caller's transaction (the
    key's revocation: see ``ledger.apikeys.revoke_api_key``); returns how many there were."""
    result = session.exec(delete(PortalSession).where(col(PortalSession.key_id) == key_id))
    return int(result.rowcount)

"""API keys of the gateway's HTTP API: created by ``xietong apikey create``, stored hashed.

A key reads ``xt_<id>_<secret>``: the id finds the row, the SHA-256 of the whole key is
compared in constant time. The secret has 256 bits of entropy, so a plain SHA-256 (no slow
password hash) is enough; the key itself is shown once and never stored or logged.

Scopes: ``read``; ``anchor`` (submit hashes) and ``watch`` (the department's watchers and
their webhooks), each covering ``read`` and neither the other; ``admin`` (agreements,
commitments and the rest on behalf of the department) covers them all. A webhook integration
thus needs no key that could sign for the department (:data:`COVERS`).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from typing import Literal

from sqlmodel import Session, col, select

from .db.tables import ApiKey
from .errors import InputError, LedgerError

__all__ = [
    "COVERS",
    "SCOPES",
    "ApiKeyError",
    "InsufficientScopeError",
    "Scope",
    "authenticate",
    "create_api_key",
    "list_api_keys",
    "revoke_api_key",
    "scope_allows",
]

Scope = Literal["read", "anchor", "watch", "admin"]
SCOPES: tuple[Scope, ...] = ("read", "anchor", "watch", "admin")
#: The scopes a key of each scope covers.
COVERS: dict[str, frozenset[Scope]] = {
    "read": frozenset({"read"}),
    "anchor": frozenset({"read", "anchor"}),
    "watch": frozenset({"read", "watch"}),
    "admin": frozenset(SCOPES),
}
_KEY = re.compile(r"^xt_([0-9a-f]{12})_([0-9A-Za-z_-]{43})$")


class ApiKeyError(LedgerError):
    """The API key is missing, malformed, unknown or revoked."""

    kind = "unauthorized"


class InsufficientScopeError(LedgerError):
    """The API key is valid but its scope does not cover the operation."""

    kind = "forbidden"


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def scope_allows(granted: str, needed: Scope) -> bool:
    """Whether a key of scope ``granted`` may do what needs ``needed``."""
    return needed in COVERS.get(granted, frozenset())


def create_api_key(*, session: Session, name: str, scope: str) -> tuple[ApiKey, str]:
    """Create a key; returns the stored row and the key (shown once, stored only hashed)."""
    if scope not in SCOPES:
        raise InputError(f"the scope must be one of {', '.join(SCOPES)}, not {scope!r}.")
    name = name.strip()
    if not name or len(name) > 200:
        raise InputError("a key needs a name of 1 to 200 characters (who or what uses it).")
    key_id = secrets.token_hex(6)
    key = f"xt_{key_id}_{secrets.token_urlsafe(32)}"
    row = ApiKey(
        id=key_id, name=name, scope=scope, key_hash=_digest(key), created_at=int(time.time())
    )
    session.add(row)
    session.commit()
    session.refresh(row)
    return row, key


def authenticate(*, session: Session, key: str) -> ApiKey:
    """The active key row for ``key``; ApiKeyError otherwise (never echoing the key)."""
    match = _KEY.match(key.strip())
    if match is None:
        raise ApiKeyError("the API key is malformed.")
    row = session.get(ApiKey, match.group(1))
    if row is None or not hmac.compare_digest(row.key_hash, _digest(key.strip())):
        raise ApiKeyError("the API key is not known here.")
    if row.revoked_at is not None:
        raise ApiKeyError("the API key was revoked.")
    return row


def list_api_keys(*, session: Session) -> list[ApiKey]:
    """Every key (hashes included; callers show only id, name, scope and dates)."""
    return list(session.exec(select(ApiKey).order_by(col(ApiKey.created_at))).all())


def revoke_api_key(*, session: Session, key_id: str) -> ApiKey:
    """Revoke the key ``key_id`` (idempotent), ending the portal sessions it opened."""
    row = session.get(ApiKey, key_id)
    if row is None:
        raise InputError(f"no API key has the id {key_id!r}.")
    if row.revoked_at is None:
        row.revoked_at = int(time.time())
        session.add(row)
    from .portal_sessions import end_sessions_of_key  # it imports this module's errors

    end_sessions_of_key(session=session, key_id=key_id)
    session.commit()
    session.refresh(row)
    return row

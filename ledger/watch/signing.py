"""Standard Webhooks signatures (https://www.standardwebhooks.com, v1): pure, no I/O.

A message is sent with three headers: ``webhook-id`` (the message's id, the same on every
retry, for the receiver to drop duplicates), ``webhook-timestamp`` (unix seconds of this
attempt) and ``webhook-signature``: ``v1,`` and the base64 HMAC-SHA256, under the watcher's
secret, of ``{id}.{timestamp}.{body}``. While a secret is being rotated the header carries one
signature per secret, separated by a space, and the receiver accepts any.

A secret is ``whsec_`` and the base64 of 32 random bytes; the bytes are the HMAC key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from collections.abc import Iterable

from ..errors import InputError

__all__ = [
    "SECRET_PREFIX",
    "new_secret",
    "secret_key",
    "signature_header",
    "signatures",
]

SECRET_PREFIX = "whsec_"  # noqa: S105 (the prefix Standard Webhooks gives secrets)
_SECRET_BYTES = 32


def new_secret() -> str:
    """A fresh signing secret: ``whsec_`` and 32 random bytes in base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(_SECRET_BYTES)).decode()


def secret_key(secret: str) -> bytes:
    """The HMAC key a secret names; InputError when it is no ``whsec_`` secret of 24 to 64
    bytes (the range Standard Webhooks allows)."""
    if not secret.startswith(SECRET_PREFIX):
        raise InputError("a webhook secret starts with whsec_.")
    try:
        key = base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        raise InputError("a webhook secret is whsec_ and base64.") from None
    if not 24 <= len(key) <= 64:
        raise InputError("a webhook secret holds 24 to 64 bytes.")
    return key


def signatures(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """One ``v1,<base64>`` signature of ``body`` sent as ``message_id`` at ``timestamp``."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signature_header(
    secrets_in_use: Iterable[str], message_id: str, timestamp: int, body: bytes
) -> str:
    """The ``webhook-signature`` header: one signature per secret in use, space-separated."""
    return " ".join(signatures(s, message_id, timestamp, body) for s in secrets_in_use)

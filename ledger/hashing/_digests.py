"""The content digests a dataset may be anchored with: SHA-256, or SM3 (GM/T 0004-2012).

Both come from OpenSSL through :mod:`hashlib`; a dataset chooses one when it is registered
(docs/SM3.md) and its leaves say which (``ledger.merkle.leaf_types``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any, Literal

from ._errors import HashingError

__all__ = ["DIGESTS", "Digest", "check_digest", "hasher"]

#: A content digest's name, as settings, metadata and bundles spell it.
Digest = Literal["sha256", "sm3"]

#: Every digest, the default first.
DIGESTS: tuple[Digest, ...] = ("sha256", "sm3")


def _sm3(data: bytes = b"") -> Any:
    try:
        return hashlib.new("sm3", data)
    except ValueError:
        raise HashingError(
            "this Python's OpenSSL has no SM3 (OpenSSL 1.1.1 or later has it): SM3 datasets cannot be hashed here."
        ) from None


def hasher(digest: Digest) -> Callable[..., Any]:
    """The constructor of ``digest``'s hash objects (``hashlib.sha256`` or OpenSSL's SM3)."""
    return hashlib.sha256 if digest == "sha256" else _sm3


def check_digest(name: object) -> Digest:
    """``name`` if it names a digest; HashingError in one sentence otherwise."""
    if name == "sha256" or name == "sm3":
        return name
    shown = name if isinstance(name, str) else type(name).__name__
    raise HashingError(f"the digest {shown!r} is not sha256 or sm3.")

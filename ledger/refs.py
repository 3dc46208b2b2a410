"""Parsing the references people type: department/dataset codes or ids, roots, dates."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from .errors import BadHashError, InputError
from .ids import code_hash, dataset_id, version_id

__all__ = [
    "dataset",
    "hex_id",
    "id_or_code",
    "parse_hash",
    "root",
    "subject_id",
    "timestamp",
    "version",
]

_HEX64 = re.compile(r"[0-9a-fA-F]{64}")
_SHOWN = 80


def _shown(text: str) -> str:
    """``text`` (stripped) quoted for a message: at most 80 characters of it, on one line."""
    value = text.strip()
    return repr(value if len(value) <= _SHOWN else value[: _SHOWN - 3] + "...")


def parse_hash(text: str, *, what: str = "hash", secret: bool = False) -> bytes:
    """A 32-byte value from 64 hex digits (with or without 0x); BadHashError otherwise.

    With ``secret`` (a salt: even a mistyped one is most of a secret) the message says what
    is wrong without quoting the value.
    """
    value = text.strip()
    if value[:2] in ("0x", "0X"):
        value = value[2:]
    shown = "the value given" if secret else _shown(text)
    if len(value) != 64:
        raise BadHashError(
            f"a {what} is 32 bytes (64 hex digits); {shown} has {len(value)} characters."
        )
    # Only ASCII hex digits: bytes.fromhex alone would skip spaces between digit pairs.
    if _HEX64.fullmatch(value) is None:
        if secret:
            raise BadHashError(f"the {what} given is not hexadecimal.")
        raise BadHashError(f"the {what} {shown} is not hexadecimal.")
    return bytes.fromhex(value)


def id_or_code(text: str, *, what: str) -> bytes:
    """A 0x-prefixed 32-byte id as is, anything else as a code (keccak256 of its UTF-8)."""
    value = text.strip()
    if value.startswith(("0x", "0X")):
        return parse_hash(value, what=what)
    if not value:
        raise InputError(f"the {what} must not be empty.")
    return code_hash(value)  # InputError for a lone surrogate


def agreed_code(text: str, *, what: str) -> bytes:
    """A code an agreement records (its purpose): keccak256 of its UTF-8, as :func:`code_hash`.
    A text that starts like a 0x id is refused: a question names a purpose by its code or by
    its 0x hash (:func:`id_or_code`), and would take such a text for the hash itself."""
    if text.strip().startswith(("0x", "0X")):
        raise InputError(
            f"the {what} is the agreed text (a code such as eligibility-check), not a 0x value: "
            f"a question names the {what} by its text or its 0x hash, and would read this one "
            "as a hash."
        )
    return code_hash(text)


def dataset(text: str, *, owner: bytes) -> bytes:
    """A dataset: its 0x id as is, else the dataset of that catalogue code owned by
    department ``owner`` (a dataset id derives from its owner and code)."""
    value = text.strip()
    if value.startswith(("0x", "0X")):
        return parse_hash(value, what="dataset id")
    if not value:
        raise InputError("the dataset must not be empty.")
    return dataset_id(owner, value)  # InputError for a lone surrogate


def version(text: str, *, of_dataset: bytes, owner: bytes) -> bytes:
    """A version's id: ``ROOT`` (a version of dataset ``of_dataset``), or ``DATASET:ROOT``
    (DATASET a 0x dataset id, or a catalogue code of department ``owner``)."""
    named, sep, root_text = text.strip().rpartition(":")
    in_dataset = dataset(named, owner=owner) if sep else of_dataset
    return version_id(in_dataset, root(root_text))


def hex_id(text: str, *, what: str) -> str:
    """:func:`id_or_code` as the index stores it: 0x and 64 lowercase hex digits."""
    return "0x" + id_or_code(text, what=what).hex()


def subject_id(text: str, *, what: str) -> bytes:
    """An agreement or commitment id: 0x and 64 hex digits (never a code)."""
    if not text.strip().startswith(("0x", "0X")):
        raise BadHashError(f"a {what} is 0x and 64 hex digits, not {_shown(text)}.")
    return parse_hash(text, what=what)


def root(text: str) -> bytes:
    """A Merkle root (64 hex digits)."""
    return parse_hash(text, what="root")


def timestamp(text: str, *, what: str) -> int:
    """Unix seconds from an ISO 8601 date or date-time (UTC when no offset is given)."""
    value = text.strip()
    try:
        if len(value) == 10:
            parsed = datetime.combine(date.fromisoformat(value), datetime.min.time(), tzinfo=UTC)
        else:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=UTC)
    except ValueError:
        raise InputError(
            f"the {what} {_shown(value)} is not an ISO 8601 date (e.g. 2027-01-31 or 2027-01-31T12:00:00+08:00)."
        ) from None
    return int(parsed.timestamp())

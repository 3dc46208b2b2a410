"""Subject keys: each data subject's salts under a key of its own, destroyed to erase them all.

A department that anchors records about people may name, per records file, the column (CSV)
or field (JSON Lines) that identifies each row's subject (an ID card number, a case number).
Each subject then gets a random 32-byte key in the department's *subject key store*, and a
row's salt is derived from it::

    salt = HMAC-SHA256(subject key, "xietong-subject-salt/1" || 0x00 || nonce)

with a fresh random 32-byte ``nonce`` per row, kept in the salts sidecar
(``xietong-salts/2``, :mod:`ledger.hashing._salts`) instead of the salt. Destroying the
subject's key (``xietong dataset erase --subject``) shreds every salt of that subject at
once: in every sidecar, every copy and every backup of one, which no one need find.

The store never holds a subject's identifier either, only a *tag* of it::

    tag = HMAC-SHA256(tag key, "xietong-subject-tag/1" || 0x00 || UTF-8 of the identifier)

under a random tag key of the store, so neither the store nor a sidecar names anyone.

Format (``xietong-subject-keys/1``), one JSON document, UTF-8, mode 0600, written
atomically::

    {
      "format": "xietong-subject-keys/1",
      "id": "<32 hex: names the store in the sidecars made with it>",
      "tag_key": "<64 hex>",
      "subjects": {"<64 hex: tag>": "<64 hex: key>" or null (destroyed)}
    }
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ._atomic import write_private
from ._canonical import hex_value, loads_strict
from ._errors import SubjectKeysError

__all__ = ["SUBJECT_KEYS_FORMAT", "SubjectKeys", "subject_salt"]

#: Version tag of the subject key store.
SUBJECT_KEYS_FORMAT = "xietong-subject-keys/1"
_KEYS = {"format", "id", "tag_key", "subjects"}
_TAG_LABEL = b"xietong-subject-tag/1\x00"
_SALT_LABEL = b"xietong-subject-salt/1\x00"


def subject_salt(key: bytes, nonce: bytes) -> bytes:
    """The salt of a row whose subject holds ``key``, drawn with ``nonce``."""
    return hmac.new(key, _SALT_LABEL + nonce, hashlib.sha256).digest()


@dataclass
class SubjectKeys:
    """A department's subject key store, read from (and saved to) ``path``.

    ``repr()`` shows neither the tag key nor any subject key.
    """

    path: str
    id: bytes
    tag_key: bytes = field(repr=False)
    subjects: dict[bytes, bytes | None] = field(repr=False)

    @classmethod
    def open(cls, path: str | os.PathLike[str], *, create: bool = False) -> SubjectKeys:
        """The store at ``path``; with ``create``, a new empty one when there is none (it is
        written at the first :meth:`save`).

        Raises:
            SubjectKeysError: there is none (and not ``create``), or it is not a usable store.
        """
        target = os.fspath(path)
        try:
            with open(target, "rb") as stream:
                raw = stream.read()
        except FileNotFoundError:
            if create:
                return cls(target, secrets.token_bytes(16), secrets.token_bytes(32), {})
            raise SubjectKeysError(f"the subject key store {target} does not exist.") from None
        except OSError as exc:
            raise SubjectKeysError(
                f"cannot read the subject key store {target} ({exc.strerror})."
            ) from None
        return cls._parse(target, raw)

    @classmethod
    def _parse(cls, target: str, raw: bytes) -> SubjectKeys:
        def bad(reason: str) -> Exception:
            return SubjectKeysError(f"the subject key store {target} is not usable: {reason}.")

        try:
            document = loads_strict(raw.decode("utf-8"), error=bad)
        except UnicodeDecodeError:
            raise bad("it is not UTF-8 text") from None
        if not isinstance(document, dict):
            raise bad("it is not a JSON object")
        if document.get("format") != SUBJECT_KEYS_FORMAT:
            raise bad(f"its format is {document.get('format')!r}, not {SUBJECT_KEYS_FORMAT!r}")
        if set(document) != _KEYS:
            raise bad("its keys are not " + ", ".join(sorted(_KEYS)))
        store_id = _hex(document["id"], 16, what="id", bad=bad)
        tag_key = _hex(document["tag_key"], 32, what="tag_key", bad=bad)
        if not isinstance(document["subjects"], dict):
            raise bad("subjects is not an object")
        subjects: dict[bytes, bytes | None] = {}
        for tag, key in document["subjects"].items():
            subjects[_hex(tag, 32, what="a subject's tag", bad=bad)] = (
                None if key is None else _hex(key, 32, what="a subject's key", bad=bad)
            )
        return cls(target, store_id, tag_key, subjects)

    def tag(self, subject: str) -> bytes:
        """The tag that stands for ``subject`` (its identifier) in this store."""
        return hmac.new(self.tag_key, _TAG_LABEL + subject.encode("utf-8"), hashlib.sha256).digest()

    def draw(self, subject: str) -> tuple[bytes, bytes, bytes]:
        """``(tag, nonce, salt)`` for a new row of ``subject``: its key made if it has none.

        Raises:
            SubjectKeysError: the subject's key was destroyed (its records erased).
        """
        tag = self.tag(subject)
        if tag not in self.subjects:
            self.subjects[tag] = secrets.token_bytes(32)
        key = self.subjects[tag]
        if key is None:
            raise SubjectKeysError(
                f"a subject of this file was erased (its key in {self.path} is destroyed): "
                "remove their rows, or anchor without --subject-column."
            )
        nonce = secrets.token_bytes(32)
        return tag, nonce, subject_salt(key, nonce)

    def salt(self, tag: bytes, nonce: bytes) -> bytes | None:
        """The salt of a row of the subject ``tag`` drawn with ``nonce``; None when the
        subject's key was destroyed.

        Raises:
            SubjectKeysError: this store holds no such subject (the sidecar was made with
                another store, or the store lost it).
        """
        if tag not in self.subjects:
            raise SubjectKeysError(
                f"the subject key store {self.path} holds no key for a subject of this sidecar."
            )
        key = self.subjects[tag]
        return None if key is None else subject_salt(key, nonce)

    def held_tag(self, subject: str) -> bytes:
        """The tag of ``subject``, whom this store holds (a key, or a destroyed one).

        Raises:
            SubjectKeysError: the store holds no such subject.
        """
        tag = self.tag(subject)
        if tag not in self.subjects:
            raise SubjectKeysError(f"the subject key store {self.path} holds no such subject.")
        return tag

    def destroy(self, subject: str) -> bytes:
        """Destroy the key of ``subject`` (every salt of theirs is then lost); its tag.

        Raises:
            SubjectKeysError: the store holds no such subject.
        """
        tag = self.held_tag(subject)
        self.subjects[tag] = None
        return tag

    def document(self) -> bytes:
        body = {
            "format": SUBJECT_KEYS_FORMAT,
            "id": self.id.hex(),
            "tag_key": self.tag_key.hex(),
            "subjects": {
                tag.hex(): None if key is None else key.hex()
                for tag, key in sorted(self.subjects.items())
            },
        }
        return (json.dumps(body, indent=2) + "\n").encode("utf-8")

    def save(self) -> None:
        """Write the store atomically, owner-only (temporary file, fsync, rename).

        Raises:
            SubjectKeysError: it cannot be written.
        """
        try:
            os.makedirs(os.path.dirname(os.path.abspath(self.path)), mode=0o700, exist_ok=True)
            write_private(self.path, self.document(), overwrite=True)
        except OSError as exc:
            raise SubjectKeysError(
                f"cannot write the subject key store {self.path} ({exc.strerror})."
            ) from None


def _hex(value: Any, size: int, *, what: str, bad: Callable[[str], Exception]) -> bytes:
    return hex_value(value, size, bad=lambda problem: bad(f"{what} {problem}"))

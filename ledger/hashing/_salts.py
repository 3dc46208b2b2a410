"""The salts sidecar: the per-record salts of one records file, kept by the data owner.

A record leaf commits to (SHA-256 of the record's canonical JSON, 32 random bytes). The
salts never go on chain or into the gateway's database; without them a public leaf hash
says nothing about a low-entropy row, and with them the owner can rebuild the very same
leaves (and prove any row) later. They live in a sidecar file next to the data.

Format (``xietong-salts/1``), one JSON document, UTF-8, one salt per line::

    {
      "format": "xietong-salts/1",
      "source": "dibao.csv",
      "source_sha256": "<64 hex: SHA-256 of the data file's bytes>",
      "record_format": "csv",
      "rows": 2,
      "salts": [
        "<64 hex: salt of row 0>",
        "<64 hex: salt of row 1>"
      ]
    }

``salts[i]`` is the salt of row ``i`` (rows counted from 0 in file order, header and blank
lines not counted). Hex is lower-case without ``0x``. ``source`` is informational; a
sidecar matches a data file when ``source_sha256``, ``record_format`` and ``rows`` match.
The file is written with mode 0600, atomically (temporary file, fsync, rename).

A salt is ``null`` once its record was erased (``xietong dataset erase``, docs/ERASURE.md):
destroying the salt shreds the record's leaf, which no one can link to the record any more.
Such a sidecar still proves the other rows one at a time (:func:`record_at`), and since the
erased rows may then be blanked in the data file, it is matched by ``record_format`` and
``rows`` only.

Format ``xietong-salts/2`` is the same with one more key, ``"subject_keys"`` (32 hex: the id
of the department's subject key store, :mod:`ledger.hashing._subjects`), for records anchored
with a subject column. The entry of a row with a subject is ``{"subject": "<64 hex: its tag>",
"nonce": "<64 hex>"}`` instead of its salt, which is derived from the subject's key: reading
such a sidecar needs the store, and a row whose subject's key was destroyed reads as erased.
A row without a subject (an empty cell) keeps a salt of its own, as in ``xietong-salts/1``.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any, BinaryIO, Literal

from ._atomic import fsync_directory, link_new, write_private
from ._canonical import hex_value, loads_strict
from ._errors import (
    HashingError,
    RecordErasedError,
    SaltsExistError,
    SaltsFileError,
    SaltsMismatchError,
    SubjectKeysError,
)
from ._files import CHUNK_SIZE, sha256_file
from ._subjects import SubjectKeys

__all__ = [
    "SALTS_FORMAT",
    "SALT_SIZE",
    "SUBJECT_SALTS_FORMAT",
    "RecordFormat",
    "Salts",
    "SaltsWriter",
    "read_salts",
    "write_salts",
]

#: Version tag of the sidecar format.
SALTS_FORMAT = "xietong-salts/1"
#: ... and of the sidecar whose rows' salts come from subject keys.
SUBJECT_SALTS_FORMAT = "xietong-salts/2"

#: Bytes of one salt.
SALT_SIZE = 32

#: The record file formats.
RecordFormat = Literal["csv", "jsonl"]

_FORMATS: tuple[RecordFormat, ...] = ("csv", "jsonl")
_KEYS = {"format", "source", "source_sha256", "record_format", "rows", "salts"}
_SUBJECT_KEYS = _KEYS | {"subject_keys"}

#: A row's subject in a ``xietong-salts/2`` sidecar: (tag, nonce), 32 bytes each.
Subject = tuple[bytes, bytes]


@dataclass(frozen=True)
class Salts:
    """The salts of one records file, with what identifies that file.

    ``repr()`` never shows the salt values.

    Attributes:
        source_name: File name of the data file (informational).
        source_sha256: SHA-256 of the data file's bytes.
        record_format: ``"csv"`` or ``"jsonl"``.
        values: One 32-byte salt per row, in row order; ``None`` for an erased row.
        subject_keys_id: The subject key store the salts of ``subjects`` come from (a
            ``xietong-salts/2`` sidecar), or None.
        subjects: With ``subject_keys_id``, per row its subject's ``(tag, nonce)``, or None
            for a row with a salt of its own (or erased).
    """

    source_name: str
    source_sha256: bytes
    record_format: RecordFormat
    values: tuple[bytes | None, ...] = field(repr=False)
    subject_keys_id: bytes | None = None
    subjects: tuple[Subject | None, ...] = field(default=(), repr=False)

    def __post_init__(self) -> None:
        if len(self.source_sha256) != 32:
            raise SaltsFileError(
                f"the source SHA-256 of a salts set is 32 bytes, not {len(self.source_sha256)}."
            )
        if self.record_format not in _FORMATS:
            raise SaltsFileError(
                f"the record format of a salts set is csv or jsonl, not {self.record_format!r}."
            )
        if not self.values:
            raise SaltsFileError("a salts set needs at least one salt.")
        for index, salt in enumerate(self.values):
            if salt is not None and (type(salt) is not bytes or len(salt) != SALT_SIZE):
                raise SaltsFileError(f"the salt of row {index} is not {SALT_SIZE} bytes.")
        if len(self.subjects) != (0 if self.subject_keys_id is None else len(self.values)):
            raise SaltsFileError("a salts set has one subject entry per row, or none at all.")

    @property
    def row_count(self) -> int:
        """Number of rows (= number of salts)."""
        return len(self.values)

    @property
    def erased_rows(self) -> tuple[int, ...]:
        """The rows whose salt was destroyed (their records erased), in order."""
        return tuple(i for i, salt in enumerate(self.values) if salt is None)

    def salt(self, row: int, *, name: str) -> bytes:
        """The salt of ``row`` of the data file ``name``.

        Raises:
            HashingError: the salts have no row ``row``.
            RecordErasedError: the row's record was erased (its salt destroyed).
        """
        if not 0 <= row < self.row_count:
            raise HashingError(f"{name} has {self.row_count} records; there is no record {row}.")
        salt = self.values[row]
        if salt is None:
            raise RecordErasedError(
                f"record {row} of {self.source_name} was erased: its salt was destroyed, so it can no longer be proven."
            )
        return salt

    def shredded(self, rows: Iterable[int]) -> Salts:
        """These salts with those of ``rows`` destroyed (``None``)."""
        gone = set(rows)
        return replace(
            self,
            values=tuple(None if i in gone else s for i, s in enumerate(self.values)),
            subjects=tuple(None if i in gone else s for i, s in enumerate(self.subjects)),
        )

    def rows_of(self, tag: bytes) -> list[int]:
        """The rows whose subject has ``tag`` (a ``xietong-salts/2`` sidecar), in order."""
        return [i for i, s in enumerate(self.subjects) if s is not None and s[0] == tag]

    def check_matches(
        self, *, source_sha256: bytes, record_format: RecordFormat, rows: int | None, name: str
    ) -> None:
        """Refuse, with :class:`SaltsMismatchError`, a data file these salts were not made for.

        ``rows`` may be ``None`` when not known yet (the file hash already decides).
        """
        if self.erased_rows and rows is not None and rows == self.row_count:
            source_sha256 = self.source_sha256  # erased rows may be blanked: rows decide
        if record_format != self.record_format:
            raise SaltsMismatchError(
                f"the salts sidecar was made for {self.record_format} records of {self.source_name}, but {name} is read as {record_format}; use the sidecar made for this file."
            )
        if source_sha256 != self.source_sha256 or (rows is not None and rows != self.row_count):
            found = f"SHA-256 {source_sha256.hex()[:16]}…" + (
                f" and {rows} rows" if rows is not None else ""
            )
            raise SaltsMismatchError(
                f"the salts sidecar was made for {self.source_name} with SHA-256 {self.source_sha256.hex()[:16]}… and {self.row_count} rows, but {name} has {found}; use the sidecar made for this exact file (a changed file is a new version with new salts)."
            )


# ---------------------------------------------------------------------------- writing


def _head(
    source_name: str,
    source_sha256: bytes,
    record_format: RecordFormat,
    rows: int,
    subject_keys_id: bytes | None = None,
) -> bytes:
    """The sidecar up to and including the line that opens the ``salts`` array."""
    head: dict[str, Any] = {
        "format": SALTS_FORMAT if subject_keys_id is None else SUBJECT_SALTS_FORMAT,
        "source": source_name,
        "source_sha256": source_sha256.hex(),
        "record_format": record_format,
        "rows": rows,
    }
    if subject_keys_id is not None:
        head["subject_keys"] = subject_keys_id.hex()
    lines = ["{"]
    lines += [f"  {json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}," for k, v in head.items()]
    lines.append('  "salts": [')
    return ("\n".join(lines) + "\n").encode("utf-8")


#: The sidecar after the last salt line.
_TAIL = b"\n  ]\n}\n"


def _entry(salt: bytes | None, subject: Subject | None) -> str:
    """One row's line in the ``salts`` array."""
    if subject is not None:
        return f'    {{"subject": "{subject[0].hex()}", "nonce": "{subject[1].hex()}"}}'
    return "    null" if salt is None else f'    "{salt.hex()}"'


def _document(salts: Salts) -> bytes:
    head = _head(
        salts.source_name,
        salts.source_sha256,
        salts.record_format,
        salts.row_count,
        salts.subject_keys_id,
    )
    subjects = salts.subjects or (None,) * salts.row_count
    body = ",\n".join(map(_entry, salts.values, subjects))
    return head + body.encode("utf-8") + _TAIL


def _exists_error(target: str) -> SaltsExistError:
    return SaltsExistError(
        f"the salts sidecar {target} already exists; keep it (it is needed to prove records), or choose to overwrite it."
    )


def _link_new(temporary: str, target: str) -> None:
    try:
        link_new(temporary, target)
    except FileExistsError:
        raise _exists_error(target) from None


class SaltsWriter:
    """Writes a fresh ``xietong-salts/1`` sidecar as the salts are drawn, byte for byte what
    :func:`write_salts` writes, without holding them: the salt lines go to an owner-only
    temporary file next to the target, and :meth:`finish` puts the header (which needs the
    file's SHA-256 and row count) before them, then links the whole into place atomically."""

    def __init__(self, target: str, *, subject_keys_id: bytes | None = None) -> None:
        self.target = target
        self.subject_keys_id = subject_keys_id
        if os.path.lexists(target):
            raise _exists_error(target)
        self.directory = os.path.dirname(os.path.abspath(target))
        self._temporaries: list[str] = []
        self._body = self._temporary()
        self._first = True

    def _temporary(self) -> BinaryIO:
        try:
            fd, name = tempfile.mkstemp(
                dir=self.directory, prefix="." + os.path.basename(self.target) + ".", suffix=".tmp"
            )
        except OSError as exc:
            raise SaltsFileError(
                f"cannot write the salts sidecar in {self.directory} ({exc.strerror})."
            ) from None
        self._temporaries.append(name)
        os.fchmod(fd, stat.S_IRUSR | stat.S_IWUSR)
        return open(fd, "wb", buffering=CHUNK_SIZE)

    def write(self, salts: bytes) -> None:
        """Append the salts of the next rows (``32 * k`` bytes)."""
        text = salts.hex()
        lines = [text[k : k + 64] for k in range(0, len(text), 64)]
        lead = '    "' if self._first else ',\n    "'
        self._first = False
        self._body.write((lead + '",\n    "'.join(lines) + '"').encode("ascii"))

    def write_rows(self, salts: list[bytes], subjects: list[Subject | None]) -> None:
        """Append the next rows of a ``xietong-salts/2`` sidecar: per row its subject, or its
        own salt when it has none."""
        lead = "" if self._first else ",\n"
        self._first = False
        self._body.write((lead + ",\n".join(map(_entry, salts, subjects))).encode("ascii"))

    def finish(self, source_name: str, source_sha256: bytes, fmt: RecordFormat, rows: int) -> None:
        """Write the sidecar to its target (never replacing one that appeared meanwhile)."""
        target = self.target
        try:
            self._body.flush()
            with self._temporary() as document:
                document.write(_head(source_name, source_sha256, fmt, rows, self.subject_keys_id))
                document.flush()
                with open(self._temporaries[0], "rb") as body:
                    while block := body.read(CHUNK_SIZE):
                        document.write(block)
                document.write(_TAIL)
                document.flush()
                os.fsync(document.fileno())
            _link_new(self._temporaries[1], target)
            fsync_directory(self.directory)
        except OSError as exc:
            raise SaltsFileError(
                f"cannot write the salts sidecar {target} ({exc.strerror})."
            ) from None
        finally:
            self.discard()

    def discard(self) -> None:
        """Remove the temporary files (the target, once linked, stays)."""
        self._body.close()
        for name in self._temporaries:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(name)
        self._temporaries.clear()


def write_salts(path: str | os.PathLike[str], salts: Salts, *, overwrite: bool = False) -> None:
    """Write ``salts`` to the sidecar ``path`` atomically, readable by the owner only.

    The document goes to a temporary file in the same directory, is fsynced, then renamed
    into place (and the directory fsynced), so a crash leaves either no sidecar or a whole
    one. Without ``overwrite`` an existing ``path`` is never replaced, even by a racing
    writer (the final step is a hard link, which fails when the name exists).

    Raises:
        SaltsExistError: ``path`` exists and ``overwrite`` is false.
        SaltsFileError: the sidecar cannot be written.
    """
    target = os.fspath(path)
    if not overwrite and os.path.lexists(target):
        raise _exists_error(target)
    try:
        write_private(target, _document(salts), overwrite=overwrite)
    except FileExistsError:
        raise _exists_error(target) from None
    except OSError as exc:
        raise SaltsFileError(f"cannot write the salts sidecar {target} ({exc.strerror}).") from None


# ---------------------------------------------------------------------------- reading


def _hex(value: Any, size: int, *, what: str, target: str) -> bytes:
    return hex_value(
        value,
        size,
        bad=lambda problem: SaltsFileError(f"{what} in the salts sidecar {target} {problem}."),
    )


def _hex32(value: Any, *, what: str, target: str) -> bytes:
    return _hex(value, SALT_SIZE, what=what, target=target)


def _subject_keys(
    given: SubjectKeys | str | os.PathLike[str] | None, store_id: bytes, target: str
) -> SubjectKeys:
    """The store a ``xietong-salts/2`` sidecar was made with."""
    if given is None:
        raise SubjectKeysError(
            f"the salts sidecar {target} derives its rows' salts from subject keys: it is "
            "read with the subject key store it was made with (XIETONG_SUBJECT_KEYS)."
        )
    store = given if isinstance(given, SubjectKeys) else SubjectKeys.open(given)
    if store.id != store_id:
        raise SubjectKeysError(
            f"the salts sidecar {target} was made with another subject key store than "
            f"{store.path} (store {store_id.hex()}, not {store.id.hex()})."
        )
    return store


def _subject_rows(
    values: list[Any], store: SubjectKeys, target: str, bad: Any
) -> tuple[tuple[bytes | None, ...], tuple[Subject | None, ...]]:
    """The salts and subjects of a ``xietong-salts/2`` sidecar's rows."""
    salts: list[bytes | None] = []
    subjects: list[Subject | None] = []
    for i, value in enumerate(values):
        if isinstance(value, dict):
            if set(value) != {"subject", "nonce"}:
                raise bad(f"the entry of row {i} is not a salt, null or a subject and its nonce")
            tag = _hex32(value["subject"], what=f"the subject of row {i}", target=target)
            nonce = _hex32(value["nonce"], what=f"the nonce of row {i}", target=target)
            salts.append(store.salt(tag, nonce))
            subjects.append((tag, nonce))
        else:
            salts.append(
                None if value is None else _hex32(value, what=f"the salt of row {i}", target=target)
            )
            subjects.append(None)
    return tuple(salts), tuple(subjects)


def read_salts(
    path: str | os.PathLike[str],
    *,
    data: str | os.PathLike[str] | None = None,
    subject_keys: SubjectKeys | str | os.PathLike[str] | None = None,
) -> Salts:
    """Read and validate the sidecar ``path``; with ``data``, also check it belongs to that file.

    A ``xietong-salts/2`` sidecar needs ``subject_keys``, the store (or its path, opened only
    then) its subjects' salts come from; a row whose subject's key was destroyed reads as
    erased.

    Validation: the document is strict JSON with exactly the keys of ``xietong-salts/1``,
    ``rows`` equals the number of salts, every salt is 64 lower-case hex digits (or ``null``:
    its record erased) and no salt repeats. With ``data`` the data file's SHA-256 must equal ``source_sha256``
    (:func:`hash_records` checks the same, and the row count, by itself).

    Raises:
        SaltsFileError: the sidecar is missing, unreadable or malformed.
        SaltsMismatchError: ``data`` is given and is not the file the salts were made for.
    """
    target = os.fspath(path)
    try:
        with open(target, "rb") as stream:
            raw = stream.read()
    except FileNotFoundError:
        raise SaltsFileError(f"the salts sidecar {target} does not exist.") from None
    except OSError as exc:
        raise SaltsFileError(f"cannot read the salts sidecar {target} ({exc.strerror}).") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise SaltsFileError(f"the salts sidecar {target} is not UTF-8 text.") from None

    def bad(reason: str) -> Exception:
        return SaltsFileError(f"the salts sidecar {target} is not usable: {reason}.")

    document = loads_strict(text, error=bad)
    if not isinstance(document, dict):
        raise bad("it is not a JSON object")
    version = document.get("format")
    if version not in (SALTS_FORMAT, SUBJECT_SALTS_FORMAT):
        raise bad(f"its format is {version!r}, not {SALTS_FORMAT!r} or {SUBJECT_SALTS_FORMAT!r}")
    keys = _KEYS if version == SALTS_FORMAT else _SUBJECT_KEYS
    if set(document) != keys:
        missing, extra = sorted(keys - set(document)), sorted(set(document) - keys)
        raise bad(
            "it lacks " + ", ".join(missing)
            if missing
            else "it has unknown keys " + ", ".join(extra)
        )
    source, fmt, rows, values = (
        document["source"],
        document["record_format"],
        document["rows"],
        document["salts"],
    )
    if not isinstance(source, str):
        raise bad("source is not a string")
    if fmt not in _FORMATS:
        raise bad(f"record_format is {fmt!r}, not csv or jsonl")
    if type(rows) is not int or rows < 1:
        raise bad("rows is not a positive integer")
    if not isinstance(values, list) or len(values) != rows:
        count = len(values) if isinstance(values, list) else "no list of"
        raise bad(f"it declares {rows} rows but holds {count} salts")
    digest = _hex32(document["source_sha256"], what="source_sha256", target=target)
    store_id: bytes | None = None
    subjects: tuple[Subject | None, ...] = ()
    if version == SALTS_FORMAT:
        salts = tuple(
            None if v is None else _hex32(v, what=f"the salt of row {i}", target=target)
            for i, v in enumerate(values)
        )
    else:
        store_id = _hex(document["subject_keys"], 16, what="subject_keys", target=target)
        store = _subject_keys(subject_keys, store_id, target)
        salts, subjects = _subject_rows(values, store, target, bad)
    kept = [salt for salt in salts if salt is not None]
    if len(set(kept)) != len(kept):
        raise bad("a salt appears twice (salts are drawn at random, so the file was edited)")
    result = Salts(
        source_name=source,
        source_sha256=digest,
        record_format=fmt,
        values=salts,
        subject_keys_id=store_id,
        subjects=subjects,
    )
    if data is not None and not result.erased_rows:
        result.check_matches(
            source_sha256=sha256_file(data), record_format=fmt, rows=None, name=os.fspath(data)
        )
    return result

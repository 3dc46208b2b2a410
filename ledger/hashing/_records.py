"""Record leaves: rows of CSV and JSON Lines files, hashed as canonical JSON, salted.

Each row is an object (field name → value); its ``record_hash`` is the SHA-256 of its
RFC 8785 canonical JSON, and its leaf commits to ``(record_hash, salt)`` with a fresh
32-byte salt from :func:`secrets.token_bytes` per row. Rows are numbered from 0 in file
order.

CSV (RFC 4180 as Python's ``csv`` reads it, comma-separated, ``"`` quoting): the first row
is the header and gives the field names; every value stays a string. A UTF-8 byte-order
mark is dropped; quoted fields may hold commas, quotes (doubled) and line breaks; LF and
CRLF line ends are both fine; completely blank lines are skipped. Refused, naming the
line: bytes that are not UTF-8, a row with more or fewer fields than the header, a quote
in the wrong place, a repeated header name.

JSON Lines: each non-blank line is one JSON object (a leading byte-order mark is dropped,
CRLF is fine). Refused, naming the line: a line that is not valid JSON, not an object, has
a member name twice, holds NaN/Infinity or a number overflowing a double, or has no
canonical form (e.g. an integer beyond ±2^53, a lone surrogate).
"""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
import os
import secrets
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from json.encoder import encode_basestring
from pathlib import Path
from typing import Any

from ._canonical import _cut, _utf16_key, canonical_json, loads_strict
from ._digests import DIGESTS, Digest, hasher
from ._errors import (
    CanonicalJsonError,
    EmptyDatasetError,
    FileChangedError,
    HashingError,
    RecordErasedError,
    RecordFormatError,
    UnreadableFileError,
)
from ._files import CHUNK_SIZE, ProgressCallback, _open_checked, _reason, sha256_file
from ._salts import SALT_SIZE, RecordFormat, Salts, SaltsWriter, Subject
from ._subjects import SubjectKeys

__all__ = [
    "RecordEntry",
    "RecordSet",
    "RecordStream",
    "hash_records",
    "record_at",
    "record_at_digests",
    "record_entry",
    "record_format_of",
    "record_hash",
]

_SUFFIXES: dict[str, RecordFormat] = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}
_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True, slots=True)
class RecordEntry:
    """The leaf values of one row. ``repr()`` never shows the salt.

    Attributes:
        index: Row number, from 0, in file order.
        record_hash: SHA-256 of the row's canonical JSON (32 bytes).
        salt: The row's 32-byte salt.
    """

    index: int
    record_hash: bytes
    salt: bytes = field(repr=False)


@dataclass(frozen=True)
class RecordSet:
    """Every row of one records file, hashed and salted.

    Attributes:
        source_name: File name of the data file.
        source_sha256: SHA-256 of exactly the bytes that were parsed.
        record_format: ``"csv"`` or ``"jsonl"``.
        entries: One :class:`RecordEntry` per row, in row order.
        salts: The salts used (given, or freshly drawn); write them with ``write_salts``.
    """

    source_name: str
    source_sha256: bytes
    record_format: RecordFormat
    entries: list[RecordEntry] = field(repr=False)
    salts: Salts


def record_hash(row: Mapping[str, Any], *, digest: Digest = "sha256") -> bytes:
    """SHA-256 (or SM3) of the RFC 8785 canonical JSON of ``row`` (32 bytes).

    Raises:
        CanonicalJsonError: ``row`` has no canonical form.
    """
    return bytes(hasher(digest)(canonical_json(row)).digest())


def record_entry(
    row: Mapping[str, Any], salt: bytes, *, digest: Digest = "sha256"
) -> tuple[bytes, bytes]:
    """The leaf values ``(record_hash, salt)`` of one row, e.g. to find or prove it.

    ``row`` is the row as an object: for CSV, ``{header name: value string}``; for JSON
    Lines, the parsed line.

    Raises:
        CanonicalJsonError: ``row`` has no canonical form.
        HashingError: ``salt`` is not 32 bytes.
    """
    if not isinstance(salt, bytes | bytearray) or len(salt) != SALT_SIZE:
        size = len(salt) if isinstance(salt, bytes | bytearray) else type(salt).__name__
        raise HashingError(f"a record salt is {SALT_SIZE} bytes, not {size}.")
    return record_hash(row, digest=digest), bytes(salt)


def record_format_of(path: str | os.PathLike[str]) -> RecordFormat:
    """``"csv"`` for ``.csv``, ``"jsonl"`` for ``.jsonl``/``.ndjson`` (case-insensitive).

    Raises:
        RecordFormatError: any other suffix.
    """
    suffix = Path(path).suffix.lower()
    try:
        return _SUFFIXES[suffix]
    except KeyError:
        raise RecordFormatError(
            f"cannot tell the record format of {os.fspath(path)} from its suffix; use .csv or .jsonl, or say which format it is."
        ) from None


# ---------------------------------------------------------------------------- reading


class _HashingReader(io.RawIOBase):
    """A raw stream over a file descriptor that hashes every byte handed out."""

    def __init__(
        self, fd: int, *, name: str, total: int, on_progress: ProgressCallback | None
    ) -> None:
        super().__init__()
        self._name = name
        self._file = open(fd, "rb", buffering=0, closefd=False)  # noqa: SIM115 - closed in close()
        self._digest = hashlib.sha256()
        self._total = total
        self._done = 0
        self._on_progress = on_progress

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = self._file.readinto(buffer) or 0
        if self._done + n > self._total:
            # Still being written to: refuse rather than follow it for ever.
            raise FileChangedError(
                f"{self._name} changed while it was being hashed ({self._total} bytes at first, more read)."
            )
        if n:
            with memoryview(buffer) as view:
                self._digest.update(view[:n])
            self._done += n
            if self._on_progress is not None:
                self._on_progress(self._done, max(self._total, self._done))
        return n

    def close(self) -> None:
        self._file.close()
        super().close()

    @property
    def bytes_read(self) -> int:
        return self._done

    def digest(self) -> bytes:
        return self._digest.digest()


def _decoded_lines(stream: Iterable[bytes], name: str, counter: list[int]) -> Iterator[str]:
    """Lines of ``stream`` as text (BOM dropped); ``counter[0]`` is the current line number."""
    for number, raw in enumerate(stream, 1):
        counter[0] = number
        if number == 1 and raw.startswith(_BOM):
            raw = raw[len(_BOM) :]
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise RecordFormatError(
                f"line {number} of {name} is not valid UTF-8 (byte 0x{raw[exc.start]:02x} at byte {exc.start + 1} of the line).",
                line=number,
            ) from None


@dataclass(slots=True)
class _Subjects:
    """The subject of each row parsed (the value of the column or field ``field``; None
    when empty), appended as the rows go and taken chunk by chunk."""

    column: str
    found: list[str | None]


def _row_hasher(digests: tuple[Digest, ...]) -> Callable[[bytes], bytes]:
    """What a row's canonical JSON becomes: its digest, or each of ``digests`` one after the
    other (32 bytes each), so that one reading of a file gives them all."""
    if len(digests) == 1:
        new = hasher(digests[0])
        return lambda data: new(data).digest()
    news = [hasher(d) for d in digests]
    return lambda data: b"".join([new(data).digest() for new in news])


def _csv_hashes(
    stream: Iterable[bytes],
    name: str,
    digests: tuple[Digest, ...] = ("sha256",),
    subjects: _Subjects | None = None,
) -> Iterator[bytes]:
    counter = [0]
    reader = csv.reader(_decoded_lines(stream, name, counter), strict=True)
    try:
        header = next(reader)
        while not header:  # blank lines before the header
            header = next(reader)
    except StopIteration:
        raise EmptyDatasetError(
            f"{name} is empty: a CSV needs a header row and at least one record."
        ) from None
    except csv.Error as exc:
        raise RecordFormatError(
            f"line {counter[0]} of {name} is not valid CSV ({exc}).", line=counter[0]
        ) from None
    seen: set[str] = set()
    for title in header:
        if title in seen:
            raise RecordFormatError(
                f"the header on line {counter[0]} of {name} names the field {_cut(repr(title))} twice.",
                line=counter[0],
            )
        seen.add(title)
    width = len(header)
    if subjects is not None and subjects.column not in seen:
        raise RecordFormatError(
            f"the header on line {counter[0]} of {name} has no column "
            f"{_cut(repr(subjects.column))} to name each record's subject.",
            line=counter[0],
        )
    column = header.index(subjects.column) if subjects is not None else 0
    order = sorted(range(width), key=lambda i: _utf16_key(header[i]))
    prefixes = [
        ("{" if n == 0 else ",") + encode_basestring(header[i]) + ":" for n, i in enumerate(order)
    ]
    pairs = list(zip(prefixes, order, strict=True))
    row_hash = _row_hasher(digests)
    while True:
        start = counter[0] + 1
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise RecordFormatError(
                f"line {counter[0]} of {name} is not valid CSV ({exc}).", line=counter[0]
            ) from None
        if len(values) != width:
            if not values:
                continue  # a blank line
            raise RecordFormatError(
                f"the record on line {start} of {name} has {len(values)} fields but the header has {width}.",
                line=start,
            )
        text = "".join([prefix + encode_basestring(values[i]) for prefix, i in pairs]) + "}"
        if subjects is not None:
            subjects.found.append(values[column] or None)
        yield row_hash(text.encode("utf-8"))


def _jsonl_hashes(
    stream: Iterable[bytes],
    name: str,
    digests: tuple[Digest, ...] = ("sha256",),
    subjects: _Subjects | None = None,
) -> Iterator[bytes]:
    row_hash = _row_hasher(digests)
    counter = [0]

    def bad(reason: str) -> Exception:
        return RecordFormatError(
            f"line {counter[0]} of {name} is refused: {reason}.", line=counter[0]
        )

    for text in _decoded_lines(stream, name, counter):
        if not text.strip(" \t\r\n"):
            continue  # a blank line
        row = loads_strict(text, error=bad)
        if not isinstance(row, dict):
            raise bad(f"it is a JSON {_json_kind(row)}, not an object")
        if subjects is not None:
            subject = row.get(subjects.column)
            if subject is not None and not isinstance(subject, str):
                raise bad(
                    f"its subject field {_cut(repr(subjects.column))} is a JSON "
                    f"{_json_kind(subject)}, not a string"
                )
            subjects.found.append(subject or None)
        try:
            yield row_hash(canonical_json(row))
        except CanonicalJsonError as exc:
            raise bad(str(exc).rstrip(".")) from None


def _json_kind(value: Any) -> str:
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if value is None or isinstance(value, bool):
        return "literal"
    return "number"


def _record_format(name: str, fmt: RecordFormat | None) -> RecordFormat:
    record_format = fmt or record_format_of(name)
    if record_format not in _SUFFIXES.values():
        raise RecordFormatError(f"{record_format!r} is not a record format; use csv or jsonl.")
    return record_format


def _read_records(
    name: str,
    record_format: RecordFormat,
    salts: Salts | None,
    take: Callable[[list[bytes], list[bytes], list[Subject | None] | None], None],
    *,
    chunk_rows: int,
    on_progress: ProgressCallback | None,
    whole: bool = True,
    digests: tuple[Digest, ...] = ("sha256",),
    subject_column: str | None = None,
    subject_keys: SubjectKeys | None = None,
) -> tuple[bytes, int]:
    """Hash the rows of ``name`` ``chunk_rows`` at a time, handing each chunk on as
    ``take(record_hashes, salts, subjects)`` (the given ``salts``, or fresh ones from
    :mod:`secrets`; a record hash is its ``digests`` one after the other);
    return the file's SHA-256 and row count, once every check has passed. Salts with erased
    rows are refused for the ``whole`` file (those rows have no leaf any more); otherwise their
    rows get a zero salt, which no caller uses.

    With ``subject_column`` (fresh salts only), the salt of a row with a subject comes from
    its key in ``subject_keys``, and ``take`` gets each chunk's ``(tag, nonce)`` per row as
    ``subjects`` (None for a row without a subject, which gets a salt of its own); else
    ``subjects`` is None."""
    if subject_column is not None and (salts is not None or subject_keys is None):
        raise ValueError("a subject column draws fresh salts, from subject keys")
    subjects = _Subjects(subject_column, []) if subject_column is not None else None
    erased = salts.erased_rows if salts is not None else ()
    if erased and whole:
        shown = ", ".join(map(str, erased[:5])) + (", …" if len(erased) > 5 else "")
        raise RecordErasedError(
            f"the salts of {name} hold erased records (row {shown}): the file can no longer be hashed whole, only its other records proven one at a time."
        )
    if salts is not None and not erased:  # fail fast, before parsing a whole file for nothing
        salts.check_matches(
            source_sha256=sha256_file(name), record_format=record_format, rows=None, name=name
        )
    fd, st = _open_checked(name, name=name, expect=None, follow=True)
    given = (
        tuple(bytes(SALT_SIZE) if s is None else s for s in salts.values)
        if salts is not None
        else ()
    )
    count = 0
    try:
        raw = _HashingReader(fd, name=name, total=st.st_size, on_progress=on_progress)
        with io.BufferedReader(raw, CHUNK_SIZE) as stream:
            rows = (
                _csv_hashes(stream, name, digests, subjects)
                if record_format == "csv"
                else _jsonl_hashes(stream, name, digests, subjects)
            )
            while hashes := list(itertools.islice(rows, chunk_rows)):
                k = len(hashes)
                chunk_subjects: list[Subject | None] | None = None
                if subjects is not None:
                    assert subject_keys is not None  # checked above
                    chunk_salts: list[bytes] = []
                    chunk_subjects = []
                    for subject in subjects.found:
                        if subject is None:
                            chunk_salts.append(secrets.token_bytes(SALT_SIZE))
                            chunk_subjects.append(None)
                        else:
                            tag, nonce, salt = subject_keys.draw(subject)
                            chunk_salts.append(salt)
                            chunk_subjects.append((tag, nonce))
                    subjects.found.clear()
                elif salts is None:
                    drawn = secrets.token_bytes(SALT_SIZE * k)
                    chunk_salts = [
                        drawn[j : j + SALT_SIZE] for j in range(0, SALT_SIZE * k, SALT_SIZE)
                    ]
                else:
                    chunk_salts = list(given[count : count + k])
                    if len(chunk_salts) < k:  # more rows than salts: reported below
                        chunk_salts += [bytes(SALT_SIZE)] * (k - len(chunk_salts))
                take(hashes, chunk_salts, chunk_subjects)
                count += k
            stream.read()  # hash to the end even if the parser stopped early
            source_sha256 = raw.digest()
            size = raw.bytes_read
    except OSError as exc:
        raise UnreadableFileError(f"cannot read {name} ({_reason(exc)}).") from None
    finally:
        os.close(fd)
    if not count:
        raise EmptyDatasetError(f"{name} holds no record, so there is nothing to anchor.")
    if size != st.st_size:
        raise FileChangedError(
            f"{name} changed while it was being hashed ({st.st_size} bytes at first, {size} read)."
        )
    if salts is not None:
        if not erased and source_sha256 != salts.source_sha256:
            raise FileChangedError(
                f"{name} changed while it was being hashed (its SHA-256 no longer matches)."
            )
        salts.check_matches(
            source_sha256=source_sha256, record_format=record_format, rows=count, name=name
        )
    return source_sha256, count


def hash_records(
    path: str | os.PathLike[str],
    *,
    fmt: RecordFormat | None = None,
    salts: Salts | None = None,
    digest: Digest = "sha256",
    on_progress: ProgressCallback | None = None,
) -> RecordSet:
    """Hash every row of a CSV or JSON Lines file into salted record leaves.

    With ``salts`` (read from the sidecar), the same file always gives the same entries;
    without, a fresh salt is drawn per row and returned in :attr:`RecordSet.salts`.

    Args:
        path: The data file.
        fmt: ``"csv"`` or ``"jsonl"``; ``None`` decides from the suffix.
        salts: Salts made earlier for this very file.
        digest: What hashes each record's canonical JSON: ``"sha256"`` or ``"sm3"``.
        on_progress: Called as ``on_progress(bytes_done, bytes_total)`` about every MiB.

    Raises:
        RecordFormatError: the file is malformed (the message names the line), or its
            format cannot be told from its suffix.
        EmptyDatasetError: the file has no record.
        SaltsMismatchError: ``salts`` were made for another file (other SHA-256, row count
            or format).
        NotARegularFileError, UnreadableFileError, FileChangedError: the file cannot be read
            as one consistent state.
    """
    name = os.fspath(path)
    record_format = _record_format(name, fmt)
    entries: list[RecordEntry] = []

    def take(digests: list[bytes], chunk_salts: list[bytes], _: object) -> None:
        first = len(entries)
        entries.extend(map(RecordEntry, range(first, first + len(digests)), digests, chunk_salts))

    source_sha256, _ = _read_records(
        name,
        record_format,
        salts,
        take,
        chunk_rows=STREAM_CHUNK_ROWS,
        on_progress=on_progress,
        digests=(digest,),
    )
    if salts is not None:
        used = salts
    else:
        used = Salts(
            source_name=Path(name).name,
            source_sha256=source_sha256,
            record_format=record_format,
            values=tuple(entry.salt for entry in entries),
        )
    return RecordSet(
        source_name=Path(name).name,
        source_sha256=source_sha256,
        record_format=record_format,
        entries=entries,
        salts=used,
    )


def record_at(
    path: str | os.PathLike[str],
    row: int,
    *,
    salts: Salts,
    fmt: RecordFormat | None = None,
    digest: Digest = "sha256",
) -> RecordEntry:
    """The entry of row ``row`` (from 0) of a records file, with its salt from ``salts``.

    Unlike :func:`hash_records` this works with salts some of whose records were erased (the
    other rows stay provable); the file must still have as many rows as the salts.

    Raises:
        RecordErasedError: row ``row`` was erased (its salt destroyed).
        HashingError: there is no row ``row``.
        SaltsMismatchError, RecordFormatError, …: as :func:`hash_records`.
    """
    return record_at_digests(path, row, salts=salts, fmt=fmt, digests=(digest,))[digest]


def record_at_digests(
    path: str | os.PathLike[str],
    row: int,
    *,
    salts: Salts,
    fmt: RecordFormat | None = None,
    digests: Sequence[Digest] = DIGESTS,
) -> dict[Digest, RecordEntry]:
    """The entry of row ``row`` by each of ``digests``, from one reading of the file (what
    :func:`record_at` gives for one); the same errors."""
    name = os.fspath(path)
    record_format = _record_format(name, fmt)
    salt = salts.salt(row, name=name)
    wanted = tuple(dict.fromkeys(digests))
    found: list[bytes] = []
    seen = 0

    def take(hashes: list[bytes], _salts: list[bytes], _subjects: object) -> None:
        nonlocal seen
        if seen <= row < seen + len(hashes):
            found.append(hashes[row - seen])
        seen += len(hashes)

    _read_records(
        name,
        record_format,
        salts,
        take,
        chunk_rows=STREAM_CHUNK_ROWS,
        on_progress=None,
        whole=False,
        digests=wanted,
    )
    joined = found[0]
    return {d: RecordEntry(row, joined[32 * i : 32 * (i + 1)], salt) for i, d in enumerate(wanted)}


# ---------------------------------------------------------------------------- streaming

#: Rows hashed and handed on together by :func:`stream_records` (64 bytes each: 4 MiB).
STREAM_CHUNK_ROWS = 65536


@dataclass(frozen=True, slots=True)
class RecordStream:
    """What :func:`stream_records` read (the entries themselves went to ``on_chunk``).

    Attributes:
        source_name: File name of the data file.
        source_sha256: SHA-256 of exactly the bytes that were parsed.
        record_format: ``"csv"`` or ``"jsonl"``.
        rows: Number of records.
    """

    source_name: str
    source_sha256: bytes
    record_format: RecordFormat
    rows: int


def stream_records(
    path: str | os.PathLike[str],
    on_chunk: Callable[[bytes], None],
    *,
    fmt: RecordFormat | None = None,
    salts: Salts | None = None,
    salts_path: str | os.PathLike[str] | None = None,
    chunk_rows: int = STREAM_CHUNK_ROWS,
    digest: Digest = "sha256",
    on_progress: ProgressCallback | None = None,
    subject_column: str | None = None,
    subject_keys: SubjectKeys | None = None,
) -> RecordStream:
    """Hash every row like :func:`hash_records`, in bounded memory, whatever the row count.

    Rows are read, canonicalised and hashed ``chunk_rows`` at a time; each chunk is handed
    to ``on_chunk`` as packed entries, ``record_hash || salt`` (64 bytes) per row in row
    order, then dropped. With ``salts`` (read from the sidecar) those salts are used; without,
    a fresh 32-byte salt is drawn per row from :mod:`secrets` and the sidecar is written to
    ``salts_path`` as the rows go (byte for byte what :func:`write_salts` writes, owner-only,
    atomically, and only once the whole file has been read without error).

    With ``subject_column`` (fresh salts only), each row's subject is the value of that CSV
    column or JSON Lines field: the row's salt comes from the subject's key in
    ``subject_keys`` (made when new), and the sidecar is a ``xietong-salts/2`` one. The store
    is saved before the sidecar is written, so no sidecar names a key that was not kept.

    Raises:
        The errors of :func:`hash_records`; SaltsExistError or SaltsFileError when the
        sidecar ``salts_path`` exists already or cannot be written.
    """
    name = os.fspath(path)
    record_format = _record_format(name, fmt)
    if chunk_rows < 1:
        raise ValueError("chunk_rows must be at least 1")
    if salts is None and salts_path is None:
        raise ValueError("fresh salts need a salts_path to be written to")
    if subject_column is not None and (salts is not None or subject_keys is None):
        raise ValueError("a subject column draws fresh salts, from subject keys")
    writer = (
        SaltsWriter(
            os.fspath(salts_path),
            subject_keys_id=subject_keys.id
            if subject_column is not None and subject_keys
            else None,
        )
        if salts_path is not None and salts is None
        else None
    )

    def take(
        digests: list[bytes], chunk_salts: list[bytes], subjects: list[Subject | None] | None
    ) -> None:
        if writer is not None:
            if subjects is not None:
                writer.write_rows(chunk_salts, subjects)
            else:
                writer.write(b"".join(chunk_salts))
        on_chunk(b"".join(map(bytes.__add__, digests, chunk_salts)))

    try:
        source_sha256, count = _read_records(
            name,
            record_format,
            salts,
            take,
            chunk_rows=chunk_rows,
            on_progress=on_progress,
            digests=(digest,),
            subject_column=subject_column,
            subject_keys=subject_keys,
        )
        if subject_keys is not None and subject_column is not None:
            subject_keys.save()  # before the sidecar that needs its keys
        if writer is not None:
            writer.finish(Path(name).name, source_sha256, record_format, count)
    finally:
        if writer is not None:
            writer.discard()
    return RecordStream(
        source_name=Path(name).name,
        source_sha256=source_sha256,
        record_format=record_format,
        rows=count,
    )

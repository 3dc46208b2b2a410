"""The typed refusals of :mod:`ledger.hashing`.

All of them are :class:`ledger.errors.InputError` (the input — a folder, a file, a record, a
salts sidecar — cannot be used as given), under one common :class:`HashingError`. Each
``str()`` is one sentence; none of them ever contains a salt.
"""

from __future__ import annotations

from ..errors import InputError

__all__ = [
    "CanonicalJsonError",
    "DuplicatePathError",
    "EmptyDatasetError",
    "FileChangedError",
    "HashingError",
    "NotARegularFileError",
    "PathEscapesRootError",
    "PathNameError",
    "RecordErasedError",
    "RecordFormatError",
    "RootNotADirectoryError",
    "SaltsExistError",
    "SaltsFileError",
    "SaltsMismatchError",
    "SubjectKeysError",
    "SymlinkRefusedError",
    "UnreadableFileError",
]


# Control characters (file names may hold line breaks) shown escaped: a message stays one line.
_ESCAPES = {c: f"\\x{c:02x}" for c in [*range(0x20), 0x7F]} | {0x2028: "\\u2028", 0x2029: "\\u2029"}


class HashingError(InputError):
    """Files, records or salts cannot be turned into leaves."""

    kind = "hashing"

    def __init__(self, message: str = "", *args: object) -> None:
        super().__init__(message.translate(_ESCAPES), *args)


# ---------------------------------------------------------------------------- files


class SymlinkRefusedError(HashingError):
    """A symbolic link (to a file or a directory) was found where only real entries count."""

    kind = "symlink-refused"


class PathEscapesRootError(HashingError):
    """A path would leave the dataset's root directory (absolute, or with ``..``)."""

    kind = "path-escapes-root"


class NotARegularFileError(HashingError):
    """A FIFO, socket or device was found where only regular files count."""

    kind = "not-a-regular-file"


class RootNotADirectoryError(HashingError):
    """The root given for a directory dataset is missing or not a directory."""

    kind = "not-a-directory"


class UnreadableFileError(HashingError):
    """A file or directory exists but cannot be opened, listed or read."""

    kind = "unreadable-file"


class FileChangedError(HashingError):
    """A file changed (size, identity or content) while it was being hashed."""

    kind = "file-changed"


class PathNameError(HashingError):
    """A file name cannot become a leaf path (it is not valid UTF-8), or a path given holds a
    NUL character."""

    kind = "bad-path-name"


class DuplicatePathError(HashingError):
    """Two files map to the same leaf path once their names are NFC-normalized."""

    kind = "duplicate-path"


class EmptyDatasetError(HashingError):
    """There is nothing to anchor: no regular file, or no record."""

    kind = "empty-dataset"


# ---------------------------------------------------------------------------- records


class CanonicalJsonError(HashingError):
    """A value has no RFC 8785 canonical JSON form (NaN, a lone surrogate, a huge int, …)."""

    kind = "canonical-json"


class RecordFormatError(HashingError):
    """A CSV or JSON Lines file is malformed.

    Attributes:
        line: The 1-based line of the file where the problem is (``None`` when it concerns
            the whole file, e.g. an unknown format).
    """

    kind = "record-format"

    def __init__(self, message: str, *, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


# ---------------------------------------------------------------------------- salts


class SaltsFileError(HashingError):
    """A salts sidecar is malformed (not JSON, wrong version, bad salt, …)."""

    kind = "salts-file"


class SaltsMismatchError(HashingError):
    """A salts sidecar belongs to another data file (other SHA-256, row count or format)."""

    kind = "salts-mismatch"


class RecordErasedError(HashingError):
    """A record's salt was destroyed when its owner erased it: it can no longer be proven,
    and the file can no longer be hashed whole."""

    kind = "record-erased"


class SaltsExistError(HashingError):
    """A salts sidecar already exists and overwriting it was not asked for."""

    kind = "salts-exist"


class SubjectKeysError(HashingError):
    """The subject key store is missing, unreadable or malformed, or lacks a subject asked
    for (:mod:`ledger.hashing._subjects`)."""

    kind = "subject-keys"

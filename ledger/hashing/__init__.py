"""Leaves from data: file hashes, directory walks, canonical JSON records and their salts.

Pure where it can be (``canonical_json``, ``record_hash``, ``record_entry``); only the
functions that take a path do I/O. Nothing here prints or logs, and no ``repr`` or error
message ever shows a salt.

A dataset's content digest is SHA-256 or SM3 (``Digest``, :mod:`ledger.hashing._digests`);
every function below takes ``digest=`` ("sha256" by default).

Files (see :mod:`ledger.hashing._files` for the rules)::

    digest_file(path, *, digest, on_progress=None) -> bytes           # sha256_file: SHA-256
    walk_directory(root, *, on_progress=None) -> list[FileEntry]     # sorted, links refused
    file_entry(root, relative, *, on_progress=None) -> FileEntry      # one file of a tree

Records (CSV or JSON Lines; see :mod:`ledger.hashing._records`)::

    canonical_json(value) -> bytes                                    # RFC 8785
    record_hash(row) -> bytes                                         # SHA-256/SM3 of the above
    record_entry(row, salt) -> (record_hash, salt)
    hash_records(path, *, fmt=None, salts=None, on_progress=None) -> RecordSet
    record_at(path, row, *, salts) -> RecordEntry                     # one row, erased ones kept
    record_at_digests(path, row, *, salts) -> {digest: RecordEntry}   # by each, one reading

Salts sidecar (format ``xietong-salts/1``, or ``/2`` with subject keys; see
:mod:`ledger.hashing._salts`)::

    write_salts(path, salts, *, overwrite=False) -> None              # atomic, mode 0600
    read_salts(path, *, data=None, subject_keys=None) -> Salts

Subject keys (format ``xietong-subject-keys/1``; see :mod:`ledger.hashing._subjects`)::

    SubjectKeys.open(path, *, create=False) -> SubjectKeys            # .tag, .draw, .destroy, .save

``on_progress`` is called as ``on_progress(bytes_done, bytes_total)``; the CLI drives a
progress bar from it.
"""

from __future__ import annotations

from ._canonical import (
    MAX_EXACT_INT,
    canonical_json,
    canonicalize_json_text,
    ecmascript_number,
    loads_strict,
)
from ._digests import DIGESTS, Digest, check_digest, hasher
from ._errors import (
    CanonicalJsonError,
    DuplicatePathError,
    EmptyDatasetError,
    FileChangedError,
    HashingError,
    NotARegularFileError,
    PathEscapesRootError,
    PathNameError,
    RecordErasedError,
    RecordFormatError,
    RootNotADirectoryError,
    SaltsExistError,
    SaltsFileError,
    SaltsMismatchError,
    SubjectKeysError,
    SymlinkRefusedError,
    UnreadableFileError,
)
from ._files import (
    CHUNK_SIZE,
    FileEntry,
    ProgressCallback,
    digest_file,
    file_digests,
    file_entry,
    leaf_path,
    sha256_file,
    walk_directory,
)
from ._records import (
    RecordEntry,
    RecordSet,
    hash_records,
    record_at,
    record_at_digests,
    record_entry,
    record_format_of,
    record_hash,
    stream_records,
)
from ._salts import (
    SALT_SIZE,
    SALTS_FORMAT,
    SUBJECT_SALTS_FORMAT,
    RecordFormat,
    Salts,
    read_salts,
    write_salts,
)
from ._subjects import SUBJECT_KEYS_FORMAT, SubjectKeys, subject_salt

__all__ = [
    "CHUNK_SIZE",
    "DIGESTS",
    "MAX_EXACT_INT",
    "SALTS_FORMAT",
    "SALT_SIZE",
    "SUBJECT_KEYS_FORMAT",
    "SUBJECT_SALTS_FORMAT",
    "CanonicalJsonError",
    "Digest",
    "DuplicatePathError",
    "EmptyDatasetError",
    "FileChangedError",
    "FileEntry",
    "HashingError",
    "NotARegularFileError",
    "PathEscapesRootError",
    "PathNameError",
    "ProgressCallback",
    "RecordEntry",
    "RecordErasedError",
    "RecordFormat",
    "RecordFormatError",
    "RecordSet",
    "RootNotADirectoryError",
    "Salts",
    "SaltsExistError",
    "SaltsFileError",
    "SaltsMismatchError",
    "SubjectKeys",
    "SubjectKeysError",
    "SymlinkRefusedError",
    "UnreadableFileError",
    "canonical_json",
    "canonicalize_json_text",
    "check_digest",
    "digest_file",
    "ecmascript_number",
    "file_digests",
    "file_entry",
    "hash_records",
    "hasher",
    "leaf_path",
    "loads_strict",
    "read_salts",
    "record_at",
    "record_at_digests",
    "record_entry",
    "record_format_of",
    "record_hash",
    "sha256_file",
    "stream_records",
    "subject_salt",
    "walk_directory",
    "write_salts",
]

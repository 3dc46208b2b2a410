"""File leaves: streaming SHA-256 of files and deterministic walks of directories.

A directory dataset is the list of its regular files, each as (content SHA-256, relative
path, size), sorted by the UTF-8 bytes of the relative path. The relative path uses ``/``
and is NFC-normalized, so the same tree gives the same leaves on every system.

What counts, and what is refused:

* every regular file under the root counts, **hidden files (``.name``) included** — a
  dataset is exactly what is on disk, nothing is silently left out; empty directories do
  not count (there is nothing in them to anchor);
* a symbolic link anywhere under the root (to a file or to a directory), a FIFO, socket or
  device, a name that is not UTF-8, two names equal after NFC normalization, an unreadable
  file or directory, a root that is not a directory (or is itself a link), and a root with
  no regular file at all are each refused with their own :class:`~ledger.errors.InputError`;
* a file that changes while it is hashed (identity, size or modification time) is refused
  too, so an entry's hash and size always describe one state of the file.

Files are opened with ``O_NOFOLLOW | O_NONBLOCK`` and checked with ``fstat`` against what
the listing saw, so a link or FIFO swapped in after the listing is refused, never followed
or waited on.
"""

from __future__ import annotations

import contextlib
import errno
import itertools
import os
import stat
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ._digests import DIGESTS, Digest, hasher
from ._errors import (
    DuplicatePathError,
    EmptyDatasetError,
    FileChangedError,
    NotARegularFileError,
    PathEscapesRootError,
    PathNameError,
    RootNotADirectoryError,
    SymlinkRefusedError,
    UnreadableFileError,
)

__all__ = [
    "CHUNK_SIZE",
    "FileEntry",
    "ProgressCallback",
    "digest_file",
    "file_digests",
    "file_entry",
    "leaf_path",
    "sha256_file",
    "walk_directory",
]

#: ``on_progress(bytes_done, bytes_total)``; called often during long work (about every MiB).
ProgressCallback = Callable[[int, int], None]

#: Read size of the hashing loop: 1 MiB (see docs/BENCH_HASHING.md for the measurements).
CHUNK_SIZE = 1 << 20

_OPEN_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NONBLOCK", 0)  # a FIFO swapped in must not block the open
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


@dataclass(frozen=True, slots=True)
class FileEntry:
    """One file leaf: what the file holds, where it is, how big it is.

    Attributes:
        content_hash: Digest of the file's bytes (32 bytes): SHA-256, or SM3 for an SM3
            dataset (``digest``).
        path: Path relative to the dataset root: ``/``-separated, NFC-normalized UTF-8.
        size: Number of bytes hashed.
    """

    content_hash: bytes
    path: str
    size: int
    digest: Digest = "sha256"


def _no_nul(name: str) -> str:
    """``name`` unless it holds a NUL character, which no file name can (PathNameError)."""
    if "\x00" in name:
        shown = repr(name if len(name) <= 80 else name[:77] + "...")
        raise PathNameError(
            f"the path {shown} contains a NUL character, which no file name can hold."
        )
    return name


def _special_kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISDIR(mode):
        return "a directory"
    return "not a regular file"


def _reason(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


# ---------------------------------------------------------------------------- hashing


def _hash_fd(
    fd: int,
    *,
    name: str,
    on_progress: ProgressCallback | None,
    done: int = 0,
    total: int = 0,
    limit: int | None = None,
    chunk_size: int = CHUNK_SIZE,
    digests: tuple[Digest, ...] = ("sha256",),
) -> tuple[list[bytes], int]:
    """The ``digests`` (SHA-256, SM3) and length of what is readable from ``fd`` (from its
    current offset), every digest from one read of each byte.

    Stops as soon as more than ``limit`` bytes were read (a file still being written to
    would otherwise be followed for ever); the caller sees the excess in the length.
    """
    states = [hasher(d)() for d in digests]
    update = states[0].update if len(states) == 1 else lambda data: [s.update(data) for s in states]
    buffer = bytearray(chunk_size)
    view = memoryview(buffer)
    size = 0
    if hasattr(os, "posix_fadvise"):
        with contextlib.suppress(OSError):
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_SEQUENTIAL)
    try:
        with open(fd, "rb", buffering=0, closefd=False) as stream:
            readinto = stream.readinto
            while True:
                n = readinto(buffer)
                if not n:
                    break
                update(buffer if n == chunk_size else view[:n])
                size += n
                if on_progress is not None:
                    on_progress(done + size, max(total, done + size))
                if limit is not None and size > limit:
                    break
    except OSError as exc:
        raise UnreadableFileError(f"cannot read {name} ({_reason(exc)}).") from None
    finally:
        view.release()
    return [s.digest() for s in states], size


def _open_checked(
    path: str, *, name: str, expect: os.stat_result | None, follow: bool
) -> tuple[int, os.stat_result]:
    """Open ``path`` without blocking on a FIFO (nor following a final link unless
    ``follow``), and check that it is the regular file ``expect`` describes."""
    _no_nul(path)
    try:
        fd = os.open(path, _OPEN_FLAGS if follow else _OPEN_FLAGS | _NOFOLLOW)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise SymlinkRefusedError(
                f"{name} is a symbolic link; links are refused so that a dataset is exactly the files under its root."
            ) from None
        if exc.errno == errno.ENOENT:
            if expect is not None:
                raise FileChangedError(
                    f"{name} disappeared while the dataset was being hashed."
                ) from None
            raise UnreadableFileError(f"{name} does not exist.") from None
        raise UnreadableFileError(f"cannot open {name} ({_reason(exc)}).") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise NotARegularFileError(
                f"{name} is {_special_kind(st.st_mode)}; only regular files can be hashed."
            )
        if expect is not None and (st.st_dev, st.st_ino) != (expect.st_dev, expect.st_ino):
            raise FileChangedError(f"{name} was replaced while the dataset was being hashed.")
    except BaseException:
        os.close(fd)
        raise
    return fd, st


def _hash_path(
    path: str,
    *,
    name: str,
    expect: os.stat_result | None,
    on_progress: ProgressCallback | None,
    done: int = 0,
    total: int | None = None,
    follow: bool = False,
    digests: tuple[Digest, ...],
) -> tuple[list[bytes], int]:
    fd, before = _open_checked(path, name=name, expect=expect, follow=follow)
    listed = expect or before
    try:
        values, size = _hash_fd(
            fd,
            name=name,
            on_progress=on_progress,
            done=done,
            total=before.st_size if total is None else total,
            limit=listed.st_size,
            digests=digests,
        )
        after = os.fstat(fd)
    finally:
        os.close(fd)
    if size != listed.st_size or after.st_size != size or after.st_mtime_ns != before.st_mtime_ns:
        read = f"{size}" if size <= listed.st_size else f"more than {listed.st_size}"
        raise FileChangedError(
            f"{name} changed while it was being hashed ({listed.st_size} bytes at first, {read} read)."
        )
    return values, size


def sha256_file(
    path: str | os.PathLike[str], *, on_progress: ProgressCallback | None = None
) -> bytes:
    """SHA-256 (32 bytes) of a regular file's content: :func:`digest_file` with SHA-256."""
    return digest_file(path, on_progress=on_progress)


def digest_file(
    path: str | os.PathLike[str],
    *,
    digest: Digest = "sha256",
    on_progress: ProgressCallback | None = None,
) -> bytes:
    """SHA-256 or SM3 (32 bytes) of a regular file's content, streamed in 1 MiB reads.

    ``path`` may name a file through a symbolic link (this hashes what the path shows);
    :func:`walk_directory` is the function that refuses links. FIFOs, sockets and devices
    are refused without being opened for reading in a way that could block.

    Args:
        path: The file.
        digest: ``"sha256"`` or ``"sm3"``.
        on_progress: Called as ``on_progress(bytes_done, bytes_total)`` after each read.

    Raises:
        NotARegularFileError: ``path`` is a directory, FIFO, socket or device.
        UnreadableFileError: ``path`` does not exist or cannot be opened or read.
        FileChangedError: the file changed size while it was read.
    """
    return file_digests(path, digests=(digest,), on_progress=on_progress)[digest]


def file_digests(
    path: str | os.PathLike[str],
    *,
    digests: tuple[Digest, ...] = DIGESTS,
    on_progress: ProgressCallback | None = None,
) -> dict[Digest, bytes]:
    """:func:`digest_file` for several digests (all by default) from one read of the file:
    a verifier's question when the file's dataset, and so its digest, is not known yet."""
    name = _no_nul(os.fspath(path))
    try:
        st = os.stat(name)
    except FileNotFoundError:
        raise UnreadableFileError(f"{name} does not exist.") from None
    except OSError as exc:
        raise UnreadableFileError(f"cannot inspect {name} ({_reason(exc)}).") from None
    if not stat.S_ISREG(st.st_mode):
        raise NotARegularFileError(
            f"{name} is {_special_kind(st.st_mode)}; only regular files can be hashed."
        )
    values, _ = _hash_path(
        name, name=name, expect=st, on_progress=on_progress, follow=True, digests=digests
    )
    return dict(zip(digests, values, strict=True))


# ---------------------------------------------------------------------------- paths


def leaf_path(parts: list[str] | tuple[str, ...]) -> str:
    """The leaf path of a file from its path components below the root.

    Joins with ``/`` and NFC-normalizes. Components come from the file system as ``str``
    (undecodable bytes as surrogate escapes, which are refused here).

    Raises:
        PathEscapesRootError: a component is empty, ``.`` or ``..``, or contains ``/``.
        PathNameError: a component is not valid UTF-8.
    """
    if not parts:
        raise PathEscapesRootError("an empty path names the root itself, not a file under it.")
    for part in parts:
        if part in ("", ".", "..") or "/" in part or "\x00" in part:
            raise PathEscapesRootError(
                f"the path component {part!r} would not stay a plain name under the root."
            )
    joined = "/".join(parts)
    try:
        joined.encode("utf-8")
    except UnicodeEncodeError:
        shown = os.fsencode(joined).decode("utf-8", "backslashreplace")
        raise PathNameError(
            f"the file name {shown!r} is not valid UTF-8, so it cannot be a leaf path; rename it."
        ) from None
    return unicodedata.normalize("NFC", joined)


def _relative_parts(relative: str | os.PathLike[str]) -> list[str]:
    text = _no_nul(os.fspath(relative))
    if os.path.isabs(text) or text.startswith(("/", "\\")) or (len(text) > 1 and text[1] == ":"):
        raise PathEscapesRootError(
            f"{text} is an absolute path; give a path relative to the dataset root."
        )
    separators = "/" if os.sep == "/" else "/\\"
    parts: list[str] = [text]
    for sep in separators:
        parts = [piece for part in parts for piece in part.split(sep)]
    parts = [p for p in parts if p not in ("", ".")]
    if ".." in parts:
        raise PathEscapesRootError(
            f"{text} contains '..' and could leave the dataset root; give a path below the root."
        )
    if not parts:
        raise PathEscapesRootError(f"{text!r} names the root itself, not a file under it.")
    return parts


def _check_root(root: str) -> os.stat_result:
    _no_nul(root)
    try:
        st = os.lstat(root)
    except FileNotFoundError:
        raise RootNotADirectoryError(f"{root} does not exist.") from None
    except OSError as exc:
        raise UnreadableFileError(f"cannot inspect {root} ({_reason(exc)}).") from None
    if stat.S_ISLNK(st.st_mode):
        raise SymlinkRefusedError(f"{root} is a symbolic link; give the directory it points to.")
    if not stat.S_ISDIR(st.st_mode):
        raise RootNotADirectoryError(f"{root} is not a directory.")
    return st


def file_entry(
    root: str | os.PathLike[str],
    relative: str | os.PathLike[str],
    *,
    digest: Digest = "sha256",
    on_progress: ProgressCallback | None = None,
) -> FileEntry:
    """The leaf of one file of a directory dataset, found by its path below ``root``.

    Gives the same :class:`FileEntry` as :func:`walk_directory` gives for that file.

    Raises:
        PathEscapesRootError: ``relative`` is absolute or contains ``..``.
        SymlinkRefusedError: the root, a directory on the way, or the file is a link.
        NotARegularFileError, UnreadableFileError, RootNotADirectoryError: as their names say.
    """
    base = os.fspath(root)
    _check_root(base)
    parts = _relative_parts(relative)
    path = base
    for index, part in enumerate(parts):
        path = os.path.join(path, part)
        name = "/".join(parts[: index + 1])
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            raise UnreadableFileError(f"{name} does not exist under {base}.") from None
        except OSError as exc:
            raise UnreadableFileError(
                f"cannot inspect {name} under {base} ({_reason(exc)})."
            ) from None
        if stat.S_ISLNK(st.st_mode):
            raise SymlinkRefusedError(
                f"{name} under {base} is a symbolic link; links are refused so that a dataset is exactly the files under its root."
            )
        last = index == len(parts) - 1
        if not last and not stat.S_ISDIR(st.st_mode):
            raise UnreadableFileError(f"{name} under {base} is not a directory.")
        if last and not stat.S_ISREG(st.st_mode):
            raise NotARegularFileError(
                f"{name} under {base} is {_special_kind(st.st_mode)}; only regular files can be leaves."
            )
    leaf = leaf_path(parts)
    [value], size = _hash_path(
        path, name=leaf, expect=st, on_progress=on_progress, digests=(digest,)
    )
    return FileEntry(content_hash=value, path=leaf, size=size, digest=digest)


# ---------------------------------------------------------------------------- walking


@dataclass(frozen=True, slots=True)
class _Listed:
    key: bytes
    leaf: str
    path: str
    stat: os.stat_result


def _list(root: str) -> list[_Listed]:
    root_stat = _check_root(root)
    listed: list[_Listed] = []
    seen_dirs = {(root_stat.st_dev, root_stat.st_ino)}
    stack: list[tuple[str, tuple[str, ...]]] = [(root, ())]
    while stack:
        directory, prefix = stack.pop()
        shown = "/".join(prefix) or "."
        try:
            with os.scandir(directory) as it:
                entries = list(it)
        except OSError as exc:
            raise UnreadableFileError(
                f"cannot list the directory {shown} under {root} ({_reason(exc)})."
            ) from None
        for entry in entries:
            parts = (*prefix, entry.name)
            name = "/".join(parts)
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError as exc:
                raise UnreadableFileError(
                    f"cannot inspect {name} under {root} ({_reason(exc)})."
                ) from None
            mode = st.st_mode
            if stat.S_ISLNK(mode):
                raise SymlinkRefusedError(
                    f"{name} under {root} is a symbolic link; links are refused so that a dataset is exactly the files under its root."
                )
            if stat.S_ISDIR(mode):
                identity = (st.st_dev, st.st_ino)
                if identity in seen_dirs:
                    raise PathEscapesRootError(
                        f"{name} under {root} is a directory already walked (a bind-mount loop)."
                    )
                seen_dirs.add(identity)
                stack.append((entry.path, parts))
            elif stat.S_ISREG(mode):
                leaf = leaf_path(parts)
                listed.append(
                    _Listed(key=leaf.encode("utf-8"), leaf=leaf, path=entry.path, stat=st)
                )
            else:
                raise NotARegularFileError(
                    f"{name} under {root} is {_special_kind(mode)}; only regular files can be leaves."
                )
    listed.sort(key=lambda item: item.key)
    for before, after in itertools.pairwise(listed):
        if before.key == after.key:
            raise DuplicatePathError(
                f"two files under {root} are both named {after.leaf} once NFC-normalized; rename one of them."
            )
    return listed


def walk_directory(
    root: str | os.PathLike[str] | Path,
    *,
    digest: Digest = "sha256",
    on_progress: ProgressCallback | None = None,
) -> list[FileEntry]:
    """Every regular file under ``root`` as a :class:`FileEntry`, in leaf order.

    The order is the UTF-8 byte order of the relative paths, whatever order the files were
    created or listed in. Hidden files are included. The whole tree is listed (and refused
    if anything in it is refused) before any byte is hashed.

    Args:
        root: The dataset directory (not a symbolic link).
        digest: ``"sha256"`` or ``"sm3"`` for the files' contents.
        on_progress: Called as ``on_progress(bytes_done, bytes_total)`` — first with 0, then
            about every MiB, last with ``bytes_total``.

    Raises:
        RootNotADirectoryError: ``root`` does not exist or is not a directory.
        SymlinkRefusedError: ``root`` or anything under it is a symbolic link.
        NotARegularFileError: a FIFO, socket or device is under ``root``.
        UnreadableFileError: a file or directory cannot be listed, opened or read.
        PathNameError, DuplicatePathError: a name cannot be a leaf path.
        EmptyDatasetError: there is no regular file under ``root``.
        FileChangedError: a file changed while the tree was being hashed.
    """
    base = os.fspath(root)
    listed = _list(base)
    if not listed:
        raise EmptyDatasetError(f"{base} holds no regular file, so there is nothing to anchor.")
    total = sum(item.stat.st_size for item in listed)
    if on_progress is not None:
        on_progress(0, total)
    entries: list[FileEntry] = []
    done = 0
    for item in listed:
        [value], size = _hash_path(
            item.path,
            name=item.leaf,
            expect=item.stat,
            on_progress=on_progress,
            done=done,
            total=total,
            digests=(digest,),
        )
        done += size
        entries.append(FileEntry(content_hash=value, path=item.leaf, size=size, digest=digest))
    if on_progress is not None:
        on_progress(done, total)
    return entries

"""Owner-only files written whole or not at all (the salts sidecar, the subject key store)."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile

__all__ = ["fsync_directory", "link_new", "write_private"]


def link_new(temporary: str, target: str) -> None:
    """Put ``temporary`` at ``target`` unless ``target`` exists (a hard link fails when it
    does, even against a racing writer): FileExistsError then, OSError for any other
    failure."""
    try:
        os.link(temporary, target)
    except FileExistsError:
        raise
    except OSError:
        # No hard links here (some FUSE / SMB mounts): best effort, checked just before.
        if os.path.lexists(target):
            raise FileExistsError(target) from None
        os.replace(temporary, target)


def fsync_directory(directory: str) -> None:
    flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0)
    try:
        fd = os.open(directory, flags)
    except OSError:
        return  # not supported here (e.g. some network file systems)
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)


def write_private(target: str, data: bytes, *, overwrite: bool) -> None:
    """Write ``data`` to ``target``: a temporary file in the same directory (mode 0600),
    fsynced, then renamed into place (``overwrite``) or linked there only if nothing is
    (FileExistsError otherwise), and the directory fsynced. A crash leaves the old file or
    the new one, whole. OSError when it cannot be written."""
    directory = os.path.dirname(os.path.abspath(target))
    fd, temporary = tempfile.mkstemp(
        dir=directory, prefix="." + os.path.basename(target) + ".", suffix=".tmp"
    )
    try:
        try:
            os.fchmod(fd, stat.S_IRUSR | stat.S_IWUSR)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        if overwrite:
            os.replace(temporary, target)
        else:
            link_new(temporary, target)
        fsync_directory(directory)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)

"""Owner-only files at rest: what the gateway creates (``var/``, the node's directory, the SQLite
database) only its own user can read, whatever the umask; and how a secret file it reads (the
keystore, its password file) is open to other users, with the command that closes it
(POSIX modes and owners: the gateway runs on Linux); and files replaced atomically.
"""

from __future__ import annotations

import os
import pwd
import shlex
import stat
from pathlib import Path

__all__ = [
    "OWNER_ONLY_DIR",
    "OWNER_ONLY_FILE",
    "create_private_file",
    "exposure",
    "make_private_dir",
    "replace_file",
]

#: Mode of the directories the gateway creates (``var/``, ``var/node``).
OWNER_ONLY_DIR = 0o700
#: Mode of the files the gateway creates that hold its data (the SQLite database).
OWNER_ONLY_FILE = 0o600
#: Permission bits for the group and everyone else.
_OTHERS = 0o077


def make_private_dir(path: Path) -> None:
    """Create ``path`` and its missing parents, each owner-only (0700, whatever the umask).

    Directories that exist already are left as they are (the parent of ``var/`` is the
    operator's)."""
    missing: list[Path] = []
    current = path
    while not current.exists() and current != current.parent:
        missing.append(current)
        current = current.parent
    for directory in reversed(missing):
        try:
            directory.mkdir(mode=OWNER_ONLY_DIR)
        except FileExistsError:  # made by another process meanwhile: theirs to set
            continue
        os.chmod(directory, OWNER_ONLY_DIR)


def create_private_file(path: Path) -> bool:
    """Create ``path`` empty and owner-only (0600, whatever the umask) unless it exists;
    whether it was created. A file made this way before SQLite opens it gives the database,
    and the ``-wal`` and ``-shm`` files SQLite makes beside it with the database's mode, no
    moment readable by others."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, OWNER_ONLY_FILE)
    except FileExistsError:
        return False
    try:
        os.fchmod(descriptor, OWNER_ONLY_FILE)
    finally:
        os.close(descriptor)
    return True


def exposure(path: Path) -> str | None:
    """How other users can get at the existing file ``path``, as the end of a sentence that
    names it (``"is readable by other users (mode 0644): run `chmod 600 PATH`"``), or None
    when it belongs to this process's user and no bit of its mode is the group's or others'.

    Symbolic links are followed (the file read is the one that counts)."""
    status = path.stat()
    quoted = shlex.quote(str(path))
    user = os.geteuid()
    if status.st_uid != user:
        return (
            f"belongs to another user (uid {status.st_uid}) than the gateway's "
            f"({_user_name(user)}): run `chown {shlex.quote(_user_name(user))} {quoted}` and "
            f"`chmod 600 {quoted}`"
        )
    mode = stat.S_IMODE(status.st_mode)
    if not mode & _OTHERS:
        return None
    if mode & 0o044:
        access = "readable"
    elif mode & 0o022:
        access = "writable"
    else:
        access = "executable"
    return f"is {access} by other users (mode {mode:04o}): run `chmod 600 {quoted}`"


def _user_name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def replace_file(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically: a temporary file beside it, renamed over
    it; on a failure nothing half-written is left (the temporary file goes)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    except OSError:
        tmp.unlink(missing_ok=True)
        raise

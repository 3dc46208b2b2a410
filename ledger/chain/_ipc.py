"""JSON-RPC over a geth validator's IPC socket: the operator's channel to its own node.

A validator's HTTP RPC serves no namespace that manages the node (``ledger.chain.network``),
so what only the operator may do (start sealing, list the peers) goes through the Unix socket
geth makes (mode 0600: the operator's account alone can connect), in this user's private
folder ``$TMPDIR/xietong-<uid>`` (mode 0700; a socket's path is too short for most data
folders).
"""

from __future__ import annotations

import json
import os
import socket
import stat
import tempfile
from pathlib import Path
from typing import Any

from ..errors import NodeError

__all__ = ["MAX_IPC_PATH", "ensure_ipc_folder", "ipc_call", "ipc_folder"]

#: Bytes of a Unix socket's path Linux keeps (``sun_path`` is 108, with its final NUL).
MAX_IPC_PATH = 107


def ipc_folder() -> Path:
    """This user's folder for the validators' IPC sockets."""
    return Path(tempfile.gettempdir()) / f"xietong-{os.getuid()}"


def ensure_ipc_folder() -> Path:
    """The folder, made owner-only when missing; NodeError when what is there is not this
    user's private folder (another user could then replace a socket)."""
    folder = ipc_folder()
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
        seen = folder.lstat()
    except OSError as exc:
        raise NodeError(
            f"cannot make the folder of the validators' IPC sockets {folder} ({exc.strerror})."
        ) from None
    if (
        not stat.S_ISDIR(seen.st_mode)
        or seen.st_uid != os.getuid()
        or stat.S_IMODE(seen.st_mode) & 0o077
    ):
        raise NodeError(
            f"{folder} is not a private folder of this user (a folder, owned by it, mode "
            "0700), so a validator's IPC socket is not put there: remove it."
        )
    return folder


def ipc_call(
    path: Path, method: str, params: list[Any] | None = None, *, timeout: float = 5
) -> Any:
    """One JSON-RPC request on the socket at ``path``; NodeError when it cannot be asked or
    answers an error."""
    request = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []})
    decoder = json.JSONDecoder()
    buffer = b""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(str(path))
            sock.sendall(request.encode())
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    raise NodeError(
                        f"the node at {path} closed its socket without answering {method}."
                    )
                buffer += chunk
                try:
                    answer, _ = decoder.raw_decode(buffer.decode().lstrip())
                except (UnicodeDecodeError, json.JSONDecodeError):
                    continue  # the answer is longer than what arrived so far
                break
    except OSError as exc:
        raise NodeError(
            f"the node's socket {path} does not answer: {exc.strerror or exc}."
        ) from None
    if not isinstance(answer, dict):
        raise NodeError(f"the node at {path} answered {method} with something not JSON-RPC.")
    if answer.get("error"):
        raise NodeError(f"the node at {path} refused {method}: {answer['error'].get('message')}")
    return answer.get("result")

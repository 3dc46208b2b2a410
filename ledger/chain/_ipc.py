"""JSON-RPC over a geth validator's IPC socket: the operator's channel to its own node.

A validator's HTTP RPC serves no namespace that manages the node (``ledger.chain.network``),
so what only the operator may do (start sealing, list the peers) goes through the Unix socket
geth makes in the validator's private data directory (mode 0600: the operator's account
alone can connect).
"""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

from ..errors import NodeError

__all__ = ["MAX_IPC_PATH", "ipc_call"]

#: Bytes of a Unix socket's path Linux keeps (``sun_path`` is 108, with its final NUL).
MAX_IPC_PATH = 107


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

"""ledger.chain._ipc: JSON-RPC over a Unix socket, against real sockets (a geth validator's
is in tests/ledger/chain/test_network.py); each way an answer can fail says so."""

from __future__ import annotations

import json
import os
import socket
import stat
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ledger.chain._ipc import ensure_ipc_folder, ipc_call
from ledger.errors import NodeError


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[[Callable[[socket.socket, bytes], None]], Path]]:
    """A Unix socket answering one request with ``reply(connection, request)``."""
    threads = []

    def start(reply: Callable[[socket.socket, bytes], None]) -> Path:
        path = tmp_path / "node.ipc"
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        server.bind(str(path))
        server.listen(1)

        def run() -> None:
            with server, server.accept()[0] as connection:
                reply(connection, connection.recv(65536))

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        threads.append(thread)
        return path

    yield start
    for thread in threads:
        thread.join(timeout=5)


def test_an_answer_arriving_in_pieces_is_read_whole(serve: Callable[..., Path]) -> None:
    def reply(connection: socket.socket, request: bytes) -> None:
        asked = json.loads(request)
        answer = json.dumps(
            {"jsonrpc": "2.0", "id": 1, "result": [asked["method"], "协同"]}, ensure_ascii=False
        )
        data = answer.encode()
        cut = data.index("协".encode()) + 1  # inside a multi-byte character
        connection.sendall(data[:cut])
        connection.sendall(data[cut:] + b"\n")

    path = serve(reply)
    assert ipc_call(path, "admin_peers") == ["admin_peers", "协同"]


def test_a_missing_socket_does_not_answer(tmp_path: Path) -> None:
    path = tmp_path / "gone.ipc"
    with pytest.raises(NodeError) as refused:
        ipc_call(path, "miner_start")
    assert (
        str(refused.value)
        == f"the node's socket {path} does not answer: No such file or directory."
    )


def test_a_socket_closed_without_an_answer(serve: Callable[..., Path]) -> None:
    path = serve(lambda connection, request: None)
    with pytest.raises(NodeError) as refused:
        ipc_call(path, "miner_start")
    assert str(refused.value) == (
        f"the node at {path} closed its socket without answering miner_start."
    )


def test_an_answer_that_is_not_json_rpc(serve: Callable[..., Path]) -> None:
    path = serve(lambda connection, request: connection.sendall(b"[1, 2]"))
    with pytest.raises(NodeError) as refused:
        ipc_call(path, "miner_start")
    assert str(refused.value) == (
        f"the node at {path} answered miner_start with something not JSON-RPC."
    )


def test_an_error_answer_is_refused(serve: Callable[..., Path]) -> None:
    error = {"code": -32601, "message": "the method x_y does not exist/is not available"}
    path = serve(
        lambda connection, request: connection.sendall(
            json.dumps({"jsonrpc": "2.0", "id": 1, "error": error}).encode()
        )
    )
    with pytest.raises(NodeError) as refused:
        ipc_call(path, "x_y")
    assert str(refused.value) == (
        f"the node at {path} refused x_y: the method x_y does not exist/is not available"
    )


def test_a_node_that_never_answers_times_out(serve: Callable[..., Path]) -> None:
    released = threading.Event()
    path = serve(lambda connection, request: released.wait(5))
    try:
        with pytest.raises(NodeError) as refused:
            ipc_call(path, "miner_start", timeout=0.2)
    finally:
        released.set()
    assert str(refused.value) == f"the node's socket {path} does not answer: timed out."


def test_the_sockets_folder_is_made_private_and_a_foreign_one_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    folder = tmp_path / f"xietong-{os.getuid()}"
    assert ensure_ipc_folder() == folder
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    refusal = (
        f"{folder} is not a private folder of this user (a folder, owned by it, mode 0700), so "
        "a validator's IPC socket is not put there: remove it."
    )
    folder.chmod(0o755)  # another user could replace a socket in it
    with pytest.raises(NodeError) as refused:
        ensure_ipc_folder()
    assert str(refused.value) == refusal
    folder.rmdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(mode=0o700)
    folder.symlink_to(elsewhere)
    with pytest.raises(NodeError) as linked:
        ensure_ipc_folder()
    assert str(linked.value) == refusal

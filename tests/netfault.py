"""A TCP proxy between the gateway and its chain node that a test can cut, to make the node
unreachable (refused or silent) for one gateway while the node itself runs on for the rest."""

from __future__ import annotations

import contextlib
import socket
import threading

from ledger.chain.node import free_port

__all__ = ["TcpProxy"]


class TcpProxy:
    """Forwards 127.0.0.1:``port`` to ``target``; :meth:`refuse` closes the door (connection
    refused), :meth:`blackhole` accepts and never answers, :meth:`restore` forwards again."""

    def __init__(self, target_port: int, target_host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self.mode = "forward"
        self.accepted = 0  # connections accepted so far, in any mode
        self._listener: socket.socket | None = None
        self._open: list[socket.socket] = []
        self._lock = threading.Lock()
        self._listen()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _listen(self) -> None:
        listener = socket.create_server(("127.0.0.1", self.port), reuse_port=False)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # closed
            self._track(client)
            self.accepted += 1
            if self.mode == "blackhole":
                continue  # held open, never read, never answered
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            self._track(upstream)
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _track(self, sock: socket.socket) -> None:
        with self._lock:
            self._open.append(sock)

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        for sock in (source, sink):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def _drop_connections(self) -> None:
        with self._lock:
            opened, self._open = self._open, []
        for sock in opened:
            with contextlib.suppress(OSError):
                sock.close()

    def refuse(self) -> None:
        """Connections are refused (as when the node's process is gone)."""
        self.mode = "refuse"
        if self._listener is not None:
            with contextlib.suppress(OSError):  # wakes the accepting thread (Linux)
                self._listener.shutdown(socket.SHUT_RDWR)
            self._listener.close()
            self._listener = None
        self._drop_connections()

    def blackhole(self) -> None:
        """Connections are accepted and never answered (a hung node or a dropped route)."""
        self._drop_connections()
        self.mode = "blackhole"
        if self._listener is None:
            self._listen()

    def restore(self) -> None:
        self._drop_connections()
        self.mode = "forward"
        if self._listener is None:
            self._listen()

    def close(self) -> None:
        self.refuse()

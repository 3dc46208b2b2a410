"""A webhook receiver on loopback: a real HTTP server that records each request (headers and
body bytes) and answers what the test tells it: a status, or nothing until released (a
receiver that hangs while the gateway is killed)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    url: str
    received: list[Received] = field(default_factory=list)
    #: The statuses to answer, in order (then 204).
    statuses: list[int] = field(default_factory=list)
    #: While set, a request is held (no answer) until it is cleared.
    hold: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    #: While set, the answer is 200 with a body announced as 10 GB that never ends.
    endless_body: threading.Event = field(default_factory=threading.Event)
    arrived: threading.Condition = field(default_factory=threading.Condition)

    def wait_for(self, count: int, timeout: float = 30.0) -> list[Received]:
        """The requests once ``count`` have arrived; AssertionError after ``timeout``."""
        with self.arrived:
            done = self.arrived.wait_for(lambda: len(self.received) >= count, timeout)
        assert done, f"{len(self.received)} requests arrived, {count} expected"
        return list(self.received)


@contextmanager
def receiver(host: str = "127.0.0.1") -> Iterator[Receiver]:
    """A receiver serving on a free port of ``host`` until the block ends."""
    state: dict[str, Receiver] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            got = state["r"]
            length = int(self.headers.get("content-length", "0"))
            body = self.rfile.read(length)
            with got.arrived:
                got.received.append(
                    Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                )
                got.arrived.notify_all()
            if got.hold.is_set():
                got.release.wait(60)
                return  # no answer: the connection closes when the server stops
            if got.endless_body.is_set():
                self.send_response(200)
                self.send_header("content-length", str(10**10))
                self.end_headers()
                self.wfile.write(b"x" * 65536)
                self.wfile.flush()
                got.release.wait(60)
                return
            status = got.statuses.pop(0) if got.statuses else 204
            self.send_response(status)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer((host, 0), Handler)
    server.daemon_threads = True
    state["r"] = Receiver(f"http://{host}:{server.server_address[1]}/hooks/xietong")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state["r"]
    finally:
        state["r"].release.set()
        server.shutdown()
        server.server_close()

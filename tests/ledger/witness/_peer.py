"""A peer gateway on loopback that says what the test tells it, and the signatures it hands
on (:func:`signed_item`): a real HTTP server answering
``GET /v1/checkpoints`` with the signatures it is given (paged by ``after`` and ``limit`` as a
gateway pages them), or a raw answer, a status, or nothing at all (a silent peer)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from ledger.keys import dev_account
from ledger.trust import ConsortiumTrust
from ledger.witness import cosign
from tests.support import reply_json


def signed_item(
    trust: ConsortiumTrust, account: int, number: int, block_hash: str, *, time: int = 1765000000
) -> dict[str, Any]:
    """A checkpoint signature as a gateway hands it on (``GET /v1/checkpoints``'s item without
    its ``seq``), made with development account ``account``'s key."""
    made = cosign(
        dev_account(account).key,
        chain_id=trust.chain_id,
        genesis_hash=trust.genesis_hash,
        number=number,
        block_hash=block_hash,
        time=time,
    )
    return {"number": number, "hash": block_hash, **made.as_dict()}


@dataclass
class Peer:
    url: str
    #: The signatures it serves, each with its ``seq`` (a gateway's item form).
    items: list[dict[str, Any]] = field(default_factory=list)
    #: When set: the bytes answered (status 200) instead of a page.
    raw: bytes | None = None
    status: int = 200
    #: While set, a request gets no answer until the server stops.
    silent: threading.Event = field(default_factory=threading.Event)
    #: While set, the answer announces 1 MiB and sends one byte every 0.2 s until the server
    #: stops (each read is quick; the whole never ends).
    trickle: threading.Event = field(default_factory=threading.Event)
    asked: list[str] = field(default_factory=list)

    def serve(self, *items: dict[str, Any]) -> None:
        """Serve ``items`` after those already served, numbered on."""
        for item in items:
            self.items.append({"seq": len(self.items) + 1, **item})


@contextmanager
def peer(host: str = "127.0.0.1") -> Iterator[Peer]:
    state: dict[str, Peer] = {}
    stop = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            got = state["p"]
            got.asked.append(self.path)
            if got.silent.is_set():
                stop.wait(60)
                return
            if got.trickle.is_set():
                self.send_response(200)
                self.send_header("content-length", str(1 << 20))
                self.end_headers()
                while not stop.wait(0.2):
                    try:
                        self.wfile.write(b" ")
                        self.wfile.flush()
                    except OSError:
                        return
                return
            if got.raw is not None:
                body = got.raw
            else:
                query = parse_qs(urlsplit(self.path).query)
                after = int(query.get("after", ["0"])[0])
                limit = int(query.get("limit", ["100"])[0])
                page = [i for i in got.items if i["seq"] > after][:limit]
                body = json.dumps(
                    {
                        "items": page,
                        "next_after": page[-1]["seq"] if page else after,
                        "last_seq": len(got.items),
                    }
                ).encode()
            reply_json(self, body, status=got.status)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer((host, 0), Handler)
    server.daemon_threads = True
    state["p"] = Peer(f"http://{host}:{server.server_address[1]}")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state["p"]
    finally:
        stop.set()
        server.shutdown()
        server.server_close()

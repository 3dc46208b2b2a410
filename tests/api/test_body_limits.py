"""Request bodies are bounded and callers authorized before a body is read (api/_guard.py).

Through the app, with an ASGI client that counts the pieces of the body the app asked for:
a body declared too large is refused unread, one streaming past the limit is cut short, a
route needing a key refuses a missing, wrong or too narrow key before any of the body, and a
stalled body gets 408. Then against a real ``xietong serve``: ten parallel anonymous clients
each offering 1 GiB all get their answer while the server's memory hardly grows."""

from __future__ import annotations

import asyncio
import itertools
import json
import select
import socket
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.types import Message

from tests.api._serving import Served
from tests.api._sockets import assert_problem_answer, read_until_closed
from tests.api._support import PROBLEM, Api, World

pytestmark = pytest.mark.timeout(180)

PIECE = 64 << 10
LIMIT = 256 << 10  # XIETONG_API_MAX_BODY of the apps under test
UPLOAD_LIMIT = 1 << 20  # XIETONG_API_MAX_UPLOAD of the apps under test
AGREEMENT = {"provider": "x", "dataset": "y", "purpose": "z"}  # fails validation: 422


@dataclass
class Answer:
    """What the app answered, and how many pieces of the body it asked for."""

    status: int
    headers: dict[str, str]
    body: bytes
    pieces_read: int
    problem: dict[str, Any] = field(default_factory=dict)

    def assert_problem(self, status: int, kind: str) -> None:
        assert self.status == status, (self.status, self.body[:300])
        assert self.headers["content-type"] == PROBLEM
        assert self.problem["type"] == f"urn:xietong:problem:{kind}", self.problem
        assert self.problem["status"] == status and self.problem["detail"]


def exchange(
    api: Api,
    path: str,
    *,
    pieces: Iterator[tuple[bytes, bool]],
    headers: dict[str, str] | None = None,
    declared: int | None = None,
    method: str = "POST",
) -> Answer:
    """Send ``pieces`` (bytes, whether more follow) as the body, chunked unless ``declared``
    gives a Content-Length; ``pieces`` running out before the end means the client stalls."""
    head = [(b"host", b"testserver"), (b"content-type", b"application/json")]
    head += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    if declared is None:
        head.append((b"transfer-encoding", b"chunked"))
    else:
        head.append((b"content-length", str(declared).encode()))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": head,
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
        "state": {},
    }
    read = 0
    sent: list[Message] = []

    async def receive() -> dict[str, Any]:
        nonlocal read
        piece = next(pieces, None)
        if piece is None:
            await asyncio.Event().wait()  # a stalled client
            raise AssertionError("unreachable")
        read += 1
        return {"type": "http.request", "body": piece[0], "more_body": piece[1]}

    async def send(message: Message) -> None:
        sent.append(message)

    asyncio.run(api.app(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    answer = Answer(
        start["status"],
        {k.decode(): v.decode() for k, v in start["headers"]},
        body,
        read,
    )
    if answer.headers.get("content-type") == PROBLEM:
        answer.problem = json.loads(body)
    return answer


def endless() -> Iterator[tuple[bytes, bool]]:
    return itertools.repeat((b" " * PIECE, True))


def whole(data: bytes) -> Iterator[tuple[bytes, bool]]:
    """The body ``data`` in one piece."""
    return iter([(data, False)])


def stalling(data: bytes) -> Iterator[tuple[bytes, bool]]:
    """``data``, and then nothing more: the rest of the body never comes."""
    return iter([(data, True)])


@pytest.fixture
def guarded(world: World, make_api: Callable[..., Api]) -> Api:
    return make_api(
        world.settings(api_max_body=LIMIT, api_max_upload=UPLOAD_LIMIT, api_body_timeout=0.5)
    )


def test_a_body_declared_too_large_is_refused_unread(guarded: Api) -> None:
    answer = exchange(
        guarded,
        "/v1/agreements",
        pieces=endless(),
        declared=LIMIT + 1,
        headers={"X-API-Key": guarded.key("admin")},
    )
    answer.assert_problem(413, "body-too-large")
    assert answer.pieces_read == 0
    assert answer.headers["connection"] == "close"
    assert str(LIMIT) in answer.problem["detail"]


def test_a_chunked_body_past_the_limit_is_cut_short(guarded: Api) -> None:
    answer = exchange(
        guarded, "/v1/agreements", pieces=endless(), headers={"X-API-Key": guarded.key("admin")}
    )
    answer.assert_problem(413, "body-too-large")
    assert answer.pieces_read == LIMIT // PIECE + 1
    assert answer.headers["connection"] == "close"


@pytest.mark.parametrize("declared", [None, LIMIT], ids=["chunked", "content-length"])
def test_without_a_key_not_a_byte_of_the_body_is_read(guarded: Api, declared: int | None) -> None:
    answer = exchange(guarded, "/v1/agreements", pieces=endless(), declared=declared)
    answer.assert_problem(401, "unauthorized")
    assert answer.pieces_read == 0
    assert answer.headers["www-authenticate"].startswith("ApiKey")
    assert answer.headers["connection"] == "close"


def test_a_wrong_key_is_refused_before_the_body(guarded: Api) -> None:
    answer = exchange(
        guarded, "/v1/agreements", pieces=endless(), headers={"X-API-Key": "xt_nosuchkey"}
    )
    answer.assert_problem(401, "unauthorized")
    assert answer.pieces_read == 0


def test_a_key_of_a_narrower_scope_is_refused_before_the_body(guarded: Api) -> None:
    answer = exchange(
        guarded, "/v1/agreements", pieces=endless(), headers={"X-API-Key": guarded.key("read")}
    )
    answer.assert_problem(403, "forbidden")
    assert answer.pieces_read == 0


def test_a_good_key_and_a_small_body_reach_the_route_charged_once(
    world: World, make_api: Callable[..., Api]
) -> None:
    # One request an hour: were the guard and the route both to charge the key, its first
    # request would already be refused (and no token comes back between the two requests).
    api = make_api(world.settings(api_max_body=LIMIT, api_rate_limit=1 / 3600, api_rate_burst=1))
    headers = {"X-API-Key": api.key("admin")}
    body = json.dumps(AGREEMENT).encode()
    first = exchange(api, "/v1/agreements", pieces=whole(body), declared=len(body), headers=headers)
    first.assert_problem(422, "invalid-request")  # the body was read and validated
    assert first.pieces_read == 1
    assert "connection" not in first.headers
    second = exchange(
        api, "/v1/agreements", pieces=whole(body), declared=len(body), headers=headers
    )
    second.assert_problem(429, "rate-limited")
    assert second.pieces_read == 0


@pytest.mark.parametrize("open_reads", [False, True], ids=["closed", "open"])
def test_open_reads_admit_anonymous_bodies_on_read_routes_only(
    world: World, make_api: Callable[..., Api], open_reads: bool
) -> None:
    api = make_api(world.settings(api_max_body=LIMIT, api_open_reads=open_reads))
    record = json.dumps({"record_hash": "0x12"}).encode()  # no salt: 422 once read
    answer = exchange(api, "/v1/verify/record", pieces=whole(record), declared=len(record))
    if open_reads:
        answer.assert_problem(422, "invalid-request")
        assert answer.pieces_read == 1
    else:
        answer.assert_problem(401, "unauthorized")
        assert answer.pieces_read == 0
    write = exchange(api, "/v1/agreements", pieces=endless())
    write.assert_problem(401, "unauthorized")
    assert write.pieces_read == 0


def test_a_stalled_body_gets_408(guarded: Api) -> None:
    answer = exchange(
        guarded,
        "/v1/verify/record",
        pieces=stalling(b'{"salt": '),
        declared=100,
        headers={"X-API-Key": guarded.key("read")},
    )
    answer.assert_problem(408, "request-timeout")
    assert answer.pieces_read == 1
    assert answer.headers["connection"] == "close"


def test_a_stalled_upload_gets_408(guarded: Api) -> None:
    answer = exchange(
        guarded,
        "/v1/verify/file",
        pieces=stalling(b"x" * 1000),
        headers={"X-API-Key": guarded.key("read")},
    )
    answer.assert_problem(408, "request-timeout")


def test_the_upload_keeps_its_own_larger_limit(guarded: Api) -> None:
    # Past XIETONG_API_MAX_BODY, the upload streams on to its own limit and refuses there.
    answer = exchange(
        guarded, "/v1/verify/file", pieces=endless(), headers={"X-API-Key": guarded.key("read")}
    )
    answer.assert_problem(413, "payload-too-large")
    assert answer.pieces_read == UPLOAD_LIMIT // PIECE + 1
    assert answer.headers["connection"] == "close"


def test_routes_without_a_key_are_bounded_too(guarded: Api) -> None:
    # Answered without reading the body: the connection closes rather than read the rest.
    answer = exchange(guarded, "/no/such/route", pieces=endless())
    answer.assert_problem(404, "not-found")
    assert answer.pieces_read == 0
    assert answer.headers["connection"] == "close"
    answer = exchange(guarded, "/healthz", method="GET", pieces=endless(), declared=LIMIT + 1)
    answer.assert_problem(413, "body-too-large")
    assert answer.pieces_read == 0


# --------------------------------------------------------------- against a real server

GIB = 1 << 30
CLIENTS = 10
MEMORY_MARGIN = 50 * 1024 * 1024


def resident_bytes(pid: int) -> int:
    """VmRSS of ``pid`` and its descendants."""
    total = 0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            tasks = list(Path(f"/proc/{current}/task").iterdir())
        except (FileNotFoundError, ProcessLookupError):
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1]) * 1024
        for task in tasks:
            try:
                pending.extend(int(child) for child in (task / "children").read_text().split())
            except FileNotFoundError:  # the thread ended meanwhile
                continue
    return total


class PeakMemory:
    """Samples the resident memory of a process tree in a thread; ``peak`` is the highest."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak = resident_bytes(pid)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, resident_bytes(self.pid))

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, resident_bytes(self.pid))


def offer_a_gibibyte(port: int, head: str, *, chunked: bool) -> tuple[bytes, int]:
    """Send ``head`` and then up to 1 GiB of body until the server answers; the answer and
    how many body bytes were sent."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    try:
        sock.sendall(head.encode())
        piece = (f"{PIECE:x}\r\n".encode() + b" " * PIECE + b"\r\n") if chunked else b" " * PIECE
        sent = 0
        sock.setblocking(False)
        pending = memoryview(piece)
        while sent < GIB:
            readable, writable, _ = select.select([sock], [sock], [], 30)
            if readable or not writable:
                break
            try:
                pending = pending[sock.send(pending) :]
            except (BrokenPipeError, ConnectionResetError):
                break  # the server closed its side after answering
            if not pending:
                sent += PIECE
                pending = memoryview(piece)
        sock.setblocking(True)
        sock.settimeout(30)
        return read_until_closed(sock), sent
    finally:
        sock.close()


def test_ten_anonymous_gibibytes_leave_the_server_memory_alone(
    worlds: dict[str, World], tmp_path: Path
) -> None:
    # The indexer's first pass at start, then none during the test: its passes do not move
    # the baseline.
    served = Served.on(worlds["sqlite"], tmp_path, XIETONG_INDEX_INTERVAL="3600")
    try:
        served.wait_until_up()
        # Warm up the routes this test uses (route table, thread pool, key lookup).
        for key in ("", "xt_nosuchkey"):
            httpx.post(served.url + "/v1/agreements", json=AGREEMENT, headers={"X-API-Key": key})
        time.sleep(1.0)  # let the indexer's first passes settle the baseline
        baseline = resident_bytes(served.process.pid)

        def client(index: int) -> tuple[bytes, int]:
            chunked = index % 2 == 1
            key = "X-API-Key: xt_nosuchkey\r\n" if index % 3 == 2 else ""
            framing = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {GIB}"
            head = (
                f"POST /v1/agreements HTTP/1.1\r\nHost: 127.0.0.1\r\n{key}"
                f"Content-Type: application/json\r\n{framing}\r\n\r\n"
            )
            return offer_a_gibibyte(served.port, head, chunked=chunked)

        with PeakMemory(served.process.pid) as memory, ThreadPoolExecutor(CLIENTS) as pool:
            results = list(pool.map(client, range(CLIENTS)))
        served.alive()
    finally:
        served.stop()
    for index, (answer, sent) in enumerate(results):
        expected = (413, "body-too-large") if index % 2 == 0 else (401, "unauthorized")
        assert_problem_answer(answer, *expected)
        assert sent < GIB // 16, (index, sent)  # answered long before the whole body
    growth = memory.peak - baseline
    assert growth < MEMORY_MARGIN, f"resident memory grew by {growth / 2**20:.0f} MiB"
    assert "Traceback" not in served.text()

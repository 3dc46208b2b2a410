"""Slow clients against a real ``xietong serve`` (api/_protocol.py, api/_guard.py): a
request head trickled a byte at a time, a silent connection, an idle keep-alive connection
and a stalled or trickled body are all cut off at their timeouts, while normal requests
keep being answered; past the connection limit, requests get 503. The server runs with two
workers, so ``--workers`` is checked too.

Every timeout here is 1 s, and every slow client would need far longer than that to finish
(tens of seconds): each test asserts that the server ended the exchange before the client
did, never how fast."""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.api._serving import Served
from tests.api._sockets import assert_problem_answer, parse_answer, read_until_closed
from tests.api._support import World

pytestmark = pytest.mark.timeout(180)

LORIS = 25  # slow connections kept open at once
PAUSE = 0.1  # seconds between two bytes of a slow client
#: A request head that would take a slow client 30 s to send (300 bytes at PAUSE).
SLOW_HEAD = (
    "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: " + "a" * 240 + "\r\n\r\n"
).encode()


@pytest.fixture(scope="module")
def read_key(worlds: dict[str, World]) -> str:
    return worlds["sqlite"].api_key("read", "slow clients test")


@pytest.fixture(scope="module")
def served(
    worlds: dict[str, World], read_key: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    server = Served.on(
        worlds["sqlite"],
        tmp_path_factory.mktemp("slow-clients"),
        workers=2,
        XIETONG_API_HEADER_TIMEOUT="1",
        XIETONG_API_BODY_TIMEOUT="1",
        XIETONG_API_KEEP_ALIVE="1",
    )
    try:
        server.wait_until_up()
        yield server
    finally:
        server.stop()
    assert "Traceback" not in server.text()


class SlowClient:
    """A connection that sends ``prelude`` at once, then ``data`` one byte per call to
    :meth:`step`."""

    def __init__(self, port: int, data: bytes, prelude: bytes = b"") -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.sock.sendall(prelude)
        self.data = data
        self.sent = 0
        self.answer: bytes | None = None  # set once the server ended the connection
        self.step()  # a request has begun: the server owes an answer when it cuts it off

    def step(self) -> None:
        if self.answer is not None:
            return
        try:
            self.sock.sendall(self.data[self.sent : self.sent + 1])
            self.sent += 1
            self.sock.setblocking(False)
            try:
                self.sock.recv(1, socket.MSG_PEEK)  # an answer, or b"" once closed
                ended = True
            except BlockingIOError:
                ended = False
            finally:
                self.sock.setblocking(True)
        except (BrokenPipeError, ConnectionResetError):
            ended = True
        if ended:
            self.answer = read_until_closed(self.sock)
            self.sock.close()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()


def test_request_heads_sent_a_byte_at_a_time_are_cut_off_while_others_are_served(
    served: Served, read_key: str
) -> None:
    clients = [SlowClient(served.port, SLOW_HEAD) for _ in range(LORIS)]
    ended: list[SlowClient] = []
    answered = []
    try:
        while len(ended) < 2 * LORIS:
            for index, client in enumerate(clients):
                client.step()
                if client.answer is not None:
                    ended.append(client)
                    clients[index] = SlowClient(served.port, SLOW_HEAD)  # keep LORIS open
            health = httpx.get(served.url + "/healthz", timeout=30)
            datasets = httpx.get(
                served.url + "/v1/datasets", headers={"X-API-Key": read_key}, timeout=30
            )
            answered.append((health.status_code, datasets.status_code))
            time.sleep(PAUSE)
    finally:
        for client in clients:
            client.close()
    assert answered and set(answered) == {(200, 200)}
    for client in ended:
        assert client.sent < len(SLOW_HEAD)  # cut off long before its head was complete
        assert client.answer is not None
        headers = assert_problem_answer(client.answer, 408, "request-timeout")
        assert headers["connection"] == "close"
        # The deadline is the setting's (1 s here), not uvicorn's or a default.
        assert "within 1 s" in parse_answer(client.answer)[2]["detail"]


def test_a_silent_connection_is_closed(served: Served) -> None:
    with socket.create_connection(("127.0.0.1", served.port), timeout=30) as sock:
        assert read_until_closed(sock) == b""  # closed, no answer: no request had begun


def test_an_idle_keep_alive_connection_is_closed(served: Served) -> None:
    with socket.create_connection(("127.0.0.1", served.port), timeout=30) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        answer = read_until_closed(sock)
    status, headers, body = parse_answer(answer)
    assert (status, body["status"]) == (200, "ok")
    assert "connection" not in headers  # kept alive, then closed once idle


def test_a_stalled_body_gets_408(served: Served, read_key: str) -> None:
    with socket.create_connection(("127.0.0.1", served.port), timeout=30) as sock:
        sock.sendall(
            b"POST /v1/verify/record HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"X-API-Key: " + read_key.encode() + b"\r\n"
            b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n"
            b'{"salt": '
        )
        answer = read_until_closed(sock)
    headers = assert_problem_answer(answer, 408, "request-timeout")
    assert headers["connection"] == "close"


def test_a_body_trickled_past_its_deadline_gets_408(served: Served, read_key: str) -> None:
    # No pause reaches the body timeout, but the whole body would take 30 s.
    body = b'{"record_hash": "0x' + b"0" * 64 + b'", "salt": "0x' + b"0" * 64 + b'"}'
    head = (
        b"POST /v1/verify/record HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"X-API-Key: " + read_key.encode() + b"\r\n"
        b"Content-Type: application/json\r\nContent-Length: "
        + str(len(body)).encode()
        + b"\r\n\r\n"
    )
    client = SlowClient(served.port, body, prelude=head)
    try:
        while client.answer is None and client.sent < len(body):
            client.step()
            time.sleep(PAUSE)
    finally:
        client.close()
    assert client.sent < len(body) and client.answer is not None
    headers = assert_problem_answer(client.answer, 408, "request-timeout")
    assert headers["connection"] == "close"


def test_past_the_connection_limit_requests_get_503(
    worlds: dict[str, World], tmp_path: Path
) -> None:
    served = Served.on(
        worlds["sqlite"],
        tmp_path,
        XIETONG_API_MAX_CONNECTIONS="3",
        XIETONG_API_HEADER_TIMEOUT="60",
    )
    idle: list[socket.socket] = []
    try:
        served.wait_until_up()
        idle = [socket.create_connection(("127.0.0.1", served.port)) for _ in range(3)]
        busy = served.eventually(
            "a refusal", lambda: (r := httpx.get(served.url + "/healthz")).status_code == 503 and r
        )
        assert busy.headers["content-type"] == "application/problem+json"
        assert busy.json()["type"] == "urn:xietong:problem:server-busy"
        assert busy.headers["connection"] == "close"
        assert busy.headers["retry-after"] == "1"
        for sock in idle:
            sock.close()
        served.eventually(
            "the server to serve again",
            lambda: httpx.get(served.url + "/healthz").status_code == 200,
        )
    finally:
        for sock in idle:
            sock.close()
        served.stop()
    assert "Traceback" not in served.text()

"""A huge upload to ``POST /v1/verify/file`` is refused at the limit without being read: sent
chunked (no Content-Length to refuse it by) to a real ``xietong serve`` over a socket, the
413 problem arrives while the client is still sending, after little more than the limit."""

from __future__ import annotations

import json
import select
import socket
from pathlib import Path

import pytest

from tests.api._serving import Served
from tests.api._support import World

pytestmark = pytest.mark.timeout(120)

LIMIT = 1 << 20  # 1 MiB for this gateway
OFFERED = 256 << 20  # what the client would send if nobody stopped it
CHUNK = 64 << 10


def _read_response(sock: socket.socket) -> bytes:
    sock.settimeout(10)
    data = b""
    while b"\r\n\r\n" not in data or len(data) < data.index(b"\r\n\r\n") + 4 + _length(data):
        part = sock.recv(65536)
        if not part:
            break
        data += part
    return data


def _length(data: bytes) -> int:
    head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1").lower()
    for line in head.split("\r\n"):
        if line.startswith("content-length:"):
            return int(line.split(":", 1)[1])
    return 0


def test_a_huge_chunked_upload_is_refused_at_the_limit(
    worlds: dict[str, World], tmp_path: Path
) -> None:
    world = worlds["sqlite"]
    key = world.api_key("read", "upload limit test")
    served = Served.on(world, tmp_path, XIETONG_API_MAX_UPLOAD=str(LIMIT))
    try:
        served.wait_until_up()
        sock = socket.create_connection(("127.0.0.1", served.port), timeout=10)
        sock.sendall(
            (
                "POST /v1/verify/file HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                f"X-API-Key: {key}\r\nContent-Type: application/octet-stream\r\n"
                "Transfer-Encoding: chunked\r\n\r\n"
            ).encode()
        )
        chunk = f"{CHUNK:x}\r\n".encode() + b"\x5a" * CHUNK + b"\r\n"
        sent, answered = 0, False
        while sent < OFFERED:
            readable, _, _ = select.select([sock], [], [], 0)
            if readable:
                answered = True
                break
            try:
                sock.sendall(chunk)
            except (BrokenPipeError, ConnectionResetError):
                answered = True  # the server closed its side after answering
                break
            sent += CHUNK
        assert answered, "the whole body was accepted"
        response = _read_response(sock)
        sock.close()
    finally:
        served.stop()
    status_line, _, rest = response.partition(b"\r\n")
    assert status_line.startswith(b"HTTP/1.1 413"), response[:300]
    body = json.loads(rest.split(b"\r\n\r\n", 1)[1][: _length(response)])
    assert body["type"] == "urn:xietong:problem:payload-too-large"
    # Refused after the limit and what socket buffers hold, not after the 256 MiB offered.
    assert LIMIT < sent < 32 * LIMIT, sent
    assert "Traceback" not in served.text()

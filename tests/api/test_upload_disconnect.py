"""A client that goes away in the middle of ``POST /v1/verify/file`` costs the gateway one
quiet log line, not an "Exception in ASGI application" traceback: raw sockets send part of a
body to a real ``xietong serve`` (with a Content-Length, and chunked) and close."""

from __future__ import annotations

import re
import socket
from pathlib import Path

import httpx
import pytest

from tests.api._serving import Served
from tests.api._support import World

pytestmark = pytest.mark.timeout(120)

SENT = 256 << 10  # bytes the client sends before it hangs up
DECLARED = 8 << 20  # what its Content-Length promised


def _hang_up_during_upload(served: Served, key: str, *, chunked: bool) -> None:
    """Send the headers and ``SENT`` bytes of the body, then close the connection."""
    framing = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {DECLARED}"
    body = b"\x5a" * SENT
    if chunked:
        body = f"{SENT:x}\r\n".encode() + body + b"\r\n"
    with socket.create_connection(("127.0.0.1", served.port), timeout=10) as sock:
        sock.sendall(
            (
                "POST /v1/verify/file HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                f"X-API-Key: {key}\r\nContent-Type: application/octet-stream\r\n"
                f"{framing}\r\n\r\n"
            ).encode()
            + body
        )


def test_a_client_hanging_up_during_an_upload_is_one_quiet_log_line(
    worlds: dict[str, World], tmp_path: Path
) -> None:
    world = worlds["sqlite"]
    key = world.api_key("read", "upload disconnect test")
    served = Served.on(world, tmp_path)
    quiet = re.compile(
        r"client 127\.0\.0\.1 disconnected during an upload to /v1/verify/file "
        rf"after (\d+) of ({DECLARED}|unknown) bytes"
    )
    try:
        served.wait_until_up()
        _hang_up_during_upload(served, key, chunked=False)
        served.eventually("the first quiet line", lambda: len(quiet.findall(served.text())) == 1)
        _hang_up_during_upload(served, key, chunked=True)
        served.eventually("the second quiet line", lambda: len(quiet.findall(served.text())) == 2)
        # The server answers on: a whole upload still gets its verification.
        response = httpx.post(
            served.url + "/v1/verify/file",
            content=b"never anchored",
            headers={"X-API-Key": key},
            timeout=30,
        )
        assert response.status_code == 404, response.text
        assert response.json()["type"] == "urn:xietong:problem:not-anchored"
        # Both hang-ups are counted, as nginx names them: 499, client closed request.
        metrics = httpx.get(served.url + "/metrics", headers={"X-API-Key": key}).text
        route = 'route="/v1/verify/file"'
        assert f'xietong_http_requests_total{{method="POST",{route},status="499"}} 2.0' in (
            metrics.splitlines()
        )
    finally:
        served.stop()
    log = served.text()
    (with_length, length), (chunked, unknown) = quiet.findall(log)
    assert (length, unknown) == (str(DECLARED), "unknown")
    # What arrived before the hang-up, at most what was sent.
    assert 0 <= int(with_length) <= SENT and 0 <= int(chunked) <= SENT
    assert "Traceback" not in log
    assert "Exception in ASGI application" not in log
    assert "internal error" not in log
    assert key not in log

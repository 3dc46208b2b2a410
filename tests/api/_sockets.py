"""Raw HTTP/1.1 over a socket, for tests of how a real server treats clients that httpx
would not imitate (slow, huge, stalled)."""

from __future__ import annotations

import json
import socket
from typing import Any


def read_until_closed(sock: socket.socket, timeout: float = 30.0) -> bytes:
    """Everything the server sends until it closes the connection (or resets it after
    answering, as it may with part of a request body left unread)."""
    sock.settimeout(timeout)
    data = b""
    try:
        while part := sock.recv(65536):
            data += part
    except ConnectionResetError:
        pass
    return data


def parse_answer(answer: bytes) -> tuple[int, dict[str, str], Any]:
    """Status, headers (lower-case names) and JSON body of one HTTP/1.1 answer."""
    head, _, rest = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    body = rest[: int(headers.get("content-length", len(rest)))]
    return status, headers, json.loads(body) if body else None


def assert_problem_answer(answer: bytes, status: int, kind: str) -> dict[str, str]:
    """``answer`` is problem JSON of ``kind`` with ``status``; returns its headers."""
    assert answer, "the server closed the connection without an answer"
    got, headers, body = parse_answer(answer)
    assert got == status, answer[:400]
    assert headers["content-type"] == "application/problem+json"
    assert body["type"] == f"urn:xietong:problem:{kind}", body
    assert body["status"] == status and body["detail"]
    return headers

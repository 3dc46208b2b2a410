"""Helpers of the ledger.hashing tests."""

from __future__ import annotations

import hashlib
from pathlib import Path

from hypothesis import HealthCheck, settings

#: Property tests on hostile input: more examples, no deadline, fixtures shared by examples.
FUZZ = settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


def sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def write(path: Path, data: str | bytes) -> Path:
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path

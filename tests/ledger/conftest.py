"""Fixtures shared by the library's tests."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A small release folder: a text file, a binary in a subfolder, a Chinese file name."""
    root = tmp_path / "release"
    (root / "sub").mkdir(parents=True)
    (root / "a.txt").write_text("alpha\n", encoding="utf-8")
    (root / "sub" / "b.bin").write_bytes(bytes(range(256)) * 40)
    (root / "说明.md").write_text("# 数据说明\n", encoding="utf-8")
    return root


@pytest.fixture
def open_umask() -> Iterator[None]:
    """A umask that takes nothing away: what the gateway makes owner-only, it makes so itself
    (SQLite alone, for one, would make a database 0666)."""
    previous = os.umask(0)
    try:
        yield
    finally:
        os.umask(previous)

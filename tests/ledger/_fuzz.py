"""Helpers of the property tests on parsers: run a call, get its value or its typed refusal."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from ledger.errors import LedgerError

SHOWN = 80
T = TypeVar("T")


def attempt(call: Callable[[], T]) -> tuple[T | None, LedgerError | None]:
    """``(value, None)`` or ``(None, the LedgerError raised)``; any other exception escapes."""
    try:
        return call(), None
    except LedgerError as exc:
        return None, exc


def assert_short_one_line(error: Exception, text: Any = "") -> None:
    """One non-empty line that never repeats more than 80 consecutive characters of ``text``."""
    message = str(error)
    assert message and "\n" not in message and "\r" not in message, message
    assert len(message) <= 1000, len(message)
    if isinstance(text, str):
        value = text.strip()
        for start in range(max(0, len(value) - SHOWN)):
            assert value[start : start + SHOWN + 1] not in message, message

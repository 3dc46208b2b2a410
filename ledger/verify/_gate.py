"""The in-memory gate: inside :func:`in_memory`, whatever would wait on the network (the chain
node, a database server) or rebuild a tree raises :class:`WouldBlockError` instead.

The gate is a context variable, so it holds for the calls of this thread or task only; the
chain view, the index reader and the tree cache each ask :func:`would_block` before waiting.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from ._errors import WouldBlockError

__all__ = ["in_memory", "inside", "would_block"]

#: Set by :func:`in_memory` for the calls made inside it (this thread or task only).
_IN_MEMORY: ContextVar[bool] = ContextVar("xietong_verify_in_memory", default=False)


@contextmanager
def in_memory() -> Iterator[None]:
    """Answer only from memory and the embedded database in the block (see
    :meth:`ledger.verify.Verifier.in_memory`)."""
    token = _IN_MEMORY.set(True)
    try:
        yield
    finally:
        _IN_MEMORY.reset(token)


def inside() -> bool:
    """Whether the caller is inside :func:`in_memory`."""
    return _IN_MEMORY.get()


def would_block(what: str) -> None:
    """Inside :func:`in_memory`: raise :class:`WouldBlockError` naming ``what`` would be
    waited on. Outside it: nothing."""
    if _IN_MEMORY.get():
        raise WouldBlockError(what)

"""Verification answers kept per API process: the bytes of ``GET /v1/verify`` answers with
the stamp they were made at (the index's checkpoint, the chain's head and time), least
recently used forgotten first beyond a size in bytes.

An answer kept is served only when the stamp read for the new request is the same (see
:meth:`ledger.verify.Verifier.stamp_async`): the index moved (a new version, a revocation,
a reorg rolled back), the head moved (confirmations, agreements' validity) or the node stopped
answering, and the answer is made anew.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable

__all__ = ["AnswerCache"]


class AnswerCache:
    """At most ``limit`` bytes of answers (0: none kept), any thread."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._entries: OrderedDict[Hashable, tuple[Hashable, bytes]] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> tuple[Hashable, bytes] | None:
        """(stamp, body) kept for ``key``; None when none is."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
            return entry

    def put(self, key: Hashable, stamp: Hashable, body: bytes) -> None:
        """Keep ``body`` made at ``stamp`` for ``key`` (replacing what was kept)."""
        if len(body) > self.limit:
            return
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._size -= len(old[1])
            self._entries[key] = (stamp, body)
            self._size += len(body)
            while self._size > self.limit:
                _, (_, dropped) = self._entries.popitem(last=False)
                self._size -= len(dropped)

    def __len__(self) -> int:
        return len(self._entries)

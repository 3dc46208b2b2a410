"""The cosigned checkpoints proof bundles carry (docs/CHECKPOINTS.md), kept in memory per
*mark* of the checkpoint signatures held: the lowest checkpoint cosigned from an anchor's block
is asked of the database once per (block, bound) and mark, not once per bundle.

The mark is the highest id of ``checkpoint_signature`` (``._generation.SIGNATURES_MARK``).
Every read of the index carries it, in the statement that finds the leaves, and a signature
added (this gateway's own, a peer's, the second hash of a conflict) moves it: what was kept is
then dropped. A bundle is made after its answer's read, so what it carries is never older than
the mark that read saw:

* an answer's read *observes* its mark; a mark other than the one kept drops everything kept;
* a checkpoint looked up is kept only when the mark has not changed during the lookup, and
  the lookup itself reads the database after that mark was observed.

Two reads that cross a change observe its two marks in either order: that drops what is kept
once more, never keeps a lookup under a mark newer than what it read.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from ._gate import would_block

__all__ = ["CosignedCheckpoints", "Lookup"]

#: ``lookup(at_least, at_most)``: the lowest checkpoint cosigned from block ``at_least`` (to
#: ``at_most``), its JSON form, or None (``ledger.witness.Witness.cosigned``).
Lookup = Callable[[int, int | None], dict[str, Any] | None]


class CosignedCheckpoints:
    """Lookups of cosigned checkpoints kept for the mark last observed (any thread)."""

    #: Lookups kept at most (one per anchor block a bundle was asked for), oldest dropped first.
    KEPT = 4096

    def __init__(self, lookup: Lookup, *, embedded: bool) -> None:
        """``embedded``: the database is a library on this machine (SQLite); a lookup on any
        other waits on a server, which :func:`._gate.would_block` refuses on the event loop."""
        self._lookup = lookup
        self._embedded = embedded
        self._lock = threading.Lock()
        self._mark: int | None = None  # None: no read carried one yet, nothing is kept
        self._kept: dict[tuple[int, int | None], dict[str, Any] | None] = {}

    @property
    def mark(self) -> int | None:
        """The mark what is kept was looked up at (None: nothing observed yet)."""
        return self._mark

    def observe(self, mark: int | None) -> None:
        """A read of the index carried ``mark`` (None: nothing is indexed, no mark read)."""
        if mark is None:
            return
        with self._lock:
            if mark != self._mark:
                self._mark = mark
                self._kept = {}

    def lowest(self, at_least: int, at_most: int | None) -> dict[str, Any] | None:
        """The lowest checkpoint cosigned from block ``at_least`` (to ``at_most``): kept, or
        looked up (WouldBlockError inside ``in_memory`` on a database server)."""
        key = (at_least, at_most)
        with self._lock:
            mark = self._mark
            if mark is not None and key in self._kept:
                return self._kept[key]
        if not self._embedded:
            would_block("the database (the cosigned checkpoint of a proof)")
        found = self._lookup(at_least, at_most)
        with self._lock:
            if mark is not None and self._mark == mark:  # not moved during the lookup
                if len(self._kept) >= self.KEPT:
                    self._kept.pop(next(iter(self._kept)))
                self._kept[key] = found
        return found

"""The chain as the verifier's answers see it: one view shared by every thread answering.

It keeps the chain's head (its clock) for a moment, leaves a node that did not answer alone
for a moment, checks that the index still stands on the chain, and remembers the versions
found final on chain. It talks to the node only through :class:`ChainClient`, and a node
that does not answer is a :class:`ChainUnavailableError` (see ``ledger.chain.transport``).
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass

from hexbytes import HexBytes

from ..chain.client import ChainClient
from ..chain.reads import VersionRecord, read_version
from ..errors import ChainUnavailableError, ContractRevertError
from ._gate import inside, would_block

__all__ = ["ChainView", "Clock"]

_RENEW_AT = 0.75  # of head_ttl: from then on, one caller reads the chain's head anew
_NODE_RETRY = 1.0  # seconds an unreachable node is left alone before it is asked again


@dataclass(frozen=True)
class Clock:
    """The time and head an answer counts with."""

    #: Unix seconds: the head block's time, or the wall clock (no client, node not reached).
    now: int
    #: The head block; the index's block when the node was not reached; None without a client.
    head: int | None
    #: Whether the node answered (False: the answer is the index's alone).
    reachable: bool


class ChainView:
    """The chain's head, the node's availability, the index's standing on the chain and the
    versions known final, as seen by every answer of one verifier (any thread).

    What it keeps, and what guards it:

    * ``_head``: (monotonic time of the read, block time, block number) of the latest block,
      reused for ``head_ttl`` seconds; written under ``_read_lock``, read without a lock (one
      tuple, replaced whole).
    * ``_renewal_claimed``: when a caller claimed the next read of the head (from 3/4 of
      ``head_ttl`` on, one caller reads it while the others still take the one kept);
      ``_lock``.
    * ``_down_until``: until when a node that did not answer is left alone (``_NODE_RETRY``
      seconds: a hung node costs one timeout); one float, replaced whole, no lock.
    * ``_index_check``: (index generation, monotonic time, whether the chain holds the
      index's checkpoint block), reused for ``head_ttl`` seconds; written under
      ``_read_lock``.
    * ``_final``: the registry's record of each version (dataset, root) found on chain and
      final while the index stood on the chain: checked once, never asked again; a dict
      written one key at a time.

    ``_read_lock`` lets one caller at a time read the head or the index's block from the
    node; the callers waiting for it then take what it read.
    """

    def __init__(self, client: ChainClient | None, *, confirmations: int, head_ttl: float) -> None:
        self.client = client
        self.confirmations = confirmations
        self.head_ttl = head_ttl
        self._head: tuple[float, int, int] | None = None
        self._renewal_claimed = -math.inf
        self._down_until = -math.inf
        self._index_check: tuple[tuple[int, str], float, bool] | None = None
        self._final: dict[tuple[str, str], VersionRecord] = {}
        self._lock = threading.Lock()
        self._read_lock = threading.Lock()

    # ------------------------------------------------------------------ the node

    def reachable(self) -> bool:
        """Whether the node is asked at all (it is left alone for a moment after a failure)."""
        return time.monotonic() >= self._down_until

    def _back_off(self) -> None:
        self._down_until = time.monotonic() + _NODE_RETRY

    # ------------------------------------------------------------------ the clock

    def clock(self, indexed: int | None) -> Clock:
        """The chain's time and head when its node answers; otherwise the wall clock and the
        index's block ``indexed``, so confirmations are counted as of the index (never more
        than the chain has) and the answer says the node was not reached."""
        if self.reachable():
            try:
                now, head = self._head_clock()
                return Clock(now, head, reachable=True)
            except ChainUnavailableError:
                self._back_off()
        return Clock(int(time.time()), indexed, reachable=False)

    def _head_clock(self) -> tuple[int, int | None]:
        """(time, head block) of the chain: the latest block's, kept for at most ``head_ttl``
        seconds; the wall clock and no head without a client.

        Once 3/4 of ``head_ttl`` have passed, one caller reads the head anew while the others
        still take the one kept: answers in memory (``Verifier.in_memory``) rarely wait for it."""
        if self.client is None:
            return int(time.time()), None
        kept = self._head
        if kept is not None:
            age = time.monotonic() - kept[0]
            if age < self.head_ttl * _RENEW_AT:
                return kept[1], kept[2]
            if age < self.head_ttl and inside() and not self._claim_renewal():
                return kept[1], kept[2]  # another caller is reading it anew
        would_block("the chain node")
        with self._read_lock:  # one read at a time: the others take what it read
            kept = self._head
            if kept is not None and time.monotonic() - kept[0] < self.head_ttl * _RENEW_AT:
                return kept[1], kept[2]
            block = self.client.head()
            now, head = int(block["timestamp"]), int(block["number"])
            self._head = (time.monotonic(), now, head)
            self._renewal_claimed = -math.inf
        return now, head

    def _claim_renewal(self) -> bool:
        """Whether this caller is the one to read the head anew (a claim lapses after
        ``head_ttl``, should its caller never get to it)."""
        with self._lock:
            now = time.monotonic()
            if now - self._renewal_claimed < self.head_ttl:
                return False
            self._renewal_claimed = now
            return True

    # ------------------------------------------------------------------ the index

    def index_on_chain(self, generation: tuple[int, str] | None) -> bool:
        """Whether the chain still holds the index's checkpoint block ``generation`` (number,
        hash): asked at most once per ``head_ttl`` for one generation of the index, by one
        caller (the others wait for it). True when the node does not answer (the answer says
        the node was not reached)."""
        if generation is None or self.client is None:
            return True
        kept = self._kept_index_check(generation)
        if kept is not None:
            return kept
        would_block("the chain node")
        with self._read_lock:
            kept = self._kept_index_check(generation)  # read by a caller we waited for
            if kept is not None:
                return kept
            try:
                block = self.client.block(generation[0])
            except ChainUnavailableError:
                self._back_off()
                return True
            # No such block: the chain got shorter than the index.
            holds = block is not None and block["hash"].to_0x_hex() == generation[1]
            self._index_check = (generation, time.monotonic(), holds)
        return holds

    def _kept_index_check(self, generation: tuple[int, str]) -> bool | None:
        kept = self._index_check
        if (
            kept is not None
            and kept[0] == generation
            and time.monotonic() - kept[1] < self.head_ttl
        ):
            return kept[2]
        return None

    # ------------------------------------------------------------------ versions

    def holds(
        self, dataset_id: str, root: str, block_number: int, clock: Clock, *, trusted: bool
    ) -> bool:
        """Whether the chain holds the version of ``dataset_id`` anchored as ``root`` where
        the index says (at ``block_number``).

        The answer is kept only once the version is final at the clock's head and the index
        is ``trusted`` (it stands on the chain): until then a reorg may still drop it, so it
        is asked again each time (an index that has not caught up with a reorg yet must not
        make an orphaned version look anchored). Without the node, the index is the answer
        (the answer says so)."""
        if self.client is None or not clock.reachable:
            return True
        key = (dataset_id, root)
        if trusted and key in self._final:
            return True
        would_block("the chain node")
        try:
            record = read_version(self.client, bytes(HexBytes(dataset_id)), bytes(HexBytes(root)))
        except ContractRevertError:
            return False  # not on this chain, or on a branch the chain left
        except ChainUnavailableError:
            self._back_off()
            return True
        if record.block_number != block_number:
            return False  # re-anchored at another block since the index read it
        head = clock.head
        if trusted and head is not None and head - record.block_number + 1 >= self.confirmations:
            self._final[key] = record
        return True

    def known_final(self, dataset_id: str, root: str) -> bool:
        """Whether the version was found on chain and final before (nothing asked)."""
        return (dataset_id, root) in self._final

    def final_version(self, dataset_id: str, root: str) -> VersionRecord | None:
        """The registry's record of the version of ``dataset_id`` anchored as ``root`` if it
        is final at the chain's head, read now (nothing kept); None when it is not anchored
        or not final, or the node does not answer."""
        if self.client is None:
            return None
        would_block("the chain node")
        try:
            record = read_version(self.client, bytes(HexBytes(dataset_id)), bytes(HexBytes(root)))
            head = self.client.block_number()
        except (ContractRevertError, ChainUnavailableError):
            return None
        if head - record.block_number + 1 < self.confirmations:
            return None  # not final yet: the index would not hold it either
        return record

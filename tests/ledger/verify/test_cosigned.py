"""The cosigned checkpoints a verifier keeps (ledger/verify/_cosigned.py): looked up once per
anchor block and mark of the signatures held, dropped when a read carries another mark, never
kept under a mark that moved during the lookup, and refused on the event loop when the
database is a server."""

from __future__ import annotations

from typing import Any

import pytest

from ledger.verify import WouldBlockError
from ledger.verify._cosigned import CosignedCheckpoints
from ledger.verify._gate import in_memory


class Lookups:
    """A lookup that counts its calls and answers the checkpoint named ``answer``."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, int | None]] = []
        self.answer: dict[str, Any] | None = {"number": 8}
        self.during: Any = None  # called inside a lookup (another thread's move)

    def __call__(self, at_least: int, at_most: int | None) -> dict[str, Any] | None:
        self.calls.append((at_least, at_most))
        if self.during is not None:
            self.during()
        return self.answer


def test_a_lookup_is_kept_per_block_and_mark() -> None:
    lookups = Lookups()
    kept = CosignedCheckpoints(lookups, embedded=True)
    kept.observe(3)
    assert kept.lowest(5, 20) == {"number": 8}
    assert kept.lowest(5, 20) == {"number": 8}
    assert lookups.calls == [(5, 20)]
    assert kept.lowest(5, None) == {"number": 8}  # another bound is another lookup
    assert lookups.calls == [(5, 20), (5, None)]
    kept.observe(3)  # the same mark again: still kept
    kept.lowest(5, 20)
    assert len(lookups.calls) == 2


def test_none_found_is_kept_too() -> None:
    lookups = Lookups()
    lookups.answer = None
    kept = CosignedCheckpoints(lookups, embedded=True)
    kept.observe(0)
    assert kept.lowest(5, None) is None
    assert kept.lowest(5, None) is None
    assert lookups.calls == [(5, None)]


def test_another_mark_drops_what_was_kept() -> None:
    lookups = Lookups()
    kept = CosignedCheckpoints(lookups, embedded=True)
    kept.observe(3)
    kept.lowest(5, None)
    lookups.answer = {"number": 4}
    kept.observe(4)  # a signature added
    assert kept.lowest(5, None) == {"number": 4}
    assert kept.mark == 4
    kept.observe(2)  # fewer than before (rows removed by hand): dropped all the same
    kept.lowest(5, None)
    assert len(lookups.calls) == 3


def test_nothing_is_kept_before_a_mark_is_observed() -> None:
    lookups = Lookups()
    kept = CosignedCheckpoints(lookups, embedded=True)
    kept.observe(None)  # a read of an index with nothing indexed carries none
    kept.lowest(5, None)
    kept.lowest(5, None)
    assert len(lookups.calls) == 2
    assert kept.mark is None


def test_a_lookup_is_not_kept_when_the_mark_moved_meanwhile() -> None:
    lookups = Lookups()
    kept = CosignedCheckpoints(lookups, embedded=True)
    kept.observe(3)
    lookups.during = lambda: kept.observe(4)  # another read saw a new signature meanwhile
    kept.lowest(5, None)
    lookups.during = None
    kept.lowest(5, None)  # asked again: what the first found is not kept under mark 4
    assert len(lookups.calls) == 2
    kept.lowest(5, None)
    assert len(lookups.calls) == 2


def test_the_oldest_lookup_goes_first_beyond_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(CosignedCheckpoints, "KEPT", 2)
    lookups = Lookups()
    kept = CosignedCheckpoints(lookups, embedded=True)
    kept.observe(1)
    for block in (1, 2, 3):
        kept.lowest(block, None)
    kept.lowest(3, None)
    kept.lowest(2, None)
    assert len(lookups.calls) == 3  # 2 and 3 kept
    kept.lowest(1, None)
    assert lookups.calls[-1] == (1, None)


def test_on_the_event_loop_a_database_server_is_not_waited_on() -> None:
    lookups = Lookups()
    kept = CosignedCheckpoints(lookups, embedded=False)
    kept.observe(3)
    with in_memory(), pytest.raises(WouldBlockError, match="cosigned checkpoint"):
        kept.lowest(5, None)
    assert lookups.calls == []
    assert kept.lowest(5, None) == {"number": 8}  # on a worker thread: looked up, kept
    with in_memory():
        assert kept.lowest(5, None) == {"number": 8}  # kept: answered on the loop
    assert len(lookups.calls) == 1


def test_an_embedded_database_is_read_on_the_event_loop() -> None:
    lookups = Lookups()
    kept = CosignedCheckpoints(lookups, embedded=True)
    with in_memory():
        assert kept.lowest(5, None) == {"number": 8}
    assert lookups.calls == [(5, None)]

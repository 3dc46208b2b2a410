"""Which branch a start settles a tie on (ledger.chain.network._tie): the heaviest heads, when
they are different blocks of equal total difficulty. The settling itself runs on real geth
validators in tests/ledger/chain/test_network.py, whenever halves of four heal tied."""

from __future__ import annotations

from ledger.chain.network import Member, _Head, _tie


def member(n: int) -> Member:
    return Member(
        code=f"D{n}", name=f"department {n}", signer=f"0x{n:040x}", host=f"127.0.0.{60 + n}",
        rpc_port=8545, p2p_port=30303, authrpc_port=8551, node_key=f"{n + 1:064x}",
    )  # fmt: skip


def head(n: int, number: int, block: str, weight: int) -> _Head:
    return _Head(member(n), number, block, weight)


def test_heaviest_heads_that_agree_are_no_tie() -> None:
    assert _tie([head(0, 124, "0xaa", 204), head(1, 124, "0xaa", 204)]) is None
    # A lighter node on another branch syncs the heavier one by itself.
    assert _tie([head(0, 124, "0xaa", 204), head(1, 123, "0xbb", 203)]) is None


def test_the_lower_head_wins_a_tie() -> None:
    lower = head(2, 123, "0xff", 204)
    higher = [head(0, 124, "0x01", 204), head(1, 124, "0x01", 204)]
    assert _tie([*higher, lower, head(3, 123, "0xff", 204)]) == (lower, higher)


def test_the_lower_hash_wins_a_tie_of_equal_height() -> None:
    low, high = head(0, 124, "0x0a", 204), head(1, 124, "0x0b", 204)
    assert _tie([high, low, head(2, 122, "0x0c", 202)]) == (low, [high])

"""A gateway's witness (ledger.witness.Witness) on a real node, a real database and real peers
on loopback: it signs each multiple of the interval once, collects its peers' signatures and
keeps only those that verify, makes cosigned checkpoints a verifier accepts, and records two
hashes for one block as a conflict, whoever signed them: a peer that lies, or its own node
after a reorganisation deeper than the confirmations."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from ledger.db.engine import create_db_engine
from ledger.db.tables import CheckpointPeer, CheckpointSignature
from ledger.errors import InputError
from ledger.keys import dev_account
from ledger.trust import ConsortiumTrust
from ledger.watch import Watchers
from ledger.witness import Witness, check_checkpoint, check_signed
from ledger.witness import witness as witness_module
from ledger.witness.witness import MAX_ANSWER, NotCheckpointedError
from tests.ledger.watch._receiver import receiver
from tests.ledger.witness._peer import peer, signed_item
from tests.support import Consortium, chain_snapshot, fresh_database

pytestmark = [pytest.mark.parametrize("node", ["hardhat"], indirect=True)]

INTERVAL = 4
A, B, C = 1, 2, 3  # the founders' operators (tests/conftest.py), the trust file's cosigners
OUTSIDER = 9


@pytest.fixture
def trust(consortium: Consortium) -> ConsortiumTrust:
    made = consortium.deployment.trust()
    assert made.checkpoints is not None and made.checkpoints.threshold == 2
    return made


@pytest.fixture
def engines(tmp_path: Path) -> Iterator[Callable[[str], Engine]]:
    opened: list[Engine] = []

    def make(name: str) -> Engine:
        engine = create_db_engine(f"sqlite:///{tmp_path / name}.db")
        opened.append(engine)
        return engine

    yield make
    for engine in opened:
        engine.dispose()


def witness(
    consortium: Consortium,
    trust: ConsortiumTrust,
    engine: Engine,
    account: int | None,
    peers: list[str] = (),  # type: ignore[assignment]
) -> Witness:
    return Witness(
        engine,
        consortium.client,
        trust,
        signer=None if account is None else dev_account(account),
        interval=INTERVAL,
        confirmations=1,
        peers=peers,
        timeout=1.0,
    )


def mine(consortium: Consortium, blocks: int) -> int:
    for _ in range(blocks):
        consortium.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
    return consortium.w3.eth.block_number


def block_hash(consortium: Consortium, number: int) -> str:
    return "0x" + bytes(consortium.w3.eth.get_block(number)["hash"]).hex()


def held(engine: Engine) -> list[CheckpointSignature]:
    with Session(engine) as session:
        return list(session.exec(select(CheckpointSignature)).all())


def test_a_gateway_signs_each_multiple_of_the_interval_once(
    consortium: Consortium, trust: ConsortiumTrust, engines: Callable[[str], Engine]
) -> None:
    ours = witness(consortium, trust, engines("a"), A)
    assert ours.why_not_signing() is None
    head = mine(consortium, INTERVAL + 1)
    first = head - head % INTERVAL
    assert ours.run().signed == [first]  # the newest only, on the first pass
    assert ours.run().signed == []
    head = mine(consortium, 2 * INTERVAL)
    newest = head - head % INTERVAL
    assert ours.run().signed == [first + INTERVAL, newest]
    rows = held(ours.engine)
    assert sorted(r.number for r in rows) == [first, first + INTERVAL, newest]
    for row in rows:
        assert row.block_hash == block_hash(consortium, row.number)
        assert row.source == "own" and row.address == dev_account(A).address
        _signed, cosigner = check_signed(
            trust,
            number=row.number,
            block_hash=row.block_hash,
            cosignature={"address": row.address, "time": row.signed_at, "signature": row.signature},
        )
        assert cosigner["department"] == "0x" + consortium.ids["A"].hex()
    page = ours.signatures(after=0, limit=2)
    assert [i["number"] for i in page["items"]] == [first, first + INTERVAL]
    assert ours.signatures(after=page["next_after"])["items"][0]["number"] == newest
    with pytest.raises(NotCheckpointedError, match=f"block {newest + 1}"):
        ours.checkpoint(newest + 1)


def test_a_pass_tells_when_it_added_signatures_or_failed(
    consortium: Consortium, trust: ConsortiumTrust, engines: Callable[[str], Engine]
) -> None:
    """``on_moved`` (a gateway's verifiers forget the signatures' mark they keep): after a
    pass that added signatures, and after one that failed; not after one that added none."""
    ours = witness(consortium, trust, engines("a"), A)
    told: list[int] = []
    ours.on_moved = lambda: told.append(1)
    mine(consortium, INTERVAL)
    assert ours.run().signed != [] and told == [1]
    assert ours.run().signed == [] and told == [1]

    class Down:
        def block_number(self) -> int:
            raise ConnectionError("the node went away")

    ours.client = Down()  # type: ignore[assignment]
    with pytest.raises(ConnectionError):
        ours.run()
    assert told == [1, 1]


def test_peers_signatures_make_a_checkpoint_a_verifier_accepts(
    consortium: Consortium, trust: ConsortiumTrust, engines: Callable[[str], Engine]
) -> None:
    theirs = witness(consortium, trust, engines("b"), B)
    head = mine(consortium, INTERVAL)
    older = head - head % INTERVAL
    assert theirs.run().signed == [older]
    head = mine(consortium, 2 * INTERVAL)
    with peer() as other:
        other.serve(
            *({k: v for k, v in i.items() if k != "seq"} for i in theirs.signatures()["items"])
        )
        ours = witness(consortium, trust, engines("a"), A, [other.url])
        assert ours.cosigned() is None
        report = ours.run()
        # Asked again, the peer is asked from where it stopped, and nothing is kept twice.
        assert ours.run().accepted == {other.url: 0}
        assert other.asked[-1].endswith("after=1&limit=100")
    # Ours signed the newest number, and the one the peer signed: its view of it too.
    assert report.accepted == {other.url: 1} and report.refused == {other.url: 0}
    assert sorted(report.signed) == [older, head - head % INTERVAL]
    checkpoint = ours.cosigned(at_least=older)
    assert checkpoint is not None and checkpoint["number"] == older
    assert checkpoint == ours.latest()
    checked = check_checkpoint(checkpoint, trust)  # what verify-proof runs
    assert checked.hash == block_hash(consortium, older)
    assert {c["address"] for c in checked.cosigners} == {
        dev_account(A).address,
        dev_account(B).address,
    }
    assert ours.cosigned(at_least=older + 1) is None  # the newest has one department only
    assert ours.checkpoint(older)["hashes"][0]["cosigned"] is True
    shown = ours.peer_status()[0]
    assert shown["accepted"] == 1 and shown["last_error"] is None


def test_a_peer_that_lies_is_refused_signature_by_signature(
    consortium: Consortium, trust: ConsortiumTrust, engines: Callable[[str], Engine]
) -> None:
    head = mine(consortium, INTERVAL)
    number = head - head % INTERVAL
    right = block_hash(consortium, number)
    forged = signed_item(trust, OUTSIDER, number, right)
    with peer() as liar:
        liar.serve(
            signed_item(trust, OUTSIDER, number, right),  # a key the trust file does not name
            {**forged, "address": dev_account(C).address},  # C's name on another key's signature
            signed_item(trust, C, number - 1, block_hash(consortium, number - 1)),  # off-interval
            {**signed_item(trust, C, number, right), "hash": right.upper().replace("0X", "0x")},
            {**signed_item(trust, C, number, right), "time": True},
            signed_item(trust, C, number, right),  # the one true signature
        )
        ours = witness(consortium, trust, engines("a"), None, [liar.url])
        report = ours.run()
    assert report.accepted == {liar.url: 1} and report.refused == {liar.url: 5}
    rows = held(ours.engine)
    assert [(r.address, r.number, r.block_hash) for r in rows] == [
        (dev_account(C).address, number, right)
    ]
    assert rows[0].source == liar.url
    status = ours.peer_status()[0]
    assert status["refused"] == 5 and status["last_refusal"].startswith("checkpoint-form:")
    assert ours.why_not_signing() is not None and "signs none" in ours.why_not_signing()


def test_a_cosigner_flooding_old_heights_gets_a_bounded_pass_each_time(
    consortium: Consortium,
    trust: ConsortiumTrust,
    engines: Callable[[str], Engine],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A department (its real key) signs many old heights: each pass signs this gateway's view
    of at most MAX_SIGNED (+ RECHECKED) of them, newest first, and later passes catch up."""
    monkeypatch.setattr(witness_module, "MAX_SIGNED", 2)
    monkeypatch.setattr(witness_module, "RECHECKED", 1)
    head = mine(consortium, 6 * INTERVAL)
    numbers = [head - head % INTERVAL - i * INTERVAL for i in range(6)]
    with peer() as flood:
        flood.serve(*(signed_item(trust, C, n, block_hash(consortium, n)) for n in numbers))
        ours = witness(consortium, trust, engines("a"), A, [flood.url])
        passes = [ours.run().signed for _ in range(4)]
    assert all(len(signed) <= 3 for signed in passes), passes
    assert passes[0] == sorted(numbers)[-2:]  # the newest first
    assert sorted(n for signed in passes for n in signed) == sorted(numbers)
    assert passes[-1] == []


def test_a_peer_whose_store_started_again_is_collected_from_the_start(
    consortium: Consortium, trust: ConsortiumTrust, engines: Callable[[str], Engine]
) -> None:
    head = mine(consortium, 2 * INTERVAL)
    newest = head - head % INTERVAL
    older = newest - INTERVAL
    with peer() as other:
        other.serve(
            signed_item(trust, B, older, block_hash(consortium, older)),
            signed_item(trust, C, older, block_hash(consortium, older)),
        )
        ours = witness(consortium, trust, engines("a"), None, [other.url])
        assert ours.run().accepted == {other.url: 2}
        # Restored from an older backup: one signature, numbered 1 again.
        other.items.clear()
        other.serve(signed_item(trust, B, newest, block_hash(consortium, newest)))
        report = ours.run()
        assert report.accepted == {other.url: 1} and report.failed == {}
        assert "after=0&limit=100" in other.asked[-1]
        assert ours.run().accepted == {other.url: 0}  # and from there on, as before
    assert sorted((r.number, r.address) for r in held(ours.engine)) == sorted(
        [(older, dev_account(B).address), (older, dev_account(C).address),
         (newest, dev_account(B).address)]
    )  # fmt: skip


@pytest.mark.parametrize(
    ("answer", "said"),
    [
        (b"<html>busy</html>", "is not JSON"),
        (b'{"items": {}}', "not a page"),
        (json.dumps({"items": [{"seq": 2}, {"seq": 1}]}).encode(), "ascending `seq`"),
        (json.dumps({"items": [{"seq": True}]}).encode(), "ascending `seq`"),
        (b'{"items": [' + b'{"seq": 1},' * (MAX_ANSWER // 10) + b"{}]}", "larger than"),
        (500, "HTTP 500"),
        (None, "no answer within 1 s"),
        ("trickle", "its answer took longer than 1 s"),
    ],
    ids=[
        "html",
        "items-object",
        "seq-descending",
        "seq-boolean",
        "too-large",
        "500",
        "silent",
        "trickle",
    ],
)
def test_a_peer_answer_that_is_not_a_page_changes_nothing(
    consortium: Consortium,
    trust: ConsortiumTrust,
    engines: Callable[[str], Engine],
    answer: bytes | int | str | None,
    said: str,
) -> None:
    mine(consortium, INTERVAL)
    with peer() as broken:
        if answer == "trickle":
            broken.trickle.set()
        elif isinstance(answer, bytes):
            broken.raw = answer
        elif isinstance(answer, int):
            broken.status, broken.raw = answer, b"{}"
        else:
            broken.silent.set()
        ours = witness(consortium, trust, engines("a"), None, [broken.url])
        report = ours.run()
    assert said in report.failed[broken.url]
    assert held(ours.engine) == []
    with Session(ours.engine) as session:
        row = session.get(CheckpointPeer, broken.url)
    assert row is not None and row.cursor == "0" and said in (row.last_error or "")


@pytest.fixture(params=["sqlite", "postgresql"])
def any_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    with fresh_database(request.param, tmp_path) as url:
        engine = create_db_engine(url)
        yield engine
        engine.dispose()


def test_two_hashes_for_one_block_are_a_conflict_until_acknowledged(
    consortium: Consortium, trust: ConsortiumTrust, any_engine: Engine
) -> None:
    head = mine(consortium, INTERVAL)
    number = head - head % INTERVAL
    right = block_hash(consortium, number)
    wrong, third = "0x" + "e0" * 32, "0x" + "e1" * 32
    with peer() as liar, receiver() as hooks:
        # C signs another hash for a block ours has signed: a department that lies (or a fork).
        liar.serve(signed_item(trust, C, number, wrong))
        ours = witness(consortium, trust, any_engine, A, [liar.url])
        watchers = Watchers(
            any_engine, department="0x" + consortium.ids["A"].hex(), allow_http=True
        )
        watchers.add(url=hooks.url, topics=["checkpoint.conflict"])
        report = ours.run()
        assert report.conflicts == [number] and report.signed == [number]
        (conflict,) = ours.conflicts()
        assert conflict["acknowledged_at"] is None
        assert {h["hash"]: [c["code"] for c in h["cosigners"]] for h in conflict["hashes"]} == {
            right: [trust.checkpoints.cosigner(dev_account(A).address).code],  # type: ignore[union-attr]
            wrong: [trust.checkpoints.cosigner(dev_account(C).address).code],  # type: ignore[union-attr]
        }
        assert ours.cosigned() is None and ours.checkpoint(number)["conflict"] is True
        assert watchers.scan() == 1 and watchers.deliver().delivered == 1
        body = json.loads(hooks.wait_for(1)[0].body)
        assert body["type"] == "checkpoint.conflict" and body["data"]["number"] == number
        assert {h["hash"] for h in body["data"]["hashes"]} == {right, wrong}
        assert watchers.scan() == 0  # said once
        acknowledged = ours.acknowledge(number)
        assert acknowledged["acknowledged_at"] is not None
        assert ours.conflicts(acknowledged=False) == [] and ours.run().conflicts == []
        # One more hash for that block raises it again, and it is said again.
        liar.serve(signed_item(trust, B, number, third))
        assert ours.run().conflicts == [number]
        assert len(ours.conflicts(acknowledged=False)[0]["hashes"]) == 3
        assert watchers.scan() == 1
    with pytest.raises(InputError, match=f"no checkpoint conflict at block {number + 1}"):
        ours.acknowledge(number + 1)


def test_a_reorganisation_deeper_than_the_confirmations_is_a_conflict_of_our_own(
    consortium: Consortium, trust: ConsortiumTrust, engines: Callable[[str], Engine]
) -> None:
    ours = witness(consortium, trust, engines("a"), A)
    start = consortium.w3.eth.block_number
    target = start + INTERVAL - start % INTERVAL
    with chain_snapshot(consortium.w3):
        mine(consortium, target - start)
        assert ours.run().signed == [target]
        before = block_hash(consortium, target)
    consortium.advance(7)  # the same heights again, with other times: other hashes
    mine(consortium, target - consortium.w3.eth.block_number)
    after = block_hash(consortium, target)
    assert after != before
    report = ours.run()
    assert report.signed == [target] and report.conflicts == [target]
    assert {h["hash"] for h in ours.conflicts()[0]["hashes"]} == {before, after}


def test_no_cosigners_in_the_trust_file_means_no_checkpoint(
    consortium: Consortium, trust: ConsortiumTrust, engines: Callable[[str], Engine]
) -> None:
    mine(consortium, INTERVAL)
    older = replace(trust, checkpoints=None)
    ours = witness(consortium, older, engines("a"), A)
    assert "names no checkpoint cosigners" in (ours.why_not_signing() or "")
    report = ours.run()
    assert report.signed == [] and held(ours.engine) == [] and ours.latest() is None

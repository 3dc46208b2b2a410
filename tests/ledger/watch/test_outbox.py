"""The watchers' outbox on a real database (SQLite and PostgreSQL) and a real receiver on
loopback: events matched once each, a cursor that never skips after a failed pass or a
reorganisation, deliveries signed per Standard Webhooks with the same id on every attempt,
exponential back-off, dead letters, leases that outlive a killed delivery, secret rotation.
The chain's side is written as the indexer writes it (the event log and the projections);
tests/ledger/cli/test_watch.py runs the same against a real node."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import delete
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from standardwebhooks import Webhook

from ledger.db.tables import (
    AgreementRow,
    ChainEvent,
    CommitmentParticipantRow,
    CommitmentRow,
    DatasetRow,
    VersionRow,
    Watcher,
    WebhookMessage,
)
from ledger.errors import InputError
from ledger.watch import (
    TOPICS,
    UnknownMessageError,
    UnknownWatcherError,
    Watchers,
    retry_delay,
)
from ledger.watch import outbox as outbox_module
from tests.ledger.watch._receiver import Receiver, receiver

US = "0x" + "a1" * 32
OTHER = "0x" + "b2" * 32
DATASET = "0x" + "d1" * 32
CODE = "0x" + "c1" * 32
ROOT = "0x" + "e1" * 32
AGREEMENT = "0x" + "f1" * 32
COMMITMENT = "0x" + "f2" * 32


@dataclass
class Clock:
    """A clock standing still at the test's start plus an offset the test moves: the back-off
    and lease assertions hold however slowly the machine runs (the reference library checks a
    signature's timestamp against the real time, within five minutes: the start is now)."""

    offset: float = 0.0
    start: float = field(default_factory=time.time)

    def __call__(self) -> float:
        return self.start + self.offset


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def hooks(engine: Engine, clock: Clock) -> Watchers:
    return Watchers(
        engine,
        department=US,
        allow_http=True,
        retry_base=10,
        max_attempts=3,
        timeout=2,
        clock=clock,
    )


@pytest.fixture
def listening() -> Iterator[Receiver]:
    with receiver() as got:
        yield got


class Chain:
    """Writes events as the indexer does: one block after another."""

    def __init__(self, engine: Engine) -> None:
        self.engine, self.block = engine, 0

    def mine(self, *events: tuple[str, dict[str, Any]], block_hash: str | None = None) -> str:
        self.block += 1
        digest = block_hash or "0x" + f"{self.block:064x}"
        with Session(self.engine) as session:
            for index, (name, args) in enumerate(events):
                session.add(
                    ChainEvent(
                        block_number=self.block,
                        block_hash=digest,
                        log_index=index,
                        tx_hash="0x" + "77" * 32,
                        timestamp=1_800_000_000 + self.block,
                        contract="X",
                        name=name,
                        args=json.dumps(args),
                    )
                )
            session.commit()
        return digest


@pytest.fixture
def chain(engine: Engine) -> Chain:
    """Our dataset (its code, a version of its root) and an agreement we are party to."""
    with Session(engine) as session:
        session.add(
            DatasetRow(
                id=DATASET,
                owner_department=US,
                code_hash=CODE,
                metadata_hash="0x" + "00" * 32,
                registered_at=1,
                block_number=1,
                tx_hash="0x" + "01" * 32,
            )
        )
        session.add(
            VersionRow(
                id="0x" + "99" * 32,
                root=ROOT,
                dataset_id=DATASET,
                department_id=US,
                leaf_count=2,
                metadata_hash="0x" + "00" * 32,
                anchored_at=1,
                block_number=1,
                tx_hash="0x" + "02" * 32,
            )
        )
        session.add(agreement(AGREEMENT, valid_until=2_000_000_000))
        session.commit()
    return Chain(engine)


def agreement(agreement_id: str, *, valid_until: int, status: str = "active") -> AgreementRow:
    return AgreementRow(
        id=agreement_id,
        provider=US,
        consumer=OTHER,
        proposer=US,
        purpose="0x" + "00" * 32,
        legal_basis="0x" + "00" * 32,
        terms_hash="0x" + "00" * 32,
        valid_from=0,
        valid_until=valid_until,
        status=status,
        proposed_at=0,
        accepted_at=0,
    )


def theirs_on_our_root() -> tuple[str, dict[str, Any]]:
    return ("VersionAnchored", {"datasetId": "0x" + "d9" * 32, "root": ROOT, "departmentId": OTHER})


def messages(engine: Engine) -> list[WebhookMessage]:
    with Session(engine) as session:
        return list(
            session.exec(
                select(WebhookMessage).order_by(WebhookMessage.created_at, WebhookMessage.dedupe)
            ).all()
        )


def cursor(engine: Engine, watcher_id: str) -> tuple[int, int]:
    with Session(engine) as session:
        watcher = session.get(Watcher, watcher_id)
        assert watcher is not None
        return watcher.cursor_block, watcher.cursor_log


# --------------------------------------------------------------------------- matching


def test_each_event_that_concerns_us_is_one_message_and_the_rest_none(
    hooks: Watchers, chain: Chain, engine: Engine
) -> None:
    watcher, _ = hooks.add(url="http://127.0.0.1:9/x", topics=list(TOPICS[:6]))
    assert watcher["start_block"] == 1  # the index holds no event yet
    chain.mine(
        theirs_on_our_root(),
        ("VersionAnchored", {"datasetId": DATASET, "root": "0x" + "e2" * 32, "departmentId": US}),
        (
            "DatasetRegistered",
            {
                "datasetId": "0x" + "d8" * 32,
                "ownerDepartment": OTHER,
                "codeHash": CODE,
                "metadataHash": "0x" + "00" * 32,
            },
        ),
        ("AgreementAccepted", {"agreementId": AGREEMENT, "departmentId": OTHER}),
        ("AgreementAccepted", {"agreementId": "0x" + "f9" * 32, "departmentId": OTHER}),
        ("ProposalCreated", {"proposalId": 4, "kind": 1, "departmentId": US}),
        ("ProposalCreated", {"proposalId": 5, "kind": 1, "departmentId": OTHER}),
        ("ProposalCreated", {"proposalId": 6, "kind": 2, "departmentId": US}),  # readmit
        (
            "VersionAnchored",
            {"datasetId": "0x" + "d9" * 32, "root": "0x" + "e3" * 32, "departmentId": OTHER},
        ),
    )
    assert hooks.scan() == 5
    said = {(m.dedupe.rsplit(":", 2)[1], m.topic) for m in messages(engine)}
    assert said == {
        ("0", "content.anchored-by-other"),
        ("1", "dataset.version"),
        ("2", "code.taken"),
        ("3", "agreement.changed"),
        ("5", "department.suspension-proposed"),
    }
    body = json.loads(messages(engine)[0].body)
    assert set(body) == {"type", "timestamp", "data"}
    assert body["data"]["department"] == US and body["data"]["block_number"] == 1
    assert hooks.scan() == 0  # the cursor moved past them
    assert cursor(engine, watcher["id"]) == (1, 8)


def test_commitments_we_take_part_in_and_our_versions_revoked_or_erased_are_said(
    hooks: Watchers, chain: Chain, engine: Engine
) -> None:
    led, theirs = "0x" + "f4" * 32, "0x" + "f5" * 32
    with Session(engine) as session:
        for commitment, lead in ((COMMITMENT, OTHER), (led, US), (theirs, OTHER)):
            session.add(
                CommitmentRow(
                    id=commitment,
                    matter_ref="0x" + "00" * 32,
                    lead=lead,
                    deadline=2_000_000_000,
                    status="proposed",
                    proposed_at=0,
                )
            )
        session.add(  # we take part in COMMITMENT, which OTHER leads; not in ``theirs``
            CommitmentParticipantRow(
                commitment_id=COMMITMENT, department_id=US, position=1, duty_hash="0x" + "00" * 32
            )
        )
        session.commit()
    hooks.add(url="http://127.0.0.1:9/x", topics=["commitment.changed", "dataset.version"])
    other_dataset = "0x" + "d9" * 32
    chain.mine(
        ("CommitmentProposed", {"commitmentId": COMMITMENT, "lead": OTHER}),
        ("CommitmentSigned", {"commitmentId": COMMITMENT, "departmentId": US}),
        ("CommitmentSigned", {"commitmentId": theirs, "departmentId": OTHER}),
        ("ProgressReported", {"commitmentId": COMMITMENT, "departmentId": OTHER, "done": True}),
        ("CommitmentCancelled", {"commitmentId": led}),
        ("VersionRevoked", {"datasetId": DATASET, "root": ROOT, "departmentId": US}),
        ("RecordsErased", {"datasetId": DATASET, "root": ROOT, "count": 2}),
        ("RecordsErased", {"datasetId": other_dataset, "root": ROOT, "count": 1}),
    )
    assert hooks.scan() == 6
    said = [(m.dedupe.rsplit(":", 2)[1], m.topic) for m in messages(engine)]
    assert sorted(said) == [
        ("0", "commitment.changed"),
        ("1", "commitment.changed"),
        ("3", "commitment.changed"),
        ("4", "commitment.changed"),
        ("5", "dataset.version"),
        ("6", "dataset.version"),
    ]
    events = {json.loads(m.body)["data"]["event"] for m in messages(engine)}
    assert events == {
        "CommitmentProposed", "CommitmentSigned", "ProgressReported", "CommitmentCancelled",
        "VersionRevoked", "RecordsErased",
    }  # fmt: skip


def test_a_watcher_hears_only_its_topics_and_from_its_first_block(
    hooks: Watchers, chain: Chain, engine: Engine
) -> None:
    chain.mine(theirs_on_our_root())  # before the watcher
    watcher, _ = hooks.add(url="http://127.0.0.1:9/x", topics=["agreement.changed"])
    assert watcher["start_block"] == 2
    chain.mine(
        theirs_on_our_root(), ("AgreementRevoked", {"agreementId": AGREEMENT, "departmentId": US})
    )
    assert hooks.scan() == 1
    assert [m.topic for m in messages(engine)] == ["agreement.changed"]


def test_a_failed_pass_moves_no_cursor_and_the_next_loses_nothing(
    hooks: Watchers, chain: Chain, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    watcher, _ = hooks.add(url="http://127.0.0.1:9/x", topics=["content.anchored-by-other"])
    chain.mine(theirs_on_our_root(), theirs_on_our_root())
    real = Watchers._add_message
    calls: list[int] = []

    def second_fails(self: Watchers, *args: Any) -> int:
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("the database went away mid-pass")
        return real(self, *args)

    monkeypatch.setattr(Watchers, "_add_message", second_fails)
    with pytest.raises(RuntimeError):
        hooks.scan()
    assert messages(engine) == [] and cursor(engine, watcher["id"]) == (1, -1)
    monkeypatch.setattr(Watchers, "_add_message", real)
    assert hooks.scan() == 2 and cursor(engine, watcher["id"]) == (1, 1)


def test_a_reorganisation_rewinds_the_cursor_and_says_nothing_twice(
    hooks: Watchers, chain: Chain, engine: Engine
) -> None:
    hooks.add(url="http://127.0.0.1:9/x", topics=["content.anchored-by-other"])
    chain.mine(theirs_on_our_root())
    chain.mine(theirs_on_our_root())
    assert hooks.scan() == 2
    # The indexer followed a reorganisation: block 2 replaced by another holding two events.
    with Session(engine) as session:
        session.execute(delete(ChainEvent).where(ChainEvent.block_number == 2))
        session.commit()
    chain.block = 1
    chain.mine(theirs_on_our_root(), theirs_on_our_root(), block_hash="0x" + "5e" * 32)
    assert hooks.scan() == 2  # block 1's event is not said again; the new block's two are
    assert len(messages(engine)) == 4
    assert hooks.scan() == 0


def test_an_agreement_ending_soon_and_a_commitment_overdue_are_said_once(
    hooks: Watchers, chain: Chain, engine: Engine, clock: Clock
) -> None:
    now = int(clock())
    with Session(engine) as session:
        session.add(agreement("0x" + "a7" * 32, valid_until=now + 3 * 86400 + 3600))
        session.add(agreement("0x" + "a8" * 32, valid_until=now + 30 * 86400))
        session.add(agreement("0x" + "a9" * 32, valid_until=now + 86400, status="revoked"))
        session.add(
            CommitmentRow(
                id=COMMITMENT,
                matter_ref="0x" + "00" * 32,
                lead=OTHER,
                deadline=now - 10,
                status="active",
                proposed_at=0,
            )
        )
        session.add(
            CommitmentParticipantRow(
                commitment_id=COMMITMENT, department_id=US, position=0, duty_hash="0x" + "00" * 32
            )
        )
        session.add(
            CommitmentRow(
                id="0x" + "f3" * 32,
                matter_ref="0x" + "00" * 32,
                lead=OTHER,
                deadline=now - 10,
                status="active",
                proposed_at=0,
            )
        )
        session.commit()
    hooks.add(
        url="http://127.0.0.1:9/x",
        topics=["agreement.expiring", "commitment.overdue"],
        expiring_days=7,
    )
    assert hooks.scan() == 2
    bodies = {m.topic: json.loads(m.body)["data"] for m in messages(engine)}
    assert bodies["agreement.expiring"]["agreement_id"] == "0x" + "a7" * 32
    assert bodies["agreement.expiring"]["days_left"] == 3
    assert bodies["commitment.overdue"]["commitment_id"] == COMMITMENT
    clock.offset = 3600
    assert hooks.scan() == 0


# --------------------------------------------------------------------------- delivery


def test_a_pass_with_nothing_due_makes_no_http_client(
    hooks: Watchers,
    chain: Chain,
    listening: Receiver,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A pass every few seconds under ``serve``: an HTTP client (its TLS context) costs
    milliseconds of CPU, spent only when a message is due."""
    made: list[object] = []
    client = outbox_module.httpx.Client

    def counted(*args: Any, **kwargs: Any) -> Any:
        made.append(args)
        return client(*args, **kwargs)

    monkeypatch.setattr(outbox_module.httpx, "Client", counted)
    assert hooks.deliver() == outbox_module.DeliveryReport() and made == []
    hooks.add(url=listening.url, topics=["content.anchored-by-other"])
    chain.mine(theirs_on_our_root())
    hooks.scan()
    assert hooks.deliver().delivered == 1 and len(made) == 1
    assert hooks.deliver() == outbox_module.DeliveryReport() and len(made) == 1


def test_delivered_signed_with_one_id_through_back_off_to_a_dead_letter_and_back(
    hooks: Watchers, chain: Chain, listening: Receiver, clock: Clock
) -> None:
    watcher, secret = hooks.add(url=listening.url, topics=["content.anchored-by-other"])
    chain.mine(theirs_on_our_root())
    hooks.scan()
    listening.statuses[:] = [500, 503, 410]
    assert hooks.deliver().failed == 1
    [first] = listening.wait_for(1)
    assert Webhook(secret).verify(first.body, first.headers)["type"] == "content.anchored-by-other"
    assert first.path == "/hooks/xietong"
    [pending] = hooks.messages(status="pending").items
    assert pending["attempts"] == 1 and pending["last_error"] == "the receiver answered HTTP 500"
    # Not due before the back-off: 10 s, then 40 s.
    clock.offset = 9
    assert hooks.deliver().failed == 0 and len(listening.received) == 1
    clock.offset = 10
    assert hooks.deliver().failed == 1
    clock.offset = 10 + 39
    assert hooks.deliver() == outbox_module.DeliveryReport()
    clock.offset = 10 + 40
    assert hooks.deliver().dead == 1
    sent = listening.wait_for(3)
    assert {r.headers["webhook-id"] for r in sent} == {pending["id"]}  # one id, every attempt
    assert len({r.headers["webhook-timestamp"] for r in sent}) == 3
    for got in sent:
        Webhook(secret).verify(got.body, got.headers)
    [dead] = hooks.messages(status="dead").items
    assert dead["attempts"] == 3 and dead["last_status"] == 410 and dead["next_attempt_at"] is None
    assert hooks.get(watcher["id"])["messages"] == {"pending": 0, "delivered": 0, "dead": 1}
    # An operator sends it again: delivered, the same id.
    assert hooks.retry(dead["id"])["status"] == "pending"
    assert hooks.deliver().delivered == 1
    assert listening.wait_for(4)[-1].headers["webhook-id"] == pending["id"]
    [done] = hooks.messages(status="delivered").items
    assert done["delivered_at"] is not None and done["attempts"] == 1
    with pytest.raises(InputError, match="is delivered: only a dead one is sent again"):
        hooks.retry(done["id"])
    with pytest.raises(UnknownMessageError, match="there is no webhook msg_nope"):
        hooks.retry("msg_nope")


def test_a_receiver_that_is_not_there_or_silent_is_retried(
    hooks: Watchers, chain: Chain, engine: Engine, clock: Clock
) -> None:
    from ledger.chain.node import free_port

    hooks.add(url=f"http://127.0.0.1:{free_port()}/gone", topics=["content.anchored-by-other"])
    chain.mine(theirs_on_our_root())
    hooks.scan()
    assert hooks.deliver().failed == 1
    [message] = hooks.messages().items
    assert (
        message["last_error"] == "could not send it (ConnectError)"
        and message["last_status"] is None
    )
    with receiver() as silent:
        silent.hold.set()
        with Session(engine) as session:
            watcher = session.exec(select(Watcher)).one()
            watcher.url = silent.url
            session.add(watcher)
            session.commit()
        clock.offset = 10
        assert hooks.deliver().failed == 1
        [message] = hooks.messages().items
        assert message["last_error"] == "no answer within 2 s" and message["attempts"] == 2


def test_a_receivers_endless_answer_is_never_read(
    hooks: Watchers, chain: Chain, listening: Receiver
) -> None:
    """A receiver answering 200 with a body announced as 10 GB that never ends: the status
    delivers the webhook, the body is left unread (no wait for it, no memory for it)."""
    listening.endless_body.set()
    hooks.add(url=listening.url, topics=["content.anchored-by-other"])
    chain.mine(theirs_on_our_root())
    hooks.scan()
    assert hooks.deliver().delivered == 1  # within the 2 s timeout, which reading would hit
    [message] = hooks.messages().items
    assert message["status"] == "delivered" and message["last_status"] == 200


def test_a_lease_left_by_a_killed_delivery_runs_out_and_the_same_id_is_sent(
    hooks: Watchers, chain: Chain, listening: Receiver, clock: Clock
) -> None:
    """A process that took a message and died before recording the answer: the message stays
    leased for the timeout and five seconds, then goes out again with its id."""
    hooks.add(url=listening.url, topics=["content.anchored-by-other"])
    chain.mine(theirs_on_our_root())
    hooks.scan()
    [message] = hooks.messages().items
    assert hooks._lease(message["id"]) is not None  # taken by a delivery that then died
    assert hooks.deliver() == outbox_module.DeliveryReport() and listening.received == []
    clock.offset = 2 + 5 + 1
    assert hooks.deliver().delivered == 1
    assert listening.wait_for(1)[0].headers["webhook-id"] == message["id"]


def test_a_rotated_secret_signs_beside_the_new_one_for_a_day(
    hooks: Watchers, chain: Chain, listening: Receiver, clock: Clock
) -> None:
    watcher, old = hooks.add(url=listening.url, topics=["content.anchored-by-other"])
    shown, new = hooks.rotate(watcher["id"])
    assert new != old and shown["rotating_until"] is not None
    chain.mine(theirs_on_our_root())
    hooks.scan()
    hooks.deliver()
    [got] = listening.wait_for(1)
    assert got.headers["webhook-signature"].count("v1,") == 2
    for secret in (old, new):
        Webhook(secret).verify(got.body, got.headers)
    clock.offset = 24 * 3600 + 1
    chain.mine(theirs_on_our_root())
    hooks.scan()
    hooks.deliver()
    later = listening.wait_for(2)[1]
    assert later.headers["webhook-signature"].count("v1,") == 1
    assert hooks.get(watcher["id"])["rotating_until"] is None


# --------------------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    ("url", "topics", "days", "message"),
    [
        ("ftp://127.0.0.1/x", ["dataset.version"], None, "is not an http\\(s\\) URL with a host"),
        ("http:///x", ["dataset.version"], None, "is not an http\\(s\\) URL with a host"),
        ("https://user:pw@example.org/x", ["dataset.version"], None, "holds no user or password"),
        ("http://example.org/x", ["dataset.version"], None, "webhooks go over https"),
        ("https://example.org/" + "x" * 2000, ["dataset.version"], None, "longer than 2000"),
        ("https://example.org/x", [], None, "name at least one topic"),
        ("https://example.org/x", ["dataset.gone"], None, "unknown topic 'dataset.gone'"),
        ("https://example.org/x", ["agreement.expiring"], None, "needs the days ahead"),
        ("https://example.org/x", ["agreement.expiring"], 0, "needs the days ahead"),
        ("https://example.org/x", ["dataset.version"], 3, "for the agreement.expiring topic"),
    ],
    ids=[
        "scheme",
        "no-host",
        "credentials",
        "plain-http",
        "too-long",
        "no-topic",
        "unknown-topic",
        "no-days",
        "zero-days",
        "days-without-topic",
    ],
)
def test_a_bad_subscription_is_refused_in_one_sentence(
    engine: Engine, url: str, topics: list[str], days: int | None, message: str
) -> None:
    strict = Watchers(engine, department=US)  # production: https only, but to loopback
    with pytest.raises(InputError, match=message):
        strict.add(url=url, topics=topics, expiring_days=days)
    assert strict.all() == []


def test_another_departments_watcher_is_unknown_here(hooks: Watchers, engine: Engine) -> None:
    theirs = Watchers(engine, department=OTHER)
    watcher, _ = theirs.add(url="http://127.0.0.1:9/x", topics=["dataset.version"])
    for act in (hooks.get, hooks.remove, hooks.rotate):
        with pytest.raises(UnknownWatcherError, match=f"there is no watcher {watcher['id']}"):
            act(watcher["id"])
    assert hooks.all() == [] and len(theirs.all()) == 1
    assert hooks.exist() is False and theirs.exist() is True
    assert theirs.remove(watcher["id"])["id"] == watcher["id"] and theirs.all() == []
    assert theirs.exist() is False


def test_listing_refuses_a_bad_status_limit_or_cursor(hooks: Watchers) -> None:
    with pytest.raises(InputError, match="status must be one of pending, delivered, dead"):
        hooks.messages(status="lost")
    with pytest.raises(InputError, match="limit must be between 1 and 500"):
        hooks.messages(limit=0)
    with pytest.raises(InputError, match="the cursor is malformed"):
        hooks.messages(cursor="bm90IGEgY3Vyc29y")


def test_the_back_off_grows_four_times_and_stops_at_ten_hours() -> None:
    assert [retry_delay(n, 5) for n in range(1, 10)] == [
        5,
        20,
        80,
        320,
        1280,
        5120,
        20480,
        36000,
        36000,
    ]

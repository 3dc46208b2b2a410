"""The auditor's review of access receipts (``queries.review_receipts``): each flag fires for
the case it names and for no other, on both sides of every time boundary, against projection
rows written straight into SQLite and PostgreSQL (the chain's own checks cannot be relied on:
chain data is untrusted, and a department's status can change inside a period already over)."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from ledger.db import queries
from ledger.db.queries import RECEIPT_FLAGS, suspended_within
from ledger.db.tables import (
    INT64_MAX,
    AccessReceiptRow,
    AgreementDatasetRow,
    AgreementRow,
    ChainEvent,
    DepartmentRow,
    IndexedBlock,
)
from ledger.errors import InputError

T = 1_900_000_000  # the base time of every case
OTHER = "0x" + "ee" * 32  # a department that is party to no agreement


def hex32(tag: str, n: int) -> str:
    return "0x" + (tag * 2)[:2] * 30 + f"{n:04x}"


@dataclass
class Case:
    """One receipt on its own agreement, between departments of its own (so that status
    changes of one case never touch another), and the flags it must get."""

    name: str
    expected: list[str]
    agreement: dict[str, Any] = field(default_factory=dict)
    receipt: dict[str, Any] = field(default_factory=dict)
    #: (block time, "provider" | "consumer" | "other", suspended?) in chain order.
    changes: list[tuple[int, str, bool]] = field(default_factory=list)
    indexed: bool = True  # False: the index holds no agreement row for the receipt


CASES = [
    Case("honest", []),
    Case(
        "honest at every boundary",
        [],
        agreement={"valid_until": T + 1000, "closed_at": T + 999, "status": "revoked"},
        receipt={"period_start": T + 100, "period_end": T + 999, "recorded_at": T + 999},
    ),
    Case(
        "starts a second before the acceptance",
        ["before-effective"],
        receipt={"period_start": T + 99},
    ),
    Case(
        "starts before valid_from, accepted earlier",
        ["before-effective"],
        agreement={"valid_from": T + 150},
        receipt={"period_start": T + 149},
    ),
    Case(
        "starts at valid_from, accepted earlier",
        [],
        agreement={"valid_from": T + 150},
        receipt={"period_start": T + 150},
    ),
    Case(
        "agreement never accepted",
        ["before-effective"],
        agreement={"status": "proposed", "accepted_at": None},
    ),
    Case("ends at valid_until", ["after-validity"], agreement={"valid_until": T + 200}),
    Case("ends a second before valid_until", [], agreement={"valid_until": T + 201}),
    Case(
        "valid forever",
        [],
        agreement={"valid_until": INT64_MAX},
        receipt={"period_end": T + 10**9, "recorded_at": T + 10**9},
    ),
    Case(
        "ends a second after the revocation",
        ["after-closure"],
        agreement={"status": "revoked", "closed_at": T + 199},
    ),
    Case(
        "ends in the second of the revocation",
        [],
        agreement={"status": "revoked", "closed_at": T + 200},
    ),
    Case(
        "ends after the agreement was superseded",
        ["after-closure"],
        agreement={"status": "superseded", "closed_at": T + 150},
    ),
    # A withdrawn agreement was never accepted: its receipts also start before any effect.
    Case(
        "ends after the proposal was withdrawn",
        ["before-effective", "after-closure"],
        agreement={"status": "withdrawn", "accepted_at": None, "closed_at": T + 150},
    ),
    Case("recorded by another department", ["consumer-mismatch"], receipt={"consumer": OTHER}),
    Case(
        "consumer suspended and readmitted inside the period",
        ["department-inactive"],
        changes=[(T + 150, "consumer", True), (T + 160, "consumer", False)],
    ),
    Case(
        "provider suspended and readmitted inside the period",
        ["department-inactive"],
        changes=[(T + 150, "provider", True), (T + 160, "provider", False)],
    ),
    Case(
        "consumer suspended in the period's last second",
        ["department-inactive"],
        changes=[(T + 200, "consumer", True)],
    ),
    Case(
        "consumer suspended a second after the period",
        [],
        changes=[(T + 201, "consumer", True)],
    ),
    Case(
        "consumer suspended before and still when the period started",
        ["department-inactive"],
        changes=[(T + 50, "consumer", True), (T + 150, "consumer", False)],
    ),
    Case(
        "consumer readmitted in the period's first second",
        ["department-inactive"],
        changes=[(T + 50, "consumer", True), (T + 100, "consumer", False)],
    ),
    Case(
        "consumer readmitted a second before the period",
        [],
        changes=[(T + 50, "consumer", True), (T + 99, "consumer", False)],
    ),
    Case(
        "consumer suspended and readmitted in one block of the period",
        ["department-inactive"],
        changes=[(T + 150, "consumer", True), (T + 150, "consumer", False)],
    ),
    Case(
        "consumer suspended before the period, never readmitted",
        ["department-inactive"],
        changes=[(T + 50, "consumer", True)],
    ),
    Case(
        "receipt of another department recorded while that one was suspended",
        ["consumer-mismatch", "department-inactive"],
        receipt={"consumer": "other"},
        changes=[(T + 150, "other", True), (T + 160, "other", False)],
    ),
    Case(
        "a department that is no party suspended inside the period",
        [],
        changes=[(T + 150, "other", True), (T + 160, "other", False)],
    ),
    Case("ends after it was recorded", ["future-period"], receipt={"recorded_at": T + 199}),
    Case("no entries", ["empty"], receipt={"entry_count": 0}),
    Case(
        "starts after it ends",
        ["period-inverted"],
        receipt={"period_start": T + 200, "period_end": T + 150},
    ),
    Case("agreement not indexed", ["unknown-agreement"], indexed=False),
    Case(
        "agreement not indexed, receipt empty and ahead of its recording",
        ["future-period", "empty", "unknown-agreement"],
        receipt={"entry_count": 0, "recorded_at": T + 150},
        indexed=False,
    ),
    Case(
        "several at once, in the order of RECEIPT_FLAGS",
        ["before-effective", "after-validity", "future-period", "empty"],
        agreement={"valid_until": T + 200},
        receipt={"period_start": T, "entry_count": 0, "recorded_at": T + 10},
    ),
]


def rows_of(n: int, case: Case) -> list[Any]:
    """The rows of case number ``n``: its agreement (unless not indexed), receipt, parties and
    the events of their status changes."""
    provider, consumer, other = hex32("a", n), hex32("b", n), hex32("c", n)
    who = {"provider": provider, "consumer": consumer, "other": other}
    agreement_id = hex32("f", n)
    agreement: dict[str, Any] = {
        "id": agreement_id,
        "provider": provider,
        "consumer": consumer,
        "proposer": provider,
        "purpose": "0x" + "03" * 32,
        "legal_basis": "0x" + "04" * 32,
        "terms_hash": "0x" + "05" * 32,
        "valid_from": T,
        "valid_until": T + 10_000,
        "status": "active",
        "proposed_at": T - 10,
        "accepted_at": T + 100,
        **case.agreement,
    }
    receipt: dict[str, Any] = {
        "agreement_id": agreement_id,
        "receipt_index": 0,
        "consumer": consumer,
        "log_root": "0x" + "06" * 32,
        "entry_count": 5,
        "period_start": T + 100,
        "period_end": T + 200,
        "recorded_at": T + 300,
        "block_number": 1000 + n,
        "tx_hash": hex32("9", n),
        **case.receipt,
    }
    receipt["consumer"] = who.get(receipt["consumer"], receipt["consumer"])
    rows: list[Any] = [AccessReceiptRow(**receipt)]
    if case.indexed:
        rows += [
            AgreementRow(**agreement),
            AgreementDatasetRow(agreement_id=agreement_id, dataset_id="0x" + "07" * 32),
        ]
    for name, department in (("提供方", provider), ("使用方", consumer), ("其他部门", other)):
        rows.append(
            DepartmentRow(
                id=department,
                name=f"{name}{n}",
                status="active",
                admitted_at=T - 1000,
                status_changed_at=T - 1000,
            )
        )
    for position, (when, party, suspended) in enumerate(case.changes):
        name = "DepartmentSuspended" if suspended else "DepartmentReadmitted"
        rows.append(
            event(
                name,
                block=100_000 * (n + 1),  # apart from other cases' events
                log=position,
                when=when,
                args={"departmentId": who[party], "proposalId": 1},
                subject=who[party],
            )
        )
    return rows


def event(
    name: str, *, block: int, log: int, when: int, args: dict[str, Any], subject: str | None
) -> ChainEvent:
    return ChainEvent(
        block_number=block,
        block_hash="0x" + "00" * 32,
        log_index=log,
        tx_hash=f"0x{block:064x}",
        timestamp=when,
        contract="DepartmentRegistry",
        name=name,
        department_id=args.get("departmentId"),
        subject_id=subject,
        args=json.dumps(args, sort_keys=True),
    )


def fill(engine: Engine, cases: list[Case]) -> None:
    with Session(engine) as session:
        for n, case in enumerate(cases):
            session.add_all(rows_of(n, case))
        session.commit()


def review_all(engine: Engine, **kwargs: Any) -> list[dict[str, Any]]:
    with Session(engine) as session:
        return queries.review_receipts(session=session, limit=queries.MAX_PAGE, **kwargs).items


def test_each_flag_fires_for_the_case_it_names_and_no_other(engine: Engine) -> None:
    fill(engine, CASES)
    found = {item["agreement_id"]: item["flags"] for item in review_all(engine)}
    got = {case.name: found[hex32("f", n)] for n, case in enumerate(CASES)}
    assert got == {case.name: case.expected for case in CASES}
    # Every flag has a case raising it alone: none is untested.
    alone = {case.expected[0] for case in CASES if len(case.expected) == 1}
    assert alone == set(RECEIPT_FLAGS)


def test_an_honest_receipt_is_shown_beside_its_agreement(engine: Engine) -> None:
    fill(engine, CASES[:1])
    [item] = review_all(engine)
    assert item["flags"] == []
    assert item["agreement_id"] == hex32("f", 0) and item["index"] == 0
    agreement = item["agreement"]
    assert agreement["id"] == hex32("f", 0)
    assert agreement["provider"]["name"] == "提供方0"
    assert agreement["consumer"]["name"] == "使用方0"
    assert agreement["datasets"] == ["0x" + "07" * 32]
    assert agreement["effective_from"] == queries.iso(T + 100)  # the acceptance, not valid_from
    assert item["consumer"] == agreement["consumer"]
    assert item["period_start"] == queries.iso(T + 100)
    assert item["period_end"] == queries.iso(T + 200)
    assert item["recorded_at"] == queries.iso(T + 300)
    assert item["entry_count"] == 5
    assert item["transaction"] == hex32("9", 0)


def test_a_receipt_without_its_agreement_is_still_listed(engine: Engine) -> None:
    fill(engine, [Case("lost", ["unknown-agreement"], indexed=False)])
    [item] = review_all(engine)
    assert item["agreement"] is None and item["flags"] == ["unknown-agreement"]


def test_flagged_only_pages_walk_every_flagged_receipt_once(engine: Engine) -> None:
    fill(engine, CASES)
    everything = review_all(engine)
    flagged = [(i["agreement_id"], i["index"]) for i in everything if i["flags"]]
    assert 0 < len(flagged) < len(everything)
    for size in (1, 2, 7, len(flagged), len(flagged) + 1):
        seen: list[tuple[str, int]] = []
        cursor = None
        with Session(engine) as session:
            while True:
                page = queries.review_receipts(
                    session=session, flagged_only=True, cursor=cursor, limit=size
                )
                assert len(page.items) <= size
                assert all(item["flags"] for item in page.items)
                seen += [(item["agreement_id"], item["index"]) for item in page.items]
                cursor = page.next_cursor
                if cursor is None:
                    break
        assert seen == flagged, size
    # All receipts, page by page, in the order recorded (block numbers rise with the cases).
    with Session(engine) as session:
        first = queries.review_receipts(session=session, limit=3)
        second = queries.review_receipts(session=session, cursor=first.next_cursor, limit=3)
    assert [i["agreement_id"] for i in first.items + second.items] == [
        i["agreement_id"] for i in everything[:6]
    ]


def test_flagged_only_reads_past_a_long_run_of_honest_receipts(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(queries, "_REVIEW_SCAN", 3)  # several chunks of honest rows first
    cases = [Case(f"honest {n}", []) for n in range(8)] + [
        Case("empty", ["empty"], receipt={"entry_count": 0}),
        Case("honest again", []),
        Case("late", ["future-period"], receipt={"recorded_at": T + 199}),
    ]
    fill(engine, cases)
    with Session(engine) as session:
        page = queries.review_receipts(session=session, flagged_only=True, limit=1)
        assert [i["flags"] for i in page.items] == [["empty"]]
        rest = queries.review_receipts(
            session=session, flagged_only=True, cursor=page.next_cursor, limit=1
        )
        assert [i["flags"] for i in rest.items] == [["future-period"]]
        assert rest.next_cursor is None


@pytest.mark.parametrize("limit", [0, queries.MAX_PAGE + 1])
def test_limits_and_cursors_are_checked(engine: Engine, limit: int) -> None:
    with Session(engine) as session:
        for flagged_only in (False, True):
            with pytest.raises(InputError, match="limit"):
                queries.review_receipts(session=session, flagged_only=flagged_only, limit=limit)
            with pytest.raises(InputError, match="cursor is malformed"):
                queries.review_receipts(session=session, flagged_only=flagged_only, cursor="e30")


def test_the_csv_names_every_column_and_neutralises_formulas(engine: Engine) -> None:
    cases = [
        Case("honest", []),
        Case("recorded by another department", ["consumer-mismatch"], receipt={"consumer": OTHER}),
        Case(
            "suspended",
            ["department-inactive", "empty"],
            receipt={"entry_count": 0},
            changes=[(T + 150, "consumer", True)],
        ),
    ]
    fill(engine, cases)
    with Session(engine) as session:
        session.add(
            DepartmentRow(
                id=OTHER,
                name='=HYPERLINK("http://evil")',
                status="active",
                admitted_at=T,
                status_changed_at=T,
            )
        )
        session.commit()
    items = review_all(engine)
    text = queries.receipts_csv(items, {"0x" + "03" * 32: "低保资格核查"})
    assert text.startswith("\ufeff")
    table = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert list(table[0]) == list(queries.RECEIPT_CSV_FIELDS)
    assert [row["flags"] for row in table] == ["", "consumer-mismatch", "department-inactive empty"]
    honest, mismatch, _ = table
    assert honest["provider"] == "提供方0" and honest["consumer"] == "使用方0"
    assert honest["receipt_consumer"] == "使用方0"
    assert honest["purpose_text"] == "低保资格核查"
    assert honest["effective_from"] == queries.iso(T + 100)
    assert honest["period_end"] == queries.iso(T + 200)
    assert honest["entry_count"] == "5"
    assert mismatch["receipt_consumer_id"] == OTHER
    assert mismatch["receipt_consumer"] == '\'=HYPERLINK("http://evil")'  # text, not a formula


def test_suspended_within_follows_chain_order_second_by_second() -> None:
    changes = [(10, True), (20, False), (30, True), (30, False)]
    assert suspended_within(changes, 0, 9) is False
    assert suspended_within(changes, 0, 10) is True
    assert suspended_within(changes, 15, 16) is True  # still suspended at the start
    assert suspended_within(changes, 20, 25) is True  # readmitted during the first second
    assert suspended_within(changes, 21, 29) is False
    assert suspended_within(changes, 30, 30) is True  # suspended and readmitted in one block
    assert suspended_within(changes, 31, 100) is False
    assert suspended_within([], 0, 100) is False


def test_the_review_reads_the_clock_of_the_index(engine: Engine) -> None:
    # An agreement's status beside its receipt follows the index's clock (as everywhere).
    fill(engine, CASES[:1])
    with Session(engine) as session:
        session.add(IndexedBlock(number=1, hash="0x" + "00" * 32, timestamp=T + 20_000))
        session.commit()
    [item] = review_all(engine)
    assert item["agreement"]["status"] == "expired"


def test_one_agreements_receipts(engine: Engine) -> None:
    fill(engine, CASES)
    wanted = hex32("f", 3)
    [item] = review_all(engine, agreement=wanted)
    assert item["agreement_id"] == wanted and item["flags"] == CASES[3].expected
    assert review_all(engine, agreement=hex32("f", 0), flagged_only=True) == []
    assert review_all(engine, agreement="0x" + "99" * 32) == []


# --------------------------------------------------------------------------- histories


def test_an_agreements_history_holds_the_proposals_of_its_amendments(engine: Engine) -> None:
    old, new, other = hex32("1", 1), hex32("2", 2), hex32("3", 3)
    zero = "0x" + "00" * 32

    def agreement_event(
        name: str, block: int, subject: str, log: int = 0, **args: Any
    ) -> ChainEvent:
        row = event(name, block=block, log=log, when=T + block, args=args, subject=subject)
        row.contract = "SharingAgreements"
        return row

    with Session(engine) as session:
        session.add_all(
            [
                agreement_event("AgreementProposed", 1, old, agreementId=old, supersedes=zero),
                agreement_event("AgreementAccepted", 2, old, agreementId=old),
                # An amendment of it, and one of another agreement naming it elsewhere.
                agreement_event("AgreementProposed", 3, new, agreementId=new, supersedes=old),
                agreement_event(
                    "AgreementProposed", 4, other, agreementId=other, supersedes=zero, note=old
                ),
                agreement_event("AgreementAccepted", 5, new, agreementId=new),
                agreement_event(
                    "AgreementSuperseded", 5, old, log=1, agreementId=old, supersededBy=new
                ),
            ]
        )
        session.commit()
        history = queries.agreement_events(session=session, agreement_id=old)
        amended = queries.agreement_events(session=session, agreement_id=new)
    assert [(e["event"], e["subject_id"]) for e in history] == [
        ("AgreementProposed", old),
        ("AgreementAccepted", old),
        ("AgreementProposed", new),
        ("AgreementSuperseded", old),
    ]
    assert [(e["event"], e["subject_id"]) for e in amended] == [
        ("AgreementProposed", new),
        ("AgreementAccepted", new),
    ]


def test_a_proposals_history_holds_what_its_execution_did(engine: Engine) -> None:
    admitted, elsewhere = hex32("4", 4), hex32("5", 5)
    rows = [
        event("ProposalCreated", block=1, log=0, when=T, args={"proposalId": 3}, subject="3"),
        event("ProposalApproved", block=1, log=1, when=T, args={"proposalId": 3}, subject="3"),
        event("ProposalCreated", block=2, log=0, when=T, args={"proposalId": 13}, subject="13"),
        event("ProposalApproved", block=3, log=0, when=T, args={"proposalId": 3}, subject="3"),
        event("ProposalExecuted", block=3, log=1, when=T, args={"proposalId": 3}, subject="3"),
        event(
            "DepartmentAdmitted",
            block=3,
            log=2,
            when=T,
            args={"departmentId": admitted, "proposalId": 3},
            subject=admitted,
        ),
        event(
            "OperatorAdded",
            block=3,
            log=3,
            when=T,
            args={"departmentId": admitted, "account": "0x" + "ab" * 20},
            subject="0x" + "ab" * 20,
        ),
        # Not its own: another proposal's effect (whose id holds a 3), another department's
        # operator.
        event(
            "DepartmentSuspended",
            block=4,
            log=0,
            when=T,
            args={"departmentId": elsewhere, "proposalId": 13},
            subject=elsewhere,
        ),
        event(
            "OperatorAdded",
            block=4,
            log=1,
            when=T,
            args={"departmentId": elsewhere, "account": "0x" + "cd" * 20},
            subject="0x" + "cd" * 20,
        ),
    ]
    rows[-1].tx_hash = rows[6].tx_hash  # even in the same transaction
    with Session(engine) as session:
        session.add_all(rows)
        session.commit()
        history = queries.proposal_events(session=session, proposal_id=3)
        assert queries.proposal_events(session=session, proposal_id=99) == []
    assert [(e["block_number"], e["log_index"], e["event"]) for e in history] == [
        (1, 0, "ProposalCreated"),
        (1, 1, "ProposalApproved"),
        (3, 0, "ProposalApproved"),
        (3, 1, "ProposalExecuted"),
        (3, 2, "DepartmentAdmitted"),
        (3, 3, "OperatorAdded"),
    ]

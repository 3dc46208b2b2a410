"""Read-side queries: cursors, derived statuses at their time boundaries (in Python and in
SQL, on SQLite and PostgreSQL), keyset pages over ties, times as ISO 8601."""

from __future__ import annotations

import base64
import csv
import io
import json
import time
from typing import Any

import pytest
from eth_utils import keccak
from sqlalchemy.engine import Engine
from sqlmodel import Session

from ledger.db import queries
from ledger.db.queries import (
    AGREEMENT_STATUSES,
    COMMITMENT_STATUSES,
    AmbiguousDatasetError,
    UnknownDatasetError,
    agreement_status,
    commitment_status,
    decode_cursor,
    encode_cursor,
    iso,
)
from ledger.db.tables import (
    INT64_MAX,
    AgreementRow,
    CommitmentRow,
    IndexedBlock,
    SubmissionBatch,
    VersionAnchoring,
)
from ledger.errors import InputError
from ledger.ids import code_hash, version_id
from ledger.indexer import Indexer
from tests.support import Consortium

T = 2_000_000_000  # "now" in the status tests


def raw_cursor(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


# --------------------------------------------------------------------------- cursors


@pytest.mark.parametrize(
    "key",
    [[1763625600, "0x" + "ae" * 32], [5, 7], ["杭州市民政局"], [INT64_MAX, ""], [-1, 0, "a=b/c+d"]],
)
def test_cursors_round_trip(key: list[Any]) -> None:
    cursor = encode_cursor(key)
    assert "=" not in cursor and "/" not in cursor and "+" not in cursor  # URL-safe, unpadded
    assert decode_cursor(cursor, arity=len(key)) == key


def test_encode_accepts_tuples() -> None:
    assert decode_cursor(encode_cursor((3, "x")), arity=2) == [3, "x"]


@pytest.mark.parametrize(
    ("cursor", "arity"),
    [
        ("!!!", 2),
        ("", 2),
        (base64.urlsafe_b64encode(b"not json").decode(), 2),
        (base64.urlsafe_b64encode(b"\xff\xfe").decode(), 2),
        (raw_cursor({"a": 1}), 1),
        (raw_cursor("text"), 1),
        (raw_cursor(7), 1),
        (raw_cursor([1]), 2),
        (raw_cursor([1, 2, 3]), 2),
        (raw_cursor([1.5, "x"]), 2),
        (raw_cursor([True, "x"]), 2),
        (raw_cursor([None, "x"]), 2),
        (raw_cursor([[1], "x"]), 2),
        (base64.urlsafe_b64encode(b"[" * 100_000 + b"]" * 100_000).decode(), 2),
        (base64.urlsafe_b64encode(b"[" * 200 + b"]" * 200).decode(), 2),
        ("A" * 5000, 2),
    ],
    ids=[
        "junk",
        "empty",
        "not-json",
        "not-utf8",
        "object",
        "string",
        "number",
        "too-short",
        "too-long",
        "float",
        "bool",
        "null",
        "nested",
        "nested-100000-deep",
        "nested-200-deep-within-the-length",
        "longer-than-any-cursor",
    ],
)
def test_malformed_cursors_are_refused(cursor: str, arity: int) -> None:
    with pytest.raises(InputError, match="the cursor is malformed"):
        decode_cursor(cursor, arity=arity)


# --------------------------------------------------------------------------- statuses


def agreement(
    status: str, valid_from: int, valid_until: int, n: int = 0, accepted_at: int | None = None
) -> AgreementRow:
    return AgreementRow(
        id=f"0x{n:064x}",
        provider="0x" + "01" * 32,
        consumer="0x" + "02" * 32,
        proposer="0x" + "01" * 32,
        purpose="0x" + "03" * 32,
        legal_basis="0x" + "04" * 32,
        terms_hash="0x" + "05" * 32,
        valid_from=valid_from,
        valid_until=valid_until,
        status=status,
        proposed_at=T - 1000,
        accepted_at=accepted_at,
    )


def commitment(status: str, deadline: int, n: int = 0) -> CommitmentRow:
    return CommitmentRow(
        id=f"0x{n:064x}",
        matter_ref="0x" + "06" * 32,
        lead="0x" + "01" * 32,
        deadline=deadline,
        status=status,
        proposed_at=T - 1000,
    )


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (T - 1, "pending"),
        (T, "active"),
        (T + 99, "active"),
        (T + 100, "expired"),
        (T + 10**9, "expired"),
    ],
)
def test_an_accepted_agreement_is_pending_active_then_expired(now: int, expected: str) -> None:
    assert agreement_status(agreement("active", T, T + 100), now) == expected


@pytest.mark.parametrize(
    ("now", "expected"),
    [(T - 1, "pending"), (T, "pending"), (T + 9, "pending"), (T + 10, "active")],
)
def test_a_backdated_agreement_is_in_effect_from_its_acceptance(now: int, expected: str) -> None:
    """Valid from T - 10**8 as signed, accepted at T + 10: pending until the acceptance."""
    row = agreement("active", T - 10**8, T + 100, accepted_at=T + 10)
    assert agreement_status(row, now) == expected


@pytest.mark.parametrize("status", ["proposed", "rejected", "withdrawn", "revoked", "superseded"])
def test_other_agreement_statuses_do_not_follow_the_time(status: str) -> None:
    row = agreement(status, T, T + 100)
    assert {agreement_status(row, now) for now in (T - 1, T, T + 100, T + 10**9)} == {status}


def test_an_agreement_valid_forever_never_expires() -> None:
    assert agreement_status(agreement("active", T, INT64_MAX), INT64_MAX - 1) == "active"


@pytest.mark.parametrize(
    ("status", "now", "expected"),
    [
        ("proposed", T, "proposed"),
        ("proposed", T + 1, "overdue"),
        ("active", T, "active"),
        ("active", T + 1, "overdue"),
        ("completed", T + 10**6, "completed"),
        ("cancelled", T + 10**6, "cancelled"),
    ],
)
def test_a_commitment_is_overdue_only_after_its_deadline(
    status: str, now: int, expected: str
) -> None:
    assert commitment_status(commitment(status, deadline=T), now) == expected


# --------------------------------------------------------------------------- the same in SQL


def at_time(session: Session, now: int) -> None:
    """Make ``now`` the queries' clock: the newest indexed block is ahead of the wall clock."""
    session.add(IndexedBlock(number=1, hash="0x" + "00" * 32, timestamp=now))


def test_agreement_status_filters_agree_with_the_status_at_the_boundaries(engine: Engine) -> None:
    now = int(time.time()) + 10**7
    rows = [
        agreement("active", now, now + 1, 1),  # active from its first second
        agreement("active", now + 1, now + 10, 2),  # pending
        agreement("active", now - 10, now, 3),  # expired at valid_until
        agreement("active", now - 10, now + 1, 4),  # active until its last second
        agreement("revoked", now - 10, now - 1, 5),  # closed: not "expired"
        agreement("proposed", now - 10, now - 1, 6),
        agreement("superseded", now - 10, now + 10, 7),
        agreement("active", now - 10, now + 10, 8, accepted_at=now + 1),  # pending: backdated
        agreement("active", now - 10, now + 10, 9, accepted_at=now),  # active from acceptance
    ]
    expected = {row.id: agreement_status(row, now) for row in rows}
    with Session(engine) as session:
        at_time(session, now)
        session.add_all(rows)
        session.commit()
        for status in AGREEMENT_STATUSES:
            page = queries.list_agreements(session=session, status=status)
            assert {a["id"] for a in page.items} == {
                i for i, s in expected.items() if s == status
            }, status
            assert {a["status"] for a in page.items} <= {status}
        for agreement_id, status in expected.items():
            assert (
                queries.get_agreement(session=session, agreement_id=agreement_id)["status"]
                == status
            )
    assert set(expected.values()) == {
        "active",
        "pending",
        "expired",
        "revoked",
        "proposed",
        "superseded",
    }


def test_commitment_status_filters_agree_with_the_status_at_the_boundaries(engine: Engine) -> None:
    now = int(time.time()) + 10**7
    rows = [
        commitment("proposed", now, 1),  # due this very second: not yet overdue
        commitment("proposed", now - 1, 2),
        commitment("active", now - 1, 3),
        commitment("active", now + 5, 4),
        commitment("completed", now - 100, 5),
        commitment("cancelled", now - 100, 6),
    ]
    expected = {row.id: commitment_status(row, now) for row in rows}
    with Session(engine) as session:
        at_time(session, now)
        session.add_all(rows)
        session.commit()
        for status in COMMITMENT_STATUSES:
            page = queries.list_commitments(session=session, status=status)
            assert {c["id"] for c in page.items} == {
                i for i, s in expected.items() if s == status
            }, status
        for commitment_id, status in expected.items():
            assert (
                queries.get_commitment(session=session, commitment_id=commitment_id)["status"]
                == status
            )
    assert expected == {
        f"0x{1:064x}": "proposed",
        f"0x{2:064x}": "overdue",
        f"0x{3:064x}": "overdue",
        f"0x{4:064x}": "active",
        f"0x{5:064x}": "completed",
        f"0x{6:064x}": "cancelled",
    }


@pytest.mark.parametrize(
    "key", [["abc", "0x" + "00" * 32], [2**70, "0x" + "00" * 32], [-(2**70), "x"], [1, 2]]
)
def test_cursors_of_the_wrong_shape_are_refused(engine: Engine, key: list[Any]) -> None:
    with Session(engine) as session, pytest.raises(InputError, match="the cursor is malformed"):
        queries.list_datasets(session=session, cursor=encode_cursor(key))


def test_unknown_statuses_are_refused(engine: Engine) -> None:
    with Session(engine) as session:
        with pytest.raises(InputError, match="status must be one of"):
            queries.list_agreements(session=session, status="valid")
        with pytest.raises(InputError, match="status must be one of"):
            queries.list_commitments(session=session, status="late")


def test_pages_walk_rows_with_equal_sort_times_once_each(engine: Engine) -> None:
    rows = [commitment("active", T + 10**9, n) for n in range(7)]  # all proposed at T - 1000
    with Session(engine) as session:
        session.add_all(rows)
        session.commit()
        seen: list[str] = []
        cursor = None
        while True:
            page = queries.list_commitments(session=session, cursor=cursor, limit=2)
            assert 1 <= len(page.items) <= 2
            seen += [c["id"] for c in page.items]
            cursor = page.next_cursor
            if cursor is None:
                break
        assert seen == sorted(row.id for row in rows)
        for limit in (0, queries.MAX_PAGE + 1):
            with pytest.raises(InputError, match="limit must be between 1 and"):
                queries.list_commitments(session=session, limit=limit)


def test_failed_batches_are_paged_oldest_first_whichever_way_they_failed(engine: Engine) -> None:
    """A batch refused before anchoring (its own status) and one the chain refused (its
    anchoring's) are both listed, in order of creation then id, a page at a time; batches that
    did not fail are not."""

    def batch(n: int, status: str, created_at: int) -> SubmissionBatch:
        return SubmissionBatch(
            id=f"{n:032x}", dataset_id="0x" + "d" * 64, status=status, created_at=created_at
        )

    def anchoring(n: int, status: str) -> VersionAnchoring:
        return VersionAnchoring(
            id=f"{n:032x}",
            dataset_id="0x" + "d" * 64,
            root=f"0x{n:064x}",
            leaf_count=1,
            leaf_kind="file",
            metadata_hash="0x" + "0" * 64,
            parents="[]",
            source="api",
            status=status,
            sender="0x" + "1" * 40,
            created_at=T,
            updated_at=T,
        )

    with Session(engine) as session:
        session.add_all(
            [
                batch(1, "failed", T + 5),  # refused before anchoring
                batch(2, "sealed", T + 1),
                anchoring(2, "failed"),  # refused by the chain
                batch(3, "sealed", T + 5),
                anchoring(3, "failed"),  # ties with 1 on time
                batch(4, "sealed", T),
                anchoring(4, "confirmed"),
                batch(5, "collecting", T),
                batch(6, "abandoned", T),
                batch(7, "sealed", T + 9),
                anchoring(7, "abandoned"),
            ]
        )
        session.commit()
        seen: list[str] = []
        cursor = None
        while True:
            page = queries.failed_batches(session=session, cursor=cursor, limit=2)
            seen += [item["batch_id"] for item in page.items]
            cursor = page.next_cursor
            if cursor is None:
                break
        assert seen == [f"{n:032x}" for n in (2, 1, 3)]
        with pytest.raises(InputError, match="the cursor is malformed"):
            queries.failed_batches(session=session, cursor=raw_cursor(["x", "y"]))
        with pytest.raises(InputError, match="limit must be between 1 and"):
            queries.failed_batches(session=session, limit=0)


# --------------------------------------------------------------------------- times and CSV


def test_iso_of_none_and_of_forever_is_none() -> None:
    assert iso(None) is None
    assert iso(INT64_MAX) is None  # uint64 times above it are stored as it


def test_iso_is_utc_with_an_offset() -> None:
    assert iso(0) == "1970-01-01T00:00:00+00:00"
    assert iso(1_763_625_600) == "2025-11-20T08:00:00+00:00"
    assert iso(253_402_300_799) == "9999-12-31T23:59:59+00:00"


@pytest.mark.parametrize("ts", [253_402_300_800, 2**40, INT64_MAX - 1])
def test_iso_of_times_beyond_year_9999_is_none(ts: int) -> None:
    assert iso(ts) is None


def test_events_csv_has_one_row_per_event_with_args_as_sorted_json() -> None:
    event = {
        "block_number": 7,
        "log_index": 2,
        "time": "2026-11-20T08:00:00+00:00",
        "transaction": "0x" + "7c" * 32,
        "contract": "SharingAgreements",
        "event": "AgreementRevoked",
        "department_id": "0x" + "5e" * 32,
        "department": "杭州市民政局",
        "subject_id": "0x" + "ae" * 32,
        "args": {"z": 1, "reason": '用途, "变更"'},
    }
    text = queries.events_csv([event, {**event, "log_index": 3}])
    assert text.startswith("\ufeff")  # a byte order mark: Excel reads the file as UTF-8
    text = text.removeprefix("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert text.splitlines()[0] == ",".join(queries.EVENT_CSV_FIELDS)
    assert [r["log_index"] for r in rows] == ["2", "3"]
    assert rows[0]["department"] == "杭州市民政局"
    assert rows[0]["args"] == '{"reason": "用途, \\"变更\\"", "z": 1}'
    assert json.loads(rows[0]["args"]) == event["args"]
    assert queries.events_csv([]).splitlines() == ["\ufeff" + ",".join(queries.EVENT_CSV_FIELDS)]


# --------------------------------------------------------------------------- datasets


def hx(value: bytes) -> str:
    return "0x" + value.hex()


def test_datasets_named_by_code_and_versions_by_id(consortium: Consortium, engine: Engine) -> None:
    """A code two departments registered is refused as ambiguous (each id and owner named),
    a code one department registered is its dataset, a 0x id is kept; the same content in two
    datasets is two versions, lineage edges and PROV entities keyed by version id."""
    c = consortium
    ours = c.register_dataset("A", "Q-SHARED")
    theirs = c.register_dataset("B", "Q-SHARED")
    only = c.register_dataset("A", "Q-ONLY")
    root = keccak(text="same content")
    c.transact("DatasetRegistry", "anchor", ours, root, 3, keccak(text="m"), [], sender=c.ops["A"])
    c.transact(
        "DatasetRegistry", "anchor", theirs, root, 3, keccak(text="m"), [], sender=c.ops["B"]
    )
    parent = version_id(theirs, root)
    child = keccak(text="derived")
    c.transact(
        "DatasetRegistry", "anchor", ours, child, 4, keccak(text="m"), [parent], sender=c.ops["A"]
    )
    Indexer(c.client, c.deployment, engine).sync()
    with Session(engine) as session:
        assert queries.resolve_dataset(session=session, text=" Q-ONLY ") == hx(only)
        assert queries.resolve_dataset(session=session, text="0X" + ours.hex().upper()) == hx(ours)
        with pytest.raises(AmbiguousDatasetError) as ambiguous:
            queries.resolve_dataset(session=session, text="Q-SHARED")
        message = str(ambiguous.value)
        assert ambiguous.value.kind == "ambiguous-dataset"
        assert "2 departments registered a dataset of code 'Q-SHARED'" in message
        assert hx(ours) in message and hx(theirs) in message
        assert c.names["A"] in message and c.names["B"] in message
        with pytest.raises(UnknownDatasetError, match="no dataset of code 'Q-NONE'"):
            queries.resolve_dataset(session=session, text="Q-NONE")
        with pytest.raises(InputError, match="must not be empty"):
            queries.resolve_dataset(session=session, text="  ")
        dataset = queries.get_dataset(session=session, dataset_id=hx(ours))
        assert dataset["code_hash"] == hx(code_hash("Q-SHARED"))
        assert [(v["id"], v["root"], v["parents"]) for v in dataset["versions"]] == [
            (hx(version_id(ours, root)), hx(root), []),
            (hx(version_id(ours, child)), hx(child), [hx(parent)]),
        ]
        assert dataset["lineage"] == [{"from": hx(parent), "to": hx(version_id(ours, child))}]
        other = queries.get_dataset(session=session, dataset_id=hx(theirs))
        assert [(v["id"], v["root"]) for v in other["versions"]] == [(hx(parent), hx(root))]
        assert other["versions"][0]["department"]["id"] == hx(c.ids["B"])
        prov = queries.provenance(session=session, dataset_id=hx(ours))
        key = f"xt:version/{hx(version_id(ours, child))}"
        assert prov["entity"][key]["xt:root"] == hx(child)
        assert {d["prov:usedEntity"] for d in prov["wasDerivedFrom"].values()} == {
            f"xt:version/{hx(parent)}"
        }

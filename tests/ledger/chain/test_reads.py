"""Contract structs are read by field name, after the committed ABIs (the reads themselves
run against a node in the CLI tests)."""

from __future__ import annotations

import pytest

from ledger.chain.artifacts import load_artifact
from ledger.chain.enums import AgreementStatus
from ledger.chain.reads import AgreementRecord, name_outputs
from ledger.ids import AgreementTerms

A, B, D = b"\xaa" * 32, b"\xbb" * 32, b"\xdd" * 32


def test_a_struct_with_a_nested_struct_is_named() -> None:
    terms = (A, B, [D], b"\x01" * 32, b"\x02" * 32, b"\x03" * 32, 100, 200)
    stored = (terms, 2, A, bytes(32), bytes(32), 90, 95, 0)
    named = name_outputs(load_artifact("SharingAgreements").abi, "agreement", stored)
    assert named["terms"]["validUntil"] == 200 and named["terms"]["datasetIds"] == [D]
    assert (named["status"], named["proposer"], named["acceptedAt"]) == (2, A, 95)


def test_an_array_of_structs_is_a_list_of_named_fields() -> None:
    rows = [(A, D, bytes(32), 10, 0, 1), (B, D, D, 11, 12, 2)]
    named = name_outputs(load_artifact("JointCommitments").abi, "participants", rows)
    assert [(p["departmentId"], p["reportCount"]) for p in named] == [(A, 1), (B, 2)]


def test_a_version_is_named_without_its_dataset() -> None:
    """``version(datasetId, root)``: the key holds the dataset, the one-slot struct does not."""
    named = name_outputs(load_artifact("DatasetRegistry").abi, "version", (3, 100, 7, 0))
    assert named == {"leafCount": 3, "anchoredAt": 100, "blockNumber": 7, "revokedAt": 0}


def test_a_plain_value_stays_as_it_is() -> None:
    assert name_outputs(load_artifact("DepartmentRegistry").abi, "departmentCount", 3) == 3


def test_a_result_that_does_not_fit_the_abi_is_refused() -> None:
    with pytest.raises(ValueError, match="shorter"):
        name_outputs(load_artifact("DepartmentRegistry").abi, "department", (A, 1))
    with pytest.raises(ValueError, match="0 functions called noSuchFunction"):
        name_outputs(load_artifact("DepartmentRegistry").abi, "noSuchFunction", ())


@pytest.mark.parametrize(
    ("status", "now", "shown"),
    [
        (AgreementStatus.ACTIVE, 99, "pending"),
        (AgreementStatus.ACTIVE, 100, "active"),
        (AgreementStatus.ACTIVE, 200, "expired"),
        (AgreementStatus.REVOKED, 99, "revoked"),
        (AgreementStatus.PROPOSED, 300, "proposed"),
    ],
)
def test_an_agreement_shows_its_status_at_a_time(
    status: AgreementStatus, now: int, shown: str
) -> None:
    record = AgreementRecord(
        id=D,
        terms=AgreementTerms(A, B, (D,), D, D, D, valid_from=100, valid_until=200),
        status=status,
        proposer=A,
        supersedes=bytes(32),
        superseded_by=bytes(32),
        proposed_at=90,
        accepted_at=95,
        closed_at=0,
    )
    assert record.status_at(now) == shown

"""JointCommitments on both engines: lifecycle, every revert, Python twins, EIP-712 signing."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from eth_utils import keccak

from ledger.chain.client import SentTransaction
from ledger.chain.enums import CommitmentStatus, DepartmentStatus, ProposalKind
from ledger.eip712 import (
    COMMITMENTS_DOMAIN,
    SIGN_COMMITMENT_TYPE,
    ConsentMessage,
    domain_separator,
    sign_consent,
)
from ledger.ids import commitment_id, department_id
from tests.support import Consortium, reverts

pytestmark = pytest.mark.chain

JC = "JointCommitments"
REG = "DepartmentRegistry"
ZERO32 = b"\x00" * 32
ZERO_ADDRESS = "0x" + "00" * 20
MATTER = keccak(text="matter:HZ-2024-0001")
HOUR = 3600

NONE, PROPOSED, ACTIVE = CommitmentStatus.NONE, CommitmentStatus.PROPOSED, CommitmentStatus.ACTIVE
COMPLETED, CANCELLED = CommitmentStatus.COMPLETED, CommitmentStatus.CANCELLED
DEPT_SUSPENDED = DepartmentStatus.SUSPENDED
SUSPEND = ProposalKind.SUSPEND

COMMITMENT_FIELDS = (
    "matterRef",
    "lead",
    "deadline",
    "proposedAt",
    "activatedAt",
    "closedAt",
    "status",
    "participantCount",
    "signedCount",
    "doneCount",
)
PARTICIPANT_FIELDS = (
    "departmentId",
    "dutyHash",
    "lastEvidenceHash",
    "signedAt",
    "doneAt",
    "reportCount",
)


# --------------------------------------------------------------------------- helpers


def duty(tag: str) -> bytes:
    return keccak(text=f"duty:{tag}")


def evidence(tag: str) -> bytes:
    return keccak(text=f"evidence:{tag}")


def _proposal(
    c: Consortium, keys: str, *, matter: bytes = MATTER, deadline_in: int = HOUR
) -> tuple[bytes, list[bytes], list[bytes], int]:
    """Arguments of a proposal among the founders in ``keys`` (e.g. "ABC")."""
    participants = [c.ids[k] for k in keys]
    duties = [duty(k) for k in keys]
    return matter, participants, duties, c.now() + deadline_in


def _propose(
    c: Consortium, keys: str = "ABC", *, lead: str = "A", deadline_in: int = HOUR
) -> tuple[bytes, SentTransaction]:
    matter, participants, duties, deadline = _proposal(c, keys, deadline_in=deadline_in)
    tx = c.transact(JC, "propose", matter, participants, duties, deadline, sender=c.ops[lead])
    return bytes(tx.event("CommitmentProposed")["commitmentId"]), tx


def _active(c: Consortium, keys: str = "AB", *, deadline_in: int = HOUR) -> bytes:
    """An Active commitment led by A among ``keys``."""
    cid, _ = _propose(c, keys, deadline_in=deadline_in)
    for key in keys[1:]:
        c.transact(JC, "sign", cid, sender=c.ops[key])
    assert _commitment(c, cid)["status"] == ACTIVE
    return cid


def _completed(c: Consortium) -> bytes:
    cid = _active(c, "AB")
    for key in "AB":
        c.transact(JC, "reportProgress", cid, evidence(key), True, sender=c.ops[key])
    c.transact(JC, "complete", cid, evidence("closing"), sender=c.ops["A"])
    assert _commitment(c, cid)["status"] == COMPLETED
    return cid


def _cancelled(c: Consortium) -> bytes:
    cid, _ = _propose(c, "ABC")
    c.transact(JC, "cancel", cid, keccak(text="reason"), sender=c.ops["A"])
    assert _commitment(c, cid)["status"] == CANCELLED
    return cid


def _commitment(c: Consortium, cid: bytes) -> dict[str, Any]:
    return dict(zip(COMMITMENT_FIELDS, c.call(JC, "commitment", cid), strict=True))


def _participants(c: Consortium, cid: bytes) -> list[dict[str, Any]]:
    return [
        dict(zip(PARTICIPANT_FIELDS, row, strict=True)) for row in c.call(JC, "participants", cid)
    ]


def _block_time(c: Consortium, tx: SentTransaction) -> int:
    return int(c.w3.eth.get_block(tx.block_number)["timestamp"])


def _suspend(c: Consortium, key: str) -> None:
    """Suspend founder ``key`` (proposed and approved by the two others)."""
    proposer, approver = (k for k in "ABC" if k != key)
    tx = c.transact(REG, "propose", SUSPEND, c.ids[key], "", ZERO_ADDRESS, sender=c.ops[proposer])
    c.transact(REG, "approve", tx.event("ProposalCreated")["proposalId"], sender=c.ops[approver])
    assert c.call(REG, "statusOf", c.ids[key]) == DEPT_SUSPENDED


def _message(
    c: Consortium,
    cid: bytes,
    signer: LocalAccount,
    *,
    nonce: int | None = None,
    deadline_in: int = 600,
    chain_id: int | None = None,
    contract: str | None = None,
) -> ConsentMessage:
    return ConsentMessage(
        kind="SignCommitment",
        subject_id=cid,
        signer=signer.address,
        nonce=c.call(JC, "nonces", signer.address) if nonce is None else nonce,
        deadline=c.now() + deadline_in,
        chain_id=c.client.chain_id if chain_id is None else chain_id,
        contract=c.client.address(JC) if contract is None else contract,
    )


def _relay(c: Consortium, m: ConsentMessage, signature: bytes, relayer: LocalAccount) -> Any:
    return c.transact(
        JC, "signBySig", m.subject_id, m.signer, m.nonce, m.deadline, signature, sender=relayer
    )


# --------------------------------------------------------------------------- propose


def test_propose_records_commitment_and_lead_signature(consortium: Consortium) -> None:
    c = consortium
    matter, participants, duties, deadline = _proposal(c, "ABC")
    tx = c.transact(JC, "propose", matter, participants, duties, deadline, sender=c.ops["A"])

    assert [name for name, _ in tx.events] == ["CommitmentProposed", "CommitmentSigned"]
    proposed = tx.event("CommitmentProposed")
    cid = bytes(proposed["commitmentId"])
    assert proposed["lead"] == c.ids["A"]
    assert proposed["matterRef"] == matter
    assert [bytes(p) for p in proposed["participants"]] == participants
    assert [bytes(d) for d in proposed["dutyHashes"]] == duties
    assert proposed["deadline"] == deadline
    signed = tx.event("CommitmentSigned")
    assert (bytes(signed["commitmentId"]), bytes(signed["departmentId"])) == (cid, c.ids["A"])
    assert signed["signer"] == c.ops["A"].address

    at = _block_time(c, tx)
    assert _commitment(c, cid) == {
        "matterRef": matter,
        "lead": c.ids["A"],
        "deadline": deadline,
        "proposedAt": at,
        "activatedAt": 0,
        "closedAt": 0,
        "status": PROPOSED,
        "participantCount": 3,
        "signedCount": 1,
        "doneCount": 0,
    }
    assert _participants(c, cid) == [
        {
            "departmentId": c.ids[k],
            "dutyHash": duty(k),
            "lastEvidenceHash": ZERO32,
            "signedAt": at if k == "A" else 0,
            "doneAt": 0,
            "reportCount": 0,
        }
        for k in "ABC"
    ]
    assert c.call(JC, "commitmentCount") == 1
    assert c.call(JC, "commitmentIdAt", 1) == cid
    assert c.call(JC, "isOverdue", cid) is False


def test_commitment_id_python_twin_matches_contract(consortium: Consortium) -> None:
    c = consortium
    ids = []
    for sequence, keys in ((1, "ABC"), (2, "BA")):
        lead = keys[0]
        matter, participants, duties, deadline = _proposal(c, keys)
        twin = commitment_id(
            lead=c.ids[lead],
            matter_ref=matter,
            participants=participants,
            duty_hashes=duties,
            deadline=deadline,
            sequence=sequence,
            chain_id=c.client.chain_id,
            contract=c.client.address(JC),
        )
        on_chain = c.call(
            JC, "computeCommitmentId", c.ids[lead], matter, participants, duties, deadline, sequence
        )
        assert on_chain == twin
        tx = c.transact(JC, "propose", matter, participants, duties, deadline, sender=c.ops[lead])
        assert tx.event("CommitmentProposed")["commitmentId"] == twin
        assert c.call(JC, "commitmentIdAt", sequence) == twin
        ids.append(twin)
    assert ids[0] != ids[1]
    assert c.call(JC, "commitmentCount") == 2


def test_same_terms_get_distinct_ids_by_sequence(consortium: Consortium) -> None:
    c = consortium
    matter, participants, duties, deadline = _proposal(c, "AB")
    first = c.transact(JC, "propose", matter, participants, duties, deadline, sender=c.ops["A"])
    second = c.transact(JC, "propose", matter, participants, duties, deadline, sender=c.ops["A"])
    assert (
        first.event("CommitmentProposed")["commitmentId"]
        != second.event("CommitmentProposed")["commitmentId"]
    )
    assert c.call(JC, "commitmentCount") == 2


@pytest.mark.parametrize("who", ["spare", "auditor"])
def test_propose_by_non_operator_reverts(consortium: Consortium, who: str) -> None:
    c = consortium
    account = c.spare(5) if who == "spare" else c.auditor
    matter, participants, duties, deadline = _proposal(c, "AB")
    with reverts("DepartmentRegistryNotOperator", account=account.address):
        c.transact(JC, "propose", matter, participants, duties, deadline, sender=account)


def test_propose_by_suspended_department_reverts(consortium: Consortium) -> None:
    c = consortium
    _suspend(c, "C")
    matter, participants, duties, deadline = _proposal(c, "CA")
    with reverts(
        "DepartmentRegistryDepartmentNotActive", departmentId=c.ids["C"], status=DEPT_SUSPENDED
    ):
        c.transact(JC, "propose", matter, participants, duties, deadline, sender=c.ops["C"])


def test_propose_zero_matter_ref_reverts(consortium: Consortium) -> None:
    c = consortium
    _, participants, duties, deadline = _proposal(c, "AB")
    with reverts("JointCommitmentsZeroMatterRef"):
        c.transact(JC, "propose", ZERO32, participants, duties, deadline, sender=c.ops["A"])


@pytest.mark.parametrize("count", [0, 1, 33])
def test_propose_participant_count_out_of_range_reverts(consortium: Consortium, count: int) -> None:
    c = consortium
    participants = [c.ids["A"]] + [department_id(f"X-{i}") for i in range(1, count)]
    participants = participants[:count]
    duties = [duty(str(i)) for i in range(count)]
    with reverts("JointCommitmentsParticipantCount", count=count, min=2, max=32):
        c.transact(JC, "propose", MATTER, participants, duties, c.now() + HOUR, sender=c.ops["A"])


def test_max_participants_is_32(consortium: Consortium) -> None:
    assert consortium.call(JC, "maxParticipants") == 32


def test_propose_length_mismatch_reverts(consortium: Consortium) -> None:
    c = consortium
    matter, participants, duties, deadline = _proposal(c, "ABC")
    with reverts("JointCommitmentsLengthMismatch", participants=3, dutyHashes=2):
        c.transact(JC, "propose", matter, participants, duties[:2], deadline, sender=c.ops["A"])
    with reverts("JointCommitmentsLengthMismatch", participants=3, dutyHashes=4):
        c.transact(
            JC, "propose", matter, participants, [*duties, duty("x")], deadline, sender=c.ops["A"]
        )


@pytest.mark.parametrize("offset", [-HOUR, 0])
def test_propose_deadline_not_in_future_reverts(consortium: Consortium, offset: int) -> None:
    c = consortium
    matter, participants, duties, _ = _proposal(c, "AB")
    now = c.now()
    with reverts("JointCommitmentsDeadlineInPast", deadline=now + offset) as info:
        c.transact(JC, "propose", matter, participants, duties, now + offset, sender=c.ops["A"])
    assert info.value.error_args["currentTime"] >= now
    assert c.call(JC, "commitmentCount") == 0


def test_propose_duplicate_participant_reverts(consortium: Consortium) -> None:
    c = consortium
    matter, _, _, deadline = _proposal(c, "AB")
    participants = [c.ids["A"], c.ids["B"], c.ids["A"]]
    duties = [duty("1"), duty("2"), duty("3")]
    with reverts("JointCommitmentsDuplicateParticipant", departmentId=c.ids["A"]):
        c.transact(JC, "propose", matter, participants, duties, deadline, sender=c.ops["A"])


def test_propose_zero_duty_hash_reverts(consortium: Consortium) -> None:
    c = consortium
    matter, participants, duties, deadline = _proposal(c, "ABC")
    duties[1] = ZERO32
    with reverts("JointCommitmentsZeroDutyHash", departmentId=c.ids["B"]):
        c.transact(JC, "propose", matter, participants, duties, deadline, sender=c.ops["A"])


def test_propose_lead_not_participant_reverts(consortium: Consortium) -> None:
    c = consortium
    matter, participants, duties, deadline = _proposal(c, "BC")
    with reverts("JointCommitmentsLeadNotParticipant", lead=c.ids["A"]):
        c.transact(JC, "propose", matter, participants, duties, deadline, sender=c.ops["A"])


def test_propose_unknown_participant_department_reverts(consortium: Consortium) -> None:
    c = consortium
    stranger = department_id("NOT-A-MEMBER-999")
    matter, participants, duties, deadline = _proposal(c, "AB")
    with reverts("DepartmentRegistryUnknownDepartment", departmentId=stranger):
        c.transact(
            JC,
            "propose",
            matter,
            [*participants, stranger],
            [*duties, duty("stranger")],
            deadline,
            sender=c.ops["A"],
        )


def test_propose_suspended_participant_department_reverts(consortium: Consortium) -> None:
    c = consortium
    _suspend(c, "C")
    matter, participants, duties, deadline = _proposal(c, "ABC")
    with reverts(
        "DepartmentRegistryDepartmentNotActive", departmentId=c.ids["C"], status=DEPT_SUSPENDED
    ):
        c.transact(JC, "propose", matter, participants, duties, deadline, sender=c.ops["A"])


# --------------------------------------------------------------------------- lifecycle


def test_full_lifecycle(consortium: Consortium) -> None:
    c = consortium
    cid, _ = _propose(c, "ABC", deadline_in=10 * HOUR)

    tx = c.transact(JC, "sign", cid, sender=c.ops["B"])
    assert [name for name, _ in tx.events] == ["CommitmentSigned"]
    assert tx.event("CommitmentSigned")["departmentId"] == c.ids["B"]
    assert tx.event("CommitmentSigned")["signer"] == c.ops["B"].address
    state = _commitment(c, cid)
    assert (state["status"], state["signedCount"], state["activatedAt"]) == (PROPOSED, 2, 0)
    assert _participants(c, cid)[1]["signedAt"] == _block_time(c, tx)

    tx = c.transact(JC, "sign", cid, sender=c.ops["C"])
    assert [name for name, _ in tx.events] == ["CommitmentSigned", "CommitmentActivated"]
    assert tx.event("CommitmentActivated")["commitmentId"] == cid
    state = _commitment(c, cid)
    assert (state["status"], state["signedCount"]) == (ACTIVE, 3)
    assert state["activatedAt"] == _block_time(c, tx)

    # Progress with evidence: not yet done, then done.
    tx = c.transact(JC, "reportProgress", cid, evidence("B-1"), False, sender=c.ops["B"])
    assert tx.event("ProgressReported") == {
        "commitmentId": cid,
        "departmentId": c.ids["B"],
        "evidenceHash": evidence("B-1"),
        "done": False,
    }
    b = _participants(c, cid)[1]
    assert (b["lastEvidenceHash"], b["reportCount"], b["doneAt"]) == (evidence("B-1"), 1, 0)
    assert _commitment(c, cid)["doneCount"] == 0

    with reverts("JointCommitmentsParticipantsNotDone", commitmentId=cid, remaining=3):
        c.transact(JC, "complete", cid, evidence("close"), sender=c.ops["A"])

    tx = c.transact(JC, "reportProgress", cid, evidence("B-2"), True, sender=c.ops["B"])
    assert tx.event("ProgressReported")["done"] is True
    b = _participants(c, cid)[1]
    assert (b["lastEvidenceHash"], b["reportCount"]) == (evidence("B-2"), 2)
    assert b["doneAt"] == _block_time(c, tx)
    c.transact(JC, "reportProgress", cid, evidence("C"), True, sender=c.ops["C"])
    assert _commitment(c, cid)["doneCount"] == 2

    with reverts("JointCommitmentsParticipantsNotDone", commitmentId=cid, remaining=1):
        c.transact(JC, "complete", cid, evidence("close"), sender=c.ops["A"])

    c.transact(JC, "reportProgress", cid, evidence("A"), True, sender=c.ops["A"])
    tx = c.transact(JC, "complete", cid, evidence("close"), sender=c.ops["A"])
    assert tx.event("CommitmentCompleted") == {
        "commitmentId": cid,
        "lead": c.ids["A"],
        "evidenceHash": evidence("close"),
    }
    state = _commitment(c, cid)
    assert (state["status"], state["doneCount"]) == (COMPLETED, 3)
    assert state["closedAt"] == _block_time(c, tx)
    assert [p["reportCount"] for p in _participants(c, cid)] == [1, 2, 1]
    assert c.call(JC, "isOverdue", cid) is False


def test_cancel_by_lead_while_proposed(consortium: Consortium) -> None:
    c = consortium
    cid, _ = _propose(c, "ABC")
    c.transact(JC, "sign", cid, sender=c.ops["B"])
    reason = keccak(text="reason:merged into another matter")
    tx = c.transact(JC, "cancel", cid, reason, sender=c.ops["A"])
    assert tx.events == [
        ("CommitmentCancelled", {"commitmentId": cid, "lead": c.ids["A"], "reasonHash": reason})
    ]
    state = _commitment(c, cid)
    assert state["status"] == CANCELLED
    assert state["closedAt"] == _block_time(c, tx)
    assert state["signedCount"] == 2


# --------------------------------------------------------------------------- sign


def test_sign_by_non_operator_reverts(consortium: Consortium) -> None:
    c = consortium
    cid, _ = _propose(c, "AB")
    with reverts("DepartmentRegistryNotOperator", account=c.spare(6).address):
        c.transact(JC, "sign", cid, sender=c.spare(6))


def test_sign_unknown_commitment_reverts(consortium: Consortium) -> None:
    c = consortium
    unknown = keccak(text="no such commitment")
    with reverts("JointCommitmentsUnknownCommitment", commitmentId=unknown):
        c.transact(JC, "sign", unknown, sender=c.ops["B"])


def test_sign_by_non_participant_reverts(consortium: Consortium) -> None:
    c = consortium
    cid, _ = _propose(c, "AB")
    with reverts("JointCommitmentsNotParticipant", commitmentId=cid, departmentId=c.ids["C"]):
        c.transact(JC, "sign", cid, sender=c.ops["C"])


def test_sign_twice_reverts(consortium: Consortium) -> None:
    c = consortium
    cid, _ = _propose(c, "ABC")
    with reverts("JointCommitmentsAlreadySigned", commitmentId=cid, departmentId=c.ids["A"]):
        c.transact(JC, "sign", cid, sender=c.ops["A"])
    c.transact(JC, "sign", cid, sender=c.ops["B"])
    with reverts("JointCommitmentsAlreadySigned", commitmentId=cid, departmentId=c.ids["B"]):
        c.transact(JC, "sign", cid, sender=c.ops["B"])


@pytest.mark.parametrize(
    ("make", "status"), [(_active, ACTIVE), (_completed, COMPLETED), (_cancelled, CANCELLED)]
)
def test_sign_in_wrong_status_reverts(consortium: Consortium, make: Any, status: int) -> None:
    c = consortium
    cid = make(c)
    with reverts("JointCommitmentsInvalidStatus", commitmentId=cid, status=status):
        c.transact(JC, "sign", cid, sender=c.ops["B"])


def test_sign_after_deadline_reverts(consortium: Consortium) -> None:
    c = consortium
    cid, _ = _propose(c, "ABC", deadline_in=HOUR)
    deadline = _commitment(c, cid)["deadline"]
    c.transact(JC, "sign", cid, sender=c.ops["B"])
    c.advance(HOUR + 60)
    with reverts("JointCommitmentsDeadlinePassed", commitmentId=cid, deadline=deadline):
        c.transact(JC, "sign", cid, sender=c.ops["C"])
    assert _commitment(c, cid)["status"] == PROPOSED


def test_suspended_participant_cannot_sign(consortium: Consortium) -> None:
    c = consortium
    cid, _ = _propose(c, "ABC")
    _suspend(c, "C")
    with reverts(
        "DepartmentRegistryDepartmentNotActive", departmentId=c.ids["C"], status=DEPT_SUSPENDED
    ):
        c.transact(JC, "sign", cid, sender=c.ops["C"])


# --------------------------------------------------------------------------- EIP-712


def test_eip712_python_twins_match_contract(consortium: Consortium) -> None:
    c = consortium
    cid, _ = _propose(c, "AB")
    address = c.client.address(JC)
    name, version = COMMITMENTS_DOMAIN
    assert c.call(JC, "domainSeparator") == domain_separator(
        name, version, chain_id=c.client.chain_id, contract=address
    )
    assert c.call(JC, "signTypehash") == keccak(text=SIGN_COMMITMENT_TYPE)
    message = _message(c, cid, c.ops["B"], nonce=7, deadline_in=1234)
    assert (
        c.call(JC, "signDigest", cid, message.signer, message.nonce, message.deadline)
        == message.digest()
    )
    eip712_domain = c.call(JC, "eip712Domain")
    assert (eip712_domain[1], eip712_domain[2]) == COMMITMENTS_DOMAIN
    assert (eip712_domain[3], eip712_domain[4]) == (c.client.chain_id, address)


def test_sign_by_sig_relayed_by_unrelated_account(consortium: Consortium) -> None:
    c = consortium
    cid, _ = _propose(c, "AB")
    signer, relayer = c.ops["B"], c.spare(7)
    assert c.call(JC, "nonces", signer.address) == 0
    message = _message(c, cid, signer)
    tx = _relay(c, message, sign_consent(message, signer.key), relayer)

    assert tx.receipt["from"] == relayer.address
    assert [name for name, _ in tx.events] == ["CommitmentSigned", "CommitmentActivated"]
    assert tx.event("CommitmentSigned") == {
        "commitmentId": cid,
        "departmentId": c.ids["B"],
        "signer": signer.address,
    }
    assert c.call(JC, "nonces", signer.address) == 1
    assert _commitment(c, cid)["status"] == ACTIVE
    assert _participants(c, cid)[1]["signedAt"] == _block_time(c, tx)


def test_sign_by_sig_replay_reverts(consortium: Consortium) -> None:
    c = consortium
    cid, _ = _propose(c, "ABC")
    signer = c.ops["B"]
    message = _message(c, cid, signer)
    signature = sign_consent(message, signer.key)
    _relay(c, message, signature, c.spare(8))
    with reverts("InvalidAccountNonce", account=signer.address, currentNonce=1):
        _relay(c, message, signature, c.spare(9))

    # A fresh signature with the used nonce does not work on another commitment either.
    other, _ = _propose(c, "AB")
    stale = _message(c, other, signer, nonce=0)
    with reverts("InvalidAccountNonce", account=signer.address, currentNonce=1):
        _relay(c, stale, sign_consent(stale, signer.key), c.spare(8))


def test_sign_by_sig_future_nonce_reverts(consortium: Consortium) -> None:
    c = consortium
    cid, _ = _propose(c, "AB")
    message = _message(c, cid, c.ops["B"], nonce=5)
    with reverts("InvalidAccountNonce", account=c.ops["B"].address, currentNonce=0):
        _relay(c, message, sign_consent(message, c.ops["B"].key), c.spare(8))


@pytest.mark.parametrize("forgery", ["other-chain", "other-contract", "other-commitment"])
def test_sign_by_sig_for_another_domain_or_message_reverts(
    consortium: Consortium, forgery: str
) -> None:
    c = consortium
    cid, _ = _propose(c, "AB")
    signer = c.ops["B"]
    submitted = _message(c, cid, signer)
    if forgery == "other-chain":
        signed = _message(c, cid, signer, chain_id=c.client.chain_id + 1)
    elif forgery == "other-contract":
        signed = _message(c, cid, signer, contract=c.client.address("SharingAgreements"))
    else:
        signed = _message(c, keccak(text="another commitment"), signer)
    signed = dataclasses.replace(signed, deadline=submitted.deadline)
    assert signed.digest() != submitted.digest()
    with reverts("JointCommitmentsInvalidSignature", signer=signer.address):
        _relay(c, submitted, sign_consent(signed, signer.key), c.spare(8))
    assert c.call(JC, "nonces", signer.address) == 0


def test_sign_by_sig_wrong_signer_reverts(consortium: Consortium) -> None:
    c = consortium
    cid, _ = _propose(c, "ABC")
    message = _message(c, cid, c.ops["B"])
    with reverts("JointCommitmentsInvalidSignature", signer=c.ops["B"].address):
        _relay(c, message, sign_consent(message, c.ops["C"].key), c.spare(8))


@pytest.mark.parametrize(
    "garbage",
    [b"", b"\x01" * 10, b"\x00" * 65, b"\x11" * 64 + b"\x1b", b"\x22" * 64 + b"\x05"],
    ids=["empty", "short", "zeros", "junk-v27", "bad-v"],
)
def test_sign_by_sig_garbage_signature_reverts(consortium: Consortium, garbage: bytes) -> None:
    c = consortium
    cid, _ = _propose(c, "AB")
    message = _message(c, cid, c.ops["B"])
    with reverts("JointCommitmentsInvalidSignature", signer=c.ops["B"].address):
        _relay(c, message, garbage, c.spare(8))


def test_sign_by_sig_expired_reverts(consortium: Consortium) -> None:
    c = consortium
    cid, _ = _propose(c, "AB")
    message = _message(c, cid, c.ops["B"], deadline_in=-1)
    with reverts("JointCommitmentsSignatureExpired", deadline=message.deadline) as info:
        _relay(c, message, sign_consent(message, c.ops["B"].key), c.spare(8))
    assert info.value.error_args["currentTime"] > message.deadline


def test_sign_by_sig_after_commitment_deadline_reverts(consortium: Consortium) -> None:
    c = consortium
    cid, _ = _propose(c, "AB", deadline_in=HOUR)
    message = _message(c, cid, c.ops["B"], deadline_in=10 * HOUR)
    c.advance(2 * HOUR)
    deadline = _commitment(c, cid)["deadline"]
    with reverts("JointCommitmentsDeadlinePassed", commitmentId=cid, deadline=deadline):
        _relay(c, message, sign_consent(message, c.ops["B"].key), c.spare(8))


def test_sign_by_sig_of_non_operator_reverts(consortium: Consortium) -> None:
    c = consortium
    cid, _ = _propose(c, "AB")
    outsider = c.spare(10)
    message = _message(c, cid, outsider)
    with reverts("DepartmentRegistryNotOperator", account=outsider.address):
        _relay(c, message, sign_consent(message, outsider.key), c.spare(8))


def test_sign_by_sig_of_non_participant_reverts(consortium: Consortium) -> None:
    c = consortium
    cid, _ = _propose(c, "AB")
    message = _message(c, cid, c.ops["C"])
    with reverts("JointCommitmentsNotParticipant", commitmentId=cid, departmentId=c.ids["C"]):
        _relay(c, message, sign_consent(message, c.ops["C"].key), c.spare(8))
    assert c.call(JC, "nonces", c.ops["C"].address) == 0


def test_sign_by_sig_of_suspended_participant_reverts(consortium: Consortium) -> None:
    c = consortium
    cid, _ = _propose(c, "ABC")
    _suspend(c, "C")
    message = _message(c, cid, c.ops["C"])
    with reverts(
        "DepartmentRegistryDepartmentNotActive", departmentId=c.ids["C"], status=DEPT_SUSPENDED
    ):
        _relay(c, message, sign_consent(message, c.ops["C"].key), c.spare(8))


def test_sign_by_sig_already_signed_and_wrong_status_revert(consortium: Consortium) -> None:
    c = consortium
    cid, _ = _propose(c, "ABC")
    lead = c.ops["A"]
    message = _message(c, cid, lead)
    with reverts("JointCommitmentsAlreadySigned", commitmentId=cid, departmentId=c.ids["A"]):
        _relay(c, message, sign_consent(message, lead.key), c.spare(8))
    c.transact(JC, "cancel", cid, ZERO32, sender=lead)
    with reverts("JointCommitmentsInvalidStatus", commitmentId=cid, status=CANCELLED):
        _relay(c, message, sign_consent(message, lead.key), c.spare(8))
    unknown = keccak(text="unknown")
    message = _message(c, unknown, c.ops["B"])
    with reverts("JointCommitmentsUnknownCommitment", commitmentId=unknown):
        _relay(c, message, sign_consent(message, c.ops["B"].key), c.spare(8))


# --------------------------------------------------------------------------- reportProgress


def test_report_by_non_operator_reverts(consortium: Consortium) -> None:
    c = consortium
    cid = _active(c)
    with reverts("DepartmentRegistryNotOperator", account=c.spare(11).address):
        c.transact(JC, "reportProgress", cid, evidence("x"), False, sender=c.spare(11))


def test_report_by_suspended_participant_reverts(consortium: Consortium) -> None:
    c = consortium
    cid = _active(c, "ABC")
    _suspend(c, "C")
    with reverts(
        "DepartmentRegistryDepartmentNotActive", departmentId=c.ids["C"], status=DEPT_SUSPENDED
    ):
        c.transact(JC, "reportProgress", cid, evidence("x"), False, sender=c.ops["C"])


def test_report_unknown_commitment_reverts(consortium: Consortium) -> None:
    c = consortium
    unknown = keccak(text="unknown")
    with reverts("JointCommitmentsUnknownCommitment", commitmentId=unknown):
        c.transact(JC, "reportProgress", unknown, evidence("x"), True, sender=c.ops["A"])


def _proposed(c: Consortium) -> bytes:
    return _propose(c, "ABC")[0]


@pytest.mark.parametrize(
    ("make", "status"),
    [(_proposed, PROPOSED), (_completed, COMPLETED), (_cancelled, CANCELLED)],
)
def test_report_in_wrong_status_reverts(consortium: Consortium, make: Any, status: int) -> None:
    c = consortium
    cid = make(c)
    with reverts("JointCommitmentsInvalidStatus", commitmentId=cid, status=status):
        c.transact(JC, "reportProgress", cid, evidence("x"), False, sender=c.ops["B"])


def test_report_by_non_participant_reverts(consortium: Consortium) -> None:
    c = consortium
    cid = _active(c, "AB")
    with reverts("JointCommitmentsNotParticipant", commitmentId=cid, departmentId=c.ids["C"]):
        c.transact(JC, "reportProgress", cid, evidence("x"), False, sender=c.ops["C"])


def test_report_zero_evidence_reverts(consortium: Consortium) -> None:
    c = consortium
    cid = _active(c, "AB")
    for done in (False, True):
        with reverts("JointCommitmentsZeroEvidence"):
            c.transact(JC, "reportProgress", cid, ZERO32, done, sender=c.ops["B"])
    assert _participants(c, cid)[1]["reportCount"] == 0


def test_report_after_done_reverts(consortium: Consortium) -> None:
    c = consortium
    cid = _active(c, "AB")
    c.transact(JC, "reportProgress", cid, evidence("1"), True, sender=c.ops["B"])
    for done in (False, True):
        with reverts("JointCommitmentsAlreadyDone", commitmentId=cid, departmentId=c.ids["B"]):
            c.transact(JC, "reportProgress", cid, evidence("2"), done, sender=c.ops["B"])
    assert _commitment(c, cid)["doneCount"] == 1


def test_report_and_complete_after_deadline_allowed(consortium: Consortium) -> None:
    c = consortium
    cid = _active(c, "AB", deadline_in=HOUR)
    c.advance(2 * HOUR)
    assert c.call(JC, "isOverdue", cid) is True
    tx = c.transact(JC, "reportProgress", cid, evidence("late-B"), True, sender=c.ops["B"])
    assert tx.event("ProgressReported")["done"] is True
    c.transact(JC, "reportProgress", cid, evidence("late-A"), True, sender=c.ops["A"])
    assert c.call(JC, "isOverdue", cid) is True
    c.transact(JC, "complete", cid, evidence("late-close"), sender=c.ops["A"])
    assert _commitment(c, cid)["status"] == COMPLETED
    assert c.call(JC, "isOverdue", cid) is False


# --------------------------------------------------------------------------- complete


def test_complete_by_non_operator_reverts(consortium: Consortium) -> None:
    c = consortium
    cid = _active(c)
    with reverts("DepartmentRegistryNotOperator", account=c.auditor.address):
        c.transact(JC, "complete", cid, evidence("x"), sender=c.auditor)


def test_complete_unknown_commitment_reverts(consortium: Consortium) -> None:
    c = consortium
    unknown = keccak(text="unknown")
    with reverts("JointCommitmentsUnknownCommitment", commitmentId=unknown):
        c.transact(JC, "complete", unknown, evidence("x"), sender=c.ops["A"])


def test_complete_by_non_lead_reverts(consortium: Consortium) -> None:
    c = consortium
    cid = _active(c, "AB")
    for key in "AB":
        c.transact(JC, "reportProgress", cid, evidence(key), True, sender=c.ops[key])
    for key in "BC":
        with reverts("JointCommitmentsNotLead", commitmentId=cid, departmentId=c.ids[key]):
            c.transact(JC, "complete", cid, evidence("x"), sender=c.ops[key])


@pytest.mark.parametrize(
    ("make", "status"),
    [(_proposed, PROPOSED), (_completed, COMPLETED), (_cancelled, CANCELLED)],
)
def test_complete_in_wrong_status_reverts(consortium: Consortium, make: Any, status: int) -> None:
    c = consortium
    cid = make(c)
    with reverts("JointCommitmentsInvalidStatus", commitmentId=cid, status=status):
        c.transact(JC, "complete", cid, evidence("x"), sender=c.ops["A"])


def test_complete_zero_evidence_reverts(consortium: Consortium) -> None:
    c = consortium
    cid = _active(c, "AB")
    for key in "AB":
        c.transact(JC, "reportProgress", cid, evidence(key), True, sender=c.ops[key])
    with reverts("JointCommitmentsZeroEvidence"):
        c.transact(JC, "complete", cid, ZERO32, sender=c.ops["A"])
    assert _commitment(c, cid)["status"] == ACTIVE


def test_complete_with_participants_not_done_reverts(consortium: Consortium) -> None:
    c = consortium
    cid = _active(c, "ABC")
    c.transact(JC, "reportProgress", cid, evidence("B"), False, sender=c.ops["B"])
    with reverts("JointCommitmentsParticipantsNotDone", commitmentId=cid, remaining=3):
        c.transact(JC, "complete", cid, evidence("x"), sender=c.ops["A"])
    c.transact(JC, "reportProgress", cid, evidence("A"), True, sender=c.ops["A"])
    with reverts("JointCommitmentsParticipantsNotDone", commitmentId=cid, remaining=2):
        c.transact(JC, "complete", cid, evidence("x"), sender=c.ops["A"])


# --------------------------------------------------------------------------- cancel


def test_cancel_by_non_operator_reverts(consortium: Consortium) -> None:
    c = consortium
    cid, _ = _propose(c, "AB")
    with reverts("DepartmentRegistryNotOperator", account=c.spare(12).address):
        c.transact(JC, "cancel", cid, ZERO32, sender=c.spare(12))


def test_cancel_unknown_commitment_reverts(consortium: Consortium) -> None:
    c = consortium
    unknown = keccak(text="unknown")
    with reverts("JointCommitmentsUnknownCommitment", commitmentId=unknown):
        c.transact(JC, "cancel", unknown, ZERO32, sender=c.ops["A"])


def test_cancel_by_non_lead_reverts(consortium: Consortium) -> None:
    c = consortium
    cid, _ = _propose(c, "ABC")
    for key in "BC":
        with reverts("JointCommitmentsNotLead", commitmentId=cid, departmentId=c.ids[key]):
            c.transact(JC, "cancel", cid, ZERO32, sender=c.ops[key])
    assert _commitment(c, cid)["status"] == PROPOSED


@pytest.mark.parametrize(
    ("make", "status"), [(_active, ACTIVE), (_completed, COMPLETED), (_cancelled, CANCELLED)]
)
def test_cancel_in_wrong_status_reverts(consortium: Consortium, make: Any, status: int) -> None:
    c = consortium
    cid = make(c)
    with reverts("JointCommitmentsInvalidStatus", commitmentId=cid, status=status):
        c.transact(JC, "cancel", cid, ZERO32, sender=c.ops["A"])


def test_cancel_by_suspended_lead_reverts(consortium: Consortium) -> None:
    c = consortium
    cid, _ = _propose(c, "CA", lead="C")
    _suspend(c, "C")
    with reverts(
        "DepartmentRegistryDepartmentNotActive", departmentId=c.ids["C"], status=DEPT_SUSPENDED
    ):
        c.transact(JC, "cancel", cid, ZERO32, sender=c.ops["C"])


# --------------------------------------------------------------------------- views


def test_overdue_follows_deadline_and_status(consortium: Consortium) -> None:
    c = consortium
    proposed, _ = _propose(c, "ABC", deadline_in=HOUR)
    active = _active(c, "AB", deadline_in=HOUR)
    cancelled = _cancelled(c)
    completed = _completed(c)
    ids = (proposed, active, cancelled, completed)
    assert [c.call(JC, "isOverdue", cid) for cid in ids] == [False] * 4
    c.advance(HOUR // 2)
    assert [c.call(JC, "isOverdue", cid) for cid in ids] == [False] * 4
    c.advance(2 * HOUR)
    assert [c.call(JC, "isOverdue", cid) for cid in ids] == [True, True, False, False]
    # Cancelling an overdue proposal closes it.
    c.transact(JC, "cancel", proposed, ZERO32, sender=c.ops["A"])
    assert c.call(JC, "isOverdue", proposed) is False


@pytest.mark.parametrize("view", ["commitment", "participants", "isOverdue"])
def test_views_of_unknown_commitment_revert(consortium: Consortium, view: str) -> None:
    c = consortium
    _propose(c, "AB")
    unknown = keccak(text="unknown")
    with reverts("JointCommitmentsUnknownCommitment", commitmentId=unknown):
        c.call(JC, view, unknown)


def test_commitment_count_and_id_at(consortium: Consortium) -> None:
    c = consortium
    assert c.call(JC, "commitmentCount") == 0
    with reverts("JointCommitmentsUnknownCommitment", commitmentId=ZERO32):
        c.call(JC, "commitmentIdAt", 1)
    first, _ = _propose(c, "AB")
    second, _ = _propose(c, "BA", lead="B")
    assert c.call(JC, "commitmentCount") == 2
    assert [c.call(JC, "commitmentIdAt", i) for i in (1, 2)] == [first, second]
    assert _commitment(c, second)["lead"] == c.ids["B"]
    for sequence in (0, 3):
        with reverts("JointCommitmentsUnknownCommitment", commitmentId=ZERO32):
            c.call(JC, "commitmentIdAt", sequence)


def test_participants_lists_duties_in_proposal_order(consortium: Consortium) -> None:
    c = consortium
    cid, _ = _propose(c, "ACB")
    rows = _participants(c, cid)
    assert [r["departmentId"] for r in rows] == [c.ids[k] for k in "ACB"]
    assert [r["dutyHash"] for r in rows] == [duty(k) for k in "ACB"]
    assert [r["signedAt"] > 0 for r in rows] == [True, False, False]

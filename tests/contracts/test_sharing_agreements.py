"""SharingAgreements: proposals, consent (by transaction and by EIP-712 signature), amendments,
revocation, access receipts and the authorization view, on both chain engines."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from eth_utils import keccak

from ledger.chain.client import SentTransaction
from ledger.chain.enums import AgreementStatus, DepartmentStatus, ProposalKind
from ledger.eip712 import (
    ACCEPT_AGREEMENT_TYPE,
    AGREEMENTS_DOMAIN,
    ConsentMessage,
    domain_separator,
    sign_consent,
)
from ledger.ids import AgreementTerms, agreement_id, code_hash, department_id
from ledger.lifecycle import effective_from
from tests.support import Consortium, dataset_of, reverts

SA = "SharingAgreements"
DR = "DepartmentRegistry"

ZERO32 = b"\x00" * 32
ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
DAY = 24 * 3600
SUSPEND = ProposalKind.SUSPEND
DEPT_SUSPENDED = DepartmentStatus.SUSPENDED

PURPOSE = code_hash("PURPOSE-ELDERLY-CARE-SUBSIDY")
OTHER_PURPOSE = code_hash("PURPOSE-HOUSING-CHECK")
LEGAL_BASIS = code_hash("LAW-CIVIL-AFFAIRS-ART-12")
TERMS_HASH = keccak(b"terms document v1")
REASON = keccak(b"reason kept off chain")
LOG_ROOT = keccak(b"access log root")


Status = AgreementStatus


# ----------------------------------------------------------------------------- helpers


def block_time(c: Consortium, tx: SentTransaction) -> int:
    """Timestamp of the block that mined ``tx``."""
    return int(c.w3.eth.get_block(tx.block_number)["timestamp"])


def mine_at(c: Consortium, timestamp: int) -> None:
    """Mine one empty block at exactly ``timestamp`` (later than the latest block)."""
    assert timestamp > c.now()
    c.w3.provider.make_request("evm_setNextBlockTimestamp", [timestamp])  # type: ignore[arg-type]
    c.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
    assert c.now() == timestamp


def register(c: Consortium, key: str, *codes: str) -> tuple[bytes, ...]:
    """Register datasets ``codes`` to department ``key``; returns their ids."""
    return tuple(c.register_dataset(key, code, keccak(text=code)) for code in codes)


def make_terms(
    c: Consortium,
    datasets: tuple[bytes, ...],
    *,
    provider: str = "A",
    consumer: str = "B",
    purpose: bytes = PURPOSE,
    valid_from: int | None = None,
    valid_until: int | None = None,
) -> AgreementTerms:
    """Terms between founders ``provider`` and ``consumer``; valid from now for a day by default."""
    start = c.now() if valid_from is None else valid_from
    return AgreementTerms(
        provider=c.ids[provider],
        consumer=c.ids[consumer],
        dataset_ids=datasets,
        purpose=purpose,
        legal_basis=LEGAL_BASIS,
        terms_hash=TERMS_HASH,
        valid_from=start,
        valid_until=start + DAY if valid_until is None else valid_until,
    )


def propose(c: Consortium, terms: AgreementTerms, key: str = "A") -> bytes:
    """Propose ``terms`` as department ``key``; returns the agreement id."""
    tx = c.transact(SA, "propose", terms.as_tuple(), sender=c.ops[key])
    return bytes(tx.event("AgreementProposed")["agreementId"])


def accept(c: Consortium, aid: bytes, key: str = "B") -> SentTransaction:
    return c.transact(SA, "accept", aid, sender=c.ops[key])


def active(c: Consortium, *codes: str, **kwargs: Any) -> tuple[AgreementTerms, bytes]:
    """Register ``codes`` to A, and make an A→B agreement on them, proposed by A, accepted by B."""
    terms = make_terms(c, register(c, "A", *(codes or ("DS-1",))), **kwargs)
    aid = propose(c, terms)
    accept(c, aid)
    return terms, aid


def proposed(c: Consortium, *codes: str, **kwargs: Any) -> tuple[AgreementTerms, bytes]:
    """Like :func:`active`, but left pending."""
    terms = make_terms(c, register(c, "A", *(codes or ("DS-1",))), **kwargs)
    return terms, propose(c, terms)


def agreement(c: Consortium, aid: bytes) -> dict[str, Any]:
    """The stored agreement as a dict."""
    terms, status, proposer, supersedes, superseded_by, proposed_at, accepted_at, closed_at = (
        c.call(SA, "agreement", aid)
    )
    return {
        "terms": tuple(terms),
        "status": status,
        "proposer": proposer,
        "supersedes": supersedes,
        "supersededBy": superseded_by,
        "proposedAt": proposed_at,
        "acceptedAt": accepted_at,
        "closedAt": closed_at,
    }


def terms_event_dict(terms: AgreementTerms) -> dict[str, Any]:
    return {
        "provider": terms.provider,
        "consumer": terms.consumer,
        "datasetIds": list(terms.dataset_ids),
        "purpose": terms.purpose,
        "legalBasis": terms.legal_basis,
        "termsHash": terms.terms_hash,
        "validFrom": terms.valid_from,
        "validUntil": terms.valid_until,
    }


def authorized(c: Consortium, terms: AgreementTerms, ds: bytes | None = None) -> bool:
    dataset = terms.dataset_ids[0] if ds is None else ds
    return bool(c.call(SA, "isAuthorized", terms.provider, terms.consumer, dataset, terms.purpose))


def authorizing(c: Consortium, terms: AgreementTerms, ds: bytes | None = None) -> bytes:
    dataset = terms.dataset_ids[0] if ds is None else ds
    return bytes(
        c.call(SA, "authorizingAgreement", terms.provider, terms.consumer, dataset, terms.purpose)
    )


def suspend(c: Consortium, key: str) -> None:
    """Suspend founder ``key``: proposed by one remaining founder, approved by the other."""
    first, second = (k for k in ("A", "B", "C") if k != key)
    tx = c.transact(DR, "propose", SUSPEND, c.ids[key], "", ZERO_ADDRESS, sender=c.ops[first])
    proposal_id = tx.event("ProposalCreated")["proposalId"]
    c.transact(DR, "approve", proposal_id, sender=c.ops[second])
    assert c.call(DR, "isActive", c.ids[key]) is False


def sign_accept(
    c: Consortium,
    aid: bytes,
    signer: LocalAccount,
    *,
    nonce: int = 0,
    deadline: int | None = None,
    key: bytes | None = None,
    chain_id: int | None = None,
    contract: str | None = None,
) -> tuple[int, bytes]:
    """An AcceptAgreement signature by ``signer`` (or by ``key`` claiming to be ``signer``)."""
    until = c.now() + 3600 if deadline is None else deadline
    message = ConsentMessage(
        kind="AcceptAgreement",
        subject_id=aid,
        signer=signer.address,
        nonce=nonce,
        deadline=until,
        chain_id=c.client.chain_id if chain_id is None else chain_id,
        contract=c.client.address(SA) if contract is None else contract,
    )
    return until, sign_consent(message, signer.key if key is None else key)


# ----------------------------------------------------------------------------- constants, twins


def test_constant_views(consortium: Consortium) -> None:
    c = consortium
    assert c.call(SA, "maxDatasets") == 32
    assert c.call(SA, "acceptTypehash") == keccak(text=ACCEPT_AGREEMENT_TYPE)
    assert c.call(SA, "agreementCount") == 0
    assert c.call(SA, "departmentRegistry") == c.client.address(DR)


def test_domain_separator_matches_python_twin(consortium: Consortium) -> None:
    c = consortium
    expected = domain_separator(
        *AGREEMENTS_DOMAIN, chain_id=c.client.chain_id, contract=c.client.address(SA)
    )
    assert c.call(SA, "domainSeparator") == expected
    _, name, version, chain_id, contract, _, _ = c.call(SA, "eip712Domain")
    assert (name, version, chain_id, contract) == (
        *AGREEMENTS_DOMAIN,
        c.client.chain_id,
        c.client.address(SA),
    )
    # Another contract's domain is not this one's.
    other = domain_separator(
        *AGREEMENTS_DOMAIN,
        chain_id=c.client.chain_id,
        contract=c.client.address("JointCommitments"),
    )
    assert other != expected


@pytest.mark.parametrize(("nonce", "deadline"), [(0, 0), (7, 2**64), (2**256 - 1, 2**256 - 1)])
def test_accept_digest_matches_python_twin(
    consortium: Consortium, nonce: int, deadline: int
) -> None:
    c = consortium
    subject = keccak(b"any agreement id")
    signer = c.ops["B"].address
    message = ConsentMessage(
        kind="AcceptAgreement",
        subject_id=subject,
        signer=signer,
        nonce=nonce,
        deadline=deadline,
        chain_id=c.client.chain_id,
        contract=c.client.address(SA),
    )
    assert c.call(SA, "acceptDigest", subject, signer, nonce, deadline) == message.digest()
    # Every field is bound by the digest.
    assert c.call(SA, "acceptDigest", subject, c.ops["C"].address, nonce, deadline) != (
        message.digest()
    )


def test_compute_agreement_id_matches_python_twin(consortium: Consortium) -> None:
    c = consortium
    terms = AgreementTerms(
        provider=c.ids["A"],
        consumer=c.ids["C"],
        dataset_ids=(dataset_of("A", "X-1"), dataset_of("A", "X-2"), dataset_of("A", "X-3")),
        purpose=PURPOSE,
        legal_basis=LEGAL_BASIS,
        terms_hash=TERMS_HASH,
        valid_from=1,
        valid_until=2**64 - 1,
    )
    for sequence in (0, 1, 7, 2**200):
        expected = agreement_id(
            terms, sequence=sequence, chain_id=c.client.chain_id, contract=c.client.address(SA)
        )
        assert c.call(SA, "computeAgreementId", terms.as_tuple(), sequence) == expected
    # Different terms or sequence give different ids.
    first = c.call(SA, "computeAgreementId", terms.as_tuple(), 1)
    assert c.call(SA, "computeAgreementId", terms.as_tuple(), 2) != first
    changed = replace(terms, purpose=OTHER_PURPOSE)
    assert c.call(SA, "computeAgreementId", changed.as_tuple(), 1) != first


# ----------------------------------------------------------------------------- propose


@pytest.mark.parametrize("proposer", ["A", "B"])
def test_propose_records_agreement(consortium: Consortium, proposer: str) -> None:
    c = consortium
    terms = make_terms(c, register(c, "A", "DS-1", "DS-2"), valid_from=c.now() + 100)
    expected_id = agreement_id(
        terms, sequence=1, chain_id=c.client.chain_id, contract=c.client.address(SA)
    )
    assert c.call(SA, "computeAgreementId", terms.as_tuple(), 1) == expected_id

    tx = c.transact(SA, "propose", terms.as_tuple(), sender=c.ops[proposer])

    assert [name for name, _ in tx.events] == ["AgreementProposed"]
    event = tx.event("AgreementProposed")
    assert event["agreementId"] == expected_id
    assert event["provider"] == c.ids["A"]
    assert event["consumer"] == c.ids["B"]
    assert event["proposer"] == c.ids[proposer]
    assert event["supersedes"] == ZERO32
    assert dict(event["terms"]) == terms_event_dict(terms)
    assert c.call(SA, "agreementCount") == 1
    assert c.call(SA, "agreementIdAt", 1) == expected_id
    assert agreement(c, expected_id) == {
        "terms": terms.as_tuple(),
        "status": Status.PROPOSED,
        "proposer": c.ids[proposer],
        "supersedes": ZERO32,
        "supersededBy": ZERO32,
        "proposedAt": block_time(c, tx),
        "acceptedAt": 0,
        "closedAt": 0,
    }
    # A proposal authorizes nothing.
    assert not authorized(c, terms)
    assert c.call(SA, "accessReceiptCount", expected_id) == 0


def test_propose_sequence_numbers_and_identical_terms(consortium: Consortium) -> None:
    c = consortium
    terms = make_terms(c, register(c, "A", "DS-1"))
    first = propose(c, terms)
    second = propose(c, terms)  # the same terms again: a new agreement, a new id
    assert first != second
    for sequence, aid in ((1, first), (2, second)):
        assert aid == agreement_id(
            terms, sequence=sequence, chain_id=c.client.chain_id, contract=c.client.address(SA)
        )
        assert c.call(SA, "agreementIdAt", sequence) == aid
    assert c.call(SA, "agreementCount") == 2


def test_propose_accepts_max_datasets(consortium: Consortium) -> None:
    c = consortium
    datasets = register(c, "A", *(f"DS-{i}" for i in range(32)))
    terms = make_terms(c, datasets)
    aid = propose(c, terms)
    accept(c, aid)
    assert agreement(c, aid)["terms"][2] == list(datasets)
    assert authorized(c, terms, datasets[0])
    assert authorized(c, terms, datasets[31])


def test_propose_with_past_valid_from(consortium: Consortium) -> None:
    c = consortium
    now = c.now()
    terms, aid = active(c, valid_from=now - 10 * DAY, valid_until=now + DAY)
    assert agreement(c, aid)["status"] == Status.ACTIVE
    assert authorized(c, terms)


def test_propose_not_party(consortium: Consortium) -> None:
    c = consortium
    terms = make_terms(c, register(c, "A", "DS-1"))
    with reverts("SharingAgreementsNotParty", departmentId=c.ids["C"]):
        c.transact(SA, "propose", terms.as_tuple(), sender=c.ops["C"])


def test_propose_same_department(consortium: Consortium) -> None:
    c = consortium
    terms = make_terms(c, register(c, "A", "DS-1"), consumer="A")
    with reverts("SharingAgreementsSameDepartment", departmentId=c.ids["A"]):
        c.transact(SA, "propose", terms.as_tuple(), sender=c.ops["A"])


@pytest.mark.parametrize("proposer", ["A", "B"])
def test_propose_counterparty_unknown(consortium: Consortium, proposer: str) -> None:
    c = consortium
    unknown = department_id("NOT-A-MEMBER")
    terms = make_terms(c, register(c, "A", "DS-1"))
    if proposer == "A":
        terms = replace(terms, consumer=unknown)
    else:
        terms = replace(terms, provider=unknown)
    with reverts("DepartmentRegistryUnknownDepartment", departmentId=unknown):
        c.transact(SA, "propose", terms.as_tuple(), sender=c.ops[proposer])


@pytest.mark.parametrize(("proposer", "counterparty"), [("A", "B"), ("B", "A")])
def test_propose_counterparty_suspended(
    consortium: Consortium, proposer: str, counterparty: str
) -> None:
    c = consortium
    terms = make_terms(c, register(c, "A", "DS-1"))
    suspend(c, counterparty)
    with reverts(
        "DepartmentRegistryDepartmentNotActive",
        departmentId=c.ids[counterparty],
        status=DEPT_SUSPENDED,
    ):
        c.transact(SA, "propose", terms.as_tuple(), sender=c.ops[proposer])


def test_propose_no_datasets(consortium: Consortium) -> None:
    c = consortium
    terms = make_terms(c, ())
    with reverts("SharingAgreementsNoDatasets"):
        c.transact(SA, "propose", terms.as_tuple(), sender=c.ops["A"])


def test_propose_too_many_datasets(consortium: Consortium) -> None:
    c = consortium
    # The count is checked before ownership: the datasets need not exist.
    terms = make_terms(c, tuple(dataset_of("A", f"DS-{i}") for i in range(33)))
    with reverts("SharingAgreementsTooManyDatasets", count=33, max=32):
        c.transact(SA, "propose", terms.as_tuple(), sender=c.ops["A"])


def test_propose_duplicate_dataset(consortium: Consortium) -> None:
    c = consortium
    first, second = register(c, "A", "DS-1", "DS-2")
    terms = make_terms(c, (first, second, first))
    with reverts("SharingAgreementsDuplicateDataset", datasetId=first):
        c.transact(SA, "propose", terms.as_tuple(), sender=c.ops["A"])


def test_propose_unregistered_dataset(consortium: Consortium) -> None:
    c = consortium
    (owned,) = register(c, "A", "DS-1")
    missing = dataset_of("A", "DS-NEVER-REGISTERED")
    terms = make_terms(c, (owned, missing))
    with reverts(
        "SharingAgreementsDatasetNotOwnedByProvider",
        datasetId=missing,
        provider=c.ids["A"],
        owner=ZERO32,
    ):
        c.transact(SA, "propose", terms.as_tuple(), sender=c.ops["A"])


@pytest.mark.parametrize("proposer", ["A", "B"])
def test_propose_dataset_of_another_department(consortium: Consortium, proposer: str) -> None:
    c = consortium
    (theirs,) = register(c, "B", "DS-B")  # B's dataset, but A is named the provider
    terms = make_terms(c, (theirs,))
    with reverts(
        "SharingAgreementsDatasetNotOwnedByProvider",
        datasetId=theirs,
        provider=c.ids["A"],
        owner=c.ids["B"],
    ):
        c.transact(SA, "propose", terms.as_tuple(), sender=c.ops[proposer])


def test_propose_zero_purpose(consortium: Consortium) -> None:
    c = consortium
    terms = make_terms(c, register(c, "A", "DS-1"), purpose=ZERO32)
    with reverts("SharingAgreementsZeroPurpose"):
        c.transact(SA, "propose", terms.as_tuple(), sender=c.ops["A"])


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (1000, 1000),  # empty window
        (2000, 1000),  # inverted window
        (-2 * DAY, -DAY),  # entirely in the past
        (-DAY, 0),  # ends now
    ],
    ids=["empty", "inverted", "past", "ends-now"],
)
def test_propose_invalid_validity(consortium: Consortium, start: int, end: int) -> None:
    c = consortium
    datasets = register(c, "A", "DS-1")
    now = c.now()
    terms = make_terms(c, datasets, valid_from=now + start, valid_until=now + end)
    with reverts(
        "SharingAgreementsInvalidValidity", validFrom=now + start, validUntil=now + end
    ) as info:
        c.transact(SA, "propose", terms.as_tuple(), sender=c.ops["A"])
    assert now <= info.value.error_args["currentTime"] <= now + 60
    assert c.call(SA, "agreementCount") == 0


# ----------------------------------------------------------------------------- membership gate


def _gate_calls(c: Consortium) -> dict[str, Callable[[LocalAccount], Any]]:
    """Every write, called with harmless arguments by ``sender``."""
    terms = make_terms(c, (dataset_of("A", "DS-1"),)).as_tuple()
    aid = keccak(b"whatever")
    return {
        "propose": lambda s: c.transact(SA, "propose", terms, sender=s),
        "amend": lambda s: c.transact(SA, "amend", aid, terms, sender=s),
        "accept": lambda s: c.transact(SA, "accept", aid, sender=s),
        "reject": lambda s: c.transact(SA, "reject", aid, REASON, sender=s),
        "withdraw": lambda s: c.transact(SA, "withdraw", aid, sender=s),
        "revoke": lambda s: c.transact(SA, "revoke", aid, REASON, sender=s),
        "recordAccess": lambda s: c.transact(SA, "recordAccess", aid, LOG_ROOT, 1, 1, 1, sender=s),
    }


GATED = ["propose", "amend", "accept", "reject", "withdraw", "revoke", "recordAccess"]


@pytest.mark.parametrize("function", GATED)
def test_writes_need_an_operator(consortium: Consortium, function: str) -> None:
    c = consortium
    for outsider in (c.spare(5), c.auditor):
        with reverts("DepartmentRegistryNotOperator", account=outsider.address):
            _gate_calls(c)[function](outsider)


@pytest.mark.parametrize("function", GATED)
def test_writes_need_an_active_department(consortium: Consortium, function: str) -> None:
    c = consortium
    suspend(c, "C")
    with reverts(
        "DepartmentRegistryDepartmentNotActive", departmentId=c.ids["C"], status=DEPT_SUSPENDED
    ):
        _gate_calls(c)[function](c.ops["C"])


# ----------------------------------------------------------------------------- unknown ids


def test_unknown_agreement_everywhere(consortium: Consortium) -> None:
    c = consortium
    unknown = keccak(b"no such agreement")
    terms = make_terms(c, register(c, "A", "DS-1")).as_tuple()
    deadline, signature = sign_accept(c, unknown, c.ops["B"])
    attempts: dict[str, Callable[[], Any]] = {
        "agreement": lambda: c.call(SA, "agreement", unknown),
        "amend": lambda: c.transact(SA, "amend", unknown, terms, sender=c.ops["A"]),
        "accept": lambda: c.transact(SA, "accept", unknown, sender=c.ops["B"]),
        "acceptBySig": lambda: c.transact(
            SA,
            "acceptBySig",
            unknown,
            c.ops["B"].address,
            0,
            deadline,
            signature,
            sender=c.spare(5),
        ),
        "reject": lambda: c.transact(SA, "reject", unknown, REASON, sender=c.ops["B"]),
        "withdraw": lambda: c.transact(SA, "withdraw", unknown, sender=c.ops["A"]),
        "revoke": lambda: c.transact(SA, "revoke", unknown, REASON, sender=c.ops["A"]),
        "recordAccess": lambda: c.transact(
            SA, "recordAccess", unknown, LOG_ROOT, 1, 1, 1, sender=c.ops["B"]
        ),
    }
    for attempt in attempts.values():
        with reverts("SharingAgreementsUnknownAgreement", agreementId=unknown):
            attempt()
    assert c.call(SA, "nonces", c.ops["B"].address) == 0


def test_agreement_id_at_out_of_range(consortium: Consortium) -> None:
    c = consortium
    with reverts("SharingAgreementsUnknownAgreement", agreementId=ZERO32):
        c.call(SA, "agreementIdAt", 0)
    with reverts("SharingAgreementsUnknownAgreement", agreementId=ZERO32):
        c.call(SA, "agreementIdAt", 1)
    _, aid = proposed(c)
    assert c.call(SA, "agreementIdAt", 1) == aid
    with reverts("SharingAgreementsUnknownAgreement", agreementId=ZERO32):
        c.call(SA, "agreementIdAt", 0)
    with reverts("SharingAgreementsUnknownAgreement", agreementId=ZERO32):
        c.call(SA, "agreementIdAt", 2)


def test_access_receipt_out_of_range(consortium: Consortium) -> None:
    c = consortium
    _, aid = active(c)
    with reverts("SharingAgreementsUnknownReceipt", agreementId=aid, index=0):
        c.call(SA, "accessReceipt", aid, 0)


# ----------------------------------------------------------------------------- accept


@pytest.mark.parametrize("proposer", ["A", "B"])
def test_accept_activates(consortium: Consortium, proposer: str) -> None:
    c = consortium
    counterparty = "B" if proposer == "A" else "A"
    terms = make_terms(c, register(c, "A", "DS-1", "DS-2"))
    aid = propose(c, terms, proposer)
    before = agreement(c, aid)

    tx = accept(c, aid, counterparty)

    assert tx.events == [
        (
            "AgreementAccepted",
            {
                "agreementId": aid,
                "departmentId": c.ids[counterparty],
                "signer": c.ops[counterparty].address,
            },
        )
    ]
    after = agreement(c, aid)
    assert after == {**before, "status": Status.ACTIVE, "acceptedAt": block_time(c, tx)}
    for ds in terms.dataset_ids:
        assert authorized(c, terms, ds)
        assert authorizing(c, terms, ds) == aid
    assert c.call(SA, "agreementCount") == 1


def test_accept_invalid_status(consortium: Consortium) -> None:
    c = consortium
    _, accepted = active(c)
    with reverts("SharingAgreementsInvalidStatus", agreementId=accepted, status=Status.ACTIVE):
        accept(c, accepted)
    _, rejected = proposed(c, "DS-2")
    c.transact(SA, "reject", rejected, REASON, sender=c.ops["B"])
    with reverts("SharingAgreementsInvalidStatus", agreementId=rejected, status=Status.REJECTED):
        accept(c, rejected)
    _, withdrawn = proposed(c, "DS-3")
    c.transact(SA, "withdraw", withdrawn, sender=c.ops["A"])
    with reverts("SharingAgreementsInvalidStatus", agreementId=withdrawn, status=Status.WITHDRAWN):
        accept(c, withdrawn)
    c.transact(SA, "revoke", accepted, REASON, sender=c.ops["A"])
    with reverts("SharingAgreementsInvalidStatus", agreementId=accepted, status=Status.REVOKED):
        accept(c, accepted)


@pytest.mark.parametrize("who", ["A", "C"])
def test_accept_not_counterparty(consortium: Consortium, who: str) -> None:
    c = consortium
    _, aid = proposed(c)
    with reverts("SharingAgreementsNotCounterparty", agreementId=aid, departmentId=c.ids[who]):
        accept(c, aid, who)
    assert agreement(c, aid)["status"] == Status.PROPOSED


def test_accept_after_validity_expired(consortium: Consortium) -> None:
    c = consortium
    terms, aid = proposed(c, valid_until=c.now() + 100)
    c.advance(200)
    with reverts("SharingAgreementsExpired", agreementId=aid, validUntil=terms.valid_until):
        accept(c, aid)


def test_accept_before_validity_starts(consortium: Consortium) -> None:
    c = consortium
    terms, aid = proposed(c, valid_from=c.now() + DAY, valid_until=c.now() + 2 * DAY)
    accept(c, aid)
    assert agreement(c, aid)["status"] == Status.ACTIVE
    assert not authorized(c, terms)


def test_accept_while_proposer_suspended(consortium: Consortium) -> None:
    c = consortium
    _, aid = proposed(c)
    suspend(c, "A")
    with reverts(
        "DepartmentRegistryDepartmentNotActive", departmentId=c.ids["A"], status=DEPT_SUSPENDED
    ):
        accept(c, aid)
    assert agreement(c, aid)["status"] == Status.PROPOSED


# ----------------------------------------------------------------------------- acceptBySig


def test_accept_by_sig_relayed_by_anyone(consortium: Consortium) -> None:
    c = consortium
    terms, aid = proposed(c)
    signer = c.ops["B"]
    relayer = c.spare(6)
    assert c.call(SA, "nonces", signer.address) == 0
    deadline, signature = sign_accept(c, aid, signer)

    tx = c.transact(SA, "acceptBySig", aid, signer.address, 0, deadline, signature, sender=relayer)

    assert tx.events == [
        (
            "AgreementAccepted",
            {"agreementId": aid, "departmentId": c.ids["B"], "signer": signer.address},
        )
    ]
    assert c.call(SA, "nonces", signer.address) == 1
    assert c.call(SA, "nonces", relayer.address) == 0
    stored = agreement(c, aid)
    assert stored["status"] == Status.ACTIVE
    assert stored["acceptedAt"] == block_time(c, tx)
    assert authorizing(c, terms) == aid


def test_accept_by_sig_at_deadline(consortium: Consortium) -> None:
    c = consortium
    _, aid = proposed(c)
    deadline = c.now() + 1000
    _, signature = sign_accept(c, aid, c.ops["B"], deadline=deadline)
    c.w3.provider.make_request("evm_setNextBlockTimestamp", [deadline])  # type: ignore[arg-type]
    # An explicit gas limit: no estimate at some other time, the block is mined at `deadline`.
    tx = c.client.transact(
        SA,
        "acceptBySig",
        aid,
        c.ops["B"].address,
        0,
        deadline,
        signature,
        sender=c.spare(5),
        gas=500_000,
    )
    assert block_time(c, tx) == deadline
    assert tx.event("AgreementAccepted")["signer"] == c.ops["B"].address
    assert agreement(c, aid)["status"] == Status.ACTIVE


def test_accept_by_sig_expired(consortium: Consortium) -> None:
    c = consortium
    _, aid = proposed(c)
    deadline = c.now() - 1
    _, signature = sign_accept(c, aid, c.ops["B"], deadline=deadline)
    with reverts("SharingAgreementsSignatureExpired", deadline=deadline) as info:
        c.transact(
            SA, "acceptBySig", aid, c.ops["B"].address, 0, deadline, signature, sender=c.spare(5)
        )
    assert info.value.error_args["currentTime"] > deadline
    assert agreement(c, aid)["status"] == Status.PROPOSED
    assert c.call(SA, "nonces", c.ops["B"].address) == 0


def test_accept_by_sig_replay_same_nonce(consortium: Consortium) -> None:
    c = consortium
    _, first = proposed(c, "DS-1")
    _, second = proposed(c, "DS-2")
    signer = c.ops["B"]
    deadline, signature = sign_accept(c, first, signer, nonce=0)
    c.transact(SA, "acceptBySig", first, signer.address, 0, deadline, signature, sender=c.spare(5))
    # The very same signature again.
    with reverts("InvalidAccountNonce", account=signer.address, currentNonce=1):
        c.transact(
            SA, "acceptBySig", first, signer.address, 0, deadline, signature, sender=c.spare(5)
        )
    # A fresh signature for another agreement, reusing nonce 0.
    deadline2, signature2 = sign_accept(c, second, signer, nonce=0)
    with reverts("InvalidAccountNonce", account=signer.address, currentNonce=1):
        c.transact(
            SA, "acceptBySig", second, signer.address, 0, deadline2, signature2, sender=c.spare(5)
        )
    # A nonce from the future is refused as well.
    deadline3, signature3 = sign_accept(c, second, signer, nonce=5)
    with reverts("InvalidAccountNonce", account=signer.address, currentNonce=1):
        c.transact(
            SA, "acceptBySig", second, signer.address, 5, deadline3, signature3, sender=c.spare(5)
        )
    # The next nonce works.
    deadline4, signature4 = sign_accept(c, second, signer, nonce=1)
    tx = c.transact(
        SA, "acceptBySig", second, signer.address, 1, deadline4, signature4, sender=c.spare(5)
    )
    assert tx.event("AgreementAccepted")["agreementId"] == second
    assert c.call(SA, "nonces", signer.address) == 2


def test_accept_by_sig_other_chain_id(consortium: Consortium) -> None:
    c = consortium
    _, aid = proposed(c)
    signer = c.ops["B"]
    deadline, signature = sign_accept(c, aid, signer, chain_id=c.client.chain_id + 1)
    with reverts("SharingAgreementsInvalidSignature", signer=signer.address):
        c.transact(
            SA, "acceptBySig", aid, signer.address, 0, deadline, signature, sender=c.spare(5)
        )
    assert c.call(SA, "nonces", signer.address) == 0


def test_accept_by_sig_other_contract(consortium: Consortium) -> None:
    c = consortium
    _, aid = proposed(c)
    signer = c.ops["B"]
    deadline, signature = sign_accept(c, aid, signer, contract=c.client.address("JointCommitments"))
    with reverts("SharingAgreementsInvalidSignature", signer=signer.address):
        c.transact(
            SA, "acceptBySig", aid, signer.address, 0, deadline, signature, sender=c.spare(5)
        )


def test_accept_by_sig_wrong_signer(consortium: Consortium) -> None:
    c = consortium
    _, aid = proposed(c)
    claimed = c.ops["B"]
    # Signed with C's key, claiming to be B's operator.
    deadline, signature = sign_accept(c, aid, claimed, key=c.ops["C"].key)
    with reverts("SharingAgreementsInvalidSignature", signer=claimed.address):
        c.transact(
            SA, "acceptBySig", aid, claimed.address, 0, deadline, signature, sender=c.ops["C"]
        )
    assert agreement(c, aid)["status"] == Status.PROPOSED


def test_accept_by_sig_tampered_message(consortium: Consortium) -> None:
    c = consortium
    _, aid = proposed(c, "DS-1")
    _, other = proposed(c, "DS-2")
    signer = c.ops["B"]
    deadline, signature = sign_accept(c, aid, signer)
    tampered = [
        (other, signer.address, 0, deadline),  # another agreement
        (aid, signer.address, 1, deadline),  # another nonce
        (aid, signer.address, 0, deadline + 1),  # another deadline
    ]
    for agreement_id_, who, nonce, until in tampered:
        with reverts("SharingAgreementsInvalidSignature", signer=who):
            c.transact(
                SA, "acceptBySig", agreement_id_, who, nonce, until, signature, sender=c.spare(5)
            )


@pytest.mark.parametrize(
    "signature",
    [b"", b"\x01\x02\x03", b"\x00" * 65, b"\x11" * 64 + b"\x1b", b"\x11" * 66],
    ids=["empty", "short", "zero", "garbage", "long"],
)
def test_accept_by_sig_malformed_signature(consortium: Consortium, signature: bytes) -> None:
    c = consortium
    _, aid = proposed(c)
    signer = c.ops["B"]
    deadline = c.now() + 3600
    with reverts("SharingAgreementsInvalidSignature", signer=signer.address):
        c.transact(
            SA, "acceptBySig", aid, signer.address, 0, deadline, signature, sender=c.spare(5)
        )


def test_accept_by_sig_high_s_signature_refused(consortium: Consortium) -> None:
    c = consortium
    _, aid = proposed(c)
    signer = c.ops["B"]
    deadline, signature = sign_accept(c, aid, signer)
    n = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
    r, s, v = signature[:32], int.from_bytes(signature[32:64], "big"), signature[64]
    malleated = r + (n - s).to_bytes(32, "big") + bytes([55 - v])  # 27 <-> 28
    with reverts("SharingAgreementsInvalidSignature", signer=signer.address):
        c.transact(
            SA, "acceptBySig", aid, signer.address, 0, deadline, malleated, sender=c.spare(5)
        )
    # The original is still good.
    c.transact(SA, "acceptBySig", aid, signer.address, 0, deadline, signature, sender=c.spare(5))
    assert agreement(c, aid)["status"] == Status.ACTIVE


def test_accept_by_sig_signer_of_proposer_side(consortium: Consortium) -> None:
    c = consortium
    _, aid = proposed(c)
    signer = c.ops["A"]  # an operator, but of the proposing department
    deadline, signature = sign_accept(c, aid, signer)
    with reverts("SharingAgreementsNotCounterparty", agreementId=aid, departmentId=c.ids["A"]):
        c.transact(
            SA, "acceptBySig", aid, signer.address, 0, deadline, signature, sender=c.spare(5)
        )
    assert c.call(SA, "nonces", signer.address) == 0


def test_accept_by_sig_signer_without_role(consortium: Consortium) -> None:
    c = consortium
    _, aid = proposed(c)
    signer = c.spare(7)
    deadline, signature = sign_accept(c, aid, signer)
    with reverts("DepartmentRegistryNotOperator", account=signer.address):
        c.transact(
            SA, "acceptBySig", aid, signer.address, 0, deadline, signature, sender=c.spare(5)
        )


def test_accept_by_sig_signer_suspended(consortium: Consortium) -> None:
    c = consortium
    _, aid = proposed(c)
    signer = c.ops["B"]
    deadline, signature = sign_accept(c, aid, signer)
    suspend(c, "B")
    with reverts(
        "DepartmentRegistryDepartmentNotActive", departmentId=c.ids["B"], status=DEPT_SUSPENDED
    ):
        c.transact(
            SA, "acceptBySig", aid, signer.address, 0, deadline, signature, sender=c.spare(5)
        )


def test_accept_by_sig_already_active(consortium: Consortium) -> None:
    c = consortium
    _, aid = active(c)
    signer = c.ops["B"]
    deadline, signature = sign_accept(c, aid, signer)
    with reverts("SharingAgreementsInvalidStatus", agreementId=aid, status=Status.ACTIVE):
        c.transact(
            SA, "acceptBySig", aid, signer.address, 0, deadline, signature, sender=c.spare(5)
        )
    assert c.call(SA, "nonces", signer.address) == 0


# ----------------------------------------------------------------------------- reject, withdraw


def test_reject(consortium: Consortium) -> None:
    c = consortium
    terms, aid = proposed(c)
    tx = c.transact(SA, "reject", aid, REASON, sender=c.ops["B"])
    assert tx.events == [
        (
            "AgreementRejected",
            {"agreementId": aid, "departmentId": c.ids["B"], "reasonHash": REASON},
        )
    ]
    stored = agreement(c, aid)
    assert stored["status"] == Status.REJECTED
    assert stored["closedAt"] == block_time(c, tx)
    assert stored["acceptedAt"] == 0
    assert not authorized(c, terms)
    with reverts("SharingAgreementsInvalidStatus", agreementId=aid, status=Status.REJECTED):
        c.transact(SA, "reject", aid, REASON, sender=c.ops["B"])


@pytest.mark.parametrize("who", ["A", "C"])
def test_reject_not_counterparty(consortium: Consortium, who: str) -> None:
    c = consortium
    _, aid = proposed(c)
    with reverts("SharingAgreementsNotCounterparty", agreementId=aid, departmentId=c.ids[who]):
        c.transact(SA, "reject", aid, REASON, sender=c.ops[who])


def test_reject_invalid_status(consortium: Consortium) -> None:
    c = consortium
    _, aid = active(c)
    with reverts("SharingAgreementsInvalidStatus", agreementId=aid, status=Status.ACTIVE):
        c.transact(SA, "reject", aid, REASON, sender=c.ops["B"])
    _, withdrawn = proposed(c, "DS-2")
    c.transact(SA, "withdraw", withdrawn, sender=c.ops["A"])
    with reverts("SharingAgreementsInvalidStatus", agreementId=withdrawn, status=Status.WITHDRAWN):
        c.transact(SA, "reject", withdrawn, REASON, sender=c.ops["B"])


@pytest.mark.parametrize("proposer", ["A", "B"])
def test_withdraw(consortium: Consortium, proposer: str) -> None:
    c = consortium
    terms = make_terms(c, register(c, "A", "DS-1"))
    aid = propose(c, terms, proposer)
    tx = c.transact(SA, "withdraw", aid, sender=c.ops[proposer])
    assert tx.events == [
        ("AgreementWithdrawn", {"agreementId": aid, "departmentId": c.ids[proposer]})
    ]
    stored = agreement(c, aid)
    assert stored["status"] == Status.WITHDRAWN
    assert stored["closedAt"] == block_time(c, tx)
    with reverts("SharingAgreementsInvalidStatus", agreementId=aid, status=Status.WITHDRAWN):
        c.transact(SA, "withdraw", aid, sender=c.ops[proposer])


@pytest.mark.parametrize("who", ["B", "C"])
def test_withdraw_not_proposer(consortium: Consortium, who: str) -> None:
    c = consortium
    _, aid = proposed(c)
    with reverts("SharingAgreementsNotProposer", agreementId=aid, departmentId=c.ids[who]):
        c.transact(SA, "withdraw", aid, sender=c.ops[who])


def test_withdraw_invalid_status(consortium: Consortium) -> None:
    c = consortium
    _, aid = active(c)
    with reverts("SharingAgreementsInvalidStatus", agreementId=aid, status=Status.ACTIVE):
        c.transact(SA, "withdraw", aid, sender=c.ops["A"])
    _, rejected = proposed(c, "DS-2")
    c.transact(SA, "reject", rejected, REASON, sender=c.ops["B"])
    with reverts("SharingAgreementsInvalidStatus", agreementId=rejected, status=Status.REJECTED):
        c.transact(SA, "withdraw", rejected, sender=c.ops["A"])


# ----------------------------------------------------------------------------- revoke


@pytest.mark.parametrize("who", ["A", "B"])
def test_revoke_by_either_party(consortium: Consortium, who: str) -> None:
    c = consortium
    terms, aid = active(c)
    assert authorized(c, terms)
    tx = c.transact(SA, "revoke", aid, REASON, sender=c.ops[who])
    assert tx.events == [
        ("AgreementRevoked", {"agreementId": aid, "departmentId": c.ids[who], "reasonHash": REASON})
    ]
    stored = agreement(c, aid)
    assert stored["status"] == Status.REVOKED
    assert stored["closedAt"] == block_time(c, tx)
    assert not authorized(c, terms)
    assert authorizing(c, terms) == ZERO32
    with reverts("SharingAgreementsInvalidStatus", agreementId=aid, status=Status.REVOKED):
        c.transact(SA, "revoke", aid, REASON, sender=c.ops[who])


def test_revoke_not_party(consortium: Consortium) -> None:
    c = consortium
    _, aid = active(c)
    with reverts("SharingAgreementsNotParty", departmentId=c.ids["C"]):
        c.transact(SA, "revoke", aid, REASON, sender=c.ops["C"])
    assert agreement(c, aid)["status"] == Status.ACTIVE


def test_revoke_invalid_status(consortium: Consortium) -> None:
    c = consortium
    _, aid = proposed(c)
    with reverts("SharingAgreementsInvalidStatus", agreementId=aid, status=Status.PROPOSED):
        c.transact(SA, "revoke", aid, REASON, sender=c.ops["A"])
    c.transact(SA, "withdraw", aid, sender=c.ops["A"])
    with reverts("SharingAgreementsInvalidStatus", agreementId=aid, status=Status.WITHDRAWN):
        c.transact(SA, "revoke", aid, REASON, sender=c.ops["B"])


# ----------------------------------------------------------------------------- isAuthorized


def test_is_authorized_follows_validity_window(consortium: Consortium) -> None:
    c = consortium
    now = c.now()
    start, end = now + 1000, now + 2000
    terms, aid = active(c, valid_from=start, valid_until=end)
    assert not authorized(c, terms)
    mine_at(c, start - 1)
    assert not authorized(c, terms)
    assert authorizing(c, terms) == ZERO32
    mine_at(c, start)
    assert authorized(c, terms)
    assert authorizing(c, terms) == aid
    mine_at(c, end - 1)
    assert authorized(c, terms)
    mine_at(c, end)
    assert not authorized(c, terms)
    assert authorizing(c, terms) == ZERO32
    c.advance(DAY)
    assert not authorized(c, terms)
    # Expiry is not a status.
    assert agreement(c, aid)["status"] == Status.ACTIVE


def test_is_authorized_exact_scope(consortium: Consortium) -> None:
    c = consortium
    terms, aid = active(c, "DS-1", "DS-2")
    (other_dataset,) = register(c, "A", "DS-3")
    a, b, cc = c.ids["A"], c.ids["B"], c.ids["C"]
    ds1, ds2 = terms.dataset_ids

    def check(provider: bytes, consumer: bytes, ds: bytes, purpose: bytes) -> bool:
        return bool(c.call(SA, "isAuthorized", provider, consumer, ds, purpose))

    assert check(a, b, ds1, PURPOSE)
    assert check(a, b, ds2, PURPOSE)
    assert not check(b, a, ds1, PURPOSE)  # direction matters
    assert not check(a, cc, ds1, PURPOSE)  # another consumer
    assert not check(cc, b, ds1, PURPOSE)  # another provider
    assert not check(a, b, other_dataset, PURPOSE)  # another dataset of the provider
    assert not check(a, b, ds1, OTHER_PURPOSE)  # another purpose
    assert not check(a, b, ds1, ZERO32)
    assert c.call(SA, "authorizingAgreement", a, b, ds2, PURPOSE) == aid
    assert c.call(SA, "authorizingAgreement", a, b, ds1, OTHER_PURPOSE) == ZERO32


@pytest.mark.parametrize("key", ["A", "B"])
def test_is_authorized_false_while_a_party_is_suspended(consortium: Consortium, key: str) -> None:
    c = consortium
    terms, aid = active(c)
    assert authorized(c, terms)
    suspend(c, key)
    assert not authorized(c, terms)
    assert authorizing(c, terms) == ZERO32
    assert agreement(c, aid)["status"] == Status.ACTIVE


def test_is_authorized_by_later_agreement_when_earlier_revoked(consortium: Consortium) -> None:
    c = consortium
    first_terms, first = active(c)
    second = propose(c, first_terms)  # the same scope, agreed twice
    accept(c, second)
    assert authorizing(c, first_terms) == second
    c.transact(SA, "revoke", second, REASON, sender=c.ops["B"])
    assert authorizing(c, first_terms) == first
    c.transact(SA, "revoke", first, REASON, sender=c.ops["A"])
    assert authorizing(c, first_terms) == ZERO32
    assert not authorized(c, first_terms)


# ----------------------------------------------------------------------------- amend


def test_amend_supersedes_on_acceptance(consortium: Consortium) -> None:
    c = consortium
    old_terms, old = active(c, "DS-1")
    (ds2,) = register(c, "A", "DS-2")
    new_terms = make_terms(c, (ds2,), purpose=OTHER_PURPOSE)
    expected = agreement_id(
        new_terms, sequence=2, chain_id=c.client.chain_id, contract=c.client.address(SA)
    )

    tx = c.transact(SA, "amend", old, new_terms.as_tuple(), sender=c.ops["B"])

    event = tx.event("AgreementProposed")
    assert [name for name, _ in tx.events] == ["AgreementProposed"]
    assert event["agreementId"] == expected
    assert event["provider"] == c.ids["A"]
    assert event["consumer"] == c.ids["B"]
    assert event["proposer"] == c.ids["B"]
    assert event["supersedes"] == old
    assert dict(event["terms"]) == terms_event_dict(new_terms)
    assert c.call(SA, "agreementCount") == 2
    assert c.call(SA, "agreementIdAt", 2) == expected
    pending = agreement(c, expected)
    assert pending["status"] == Status.PROPOSED
    assert pending["supersedes"] == old
    assert pending["proposer"] == c.ids["B"]
    # Until accepted, the old agreement still rules.
    assert agreement(c, old)["status"] == Status.ACTIVE
    assert authorized(c, old_terms)
    assert not authorized(c, new_terms)

    # B proposed the amendment, so A accepts it.
    with reverts("SharingAgreementsNotCounterparty", agreementId=expected, departmentId=c.ids["B"]):
        accept(c, expected, "B")
    tx = accept(c, expected, "A")

    assert tx.events == [
        ("AgreementSuperseded", {"agreementId": old, "supersededBy": expected}),
        (
            "AgreementAccepted",
            {"agreementId": expected, "departmentId": c.ids["A"], "signer": c.ops["A"].address},
        ),
    ]
    when = block_time(c, tx)
    previous = agreement(c, old)
    assert previous["status"] == Status.SUPERSEDED
    assert previous["supersededBy"] == expected
    assert previous["closedAt"] == when
    current = agreement(c, expected)
    assert current["status"] == Status.ACTIVE
    assert current["acceptedAt"] == when
    assert current["supersededBy"] == ZERO32
    assert not authorized(c, old_terms)
    assert authorized(c, new_terms)
    assert authorizing(c, new_terms) == expected
    # A superseded agreement can be neither amended, revoked nor used for receipts.
    with reverts("SharingAgreementsInvalidStatus", agreementId=old, status=Status.SUPERSEDED):
        c.transact(SA, "amend", old, new_terms.as_tuple(), sender=c.ops["A"])
    with reverts("SharingAgreementsInvalidStatus", agreementId=old, status=Status.SUPERSEDED):
        c.transact(SA, "revoke", old, REASON, sender=c.ops["A"])
    with reverts("SharingAgreementsInvalidStatus", agreementId=old, status=Status.SUPERSEDED):
        c.transact(SA, "recordAccess", old, LOG_ROOT, 1, c.now(), c.now(), sender=c.ops["B"])


def test_amend_window_takes_over(consortium: Consortium) -> None:
    c = consortium
    now = c.now()
    old_terms, old = active(c, valid_from=now, valid_until=now + DAY)
    # The provider extends the window to two days, and the consumer accepts by signature.
    new_terms = replace(old_terms, valid_until=now + 2 * DAY)
    tx = c.transact(SA, "amend", old, new_terms.as_tuple(), sender=c.ops["A"])
    amendment = bytes(tx.event("AgreementProposed")["agreementId"])
    deadline, signature = sign_accept(c, amendment, c.ops["B"])
    tx = c.transact(
        SA, "acceptBySig", amendment, c.ops["B"].address, 0, deadline, signature, sender=c.spare(9)
    )
    assert tx.event("AgreementSuperseded") == {"agreementId": old, "supersededBy": amendment}
    assert tx.event("AgreementAccepted")["signer"] == c.ops["B"].address
    assert authorizing(c, old_terms) == amendment  # the same scope
    mine_at(c, now + DAY + 10)
    assert authorized(c, new_terms)
    mine_at(c, now + 2 * DAY)
    assert not authorized(c, new_terms)


def test_amend_accept_after_original_revoked(consortium: Consortium) -> None:
    c = consortium
    old_terms, old = active(c)
    tx = c.transact(SA, "amend", old, old_terms.as_tuple(), sender=c.ops["B"])
    amendment = bytes(tx.event("AgreementProposed")["agreementId"])
    c.transact(SA, "revoke", old, REASON, sender=c.ops["A"])
    with reverts("SharingAgreementsInvalidStatus", agreementId=old, status=Status.REVOKED):
        accept(c, amendment, "A")
    assert agreement(c, amendment)["status"] == Status.PROPOSED
    assert not authorized(c, old_terms)


def test_amend_two_pending_amendments(consortium: Consortium) -> None:
    c = consortium
    old_terms, old = active(c)
    first_tx = c.transact(SA, "amend", old, old_terms.as_tuple(), sender=c.ops["B"])
    second_tx = c.transact(SA, "amend", old, old_terms.as_tuple(), sender=c.ops["B"])
    first = bytes(first_tx.event("AgreementProposed")["agreementId"])
    second = bytes(second_tx.event("AgreementProposed")["agreementId"])
    accept(c, first, "A")
    with reverts("SharingAgreementsInvalidStatus", agreementId=old, status=Status.SUPERSEDED):
        accept(c, second, "A")
    assert agreement(c, old)["supersededBy"] == first


def test_amend_invalid_status(consortium: Consortium) -> None:
    c = consortium
    terms, aid = proposed(c)
    with reverts("SharingAgreementsInvalidStatus", agreementId=aid, status=Status.PROPOSED):
        c.transact(SA, "amend", aid, terms.as_tuple(), sender=c.ops["A"])
    accept(c, aid)
    c.transact(SA, "revoke", aid, REASON, sender=c.ops["B"])
    with reverts("SharingAgreementsInvalidStatus", agreementId=aid, status=Status.REVOKED):
        c.transact(SA, "amend", aid, terms.as_tuple(), sender=c.ops["A"])


@pytest.mark.parametrize(
    ("provider", "consumer"),
    [("C", "B"), ("A", "C"), ("B", "A")],
    ids=["provider", "consumer", "swap"],
)
def test_amend_parties_changed(consortium: Consortium, provider: str, consumer: str) -> None:
    c = consortium
    terms, aid = active(c)
    changed = replace(terms, provider=c.ids[provider], consumer=c.ids[consumer])
    with reverts("SharingAgreementsPartiesChanged", agreementId=aid):
        c.transact(SA, "amend", aid, changed.as_tuple(), sender=c.ops["A"])
    assert c.call(SA, "agreementCount") == 1


def test_amend_by_outsider_department(consortium: Consortium) -> None:
    c = consortium
    terms, aid = active(c)
    with reverts("SharingAgreementsNotParty", departmentId=c.ids["C"]):
        c.transact(SA, "amend", aid, terms.as_tuple(), sender=c.ops["C"])


def test_amend_checks_terms(consortium: Consortium) -> None:
    c = consortium
    terms, aid = active(c)
    now = c.now()
    stale = replace(terms, valid_from=now - 2 * DAY, valid_until=now - DAY)
    with reverts("SharingAgreementsInvalidValidity", validFrom=now - 2 * DAY, validUntil=now - DAY):
        c.transact(SA, "amend", aid, stale.as_tuple(), sender=c.ops["B"])
    with reverts("SharingAgreementsZeroPurpose"):
        c.transact(SA, "amend", aid, replace(terms, purpose=ZERO32).as_tuple(), sender=c.ops["B"])
    missing = dataset_of("A", "DS-MISSING")
    with reverts(
        "SharingAgreementsDatasetNotOwnedByProvider",
        datasetId=missing,
        provider=c.ids["A"],
        owner=ZERO32,
    ):
        c.transact(
            SA, "amend", aid, replace(terms, dataset_ids=(missing,)).as_tuple(), sender=c.ops["B"]
        )
    with reverts("SharingAgreementsNoDatasets"):
        c.transact(SA, "amend", aid, replace(terms, dataset_ids=()).as_tuple(), sender=c.ops["B"])
    suspend(c, "B")
    with reverts(
        "DepartmentRegistryDepartmentNotActive", departmentId=c.ids["B"], status=DEPT_SUSPENDED
    ):
        c.transact(SA, "amend", aid, terms.as_tuple(), sender=c.ops["A"])
    assert c.call(SA, "agreementCount") == 1


# ----------------------------------------------------------------------------- recordAccess


def _receipt_agreement(c: Consortium) -> tuple[AgreementTerms, bytes, int]:
    """An active agreement whose window started 1000 s before it was proposed and ends in a
    day; 100 s have passed since its acceptance, which is its effective start (returned)."""
    now = c.now()
    terms, aid = active(c, valid_from=now - 1000, valid_until=now + DAY)
    start = agreement(c, aid)["acceptedAt"]
    assert start > terms.valid_from
    c.advance(100)
    return terms, aid, start


def test_record_access(consortium: Consortium) -> None:
    c = consortium
    _, aid, start = _receipt_agreement(c)
    end = c.now()
    tx = c.transact(SA, "recordAccess", aid, LOG_ROOT, 42, start, end, sender=c.ops["B"])
    assert tx.events == [
        (
            "AccessRecorded",
            {
                "agreementId": aid,
                "consumer": c.ids["B"],
                "receiptIndex": 0,
                "logRoot": LOG_ROOT,
                "entryCount": 42,
                "periodStart": start,
                "periodEnd": end,
            },
        )
    ]
    assert c.call(SA, "accessReceiptCount", aid) == 1
    assert c.call(SA, "accessReceipt", aid, 0) == (LOG_ROOT, 42, start, end, block_time(c, tx))

    second_root = keccak(b"second log")
    tx = c.transact(SA, "recordAccess", aid, second_root, 1, end, end, sender=c.ops["B"])
    assert tx.event("AccessRecorded")["receiptIndex"] == 1
    assert c.call(SA, "accessReceiptCount", aid) == 2
    assert c.call(SA, "accessReceipt", aid, 1) == (second_root, 1, end, end, block_time(c, tx))
    assert c.call(SA, "accessReceipt", aid, 0)[0] == LOG_ROOT


def test_record_access_after_expiry_for_the_window(consortium: Consortium) -> None:
    c = consortium
    now = c.now()
    terms, aid = active(c, valid_from=now + 100, valid_until=now + 1000)
    c.advance(2000)
    assert not authorized(c, terms)
    # Accepted before validFrom: the effective window is the signed one.
    assert c.call(SA, "effectiveFrom", aid) == terms.valid_from
    last = terms.valid_until - 1
    tx = c.transact(SA, "recordAccess", aid, LOG_ROOT, 3, terms.valid_from, last, sender=c.ops["B"])
    assert tx.event("AccessRecorded")["periodEnd"] == last
    assert c.call(SA, "accessReceiptCount", aid) == 1
    with reverts(
        "SharingAgreementsInvalidReceiptPeriod",
        periodStart=terms.valid_from,
        periodEnd=terms.valid_until,
        effectiveFrom=terms.valid_from,
        validUntil=terms.valid_until,
    ):
        c.transact(
            SA,
            "recordAccess",
            aid,
            LOG_ROOT,
            3,
            terms.valid_from,
            terms.valid_until,
            sender=c.ops["B"],
        )


@pytest.mark.parametrize("who", ["A", "C"])
def test_record_access_not_consumer(consortium: Consortium, who: str) -> None:
    c = consortium
    _, aid, start = _receipt_agreement(c)
    with reverts("SharingAgreementsNotConsumer", agreementId=aid, departmentId=c.ids[who]):
        c.transact(SA, "recordAccess", aid, LOG_ROOT, 1, start, c.now(), sender=c.ops[who])
    assert c.call(SA, "accessReceiptCount", aid) == 0


def test_record_access_invalid_status(consortium: Consortium) -> None:
    c = consortium
    now = c.now()
    terms, aid = proposed(c, valid_from=now - 1000, valid_until=now + DAY)
    with reverts("SharingAgreementsInvalidStatus", agreementId=aid, status=Status.PROPOSED):
        c.transact(SA, "recordAccess", aid, LOG_ROOT, 1, terms.valid_from, now, sender=c.ops["B"])
    accept(c, aid)
    c.transact(SA, "revoke", aid, REASON, sender=c.ops["A"])
    with reverts("SharingAgreementsInvalidStatus", agreementId=aid, status=Status.REVOKED):
        c.transact(SA, "recordAccess", aid, LOG_ROOT, 1, terms.valid_from, now, sender=c.ops["B"])


def test_record_access_zero_root_and_count(consortium: Consortium) -> None:
    c = consortium
    _, aid, start = _receipt_agreement(c)
    end = c.now()
    with reverts("SharingAgreementsZeroLogRoot"):
        c.transact(SA, "recordAccess", aid, ZERO32, 1, start, end, sender=c.ops["B"])
    with reverts("SharingAgreementsZeroEntryCount"):
        c.transact(SA, "recordAccess", aid, LOG_ROOT, 0, start, end, sender=c.ops["B"])
    assert c.call(SA, "accessReceiptCount", aid) == 0


@pytest.mark.parametrize(
    "case",
    [
        "inverted",
        "future",
        "before-valid-from",
        "before-acceptance",
        "at-valid-until",
        "after-valid-until",
    ],
)
def test_record_access_invalid_period(consortium: Consortium, case: str) -> None:
    c = consortium
    terms, aid, ef = _receipt_agreement(c)
    now, vf, vu = c.now(), terms.valid_from, terms.valid_until
    start, end = {
        "inverted": (ef + 50, ef + 40),
        "future": (ef, now + 3600),
        "before-valid-from": (vf - 1, now),
        "before-acceptance": (ef - 1, now),
        "at-valid-until": (ef, vu),
        "after-valid-until": (ef, vu + 1000),
    }[case]
    with reverts(
        "SharingAgreementsInvalidReceiptPeriod",
        periodStart=start,
        periodEnd=end,
        effectiveFrom=ef,
        validUntil=vu,
    ) as info:
        c.transact(SA, "recordAccess", aid, LOG_ROOT, 1, start, end, sender=c.ops["B"])
    assert set(info.value.error_args) == {"periodStart", "periodEnd", "effectiveFrom", "validUntil"}
    assert c.call(SA, "accessReceiptCount", aid) == 0


# ------------------------------------------------------------------- backdating (issue 12, 5)

YEAR = 365 * DAY


def test_a_backdated_agreement_receipts_nothing_before_its_acceptance(
    consortium: Consortium,
) -> None:
    """Issue 12 (5): an agreement valid from 2020 accepted in 2026 let the consumer record
    receipts for 2021. The terms stay as signed (the id derives from them), and the effective
    start is clamped to the acceptance."""
    c = consortium
    now = c.now()
    terms, aid = active(c, valid_from=now - 6 * YEAR, valid_until=now + YEAR)
    stored = agreement(c, aid)
    accepted_at = stored["acceptedAt"]
    assert stored["terms"][6] == terms.valid_from  # validFrom as signed
    assert c.call(SA, "effectiveFrom", aid) == accepted_at
    a_year_in = terms.valid_from + YEAR  # "2021"
    with reverts(
        "SharingAgreementsInvalidReceiptPeriod",
        periodStart=a_year_in,
        periodEnd=a_year_in + DAY,
        effectiveFrom=accepted_at,
        validUntil=terms.valid_until,
    ):
        c.transact(
            SA, "recordAccess", aid, LOG_ROOT, 1, a_year_in, a_year_in + DAY, sender=c.ops["B"]
        )
    # A period that merely starts a second before the acceptance is refused as well.
    with reverts("SharingAgreementsInvalidReceiptPeriod", effectiveFrom=accepted_at):
        c.transact(
            SA, "recordAccess", aid, LOG_ROOT, 1, accepted_at - 1, c.now(), sender=c.ops["B"]
        )
    tx = c.transact(SA, "recordAccess", aid, LOG_ROOT, 1, accepted_at, c.now(), sender=c.ops["B"])
    assert tx.event("AccessRecorded")["periodStart"] == accepted_at
    # Authorized from the acceptance on, never before it.
    assert authorizing(c, terms) == aid


def test_effective_from_matches_its_python_twin(consortium: Consortium) -> None:
    c = consortium
    now = c.now()
    ds = register(c, "A", "DS-1")
    cases = {
        "backdated": make_terms(c, ds, valid_from=now - YEAR, valid_until=now + YEAR),
        "future": make_terms(
            c, ds, purpose=OTHER_PURPOSE, valid_from=now + DAY, valid_until=now + YEAR
        ),
        "never-accepted": make_terms(
            c, ds, purpose=code_hash("P-3"), valid_from=now - DAY, valid_until=now + YEAR
        ),
    }
    for name, terms in cases.items():
        aid = propose(c, terms)
        if name != "never-accepted":
            accept(c, aid)
        stored = agreement(c, aid)
        twin = effective_from(terms.valid_from, stored["acceptedAt"])
        assert c.call(SA, "effectiveFrom", aid) == (twin or 0), name
    assert effective_from(now - YEAR, now) == now
    with reverts("SharingAgreementsUnknownAgreement", agreementId=ZERO32):
        c.call(SA, "effectiveFrom", ZERO32)

"""Agreements, commitments and membership roles: proposals, nominations, consent by
transaction or relayed EIP-712 signature, over the contracts. Thin: the contracts hold the
rules.

An account becomes an operator only with its own consent: a department nominates it
(:func:`nominate_operator`), and the account accepts (``AcceptOperator``); the account an
admission or auditor grant names accepts the role it offers (``AcceptRole``, the proposal id
as the 32-byte subject: :func:`proposal_subject`)."""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from eth_account.signers.local import LocalAccount
from eth_utils import is_hex_address, to_checksum_address

from .chain.client import ChainClient, SentTransaction
from .chain.reads import read_agreement
from .eip712 import CONSENT_TYPES, ConsentMessage, sign_consent
from .errors import ContractRevertError, InputError
from .hashing import loads_strict, sha256_file
from .ids import AgreementTerms, CommitmentProposal
from .refs import parse_hash

__all__ = [
    "Consent",
    "ConsentKind",
    "accept_agreement",
    "accept_nomination",
    "accept_role",
    "amend_agreement",
    "amended_terms",
    "consent_or_relay",
    "document_hash",
    "expect_consent",
    "make_consent",
    "nominate_operator",
    "parse_consent",
    "proposal_subject",
    "propose_agreement",
    "propose_commitment",
    "read_consent",
    "relay_consent",
    "sign_commitment",
    "withdraw_nomination",
]

ConsentKind = Literal["AcceptAgreement", "SignCommitment", "AcceptOperator", "AcceptRole"]
_CONTRACT = {kind: spec.contract for kind, spec in CONSENT_TYPES.items()}
#: The function that relays each kind of signed consent.
_BY_SIG = {
    "AcceptAgreement": "acceptBySig",
    "SignCommitment": "signBySig",
    "AcceptOperator": "acceptNominationBySig",
    "AcceptRole": "acceptRoleBySig",
}


def document_hash(reference: str) -> bytes:
    """SHA-256 of a document file, or a 0x SHA-256 given directly."""
    path = Path(reference)
    if path.is_file():
        return sha256_file(path)
    if reference.strip().startswith("0x"):
        return parse_hash(reference, what="document hash")
    raise InputError(f"{reference} is neither a document file nor a 0x SHA-256.")


# --------------------------------------------------------------------------- agreements


def propose_agreement(
    client: ChainClient, signer: LocalAccount, terms: AgreementTerms
) -> tuple[bytes, SentTransaction]:
    """Propose ``terms``; returns the agreement id and the transaction."""
    tx = client.transact("SharingAgreements", "propose", terms.as_tuple(), sender=signer)
    return bytes(tx.event("AgreementProposed")["agreementId"]), tx


def amend_agreement(
    client: ChainClient, signer: LocalAccount, agreement_id: bytes, terms: AgreementTerms
) -> tuple[bytes, SentTransaction]:
    """Propose new terms for an active agreement (same provider and consumer); once the
    counterparty accepts them they supersede it. Returns the amendment's id."""
    tx = client.transact(
        "SharingAgreements", "amend", agreement_id, terms.as_tuple(), sender=signer
    )
    return bytes(tx.event("AgreementProposed")["agreementId"]), tx


def amended_terms(current: AgreementTerms, **changes: Any) -> AgreementTerms:
    """An agreement's terms ``current`` with ``changes`` (fields of :class:`AgreementTerms`
    other than the parties, :func:`ledger.proposals.amendment`) in their place."""
    for party in ("provider", "consumer"):
        if party in changes:
            raise InputError(f"an amendment keeps the agreement's {party}.")
    return dataclasses.replace(current, **changes)


def accept_agreement(
    client: ChainClient, signer: LocalAccount, agreement_id: bytes
) -> SentTransaction:
    """Accept a proposed agreement with this gateway's key."""
    return client.transact("SharingAgreements", "accept", agreement_id, sender=signer)


def sign_commitment(
    client: ChainClient, signer: LocalAccount, commitment_id: bytes
) -> SentTransaction:
    """Sign a proposed commitment with this gateway's key."""
    return client.transact("JointCommitments", "sign", commitment_id, sender=signer)


def propose_commitment(
    client: ChainClient, signer: LocalAccount, proposal: CommitmentProposal
) -> tuple[bytes, SentTransaction]:
    """Propose a commitment led by the signer's department; returns its id and the
    transaction."""
    tx = client.transact(
        "JointCommitments",
        "propose",
        proposal.matter_ref,
        list(proposal.participants),
        list(proposal.duty_hashes),
        proposal.deadline,
        sender=signer,
    )
    return bytes(tx.event("CommitmentProposed")["commitmentId"]), tx


# --------------------------------------------------------------------------- membership roles


def proposal_subject(proposal_id: int) -> bytes:
    """A membership proposal's id as the 32-byte subject of an ``AcceptRole`` consent."""
    if not 0 <= proposal_id < 2**256:
        raise InputError(f"{proposal_id} is not a proposal id.")
    return proposal_id.to_bytes(32, "big")


def nominate_operator(client: ChainClient, signer: LocalAccount, account: str) -> SentTransaction:
    """Nominate ``account`` as an operator of the signer's department (it must accept)."""
    return client.transact("DepartmentRegistry", "nominateOperator", account, sender=signer)


def withdraw_nomination(client: ChainClient, signer: LocalAccount, account: str) -> SentTransaction:
    """Withdraw the signer's department's pending nomination of ``account``."""
    return client.transact("DepartmentRegistry", "withdrawNomination", account, sender=signer)


def accept_nomination(
    client: ChainClient, signer: LocalAccount, department_id: bytes
) -> SentTransaction:
    """Accept, as the nominated account, ``department_id``'s nomination as operator."""
    return client.transact("DepartmentRegistry", "acceptNomination", department_id, sender=signer)


def accept_role(client: ChainClient, signer: LocalAccount, subject: bytes) -> SentTransaction:
    """Accept, as the account a proposal names, the role it offers (``subject``: the
    proposal id as :func:`proposal_subject` gives it)."""
    return client.transact(
        "DepartmentRegistry", "acceptRole", int.from_bytes(subject, "big"), sender=signer
    )


# --------------------------------------------------------------------------- relayed consent


@dataclass(frozen=True)
class Consent:
    """A department's EIP-712 consent, to be relayed by any gateway."""

    kind: ConsentKind
    subject_id: bytes
    signer: str
    nonce: int
    deadline: int
    chain_id: int
    contract: str
    signature: bytes

    def as_dict(self) -> dict[str, Any]:
        return {
            "format": "xietong-consent/1",
            "kind": self.kind,
            "subject_id": "0x" + self.subject_id.hex(),
            "signer": self.signer,
            "nonce": self.nonce,
            "deadline": self.deadline,
            "chain_id": self.chain_id,
            "contract": self.contract,
            "signature": "0x" + self.signature.hex(),
        }


def make_consent(
    client: ChainClient,
    signer: LocalAccount,
    kind: ConsentKind,
    subject_id: bytes,
    *,
    valid_for: int = 3600,
) -> Consent:
    """Sign consent to ``subject_id`` with the signer's next nonce, valid for ``valid_for`` seconds."""
    contract = _CONTRACT[kind]
    if len(subject_id) != 32:
        raise InputError("the subject of a consent is 32 bytes.")
    nonce = int(client.call(contract, "nonces", signer.address))
    deadline = int(time.time()) + valid_for
    message = ConsentMessage(
        kind=kind,
        subject_id=subject_id,
        signer=signer.address,
        nonce=nonce,
        deadline=deadline,
        chain_id=client.chain_id,
        contract=client.address(contract),
    )
    return Consent(
        kind,
        subject_id,
        signer.address,
        nonce,
        deadline,
        client.chain_id,
        client.address(contract),
        sign_consent(message, signer.key),
    )


def read_consent(path: Path) -> Consent:
    """Load a consent file; InputError when it is malformed."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read {path} ({exc.strerror}).") from None
    except UnicodeDecodeError:
        raise InputError(f"{path} is not a JSON consent file (not UTF-8).") from None
    data = loads_strict(
        text,
        max_depth=8,
        error=lambda reason: InputError(f"{path} is not a JSON consent file ({reason})."),
    )
    return parse_consent(data, source=str(path))


def parse_consent(data: Any, *, source: str = "the consent") -> Consent:
    """A consent from its JSON form (``xietong-consent/1``); InputError when it is malformed."""
    if not isinstance(data, dict) or data.get("format") != "xietong-consent/1":
        raise InputError(f"{source} is not a xietong-consent/1 document.")
    try:
        kind = data["kind"]
        if kind not in _CONTRACT:
            raise InputError(f"{source}: unknown consent kind {str(kind)[:40]!r}.")
        if not is_hex_address(data["signer"]) or not is_hex_address(data["contract"]):
            raise InputError(f"{source}: signer and contract must be addresses.")
        signature = bytes.fromhex(str(data["signature"]).removeprefix("0x"))
        return Consent(
            kind=kind,
            subject_id=parse_hash(str(data["subject_id"]), what="subject id"),
            signer=to_checksum_address(data["signer"]),
            nonce=_uint256(data["nonce"]),
            deadline=_uint256(data["deadline"]),
            chain_id=_uint256(data["chain_id"]),
            contract=to_checksum_address(data["contract"]),
            signature=signature,
        )
    except (KeyError, ValueError, TypeError):
        raise InputError(f"{source} is missing a field or has a malformed one.") from None


def _uint256(value: Any) -> int:
    """A JSON integer that fits a uint256 (ValueError otherwise: no bool, float or text)."""
    if type(value) is not int or not 0 <= value < 2**256:
        raise ValueError("not a uint256")
    return value


def expect_consent(consent: Consent, kind: ConsentKind, subject_id: bytes, *, source: str) -> None:
    """InputError unless ``consent`` is a ``kind`` consent for ``subject_id``."""
    if consent.kind != kind or consent.subject_id != subject_id:
        raise InputError(f"{source} is not a {kind} consent for 0x{subject_id.hex()}.")


def relay_consent(client: ChainClient, relayer: LocalAccount, consent: Consent) -> SentTransaction:
    """Submit another department's consent; the contract checks the signature."""
    contract = _CONTRACT[consent.kind]
    if (
        consent.chain_id != client.chain_id
        or consent.contract.lower() != client.address(contract).lower()
    ):
        raise InputError(
            f"the consent was signed for {consent.contract} on chain {consent.chain_id}, "
            f"not {client.address(contract)} on chain {client.chain_id}."
        )
    subject: bytes | int = consent.subject_id
    if CONSENT_TYPES[consent.kind].subject_type == "uint256":
        subject = int.from_bytes(consent.subject_id, "big")
    return client.transact(
        contract,
        _BY_SIG[consent.kind],
        subject,
        consent.signer,
        consent.nonce,
        consent.deadline,
        consent.signature,
        sender=relayer,
    )


_DIRECT = {
    "AcceptAgreement": accept_agreement,
    "SignCommitment": sign_commitment,
    "AcceptOperator": accept_nomination,
    "AcceptRole": accept_role,
}


def consent_or_relay(
    client: ChainClient,
    signer: LocalAccount,
    kind: ConsentKind,
    subject_id: bytes,
    *,
    consent: Consent | None,
    source: str = "the consent",
) -> SentTransaction:
    """Consent to ``subject_id`` (accept the agreement, sign the commitment, accept the
    nomination or the role: ``kind``).

    Without ``consent``, by a transaction from ``signer``, this gateway's department. With it,
    by relaying another department's signed consent (the transaction from ``signer``), once
    it is checked to be a ``kind`` consent for ``subject_id`` (InputError naming ``source``
    otherwise).
    """
    if consent is None:
        return _DIRECT[kind](client, signer, subject_id)
    expect_consent(consent, kind, subject_id, source=source)
    try:
        return relay_consent(client, signer, consent)
    except ContractRevertError as exc:
        if exc.error_name != "InvalidAccountNonce":
            raise
        raise _spent(client, consent, exc) from None


def _spent(
    client: ChainClient, consent: Consent, error: ContractRevertError
) -> ContractRevertError:
    """The contract's refusal of a consent's nonce, said as what happened: a nonce ahead of the
    signer's next one (a consent of theirs made earlier was never relayed); for an agreement
    no longer waiting for acceptance, that it is already accepted (active) or closed; else
    that the nonce is spent (the consent used, or a newer one made)."""
    current = error.error_args.get("currentNonce")
    if isinstance(current, int) and consent.nonce > current:
        said = (
            f"this consent has nonce {consent.nonce}, but {consent.signer}'s next is {current}: "
            "a consent they made before it was never relayed; relay that one first, or ask "
            "for a new one."
        )
        return ContractRevertError(said, error_name=error.error_name, args=error.error_args)
    said = (
        f"this consent was already used, or its signer has signed another since (nonce "
        f"{consent.nonce} is spent): ask {consent.signer} for a new one."
    )
    if consent.kind == "AcceptAgreement":
        try:
            record = read_agreement(client, consent.subject_id)
        except ContractRevertError:
            record = None
        if record is not None and record.status.label != "proposed":
            said = (
                f"agreement 0x{consent.subject_id.hex()} is already {record.status.label}: "
                "nothing is left to accept (this consent, or another of its signer's, was "
                "relayed before)."
            )
    return ContractRevertError(said, error_name=error.error_name, args=error.error_args)

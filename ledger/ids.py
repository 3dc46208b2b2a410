"""Ids derived from codes and terms: the Python twins of the contracts' derivations.

Pure functions, no I/O. Each on-chain derivation (``computeDatasetId``, ``computeVersionId``,
``computeErasureId``, ``computeAgreementId``, ``computeCommitmentId``) has its twin here, tested against ``eth_call``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from eth_abi import encode
from eth_utils import keccak, to_checksum_address

from .errors import InputError

__all__ = [
    "AgreementTerms",
    "CommitmentProposal",
    "EmptyCodeError",
    "agreement_id",
    "code_hash",
    "commitment_id",
    "dataset_id",
    "department_id",
    "erasure_id",
    "version_id",
]


class EmptyCodeError(InputError, ValueError):
    """A code (or reason, purpose, evidence reference) is empty."""

    kind = "bad-input"


def code_hash(code: str) -> bytes:
    """The on-chain form of a code or short text (department and dataset codes, purposes,
    legal bases, reasons, evidence references): keccak256 of its UTF-8 bytes, trimmed."""
    text = code.strip()
    if not text:
        raise EmptyCodeError("a code, reason or reference must not be empty.")
    try:
        return keccak(text.encode("utf-8"))
    except UnicodeEncodeError:
        raise InputError(
            "a code, reason or reference is not valid Unicode text (it holds a lone surrogate)."
        ) from None


def department_id(code: str) -> bytes:
    """A department's id: keccak256 of its stable code (e.g. a unified social credit code)."""
    return code_hash(code)


def dataset_id(owner: bytes, code: str) -> bytes:
    """Twin of ``DatasetRegistry.computeDatasetId(owner, code_hash(code))``: the id of the
    dataset of catalogue code ``code`` owned by department ``owner`` (so that no department
    can register another's code)."""
    return _pair_id(owner, code_hash(code), names=("an owner department id", "a code hash"))


def version_id(dataset: bytes, root: bytes) -> bytes:
    """Twin of ``DatasetRegistry.computeVersionId(dataset, root)``: a version is keyed by its
    dataset and root (two departments anchoring the same content hold two versions)."""
    return _pair_id(dataset, root, names=("a dataset id", "a root"))


def erasure_id(dataset: bytes, root: bytes, erased_root: bytes) -> bytes:
    """Twin of ``DatasetRegistry.computeErasureId(dataset, root, erased_root)``: an erasure is
    keyed by its version and the Merkle root of the leaves it erased."""
    return _pair_id(
        version_id(dataset, root), erased_root, names=("a version id", "an erased root")
    )


def _pair_id(first: bytes, second: bytes, *, names: tuple[str, str]) -> bytes:
    """keccak256(abi.encode(bytes32 first, bytes32 second)): two words, side by side (the
    indexer derives one per anchor event, so without eth_abi's encoder)."""
    for value, name in zip((first, second), names, strict=True):
        if not isinstance(value, bytes) or len(value) != 32:
            raise InputError(f"{name} is 32 bytes, not {len(value)}.")
    return keccak(first + second)


@dataclass(frozen=True)
class AgreementTerms:
    """The terms of a sharing agreement, as ``ISharingAgreements.AgreementTerms``."""

    provider: bytes
    consumer: bytes
    dataset_ids: tuple[bytes, ...]
    purpose: bytes
    legal_basis: bytes
    terms_hash: bytes
    valid_from: int
    valid_until: int

    def as_tuple(self) -> tuple[object, ...]:
        """The ABI tuple (for web3 calls and encoding)."""
        return (
            self.provider,
            self.consumer,
            list(self.dataset_ids),
            self.purpose,
            self.legal_basis,
            self.terms_hash,
            self.valid_from,
            self.valid_until,
        )


@dataclass(frozen=True)
class CommitmentProposal:
    """The arguments of ``JointCommitments.propose``: the matter, each participant with its
    duty hash (same order), and the deadline."""

    matter_ref: bytes
    participants: tuple[bytes, ...]
    duty_hashes: tuple[bytes, ...]
    deadline: int


_TERMS_TYPE = "(bytes32,bytes32,bytes32[],bytes32,bytes32,bytes32,uint64,uint64)"


def agreement_id(terms: AgreementTerms, *, sequence: int, chain_id: int, contract: str) -> bytes:
    """Twin of ``SharingAgreements.computeAgreementId(terms, sequence)``."""
    terms_digest = keccak(encode([_TERMS_TYPE], [terms.as_tuple()]))
    return keccak(
        encode(
            ["uint256", "address", "uint256", "bytes32"],
            [chain_id, to_checksum_address(contract), sequence, terms_digest],
        )
    )


def commitment_id(
    *,
    lead: bytes,
    matter_ref: bytes,
    participants: Sequence[bytes],
    duty_hashes: Sequence[bytes],
    deadline: int,
    sequence: int,
    chain_id: int,
    contract: str,
) -> bytes:
    """Twin of ``JointCommitments.computeCommitmentId(...)``."""
    return keccak(
        encode(
            ["uint256", "address", "uint256", "bytes32", "bytes32", "bytes32", "bytes32", "uint64"],
            [
                chain_id,
                to_checksum_address(contract),
                sequence,
                lead,
                matter_ref,
                keccak(encode(["bytes32[]"], [list(participants)])),
                keccak(encode(["bytes32[]"], [list(duty_hashes)])),
                deadline,
            ],
        )
    )

"""What a department proposes, from the text people type: the terms of a sharing agreement
and a joint-handling commitment, as the CLI's options and the API's JSON give them.

Codes or 0x ids for departments and datasets, free text for purposes, legal bases, duties and
matter references (only their hashes go on chain), ISO 8601 dates. Each value is checked in
the order of the arguments; the first bad one is an :class:`~ledger.errors.InputError` naming
it. Pure but for reading a terms document given as a file.
"""

from __future__ import annotations

from collections.abc import Sequence

from . import refs
from .consent import document_hash
from .errors import InputError
from .ids import AgreementTerms, CommitmentProposal, code_hash

__all__ = ["CommitmentProposal", "agreement_terms", "amendment", "commitment_proposal"]


def agreement_terms(
    *,
    provider: str,
    consumer: str,
    datasets: Sequence[str],
    purpose: str,
    legal_basis: str,
    terms_hash: str | None = None,
    terms_document: str | None = None,
    valid_from: str,
    valid_until: str,
) -> AgreementTerms:
    """The terms of an agreement.

    Args:
        provider: Provider department (code or 0x id).
        consumer: Consumer department (code or 0x id).
        datasets: Datasets (0x ids, or catalogue codes of the provider's datasets).
        purpose: Purpose code, e.g. ``eligibility-check``.
        legal_basis: Legal basis (code or citation).
        terms_hash: SHA-256 of the terms document (64 hex digits, 0x optional).
        terms_document: Or the terms document itself: a file to hash, or its 0x SHA-256.
            Exactly one of ``terms_hash`` and ``terms_document``.
        valid_from: ISO 8601 date or date-time.
        valid_until: ISO 8601 date or date-time (exclusive).
    """
    if (terms_hash is None) == (terms_document is None):
        raise TypeError("give exactly one of terms_hash and terms_document")
    provider_id = refs.id_or_code(provider, what="provider")
    return AgreementTerms(
        provider=provider_id,
        consumer=refs.id_or_code(consumer, what="consumer"),
        dataset_ids=tuple(refs.dataset(d, owner=provider_id) for d in datasets),
        purpose=refs.agreed_code(purpose, what="purpose"),
        legal_basis=code_hash(legal_basis),
        terms_hash=refs.parse_hash(terms_hash, what="terms hash")
        if terms_hash is not None
        else document_hash(str(terms_document)),
        valid_from=refs.timestamp(valid_from, what="start"),
        valid_until=refs.timestamp(valid_until, what="end"),
    )


def amendment(
    *,
    provider: bytes,
    datasets: Sequence[str] | None = None,
    purpose: str | None = None,
    legal_basis: str | None = None,
    terms_hash: str | None = None,
    terms_document: str | None = None,
    valid_from: str | None = None,
    valid_until: str | None = None,
) -> dict[str, object]:
    """What an amendment changes in an agreement's terms (fields of
    :class:`~ledger.ids.AgreementTerms`), from what people type as for :func:`agreement_terms`;
    ``provider`` is the agreement's (its datasets' codes are the provider's). At least one
    change; the parties never change."""
    if terms_hash is not None and terms_document is not None:
        raise TypeError("give at most one of terms_hash and terms_document")
    changes: dict[str, object] = {}
    if datasets:
        changes["dataset_ids"] = tuple(refs.dataset(d, owner=provider) for d in datasets)
    if purpose is not None:
        changes["purpose"] = refs.agreed_code(purpose, what="purpose")
    if legal_basis is not None:
        changes["legal_basis"] = code_hash(legal_basis)
    if terms_hash is not None:
        changes["terms_hash"] = refs.parse_hash(terms_hash, what="terms hash")
    if terms_document is not None:
        changes["terms_hash"] = document_hash(terms_document)
    if valid_from is not None:
        changes["valid_from"] = refs.timestamp(valid_from, what="start")
    if valid_until is not None:
        changes["valid_until"] = refs.timestamp(valid_until, what="end")
    if not changes:
        raise InputError(
            "an amendment changes something: datasets, purpose, legal basis, terms or validity."
        )
    return changes


def commitment_proposal(
    *, matter: str, participants: Sequence[tuple[str, str]], deadline: str
) -> CommitmentProposal:
    """A commitment proposal.

    Args:
        matter: Matter reference (only its hash goes on chain).
        participants: (department code or 0x id, duty text) pairs, the lead included.
        deadline: ISO 8601 date or date-time.
    """
    departments: list[bytes] = []
    duties: list[bytes] = []
    for department, duty in participants:
        departments.append(refs.id_or_code(department, what="department"))
        duties.append(code_hash(duty))
    return CommitmentProposal(
        matter_ref=code_hash(matter),
        participants=tuple(departments),
        duty_hashes=tuple(duties),
        deadline=refs.timestamp(deadline, what="deadline"),
    )

"""Statuses as Xietong shows them: the chain's status, plus what follows from the time.

The contracts keep expiry and lateness out of their status enums (an active agreement past
``validUntil`` simply authorizes nothing; an open commitment past its deadline is
``isOverdue``). The index (:mod:`ledger.db.queries`), the API and the CLI all show them as
statuses with these rules. Pure: no I/O.

An agreement cannot be backdated: it authorizes (and takes access receipts) only from its
effective start, the later of the signed ``validFrom`` and its acceptance
(:func:`effective_from`, the twin of ``SharingAgreements.effectiveFrom``).
"""

from __future__ import annotations

__all__ = ["agreement_status", "commitment_status", "effective_from"]


def effective_from(valid_from: int, accepted_at: int | None) -> int | None:
    """When an agreement starts to authorize: the later of ``valid_from`` and its acceptance
    (``accepted_at``, Unix seconds); None for an agreement never accepted (the chain's
    ``effectiveFrom`` answers 0 then)."""
    if not accepted_at:
        return None
    return max(valid_from, accepted_at)


def agreement_status(
    status: str, *, valid_from: int, valid_until: int, now: int, accepted_at: int | None = None
) -> str:
    """The chain's ``status`` (a label of :class:`~ledger.chain.enums.AgreementStatus`), with
    ``pending`` for an accepted agreement before its effective start (``valid_from``, or the
    acceptance ``accepted_at`` when that came later: :func:`effective_from`) and ``expired``
    from ``valid_until`` (exclusive) on; ``now`` in Unix seconds."""
    if status == "active":
        if now >= valid_until:
            return "expired"
        if now < (effective_from(valid_from, accepted_at) or valid_from):
            return "pending"
    return status


def commitment_status(status: str, *, deadline: int, now: int) -> str:
    """The chain's ``status`` (a label of :class:`~ledger.chain.enums.CommitmentStatus`), with
    ``overdue`` for a commitment not closed by its ``deadline``; ``now`` in Unix seconds."""
    if status in ("proposed", "active") and now > deadline:
        return "overdue"
    return status

"""Statuses as Xietong shows them: the chain's status, plus what follows from the time.

The contracts keep expiry and lateness out of their status enums (an active agreement past
``validUntil`` simply authorizes nothing; an open commitment past its deadline is
``isOverdue``). The index (:mod:`ledger.db.queries`), the API and the CLI all show them as
statuses with these rules. Pure: no I/O.
"""

from __future__ import annotations

__all__ = ["agreement_status", "commitment_status"]


def agreement_status(status: str, *, valid_from: int, valid_until: int, now: int) -> str:
    """The chain's ``status`` (a label of :class:`~ledger.chain.enums.AgreementStatus`), with
    ``pending`` for an accepted agreement before ``valid_from`` and ``expired`` from
    ``valid_until`` (exclusive) on; ``now`` in Unix seconds."""
    if status == "active":
        if now >= valid_until:
            return "expired"
        if now < valid_from:
            return "pending"
    return status


def commitment_status(status: str, *, deadline: int, now: int) -> str:
    """The chain's ``status`` (a label of :class:`~ledger.chain.enums.CommitmentStatus`), with
    ``overdue`` for a commitment not closed by its ``deadline``; ``now`` in Unix seconds."""
    if status in ("proposed", "active") and now > deadline:
        return "overdue"
    return status

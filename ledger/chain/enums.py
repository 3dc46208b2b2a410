"""The contracts' enums, once: each Solidity ``enum`` of ``contracts/interfaces`` as an IntEnum.

Members are in on-chain order (their value is what the chain stores and emits) and named as
in Solidity, in upper snake case (``GrantAuditor`` is ``GRANT_AUDITOR``). Each member's
:attr:`~ChainEnum.label` is the word Xietong shows for it (the CLI, the index, error
messages): lower case, words joined by ``-``, and ``unknown`` for Solidity's ``None`` (an id
the contract does not know). Pure: no I/O. ``tests/ledger/chain/test_enums.py`` checks every
enum here against its Solidity declaration.
"""

from __future__ import annotations

from enum import IntEnum

__all__ = [
    "SOLIDITY_ENUMS",
    "AgreementStatus",
    "ChainEnum",
    "CommitmentStatus",
    "DepartmentStatus",
    "ProposalKind",
    "ProposalStatus",
    "label_of",
]


class ChainEnum(IntEnum):
    """An enum of the contracts: values in on-chain order, with the label Xietong shows."""

    @property
    def label(self) -> str:
        """The member as Xietong shows it: ``unknown`` for ``NONE``, else e.g. ``grant-auditor``."""
        return "unknown" if self.name == "NONE" else self.name.lower().replace("_", "-")

    @classmethod
    def labels(cls) -> tuple[str, ...]:
        """Every member's label, in on-chain order (index = on-chain value)."""
        return tuple(member.label for member in cls)


class DepartmentStatus(ChainEnum):
    """``IDepartmentRegistry.DepartmentStatus``."""

    NONE = 0
    ACTIVE = 1
    SUSPENDED = 2


class ProposalKind(ChainEnum):
    """``IDepartmentRegistry.ProposalKind``: what an executed membership proposal does."""

    ADMIT = 0
    SUSPEND = 1
    READMIT = 2
    GRANT_AUDITOR = 3
    REVOKE_AUDITOR = 4


class ProposalStatus(ChainEnum):
    """``IDepartmentRegistry.ProposalStatus``."""

    NONE = 0
    OPEN = 1
    EXECUTED = 2


class AgreementStatus(ChainEnum):
    """``ISharingAgreements.AgreementStatus`` (expiry is not a status on chain)."""

    NONE = 0
    PROPOSED = 1
    ACTIVE = 2
    REJECTED = 3
    WITHDRAWN = 4
    REVOKED = 5
    SUPERSEDED = 6


class CommitmentStatus(ChainEnum):
    """``IJointCommitments.CommitmentStatus`` (overdue is not a status on chain)."""

    NONE = 0
    PROPOSED = 1
    ACTIVE = 2
    COMPLETED = 3
    CANCELLED = 4


#: Every enum above by its Solidity name (as an ABI's ``internalType`` names it).
SOLIDITY_ENUMS: dict[str, type[ChainEnum]] = {
    enum.__name__: enum
    for enum in (DepartmentStatus, ProposalKind, ProposalStatus, AgreementStatus, CommitmentStatus)
}


def label_of(enum: type[ChainEnum], value: int) -> str:
    """The label of on-chain ``value`` of ``enum``; the number itself when ``enum`` has no
    such member (data from the chain is untrusted input)."""
    try:
        return enum(value).label
    except ValueError:
        return str(value)

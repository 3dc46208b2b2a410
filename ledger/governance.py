"""Membership governance of the consortium, as ``DepartmentRegistry`` runs it: a department
proposes to admit, suspend or readmit a department, or to grant or revoke the auditor role;
departments approve; a proposal executes once the approvals of active departments reach the
threshold (and, for an admission or an auditor grant, once the named account accepted the
role: ``xietong dept accept-role``). Anyone active may execute a proposal that already has
enough approvals (after the electorate shrank).

What is proposed is checked here first (codes, names, accounts), so a mistake is one sentence
before anything is signed; what only the chain knows (who may propose, whether the department
is active, whether the threshold is met) is its custom error, as every revert is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_utils import is_checksum_address, is_hex_address, to_checksum_address

from . import refs
from .chain.client import ChainClient, SentTransaction
from .chain.enums import ProposalKind
from .display import text_flags
from .errors import InputError
from .ids import department_id

__all__ = [
    "MAX_NAME_BYTES",
    "MembershipProposal",
    "account_address",
    "approve_proposal",
    "execute_proposal",
    "membership_proposal",
    "proposal_outcome",
    "propose_membership",
]

ZERO_ID = bytes(32)
ZERO_ACCOUNT = "0x" + "00" * 20
#: The registry's limit on a department's name (``maxNameLength``).
MAX_NAME_BYTES = 256


@dataclass(frozen=True)
class MembershipProposal:
    """The arguments of ``DepartmentRegistry.propose``."""

    kind: ProposalKind
    department_id: bytes = ZERO_ID
    name: str = ""
    account: str = ZERO_ACCOUNT

    def as_args(self) -> tuple[int, bytes, str, str]:
        return (int(self.kind), self.department_id, self.name, self.account)


def account_address(text: str) -> str:
    """A checksummed account address; an InputError otherwise (never echoing more than 42
    characters)."""
    value = text.strip()
    if not is_hex_address(value):
        raise InputError(f"{value[:42]!r} is not an account address (0x and 40 hex digits).")
    if value != value.lower() and value[2:] != value[2:].upper() and not is_checksum_address(value):
        raise InputError(f"{value} has a wrong checksum (mixed case that does not match).")
    return str(to_checksum_address(value))


def membership_proposal(
    kind: str,
    *,
    department: str | None = None,
    name: str | None = None,
    account: str | None = None,
) -> MembershipProposal:
    """The proposal ``kind`` (``admit``, ``suspend``, ``readmit``, ``grant-auditor``,
    ``revoke-auditor``) from what people type: an admission takes the new department's code,
    its name and its first operator; a suspension or readmission a department (code or 0x
    id); an auditor grant or revocation an account. Anything else given is refused."""
    kinds = {k.label: k for k in ProposalKind}
    if kind not in kinds:
        raise InputError(f"a proposal is one of {', '.join(kinds)}, not {kind!r}.")
    chosen = kinds[kind]
    given = {"department": department, "name": name, "account": account}
    wanted = {
        ProposalKind.ADMIT: ("department", "name", "account"),
        ProposalKind.SUSPEND: ("department",),
        ProposalKind.READMIT: ("department",),
        ProposalKind.GRANT_AUDITOR: ("account",),
        ProposalKind.REVOKE_AUDITOR: ("account",),
    }[chosen]
    for field, value in given.items():
        if field in wanted and (value is None or not value.strip()):
            raise InputError(f"a proposal to {kind} needs the {_FIELD_WORDS[field]}.")
        if field not in wanted and value is not None:
            raise InputError(f"a proposal to {kind} takes no {_FIELD_WORDS[field]}.")
    if chosen is ProposalKind.ADMIT:
        assert department is not None
        assert name is not None
        assert account is not None
        if department.strip().lower().startswith("0x"):
            raise InputError(
                "a department is admitted by its stable code (its id derives from it), not by a 0x id."
            )
        clean = name.strip()
        try:
            size = len(clean.encode("utf-8"))
        except UnicodeEncodeError:
            raise InputError(
                "a department's name is not valid Unicode (it holds a lone surrogate)."
            ) from None
        if size > MAX_NAME_BYTES:
            raise InputError(f"a department's name holds at most {MAX_NAME_BYTES} bytes of UTF-8.")
        flags = set(text_flags(clean)) - {"confusable"}
        if flags:
            raise InputError(
                f"the name {clean!r} holds characters a name may not ({', '.join(sorted(flags))})."
            )
        return MembershipProposal(
            chosen,
            department_id=department_id(department),
            name=clean,
            account=account_address(account),
        )
    if chosen in (ProposalKind.SUSPEND, ProposalKind.READMIT):
        assert department is not None
        return MembershipProposal(
            chosen, department_id=refs.id_or_code(department, what="department")
        )
    assert account is not None
    return MembershipProposal(chosen, account=account_address(account))


_FIELD_WORDS = {
    "department": "department (its code)",
    "name": "department's name",
    "account": "account",
}


def proposal_outcome(proposal_id: int, kind: str | None, tx: SentTransaction) -> dict[str, Any]:
    """What a proposal, an approval or an execution did, as the CLI and the API answer it:
    the approvals after it (when it approved) and whether the proposal executed."""
    approved = [args for name, args in tx.events if name == "ProposalApproved"]
    return {
        "proposal_id": proposal_id,
        "kind": kind,
        "approvals": approved[-1]["approvals"] if approved else None,
        "executed": any(name == "ProposalExecuted" for name, _ in tx.events),
        "transaction": tx.tx_hash,
        "block_number": tx.block_number,
    }


def propose_membership(
    client: ChainClient, signer: LocalAccount, proposal: MembershipProposal
) -> tuple[int, SentTransaction]:
    """Propose; the proposer's department approves it at once. Returns the proposal id."""
    tx = client.transact("DepartmentRegistry", "propose", *proposal.as_args(), sender=signer)
    return int(tx.event("ProposalCreated")["proposalId"]), tx


def approve_proposal(
    client: ChainClient, signer: LocalAccount, proposal_id: int
) -> SentTransaction:
    """Approve on behalf of the signer's department (executes it when that is enough)."""
    return client.transact("DepartmentRegistry", "approve", proposal_id, sender=signer)


def execute_proposal(
    client: ChainClient, signer: LocalAccount, proposal_id: int
) -> SentTransaction:
    """Execute a proposal whose approvals already meet the threshold."""
    return client.transact("DepartmentRegistry", "execute", proposal_id, sender=signer)

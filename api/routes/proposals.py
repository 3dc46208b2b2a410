"""``/v1/proposals``: the consortium's membership governance (ledger.governance): propose to
admit, suspend or readmit a department or to grant or revoke the auditor role; approve;
execute."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, Field

from ledger import governance
from ledger.db import queries

from ..deps import SessionDep, StateDep, require
from ..examples import ok, problems
from ..schemas import Proposal, ProposalList, ProposalTransaction
from ._params import Cursor, Limit, page

router = APIRouter(prefix="/v1/proposals", tags=["governance"])
Admin = [Depends(require("admin"))]
WRITE = {**ok("proposal_tx"), **problems(400, 403, 409, 503)}
ProposalId = Annotated[int, Path(ge=1, le=2**63 - 1, description="The proposal's id (1, 2, …).")]


class ProposeMembership(BaseModel):
    """A membership change. ``admit``: ``department`` (the new department's code), ``name``,
    ``account`` (its first operator, who accepts the role); ``suspend``/``readmit``:
    ``department`` (code or id); ``grant-auditor``/``revoke-auditor``: ``account``."""

    kind: Literal["admit", "suspend", "readmit", "grant-auditor", "revoke-auditor"]
    department: str | None = Field(default=None, max_length=256, examples=["11330100MB1A00009X"])
    name: str | None = Field(default=None, max_length=1024, examples=["杭州市医疗保障局"])
    account: str | None = Field(default=None, max_length=64, examples=["0x" + "11" * 20])


@router.get(
    "",
    summary="List membership proposals",
    response_model=ProposalList,
    dependencies=[Depends(require("read"))],
    responses={**ok("proposals"), **problems(400)},
)
def list_proposals(
    session: SessionDep,
    status: Annotated[Literal["open", "expired", "executed"] | None, Query()] = None,
    cursor: Cursor = None,
    limit: Limit = 100,
) -> dict[str, Any]:
    """From the index, by id."""
    return page(queries.list_proposals(session=session, status=status, cursor=cursor, limit=limit))


@router.get(
    "/{proposal}",
    summary="A membership proposal",
    response_model=Proposal,
    dependencies=[Depends(require("read"))],
    responses={**ok("proposal"), **problems(404)},
)
def get_proposal(session: SessionDep, proposal: ProposalId) -> dict[str, Any]:
    return queries.get_proposal(session=session, proposal_id=proposal)


@router.post(
    "",
    summary="Propose a membership change",
    response_model=ProposalTransaction,
    status_code=201,
    dependencies=Admin,
    responses={**ok("proposal_tx", status=201), **problems(400, 403, 409, 503)},
)
def propose(state: StateDep, body: ProposeMembership) -> dict[str, Any]:
    """On behalf of this gateway's department, which approves it at once."""
    proposal = governance.membership_proposal(
        body.kind, department=body.department, name=body.name, account=body.account
    )
    gw = state.gateway
    with state.write_lock:
        proposal_id, tx = governance.propose_membership(gw.client, gw.signer, proposal)
    return governance.proposal_outcome(proposal_id, body.kind, tx)


@router.post(
    "/{proposal}/approve",
    summary="Approve a proposal",
    response_model=ProposalTransaction,
    dependencies=Admin,
    responses=WRITE,
)
def approve(state: StateDep, proposal: ProposalId) -> dict[str, Any]:
    """On behalf of this gateway's department; executes it when that is enough."""
    gw = state.gateway
    with state.write_lock:
        tx = governance.approve_proposal(gw.client, gw.signer, proposal)
    return governance.proposal_outcome(proposal, None, tx)


@router.post(
    "/{proposal}/execute",
    summary="Execute a proposal",
    response_model=ProposalTransaction,
    dependencies=Admin,
    responses=WRITE,
)
def execute(state: StateDep, proposal: ProposalId) -> dict[str, Any]:
    """Any active department executes a proposal whose approvals already meet the threshold."""
    gw = state.gateway
    with state.write_lock:
        tx = governance.execute_proposal(gw.client, gw.signer, proposal)
    return governance.proposal_outcome(proposal, None, tx)

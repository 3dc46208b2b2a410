"""``/v1/commitments``: joint-handling commitments (联办承诺)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, Field

from ledger import refs
from ledger.consent import propose_commitment
from ledger.db import queries
from ledger.ids import code_hash
from ledger.proposals import commitment_proposal
from ledger.refs import parse_hash

from ..deps import SessionDep, StateDep, require
from ..examples import ok, problems
from ..schemas import Commitment, CommitmentList, CommitmentTransaction
from ._params import Cursor, DepartmentRef, Limit, page
from ._writes import ConsentBody, consent_or_relay, mined, transact

router = APIRouter(prefix="/v1/commitments", tags=["commitments"])
CommitmentId = Annotated[
    str, Path(description="Commitment id (0x and 64 hex digits).", examples=["0x" + "c0" * 32])
]
Admin = [Depends(require("admin"))]
WRITE = {**ok("commitment_tx"), **problems(400, 403, 409, 503)}


@router.get(
    "",
    summary="List commitments",
    response_model=CommitmentList,
    dependencies=[Depends(require("read"))],
    responses={**ok("commitments"), **problems(400)},
)
def list_commitments(
    session: SessionDep,
    department: DepartmentRef = None,
    status: Annotated[
        str | None, Query(description=f"One of {', '.join(queries.COMMITMENT_STATUSES)}.")
    ] = None,
    cursor: Cursor = None,
    limit: Limit = 100,
) -> dict[str, Any]:
    """Commitments, oldest first; ``department`` matches the lead or a participant."""
    return page(
        queries.list_commitments(
            session=session,
            department=refs.hex_id(department, what="department") if department else None,
            status=status,
            cursor=cursor,
            limit=limit,
        )
    )


@router.get(
    "/{commitment}",
    summary="A commitment and its participants",
    response_model=Commitment,
    dependencies=[Depends(require("read"))],
    responses={**ok("commitment"), **problems(400, 404)},
)
def get_commitment(session: SessionDep, commitment: CommitmentId) -> dict[str, Any]:
    """One commitment."""
    return queries.get_commitment(
        session=session, commitment_id="0x" + parse_hash(commitment, what="commitment id").hex()
    )


class Participant(BaseModel):
    department: str = Field(
        examples=["11330100MB1A00001P"], description="Department code or 0x id."
    )
    duty: str = Field(
        min_length=1, examples=["办理户口登记"], description="Only its hash goes on chain."
    )


class ProposeCommitment(BaseModel):
    """A commitment led by this gateway's department."""

    matter_ref: str = Field(
        min_length=1,
        examples=["出生一件事-2026-000123"],
        description="Only its hash goes on chain.",
    )
    participants: list[Participant] = Field(min_length=1, max_length=32)
    deadline: str = Field(examples=["2026-12-31T18:00:00+08:00"], description="ISO 8601.")


class Evidence(BaseModel):
    evidence: str = Field(
        min_length=1,
        max_length=1000,
        examples=["户口登记 完成"],
        description="Evidence reference; only its hash goes on chain.",
    )
    done: bool = Field(
        default=True, description="Whether this report completes the department's duty."
    )


class CancelReason(BaseModel):
    """Why the lead cancels; only its hash goes on chain."""

    reason: str = Field(min_length=1, max_length=1000, examples=["事项已撤回"])


@router.post(
    "",
    summary="Propose a commitment",
    response_model=CommitmentTransaction,
    status_code=201,
    dependencies=Admin,
    responses={**ok("commitment_tx", status=201), **problems(400, 403, 409, 503)},
)
def propose(state: StateDep, body: ProposeCommitment) -> dict[str, Any]:
    """This gateway's department leads; every participant signs before it is active."""
    gw = state.gateway
    proposal = commitment_proposal(
        matter=body.matter_ref,
        participants=[(p.department, p.duty) for p in body.participants],
        deadline=body.deadline,
    )
    gw.remember(("code", body.matter_ref), *(("code", p.duty) for p in body.participants))
    with state.write_lock:
        commitment_id, tx = propose_commitment(gw.client, gw.signer, proposal)
    return {
        "commitment_id": "0x" + commitment_id.hex(),
        **mined(tx),
    }


@router.post(
    "/{commitment}/sign",
    summary="Sign (own key or relayed consent)",
    response_model=CommitmentTransaction,
    dependencies=Admin,
    responses=WRITE,
)
def sign(
    state: StateDep, commitment: CommitmentId, body: ConsentBody | None = None
) -> dict[str, Any]:
    """Sign as a participant, or relay a participant's EIP-712 consent."""
    commitment_id = parse_hash(commitment, what="commitment id")
    result = consent_or_relay(state, "SignCommitment", commitment_id, body)
    return {"commitment_id": "0x" + commitment_id.hex(), **result}


def _send(state: StateDep, function: str, commitment: str, *args: Any, text: str) -> dict[str, Any]:
    """Send ``function`` for the commitment; ``text`` (the evidence or reason hashed among
    ``args``) is kept in the catalogue first."""
    commitment_id = parse_hash(commitment, what="commitment id")
    gw = state.gateway
    gw.remember(("code", text))
    result = transact(
        state,
        lambda: gw.client.transact(
            "JointCommitments", function, commitment_id, *args, sender=gw.signer
        ),
    )
    return {"commitment_id": "0x" + commitment_id.hex(), **result}


@router.post(
    "/{commitment}/report",
    summary="Report progress",
    response_model=CommitmentTransaction,
    dependencies=Admin,
    responses=WRITE,
)
def report(state: StateDep, commitment: CommitmentId, body: Evidence) -> dict[str, Any]:
    """A participant reports evidence (and, with ``done``, that its duty is fulfilled)."""
    return _send(
        state,
        "reportProgress",
        commitment,
        code_hash(body.evidence),
        body.done,
        text=body.evidence,
    )


@router.post(
    "/{commitment}/complete",
    summary="Close a fulfilled commitment",
    response_model=CommitmentTransaction,
    dependencies=Admin,
    responses=WRITE,
)
def complete(state: StateDep, commitment: CommitmentId, body: Evidence) -> dict[str, Any]:
    """The lead closes the commitment once every participant is done."""
    return _send(state, "complete", commitment, code_hash(body.evidence), text=body.evidence)


@router.post(
    "/{commitment}/cancel",
    summary="Cancel a commitment before it is active",
    response_model=CommitmentTransaction,
    dependencies=Admin,
    responses=WRITE,
)
def cancel(state: StateDep, commitment: CommitmentId, body: CancelReason) -> dict[str, Any]:
    """The lead cancels while participants have not all signed."""
    return _send(state, "cancel", commitment, code_hash(body.reason), text=body.reason)

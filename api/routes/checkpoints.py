"""``/v1/checkpoints``: the checkpoint signatures this gateway made and collected, the
checkpoints cosigned by the consortium's threshold, and conflicts (docs/CHECKPOINTS.md).

Public, like the trust file: what peers collect and verifiers compare. Acknowledging a
conflict needs an admin key."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query

from ledger.witness import Witness

from ..deps import StateDep, public_rate_limited, require
from ..examples import ok, problems
from ..schemas import (
    CheckpointAnswer,
    CheckpointConflictAnswer,
    CheckpointConflictList,
    CheckpointSignatures,
    CosignedCheckpointForm,
)
from ..state import ApiState

__all__ = ["router"]

_MAX_NUMBER = 2**53 - 1


router = APIRouter(tags=["checkpoints"], dependencies=[Depends(public_rate_limited)])

BlockNumber = Annotated[int, Path(ge=0, le=_MAX_NUMBER, description="The block number.")]


@router.get(
    "/v1/checkpoints",
    summary="Checkpoint signatures held, in the order they were kept",
    response_model=CheckpointSignatures,
    responses={**ok("checkpoint_signatures"), **problems(400, 429, 503)},
)
def signatures(
    state: StateDep,
    after: Annotated[
        int, Query(ge=0, le=_MAX_NUMBER, description="The `seq` of the last one already seen.")
    ] = 0,
    limit: Annotated[int, Query(ge=1, le=1000, description="At most this many.")] = 100,
) -> dict[str, Any]:
    """Every department's signature this gateway holds (its own, and those it collected and
    verified), after `after`: what other gateways collect. Each verifies with the trust
    file's cosigner keys alone (docs/CHECKPOINTS.md)."""
    return _held(state).signatures(after=after, limit=limit)


@router.get(
    "/v1/checkpoints/latest",
    summary="The highest checkpoint cosigned by the threshold",
    response_model=CosignedCheckpointForm,
    responses={**ok("checkpoint_form"), **problems(404, 429, 503)},
)
def latest(state: StateDep) -> dict[str, Any]:
    """In the JSON form a proof bundle carries: the highest block number whose one hash the
    trust file's threshold of departments signed, with no other hash signed for it."""
    return _held(state).require_latest()


@router.get(
    "/v1/checkpoints/conflicts",
    summary="Block numbers with two different hashes signed",
    response_model=CheckpointConflictList,
    responses={**ok("checkpoint_conflicts"), **problems(429, 503)},
)
def conflicts(state: StateDep) -> dict[str, Any]:
    """Newest block first, acknowledged or not, each with who signed which hash. `/readyz`
    fails while one is not acknowledged."""
    return {"items": _held(state).conflicts()}


@router.post(
    "/v1/checkpoints/conflicts/{number}/acknowledge",
    summary="Acknowledge a conflict",
    response_model=CheckpointConflictAnswer,
    responses={**ok("checkpoint_conflict"), **problems(400, 401, 403, 429, 503)},
    dependencies=[Depends(require("admin"))],
)
def acknowledge(state: StateDep, number: BlockNumber) -> dict[str, Any]:
    """Mark the conflict at `number` as read by an operator (admin key): `/readyz` passes
    again unless another is open. One more hash signed for it raises it again."""
    return _held(state).acknowledge(number)


@router.get(
    "/v1/checkpoints/{number}",
    summary="The signatures held for one block number",
    response_model=CheckpointAnswer,
    responses={**ok("checkpoint"), **problems(404, 422, 429, 503)},
)
def checkpoint(state: StateDep, number: BlockNumber) -> dict[str, Any]:
    """Grouped by hash: who signed it, and whether the threshold is reached."""
    return _held(state).checkpoint(number)


def _held(state: ApiState) -> Witness:
    """What this gateway holds is served while its node does not answer, too (from the index's
    chain; 503 only when nothing was indexed): see ``ApiState.held_witness``."""
    return state.held_witness()[0]

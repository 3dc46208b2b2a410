"""``/v1/consortium``: the consortium trust file and its fingerprint (public, no key).

What a verifier holds instead of trusting an address a proof bundle names (``ledger.trust``):
anyone may fetch it, and compares the fingerprint with the consortium's out of band."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from ..deps import StateDep, public_rate_limited
from ..examples import ok, problems
from ..schemas import ConsortiumAnswer, ConsortiumContracts

__all__ = ["ConsortiumAnswer", "ConsortiumContracts", "router"]


router = APIRouter(tags=["consortium"], dependencies=[Depends(public_rate_limited)])


@router.get(
    "/v1/consortium",
    summary="The consortium trust file and its fingerprint",
    response_model=ConsortiumAnswer,
    response_model_exclude_unset=True,  # no `clique` member off a Clique network
    responses={**ok("consortium"), **problems(429, 500, 503)},
)
def consortium(state: StateDep) -> dict[str, Any]:
    """Chain id, genesis block hash, deployment block and its hash, and the four contracts'
    addresses, as `xietong deploy` wrote them beside the deployment manifest, with the
    fingerprint to compare out of band. Needs no API key. The answer is itself a trust file:
    save it and check a node against it with `xietong consortium check --file`."""
    return state.consortium_trust()

"""``/v1/consortium``: the consortium trust file and its fingerprint (public, no key).

What a verifier holds instead of trusting an address a proof bundle names (``ledger.trust``):
anyone may fetch it, and compares the fingerprint with the consortium's out of band."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from ledger.trust import TRUST_FORMAT, deployment_trust

from .._client import client_address
from ..deps import StateDep
from ..examples import ok, problems

__all__ = ["ConsortiumAnswer", "ConsortiumContracts", "router"]

_HASH = r"^0x[0-9a-f]{64}$"
_ADDRESS = r"^0x[0-9a-fA-F]{40}$"
Address = Annotated[str, Field(pattern=_ADDRESS, description="EIP-55 checksummed address.")]


class ConsortiumContracts(BaseModel):
    """The four contracts' addresses."""

    DepartmentRegistry: Address
    DatasetRegistry: Address
    SharingAgreements: Address
    JointCommitments: Address


class ConsortiumAnswer(BaseModel):
    """The consortium trust file (``xietong-consortium/1``) with its fingerprint."""

    format: str = Field(description="Always `" + TRUST_FORMAT + "`.", examples=[TRUST_FORMAT])
    chain_id: int = Field(ge=1)
    genesis_hash: str = Field(pattern=_HASH, description="Hash of block 0.")
    deployment_block: int = Field(ge=0, description="Block the contracts were deployed in.")
    deployment_block_hash: str = Field(pattern=_HASH)
    contracts: ConsortiumContracts
    fingerprint: str = Field(
        pattern=r"^[0-9a-f]{4}(-[0-9a-f]{4}){7}$",
        description="First 16 bytes of the SHA-256 of the canonical JSON of the other members "
        "(keys sorted, no whitespace, ASCII), as 8 groups of 4 hex digits (docs/API.md).",
    )


async def _limited(request: Request, state: StateDep) -> None:
    """Public, but rate-limited per client address like anonymous reads."""
    state.limiter.check("anon:" + client_address(request, state.settings.trusted_proxies))


router = APIRouter(tags=["consortium"], dependencies=[Depends(_limited)])


@router.get(
    "/v1/consortium",
    summary="The consortium trust file and its fingerprint",
    response_model=ConsortiumAnswer,
    responses={**ok("consortium"), **problems(429, 500, 503)},
)
def consortium(state: StateDep) -> dict[str, Any]:
    """Chain id, genesis block hash, deployment block and its hash, and the four contracts'
    addresses, as `xietong deploy` wrote them beside the deployment manifest, with the
    fingerprint to compare out of band. Needs no API key. The answer is itself a trust file:
    save it and check a node against it with `xietong consortium check --file`."""
    deployment = state.gateway.deployment
    trust = deployment_trust(deployment, state.settings.trust_path(deployment.chain_id))
    return {**trust.as_dict(), "fingerprint": trust.fingerprint}

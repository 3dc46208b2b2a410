"""``/v1/proofs/{leaf}``: the self-contained proof bundle of a leaf."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query

from ledger import InputError
from ledger.refs import parse_hash

from ..deps import StateDep, require
from ..examples import ok, problems
from ..schemas import ProofBundle

router = APIRouter(prefix="/v1/proofs", tags=["proofs"], dependencies=[Depends(require("read"))])


@router.get(
    "/{leaf}",
    summary="Proof bundle of a leaf",
    response_model=ProofBundle,
    response_model_exclude_unset=True,  # no `checkpoint` member while there is none
    responses={**ok("bundle"), **problems(400, 404)},
)
def proof(
    state: StateDep,
    leaf: Annotated[
        str, Path(description="Leaf hash (0x and 64 hex digits).", examples=["0x" + "0b" * 32])
    ],
    version: Annotated[
        str | None,
        Query(
            description="The version id, when the leaf is in several versions (as `proof_url` "
            "gives it).",
            examples=["0x" + "5e" * 32],
        ),
    ] = None,
    root: Annotated[
        str | None,
        Query(description="Or the version's root, when only one dataset holds that root."),
    ] = None,
    record_hash: Annotated[
        str | None, Query(description="Record leaves: SHA-256 of the record's canonical JSON.")
    ] = None,
    salt: Annotated[
        str | None,
        Query(
            description="Record leaves: the record's salt (prefer POST /v1/verify/record with with_proof: a URL is logged)."
        ),
    ] = None,
) -> dict[str, Any]:
    """A ``xietong-proof/3`` bundle: checks with ``xietong verify-proof`` against any node of
    the consortium, with its trust file (``GET /v1/consortium``); on the consortium network
    it carries the anchor's sealed headers and trie proofs (``sealed``), which check with no
    node at all (``xietong verify-proof --offline``, docs/OFFLINE_PROOFS.md).

    File leaves need nothing more. Record leaves need ``record_hash`` and ``salt`` (the
    gateway never stores them, so it cannot write them into the bundle by itself); prefer
    ``POST /v1/verify/record`` with ``"with_proof": true``, which takes them in the body: a
    salt in a query string ends up in access logs and browser histories.
    """
    leaf_bytes = parse_hash(leaf, what="leaf hash")
    version_bytes = parse_hash(version, what="version id") if version else None
    root_bytes = parse_hash(root, what="root") if root else None

    def record_values() -> tuple[bytes, bytes]:  # asked for a record leaf only
        if not record_hash or not salt:
            raise InputError(
                "a record leaf's bundle needs the record_hash and salt query parameters."
            )
        return (
            parse_hash(record_hash, what="record hash"),
            parse_hash(salt, what="salt", secret=True),
        )

    return state.verifier.leaf_bundle(
        leaf_bytes, version=version_bytes, root=root_bytes, record=record_values
    )

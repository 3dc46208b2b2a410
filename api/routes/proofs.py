"""``/v1/proofs/{leaf}``: the self-contained proof bundle of a leaf."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from sqlmodel import col, select

from ledger import InputError
from ledger.db.tables import LeafRow
from ledger.merkle import leaf_hash
from ledger.verify import NotAnchoredError, parse_hash

from ..deps import SessionDep, StateDep, require
from ..examples import ok, problems

router = APIRouter(prefix="/v1/proofs", tags=["proofs"], dependencies=[Depends(require("read"))])


@router.get(
    "/{leaf}", summary="Proof bundle of a leaf", responses={**ok("bundle"), **problems(400, 404)}
)
def proof(
    state: StateDep, session: SessionDep,
    leaf: Annotated[str, Path(description="Leaf hash (0x and 64 hex digits).", examples=["0x" + "0b" * 32])],
    root: Annotated[str | None, Query(description="The version, when the leaf is in several.")] = None,
    record_hash: Annotated[str | None, Query(description="Record leaves: SHA-256 of the record's canonical JSON.")] = None,
    salt: Annotated[str | None, Query(description="Record leaves: the record's salt.")] = None,
) -> dict[str, Any]:  # fmt: skip
    """A ``xietong-proof/1`` bundle: checks with ``xietong verify-proof`` against any node.

    File leaves need nothing more; record leaves need ``record_hash`` and ``salt`` (the
    gateway never stores them, so it cannot write them into the bundle by itself).
    """
    leaf_bytes = parse_hash(leaf, what="leaf hash")
    root_bytes = parse_hash(root, what="root") if root else None
    query = select(LeafRow).where(LeafRow.leaf_hash == "0x" + leaf_bytes.hex())
    if root_bytes is not None:
        query = query.where(LeafRow.root == "0x" + root_bytes.hex())
    row = session.exec(query.order_by(col(LeafRow.id).desc())).first()
    if row is None:
        raise NotAnchoredError(f"leaf 0x{leaf_bytes.hex()} is not in any version known here.")
    if row.kind == "file":
        assert row.content_hash is not None
        assert row.path is not None
        values: list[Any] = [parse_hash(row.content_hash), row.path]
    else:
        if not record_hash or not salt:
            raise InputError(
                "a record leaf's bundle needs the record_hash and salt query parameters."
            )
        values = [parse_hash(record_hash, what="record hash"), parse_hash(salt, what="salt")]
        if leaf_hash(("bytes32", "bytes32"), values) != leaf_bytes:
            raise InputError("the record_hash and salt given do not make this leaf.")
    return state.verifier.proof_bundle(leaf_bytes, values, root=parse_hash(row.root))

"""``/v1/datasets/{dataset}/erasures``: erasing records of a version (docs/ERASURE.md)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from ledger import refs
from ledger.db import queries

from ..deps import SessionDep, StateDep, require
from ..examples import ok, problems
from ..schemas import ErasureBody, ErasureReceipt
from .datasets import DatasetRef

router = APIRouter(
    prefix="/v1/datasets", tags=["datasets"], dependencies=[Depends(require("admin"))]
)


@router.post(
    "/{dataset}/erasures",
    summary="Erase records of a version (personal information protection)",
    response_model=ErasureReceipt,
    status_code=201,
    responses={**ok("erasure", status=201), **problems(400, 403, 404, 409, 503)},
)
def erase_records(
    state: StateDep, session: SessionDep, dataset: DatasetRef, body: ErasureBody
) -> dict[str, Any]:
    """Record on chain that this department erased these records of one of its versions: the
    root of their leaves, their count and the reason's hash. Their salts are the client's to
    destroy (`xietong dataset erase` does both); verifying one then answers `erased`."""
    dataset_id = queries.resolve_dataset(session=session, text=dataset)
    leaves = [refs.parse_hash(leaf, what="leaf") for leaf in body.leaves]
    root = refs.root(body.root) if body.root is not None else None
    with state.write_lock:
        erased = state.gateway.eraser().erase(
            dataset=bytes.fromhex(dataset_id[2:]), leaves=leaves, reason=body.reason, root=root
        )
    result = erased.as_dict()
    del result["salts"], result["rows"]
    return result

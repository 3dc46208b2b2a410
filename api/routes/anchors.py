"""``/v1/anchors``: submit file hashes to anchor; poll the batch they landed in."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, Field

from ledger import refs
from ledger.refs import parse_hash
from ledger.submissions import MAX_LEAVES_PER_REQUEST

from ..deps import StateDep, require
from ..examples import ok, problems
from ..schemas import Batch, BatchList
from ._params import Cursor, Limit, page

router = APIRouter(
    prefix="/v1/anchors", tags=["anchoring"], dependencies=[Depends(require("anchor"))]
)


class Leaf(BaseModel):
    content_hash: str = Field(
        description="SHA-256 of the file (its SM3 digest for a dataset registered for SM3, "
        "docs/SM3.md).",
        examples=["0x" + "3f" * 32],
    )
    name: str = Field(
        default="",
        max_length=1024,
        description="File name or path (part of the leaf).",
        examples=["2026/11/决定书-0001.pdf"],
    )


class Submission(BaseModel):
    """File hashes of one dataset owned by this gateway's department."""

    dataset: str = Field(
        description="Dataset id, or catalogue code of this gateway's department.",
        examples=["HZ-MZ-POLICY"],
    )
    leaves: list[Leaf] = Field(min_length=1, max_length=MAX_LEAVES_PER_REQUEST)


@router.post(
    "",
    summary="Submit hashes to anchor",
    response_model=Batch,
    status_code=202,
    responses={**ok("batch", status=202), **problems(400, 403, 404, 503)},
)
def submit(state: StateDep, body: Submission) -> dict[str, Any]:
    """Queued at once into the dataset's open batch, which is anchored when it holds
    ``XIETONG_ANCHOR_BATCH_SIZE`` hashes or is ``XIETONG_ANCHOR_BATCH_SECONDS`` old. Poll
    ``GET /v1/anchors/{batch_id}`` until ``confirmed``."""
    leaves = [
        (parse_hash(leaf.content_hash, what="content hash"), leaf.name) for leaf in body.leaves
    ]
    department_id = state.department_id()
    dataset = refs.dataset(body.dataset, owner=bytes.fromhex(department_id[2:]))
    return state.queue.submit("0x" + dataset.hex(), leaves, department_id=department_id)


BatchId = Annotated[
    str, Path(pattern="^[0-9a-f]{32}$", examples=["4f1c2d8e9a7b4c3d8e9f0a1b2c3d4e5f"])
]


@router.get(
    "/failed",
    summary="Batches that failed",
    response_model=BatchList,
    responses=ok("batches"),
)
def failed(state: StateDep, cursor: Cursor = None, limit: Limit = 100) -> dict[str, Any]:
    """Batches refused before anchoring or by the chain, oldest first, a page at a time
    (``next_cursor`` names the next). Submit the same hashes again to retry one (a refused
    version never blocks its content), or give it up with
    ``POST /v1/anchors/{batch_id}/abandon``."""
    return page(state.queue.failed(cursor=cursor, limit=limit))


@router.get(
    "/{batch_id}",
    summary="Status of a batch",
    response_model=Batch,
    responses={**ok("batch"), **problems(404)},
)
def status(state: StateDep, batch_id: BatchId) -> dict[str, Any]:
    """collecting → sealed → pending → sent → confirmed (or failed, with the reason)."""
    return state.queue.status(batch_id)


@router.post(
    "/{batch_id}/abandon",
    summary="Give up a failed batch",
    response_model=Batch,
    responses={**ok("batch"), **problems(404, 409)},
)
def abandon(state: StateDep, batch_id: BatchId) -> dict[str, Any]:
    """Only a failed batch: it becomes ``abandoned`` (its hashes may be submitted again). A
    batch that did not fail is 409 ``anchor``, naming its status."""
    with state.write_lock:
        return state.queue.abandon(batch_id, state.anchorer)

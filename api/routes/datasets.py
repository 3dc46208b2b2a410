"""``/v1/datasets``: datasets, their versions and lineage, and their provenance."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path

from ledger import refs
from ledger.db import queries

from ..deps import SessionDep, require
from ..examples import ok, problems
from ..schemas import Dataset, DatasetList, Provenance
from ._params import Cursor, DepartmentRef, Limit, page

router = APIRouter(
    prefix="/v1/datasets", tags=["datasets"], dependencies=[Depends(require("read"))]
)
DatasetRef = Annotated[
    str,
    Path(
        description="Dataset: 0x id, or catalogue code when one department registered it.",
        examples=["HZ-MZ-DIBAO"],
    ),
]


@router.get(
    "",
    summary="List datasets",
    response_model=DatasetList,
    responses={**ok("datasets"), **problems(400)},
)
def list_datasets(
    session: SessionDep, owner: DepartmentRef = None, cursor: Cursor = None, limit: Limit = 100
) -> dict[str, Any]:
    """Registered datasets, oldest first."""
    owner_id = refs.hex_id(owner, what="owner") if owner else None
    return page(queries.list_datasets(session=session, owner=owner_id, cursor=cursor, limit=limit))


@router.get(
    "/{dataset}",
    summary="A dataset, its versions and lineage",
    response_model=Dataset,
    responses={**ok("dataset"), **problems(400, 404)},
)
def get_dataset(session: SessionDep, dataset: DatasetRef) -> dict[str, Any]:
    """Every version (oldest first), the lineage edges between versions, the agreements."""
    dataset_id = queries.resolve_dataset(session=session, text=dataset)
    return queries.get_dataset(session=session, dataset_id=dataset_id)


@router.get(
    "/{dataset}/provenance",
    summary="W3C PROV-JSON of a dataset",
    response_model=Provenance,
    response_model_exclude_unset=True,  # a relation only when the document has one
    responses={**ok("provenance"), **problems(400, 404)},
)
def provenance(session: SessionDep, dataset: DatasetRef) -> dict[str, Any]:
    """Lineage, agreements and access receipts as a W3C PROV-JSON document."""
    dataset_id = queries.resolve_dataset(session=session, text=dataset)
    return queries.provenance(session=session, dataset_id=dataset_id)

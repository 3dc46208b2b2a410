"""``/v1/departments``: the consortium's members.

A name is chain data, untrusted: each department comes with ``display_name`` (invisible and
reordering characters escaped, the id beside a flagged name), ``name_flags`` and ``name_hex``
(``ledger.display``; docs/API.md, "Chain data is untrusted input")."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query

from ledger import refs
from ledger.db import queries

from ..deps import SessionDep, require
from ..examples import ok, problems
from ..schemas import Department, DepartmentList
from ._params import Cursor, Limit, page

router = APIRouter(
    prefix="/v1/departments", tags=["departments"], dependencies=[Depends(require("read"))]
)


@router.get(
    "",
    summary="List departments",
    response_model=DepartmentList,
    responses={**ok("departments"), **problems(400)},
)
def list_departments(
    session: SessionDep,
    status: Annotated[Literal["active", "suspended"] | None, Query()] = None,
    cursor: Cursor = None,
    limit: Limit = 100,
) -> dict[str, Any]:
    """Departments in order of admission; show ``display_name``, not ``name``."""
    return page(
        queries.list_departments(session=session, status=status, cursor=cursor, limit=limit)
    )


@router.get(
    "/{department}",
    summary="A department",
    response_model=Department,
    responses={**ok("department"), **problems(400, 404)},
)
def get_department(
    session: SessionDep,
    department: Annotated[str, Path(description="0x id or code.", examples=["11330100MB1A00002K"])],
) -> dict[str, Any]:
    """One department; show ``display_name``, not ``name``."""
    return queries.get_department(
        session=session, department_id=refs.hex_id(department, what="department")
    )

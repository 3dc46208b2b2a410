"""Query parameters shared by the list routes."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query

from ledger.db.queries import MAX_PAGE, Page

Cursor = Annotated[str | None, Query(description="`next_cursor` of the previous page.")]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description="Items per page.")]
DepartmentRef = Annotated[
    str | None, Query(description="Department: 0x id or code (e.g. 11330100MB1A00002K).")
]


def page(result: Page) -> dict[str, Any]:
    return {"items": result.items, "next_cursor": result.next_cursor}

"""``/v1/audit/events``: the audit trail (every contract event), filtered, as JSON or CSV;
``/v1/audit/receipts``: the access receipts beside their agreements, flagged."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from ledger import refs
from ledger.audit import event_filters
from ledger.db import queries

from ..deps import SessionDep, require
from ..examples import ok, problems
from ..schemas import AuditEventList, ReviewedReceiptList
from ._params import Cursor, DepartmentRef, Limit, page

router = APIRouter(prefix="/v1/audit", tags=["audit"], dependencies=[Depends(require("read"))])

MAX_CSV_ROWS = 100_000
CSV_EXAMPLE = "block_number,log_index,time,transaction,contract,event,department_id,department,subject_id,args\n"


@router.get(
    "/events",
    summary="The audit trail",
    response_model=AuditEventList,  # JSON; the CSV export is a Response of its own
    responses={
        200: {"content": {**ok("events")[200]["content"], "text/csv": {"example": CSV_EXAMPLE}}},
        **problems(400),
    },
)
def events(
    session: SessionDep,
    department: DepartmentRef = None,
    type: Annotated[str | None, Query(description="Event name, e.g. AgreementRevoked.")] = None,
    since: Annotated[
        str | None, Query(description="ISO 8601 start (inclusive).", examples=["2026-11-01"])
    ] = None,
    until: Annotated[
        str | None,
        Query(description="ISO 8601 end (exclusive).", examples=["2026-12-01T00:00:00+08:00"]),
    ] = None,
    subject: Annotated[
        str | None, Query(description="Subject id (agreement, commitment, root …).")
    ] = None,
    format: Annotated[
        Literal["json", "csv"],
        Query(
            description=(
                "csv exports every match (no paging); a cell a spreadsheet would evaluate "
                "(starting with = + - @, a tab or a carriage return) starts with ' instead."
            )
        ),
    ] = "json",
    cursor: Cursor = None,
    limit: Limit = 100,
) -> Any:
    """Events in chain order, by department, type and time range."""
    filters = event_filters(
        department=department, event_type=type, since=since, until=until, subject=subject
    )
    if format == "csv":
        rows = queries.every_item(
            lambda after: queries.list_events(
                session=session, cursor=after, limit=queries.MAX_PAGE, **filters
            ),
            max_rows=MAX_CSV_ROWS,
        )
        return Response(
            queries.events_csv(rows),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="xietong-audit.csv"'},
        )
    return page(queries.list_events(session=session, cursor=cursor, limit=limit, **filters))


RECEIPTS_CSV_EXAMPLE = "agreement_id,receipt_index,flags,agreement_status,…\n"


@router.get(
    "/receipts",
    summary="Access receipts reviewed",
    response_model=ReviewedReceiptList,
    responses={
        200: {
            "content": {
                **ok("reviewed_receipts")[200]["content"],
                "text/csv": {"example": RECEIPTS_CSV_EXAMPLE},
            }
        },
        **problems(400),
    },
)
def receipts(
    session: SessionDep,
    flagged: Annotated[bool, Query(description="Only the receipts with a flag.")] = False,
    agreement: Annotated[str | None, Query(description="One agreement's (its 0x id).")] = None,
    format: Annotated[
        Literal["json", "csv"], Query(description="csv exports every match (no paging).")
    ] = "json",
    cursor: Cursor = None,
    limit: Limit = 100,
) -> Any:
    """Every access receipt beside its agreement, each with ``flags`` naming use outside the
    agreement's scope or validity (before it took effect, after its end or closure, a party
    suspended during the period, recorded before the period ended, another consumer, no
    entry); in the order they were recorded."""
    chosen = "0x" + refs.subject_id(agreement, what="agreement id").hex() if agreement else None
    if format == "csv":
        return Response(
            queries.export_receipts(
                session=session, flagged_only=flagged, agreement=chosen, max_rows=MAX_CSV_ROWS
            ),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="xietong-access-receipts.csv"'},
        )
    return page(
        queries.review_receipts(
            session=session, flagged_only=flagged, agreement=chosen, cursor=cursor, limit=limit
        )
    )

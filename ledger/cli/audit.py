"""``xietong audit trail|export``: the event log, filtered."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from sqlmodel import Session

from ..audit import event_filters
from ..db import queries
from ..errors import InputError
from ..gateway import Gateway
from ._output import console, emit_json, guarded, load_settings, safe

app = typer.Typer(help="The audit trail: every contract event, as indexed.", no_args_is_help=True)
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]
Department = Annotated[str | None, typer.Option("--department", help="Department code or 0x id.")]
EventType = Annotated[str | None, typer.Option("--type", help="Event name, e.g. AgreementRevoked.")]
Since = Annotated[str | None, typer.Option("--since", help="ISO 8601 date or date-time.")]
Until = Annotated[
    str | None, typer.Option("--until", help="ISO 8601 date or date-time (exclusive).")
]


def events(
    settings: Any,
    department: str | None,
    event_type: str | None,
    since: str | None,
    until: str | None,
    limit: int | None,
) -> list[dict[str, Any]]:
    """Sync the index, then read the filtered event log in chain order."""
    gw = Gateway(settings)
    gw.indexer().sync()
    filters = event_filters(department=department, event_type=event_type, since=since, until=until)
    rows: list[dict[str, Any]] = []
    cursor: str | None = None
    with Session(gw.engine) as session:
        while limit is None or len(rows) < limit:
            size = queries.MAX_PAGE if limit is None else min(queries.MAX_PAGE, limit - len(rows))
            page = queries.list_events(session=session, cursor=cursor, limit=size, **filters)
            rows.extend(page.items)
            cursor = page.next_cursor
            if cursor is None:
                break
    return rows


@app.command()
def trail(
    department: Department = None,
    event_type: EventType = None,
    since: Since = None,
    until: Until = None,
    limit: Annotated[int | None, typer.Option("--limit", min=1)] = None,
    json_output: JsonOption = False,
) -> None:
    """Show the audit trail, oldest first."""
    settings = load_settings(json_output)
    rows = guarded(
        json_output, lambda: events(settings, department, event_type, since, until, limit)
    )
    if json_output:
        emit_json({"ok": True, "events": rows})
        return
    table = Table("block", "time", "event", "department", "subject")
    for r in rows:  # table cells are Rich markup; every one is data
        table.add_row(
            safe(r["block_number"]),
            safe((r["time"] or "")[:19]),
            safe(r["event"]),
            safe(r["department"] or ""),
            safe((r["subject_id"] or "")[:18]),
        )
    console.print(table)


@app.command()
def export(
    out: Annotated[Path, typer.Option("--out", help="File to write.")],
    fmt: Annotated[str, typer.Option("--format", help="csv or json.")] = "csv",
    department: Department = None,
    event_type: EventType = None,
    since: Since = None,
    until: Until = None,
    json_output: JsonOption = False,
) -> None:
    """Export the (filtered) audit trail as CSV or JSON."""
    settings = load_settings(json_output)

    def run() -> int:
        if fmt not in ("csv", "json"):
            raise InputError(f"--format must be csv or json, not {fmt!r}.")
        rows = events(settings, department, event_type, since, until, None)
        if fmt == "json":
            text = json.dumps(rows, ensure_ascii=False, indent=2) + "\n"
        else:
            text = queries.events_csv(rows)
        try:
            out.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise InputError(f"cannot write {out} ({exc.strerror}).") from None
        return len(rows)

    count = guarded(json_output, run)
    if json_output:
        emit_json({"ok": True, "file": str(out), "format": fmt, "events": count})
    else:
        console.print(f"[green]exported[/] {count} events to {safe(out)}", highlight=False)

"""``xietong checkpoint run|list|show|latest|conflicts|acknowledge|peers``: the checkpoints of
the chain this gateway cosigns and collects (:mod:`ledger.witness`, docs/CHECKPOINTS.md)."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from ..gateway import Gateway
from ..witness import Witness
from ._output import console, emit_json, guarded, load_settings, respond, safe

app = typer.Typer(
    help="Checkpoints of the chain cosigned by the departments' gateways (docs/CHECKPOINTS.md).",
    no_args_is_help=True,
)
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]
BlockNumber = Annotated[int, typer.Argument(min=0, max=2**53 - 1, help="A block number.")]


def _witness(json_output: bool) -> Witness:
    settings = load_settings(json_output)
    return guarded(json_output, lambda: Gateway(settings).witness())


def _codes(cosigners: list[dict[str, Any]]) -> str:
    return ", ".join(safe(c["code"] or c["department"]) for c in cosigners)


@app.command("run")
def run_command(json_output: JsonOption = False) -> None:
    """One pass: collect the peers' signatures, sign this gateway's, record conflicts (`serve`
    does this in the background every XIETONG_CHECKPOINT_POLL seconds)."""
    witness = _witness(json_output)

    def one_pass() -> dict[str, Any]:
        return {**witness.run().as_dict(), "not_signing": witness.why_not_signing()}

    def said(r: dict[str, Any]) -> str:
        lines = [f"signed {len(r['signed'])} checkpoint(s)" + (
            f" (blocks {', '.join(map(str, r['signed']))})" if r["signed"] else ""
        )]  # fmt: skip
        for peer, count in r["accepted"].items():
            failed = r["failed"].get(peer)
            lines.append(
                f"  {safe(peer)}: {count} accepted, {r['refused'][peer]} refused"
                + (f"; [red]failed[/]: {safe(failed)}" if failed else "")
            )
        if r["not_signing"]:
            lines.append(f"[yellow]{safe(r['not_signing'])}[/]")
        if r["conflicts"]:
            numbers = ", ".join(map(str, r["conflicts"]))
            lines.append(f"[red]CONFLICT[/] two hashes signed for block(s) {numbers}")
        return "\n".join(lines)

    respond(json_output, one_pass, said)


@app.command("list")
def list_signatures(
    after: Annotated[
        int, typer.Option("--after", min=0, help="After this sequence number (`seq`).")
    ] = 0,
    limit: Annotated[
        int, typer.Option("--limit", min=1, max=1000, help="At most this many.")
    ] = 100,
    json_output: JsonOption = False,
) -> None:
    """The signatures this gateway holds, in the order it kept them."""
    witness = _witness(json_output)
    page = guarded(json_output, lambda: witness.signatures(after=after, limit=limit))
    if json_output:
        emit_json({"ok": True, **page})
        return
    table = Table("seq", "block", "hash", "department", "time")
    for item in page["items"]:
        table.add_row(
            str(item["seq"]),
            str(item["number"]),
            safe(item["hash"]),
            safe(item["code"] or item["department"]),
            str(item["time"]),
        )
    console.print(table)


@app.command()
def show(number: BlockNumber, json_output: JsonOption = False) -> None:
    """The signatures held for one block number, by hash."""
    witness = _witness(json_output)

    def said(r: dict[str, Any]) -> str:
        lines = [f"block {r['number']} ({r['threshold']} department(s) make a checkpoint)"]
        for group in r["hashes"]:
            mark = "[green]cosigned[/]" if group["cosigned"] else "not cosigned"
            lines.append(f"  {safe(group['hash'])}: {mark} by {_codes(group['cosigners'])}")
        if r["conflict"]:
            lines.append("[red]CONFLICT[/] two hashes signed for this block")
        return "\n".join(lines)

    respond(json_output, lambda: witness.checkpoint(number), said)


@app.command()
def latest(json_output: JsonOption = False) -> None:
    """The highest checkpoint cosigned by the trust file's threshold (its JSON form)."""
    witness = _witness(json_output)

    def found() -> dict[str, Any]:
        return {"checkpoint": witness.require_latest()}

    def said(r: dict[str, Any]) -> str:
        c = r["checkpoint"]
        return f"block {c['number']} {safe(c['hash'])}, cosigned by {len(c['cosignatures'])} key(s)"

    respond(json_output, found, said)


@app.command()
def conflicts(json_output: JsonOption = False) -> None:
    """Block numbers with two different hashes signed, newest first."""
    witness = _witness(json_output)
    rows = guarded(json_output, witness.conflicts)
    if json_output:
        emit_json({"ok": True, "conflicts": rows})
        return
    if not rows:
        console.print("no conflict")
        return
    for row in rows:
        state = (
            f"acknowledged {safe(row['acknowledged_at'])}"
            if row["acknowledged_at"]
            else "[red]open[/]"
        )
        console.print(f"block {row['number']}: {state}, seen {safe(row['seen_at'])}")
        for group in row["hashes"]:
            console.print(f"  {safe(group['hash'])} by {_codes(group['cosigners'])}")


@app.command()
def acknowledge(number: BlockNumber, json_output: JsonOption = False) -> None:
    """Mark the conflict at NUMBER as read: `/readyz` passes again unless another is open."""
    witness = _witness(json_output)
    respond(
        json_output,
        lambda: {"conflict": witness.acknowledge(number)},
        lambda r: f"acknowledged the conflict at block {r['conflict']['number']}",
    )


@app.command()
def peers(json_output: JsonOption = False) -> None:
    """The peers collected from: signatures accepted and refused, last answer, last error."""
    witness = _witness(json_output)
    rows = guarded(json_output, witness.peer_status)
    if json_output:
        emit_json({"ok": True, "peers": rows})
        return
    table = Table("peer", "accepted", "refused", "last answer", "last error")
    for row in rows:
        table.add_row(
            safe(row["peer"]),
            str(row["accepted"]),
            str(row["refused"]),
            safe(row["last_success_at"] or "never"),
            safe(row["last_error"] or ""),
        )
    console.print(table)

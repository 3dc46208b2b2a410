"""``xietong watch add|list|show|remove|rotate|run|messages|retry``: webhooks of what concerns
this gateway's department (:mod:`ledger.watch`)."""

from __future__ import annotations

import signal
import threading
from typing import Annotated, Any

import typer
from rich.table import Table

from ..errors import LedgerError
from ..gateway import Gateway
from ..watch import TOPICS, Watchers
from ._output import (
    console,
    emit_json,
    guarded,
    load_settings,
    print_result,
    report_error,
    respond,
    safe,
)

app = typer.Typer(
    help="Webhooks of what concerns this department on chain (Standard Webhooks).",
    no_args_is_help=True,
)
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]


def _watchers(json_output: bool) -> Watchers:
    settings = load_settings(json_output)
    return guarded(json_output, lambda: Gateway(settings).watchers())


def _said_secret(result: dict[str, Any], verb: str) -> str:
    watcher = result["watcher"]
    return (
        f"[green]{verb}[/] watcher {safe(watcher['id'])} → {safe(watcher['url'])} "
        f"({safe(', '.join(watcher['topics']))}). Its signing secret, not shown again:\n"
        f"{safe(result['secret'])}"
    )


@app.command()
def add(
    url: Annotated[str, typer.Argument(help="Where the webhooks are POSTed (https).")],
    topic: Annotated[
        list[str],
        typer.Option("--topic", help=f"Repeatable: {', '.join(TOPICS)}."),
    ],
    days: Annotated[
        int | None,
        typer.Option("--days", help="With agreement.expiring: how many days ahead to look."),
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Subscribe URL to what concerns this department, from the next block on; prints the
    watcher and its signing secret (once)."""
    hooks = _watchers(json_output)

    def run() -> dict[str, Any]:
        watcher, secret = hooks.add(url=url, topics=topic, expiring_days=days)
        return {"watcher": watcher, "secret": secret}

    respond(json_output, run, lambda r: _said_secret(r, "added"))


@app.command("list")
def list_watchers(json_output: JsonOption = False) -> None:
    """This department's watchers, with their webhooks pending, delivered and dead."""
    hooks = _watchers(json_output)
    rows = guarded(json_output, hooks.all)
    if json_output:
        emit_json({"ok": True, "watchers": rows})
        return
    table = Table("id", "url", "topics", "pending", "delivered", "dead")
    for row in rows:
        counts = row["messages"]
        table.add_row(
            safe(row["id"]),
            safe(row["url"]),
            safe(", ".join(row["topics"])),
            str(counts["pending"]),
            str(counts["delivered"]),
            str(counts["dead"]),
        )
    console.print(table)


@app.command()
def show(
    watcher_id: Annotated[str, typer.Argument(help="wh_…")], json_output: JsonOption = False
) -> None:
    """One watcher."""
    hooks = _watchers(json_output)
    respond(
        json_output,
        lambda: {"watcher": hooks.get(watcher_id)},
        lambda r: f"watcher {safe(r['watcher']['id'])} → {safe(r['watcher']['url'])}",
    )


@app.command()
def remove(
    watcher_id: Annotated[str, typer.Argument(help="wh_…")], json_output: JsonOption = False
) -> None:
    """Remove a watcher and its webhooks not yet delivered."""
    hooks = _watchers(json_output)
    respond(
        json_output,
        lambda: {"watcher": hooks.remove(watcher_id)},
        lambda r: f"[green]removed[/] watcher {safe(r['watcher']['id'])}",
    )


@app.command()
def rotate(
    watcher_id: Annotated[str, typer.Argument(help="wh_…")], json_output: JsonOption = False
) -> None:
    """A new signing secret; the old one keeps signing beside it for a day."""
    hooks = _watchers(json_output)

    def run() -> dict[str, Any]:
        watcher, secret = hooks.rotate(watcher_id)
        return {"watcher": watcher, "secret": secret}

    respond(json_output, run, lambda r: _said_secret(r, "rotated"))


@app.command("run")
def run_command(
    follow: Annotated[
        bool, typer.Option("--follow", help="Keep matching and delivering until Ctrl-C.")
    ] = False,
    json_output: JsonOption = False,
) -> None:
    """Index the chain, match it into the outbox, and send what is due (`serve` does this in
    the background)."""
    settings = load_settings(json_output)
    gateway = guarded(json_output, lambda: Gateway(settings))
    hooks = guarded(json_output, gateway.watchers)

    def one_pass() -> dict[str, Any]:
        gateway.indexer().sync()
        added = hooks.scan()
        report = hooks.deliver()
        return {
            "matched": added,
            "delivered": report.delivered,
            "failed": report.failed,
            "dead": report.dead,
        }

    def said(r: dict[str, Any]) -> str:
        return (
            f"{r['matched']} webhook(s) added; {r['delivered']} delivered, {r['failed']} to "
            f"retry, {r['dead']} dead"
        )

    if not follow:
        respond(json_output, one_pass, said)
        return

    def passes() -> None:
        """Following, a pass that fails (the node or the database away a while) is said in
        one sentence and the next one tries again, as `serve` does; Ctrl-C (or SIGTERM) ends
        it once the pass under way is done (a library retrying inside the pass must not swallow
        the interrupt)."""
        stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
        while not stop.is_set():
            try:
                print_result(json_output, one_pass(), said)
            except LedgerError as exc:
                reason = getattr(exc, "reason", None)
                report_error(str(exc), kind=exc.kind, as_json=json_output, reason=reason)
            stop.wait(settings.webhook_interval)
        raise typer.Exit(0)

    guarded(json_output, passes)


@app.command()
def messages(
    status: Annotated[
        str | None,
        typer.Option("--status", help="pending, delivered or dead (the dead letters)."),
    ] = None,
    cursor: Annotated[str | None, typer.Option("--cursor", help="next_cursor of a page.")] = None,
    limit: Annotated[int, typer.Option("--limit", help="At most this many (1–500).")] = 100,
    json_output: JsonOption = False,
) -> None:
    """This department's webhooks, oldest first, with their attempts and last error."""
    hooks = _watchers(json_output)
    page = guarded(json_output, lambda: hooks.messages(status=status, cursor=cursor, limit=limit))
    if json_output:
        emit_json({"ok": True, "messages": page.items, "next_cursor": page.next_cursor})
        return
    table = Table("id", "topic", "status", "attempts", "last error", "created")
    for m in page.items:
        table.add_row(
            safe(m["id"]),
            safe(m["topic"]),
            safe(m["status"]),
            str(m["attempts"]),
            safe(m["last_error"] or ""),
            safe((m["created_at"] or "")[:19]),
        )
    console.print(table)
    if page.next_cursor:
        console.print(f"more: --cursor {safe(page.next_cursor)}", highlight=False)


@app.command()
def retry(
    message_id: Annotated[str, typer.Argument(help="msg_… (a dead one)")],
    json_output: JsonOption = False,
) -> None:
    """Send a dead webhook again (it is due at once, its attempts counted afresh)."""
    hooks = _watchers(json_output)
    respond(
        json_output,
        lambda: {"message": hooks.retry(message_id)},
        lambda r: f"[green]queued[/] webhook {safe(r['message']['id'])} again",
    )

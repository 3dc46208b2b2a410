"""``xietong index [--follow]`` and ``xietong reindex``."""

from __future__ import annotations

import signal
from typing import Annotated, Any

import typer

from ..gateway import Gateway
from ..indexer import SyncResult
from ._output import console, emit_json, guarded, load_settings

JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]


def _result(result: SyncResult) -> dict[str, Any]:
    return {
        "from_block": result.from_block,
        "to_block": result.to_block,
        "events": result.events,
        "reorged_from": result.reorged_from,
        "head": result.head,
        "lag": result.lag,
    }


def index_command(
    follow: Annotated[
        bool, typer.Option("--follow", help="Keep indexing new blocks until Ctrl-C.")
    ] = False,
    interval: Annotated[
        float, typer.Option("--interval", min=0.1, help="Seconds between passes.")
    ] = 1.0,
    json_output: JsonOption = False,
) -> None:
    """Index the chain's events into the database (confirmed blocks only)."""
    settings = load_settings(json_output)
    gateway = Gateway(settings)
    indexer = guarded(json_output, gateway.indexer)
    if not follow:
        result = guarded(json_output, indexer.sync)
        if json_output:
            emit_json({"ok": True, **_result(result)})
        else:
            span = (
                f"indexed blocks {result.from_block}–{result.to_block}"
                if result.to_block >= result.from_block
                else f"index up to date at block {result.to_block}"
            )
            console.print(
                f"{span}: {result.events} events"
                + (
                    f" (reorg: rolled back from block {result.reorged_from})"
                    if result.reorged_from
                    else ""
                )
            )
        return
    stopping = {"now": False}

    def stop(_signum: int, _frame: object) -> None:
        stopping["now"] = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    def report(result: SyncResult) -> None:
        if result.events or result.reorged_from:
            if json_output:
                emit_json({"ok": True, **_result(result)})
            else:
                console.print(
                    f"blocks {result.from_block}–{result.to_block}: {result.events} events"
                )

    guarded(
        json_output,
        lambda: indexer.follow(
            interval=interval, should_stop=lambda: stopping["now"], on_pass=report
        ),
    )


def reindex_command(json_output: JsonOption = False) -> None:
    """Drop the projection tables and index the chain again from the deployment block."""
    settings = load_settings(json_output)
    result = guarded(json_output, lambda: Gateway(settings).indexer().reindex())
    if json_output:
        emit_json({"ok": True, **_result(result)})
    else:
        console.print(
            f"reindexed blocks {result.from_block}–{result.to_block}: {result.events} events"
        )

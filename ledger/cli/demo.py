"""``xietong demo``: play the demo scenario against the running local chain."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Annotated

import typer

from ..demo import DemoAlreadyRunError, DemoReport, run_demo
from ..gateway import Gateway
from ._output import command_name, console, emit_json, guarded, load_settings, safe


def demo_command(
    workdir: Annotated[
        Path | None,
        typer.Option(
            "--workdir", help="Where the demo writes its data files (default var/demo in the home)."
        ),
    ] = None,
    once: Annotated[
        bool, typer.Option("--once", help="Succeed quietly if the demo already ran on this chain.")
    ] = False,
    json_output: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """Civil affairs shares its 低保 list with public security; a 出生一件事 joint commitment."""
    settings = load_settings(json_output)
    echo = (
        (lambda _line: None)
        if json_output
        else (lambda line: console.print(safe(line), highlight=False))
    )

    def run() -> DemoReport | None:
        try:
            folder = workdir if workdir is not None else settings.home / "var" / "demo"
            return run_demo(Gateway(settings), folder, echo=echo)
        except DemoAlreadyRunError:
            if once:
                return None
            raise

    report = guarded(json_output, run)
    if report is None:
        if json_output:
            emit_json({"ok": True, "already_ran": True})
        else:
            console.print(
                f"the demo already ran on this chain; see `{safe(command_name())} audit trail`.",
                highlight=False,
            )
        return
    if json_output:
        emit_json({"ok": True, **report.as_dict()})
        return
    console.print(
        f"\n[green]demo done[/]: {report.events} events indexed; "
        f"data files in {safe(report.workdir)}",
        highlight=False,
    )
    for title, named in (("version", report.versions), ("agreement", report.agreements)):
        for name, value in named.items():
            console.print(f"  {title:<11} {safe(name):<24} {safe(value)}", highlight=False)
    console.print(f"  commitment  {safe(report.commitment)}", highlight=False)
    command = command_name()
    console.print(
        f"Try: {safe(command)} verify "
        + safe(shlex.quote(report.files["november"]))
        + " --record 0 --salts "
        + safe(shlex.quote(report.files["november_salts"])),
        highlight=False,
    )
    console.print(f"     {safe(command)} audit trail", highlight=False)

"""``xietong node start|stop|status``: the local development chain."""

from __future__ import annotations

from typing import Annotated

import typer

from ..chain.node import NodeSpec, NodeStatus, node_status, start_node, stop_node
from ._output import console, emit_json, fail, guarded, load_settings, safe

app = typer.Typer(
    help="Run the local development chain (Hardhat 2 or Anvil) on 127.0.0.1.", no_args_is_help=True
)

EngineOption = Annotated[
    str | None, typer.Option("--engine", help="hardhat or anvil (default XIETONG_NODE_ENGINE).")
]
PortOption = Annotated[
    int | None, typer.Option("--port", min=1, max=65535, help="Port (default XIETONG_NODE_PORT).")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]


def _spec(engine: str | None, port: int | None, as_json: bool) -> NodeSpec:
    settings = load_settings(as_json)
    chosen = engine or settings.node_engine
    if chosen not in ("hardhat", "anvil"):
        fail(
            f"unknown engine {chosen!r}: choose hardhat or anvil.",
            kind="bad-input",
            as_json=as_json,
        )
    return NodeSpec(engine=chosen, port=port or settings.node_port, state_dir=settings.node_dir)  # type: ignore[arg-type]


def _show(status: NodeStatus, spec: NodeSpec, as_json: bool, headline: str) -> None:
    if as_json:
        emit_json({"ok": True, "engine": spec.engine, **status.as_dict()})
        return
    console.print(headline)
    console.print(
        f"  rpc      {safe(status.rpc_url)}  "
        f"({'answering' if status.answering else 'not answering'})"
    )
    if status.pid is not None:
        console.print(f"  pid      {status.pid}")
    if status.chain_id is not None:
        console.print(f"  chain id {safe(status.chain_id)}, block {safe(status.block_number)}")
    console.print(f"  log      {safe(status.log_file)}", highlight=False)


def _headline(spec: NodeSpec, status: NodeStatus) -> str:
    if status.running:
        return f"{safe(spec.engine)} node running"
    if status.answering:
        # Started elsewhere (another home, `make run`'s, a consortium node): it answers all the same.
        return (
            f"a node answers at {safe(spec.rpc_url)}, not started by `xietong node start` "
            f"in this home ({safe(spec.state_dir)})"
        )
    return f"{safe(spec.engine)} node not running"


@app.command()
def start(
    engine: EngineOption = None, port: PortOption = None, json_output: JsonOption = False
) -> None:
    """Start the node in the background and wait until it answers."""
    spec = _spec(engine, port, json_output)
    status = guarded(json_output, lambda: start_node(spec))
    _show(status, spec, json_output, f"[green]{safe(spec.engine)} node started[/]")


@app.command()
def stop(
    engine: EngineOption = None, port: PortOption = None, json_output: JsonOption = False
) -> None:
    """Stop the node started by `node start`."""
    spec = _spec(engine, port, json_output)
    stopped = guarded(json_output, lambda: stop_node(spec))
    if json_output:
        emit_json({"ok": True, "engine": spec.engine, "stopped": stopped, "rpc_url": spec.rpc_url})
    else:
        console.print(
            f"{safe(spec.engine)} node {'stopped' if stopped else 'was not running'} "
            f"({safe(spec.rpc_url)})."
        )


@app.command()
def status(
    engine: EngineOption = None, port: PortOption = None, json_output: JsonOption = False
) -> None:
    """Show whether the node runs and answers. Exits 1 when it does not answer."""
    spec = _spec(engine, port, json_output)
    current = guarded(json_output, lambda: node_status(spec))
    _show(
        current,
        spec,
        json_output,
        _headline(spec, current),
    )
    if not current.answering:
        raise typer.Exit(1)

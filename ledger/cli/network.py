"""``xietong network up|down|status``: a local consortium network, one geth Clique validator
per founding department (:mod:`ledger.chain.network`)."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Annotated, Any

import typer

from ..chain import open_client
from ..chain.deploy import load_founders, parse_account
from ..chain.network import (
    GETH_BINARY,
    Network,
    add_member,
    cast_votes,
    init_network,
    load_network,
    member_status,
    network_status,
    plan_network,
    start_member,
    start_network,
    stop_network,
)
from ..errors import ConfigurationError, InputError
from ..paths import PROJECT_ROOT
from ..settings import Settings
from ._output import console, emit_json, guarded, load_settings, safe

app = typer.Typer(
    help="Run a local consortium network: one geth Clique validator per department, on 127.0.0.x.",
    no_args_is_help=True,
)

JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]
LOCAL_FOUNDERS = PROJECT_ROOT / "scripts" / "founders.local.yaml"


def _network(settings: Settings) -> Network:
    """This home's network, run by ``XIETONG_GETH`` (default: the geth ``make geth`` built)."""
    return load_network(settings.network_dir, geth=settings.geth or GETH_BINARY)


def _members(network: Network) -> list[dict[str, Any]]:
    return [s.as_dict() for s in network_status(network)]


def _show(members: list[dict[str, Any]], headline: str) -> None:
    console.print(headline)
    for m in members:
        state = (
            f"block {m['block_number']}, {m['peers']} peers"
            + (", sealing" if m["sealing"] else ", not a signer")
            if m["answering"]
            else ("running, not answering" if m["running"] else "stopped")
        )
        console.print(
            f"  {safe(m['code'])}  {safe(m['name'])}  {safe(m['rpc_url'])}  {state}",
            highlight=False,
        )


def _hosts(first: str, count: int) -> list[str]:
    """``count`` loopback addresses from ``first`` on (127.0.0.2, 127.0.0.3, …)."""
    try:
        start = ipaddress.IPv4Address(first)
    except ValueError:
        raise InputError(
            f"the first validator's address {first!r} (--first-host or "
            "XIETONG_NETWORK_FIRST_HOST) is not an IPv4 address."
        ) from None
    hosts = [start + i for i in range(count)]
    if not all(h.is_loopback for h in hosts):
        raise InputError(
            f"the validators bind loopback addresses only: {first} and the {count - 1} after it "
            "must lie in 127.0.0.0/8."
        )
    return [str(h) for h in hosts]


@app.command()
def up(
    founders: Annotated[
        Path | None,
        typer.Option(
            "--founders",
            help="Founders file naming each department's signer (default: the local demo's).",
        ),
    ] = None,
    period: Annotated[
        int | None,
        typer.Option("--period", min=1, max=60, help="Seconds between blocks (default 2)."),
    ] = None,
    first_host: Annotated[
        str | None,
        typer.Option(
            "--first-host",
            help="Loopback address of the first validator, the next ones following "
            "(default 127.0.0.2).",
        ),
    ] = None,
    rpc_port: Annotated[int | None, typer.Option("--rpc-port", min=1, max=65535)] = None,
    p2p_port: Annotated[int | None, typer.Option("--p2p-port", min=1, max=65535)] = None,
    authrpc_port: Annotated[int | None, typer.Option("--authrpc-port", min=1, max=65535)] = None,
    json_output: JsonOption = False,
) -> None:
    """Create the network in this home the first time (genesis, keys, configs), then start every
    validator not running. Local mode only: the validators seal with development keys."""
    settings = load_settings(json_output)
    home = settings.network_dir

    def run() -> tuple[Network, list[dict[str, Any]]]:
        if settings.env != "local":
            raise ConfigurationError(
                "`xietong network up` runs every department's validator on this machine with "
                "development keys: set XIETONG_ENV=local (a real consortium runs one "
                "validator per machine: docs/CONSORTIUM.md)."
            )
        if (home / "network.json").exists():
            given = [founders, period, first_host, rpc_port, p2p_port, authrpc_port]
            if any(option is not None for option in given):
                raise InputError(
                    f"the network in {home} exists already: its founders, period, addresses "
                    "and ports were set when it was made; `xietong network up` without options "
                    "starts it (to make another, `xietong network down` and delete that folder)."
                )
        else:
            chosen = load_founders(founders or LOCAL_FOUNDERS, allow_dev=True)
            plan = plan_network(
                chosen.departments,
                home=home,
                period=period or settings.network_period,
                hosts=_hosts(first_host or settings.network_first_host, len(chosen.departments)),
                rpc_port=rpc_port or settings.network_rpc_port,
                p2p_port=p2p_port or settings.network_p2p_port,
                authrpc_port=authrpc_port or settings.network_authrpc_port,
                geth=settings.geth or GETH_BINARY,
            )
            init_network(plan)
        network = _network(settings)  # as written: the plan read back once
        start_network(network)
        return network, _members(network)

    network, members = guarded(json_output, run)
    if json_output:
        emit_json({"ok": True, "home": str(home), "chain_id": network.chain_id, "members": members})
        return
    _show(members, f"[green]network up[/] (chain id {network.chain_id}, {safe(home)})")
    console.print(
        "Deploy on it: XIETONG_RPC_URL="
        + safe(members[0]["rpc_url"])
        + " xietong deploy --founders "
        + safe(str(founders or LOCAL_FOUNDERS)),
        highlight=False,
    )


@app.command()
def down(json_output: JsonOption = False) -> None:
    """Stop every validator of this home's network (its chain stays for the next `up`)."""
    settings = load_settings(json_output)
    stopped = guarded(json_output, lambda: stop_network(_network(settings)))
    if json_output:
        emit_json({"ok": True, "stopped": stopped})
    else:
        console.print(
            f"stopped {len(stopped)} validator(s)" + (f": {', '.join(stopped)}" if stopped else "")
        )


@app.command()
def status(json_output: JsonOption = False) -> None:
    """Each validator: running, answering, head block, peers, sealing. Exits 1 when none answers."""
    settings = load_settings(json_output)
    members = guarded(json_output, lambda: _members(_network(settings)))
    if json_output:
        emit_json({"ok": True, "members": members})
    else:
        _show(members, f"network at {safe(settings.network_dir)}")
    if not any(m["answering"] for m in members):
        raise typer.Exit(1)


@app.command()
def join(
    code: Annotated[str, typer.Argument(help="The department's code (admitted, or to be).")],
    name: Annotated[str, typer.Option("--name", help="Its name.")],
    signer: Annotated[
        str, typer.Option("--signer", help="Its validator's signer (dev:N in local mode).")
    ],
    json_output: JsonOption = False,
) -> None:
    """Add and start a validator for a department that joins after genesis, on the next
    loopback address. It follows the chain; it seals once the signers vote it in
    (`xietong network votes`, after its admission on chain)."""
    settings = load_settings(json_output)

    def run() -> dict[str, Any]:
        network = _network(settings)
        if settings.env != "local":
            raise ConfigurationError(
                "`xietong network join` runs the validator here with a development key: set "
                "XIETONG_ENV=local."
            )
        account = parse_account(signer, "--signer", allow_dev=True)
        last = network.members[-1]
        [host] = _hosts(str(ipaddress.IPv4Address(last.host) + 1), 1)
        grown = add_member(
            network,
            code=code.strip(),
            name=name.strip(),
            signer=account,
            host=host,
            rpc_port=last.rpc_port,
            p2p_port=last.p2p_port,
            authrpc_port=last.authrpc_port,
        )
        member = grown.member(code.strip())
        start_member(grown, member)
        return member_status(grown, member).as_dict()

    joined = guarded(json_output, run)
    if json_output:
        emit_json({"ok": True, "member": joined})
    else:
        _show(
            [joined], "[green]validator added[/]; it seals once voted in (`xietong network votes`)"
        )


@app.command()
def votes(json_output: JsonOption = False) -> None:
    """Vote the signer set after the governance on chain: the validator of an active
    department in, a suspended department's out (on every running signer's validator)."""
    settings = load_settings(json_output)

    def run() -> list[dict[str, Any]]:
        network = _network(settings)
        client, _ = open_client(settings)
        return [v.as_dict() for v in cast_votes(network, client)]

    cast = guarded(json_output, run)
    if json_output:
        emit_json({"ok": True, "votes": cast})
        return
    if not cast:
        console.print("the signer set follows the governance on chain: no vote needed")
    for vote in cast:
        console.print(
            f"voted to {vote['vote']} {safe(vote['code'])}'s signer {safe(vote['signer'])} "
            f"({len(vote['voted_by'])} validator(s))",
            highlight=False,
        )

"""``xietong consortium show|check``: the consortium trust file and whether a node matches it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from web3 import Web3

from ..chain.client import connect
from ..errors import InputError
from ..settings import Settings, trust_file_beside
from ..trust import ConsortiumTrust, check_node, load_trust
from ._output import console, emit_json, guarded, load_settings, safe

app = typer.Typer(
    help="The consortium trust file: chain id, genesis hash, contract addresses, fingerprint.",
    no_args_is_help=True,
)

JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]
FileOption = Annotated[
    Path | None,
    typer.Option(
        "--file",
        help="A trust file (e.g. one received from the consortium); default: this chain's, "
        "beside its deployment manifest.",
    ),
]


def _node(settings: Settings, rpc: str | None = None) -> Web3:
    return connect(rpc or settings.rpc_url, timeout=settings.rpc_timeout)


def _configured_file(settings: Settings, w3: Web3 | None = None) -> Path:
    """The configured chain's trust file: beside XIETONG_DEPLOYMENT when it is set (no node
    needed), else beside ``deployments/<chain-id>.json`` for the node's chain id."""
    if settings.deployment is not None:
        return trust_file_beside(settings.deployment)
    return settings.trust_path(int((w3 or _node(settings)).eth.chain_id))


def _document(path: Path, trust: ConsortiumTrust) -> dict[str, Any]:
    return {"file": str(path), "fingerprint": trust.fingerprint, **trust.as_dict()}


def _print_trust(document: dict[str, Any]) -> None:
    # Values from a file someone handed over: shown literally, like any data.
    console.print(f"consortium trust file {safe(document['file'])}", highlight=False)
    console.print(f"  fingerprint         {safe(document['fingerprint'])}", highlight=False)
    console.print(f"  chain id            {safe(document['chain_id'])}", highlight=False)
    console.print(f"  genesis hash        {safe(document['genesis_hash'])}", highlight=False)
    console.print(
        f"  deployment block    {safe(document['deployment_block'])} "
        f"({safe(document['deployment_block_hash'])})",
        highlight=False,
    )
    for name, address in document["contracts"].items():
        console.print(f"  {safe(name):<19} {safe(address)}", highlight=False)
    checkpoints = document.get("checkpoints")
    if checkpoints is not None:
        console.print(
            f"  checkpoints         {checkpoints['threshold']} of "
            f"{len({c['department'] for c in checkpoints['cosigners']})} departments",
            highlight=False,
        )
        for cosigner in checkpoints["cosigners"]:
            console.print(
                f"    cosigner          {safe(cosigner['address'])} ({safe(cosigner['code'])})",
                highlight=False,
            )


@app.command()
def show(
    file: FileOption = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Also write the trust file here, to hand it to a verifier."),
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Show a trust file and its fingerprint, to compare with the consortium's out of band
    (read aloud, on paper). With --file no node is needed."""
    settings = load_settings(json_output)

    def run() -> dict[str, Any]:
        path = file if file is not None else _configured_file(settings)
        trust = load_trust(path)
        if out is not None:
            try:
                trust.write(out)
            except OSError as exc:
                raise InputError(f"cannot write {out} ({exc.strerror}).") from None
        return _document(path, trust) | ({"out": str(out)} if out is not None else {})

    document = guarded(json_output, run)
    if json_output:
        emit_json({"ok": True, **document})
        return
    _print_trust(document)


@app.command()
def check(
    file: FileOption = None,
    rpc: Annotated[
        str | None, typer.Option("--rpc", help="Any node of the chain (default XIETONG_RPC_URL).")
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Check that the node serves the chain the trust file describes: chain id, genesis block,
    deployment block and contract code at each address. Exits 1 when it does not."""
    settings = load_settings(json_output)

    def run() -> dict[str, Any]:
        w3 = _node(settings, rpc)
        path = file if file is not None else _configured_file(settings, w3)
        trust = load_trust(path)
        check_node(trust, w3)  # TrustMismatchError: the sentence, exit 1
        return {"matches": True, **_document(path, trust)}

    document = guarded(json_output, run)
    if json_output:
        emit_json({"ok": True, **document})
        return
    console.print(
        f"[green]matches[/]: the node serves the consortium's chain {safe(document['chain_id'])} "
        f"(genesis {safe(document['genesis_hash'])}, contracts deployed in block "
        f"{safe(document['deployment_block'])}), trust file {safe(document['file'])}, "
        f"fingerprint {safe(document['fingerprint'])}",
        highlight=False,
    )

"""``xietong deploy``: deploy the four contracts and bootstrap the founding departments."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..chain.client import connect
from ..chain.deploy import Deployment, deploy, existing_deployment, load_founders
from ..chain.network import load_network
from ..keys import load_signer
from ..settings import Settings
from ._output import console, emit_json, guarded, load_settings, safe


def deploy_command(
    founders: Annotated[
        Path,
        typer.Option("--founders", help="YAML/JSON file of founding departments and auditors."),
    ],
    force: Annotated[
        bool, typer.Option("--force", help="Deploy even if this chain already has a deployment.")
    ] = False,
    reuse: Annotated[
        bool,
        typer.Option(
            "--reuse", help="If this chain already has a live deployment, show it and succeed."
        ),
    ] = False,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print the manifest as one JSON document.")
    ] = False,
) -> None:
    """Deploy DepartmentRegistry, DatasetRegistry, SharingAgreements and JointCommitments, wired
    together, and write the manifest deployments/<chain-id>.json and the consortium trust file
    deployments/<chain-id>.consortium.json beside it (--reuse writes it again from the manifest)."""
    settings = load_settings(json_output)

    def run() -> tuple[Deployment, Path, Path, bool]:
        founders_file = load_founders(founders, allow_dev=settings.env == "local")
        w3 = connect(settings.rpc_url)
        chain_id = int(w3.eth.chain_id)
        path, trust_path = settings.deployment_path(chain_id), settings.trust_path(chain_id)
        if reuse and not force:
            live = existing_deployment(w3, path)
            if live is not None:
                live.trust().write(trust_path)
                return live, path, trust_path, False
        deployer = load_signer(settings)
        deployment = deploy(
            w3,
            founders_file,
            deployer=deployer,
            manifest_path=path,
            trust_path=trust_path,
            force=force,
            clique_period=_network_period(settings, chain_id),
        )
        return deployment, path, trust_path, True

    deployment, path, trust_path, fresh = guarded(json_output, run)
    fingerprint = deployment.trust().fingerprint
    if json_output:
        emit_json(
            {
                "ok": True,
                "deployed": fresh,
                "manifest": str(path),
                "trust_file": str(trust_path),
                "fingerprint": fingerprint,
                **deployment.as_dict(),
            }
        )
        return
    verb = "deployed" if fresh else "already deployed"
    console.print(
        f"[green]{verb}[/] on chain {deployment.chain_id} at block {deployment.block_number}"
    )
    for name, address in deployment.addresses.items():
        console.print(f"  {safe(name):<20} {safe(address)}")
    console.print("founding departments:")
    for dept in deployment.departments:  # names from the founders file or the chain: data
        console.print(f"  {safe(dept['name'])}", highlight=False)
        console.print(f"    id       {safe(dept['id'])}", highlight=False)
        console.print(f"    operator {safe(dept['operator'])}", highlight=False)
    for auditor in deployment.auditors:
        console.print(f"  auditor {safe(auditor)}")
    console.print(f"manifest: {safe(path)}", highlight=False)
    console.print(f"consortium trust file: {safe(trust_path)}", highlight=False)
    console.print(f"fingerprint: {safe(fingerprint)}", highlight=False)


def _network_period(settings: Settings, chain_id: int) -> int:
    """The block period of a Clique network: its plan's (``xietong network up``) when the plan
    is of this chain, else XIETONG_NETWORK_PERIOD (the network's founders set it alike)."""
    plan = settings.network_dir / "network.json"
    if plan.exists():
        network = load_network(settings.network_dir)
        if network.chain_id == chain_id:
            return network.period
    return settings.network_period

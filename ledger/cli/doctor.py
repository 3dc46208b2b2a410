"""``xietong doctor``: where the gateway's state is and whether its parts agree."""

from __future__ import annotations

from typing import Annotated

import typer

from ..doctor import Diagnosis, diagnose
from ._output import console, emit_json, guarded, load_settings, safe

_MARK = {"ok": "[green]ok[/]", "warning": "[yellow]warning[/]", "failed": "[red]failed[/]"}


def doctor_command(
    json_output: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """Print where everything is (home, manifest, trust file, database, node files, keystore)
    and whether node, deployment, trust file, database and key agree. Changes nothing; exits
    1 when a check fails."""
    settings = load_settings(json_output)
    diagnosis: Diagnosis = guarded(json_output, lambda: diagnose(settings))
    if json_output:
        emit_json({"ok": diagnosis.ok, **diagnosis.as_dict()})
    else:
        paths = diagnosis.paths
        console.print(f"home        {safe(paths['home'])}  (from {safe(paths['home_from'])})")
        shown = [
            ("settings", paths["env_file"] + ("" if paths["env_file_present"] else " (none)")),
            ("node", paths["rpc_url"]),
            (
                "manifest",
                paths.get("deployment") or str(paths["deployments_dir"]) + "/<chain-id>.json",
            ),
            ("trust file", paths.get("trust_file")),
            ("database", paths["database_url"]),
            ("node files", paths["node_dir"]),
            (
                "keystore",
                paths["keystore"]
                or ("development key (local mode)" if paths["env"] == "local" else None),
            ),
        ]
        for label, value in shown:
            if value is not None:
                console.print(f"{label:<11} {safe(value)}", highlight=False)
        console.print()
        for finding in diagnosis.findings:
            mark = _MARK.get(finding.state, f"[dim]{finding.state}[/]")
            console.print(
                f"{mark}{' ' * (9 - len(finding.state))}{safe(finding.subject)}: "
                f"{safe(finding.detail)}",
                highlight=False,
            )
    if not diagnosis.ok:
        raise typer.Exit(1)

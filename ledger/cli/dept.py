"""``xietong dept …``: the consortium's departments as recorded on chain."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from .. import refs as _refs
from ..chain import open_client
from ..chain.client import ChainClient
from ..chain.reads import read_department
from ._output import console, emit_json, guarded, load_settings

app = typer.Typer(help="Departments of the consortium.", no_args_is_help=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]


def _department(client: ChainClient, dept_id: bytes) -> dict[str, Any]:
    d = read_department(client, dept_id)
    return {
        "id": "0x" + d.id.hex(),
        "name": d.name,
        "status": d.status.label,
        "admitted_at": d.admitted_at,
        "status_changed_at": d.status_changed_at,
        "operators": client.call("DepartmentRegistry", "operators", dept_id),
    }


@app.command("list")
def list_departments(json_output: JsonOption = False) -> None:
    """List every department ever admitted, with status and operators."""
    settings = load_settings(json_output)

    def run() -> list[dict[str, Any]]:
        client, _ = open_client(settings)
        count = client.call("DepartmentRegistry", "departmentCount")
        return [
            _department(client, client.call("DepartmentRegistry", "departmentIdAt", i))
            for i in range(count)
        ]

    departments = guarded(json_output, run)
    if json_output:
        emit_json({"ok": True, "departments": departments})
        return
    table = Table("name", "status", "id", "operators")
    for d in departments:
        table.add_row(d["name"], d["status"], d["id"], "\n".join(d["operators"]))
    console.print(table)


@app.command("show")
def show(
    department: Annotated[str, typer.Argument(help="Department id (0x…) or its code.")],
    json_output: JsonOption = False,
) -> None:
    """Show one department."""
    settings = load_settings(json_output)

    def run() -> dict[str, Any]:
        dept_id = _refs.id_or_code(department, what="department id")
        client, _ = open_client(settings)
        return _department(client, dept_id)

    d = guarded(json_output, run)
    if json_output:
        emit_json({"ok": True, "department": d})
        return
    console.print(f"{d['name']} ({d['status']})", highlight=False)
    console.print(f"  id        {d['id']}")
    console.print(f"  operators {', '.join(d['operators'])}")

"""``xietong apikey create|list|revoke``: keys for the HTTP API (stored hashed)."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table
from sqlmodel import Session

from ..apikeys import SCOPES, create_api_key, list_api_keys, revoke_api_key
from ..db.engine import create_db_engine
from ..db.queries import iso
from ._output import console, emit_json, guarded, load_settings, respond, safe

app = typer.Typer(help="API keys of the HTTP API.", no_args_is_help=True)
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]


def _row(key: Any) -> dict[str, Any]:
    return {
        "id": key.id,
        "name": key.name,
        "scope": key.scope,
        "created_at": iso(key.created_at),
        "revoked_at": iso(key.revoked_at),
    }


@app.command()
def create(
    scope: Annotated[str, typer.Option("--scope", help=f"One of {', '.join(SCOPES)}.")],
    name: Annotated[str, typer.Option("--name", help="Who or what uses the key.")] = "api client",
    json_output: JsonOption = False,
) -> None:
    """Create a key; it is printed once and only its hash is kept."""
    settings = load_settings(json_output)

    def run() -> dict[str, Any]:
        with Session(create_db_engine(settings.database_url)) as session:
            row, key = create_api_key(session=session, name=name, scope=scope)
            return {**_row(row), "key": key}

    result = guarded(json_output, run)
    if json_output:
        emit_json({"ok": True, **result})
        return
    console.print(
        f"[green]created[/] key {safe(result['id'])} ({safe(result['scope'])}) "
        f"for {safe(result['name'])}:",
        highlight=False,
    )
    print(result["key"])  # plain, so it can be captured
    console.print("Send it as the X-API-Key header. It is not shown again.")


@app.command("list")
def list_keys(json_output: JsonOption = False) -> None:
    """List keys (never the keys themselves)."""
    settings = load_settings(json_output)

    def run() -> list[dict[str, Any]]:
        with Session(create_db_engine(settings.database_url)) as session:
            return [_row(k) for k in list_api_keys(session=session)]

    rows = guarded(json_output, run)
    if json_output:
        emit_json({"ok": True, "keys": rows})
        return
    table = Table("id", "scope", "name", "created", "revoked")
    for r in rows:  # table cells are Rich markup; a key's name is anyone's text
        table.add_row(
            safe(r["id"]),
            safe(r["scope"]),
            safe(r["name"]),
            safe((r["created_at"] or "")[:19]),
            safe((r["revoked_at"] or "")[:19]),
        )
    console.print(table)


@app.command()
def revoke(
    key_id: Annotated[str, typer.Argument(help="The key's id (from `apikey list`).")],
    json_output: JsonOption = False,
) -> None:
    """Revoke a key (it stops working within seconds on every gateway instance)."""
    settings = load_settings(json_output)

    def run() -> dict[str, Any]:
        with Session(create_db_engine(settings.database_url)) as session:
            return _row(revoke_api_key(session=session, key_id=key_id))

    respond(
        json_output,
        run,
        lambda result: f"[green]revoked[/] key {safe(result['id'])} ({safe(result['name'])})",
    )

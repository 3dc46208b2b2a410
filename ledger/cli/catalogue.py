"""``xietong catalogue add|import|export|show``: the texts behind the chain's hashes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from sqlmodel import Session

from .. import catalogue
from ..db.engine import create_db_engine
from ..errors import InputError
from ..file_modes import replace_file
from ._output import console, emit_json, guarded, load_settings, respond, safe

app = typer.Typer(
    help="The catalogue: texts (codes, purposes, legal bases, duties…) behind the chain's "
    "hashes, checked before they are shown.",
    no_args_is_help=True,
)
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]
#: The largest catalogue file read (a full catalogue of MAX_TEXTS long texts fits).
MAX_CATALOGUE_BYTES = 64 * 1024 * 1024


@app.command()
def add(
    texts: Annotated[list[str], typer.Argument(help="Texts as they were typed.")],
    rule: Annotated[
        str,
        typer.Option(
            "--rule",
            help="code: keccak256 of the trimmed text (codes, purposes, legal bases, duties, "
            "references, reasons); text: of the exact text (a dataset's description).",
        ),
    ] = "code",
    json_output: JsonOption = False,
) -> None:
    """Keep texts under the hashes their rule gives, so pages and answers name them."""
    settings = load_settings(json_output)

    def run() -> dict[str, Any]:
        pairs = [(rule, text) for text in texts]
        for _, text in pairs:
            catalogue.hash_of(text, rule)  # every text checked before any is kept
        with Session(create_db_engine(settings.database_url)) as session:
            hashes = catalogue.remember(
                session=session, texts=pairs, source="xietong catalogue add"
            )
        return {"texts": [{"text": t, "hash": h} for (_, t), h in zip(pairs, hashes, strict=True)]}

    respond(
        json_output,
        run,
        lambda result: "\n".join(
            f"{safe(item['hash'])}  {safe(item['text'])}" for item in result["texts"]
        ),
    )


@app.command("import")
def import_file(
    file: Annotated[Path, typer.Argument(help="A xietong-catalogue/1 file (catalogue export).")],
    json_output: JsonOption = False,
) -> None:
    """Import another department's catalogue: each text is hashed again, and names only what
    the chain holds under that hash. All or nothing."""
    settings = load_settings(json_output)

    def run() -> dict[str, Any]:
        try:
            with file.open("rb") as handle:
                document = handle.read(MAX_CATALOGUE_BYTES + 1)
        except FileNotFoundError:
            raise InputError(f"{file} does not exist.") from None
        except OSError as exc:
            raise InputError(f"cannot read {file} ({exc.strerror}).") from None
        if len(document) > MAX_CATALOGUE_BYTES:
            raise InputError(f"{file} is larger than a catalogue may be (64 MiB).")
        with Session(create_db_engine(settings.database_url)) as session:
            hashes = catalogue.import_texts(
                session=session, document=document, source=f"import of {file.name}"
            )
        return {"file": str(file), "texts": len(hashes)}

    respond(
        json_output,
        run,
        lambda result: f"[green]imported[/] {result['texts']} text(s) from {safe(result['file'])}",
    )


@app.command()
def export(
    out: Annotated[Path, typer.Option("--out", help="File to write.")],
    json_output: JsonOption = False,
) -> None:
    """Write this gateway's catalogue for another department to import."""
    settings = load_settings(json_output)

    def run() -> dict[str, Any]:
        with Session(create_db_engine(settings.database_url)) as session:
            document = catalogue.export_texts(session=session)
        text = json.dumps(document, ensure_ascii=False, indent=1) + "\n"
        try:
            replace_file(out, text)
        except OSError as exc:
            raise InputError(f"cannot write {out} ({exc.strerror}).") from None
        return {"file": str(out), "texts": len(document["texts"])}

    respond(
        json_output,
        run,
        lambda result: f"[green]exported[/] {result['texts']} text(s) to {safe(result['file'])}",
    )


@app.command()
def show(
    hashes: Annotated[list[str], typer.Argument(help="0x hashes (or dataset ids) to name.")],
    json_output: JsonOption = False,
) -> None:
    """What the catalogue says of each hash: its text (checked), or that it does not know it."""
    settings = load_settings(json_output)

    def run() -> dict[str, Any]:
        wanted = catalogue.parse_hashes(hashes)
        with Session(create_db_engine(settings.database_url)) as session:
            named = catalogue.names_for(session=session, hashes=wanted)
        return {
            "names": {
                value: named.get(value, {"text": None, "verified": False, "known": False})
                | {"known": value in named}
                for value in wanted
            }
        }

    result = guarded(json_output, run)
    if json_output:
        emit_json({"ok": True, **result})
        return
    for value, name in result["names"].items():
        if name["verified"]:
            owner = f"  ({safe(name['owner'])})" if name.get("owner") else ""
            console.print(f"{safe(value)}  {safe(name['text'])}{owner}", highlight=False)
        elif name["known"]:
            console.print(
                f"{safe(value)}  [red]differs[/]: the catalogue's text no longer gives this hash",
                highlight=False,
            )
        else:
            console.print(f"{safe(value)}  [yellow]unknown[/] to the catalogue", highlight=False)

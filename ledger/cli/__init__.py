"""The ``xietong`` command."""

from __future__ import annotations

import sys

import typer

from . import (
    agreement,
    apikey,
    audit,
    catalogue,
    checkpoint,
    commitment,
    consortium,
    dataset,
    dept,
    network,
    node,
    watch,
)
from ._output import emit_json, error_document
from .demo import demo_command
from .deploy import deploy_command
from .doctor import doctor_command
from .index import index_command, reindex_command
from .serve import serve_command
from .verify import verify_command, verify_proof_command

__all__ = ["app", "main"]

app = typer.Typer(
    name="xietong",
    help="Xietong (协同): a permissioned audit ledger for inter-agency collaboration.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(node.app, name="node")
app.add_typer(network.app, name="network")
app.add_typer(dept.app, name="dept")
app.add_typer(dataset.app, name="dataset")
app.add_typer(agreement.app, name="agreement")
app.add_typer(commitment.app, name="commitment")
app.add_typer(audit.app, name="audit")
app.add_typer(apikey.app, name="apikey")
app.add_typer(consortium.app, name="consortium")
app.add_typer(catalogue.app, name="catalogue")
app.add_typer(watch.app, name="watch")
app.add_typer(checkpoint.app, name="checkpoint")
app.command("deploy")(deploy_command)
app.command("demo")(demo_command)
app.command("doctor")(doctor_command)
app.command("verify")(verify_command)
app.command("verify-proof")(verify_proof_command)
app.command("index")(index_command)
app.command("reindex")(reindex_command)
app.command("serve")(serve_command)


def main() -> None:
    """Entry point of the ``xietong`` script. With ``--json`` anywhere on the command line, a
    usage error (an unknown option, a missing or malformed argument) is one JSON document too,
    ``{"ok": false, "error": {"type": "usage", …}}``, with exit status 2."""
    if "--json" not in sys.argv[1:]:
        app()
        return
    try:
        code = app(standalone_mode=False)
    except typer.Abort:
        emit_json(error_document("interrupted", "interrupted."))
        sys.exit(130)
    except typer.TyperException as exc:  # click's usage errors, as typer vendors them
        emit_json(error_document("usage", _usage_sentence(exc)))
        sys.exit(int(getattr(exc, "exit_code", 2)))
    sys.exit(code if isinstance(code, int) else 0)


def _usage_sentence(error: Exception) -> str:
    """A usage error as one sentence, naming the help to read."""
    format_message = getattr(error, "format_message", None)
    text = str(format_message() if callable(format_message) else error).strip().rstrip(".")
    context = getattr(error, "ctx", None)
    path = getattr(context, "command_path", None)
    return f"{text} (see `{path} --help`)." if path else f"{text}."

"""The ``xietong`` command."""

from __future__ import annotations

import typer

from . import agreement, apikey, audit, commitment, consortium, dataset, dept, node
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
app.add_typer(dept.app, name="dept")
app.add_typer(dataset.app, name="dataset")
app.add_typer(agreement.app, name="agreement")
app.add_typer(commitment.app, name="commitment")
app.add_typer(audit.app, name="audit")
app.add_typer(apikey.app, name="apikey")
app.add_typer(consortium.app, name="consortium")
app.command("deploy")(deploy_command)
app.command("demo")(demo_command)
app.command("doctor")(doctor_command)
app.command("verify")(verify_command)
app.command("verify-proof")(verify_proof_command)
app.command("index")(index_command)
app.command("reindex")(reindex_command)
app.command("serve")(serve_command)


def main() -> None:
    """Entry point of the ``xietong`` script."""
    app()

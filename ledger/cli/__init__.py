"""The ``xietong`` command."""

from __future__ import annotations

import typer

from . import dept, node
from .deploy import deploy_command

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
app.command("deploy")(deploy_command)


def main() -> None:
    """Entry point of the ``xietong`` script."""
    app()

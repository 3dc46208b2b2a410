"""How commands speak: rich text for people, one JSON document with ``--json``, and one
clear sentence (never a stack trace) when something goes wrong."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console

from ..errors import LedgerError
from ..events import jsonable
from ..settings import Settings

T = TypeVar("T")

console = Console()
err_console = Console(stderr=True)

#: Exit codes: 1 for a refused operation or bad input, 2 for usage errors (typer), 70 internal.
EXIT_ERROR = 1
EXIT_INTERNAL = 70


def hexstr(value: Any) -> str:
    """0x-hex of a bytes32 value as web3 returns it."""
    return "0x" + bytes(value).hex()


def emit_json(document: dict[str, Any]) -> None:
    """Print one JSON document on stdout."""
    sys.stdout.write(json.dumps(jsonable(document), ensure_ascii=False, indent=2) + "\n")


def fail(message: str, *, kind: str, as_json: bool, code: int = EXIT_ERROR) -> NoReturn:
    """Report an error as one sentence (or ``{"ok": false, "error": …}``) and exit."""
    if as_json:
        emit_json({"ok": False, "error": {"type": kind, "message": message}})
    else:
        err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def load_settings(as_json: bool) -> Settings:
    """Build the settings once, turning invalid variables into one sentence."""
    try:
        return Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        field = (
            "XIETONG_" + str(first["loc"][0]).upper() if first.get("loc") else "a XIETONG_ variable"
        )
        fail(f"{field} is invalid: {first['msg']}.", kind="configuration", as_json=as_json)


def guarded(as_json: bool, action: Callable[[], T]) -> T:
    """Run ``action``; LedgerErrors become one sentence, anything else a short internal error."""
    try:
        return action()
    except typer.Exit:
        raise
    except LedgerError as exc:
        fail(str(exc), kind=exc.kind, as_json=as_json)
    except KeyboardInterrupt:
        fail("interrupted.", kind="interrupted", as_json=as_json, code=130)
    except Exception as exc:
        if os.environ.get("XIETONG_DEBUG"):
            raise
        fail(
            f"internal error ({type(exc).__name__}); rerun with XIETONG_DEBUG=1 for details.",
            kind="internal",
            as_json=as_json,
            code=EXIT_INTERNAL,
        )


def respond(
    as_json: bool, action: Callable[[], dict[str, Any]], say: Callable[[dict[str, Any]], str]
) -> None:
    """Run ``action`` guarded; print ``{"ok": true, …result}`` or the sentence ``say(result)``."""
    result = guarded(as_json, action)
    if as_json:
        emit_json({"ok": True, **result})
    else:
        console.print(say(result), highlight=False)

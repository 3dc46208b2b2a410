"""How commands speak: rich text for people, one JSON document with ``--json``, and one
clear sentence (never a stack trace) when something goes wrong.

Nothing that comes from data is interpreted by the terminal: every value a command prints
for people (names, paths, codes, error sentences quoting them) goes through :func:`safe`,
which escapes Rich markup and shows control, format, bidirectional and invisible characters
as escapes (``\\u000a``, ``\\u001b``, ``\\u202e``; :func:`ledger.display.visible`), so a value
is always one line of literal text."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape

from ..display import visible
from ..errors import InputError, LedgerError
from ..events import jsonable
from ..settings import Settings

T = TypeVar("T")

# No emoji codes (``:warning:``) from data; lines are never broken by Rich (a long name
# cannot push text to the start of a line of its own), the terminal wraps them.
console = Console(emoji=False, soft_wrap=True)
err_console = Console(stderr=True, emoji=False, soft_wrap=True)

#: Exit codes: 1 for a refused operation or bad input, 2 for usage errors (typer), 70 internal.
EXIT_ERROR = 1
EXIT_INTERNAL = 70


def safe(value: object) -> str:
    """``value`` (data: a name, a path, a code, a sentence quoting them) ready to be put in
    Rich markup: its text made :func:`~ledger.display.visible` (every control, format,
    bidirectional or invisible character as a ``\\uXXXX`` escape, backslashes doubled: one
    line, shown as it is), with markup such as ``[/oops]`` or ``[link=…]`` escaped."""
    return escape(visible(str(value)))


def hexstr(value: Any) -> str:
    """0x-hex of a bytes32 value as web3 returns it."""
    return "0x" + bytes(value).hex()


def command_name() -> str:
    """How to run this command again from the same folder, for hints: ``xietong`` when that
    name finds this very program on PATH, else the path it was started by (``make run`` runs
    ``.venv/bin/xietong`` with no venv activated)."""
    started = sys.argv[0] if sys.argv and sys.argv[0] else "xietong"
    if Path(started).name != "xietong":  # python -m ledger.cli
        return f"{shlex.quote(sys.executable)} -m ledger.cli"
    found = shutil.which("xietong")
    if found is not None and Path(found).resolve() == Path(started).resolve():
        return "xietong"
    return shlex.quote(started)


def must_exist(path: Path) -> None:
    """Refuse a path that is not there, in one sentence, before anything else is done."""
    if not path.exists():
        raise InputError(f"{path} does not exist.")


def named(digest: str, names: dict[str, str]) -> str:
    """A hash as people read it, ready for Rich markup: the catalogue's checked text with the
    hash beside it, or the hash marked ``not catalogued``."""
    text = names.get(digest)
    if text is None:
        return f"{safe(digest)} [dim](not catalogued)[/]"
    return f"{safe(text)} ({safe(digest)})"


def emit_json(document: dict[str, Any]) -> None:
    """Print one JSON document on stdout."""
    sys.stdout.write(json.dumps(jsonable(document), ensure_ascii=False, indent=2) + "\n")


def error_document(kind: str, message: str, reason: str | None = None) -> dict[str, Any]:
    """The one JSON document of a failure under ``--json`` (``reason``: the rule an offline
    proof broke, docs/OFFLINE_PROOFS.md)."""
    error = {"type": kind, "message": message}
    return {"ok": False, "error": error if reason is None else {**error, "reason": reason}}


def fail(
    message: str,
    *,
    kind: str,
    as_json: bool,
    code: int = EXIT_ERROR,
    reason: str | None = None,
) -> NoReturn:
    """Report an error as one sentence (or ``{"ok": false, "error": …}``) and exit."""
    report_error(message, kind=kind, as_json=as_json, reason=reason)
    raise typer.Exit(code)


def report_error(message: str, *, kind: str, as_json: bool, reason: str | None = None) -> None:
    """Report an error as one sentence (or ``{"ok": false, "error": …}``), and go on."""
    if as_json:
        emit_json(error_document(kind, message, reason))
    else:
        if reason is not None:
            message = f"refused ({reason}): {message}"
        # The sentence is the library's: values it quotes are escaped there already, so only
        # what it left unescaped is made visible (backslashes kept as they are).
        shown = escape(visible(message, double_backslashes=False))
        err_console.print(f"[bold red]error:[/] {shown}", highlight=False)


def load_settings(as_json: bool) -> Settings:
    """Build the settings once, turning invalid variables into one sentence."""
    try:
        return Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        field = (
            "XIETONG_" + str(first["loc"][0]).upper() if first.get("loc") else "a XIETONG_ variable"
        )
        reason = str(first["msg"]).removeprefix("Value error, ")  # pydantic's prefix: noise
        fail(f"{field} is invalid: {reason}.", kind="configuration", as_json=as_json)


def guarded(as_json: bool, action: Callable[[], T]) -> T:
    """Run ``action``; LedgerErrors become one sentence, anything else a short internal error."""
    try:
        return action()
    except typer.Exit:
        raise
    except LedgerError as exc:
        fail(str(exc), kind=exc.kind, as_json=as_json, reason=getattr(exc, "reason", None))
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
    """Run ``action`` guarded; print ``{"ok": true, …result}`` or the sentence ``say(result)``
    (Rich markup, every value from data in it passed through :func:`safe`)."""
    print_result(as_json, guarded(as_json, action), say)


def print_result(
    as_json: bool, result: dict[str, Any], say: Callable[[dict[str, Any]], str]
) -> None:
    """Print ``{"ok": true, …result}`` or the sentence ``say(result)`` (see :func:`respond`)."""
    if as_json:
        emit_json({"ok": True, **result})
    else:
        console.print(say(result), highlight=False)

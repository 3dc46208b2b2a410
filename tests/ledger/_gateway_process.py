"""Gateway processes for the fault tests: the real ``xietong`` CLI in a process of its own.

Each process is forked from a server process that imported the gateway once
(multiprocessing's ``forkserver`` with this module preloaded), so it starts in milliseconds
instead of the seconds an interpreter takes to import web3 on a loaded machine, yet it is a
separate process like ``python -m ledger.cli``: its own database and JSON-RPC connections,
its own environment, and nothing shared with the test (the server opened no connection).

:func:`run_cli` runs a command as ``xietong`` would; :func:`run_cli_killed_at` does the
same with the anchorer's (the eraser's, the webhook outbox's) crash hook sending ``SIGKILL`` at one step to the
process itself or to the chain node.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.context import ForkServerContext
from pathlib import Path
from typing import Any

import ledger.cli
from ledger.gateway import Gateway

__all__ = ["CliRun", "run_cli", "run_cli_killed_at"]

_context: ForkServerContext | None = None


def _forkserver() -> ForkServerContext:
    global _context
    if _context is None:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload([__name__])
        _context = context
    return _context


@dataclass(frozen=True)
class CliRun:
    """How a gateway process ended: its exit code (``-9`` when killed) and its output."""

    returncode: int
    stdout: str
    stderr: str


def _enter(env: dict[str, str], cwd: Path, out: Path, err: Path) -> None:
    """Become the gateway: its environment, working directory and output files."""
    for key in [k for k in os.environ if k.startswith("XIETONG_")]:
        del os.environ[key]
    os.environ.update({"XIETONG_HOME": str(cwd), **env})
    os.chdir(cwd)
    for path, fd in ((out, 1), (err, 2)):
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(handle, fd)
        os.close(handle)


def _cli_main(env: dict[str, str], cwd: Path, out: Path, err: Path, argv: list[str]) -> None:
    _enter(env, cwd, out, err)
    ledger.cli.app(args=argv, prog_name="xietong")


def _cli_main_killed_at(
    env: dict[str, str],
    cwd: Path,
    out: Path,
    err: Path,
    argv: list[str],
    step: str,
    node_group: int | None,
) -> None:
    _enter(env, cwd, out, err)

    def kill(at: str) -> None:
        if at != step:
            return
        if node_group is None:
            os.kill(os.getpid(), signal.SIGKILL)
        else:
            os.killpg(node_group, signal.SIGKILL)

    def hooked(plain: Callable[[Gateway], Any]) -> Callable[[Gateway], Any]:
        def made(self: Gateway) -> Any:
            worker = plain(self)
            worker._crash_hook = kill
            return worker

        return made

    # Every worker with a crash hook: the anchorer, the eraser, the webhook outbox.
    for name in ("anchorer", "eraser", "watchers"):
        setattr(Gateway, name, hooked(getattr(Gateway, name)))
    ledger.cli.app(args=argv, prog_name="xietong")


def _run(
    target: Callable[..., None],
    env: dict[str, str],
    cwd: Path,
    extra: tuple[object, ...],
    timeout: float,
) -> CliRun:
    cwd.mkdir(parents=True, exist_ok=True)
    number = len(list(cwd.glob("run-*.out")))
    out, err = cwd / f"run-{number:03d}.out", cwd / f"run-{number:03d}.err"
    process = _forkserver().Process(target=target, args=(env, cwd, out, err, *extra))
    process.start()
    process.join(timeout)
    if process.exitcode is None:
        process.kill()
        process.join(10)
        raise AssertionError(f"the gateway process did not end within {timeout:.0f} seconds")
    return CliRun(
        returncode=int(process.exitcode),
        stdout=out.read_text(encoding="utf-8"),
        stderr=err.read_text(encoding="utf-8"),
    )


def run_cli(env: dict[str, str], cwd: Path, *argv: str, timeout: float = 60.0) -> CliRun:
    """``xietong *argv`` in its own process, with ``env`` as its ``XIETONG_*`` variables."""
    return _run(_cli_main, env, cwd, (list(argv),), timeout)


def run_cli_killed_at(
    step: str,
    env: dict[str, str],
    cwd: Path,
    *argv: str,
    node_group: int | None = None,
    timeout: float = 60.0,
) -> CliRun:
    """``xietong *argv``, killed with SIGKILL when the anchorer reaches ``step``; or, given
    ``node_group``, the chain node's process group is killed then and the gateway goes on."""
    return _run(_cli_main_killed_at, env, cwd, (list(argv), step, node_group), timeout)

"""``xietong serve`` as a real process for fault tests: its background indexer and batcher run
as in production, over HTTP on a free port."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from ledger.chain.node import free_port
from tests.api._support import CIVIL_DEV, World
from tests.support import gateway_environment


class Served:
    """One ``xietong serve`` process over ``world``'s deployment and ``database_url``."""

    def __init__(
        self, world: World, database_url: str, work: Path, *, workers: int = 1, **env: str
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = work / "serve.log"
        environment = {
            **gateway_environment(work),
            "XIETONG_ENV": "local",
            "XIETONG_RPC_URL": world.rpc_url,
            "XIETONG_DATABASE_URL": database_url,
            "XIETONG_DEPLOYMENT": str(world.manifest),
            "XIETONG_DEV_ACCOUNT": str(CIVIL_DEV),
            "XIETONG_API_RATE_LIMIT": "0",
            "XIETONG_INDEX_INTERVAL": "0.2",
            **env,
        }
        command = [
            str(Path(sys.executable).with_name("xietong")),
            "serve",
            "--port",
            str(self.port),
            "--log-level",
            "warning",
            "--workers",
            str(workers),
        ]
        with self.log.open("wb") as output:
            self.process = subprocess.Popen(
                command,
                env=environment,
                cwd=work,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    @classmethod
    def on(cls, world: World, work: Path, *, workers: int = 1, **env: str) -> Served:
        """One ``xietong serve`` process over ``world``'s own database."""
        return cls(world, world.database_url, work, workers=workers, **env)

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def alive(self) -> None:
        assert self.process.poll() is None, f"xietong serve exited:\n{self.text()}"

    def eventually(self, what: str, probe: Callable[[], Any], patience: float = 60.0) -> Any:
        """``probe()`` until it is truthy (transport errors count as not yet); fails after
        ``patience`` seconds with the server's log."""
        deadline = time.monotonic() + patience
        while time.monotonic() < deadline:
            self.alive()
            with contextlib.suppress(httpx.TransportError):
                result = probe()
                if result:
                    return result
            time.sleep(0.1)
        raise AssertionError(f"gave up waiting for {what} after {patience:.0f} s:\n{self.text()}")

    def wait_until_up(self) -> None:
        """Until the server answers ``/healthz``."""
        self.eventually("the server", lambda: httpx.get(self.url + "/healthz"))

    def stop(self) -> int | None:
        """SIGINT, then SIGKILL of the process group after 20 s; the exit code."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signal.SIGINT)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=20)
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        return self.process.returncode

"""A private PostgreSQL cluster for tests that stop and start the server: its own data
directory, port and socket directory, so the shared server (127.0.0.1:5432) is never touched.

Debian's server binaries live in /usr/lib/postgresql/<version>/bin. ``initdb`` refuses to run
as root, so as root (CI) every server command runs as the ``postgres`` OS user (``runuser``)
in a temporary directory it owns. Anything missing is an error with one clear sentence:
a test that needs the cluster fails rather than skips."""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg

from ledger.chain.node import free_port

__all__ = ["PgCluster", "PgClusterError", "private_cluster"]

_BIN_ROOT = Path("/usr/lib/postgresql")


class PgClusterError(Exception):
    """The private cluster could not be set up, started or stopped."""


def _bin_dir() -> Path:
    """The newest installed server's bin directory (initdb, pg_ctl, postgres)."""
    found = sorted(
        (p for p in _BIN_ROOT.glob("*/bin") if (p / "initdb").exists() and (p / "pg_ctl").exists()),
        key=lambda p: float(p.parent.name) if p.parent.name.replace(".", "").isdigit() else 0.0,
    )
    if not found:
        raise PgClusterError(
            f"no PostgreSQL server binaries (initdb, pg_ctl) under {_BIN_ROOT}/<version>/bin: "
            "install the postgresql server package to run this test."
        )
    return found[-1]


class PgCluster:
    """One PostgreSQL cluster in ``base`` (owned by the ``postgres`` user when run as root),
    listening on 127.0.0.1:``port`` and a socket in ``base``, trust authentication."""

    def __init__(self, base: Path, port: int | None = None) -> None:
        self.bin = _bin_dir()
        self.base = base
        self.data = base / "data"
        self.log = base / "server.log"
        self.port = port or free_port()
        self._as_postgres = os.geteuid() == 0
        if self._as_postgres:
            try:
                account = pwd.getpwnam("postgres")
            except KeyError:
                raise PgClusterError(
                    "running as root, and there is no `postgres` OS user to run the server as."
                ) from None
            if shutil.which("runuser") is None:
                raise PgClusterError("running as root, and `runuser` is not installed.")
            os.chown(base, account.pw_uid, account.pw_gid)

    # ------------------------------------------------------------------ commands

    def _run(self, *command: str, timeout: float = 60.0) -> str:
        argv = list(command)
        if self._as_postgres:
            argv = ["runuser", "-u", "postgres", "--", *argv]
        try:
            done = subprocess.run(
                argv, cwd=self.base, capture_output=True, text=True, timeout=timeout, check=False
            )
        except subprocess.TimeoutExpired:
            raise PgClusterError(f"{command[0]} did not finish in {timeout:.0f} s") from None
        if done.returncode != 0:
            raise PgClusterError(
                f"{' '.join(command)} failed ({done.returncode}):\n{done.stdout}{done.stderr}"
                f"{self.server_log()}"
            )
        return done.stdout

    def server_log(self, lines: int = 20) -> str:
        with contextlib.suppress(OSError):
            tail = self.log.read_text(errors="replace").splitlines()[-lines:]
            return "\n--- server log ---\n" + "\n".join(tail)
        return ""

    def init(self) -> None:
        self._run(
            str(self.bin / "initdb"),
            "-D",
            str(self.data),
            "-A",
            "trust",
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        )

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        options = (
            f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c max_connections=60 -c shared_buffers=16MB"
        )
        self._run(
            str(self.bin / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-o",
            options,
            "-w",
            "-t",
            "60",
            "start",
            timeout=90,
        )

    def stop(self, mode: str = "immediate") -> None:
        """Stop the server: ``immediate`` is a crash (no checkpoint, clients cut off);
        ``fast`` rolls back open transactions and shuts down cleanly."""
        self._run(
            str(self.bin / "pg_ctl"),
            "-D",
            str(self.data),
            "-m",
            mode,
            "-w",
            "-t",
            "60",
            "stop",
            timeout=90,
        )

    def running(self) -> bool:
        status = subprocess.run(
            (["runuser", "-u", "postgres", "--"] if self._as_postgres else [])
            + [str(self.bin / "pg_ctl"), "-D", str(self.data), "status"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        return status.returncode == 0

    # ------------------------------------------------------------------ databases

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """A new database ``name``; its URL."""
        with psycopg.connect(self.url(), autocommit=True, connect_timeout=10) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


@contextlib.contextmanager
def private_cluster() -> Iterator[PgCluster]:
    """A started private cluster, stopped and removed afterwards (even when the test fails)."""
    base = Path(tempfile.mkdtemp(prefix="xt-pgcluster-"))
    cluster: PgCluster | None = None
    try:
        cluster = PgCluster(base)
        cluster.init()
        cluster.start()
        yield cluster
    finally:
        if cluster is not None and cluster.data.exists():
            with contextlib.suppress(PgClusterError, subprocess.TimeoutExpired):
                if cluster.running():
                    cluster.stop("immediate")
        shutil.rmtree(base, ignore_errors=True)

"""A served world for load tests: a deployment with the demo and a version of many file
leaves, indexed into SQLite or PostgreSQL, and ``xietong serve`` over it as a process group of
its own (used by ``scripts/bench_api.py`` and ``scripts/soak.py``)."""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from bench.common import (
    BenchError,
    cpu_seconds,
    create_pg_database,
    drop_pg_database,
    local_founders,
)

from ledger.anchoring import Anchorer, prepare_hashes
from ledger.apikeys import create_api_key
from ledger.chain.client import connect
from ledger.chain.deploy import deploy
from ledger.chain.node import NodeSpec, free_port, stop_node
from ledger.demo import DIBAO, run_demo
from ledger.gateway import Gateway
from ledger.ids import version_id
from ledger.keys import dev_account
from ledger.settings import Settings

CIVIL_DEV = 2  # 杭州市民政局's development account, the gateway's signer
STOP_GRACE = 20.0  # seconds a server gets to stop on SIGINT before it is killed


# --------------------------------------------------------------------------- the world


@dataclass
class World:
    """One deployment with the demo and the bench version, indexed into one database."""

    kind: str
    rpc_url: str
    manifest: Path
    database_url: str
    key: str
    root: str
    lineage: list[str]
    hashes: list[str]  # content SHA-256 of every bench leaf, 0x-hex
    paths: dict[str, str]  # content hash -> path
    setup_seconds: float = 0.0


def leaf_entries(count: int) -> list[tuple[bytes, str]]:
    """(content SHA-256, path) of ``count`` scanned documents behind the 低保 list."""
    return [
        (
            hashlib.sha256(f"xietong bench attachment {i}".encode()).digest(),
            f"附件/2026-11/DB{i:05d}-申请材料.pdf",
        )
        for i in range(count)
    ]


def build_world(
    kind: str, spec: NodeSpec, work: Path, leaves: int, databases: list[str], *, scope: str = "read"
) -> World:
    """Deploy, play the demo, anchor ``leaves`` file leaves and index them into a fresh SQLite
    file or PostgreSQL database (its name appended to ``databases``: the caller drops it);
    an API key of ``scope``."""
    from sqlmodel import Session

    began = time.perf_counter()
    w3 = connect(spec.rpc_url)
    base = work / kind
    base.mkdir(parents=True)
    manifest = base / "deployment.json"
    founders = local_founders()
    deploy(w3, founders, deployer=dev_account(0), manifest_path=manifest)
    if kind == "sqlite":
        url = f"sqlite:///{base / 'xietong.db'}"
    else:
        name = f"xt_bench_api_{uuid.uuid4().hex[:12]}"
        url = create_pg_database(name)
        databases.append(name)
    settings = Settings(
        _env_file=None,
        env="local",
        rpc_url=spec.rpc_url,
        database_url=url,
        deployment=manifest,
        dev_account=CIVIL_DEV,
    )
    gateway = Gateway(settings)
    try:
        report = run_demo(gateway, base / "demo", echo=lambda _line: None)
        november = report.versions["dibao-2026-11"]
        dibao = bytes.fromhex(report.datasets[DIBAO][2:])
        entries = leaf_entries(leaves)
        prepared = prepare_hashes(
            entries,
            dibao,
            source="dibao-2026-11-attachments",
            # Parents are version ids (dataset and root): November's list.
            parents=[version_id(dibao, bytes.fromhex(november[2:]))],
        )
        batch = Anchorer(gateway.client, gateway.engine, dev_account(CIVIL_DEV)).anchor(prepared)
        if batch.status != "confirmed":
            raise BenchError(f"the bench version was not anchored: {batch.status}")
        gateway.indexer().sync()
        with Session(gateway.engine) as session:
            _, key = create_api_key(session=session, name="bench", scope=scope)
    finally:
        gateway.engine.dispose()
    hashes = ["0x" + digest.hex() for digest, _ in entries]
    return World(
        kind=kind,
        rpc_url=spec.rpc_url,
        manifest=manifest,
        database_url=url,
        key=key,
        root=batch.root,
        lineage=[november, report.versions["dibao-2026-10"]],
        hashes=hashes,
        paths={h: path for h, (_, path) in zip(hashes, entries, strict=True)},
        setup_seconds=time.perf_counter() - began,
    )


# --------------------------------------------------------------------------- processes


def _children(pid: int) -> list[int]:
    found = []
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            with contextlib.suppress(OSError):
                found += [int(c) for c in (task / "children").read_text().split()]
    return found


def process_tree(pid: int) -> list[int]:
    """``pid`` and its descendants (from /proc)."""
    tree, queue = [], [pid]
    while queue:
        current = queue.pop()
        tree.append(current)
        queue += _children(current)
    return tree


def machine_busy() -> float:
    """CPU seconds all cores spent busy since boot (from /proc/stat)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def postgres_cpu() -> float:
    """CPU seconds of the PostgreSQL server's processes (0 without PostgreSQL)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if (entry / "comm").read_text().strip() == "postgres":
                    total += cpu_seconds(int(entry.name))
    return total


@dataclass
class Server:
    """``xietong serve`` over one world, as a process group of its own."""

    world: World
    workers: int
    work: Path
    process: subprocess.Popen[bytes] | None = None
    port: int = 0
    log: Path = field(default_factory=Path)
    env: dict[str, str] = field(default_factory=dict)  # more XIETONG_* settings

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        """The server's command line (``self.port`` chosen)."""
        return [
            str(Path(sys.executable).with_name("xietong")),
            "serve",
            "--port",
            str(self.port),
            "--workers",
            str(self.workers),
            "--log-level",
            "warning",
        ]

    def log_name(self) -> str:
        return f"serve-{self.world.kind}-{self.workers}.log"

    def start(self, timeout: float = 90.0) -> None:
        self.port = free_port()
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("XIETONG_")},
            "XIETONG_HOME": str(self.work),
            "XIETONG_ENV": "local",
            "XIETONG_RPC_URL": self.world.rpc_url,
            "XIETONG_DATABASE_URL": self.world.database_url,
            "XIETONG_DEPLOYMENT": str(self.world.manifest),
            "XIETONG_DEV_ACCOUNT": str(CIVIL_DEV),
            "XIETONG_API_RATE_LIMIT": "0",
            **self.env,
        }
        self.log = self.work / self.log_name()
        with self.log.open("wb") as output:
            self.process = subprocess.Popen(
                self.command(),
                env=env,
                cwd=self.work,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        with httpx.Client(base_url=self.url, timeout=5) as http:
            while time.monotonic() < deadline:
                self.check_alive()
                with contextlib.suppress(httpx.TransportError):
                    if http.get("/healthz").status_code == 200:
                        break
                time.sleep(0.2)
            else:
                raise BenchError(f"the server did not start in {timeout:.0f} s:\n{self.tail()}")
        # Every worker must be up before load: uvicorn starts them one after another.
        while len(self.workers_pids()) < self.workers and time.monotonic() < deadline:
            time.sleep(0.2)

    def workers_pids(self) -> list[int]:
        """The processes answering requests (the server itself when it has one worker)."""
        if self.process is None:
            return []
        if self.workers == 1:
            return [self.process.pid]
        return [p for p in _children(self.process.pid) if "spawn_main" in _cmdline(p)]

    def cpu(self) -> float:
        if self.process is None:
            return 0.0
        return sum(cpu_seconds(p) for p in process_tree(self.process.pid))

    def check_alive(self) -> None:
        if self.process is not None and self.process.poll() is not None:
            raise BenchError(f"the server exited ({self.process.returncode}):\n{self.tail()}")

    def tail(self, lines: int = 30) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        return ""

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGINT)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=STOP_GRACE)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)  # workers too, if any outlived the parent
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=10)


@dataclass
class CeilingServer(Server):
    """The bench's ceiling (``scripts/bench/api/ceiling.py``): a bare FastAPI app under the
    same uvicorn settings and workers, answering every request with ``answer``'s bytes."""

    answer: Path = field(default_factory=Path)
    mode: str = "dict"  # how the bare route answers (see ceiling.py --mode)

    def command(self) -> list[str]:
        return [
            sys.executable,
            str(Path(__file__).resolve().parent / "api" / "ceiling.py"),
            "--answer",
            str(self.answer),
            "--port",
            str(self.port),
            "--workers",
            str(self.workers),
            "--mode",
            self.mode,
        ]

    def log_name(self) -> str:
        return f"ceiling-{self.world.kind}-{self.workers}.log"


def _cmdline(pid: int) -> str:
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    return ""


def tear_down(server: Server | None, spec: NodeSpec, databases: list[str], work: Path) -> None:
    """Stop the server and the node, drop the PostgreSQL databases made, remove ``work``."""
    if server is not None:
        server.stop()
    stop_node(spec)
    for name in databases:
        drop_pg_database(name)
    shutil.rmtree(work, ignore_errors=True)

"""Run a local development chain (Hardhat 2, or Anvil) as a background process.

A node is described by a :class:`NodeSpec` (engine, host, port, state directory). ``start``
refuses a taken port, needs the npm packages of ``hardhat-node/``, writes a pid file and a
log file, and returns once JSON-RPC answers. ``stop`` ends the whole process group.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import requests

from ..errors import DependenciesMissingError, NodeError, NodeStartError, PortInUseError
from ..file_modes import make_private_dir
from ..keys import DEV_MNEMONIC
from ..paths import HARDHAT_DIR, NODE_MODULES
from ._process import alive, log_tail, port_taken, read_pid, terminate
from .client import wait_for_rpc

__all__ = [
    "CHAIN_ID",
    "NodeSpec",
    "NodeStatus",
    "free_port",
    "node_command",
    "node_status",
    "running_pid",
    "start_node",
    "stop_node",
]

Engine = Literal["hardhat", "anvil"]

#: Chain id of the local development chain, on both engines.
CHAIN_ID = 31337


@dataclass(frozen=True)
class NodeSpec:
    """Where and how a local node runs."""

    engine: Engine = "hardhat"
    host: str = "127.0.0.1"
    port: int = 8545
    state_dir: Path = Path("var/node")

    @property
    def rpc_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def pid_file(self) -> Path:
        return self.state_dir / f"{self.engine}-{self.port}.pid"

    @property
    def log_file(self) -> Path:
        return self.state_dir / f"{self.engine}-{self.port}.log"


@dataclass(frozen=True)
class NodeStatus:
    """What ``node status`` reports."""

    running: bool
    pid: int | None
    rpc_url: str
    answering: bool
    chain_id: int | None
    block_number: int | None
    log_file: str

    def as_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


PORT_SLICE_VARIABLE = "XT_TEST_PORT_SLICE"  # not XIETONG_: the tests strip those from subprocesses


def _port_slice() -> tuple[int, int]:
    """``(k, n)`` from ``XT_TEST_PORT_SLICE="k/n"``; ``(0, 1)`` (every port) without it."""
    text = os.environ.get(PORT_SLICE_VARIABLE, "")
    k, _, n = text.partition("/")
    if not (k.isdigit() and n.isdigit() and 0 <= int(k) < int(n)):
        return 0, 1
    return int(k), int(n)


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now.

    With ``XT_TEST_PORT_SLICE="k/n"`` (set by the test suite for each of its n parallel
    workers and inherited by what they start), only a port with ``port // 2 % n == k``: two
    workers never draw the same free port before either has bound it.
    """
    k, n = _port_slice()
    held: list[socket.socket] = []
    try:
        for _ in range(64 * n):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            held.append(sock)  # kept bound until we return, so the kernel offers another port
            sock.bind((host, 0))
            port = int(sock.getsockname()[1])
            if port // 2 % n == k:
                return port
        raise PortInUseError(f"no free port on {host} in slice {k}/{n}.")
    finally:
        for sock in held:
            sock.close()


def _anvil_binary() -> Path | None:
    """Anvil from its npm platform package in hardhat-node/, else `anvil` on PATH."""
    machine = platform.machine().lower()
    arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(machine, machine)
    packaged = (
        NODE_MODULES / "@foundry-rs" / f"anvil-{platform.system().lower()}-{arch}" / "bin" / "anvil"
    )
    if packaged.exists():
        return packaged
    on_path = shutil.which("anvil")
    return Path(on_path) if on_path else None


def node_command(spec: NodeSpec) -> list[str]:
    """The command line that starts the node ``spec`` describes (its engine's binary and
    options); DependenciesMissingError when the engine is not installed."""
    if spec.engine == "hardhat":
        hardhat = NODE_MODULES / ".bin" / "hardhat"
        if not hardhat.exists():
            raise DependenciesMissingError(
                "Hardhat is not installed in hardhat-node/: run `make setup` (npm ci)."
            )
        return [str(hardhat), "node", "--hostname", spec.host, "--port", str(spec.port)]
    binary = _anvil_binary()
    if binary is None:
        raise DependenciesMissingError(
            "Anvil is not installed: run `make setup` (npm ci installs @foundry-rs/anvil-linux-amd64) "
            "or put `anvil` on PATH."
        )
    return [
        str(binary),
        "--host",
        spec.host,
        "--port",
        str(spec.port),
        "--chain-id",
        str(CHAIN_ID),
        "--mnemonic",
        DEV_MNEMONIC,
        "--accounts",
        "20",
        "--balance",
        "10000",
    ]


def start_node(spec: NodeSpec, *, timeout: float = 60.0) -> NodeStatus:
    """Start a node in the background and wait until its JSON-RPC answers."""
    pid = read_pid(spec.pid_file)
    if pid is not None and alive(pid):
        raise NodeError(f"a {spec.engine} node is already running (pid {pid}) at {spec.rpc_url}.")
    if port_taken(spec.host, spec.port):
        raise PortInUseError(
            f"port {spec.port} on {spec.host} is already in use; stop what listens there or choose "
            "another port (--port or XIETONG_NODE_PORT)."
        )
    command = node_command(spec)
    make_private_dir(spec.state_dir)
    env = {**os.environ, "HARDHAT_DISABLE_TELEMETRY_PROMPT": "true", "NO_COLOR": "1"}
    with spec.log_file.open("wb") as log:
        process = subprocess.Popen(
            command,
            cwd=HARDHAT_DIR,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    spec.pid_file.write_text(f"{process.pid}\n")
    try:
        wait_for_rpc(spec.rpc_url, timeout=timeout, is_alive=lambda: process.poll() is None)
    except (requests.RequestException, OSError, ValueError) as exc:
        exited = process.poll() is not None
        if not exited:
            terminate(process.pid)
        spec.pid_file.unlink(missing_ok=True)
        reason = (
            "exited during start-up" if exited else f"did not answer within {timeout:.0f} seconds"
        )
        tail = log_tail(spec.log_file)
        raise NodeStartError(
            f"the {spec.engine} node {reason}; see {spec.log_file}"
            + (f":\n{tail}" if tail else ".")
        ) from exc
    return node_status(spec)


def stop_node(spec: NodeSpec) -> bool:
    """Stop the node started for ``spec``; returns False when none was running."""
    pid = read_pid(spec.pid_file)
    if pid is None or not alive(pid):
        spec.pid_file.unlink(missing_ok=True)
        return False
    terminate(pid)
    spec.pid_file.unlink(missing_ok=True)
    return True


def running_pid(spec: NodeSpec) -> int | None:
    """The pid of the node ``node start`` left running for ``spec`` (its pid file), or None."""
    pid = read_pid(spec.pid_file)
    return pid if pid is not None and alive(pid) else None


def node_status(spec: NodeSpec) -> NodeStatus:
    """Whether the node runs and answers, with its chain id and head block."""
    pid = running_pid(spec)
    running = pid is not None
    chain_id = block = None
    try:
        response = requests.post(
            spec.rpc_url,
            json=[
                {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []},
                {"jsonrpc": "2.0", "id": 2, "method": "eth_blockNumber", "params": []},
            ],
            timeout=2,
        )
        answers = {item["id"]: item.get("result") for item in response.json()}
        chain_id = int(answers[1], 16)
        block = int(answers[2], 16)
    except (requests.RequestException, ValueError, KeyError, TypeError, json.JSONDecodeError):
        pass
    return NodeStatus(
        running=running,
        pid=pid if running else None,
        rpc_url=spec.rpc_url,
        answering=chain_id is not None,
        chain_id=chain_id,
        block_number=block,
        log_file=str(spec.log_file),
    )

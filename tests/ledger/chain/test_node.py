"""Managing the local node: real Hardhat and Anvil processes on free ports."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger.chain import node as node_module
from ledger.chain.node import CHAIN_ID, NodeSpec, free_port, node_status, start_node, stop_node
from ledger.errors import DependenciesMissingError, NodeError, NodeStartError, PortInUseError


@pytest.fixture
def spec(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[NodeSpec]:
    engine = getattr(request, "param", "anvil")
    s = NodeSpec(engine=engine, port=free_port(), state_dir=tmp_path / "node")
    yield s
    stop_node(s)


@pytest.mark.parametrize("spec", ["hardhat", "anvil"], indirect=True)
def test_start_status_stop(spec: NodeSpec) -> None:
    status = start_node(spec)
    assert status.running and status.answering
    assert status.chain_id == CHAIN_ID
    assert status.rpc_url == f"http://127.0.0.1:{spec.port}"
    assert spec.pid_file.exists() and spec.log_file.exists()
    assert spec.state_dir.stat().st_mode & 0o777 == 0o700  # made owner-only
    assert stop_node(spec) is True
    after = node_status(spec)
    assert not after.running and not after.answering
    assert not spec.pid_file.exists()


def test_node_listens_on_loopback_only(spec: NodeSpec) -> None:
    start_node(spec)
    with socket.socket() as sock:
        sock.connect(("127.0.0.1", spec.port))
    addresses = {line.split()[1] for line in Path("/proc/net/tcp").read_text().splitlines()[1:]}
    listening = [a for a in addresses if a.endswith(f":{spec.port:04X}")]
    assert listening and all(a.startswith("0100007F:") for a in listening)


def test_second_start_is_refused(spec: NodeSpec) -> None:
    start_node(spec)
    with pytest.raises(NodeError, match="already running"):
        start_node(spec)


def test_port_in_use(spec: NodeSpec) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", spec.port))
        sock.listen()
        with pytest.raises(
            PortInUseError, match=f"port {spec.port} on 127.0.0.1 is already in use"
        ):
            start_node(spec)
    assert not spec.pid_file.exists()


@pytest.mark.parametrize("spec", ["hardhat", "anvil"], indirect=True)
def test_missing_npm_dependencies(
    spec: NodeSpec, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(node_module, "NODE_MODULES", tmp_path / "missing")
    monkeypatch.setenv("PATH", str(tmp_path))  # no `anvil` on PATH either
    with pytest.raises(DependenciesMissingError, match="make setup"):
        start_node(spec)


def test_node_that_exits_during_start(spec: NodeSpec, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        node_module, "node_command", lambda _spec: ["sh", "-c", "echo boom-marker; exit 3"]
    )
    with pytest.raises(NodeStartError, match="exited during start-up") as info:
        start_node(spec)
    assert "boom-marker" in str(info.value)
    assert not spec.pid_file.exists()


def test_node_that_never_answers(spec: NodeSpec, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(node_module, "node_command", lambda _spec: ["sleep", "30"])
    with pytest.raises(NodeStartError, match="did not answer within 1 seconds"):
        start_node(spec, timeout=1)
    assert not spec.pid_file.exists()


def test_stop_when_not_running(spec: NodeSpec) -> None:
    assert stop_node(spec) is False
    spec.state_dir.mkdir(parents=True)
    spec.pid_file.write_text("999999\n")  # stale pid file
    assert stop_node(spec) is False
    assert not spec.pid_file.exists()


@pytest.mark.parametrize("slice_", ["0/2", "1/2", "2/3"])
def test_free_port_draws_only_from_its_slice(slice_: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(node_module.PORT_SLICE_VARIABLE, slice_)
    k, n = (int(part) for part in slice_.split("/"))
    ports = [free_port() for _ in range(20)]
    assert all(port // 2 % n == k for port in ports), ports
    for port in ports:  # and each is free: it can be bound
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", port))


@pytest.mark.parametrize("text", ["", "2/2", "x/2", "1/", "-1/2", "1/0"])
def test_free_port_ignores_a_slice_that_names_none(
    text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(node_module.PORT_SLICE_VARIABLE, text)
    assert node_module._port_slice() == (0, 1)
    assert free_port() > 0

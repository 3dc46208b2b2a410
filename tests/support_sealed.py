"""A 4-validator Clique network with the consortium deployed on it, for the offline proofs'
tests and their vectors (tests/ledger/verify/test_offline_network.py,
scripts/make_offline_vectors.py): the three departments of scripts/founders.local.yaml and a
fourth, each with its validator on a loopback address of the caller's choosing."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ledger.chain.client import connect
from ledger.chain.deploy import load_founders
from ledger.chain.network import (
    Network,
    init_network,
    load_network,
    plan_network,
    rpc,
    start_network,
    stop_network,
)
from ledger.chain.node import free_port
from ledger.chain.sealed import sealed_evidence
from ledger.paths import PROJECT_ROOT
from tests.support import gateway_environment

BIN = Path(sys.executable).parent
LOCAL_FOUNDERS = PROJECT_ROOT / "scripts" / "founders.local.yaml"
FOURTH = {
    "code": "11330100MB1A00009X",
    "name": "杭州市医疗保障局",
    "operator": "dev:11",
    "signer": "dev:18",
}
#: The development accounts whose keys seal: the four founders' signers, and one more for a
#: signer voted in (or an outsider).
SIGNER_ACCOUNTS = (15, 16, 17, 18, 19)
PUBLISHER = 2  # 杭州市民政局's operator (dev account 2)
CIVIL = "11330100MB1A00002K"  # 杭州市民政局
DATASET = "NET-SEALED"


def eventually(check: Callable[[], Any], *, within: float = 90, what: str) -> Any:
    """Poll ``check`` until it returns something truthy; fail naming ``what`` after ``within``."""
    deadline = time.monotonic() + within
    while True:
        try:
            found = check()
        except Exception:  # a validator starting does not answer for a moment
            found = None
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {within:.0f} s: {what}")
        time.sleep(0.25)


def head(url: str) -> int:
    return int(rpc(url, "eth_blockNumber"), 16)


@dataclass
class SealedNet:
    network: Network
    home: Path
    env: dict[str, str]
    founders: Path

    @property
    def manifest(self) -> Path:
        return self.home / "deployments" / f"{self.network.chain_id}.json"

    @property
    def trust_path(self) -> Path:
        return self.home / "deployments" / f"{self.network.chain_id}.consortium.json"

    def xietong(self, *args: str, account: int, ok: bool | None = True) -> Any:
        """``xietong ARGS --json`` as dev account ``account``'s gateway on the first node;
        ``ok``: whether it must succeed (None: either)."""
        env = {
            **self.env,
            "XIETONG_RPC_URL": self.network.members[0].rpc_url,
            "XIETONG_DEV_ACCOUNT": str(account),
        }
        done = subprocess.run(
            [str(BIN / "xietong"), *args, "--json"],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert ok is None or (done.returncode == 0) == ok, done.stdout + done.stderr
        return json.loads(done.stdout)

    def from_genesis(self, bundle: dict[str, Any]) -> dict[str, Any]:
        """``bundle`` with its sealed evidence made again carrying the headers from block 1."""
        evidence = sealed_evidence(
            connect(self.network.members[0].rpc_url),
            block_number=bundle["block_number"],
            transaction=bundle["transaction"],
            from_genesis=True,
        )
        return {**bundle, "sealed": evidence}

    def anchored_bundle(self, folder: Path, text: str) -> dict[str, Any]:
        """Anchor a one-line file into the dataset and wait for its sealed bundle."""
        sample = folder / f"{len(list(folder.iterdir()))}.txt"
        sample.write_text(text, encoding="utf-8")
        self.xietong("dataset", "anchor", str(sample), "--dataset", DATASET, account=PUBLISHER)
        out = folder / f"{sample.stem}.proof.json"
        deadline = time.monotonic() + 90
        while True:  # until it is indexed and a majority of the signers sealed on it
            self.xietong("index", account=PUBLISHER)
            made = self.xietong(
                "dataset", "proof", str(sample), "--out", str(out), account=PUBLISHER, ok=None
            )
            if made["ok"]:
                return dict(json.loads(out.read_text(encoding="utf-8")))
            assert made["error"]["type"] in ("not-sealed", "not-anchored"), made
            assert time.monotonic() < deadline, made
            time.sleep(0.5)


@contextmanager
def sealed_network(home: Path, hosts: Sequence[str]) -> Iterator[SealedNet]:
    """The network on ``hosts`` (four), period 1 s, the consortium deployed and the dataset
    registered; every validator stopped at the end."""
    local = yaml.safe_load(LOCAL_FOUNDERS.read_text(encoding="utf-8"))
    local["departments"].append(FOURTH)
    founders = home / "founders.yaml"
    founders.write_text(yaml.safe_dump(local, allow_unicode=True), encoding="utf-8")
    network = plan_network(
        load_founders(founders, allow_dev=True).departments,
        home=home / "network",
        period=1,
        hosts=list(hosts),
        rpc_port=free_port(hosts[0]),
        p2p_port=free_port(hosts[0]),
        authrpc_port=free_port(hosts[0]),
    )
    init_network(network)
    env = {
        **gateway_environment(home),
        "XIETONG_ENV": "local",
        "XIETONG_TX_TIMEOUT": "300",
        "XIETONG_NETWORK_DIR": str(network.home),
    }
    try:
        start_network(network)
        net = SealedNet(network, home, env, founders)
        eventually(lambda: head(network.members[0].rpc_url) >= 4, what="four blocks")
        net.xietong("deploy", "--founders", str(founders), account=0)
        net.xietong("dataset", "register", DATASET, account=PUBLISHER)
        yield net
    finally:
        stop_network(load_network(network.home))

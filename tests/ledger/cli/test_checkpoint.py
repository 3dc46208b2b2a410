"""``xietong checkpoint`` and ``verify-proof --cosigned`` against a real node (Anvil), with a
second department's gateway running ``xietong serve`` on loopback: the two cosign a
checkpoint, a proof bundle carries it and verifies, a tampered one is refused; a peer that
signs another hash for a block makes a conflict the operator reads and acknowledges."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from web3 import HTTPProvider, Web3

from ledger.chain.deploy import load_deployment
from ledger.chain.node import free_port
from ledger.keys import dev_account
from ledger.witness import cosign
from tests.ledger.cli._cli import Cli, documented
from tests.ledger.witness._peer import peer
from tests.support import fresh_database, interrupt

INTERVAL = "4"
PSB, CIVIL, HEALTH = "11330100MB1A00001P", "11330100MB1A00002K", "11330100MB1A00003F"


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    """SQLite only: the witness's SQL runs on both databases in tests/ledger/witness."""
    with fresh_database("sqlite", tmp_path) as url:
        yield url


@pytest.fixture
def psb_gateway(cli: Cli, tmp_path: Path) -> Iterator[str]:
    """公安局's gateway (dev 1): `xietong serve` with a database of its own, signing every 4th
    block every half second; its base URL."""
    port = free_port()
    env = {
        **cli.env,
        "XIETONG_DEV_ACCOUNT": "1",
        "XIETONG_DATABASE_URL": f"sqlite:///{tmp_path / 'psb.db'}",
        "XIETONG_CHECKPOINT_INTERVAL": INTERVAL,
        "XIETONG_CHECKPOINT_POLL": "0.5",
    }
    with (tmp_path / "psb.log").open("wb") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "ledger.cli", "serve", "--port", str(port)],
            env=env,
            cwd=tmp_path,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None and time.monotonic() < deadline, (
                tmp_path / "psb.log"
            ).read_text()
            time.sleep(0.2)
        yield url
    finally:
        interrupt(server)


def mine(cli: Cli, blocks: int) -> int:
    w3 = Web3(HTTPProvider(cli.env["XIETONG_RPC_URL"]))
    for _ in range(blocks):
        w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
    return w3.eth.block_number


def signed_by_psb(url: str, number: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        items = httpx.get(f"{url}/v1/checkpoints", timeout=2).json()["items"]
        if any(i["number"] >= number for i in items):
            return
        time.sleep(0.2)
    raise AssertionError(f"公安局's gateway signed no block from {number} in {timeout} s")


def test_two_gateways_cosign_a_checkpoint_a_bundle_carries(
    cli: Cli, psb_gateway: str, tmp_path: Path
) -> None:
    civil = Cli({**cli.env, "XIETONG_CHECKPOINT_PEERS": psb_gateway,
                 "XIETONG_CHECKPOINT_INTERVAL": INTERVAL}, cli.cwd)  # fmt: skip
    folder = tmp_path / "policy"
    folder.mkdir()
    (folder / "办法.txt").write_text("第一条 ……\n", encoding="utf-8")
    civil.json("dataset", "register", "HZ-POLICY")
    civil.json("dataset", "anchor", str(folder), "--dataset", "HZ-POLICY")
    head = mine(cli, 2 * int(INTERVAL))
    signed_by_psb(psb_gateway, head - head % int(INTERVAL))
    ran = civil.json("checkpoint", "run")
    assert set(ran) == set(documented("xietong checkpoint run"))
    assert ran["accepted"][psb_gateway] >= 1 and ran["failed"] == {} and ran["conflicts"] == []
    assert ran["not_signing"] is None and ran["signed"]
    latest = civil.json("checkpoint", "latest")["checkpoint"]
    assert len(latest["cosignatures"]) == 2  # 民政局's and 公安局's: the threshold of 3 founders
    shown = civil.json("checkpoint", "show", str(latest["number"]))
    assert shown["hashes"][0]["cosigned"] is True and shown["conflict"] is False
    listed = civil.json("checkpoint", "list")
    assert {i["code"] for i in listed["items"]} == {PSB, CIVIL}
    first = listed["items"][0]["seq"]
    paged = civil.json("checkpoint", "list", "--after", str(first), "--limit", "1")
    assert [i["seq"] for i in paged["items"]] == [listed["items"][1]["seq"]]
    assert paged["next_after"] == listed["items"][1]["seq"] and paged["last_seq"] >= first
    [status] = civil.json("checkpoint", "peers")["peers"]
    assert status["peer"] == psb_gateway and status["last_error"] is None
    # The proof bundle carries the lowest cosigned checkpoint above its anchor, and verifies.
    civil.run("index")
    civil.json("dataset", "proof", str(folder / "办法.txt"), "--out", str(tmp_path / "b.json"))
    bundle = json.loads((tmp_path / "b.json").read_text(encoding="utf-8"))
    assert bundle["checkpoint"]["number"] >= bundle["block_number"]
    checked = civil.json("verify-proof", str(tmp_path / "b.json"), "--cosigned")
    assert set(checked) == set(documented("xietong verify-proof"))
    assert checked["checkpoint"]["number"] == bundle["checkpoint"]["number"]
    assert sorted(c["code"] for c in checked["checkpoint"]["cosigners"]) == [PSB, CIVIL]
    said = civil.run("verify-proof", str(tmp_path / "b.json")).stdout
    assert f"checkpoint block {bundle['checkpoint']['number']} " in said
    # By address: 民政局's operator (0x3C44…) before 公安局's (0x7099…).
    assert f"cosigned by 2 (2 required): {CIVIL}, {PSB}" in said
    # Tampered: another block's hash under the same signatures; or no checkpoint with --cosigned.
    forged = {**bundle, "checkpoint": {**bundle["checkpoint"], "hash": "0x" + "ab" * 32}}
    (tmp_path / "forged.json").write_text(json.dumps(forged), encoding="utf-8")
    refused = civil.json("verify-proof", str(tmp_path / "forged.json"), ok=False)
    assert refused["error"]["type"] == "checkpoint-refused"
    assert refused["error"]["reason"] == "cosignature-invalid"
    bare = {k: v for k, v in bundle.items() if k != "checkpoint"}
    (tmp_path / "bare.json").write_text(json.dumps(bare), encoding="utf-8")
    assert civil.json("verify-proof", str(tmp_path / "bare.json"))["checkpoint"] is None
    missing = civil.run("verify-proof", str(tmp_path / "bare.json"), "--cosigned", ok=False)
    assert missing.returncode == 1 and "no checkpoint cosigned" in missing.stderr + missing.stdout


def test_a_department_that_signs_another_hash_is_a_conflict_until_acknowledged(
    cli: Cli,
) -> None:
    trust = load_deployment(Path(cli.env["XIETONG_DEPLOYMENTS_DIR"]) / "31337.json").trust()
    head = mine(cli, int(INTERVAL))
    number = head - head % int(INTERVAL)
    lie = cosign(
        dev_account(3).key,  # 卫健委's real key, over a hash that is not the block's
        chain_id=trust.chain_id,
        genesis_hash=trust.genesis_hash,
        number=number,
        block_hash="0x" + "e0" * 32,
        time=1765000000,
    )
    with peer() as liar:
        liar.serve({"number": number, "hash": "0x" + "e0" * 32, **lie.as_dict()})
        civil = Cli({**cli.env, "XIETONG_CHECKPOINT_PEERS": liar.url,
                     "XIETONG_CHECKPOINT_INTERVAL": INTERVAL}, cli.cwd)  # fmt: skip
        ran = civil.json("checkpoint", "run")
    assert ran["conflicts"] == [number] and number in ran["signed"]
    said = civil.run("checkpoint", "conflicts").stdout
    assert f"block {number}: open" in said and HEALTH in said and CIVIL in said
    [conflict] = civil.json("checkpoint", "conflicts")["conflicts"]
    assert {h["hash"] for h in conflict["hashes"]} >= {"0x" + "e0" * 32}
    assert civil.json("checkpoint", "show", str(number))["conflict"] is True
    acknowledged = civil.json("checkpoint", "acknowledge", str(number))["conflict"]
    assert acknowledged["acknowledged_at"] is not None
    again = civil.json("checkpoint", "acknowledge", str(number + 1), ok=False)
    assert again["error"]["type"] == "bad-input"
    nothing = civil.json("checkpoint", "latest", ok=False)
    assert nothing["error"]["type"] == "unknown-checkpoint"

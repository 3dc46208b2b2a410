"""`xietong serve` as a real process on a free port, over real HTTP: it binds the loopback
address only, its background indexer and batcher anchor submitted hashes until /v1/verify
finds them, and its webhook loop tells a watcher of the new version, signed."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from sqlmodel import Session
from standardwebhooks import Webhook

from ledger.apikeys import create_api_key
from ledger.chain.node import free_port
from ledger.db.engine import create_db_engine
from ledger.ids import department_id
from ledger.watch import Watchers
from tests.api._support import CIVIL, CIVIL_DEV, POLICY, World, keep_demo_descriptions
from tests.ledger.watch._receiver import Receiver, receiver
from tests.support import gateway_environment, interrupt

PATIENCE = 90.0  # seconds before giving up on the server (a failure, never a measurement)


def eventually(
    what: str, probe: Callable[[], Any], server: subprocess.Popen[bytes], log: Path
) -> Any:
    """Call ``probe`` until it returns something truthy; fail after PATIENCE seconds."""
    deadline = time.monotonic() + PATIENCE
    while time.monotonic() < deadline:
        assert server.poll() is None, f"the server exited:\n{log.read_text(errors='replace')}"
        try:
            result = probe()
        except httpx.TransportError:
            result = None
        if result:
            return result
        time.sleep(0.2)
    raise AssertionError(f"gave up waiting for {what}:\n{log.read_text(errors='replace')}")


def listening_addresses(port: int) -> set[str]:
    """Local addresses with a TCP socket listening on ``port`` (from /proc/net/tcp{,6})."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, port_hex = local.rsplit(":", 1)
            if state == "0A" and int(port_hex, 16) == port:  # 0A: LISTEN
                if len(address) == 8:
                    found.add(".".join(str(b) for b in reversed(bytes.fromhex(address))))
                else:
                    found.add(f"ipv6:{address}")
    return found


def test_serve_binds_loopback_and_anchors_in_the_background(
    chain: World, database_url: str, tmp_path: Path
) -> None:
    with receiver() as hooks:
        _serve_and_anchor(chain, database_url, tmp_path, hooks)


def _serve_and_anchor(chain: World, database_url: str, tmp_path: Path, hooks: Receiver) -> None:
    engine = create_db_engine(database_url)
    with Session(engine) as session:
        _, key = create_api_key(session=session, name="serve test", scope="anchor")
    keep_demo_descriptions(engine)
    civil = "0x" + department_id(CIVIL).hex()
    watchers = Watchers(engine, department=civil, allow_http=True)
    _, secret = watchers.add(url=hooks.url, topics=["dataset.version"])
    engine.dispose()
    port = free_port()
    env = {
        **gateway_environment(tmp_path),
        "XIETONG_ENV": "local",
        "XIETONG_RPC_URL": chain.rpc_url,
        "XIETONG_DATABASE_URL": database_url,
        "XIETONG_DEPLOYMENT": str(chain.manifest),
        "XIETONG_DEV_ACCOUNT": str(CIVIL_DEV),
        "XIETONG_ANCHOR_BATCH_SECONDS": "0.2",
        "XIETONG_INDEX_INTERVAL": "0.2",
        "XIETONG_WEBHOOK_INTERVAL": "0.2",
    }
    command = Path(sys.executable).with_name("xietong")
    log = tmp_path / "serve.log"
    with log.open("wb") as output:
        server = subprocess.Popen(
            [str(command), "serve", "--port", str(port), "--log-level", "warning"],
            env=env,
            cwd=tmp_path,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        with httpx.Client(
            base_url=f"http://127.0.0.1:{port}", headers={"X-API-Key": key}, timeout=30
        ) as http:
            eventually("/healthz", lambda: http.get("/healthz").status_code == 200, server, log)
            assert listening_addresses(port) == {"127.0.0.1"}
            assert f"serving http://127.0.0.1:{port}/" in log.read_text(errors="replace")
            # The background indexer reads the demo chain into the fresh database.
            eventually(
                "the index",
                lambda: http.get(f"/v1/datasets/{POLICY}").status_code == 200,
                server,
                log,
            )
            leaves = [
                {"content_hash": "0x" + "c1" * 32, "name": "served/one.txt"},
                {"content_hash": "0x" + "c2" * 32, "name": "served/two.txt"},
            ]
            submitted = http.post("/v1/anchors", json={"dataset": POLICY, "leaves": leaves})
            assert submitted.status_code == 202, submitted.text
            batch_id = submitted.json()["batch_id"]

            def settled() -> dict[str, Any] | None:
                batch: dict[str, Any] = http.get(f"/v1/anchors/{batch_id}").json()
                return batch if batch["status"] in ("confirmed", "failed") else None

            batch = eventually("the batch", settled, server, log)
            assert batch["status"] == "confirmed", batch
            assert chain.client.call(
                "DatasetRegistry",
                "isAnchored",
                bytes.fromhex(batch["dataset_id"][2:]),
                bytes.fromhex(batch["root"][2:]),
            )

            def verified() -> dict[str, Any] | None:
                answer = http.get("/v1/verify", params={"hash": leaves[1]["content_hash"]})
                return answer.json() if answer.status_code == 200 else None

            answer = eventually("the verification", verified, server, log)
            [match] = answer["matches"]
            assert match["path"] == "served/two.txt" and match["version"]["root"] == batch["root"]

            # The webhook loop: the watcher hears of the new version (and of the demo's, from
            # the first block: it was added before anything was indexed), signed.
            def told() -> dict[str, Any] | None:
                for got in list(hooks.received):
                    body: dict[str, Any] = Webhook(secret).verify(got.body, got.headers)
                    if body["data"]["args"].get("root") == batch["root"]:
                        return body
                return None

            webhook = eventually("the webhook", told, server, log)
            assert webhook["type"] == "dataset.version"
            assert webhook["data"]["event"] == "VersionAnchored"
    finally:
        interrupt(server, grace=30)
    assert server.returncode == 0, log.read_text(errors="replace")

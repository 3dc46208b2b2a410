"""One home for the gateway's state, found the same way from any folder (``XIETONG_HOME``),
and ``xietong doctor``: where everything is, and whether node, deployment, trust file,
database and key agree. Real processes on a real Anvil node."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account

from ledger.chain.client import ChainClient, connect
from ledger.chain.node import free_port
from ledger.keys import dev_account
from ledger.paths import PROJECT_ROOT
from tests.support import admit_department, gateway_environment

FOUNDERS = PROJECT_ROOT / "scripts" / "founders.local.yaml"
CIVIL = dev_account(2).address


@dataclass
class Gateway:
    """A gateway's environment (its home) and two folders its commands run from."""

    env: dict[str, str]
    home: Path
    here: Path
    there: Path

    def run(
        self, *args: str, cwd: Path | None = None, **variables: str
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [sys.executable, "-m", "ledger.cli", *args],
            capture_output=True,
            text=True,
            env={**self.env, **variables},
            cwd=cwd or self.here,
            timeout=120,
            check=False,
        )
        assert "Traceback" not in result.stdout + result.stderr, result.stderr
        return result

    def doctor(self, **variables: str) -> tuple[int, dict[str, Any]]:
        result = self.run("doctor", "--json", **variables)
        return result.returncode, json.loads(result.stdout)


def states(document: dict[str, Any]) -> dict[str, str]:
    return {check["subject"]: check["state"] for check in document["checks"]}


def detail(document: dict[str, Any], subject: str) -> str:
    [found] = [c["detail"] for c in document["checks"] if c["subject"] == subject]
    return str(found)


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    """A node started and the contracts deployed by commands run from a scratch folder, the
    gateway's home elsewhere (杭州市民政局, dev account 2)."""
    base = tmp_path_factory.mktemp("doctor")
    home, here, there = base / "home", base / "here", base / "there"
    here.mkdir()
    there.mkdir()
    port = free_port()
    env = {
        **gateway_environment(home),
        "XIETONG_ENV": "local",
        "XIETONG_DEV_ACCOUNT": "2",
        "XIETONG_NODE_ENGINE": "anvil",
        "XIETONG_NODE_PORT": str(port),
        "XIETONG_RPC_URL": f"http://127.0.0.1:{port}",
    }
    runner = Gateway(env, home, here, there)
    assert runner.run("node", "start").returncode == 0
    try:
        deployed = runner.run("deploy", "--founders", str(FOUNDERS), XIETONG_DEV_ACCOUNT="0")
        assert deployed.returncode == 0, deployed.stderr
        yield runner
    finally:
        runner.run("node", "stop")


def test_the_state_is_the_homes_from_any_folder(gateway: Gateway) -> None:
    """The issue's walk: commands from two scratch folders share one state, and no folder a
    command runs in gets a ``var/`` or ``deployments/`` of its own."""
    assert (gateway.home / "deployments" / "31337.json").is_file()
    assert (gateway.home / "var" / "node").is_dir()
    registered = gateway.run("dataset", "register", "HOME-DOCS", "--metadata", "home")
    assert registered.returncode == 0, registered.stderr
    document = gateway.here / "rules.txt"
    document.write_text("一个家目录\n", encoding="utf-8")
    anchored = gateway.run("dataset", "anchor", str(document), "--dataset", "HOME-DOCS")
    assert anchored.returncode == 0, anchored.stderr
    copy = gateway.there / "rules.txt"
    shutil.copy(document, copy)
    verified = gateway.run("verify", str(copy), "--json", cwd=gateway.there)
    assert verified.returncode == 0, verified.stderr
    assert json.loads(verified.stdout)["anchored"] is True
    assert sorted(p.name for p in gateway.here.iterdir()) == ["rules.txt"]
    assert sorted(p.name for p in gateway.there.iterdir()) == ["rules.txt"]
    assert (gateway.home / "var" / "xietong.db").is_file()

    # The node this home started is running, whichever folder asks.
    status = gateway.run("node", "status", "--json", cwd=gateway.there)
    assert json.loads(status.stdout)["running"] is True
    # Another home sees a node it did not start answering, and says so (not "not running").
    other = gateway.run("node", "status", XIETONG_HOME=str(gateway.there / "home2"))
    assert other.returncode == 0, other.stderr
    assert other.stdout.splitlines()[0] == (
        f"a node answers at {gateway.env['XIETONG_RPC_URL']}, not started by `xietong node "
        f"start` in this home ({gateway.there / 'home2' / 'var' / 'node'})"
    )


def test_doctor_shows_where_everything_is_and_that_it_agrees(gateway: Gateway) -> None:
    code, document = gateway.doctor()
    assert code == 0 and document["ok"] is True and document["healthy"] is True
    home = gateway.home
    paths = document["paths"]
    assert paths["home"] == str(home) and paths["home_from"] == "XIETONG_HOME"
    assert paths["deployment"] == str(home / "deployments" / "31337.json")
    assert paths["trust_file"] == str(home / "deployments" / "31337.consortium.json")
    assert paths["database_url"] == f"sqlite:///{home}/var/xietong.db"
    assert paths["node_dir"] == str(home / "var" / "node")
    assert paths["chain_id"] == 31337 and paths["signer"] == CIVIL
    assert paths["department"]["name"] == "杭州市民政局"
    found = states(document)
    assert found.pop("database") in {"ok", "warning"}  # indexed or not yet: both told below
    assert found == {
        "home": "ok",
        "node": "ok",
        "deployment": "ok",
        "trust file": "ok",
        "key": "ok",
    }
    fresh = gateway.here / "fresh.db"  # a database not made yet: reported, not made
    _, document = gateway.doctor(XIETONG_DATABASE_URL=f"sqlite:///{fresh}")
    assert states(document)["database"] == "warning" and not fresh.exists()
    assert detail(document, "database") == (
        f"{fresh} does not exist yet: the first command that needs it makes it "
        "(`xietong index` fills it from the chain)."
    )
    assert detail(document, "key") == f"signs as {CIVIL}, operator of 杭州市民政局."
    assert "the local anvil node of this home runs (pid " in detail(document, "node")

    indexed = gateway.run("index")
    assert indexed.returncode == 0, indexed.stderr
    _, document = gateway.doctor()
    assert states(document)["database"] == "ok"
    assert detail(document, "database").startswith("indexes chain 31337 up to block ")

    text = gateway.run("doctor", cwd=gateway.there)
    assert text.returncode == 0, text.stderr
    lines = text.stdout.splitlines()
    assert lines[0] == f"home        {home}  (from XIETONG_HOME)"
    assert f"ok       key: signs as {CIVIL}, operator of 杭州市民政局." in lines


def test_doctor_fails_each_disagreement_with_its_sentence(gateway: Gateway, tmp_path: Path) -> None:
    # No manifest where it looks: the advice is never to deploy a second set of contracts.
    empty = tmp_path / "empty"
    code, document = gateway.doctor(XIETONG_DEPLOYMENTS_DIR=str(empty))
    assert code == 1 and document["ok"] is False and document["healthy"] is False
    assert states(document)["deployment"] == "failed"
    assert detail(document, "deployment") == (
        f"no deployment manifest at {empty / '31337.json'}: set XIETONG_DEPLOYMENT to your "
        "consortium's manifest, or XIETONG_HOME to the gateway's home (`xietong doctor` shows "
        "where it looks; only the founders of a new consortium run `xietong deploy`, once)."
    )
    assert states(document)["trust file"] == "skipped"
    assert not empty.exists()  # the doctor changes nothing

    # A manifest naming contracts this chain does not have (another chain's, or a reset node).
    manifest = json.loads((gateway.home / "deployments" / "31337.json").read_text())
    manifest["contracts"]["DepartmentRegistry"]["address"] = "0x" + "11" * 20
    stale = tmp_path / "stale.json"
    stale.write_text(json.dumps(manifest))
    code, document = gateway.doctor(XIETONG_DEPLOYMENT=str(stale))
    assert code == 1 and states(document)["deployment"] == "failed"
    assert detail(document, "deployment") == (
        f"the manifest {stale} is not the node's: the node holds no contract code at the "
        f"consortium's DepartmentRegistry address 0x{'11' * 20}."
    )

    # A node that lies: the same chain id and code at the same addresses, but another chain
    # (a development chain started again and the same founders deployed anew): its genesis.
    manifest = json.loads((gateway.home / "deployments" / "31337.json").read_text())
    manifest["genesis_hash"] = "0x" + "ab" * 32
    restarted = tmp_path / "restarted.json"
    restarted.write_text(json.dumps(manifest))
    code, document = gateway.doctor(XIETONG_DEPLOYMENT=str(restarted))
    assert code == 1 and states(document)["deployment"] == "failed"
    assert detail(document, "deployment").startswith(
        f"the manifest {restarted} is not the node's: the node's genesis block is 0x"
    )
    assert detail(document, "deployment").endswith(
        f"not the consortium's 0x{'ab' * 32}: it is another chain with the same chain id."
    )
    assert states(document)["trust file"] == "skipped"

    # A trust file that says something else than the manifest.
    moved = tmp_path / "moved"
    shutil.copytree(gateway.home / "deployments", moved)
    trust_file = moved / "31337.consortium.json"
    trust = json.loads(trust_file.read_text())
    trust["chain_id"] = 1
    trust_file.write_text(json.dumps(trust))
    code, document = gateway.doctor(XIETONG_DEPLOYMENTS_DIR=str(moved))
    assert code == 1 and states(document)["trust file"] == "failed"
    assert detail(document, "trust file").startswith(
        f"the consortium trust file {trust_file} does not match the deployment manifest"
    )

    # A database indexing another consortium (a registry elsewhere).
    database = tmp_path / "other.db"
    shutil.copy(gateway.home / "var" / "xietong.db", database)
    with sqlite3.connect(database) as connection:
        connection.execute(
            "UPDATE indexer_checkpoint SET registry_address = ?", ("0x" + "de" * 20,)
        )
    code, document = gateway.doctor(XIETONG_DATABASE_URL=f"sqlite:///{database}")
    assert code == 1 and states(document)["database"] == "failed"
    assert detail(document, "database").startswith(f"it indexes chain 31337 at 0x{'de' * 20}, ")
    assert detail(document, "database").endswith(
        "this gateway would answer from another consortium's index."
    )

    # A PostgreSQL that does not answer: named, its password never shown.
    code, document = gateway.doctor(
        XIETONG_DATABASE_URL="postgresql://gateway:s3cret-pw@127.0.0.1:1/xietong"
    )
    assert code == 1 and states(document)["database"] == "failed"
    assert document["paths"]["database_url"] == "postgresql://gateway:***@127.0.0.1:1/xietong"
    assert "s3cret-pw" not in json.dumps(document)
    assert detail(document, "database").startswith("the database does not answer")

    # Another program's SQLite file: refused, and left exactly as it was (opened read-only).
    foreign = tmp_path / "foreign.db"
    with sqlite3.connect(foreign) as connection:
        connection.execute("CREATE TABLE t (x)")
    before = foreign.read_bytes()
    code, document = gateway.doctor(XIETONG_DATABASE_URL=f"sqlite:///{foreign}")
    assert code == 1 and detail(document, "database") == (
        f"sqlite:///{foreign} holds no Xietong index (no indexer_checkpoint table): another "
        "program's database?"
    )
    assert foreign.read_bytes() == before and sorted(p.name for p in tmp_path.glob("foreign*")) == [
        "foreign.db"
    ]  # no -wal or -shm beside it: its journal mode was not changed

    # No node: what needs one is skipped, not guessed.
    code, document = gateway.doctor(XIETONG_RPC_URL=f"http://127.0.0.1:{free_port()}")
    assert code == 1 and states(document)["node"] == "failed"
    assert states(document)["deployment"] == states(document)["trust file"] == "skipped"
    assert detail(document, "node").startswith("the chain node at http://127.0.0.1:")


def test_doctor_names_what_the_key_can_do(gateway: Gateway, tmp_path: Path) -> None:
    # A development key of no department: a warning (it reads, cannot sign), not a failure.
    code, document = gateway.doctor(XIETONG_DEV_ACCOUNT="9")
    assert code == 0 and states(document)["key"] == "warning"
    assert detail(document, "key") == (
        f"{dev_account(9).address} operates no department: it can read, not anchor or sign."
    )
    # Production without a keystore: a gateway that reads.
    code, document = gateway.doctor(XIETONG_ENV="production")
    assert states(document)["key"] == "warning"
    assert detail(document, "key") == (
        "no XIETONG_KEYSTORE: this gateway can verify, index and serve, but not sign."
    )
    # A keystore whose password is wrong: failed, the password never shown.
    keystore = tmp_path / "k.json"
    keystore.write_text(
        json.dumps(Account.encrypt(Account.create().key, "right-pw", kdf="pbkdf2", iterations=2))
    )
    keystore.chmod(0o600)
    code, document = gateway.doctor(
        XIETONG_KEYSTORE=str(keystore), XIETONG_KEYSTORE_PASSWORD="wrong-pw-123"
    )
    assert code == 1 and states(document)["key"] == "failed"
    assert "wrong password" in detail(document, "key")
    assert "wrong-pw-123" not in json.dumps(document) and "right-pw" not in json.dumps(document)


def test_doctor_shows_a_hostile_department_name_escaped_with_its_id(gateway: Gateway) -> None:
    """A department is named by its members: what the contract lets through (a right-to-left
    mark, zero-width characters, Rich markup) is shown as escapes with the department's id,
    never passed to the terminal as it is."""
    deployment = json.loads((gateway.home / "deployments" / "31337.json").read_text())
    w3 = connect(gateway.env["XIETONG_RPC_URL"])
    client = ChainClient(w3, {name: c["address"] for name, c in deployment["contracts"].items()})
    voters = [dev_account(i) for i in (1, 2, 3)]
    name = "\u200f局政民市州杭\u200b[/oops][link=https://evil.example]x\ufeff"
    hostile = admit_department(client, voters, "HOSTILE-DOCTOR", name, dev_account(11))
    hostile_id = "0x" + hostile.hex()
    code, document = gateway.doctor(XIETONG_DEV_ACCOUNT="11")
    assert code == 0, document
    department = document["paths"]["department"]
    assert department["id"] == hostile_id
    assert department["name"] == name  # the JSON gives the name as it is, flagged
    assert {"bidi", "zero-width"} <= set(department["name_flags"])
    shown = detail(document, "key")
    assert not {"\u200f", "\u200b", "\ufeff"} & set(shown)
    assert "\\u200f" in shown and f"[{hostile_id}]" in shown
    text = gateway.run("doctor", XIETONG_DEV_ACCOUNT="11")
    assert text.returncode == 0 and not {"\u200f", "\u200b", "\ufeff"} & set(text.stdout)
    [line] = [line for line in text.stdout.splitlines() if line.startswith("ok       key: ")]
    assert "[/oops][link=https://evil.example]x" in line  # markup shown as written

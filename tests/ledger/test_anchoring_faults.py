"""Anchoring survives real faults: the gateway process killed, the chain node killed.

- **Gateway killed.** ``xietong dataset anchor`` runs in its own process and receives
  SIGKILL at each step of anchoring — after persisting the batch, after signing and
  recording its transaction (before sending it), after sending it (before confirmation) —
  then the gateway is restarted with ``xietong dataset resume`` (or the same anchor command
  run again). On Hardhat 2 and Anvil, with SQLite and PostgreSQL.
- **Node killed.** An Anvil node of the test's own is killed (SIGKILL) while a batch is
  being anchored — before the transaction reaches it, after it mined it — and restarted
  from its persisted state, which holds the transaction or not (both must end well: a lost
  transaction is sent again, the very same signed bytes with the same nonce). The gateway
  sees a typed :class:`~ledger.errors.ChainUnavailableError` at once, never a hang; under
  ``xietong dataset anchor`` that is one sentence saying the version is kept for
  ``dataset resume``. Also: the node frozen (SIGSTOP) rather than killed, and the node
  killed under hashes submitted over the API (the submission queue's flush).

  Anvil only: a Hardhat 2 node cannot persist its chain across a restart (it has no state
  dump or load), so a restarted one has lost the contracts altogether. Anvil's own
  persistence (``--state`` with ``--state-interval``) writes its state every few seconds;
  these tests write the same state file with ``anvil_dumpState`` at the moment they choose,
  so that which of the two outcomes a test gets is certain.

After every recovery: the root is anchored exactly once (one ``VersionAnchored`` event, one
transaction from the signer in all), the batch is confirmed, every leaf verifies and its
proof bundle checks against the node, and another resume finds nothing to do.
"""

from __future__ import annotations

import dataclasses
import gzip
import json
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress
from eth_utils import keccak
from hexbytes import HexBytes
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from web3 import Web3
from web3.exceptions import TransactionNotFound

from ledger import hashing, merkle
from ledger.anchoring import Anchorer, PreparedVersion, prepare_hashes, prepare_path
from ledger.chain.client import ChainClient, connect, wait_for_rpc
from ledger.chain.deploy import Deployment, deploy
from ledger.chain.node import NodeSpec, free_port, node_command
from ledger.db.engine import create_db_engine
from ledger.db.tables import LeafRow, VersionAnchoring
from ledger.errors import ChainUnavailableError
from ledger.ids import code_hash, version_id
from ledger.indexer import Indexer
from ledger.keys import dev_account
from ledger.paths import HARDHAT_DIR
from ledger.submissions import SubmissionQueue
from ledger.verify import Verifier, verify_bundle
from tests.conftest import founders_for_tests
from tests.ledger._gateway_process import CliRun, run_cli, run_cli_killed_at
from tests.support import FOUNDERS, Consortium, dataset_of

CODE = "FAULT-TEST"
DS = dataset_of("A", CODE)
SIGNER_INDEX = FOUNDERS["A"][2]  # the gateway of the department that owns DS
STEPS = ("persisted", "recorded", "broadcast")
KILLED = -signal.SIGKILL


# ---------------------------------------------------------------- shared checks


@pytest.fixture
def records(tmp_path: Path) -> Path:
    data = tmp_path / "dibao.csv"
    data.write_text(
        "编号,姓名,街道\nDB1,王明,湖滨街道\nDB2,李华,小营街道\nDB3,张伟,小营街道\n",
        encoding="utf-8",
    )
    return data


def leaf_values(prepared: PreparedVersion, source: Path) -> list[tuple[bytes, list[Any]]]:
    """(leaf hash, leaf values) of every leaf of ``prepared``, from the data itself."""
    if prepared.kind == "file":
        assert prepared.files is not None
        return [
            (leaf, [entry.content_hash, entry.path])
            for leaf, entry in zip(prepared.leaf_hashes, prepared.files, strict=True)
        ]
    salts = hashing.read_salts(source.with_name(source.name + ".salts.json"))
    entries = hashing.hash_records(source, salts=salts).entries
    return [
        (
            merkle.leaf_hash(merkle.RECORD_LEAF_TYPES, [e.record_hash, e.salt]),
            [e.record_hash, e.salt],
        )
        for e in entries
    ]


def anchored_events(client: ChainClient, root: bytes, from_block: int) -> int:
    logs = (
        client.contract("DatasetRegistry")
        .events.VersionAnchored()
        .get_logs(from_block=from_block, argument_filters={"root": root})
    )
    return len(logs)


def only_batch(engine: Engine) -> VersionAnchoring:
    with Session(engine) as session:
        return session.exec(select(VersionAnchoring)).one()


def stored_leaves(engine: Engine, root: bytes) -> list[str]:
    with Session(engine) as session:
        rows = session.exec(select(LeafRow).where(LeafRow.root == "0x" + root.hex())).all()
        return sorted(row.leaf_hash for row in rows)


def assert_anchored_once_and_provable(
    client: ChainClient,
    deployment: Deployment,
    engine: Engine,
    prepared: PreparedVersion,
    source: Path,
    *,
    from_block: int,
    signer: ChecksumAddress,
    nonce_before: int,
    genesis_from_node: bool = False,
) -> None:
    """The root is anchored once, by one transaction, and every leaf (once indexed, as the
    gateway's indexer does) verifies and has a proof bundle that checks against the node (and
    the deployment's consortium trust file).

    ``genesis_from_node``: Anvil started from the dump of a node that was itself started from
    a dump rebuilds its genesis block (with a new timestamp: another hash), though it keeps
    every later block; the trust file's genesis is then the node's, the rest checked as is."""
    root = "0x" + prepared.root.hex()
    assert anchored_events(client, prepared.root, from_block) == 1
    assert client.w3.eth.get_transaction_count(signer, "latest") == nonce_before + 1
    batch = only_batch(engine)
    assert (batch.root, batch.status, batch.error) == (root, "confirmed", None)
    receipt = client.w3.eth.get_transaction_receipt(HexBytes(batch.tx_hash or "0x"))
    assert receipt["status"] == 1 and receipt["blockNumber"] == batch.block_number
    assert batch.dataset_id == "0x" + DS.hex()
    version = client.call("DatasetRegistry", "version", DS, prepared.root)  # of DS, or reverts
    assert (version[0], version[2]) == (prepared.tree.leaf_count, batch.block_number)
    leaves = leaf_values(prepared, source)
    assert stored_leaves(engine, prepared.root) == sorted("0x" + leaf.hex() for leaf, _ in leaves)
    trust = deployment.trust()
    if genesis_from_node:
        genesis = "0x" + bytes(client.w3.eth.get_block(0)["hash"]).hex()
        trust = dataclasses.replace(trust, genesis_hash=genesis)
    Indexer(client, deployment, engine).sync()
    verifier = Verifier(engine, client)
    for leaf, values in leaves:
        answer = verifier.verify_leaf(leaf)
        assert answer.anchored, answer
        assert [(m.version.id, m.version.root) for m in answer.matches] == [
            ("0x" + version_id(DS, prepared.root).hex(), root)
        ]
        bundle = verifier.proof_bundle(leaf, values)
        check = verify_bundle(bundle, client.w3, trust=trust)
        assert (check.leaf, check.root, check.dataset_id, check.block_number) == (
            "0x" + leaf.hex(),
            root,
            "0x" + DS.hex(),
            batch.block_number,
        )
        assert check.version_id == "0x" + version_id(DS, prepared.root).hex()


# ---------------------------------------------------------------- the gateway is killed


@pytest.fixture
def gateway_env(consortium: Consortium, database_url: str, tmp_path: Path) -> dict[str, str]:
    """The ``XIETONG_*`` environment of the gateway of the department owning DS."""
    consortium.register_dataset("A", CODE, b"\x00" * 32)  # no description: a SHA-256 dataset
    manifest = tmp_path / "deployment.json"
    manifest.write_text(json.dumps(consortium.deployment.as_dict()), encoding="utf-8")
    return {
        "XIETONG_ENV": "local",
        "XIETONG_RPC_URL": str(consortium.w3.provider.endpoint_uri),  # type: ignore[attr-defined]
        "XIETONG_DEPLOYMENT": str(manifest),
        "XIETONG_DATABASE_URL": database_url,
        "XIETONG_DEV_ACCOUNT": str(SIGNER_INDEX),
        "XIETONG_TX_TIMEOUT": "10",
    }


def resumed(run: CliRun) -> list[dict[str, Any]]:
    assert run.returncode == 0, run.stderr + run.stdout
    document = json.loads(run.stdout)
    assert document["ok"] is True
    batches: list[dict[str, Any]] = document["batches"]
    return batches


@pytest.mark.timeout(120)
@pytest.mark.parametrize(
    ("step", "restart"),
    [
        *((step, "resume") for step in STEPS),
        # Or the operator, not knowing better, runs the same anchor command again (a sent
        # batch: the same path whether its transaction reached the node or not).
        ("recorded", "anchor"),
    ],
)
def test_gateway_killed_at_each_step_then_restarted(
    consortium: Consortium,
    gateway_env: dict[str, str],
    engine: Engine,
    folder: Path,
    tmp_path: Path,
    step: str,
    restart: str,
) -> None:
    c = consortium
    signer = c.ops["A"].address
    nonce_before = c.w3.eth.get_transaction_count(signer, "latest")
    from_block = c.w3.eth.block_number
    prepared = prepare_path(folder, DS)
    gateway = tmp_path / "gateway"

    anchor = ("dataset", "anchor", str(folder), "--dataset", "0x" + DS.hex(), "--json")
    killed = run_cli_killed_at(step, gateway_env, gateway, *anchor)
    assert killed.returncode == KILLED, f"not killed at {step}: {killed.stderr}{killed.stdout}"
    assert killed.stdout == ""  # it never got to report anything

    # What the killed gateway left: the whole leaf store, and the transaction once signed.
    crashed = only_batch(engine)
    assert crashed.root == "0x" + prepared.root.hex()
    assert crashed.status == ("pending" if step == "persisted" else "sent")
    assert len(stored_leaves(engine, prepared.root)) == 3
    if step == "persisted":
        assert crashed.tx_hash is None and crashed.raw_tx is None
        assert anchored_events(c.client, prepared.root, from_block) == 0
    elif step == "recorded":  # signed and recorded, never sent: the node has not seen it
        assert crashed.raw_tx is not None and crashed.nonce == nonce_before
        with pytest.raises(TransactionNotFound):
            c.w3.eth.get_transaction(HexBytes(crashed.tx_hash or "0x"))
        assert anchored_events(c.client, prepared.root, from_block) == 0
    else:  # sent: the node has it (both engines mine at once)
        assert c.w3.eth.get_transaction(HexBytes(crashed.tx_hash or "0x"))["nonce"] == nonce_before

    if restart == "resume":
        [batch] = resumed(run_cli(gateway_env, gateway, "dataset", "resume", "--json"))
    else:
        again = run_cli(gateway_env, gateway, *anchor)
        assert again.returncode == 0, again.stderr + again.stdout
        batch = json.loads(again.stdout)
        assert batch["batch_id"] == crashed.id  # the batch the killed run persisted
    assert (batch["root"], batch["status"]) == ("0x" + prepared.root.hex(), "confirmed")
    if step != "persisted":  # the recorded transaction itself was mined, not a new one
        assert batch["transaction"] == crashed.tx_hash
    assert_anchored_once_and_provable(
        c.client,
        c.deployment,
        engine,
        prepared,
        folder,
        from_block=from_block,
        signer=signer,
        nonce_before=nonce_before,
    )
    assert resumed(run_cli(gateway_env, gateway, "dataset", "resume", "--json")) == []
    assert anchored_events(c.client, prepared.root, from_block) == 1


# ---------------------------------------------------------------- the node is killed


class AnvilProcess:
    """An Anvil node of a test's own, killed and restarted from a state file at will."""

    def __init__(self, state_dir: Path) -> None:
        self.spec = NodeSpec(engine="anvil", port=free_port(), state_dir=state_dir)
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def rpc_url(self) -> str:
        return self.spec.rpc_url

    def start(self, state: Path | None) -> None:
        """Start from ``state`` (a dump; None: a new chain) and wait until it answers."""
        assert self.process is None
        load = ["--load-state", str(state)] if state is not None else []
        self.process = subprocess.Popen(
            [*node_command(self.spec), "--silent", *load],
            cwd=HARDHAT_DIR,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        process = self.process
        wait_for_rpc(self.rpc_url, timeout=30, is_alive=lambda: process.poll() is None)

    def dump(self, path: Path) -> None:
        """Write the node's state to ``path`` (what ``--state`` would persist)."""
        w3 = Web3(Web3.HTTPProvider(self.rpc_url, request_kwargs={"timeout": 10}))
        state = w3.provider.make_request("anvil_dumpState", [])  # type: ignore[arg-type]
        path.write_bytes(gzip.decompress(bytes(HexBytes(state["result"]))))

    def kill(self) -> None:
        """SIGKILL: the node gets no chance to write anything."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.reap()

    def reap(self) -> None:
        """Collect the node once killed (by :meth:`kill` or another process)."""
        assert self.process is not None
        self.process.wait(timeout=10)
        self.process = None


@pytest.fixture(scope="module")
def anvil_base(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Deployment]:
    """The state of a chain with the contracts deployed and DS registered to department A."""
    where = tmp_path_factory.mktemp("anvil-base")
    node = AnvilProcess(where)
    node.start(None)
    try:
        w3 = connect(node.rpc_url)
        deployment = deploy(
            w3,
            founders_for_tests(),
            deployer=dev_account(0),
            manifest_path=where / "deployment.json",
        )
        ChainClient(w3, deployment.addresses).transact(
            "DatasetRegistry",
            "registerDataset",
            code_hash(CODE),
            b"\x00" * 32,
            sender=dev_account(SIGNER_INDEX),
        )
        base = where / "base.json"
        node.dump(base)
    finally:
        node.kill()
    return base, deployment


@pytest.fixture
def anvil(anvil_base: tuple[Path, Deployment], tmp_path: Path) -> Iterator[AnvilProcess]:
    node = AnvilProcess(tmp_path / "anvil")
    node.start(anvil_base[0])
    try:
        yield node
    finally:
        if node.process is not None:
            node.kill()


def _client(node: AnvilProcess, deployment: Deployment) -> ChainClient:
    return ChainClient(connect(node.rpc_url), deployment.addresses, tx_timeout=10)


def _signer() -> LocalAccount:
    return dev_account(SIGNER_INDEX)


def _wait_mined(client: ChainClient, tx_hash: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            client.w3.eth.get_transaction_receipt(HexBytes(tx_hash))
            return
        except TransactionNotFound:
            assert time.monotonic() < deadline, f"{tx_hash} was not mined"
            time.sleep(0.02)


def _kill_node_at(step: str, action: Callable[[], None]) -> Callable[[str], None]:
    return lambda at: action() if at == step else None


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    ("step", "restart_state"),
    [
        ("recorded", "before"),  # killed before the transaction reached it
        ("broadcast", "before"),  # killed after; the state it restarts from predates the tx
        ("broadcast", "after"),  # killed after mining it; its state holds the tx
    ],
)
def test_node_killed_while_anchoring_then_restarted(
    anvil: AnvilProcess,
    anvil_base: tuple[Path, Deployment],
    engine: Engine,
    records: Path,
    tmp_path: Path,
    step: str,
    restart_state: str,
) -> None:
    base, deployment = anvil_base
    client = _client(anvil, deployment)
    signer = _signer()
    nonce_before = client.w3.eth.get_transaction_count(signer.address, "latest")
    from_block = client.w3.eth.block_number
    prepared = prepare_path(records, DS)
    state = base if restart_state == "before" else tmp_path / "state.json"

    def kill_node() -> None:
        if restart_state == "after":
            _wait_mined(client, only_batch(engine).tx_hash or "0x")
            anvil.dump(state)
        anvil.kill()

    anchorer = Anchorer(
        client, engine, signer, confirmation_timeout=10, crash_hook=_kill_node_at(step, kill_node)
    )
    started = time.monotonic()
    with pytest.raises(ChainUnavailableError, match=r"does not answer.*dataset resume"):
        anchorer.anchor(prepared)
    assert time.monotonic() - started < 5  # a typed error at once, no wait for a timeout
    sent = only_batch(engine)
    assert sent.status == "sent" and sent.raw_tx is not None and sent.nonce == nonce_before
    assert len(stored_leaves(engine, prepared.root)) == 3

    anvil.start(state)
    on_restart = client.w3.eth.get_transaction_count(signer.address, "latest")
    assert on_restart == (nonce_before if restart_state == "before" else nonce_before + 1)
    [batch] = Anchorer(client, engine, signer, confirmation_timeout=10).resume()
    assert batch.status == "confirmed"
    assert batch.tx_hash == sent.tx_hash  # the very same signed transaction, sent again if lost
    assert_anchored_once_and_provable(
        client,
        deployment,
        engine,
        prepared,
        records,
        from_block=from_block,
        signer=signer.address,
        nonce_before=nonce_before,
        genesis_from_node=restart_state == "after",
    )
    assert Anchorer(client, engine, signer).resume() == []


@pytest.mark.timeout(60)
def test_node_frozen_while_anchoring_then_thawed(
    anvil: AnvilProcess, anvil_base: tuple[Path, Deployment], records: Path, tmp_path: Path
) -> None:
    """A node that hangs (SIGSTOP) instead of dying, just before the transaction is sent: the
    gateway gives up with the same typed error once its JSON-RPC timeout has run out on each
    of web3's retries (6 tries and 1.9 s of back-off). Once the node is thawed, resume
    confirms the recorded transaction: whether the frozen node kept the send (Anvil drops a
    request whose client has gone) or resume sends the same bytes again, it is mined once.
    (SQLite only: the database plays no part in the wait.)"""
    deployment = anvil_base[1]
    rpc_timeout = 0.5
    client = ChainClient(connect(anvil.rpc_url, timeout=rpc_timeout), deployment.addresses)
    engine = create_db_engine(f"sqlite:///{tmp_path / 'xietong.db'}")
    signer = _signer()
    nonce_before = client.w3.eth.get_transaction_count(signer.address, "latest")
    from_block = client.w3.eth.block_number
    prepared = prepare_path(records, DS)
    assert anvil.process is not None
    group = anvil.process.pid

    anchorer = Anchorer(
        client,
        engine,
        signer,
        confirmation_timeout=10,
        crash_hook=_kill_node_at("recorded", lambda: os.killpg(group, signal.SIGSTOP)),
    )
    started = time.monotonic()
    try:
        with pytest.raises(ChainUnavailableError, match=r"does not answer \(ReadTimeout\)"):
            anchorer.anchor(prepared)
        assert time.monotonic() - started < 6 * rpc_timeout + 1.9 + 2  # bounded, not a hang
    finally:
        os.killpg(group, signal.SIGCONT)
    sent = only_batch(engine)
    assert sent.status == "sent" and sent.nonce == nonce_before

    [batch] = Anchorer(client, engine, signer, confirmation_timeout=10).resume()
    assert batch.status == "confirmed" and batch.tx_hash == sent.tx_hash
    assert_anchored_once_and_provable(
        client,
        deployment,
        engine,
        prepared,
        records,
        from_block=from_block,
        signer=signer.address,
        nonce_before=nonce_before,
    )
    engine.dispose()


@pytest.mark.timeout(60)
@pytest.mark.parametrize("step", STEPS)
def test_node_killed_under_the_cli_then_resumed(
    anvil: AnvilProcess,
    anvil_base: tuple[Path, Deployment],
    engine: Engine,
    records: Path,
    database_url: str,
    tmp_path: Path,
    step: str,
) -> None:
    """``xietong dataset anchor`` sees the node die at each step: one sentence, the version
    kept; ``dataset resume`` refuses the same way while the node is down, then anchors it."""
    base, deployment = anvil_base
    client = _client(anvil, deployment)
    signer = _signer()
    nonce_before = client.w3.eth.get_transaction_count(signer.address, "latest")
    from_block = client.w3.eth.block_number
    prepared = prepare_path(records, DS)
    manifest = tmp_path / "deployment.json"
    manifest.write_text(json.dumps(deployment.as_dict()), encoding="utf-8")
    env = {
        "XIETONG_ENV": "local",
        "XIETONG_RPC_URL": anvil.rpc_url,
        "XIETONG_DEPLOYMENT": str(manifest),
        "XIETONG_DATABASE_URL": database_url,
        "XIETONG_DEV_ACCOUNT": str(SIGNER_INDEX),
        "XIETONG_TX_TIMEOUT": "10",
    }
    gateway = tmp_path / "gateway"

    assert anvil.process is not None
    interrupted = run_cli_killed_at(
        step,
        env,
        gateway,
        "dataset",
        "anchor",
        str(records),
        "--dataset",
        "0x" + DS.hex(),
        node_group=anvil.process.pid,
    )
    anvil.reap()
    assert interrupted.returncode == 1, interrupted.stderr + interrupted.stdout
    [sentence] = interrupted.stderr.strip().splitlines()
    assert sentence.startswith("error: the chain node does not answer (ConnectionError)")
    assert f"version 0x{prepared.root.hex()} is kept" in sentence
    assert sentence.endswith("`xietong dataset resume` anchors it once the node answers again.")
    left = only_batch(engine)
    assert left.status == ("pending" if step == "persisted" else "sent")
    assert len(stored_leaves(engine, prepared.root)) == 3

    refused = run_cli(env, gateway, "dataset", "resume")
    assert refused.returncode == 1, refused.stderr + refused.stdout
    [sentence] = refused.stderr.strip().splitlines()
    assert sentence.startswith("error: the chain node") and "does not answer" in sentence
    assert only_batch(engine).status == left.status  # nothing lost, nothing half done

    anvil.start(base)  # its state predates the anchor: a sent transaction was lost
    [batch] = resumed(run_cli(env, gateway, "dataset", "resume", "--json"))
    assert (batch["root"], batch["status"]) == ("0x" + prepared.root.hex(), "confirmed")
    if step != "persisted":
        assert batch["transaction"] == left.tx_hash
    assert_anchored_once_and_provable(
        client,
        deployment,
        engine,
        prepared,
        records,
        from_block=from_block,
        signer=signer.address,
        nonce_before=nonce_before,
    )
    assert resumed(run_cli(env, gateway, "dataset", "resume", "--json")) == []


@pytest.mark.timeout(60)
@pytest.mark.parametrize("step", ["sealed", "broadcast"])
def test_submitted_hashes_survive_the_node_killed_during_a_flush(
    anvil: AnvilProcess, anvil_base: tuple[Path, Deployment], engine: Engine, step: str
) -> None:
    """Hashes submitted over the API: the node dies when their batch is sealed (before it is
    persisted) or once its transaction is sent; the gateway's anchoring loop (resume, then
    flush) anchors them once the node is back."""
    base, deployment = anvil_base
    client = _client(anvil, deployment)
    signer = _signer()
    nonce_before = client.w3.eth.get_transaction_count(signer.address, "latest")
    from_block = client.w3.eth.block_number
    Indexer(client, deployment, engine).sync()  # the API queues hashes of indexed datasets
    department = client.call("DepartmentRegistry", "requireActiveOperator", signer.address)
    queue = SubmissionQueue(engine, max_wait=0, claim_timeout=0)
    leaves = [(keccak(text=f"file {n}"), f"报告-{n}.pdf") for n in range(3)]
    submitted = queue.submit("0x" + DS.hex(), leaves, department_id="0x" + bytes(department).hex())
    batch_id = submitted["batch_id"]

    if step == "sealed":
        anvil.kill()
        anchorer = Anchorer(client, engine, signer, confirmation_timeout=10)
    else:
        anchorer = Anchorer(
            client,
            engine,
            signer,
            confirmation_timeout=10,
            crash_hook=_kill_node_at(step, anvil.kill),
        )
    with pytest.raises(ChainUnavailableError, match="does not answer"):
        queue.flush(anchorer)
    assert queue.status(batch_id)["status"] == ("sealed" if step == "sealed" else "sent")
    if step == "sealed":  # not persisted for anchoring yet: the next flush takes it over
        assert anchorer.resume() == []
    else:
        with pytest.raises(ChainUnavailableError):  # the loop's next pass, node still down
            anchorer.resume()

    anvil.start(base)  # its state predates the batch: a sent transaction was lost
    recovered = Anchorer(client, engine, signer, confirmation_timeout=10)
    recovered.resume()  # what the gateway's anchoring loop does at each pass
    queue.flush(recovered)
    prepared = prepare_hashes(leaves, DS, source=f"api-batch-{batch_id}")
    status = queue.status(batch_id)
    assert (status["status"], status["root"]) == ("confirmed", "0x" + prepared.root.hex())
    assert_anchored_once_and_provable(
        client,
        deployment,
        engine,
        prepared,
        Path(),
        from_block=from_block,
        signer=signer.address,
        nonce_before=nonce_before,
    )
    assert recovered.resume() == [] and queue.due() == []

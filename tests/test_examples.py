"""The integrator examples run as written, against real things (examples/README.md):

- ``hardhat-node/examples/check-anchor.mjs`` (ethers v6) with a deployment manifest, the
  committed ABIs and a proof bundle made by ``xietong dataset proof``, on a real node of each
  engine: ``verifyLeaf`` and ``isAuthorized`` answer exactly, and every bad input is one
  sentence with its exit status;
- ``examples/verify_bundle.py`` (httpx only) against a gateway serving that chain over HTTP:
  the gateway vouches for an authentic bundle (file and record leaves), refuses a tampered one
  with its problem, and each failure is one sentence.

The scene (two anchored datasets, their bundles, an active agreement) is made once per node in
a chain snapshot that is reverted afterwards. Last, examples/README.md's commands run as written
against the demo that ``make run`` plays.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import Session
from web3 import Web3

from api import create_app
from ledger import merkle
from ledger.apikeys import create_api_key
from ledger.chain.node import NodeSpec, free_port
from ledger.ids import AgreementTerms, code_hash, dataset_id, department_id
from ledger.paths import PROJECT_ROOT
from ledger.settings import Settings, trust_file_beside
from tests.browser._browser import serve
from tests.support import (
    FOUNDERS,
    Consortium,
    chain_snapshot,
    gateway_environment,
    interrupt,
    mistype,
)

NODE = shutil.which("node")
HARDHAT_NODE = PROJECT_ROOT / "hardhat-node"
CHECK_ANCHOR = HARDHAT_NODE / "examples" / "check-anchor.mjs"
VERIFY_BUNDLE = PROJECT_ROOT / "examples" / "verify_bundle.py"
ARTIFACTS = PROJECT_ROOT / "ledger" / "artifacts"
EXAMPLES_README = PROJECT_ROOT / "examples" / "README.md"
BIN = Path(sys.executable).parent

# 杭州市民政局 (founder B, dev account 2) publishes and provides; 公安局 (A) may receive.
PUBLISHER, CONSUMER, OUTSIDER = (FOUNDERS[key][0] for key in ("B", "A", "C"))
PURPOSE = "eligibility-check 低保资格核查"
POLICY, ROWS = "TEST-POLICY", "TEST-ROWS"
USAGE = (
    "usage: node hardhat-node/examples/check-anchor.mjs --manifest FILE --rpc URL --bundle FILE "
    "--provider DEPARTMENT --consumer DEPARTMENT --purpose TEXT [--dataset DATASET] [--abis DIR]"
)


def hex_id(code: str) -> str:
    return "0x" + department_id(code).hex()


@dataclass
class Scene:
    """What the examples are run against: a node, its manifest, the bundles, the gateway's
    database, and where to write variants."""

    node: NodeSpec
    w3: Web3
    manifest: Path
    bundle: Path
    record_bundle: Path
    policy_file: Path
    database_url: str
    work: Path

    def bundle_data(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.bundle.read_text(encoding="utf-8"))
        return data

    def write(self, name: str, data: Any) -> Path:
        """``data`` as JSON in a new file ``name`` of the work folder."""
        path = self.work / name
        path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        return path


def _cli(env: dict[str, str], cwd: Path, *args: str) -> Any:
    """``xietong ARGS --json`` as a process; its JSON answer (which must be ok)."""
    result = subprocess.run(
        [sys.executable, "-m", "ledger.cli", *args, "--json"],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, f"{args}: {result.stderr}{result.stdout}"
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def scene(
    node: NodeSpec, deployed: Consortium, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Scene]:
    """On this node's deployment, in a snapshot undone at the end of the module: 民政局
    anchors a folder of three files and a CSV of five rows with the ``xietong`` command, which
    writes a bundle of each; it proposes sharing the folder's dataset with 公安局 for
    ``PURPOSE``, and 公安局 accepts."""
    work = tmp_path_factory.mktemp(f"examples-{node.engine}")
    manifest = work / "deployments" / "manifest.json"
    manifest.parent.mkdir()
    # The manifest and trust file as `xietong deploy` writes them (the consortium hands them out).
    deployed.deployment.write(manifest)
    deployed.deployment.trust().write(trust_file_beside(manifest))
    database_url = f"sqlite:///{work / 'xietong.db'}"
    env = {
        **gateway_environment(work),
        "XIETONG_ENV": "local",
        "XIETONG_RPC_URL": node.rpc_url,
        "XIETONG_DEPLOYMENT": str(manifest),
        "XIETONG_DATABASE_URL": database_url,
        "XIETONG_DEV_ACCOUNT": "2",
    }
    folder = work / "policy"
    folder.mkdir()
    for number, text in enumerate(("低保办法", "复核流程", "公示规则"), start=1):
        (folder / f"{number}-{text}.md").write_text(f"# {text}\n", encoding="utf-8")
    rows = work / "rows.csv"
    rows.write_text(
        "户号,街道,金额\n" + "".join(f"HZ-{i},西湖区,{700 + i}\n" for i in range(5)),
        encoding="utf-8",
    )
    with chain_snapshot(deployed.w3):
        deployed.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
        policy = _cli(env, work, "dataset", "register", POLICY)["dataset_id"]
        _cli(env, work, "dataset", "anchor", str(folder), "--dataset", POLICY)
        _cli(env, work, "dataset", "register", ROWS)
        _cli(env, work, "dataset", "anchor", str(rows), "--dataset", ROWS)
        _cli(env, work, "index")
        policy_file = folder / "2-复核流程.md"
        bundle, record_bundle = work / "proof.json", work / "record-proof.json"
        _cli(env, work, "dataset", "proof", str(policy_file), "--out", str(bundle))
        row = ("--record", "3", "--salts", f"{rows}.salts.json")
        _cli(env, work, "dataset", "proof", str(rows), *row, "--out", str(record_bundle))
        now = int(deployed.w3.eth.get_block("latest")["timestamp"])
        terms = AgreementTerms(
            provider=department_id(PUBLISHER),
            consumer=department_id(CONSUMER),
            dataset_ids=(bytes.fromhex(policy[2:]),),
            purpose=code_hash(PURPOSE),
            legal_basis=code_hash("社会救助暂行办法"),
            terms_hash=b"\x07" * 32,
            valid_from=now,
            valid_until=now + 365 * 24 * 3600,
        )
        proposed = deployed.transact(
            "SharingAgreements", "propose", terms.as_tuple(), sender=deployed.ops["B"]
        )
        agreement = bytes(proposed.event("AgreementProposed")["agreementId"])
        deployed.transact("SharingAgreements", "accept", agreement, sender=deployed.ops["A"])
        yield Scene(
            node, deployed.w3, manifest, bundle, record_bundle, policy_file, database_url, work
        )


# ------------------------------------------------------------------------------ check-anchor.mjs


@dataclass
class Ran:
    """A finished run of an example."""

    returncode: int
    stdout: str
    stderr: str

    def answer(self) -> Any:
        assert self.returncode == 0, f"exit {self.returncode}: {self.stderr}"
        assert self.stderr == ""
        return json.loads(self.stdout)

    def refused(self, sentence: str, status: int = 1) -> None:
        """Exit ``status`` with exactly ``sentence`` on stderr and nothing on stdout."""
        assert (self.returncode, self.stdout) == (status, ""), (self.returncode, self.stdout)
        assert self.stderr == f"error: {sentence}\n", self.stderr


def check_anchor(*args: str) -> Ran:
    """``node hardhat-node/examples/check-anchor.mjs ARGS``, run in hardhat-node/."""
    assert NODE is not None, "Node.js (`node`) is not on PATH"
    result = subprocess.run(
        [NODE, str(CHECK_ANCHOR), *args],
        capture_output=True,
        text=True,
        cwd=HARDHAT_NODE,
        timeout=120,
        check=False,
    )
    assert "    at " not in result.stderr, f"a stack trace:\n{result.stderr}"
    return Ran(result.returncode, result.stdout, result.stderr)


def question(
    scene: Scene,
    *,
    bundle: Path | None = None,
    manifest: Path | None = None,
    rpc: str | None = None,
    consumer: str = CONSUMER,
    purpose: str = PURPOSE,
    extra: tuple[str, ...] = (),
) -> tuple[str, ...]:
    """The arguments of check-anchor.mjs: the scene's, with any of them replaced."""
    return (
        "--manifest",
        str(manifest or scene.manifest),
        "--rpc",
        rpc or scene.node.rpc_url,
        "--bundle",
        str(bundle or scene.bundle),
        "--provider",
        PUBLISHER,
        "--consumer",
        consumer,
        "--purpose",
        purpose,
        *extra,
    )


def test_check_anchor_verifies_the_leaf_and_an_authorized_pair(scene: Scene) -> None:
    """The bundle `xietong dataset proof` wrote verifies on chain, in a version of 3 leaves,
    not revoked; 民政局 may share the dataset with 公安局 for the purpose: both true, asked at
    the chain's head."""
    bundle = scene.bundle_data()
    answer = check_anchor(*question(scene)).answer()
    head = scene.w3.eth.get_block("latest")
    assert answer == {
        "chain_id": scene.w3.eth.chain_id,
        "block": {"number": head["number"], "hash": head["hash"].to_0x_hex()},
        "bundle": {
            "leaf": bundle["leaf"]["hash"],
            "kind": "file",
            "dataset_id": bundle["dataset_id"],
            "root": bundle["root"],
        },
        "verifyLeaf": True,
        "version": {
            "leaf_count": 3,
            "anchored_at": bundle["anchored_at"],
            "block_number": bundle["block_number"],
            "revoked_at": None,
        },
        "isAuthorized": True,
        "authorization": {
            "provider": hex_id(PUBLISHER),
            "consumer": hex_id(CONSUMER),
            "dataset_id": bundle["dataset_id"],
            "purpose": "0x" + code_hash(PURPOSE).hex(),
        },
    }


def test_check_anchor_verifies_a_record_leaf(scene: Scene) -> None:
    """A CSV row's bundle (record hash and salt): verified in its version of 5 rows, whose
    dataset the agreement does not cover."""
    record = json.loads(scene.record_bundle.read_text(encoding="utf-8"))
    answer = check_anchor(*question(scene, bundle=scene.record_bundle)).answer()
    assert answer["bundle"] == {
        "leaf": record["leaf"]["hash"],
        "kind": "record",
        "dataset_id": record["dataset_id"],
        "root": record["root"],
    }
    assert (answer["verifyLeaf"], answer["version"]["leaf_count"]) == (True, 5)
    assert answer["isAuthorized"] is False


def test_check_anchor_derives_a_dataset_code_through_the_contract(scene: Scene) -> None:
    """``--dataset CODE`` is the provider's dataset of that code (computeDatasetId): the
    bundle's dataset, authorized; the provider's other dataset is not covered."""
    policy = check_anchor(*question(scene, extra=("--dataset", POLICY))).answer()
    assert policy["authorization"]["dataset_id"] == scene.bundle_data()["dataset_id"]
    assert policy["isAuthorized"] is True
    rows = check_anchor(*question(scene, extra=("--dataset", ROWS))).answer()
    assert rows["authorization"]["dataset_id"] != policy["authorization"]["dataset_id"]
    assert rows["isAuthorized"] is False


def test_check_anchor_trims_a_code_as_python_does(scene: Scene) -> None:
    """A code is trimmed as ledger/ids.py trims it (str.strip), not as String.prototype.trim:
    U+001C around it goes, U+FEFF stays (and names another dataset)."""
    separated = check_anchor(*question(scene, extra=("--dataset", f"\x1c{POLICY}\x1f"))).answer()
    assert separated["authorization"]["dataset_id"] == scene.bundle_data()["dataset_id"]
    assert separated["isAuthorized"] is True
    marked = check_anchor(*question(scene, extra=("--dataset", f"\ufeff{POLICY}"))).answer()
    owner = bytes.fromhex(separated["authorization"]["provider"][2:])
    assert (
        marked["authorization"]["dataset_id"] == "0x" + dataset_id(owner, f"\ufeff{POLICY}").hex()
    )
    assert marked["isAuthorized"] is False


@pytest.mark.parametrize(
    ("consumer", "purpose"),
    [(OUTSIDER, PURPOSE), (CONSUMER, "statistics 统计分析"), (hex_id(CONSUMER), "eligibility")],
    ids=["another-consumer", "another-purpose", "consumer-by-id-other-purpose"],
)
def test_check_anchor_answers_false_for_a_pair_without_agreement(
    scene: Scene, consumer: str, purpose: str
) -> None:
    answer = check_anchor(*question(scene, consumer=consumer, purpose=purpose)).answer()
    assert answer["isAuthorized"] is False
    assert answer["authorization"]["consumer"] == (
        consumer if consumer.startswith("0x") else hex_id(consumer)
    )
    assert answer["verifyLeaf"] is True  # the leaf question is not affected


def test_check_anchor_authorizes_with_a_consumer_given_by_its_id(scene: Scene) -> None:
    answer = check_anchor(*question(scene, consumer=hex_id(CONSUMER))).answer()
    assert answer["isAuthorized"] is True


def _flip(hex_value: str) -> str:
    """``hex_value`` with the lowest bit of its last byte flipped."""
    return hex_value[:-2] + f"{int(hex_value[-2:], 16) ^ 1:02x}"


def test_check_anchor_answers_false_for_another_leaf(scene: Scene) -> None:
    """A bundle whose leaf is another file's (values and hash consistent, path unchanged):
    the contract says the path does not lead to the root; the version itself is known."""
    bundle = scene.bundle_data()
    content, path = bundle["leaf"]["values"]
    forged = _flip(content)
    bundle["leaf"]["values"][0] = forged
    bundle["leaf"]["hash"] = (
        "0x" + merkle.leaf_hash(merkle.FILE_LEAF_TYPES, [bytes.fromhex(forged[2:]), path]).hex()
    )
    answer = check_anchor(*question(scene, bundle=scene.write("other-leaf.json", bundle))).answer()
    assert answer["verifyLeaf"] is False
    assert answer["bundle"]["leaf"] == bundle["leaf"]["hash"]
    assert answer["version"] is not None and answer["version"]["leaf_count"] == 3


def test_check_anchor_answers_false_for_a_tampered_proof(scene: Scene) -> None:
    bundle = scene.bundle_data()
    assert bundle["proof"], "the scene's bundle has a proof to tamper with"
    bundle["proof"][0] = _flip(bundle["proof"][0])
    answer = check_anchor(*question(scene, bundle=scene.write("bad-proof.json", bundle))).answer()
    assert answer["verifyLeaf"] is False
    assert answer["isAuthorized"] is True


def test_check_anchor_answers_false_for_a_root_never_anchored(scene: Scene) -> None:
    """verifyLeaf reverts DatasetRegistryUnknownVersion: the answer is false, no version."""
    bundle = scene.bundle_data()
    bundle["root"] = _flip(bundle["root"])
    answer = check_anchor(*question(scene, bundle=scene.write("bad-root.json", bundle))).answer()
    assert (answer["verifyLeaf"], answer["version"]) == (False, None)


def test_check_anchor_refuses_leaf_values_that_do_not_hash_to_the_leaf(scene: Scene) -> None:
    bundle = scene.bundle_data()
    bundle["leaf"]["values"][1] = "另一个文件.md"
    path = scene.write("renamed.json", bundle)
    check_anchor(*question(scene, bundle=path)).refused(
        "the leaf values in the bundle do not hash to its leaf hash."
    )


def test_check_anchor_refuses_a_missing_bundle(scene: Scene) -> None:
    missing = scene.work / "no-such-proof.json"
    check_anchor(*question(scene, bundle=missing)).refused(f"no proof bundle at {missing}.")


def test_check_anchor_refuses_malformed_json(scene: Scene) -> None:
    broken = scene.work / "broken.json"
    broken.write_text(scene.bundle.read_text(encoding="utf-8")[:-20], encoding="utf-8")
    check_anchor(*question(scene, bundle=broken)).refused(
        f"the proof bundle {broken} is not valid JSON."
    )
    check_anchor(*question(scene, manifest=broken)).refused(
        f"the manifest {broken} is not valid JSON."
    )


def test_check_anchor_refuses_a_bundle_of_another_format(scene: Scene) -> None:
    bundle = scene.bundle_data()
    bundle["format"] = "xietong-proof/9"
    path = scene.write("format.json", bundle)
    check_anchor(*question(scene, bundle=path)).refused(
        'this is not a xietong-proof/3 proof bundle (format "xietong-proof/9").'
    )


def _manifest_with(scene: Scene, name: str, **changes: Any) -> Path:
    data = json.loads(scene.manifest.read_text(encoding="utf-8"))
    return scene.write(name, {**data, **changes})


def test_check_anchor_refuses_a_node_of_another_chain(scene: Scene) -> None:
    """A manifest (and bundle) of chain 4242: the node serves another chain id."""
    chain_id = scene.w3.eth.chain_id
    manifest = _manifest_with(scene, "chain-4242.json", chain_id=4242)
    bundle = scene.write("bundle-4242.json", {**scene.bundle_data(), "chain_id": 4242})
    check_anchor(*question(scene, manifest=manifest, bundle=bundle)).refused(
        f"the node at {scene.node.rpc_url} serves chain {chain_id}, but the manifest is for chain 4242."
    )


def test_check_anchor_refuses_another_chain_with_the_same_id(scene: Scene) -> None:
    manifest = _manifest_with(scene, "genesis.json", genesis_hash="0x" + "ab" * 32)
    check_anchor(*question(scene, manifest=manifest)).refused(
        f"the node at {scene.node.rpc_url} serves another chain with id "
        f"{scene.w3.eth.chain_id} (its genesis block differs from the manifest's)."
    )


def test_check_anchor_refuses_a_chain_started_again(scene: Scene) -> None:
    """Same chain id and genesis, but not the manifest's block at its deployment height (a
    development chain started again)."""
    data = json.loads(scene.manifest.read_text(encoding="utf-8"))
    manifest = _manifest_with(scene, "restarted.json", block_hash="0x" + "cd" * 32)
    check_anchor(*question(scene, manifest=manifest)).refused(
        f"the node at {scene.node.rpc_url} does not hold the manifest's deployment block "
        f"{data['block_number']}: this chain was started again, or the manifest is another "
        "deployment's."
    )


def test_check_anchor_refuses_a_bundle_of_another_chain_or_registry(scene: Scene) -> None:
    """A bundle's chain and registry are claims, checked against the manifest."""
    chain_id = scene.w3.eth.chain_id
    other_chain = scene.write("bundle-chain.json", {**scene.bundle_data(), "chain_id": 4242})
    check_anchor(*question(scene, bundle=other_chain)).refused(
        f"the proof bundle is for chain 4242, but the manifest is for chain {chain_id}."
    )
    registry = json.loads(scene.manifest.read_text(encoding="utf-8"))["contracts"]
    elsewhere = registry["JointCommitments"]["address"]
    other_registry = scene.write("bundle-registry.json", {**scene.bundle_data(), "contract": elsewhere})  # fmt: skip
    check_anchor(*question(scene, bundle=other_registry)).refused(
        f"the proof bundle names the registry {elsewhere}, but the manifest's DatasetRegistry "
        f"is {registry['DatasetRegistry']['address']}."
    )


def test_check_anchor_refuses_an_unreachable_node(scene: Scene) -> None:
    """Named by its origin only: a provider's URL may hold a key in its path."""
    origin = f"http://127.0.0.1:{free_port()}"
    check_anchor(*question(scene, rpc=origin + "/v3/secret-key")).refused(
        f"the node at {origin} does not answer (ECONNREFUSED)."
    )


def test_check_anchor_refuses_an_abi_the_deployment_was_not_made_from(scene: Scene) -> None:
    abis = scene.work / "abis"
    abis.mkdir(exist_ok=True)
    for name in ("DatasetRegistry", "SharingAgreements"):
        shutil.copy(ARTIFACTS / f"{name}.json", abis / f"{name}.json")
    changed = abis / "SharingAgreements.json"
    changed.write_bytes(changed.read_bytes() + b"\n")
    check_anchor(*question(scene, extra=("--abis", str(abis)))).refused(
        f"the artifact {changed} is not the one the deployment was made from "
        "(its SHA-256 differs from the manifest's artifact_sha256)."
    )


@pytest.mark.parametrize(
    ("args", "sentence"),
    [
        ((), "missing --manifest, --rpc, --bundle, --provider, --consumer, --purpose."),
        (("--manifest", "m.json", "--colour", "red"), "Unknown option '--colour'."),
        (
            (
                "--manifest",
                "m",
                "--rpc",
                "ftp://x",
                "--bundle",
                "b",
                "--provider",
                "p",
                "--consumer",
                "c",
                "--purpose",
                "x",
            ),
            "--rpc must be an http:// or https:// URL.",
        ),
    ],
    ids=["nothing", "unknown-option", "rpc-not-http"],
)
def test_check_anchor_prints_its_usage_on_wrong_arguments(
    args: tuple[str, ...], sentence: str
) -> None:
    ran = check_anchor(*args)
    assert (ran.returncode, ran.stdout) == (2, "")
    assert ran.stderr == f"error: {sentence}\n{USAGE}\n"


# ------------------------------------------------------------------------------ verify_bundle.py


@dataclass
class Gateway:
    url: str
    key: str


@pytest.fixture(scope="module")
def gateway(scene: Scene) -> Iterator[Gateway]:
    """杭州市民政局's gateway over the scene, its index caught up, on a free port of
    127.0.0.1 in a thread; stopped (and the thread joined) at the end of the module."""
    settings = Settings(
        _env_file=None,
        env="local",
        rpc_url=scene.node.rpc_url,
        database_url=scene.database_url,
        deployment=scene.manifest,
        dev_account=2,
    )
    app = create_app(settings)
    state = app.state.xietong
    state.gateway.indexer().sync()
    with Session(state.gateway.engine) as session:
        _, key = create_api_key(session=session, name="examples", scope="read")
    server = serve(app, "examples-gateway")  # the browser tests' server: started, joined
    try:
        yield Gateway(next(server), key)
    finally:
        server.close()
        state.gateway.engine.dispose()


def verify_bundle(gateway: Gateway, *args: str, key: str | None = None) -> Ran:
    """``python examples/verify_bundle.py ARGS --gateway URL`` with the read key in
    ``XIETONG_API_KEY`` (or ``key`` there instead); the key never appears in its output."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("XIETONG_")},
        "XIETONG_API_KEY": gateway.key if key is None else key,
    }
    result = subprocess.run(
        [sys.executable, str(VERIFY_BUNDLE), *args, "--gateway", gateway.url],
        capture_output=True,
        text=True,
        env=env,
        cwd=PROJECT_ROOT,
        timeout=120,
        check=False,
    )
    assert "Traceback" not in result.stderr, result.stderr
    assert gateway.key not in result.stdout + result.stderr
    return Ran(result.returncode, result.stdout, result.stderr)


def test_verify_bundle_prints_the_gateways_verdict_on_an_authentic_bundle(
    scene: Scene, gateway: Gateway
) -> None:
    bundle = scene.bundle_data()
    answer = verify_bundle(gateway, str(scene.bundle)).answer()
    assert answer == {
        "gateway": gateway.url,
        "bundle": str(scene.bundle),
        "leaf": bundle["leaf"]["hash"],
        "vouched": True,
        "differences": [],
        "status": "anchored",
        "kind": "file",
        "path": scene.policy_file.name,
        "version_id": bundle["version_id"],
        "root": bundle["root"],
        "dataset_id": bundle["dataset_id"],
        "owner": "杭州市民政局",
        "anchored_by": "杭州市民政局",
        "anchored_at": bundle["anchored_at"],
        "transaction": bundle["transaction"],
        "confirmations": scene.w3.eth.block_number - bundle["block_number"] + 1,
        "revoked_at": None,
        "may_be_shared_with": ["杭州市公安局"],
    }


def test_verify_bundle_asks_for_a_record_leaf_in_the_body(scene: Scene, gateway: Gateway) -> None:
    """A record bundle goes by POST /v1/verify/record (the salt never in a URL): vouched."""
    record = json.loads(scene.record_bundle.read_text(encoding="utf-8"))
    assert record["leaf"]["kind"] == "record"
    answer = verify_bundle(gateway, str(scene.record_bundle)).answer()
    assert (answer["vouched"], answer["differences"], answer["kind"]) == (True, [], "record")
    assert answer["version_id"] == record["version_id"]
    assert answer["may_be_shared_with"] == []  # the agreement covers the policy files only


def test_verify_bundle_prints_the_problem_for_a_tampered_leaf(
    scene: Scene, gateway: Gateway
) -> None:
    """Another file's leaf: the gateway answers 404 not-anchored; its title and detail."""
    bundle = scene.bundle_data()
    forged = _flip(bundle["leaf"]["hash"])
    bundle["leaf"]["hash"] = forged
    ran = verify_bundle(gateway, str(scene.write("tampered-leaf.json", bundle)))
    ran.refused(
        f"the gateway answered 404 Not anchored: leaf {forged} is not anchored in any "
        "dataset version known here."
    )


def test_verify_bundle_names_what_differs_in_a_tampered_bundle(
    scene: Scene, gateway: Gateway
) -> None:
    """The leaf is known, but the bundle's proof (or another claim) is not the gateway's:
    not vouched (exit 3), the members named."""
    bundle = scene.bundle_data()
    bundle["proof"][0] = _flip(bundle["proof"][0])
    bundle["block_number"] += 1
    ran = verify_bundle(gateway, str(scene.write("tampered-proof.json", bundle)))
    assert (ran.returncode, ran.stderr) == (3, "")
    answer = json.loads(ran.stdout)
    assert (answer["vouched"], answer["differences"]) == (False, ["block_number", "proof"])
    assert answer["status"] == "anchored"


def test_verify_bundle_asks_for_a_file_hash(scene: Scene, gateway: Gateway) -> None:
    """``--hash`` with the file's SHA-256, the key given by option: the gateway's verdict."""
    content = scene.bundle_data()["leaf"]["values"][0]
    ran = verify_bundle(gateway, "--hash", content, "--api-key", gateway.key, key="")
    answer = ran.answer()
    assert (answer["hash"], answer["status"]) == (content, "anchored")
    [version] = answer["versions"]
    assert (version["path"], version["owner"]) == (scene.policy_file.name, "杭州市民政局")


def test_verify_bundle_refuses_a_missing_bundle(scene: Scene, gateway: Gateway) -> None:
    missing = scene.work / "nowhere.json"
    verify_bundle(gateway, str(missing)).refused(f"no proof bundle at {missing}.")


def test_verify_bundle_refuses_malformed_json(scene: Scene, gateway: Gateway) -> None:
    broken = scene.work / "broken-bundle.json"
    broken.write_text('{"format": "xietong-proof/2", "leaf": ', encoding="utf-8")
    verify_bundle(gateway, str(broken)).refused(f"the proof bundle {broken} is not valid JSON.")


def test_verify_bundle_refuses_an_unreachable_gateway(scene: Scene) -> None:
    nobody = Gateway(f"http://127.0.0.1:{free_port()}", "xt_unused")
    verify_bundle(nobody, str(scene.bundle)).refused(
        f"cannot reach the gateway at {nobody.url} (connection refused or no such host)."
    )


def test_verify_bundle_prints_the_problem_for_a_wrong_key(scene: Scene, gateway: Gateway) -> None:
    ran = verify_bundle(gateway, str(scene.bundle), key=mistype(gateway.key))
    assert (ran.returncode, ran.stdout) == (1, "")
    assert ran.stderr.startswith("error: the gateway answered 401 API key required: "), ran.stderr
    assert ran.stderr.count("\n") == 1


def test_verify_bundle_prints_its_usage_on_wrong_arguments(gateway: Gateway) -> None:
    ran = verify_bundle(gateway, "--hash", "0x12")
    assert (ran.returncode, ran.stdout) == (2, "")
    assert ran.stderr.startswith("usage: verify_bundle.py ")
    assert ran.stderr.endswith("verify_bundle.py: error: --hash is 0x and 64 hex digits.\n")


# ------------------------------------------------------------------------------ examples/README.md


def sh_blocks(text: str) -> list[str]:
    """The ```sh blocks of a Markdown text, in order."""
    found = re.findall(r"^( *)```sh\n(.*?)^\1```$", text, flags=re.MULTILINE | re.DOTALL)
    return [textwrap.dedent(body) for _indent, body in found]


def json_documents(text: str) -> list[Any]:
    """The JSON documents printed one after the other in ``text``."""
    documents, decoder, at = [], json.JSONDecoder(), 0
    while text[at:].strip():
        at += len(text[at:]) - len(text[at:].lstrip())
        document, at = decoder.raw_decode(text, at)
        documents.append(document)
    return documents


@dataclass
class Checkout:
    """What ``make run`` leaves, in a folder standing for the checkout: a node with the local
    founders' deployment, the demo played, ``xietong serve``; blocks run there with bash."""

    folder: Path
    env: dict[str, str]
    rpc_url: str
    api_url: str = ""

    def run(self, block: str) -> str:
        script = block.replace("http://127.0.0.1:8545", self.rpc_url).replace(
            "http://127.0.0.1:8000", self.api_url
        )
        result = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script],
            cwd=self.folder,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert "Traceback" not in result.stderr and "    at " not in result.stderr, result.stderr
        assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
        return result.stdout


@pytest.fixture
def checkout(tmp_path: Path) -> Iterator[Checkout]:
    """A fresh Anvil node on a free port, the demo on it, its gateway served on another."""
    folder = tmp_path / "checkout"
    folder.mkdir()
    (folder / ".venv").symlink_to(BIN.parent)
    for part in ("hardhat-node", "examples"):
        (folder / part).symlink_to(PROJECT_ROOT / part)
    port = free_port()
    env = {
        **gateway_environment(folder),
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "XIETONG_ENV": "local",
        "XIETONG_DEV_ACCOUNT": "2",
        "XIETONG_API_OPEN_READS": "true",
        "XIETONG_NODE_ENGINE": "anvil",
        "XIETONG_NODE_PORT": str(port),
        "XIETONG_RPC_URL": f"http://127.0.0.1:{port}",
    }
    shell = Checkout(folder, env, f"http://127.0.0.1:{port}")
    shell.run("xietong node start")
    server: subprocess.Popen[bytes] | None = None
    try:
        founders = PROJECT_ROOT / "scripts" / "founders.local.yaml"
        shell.run(f"xietong deploy --founders {founders} && xietong demo --once && xietong index")
        api_port = free_port()
        with (tmp_path / "serve.log").open("wb") as log:
            server = subprocess.Popen(
                ["xietong", "serve", "--port", str(api_port), "--log-level", "warning"],
                cwd=folder,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        shell.api_url = f"http://127.0.0.1:{api_port}"
        deadline = time.monotonic() + 60  # a bound on a hang, not a measured time
        while True:
            assert server.poll() is None, (tmp_path / "serve.log").read_text(errors="replace")
            try:
                if httpx.get(shell.api_url + "/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "xietong serve did not come up"
            time.sleep(0.2)
        yield shell
    finally:
        if server is not None:
            interrupt(server)
        subprocess.run(
            ["xietong", "node", "stop"], env=env, cwd=folder, capture_output=True, check=False
        )


def test_the_examples_readme_runs_as_written(checkout: Checkout) -> None:
    """examples/README.md's blocks, in order, against the demo: the bundle written, the
    contracts' answers (the 低保 list shared with 公安局), the gateway's verdicts."""
    proof, contracts, gateway = sh_blocks(EXAMPLES_README.read_text(encoding="utf-8"))
    checkout.run(proof)
    bundle = json.loads((checkout.folder / "proof.json").read_text(encoding="utf-8"))
    answer = json.loads(checkout.run(contracts))
    assert (answer["verifyLeaf"], answer["isAuthorized"]) == (True, True), answer
    assert answer["bundle"]["leaf"] == bundle["leaf"]["hash"]
    assert answer["version"]["revoked_at"] is None
    verdict, by_hash = json_documents(checkout.run(gateway))
    assert (verdict["vouched"], verdict["differences"]) == (True, []), verdict
    assert (verdict["path"], verdict["owner"]) == ("低保资格核查流程.md", "杭州市民政局")
    assert by_hash["status"] == "anchored"
    assert [v["path"] for v in by_hash["versions"]] == ["低保资格核查流程.md"]

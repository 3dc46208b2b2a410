"""ledger.trust: the consortium trust file.

- the fingerprint: the committed vectors (made with jq and sha256sum), recomputed here in
  Python and with the very command docs/CLI.md gives;
- the file: written atomically, read back equal; every malformed member refused with its own
  sentence, and text that is not strict JSON too;
- :func:`check_node` on real nodes (Hardhat and Anvil): the consortium's own node matches;
  another chain id, another genesis, a missing or different deployment block, an address
  without code and a node that does not answer are each told apart;
- look-alike chains (Anvil nodes of our own, their genesis time fixed): same chain id, same
  deployer and nonce, hence the very same contract addresses, and still refused — by the
  genesis hash, or, when even the genesis is the same, by the deployment block's hash.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import hashlib
import json
import os
import re
import signal
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from web3 import Web3

from ledger.chain.artifacts import CONTRACT_NAMES
from ledger.chain.client import connect, wait_for_rpc
from ledger.chain.deploy import Deployment, deploy
from ledger.chain.node import NodeSpec, free_port, node_command
from ledger.errors import (
    ChainUnavailableError,
    DeploymentError,
    InputError,
    LedgerError,
    TrustFileError,
    TrustMismatchError,
)
from ledger.keys import dev_account
from ledger.paths import HARDHAT_DIR, PROJECT_ROOT
from ledger.trust import (
    MAX_TRUST_SIZE,
    TRUST_FORMAT,
    ConsortiumTrust,
    check_node,
    deployment_trust,
    fingerprint_of,
    load_trust,
)
from tests.conftest import founders_for_tests
from tests.support import Consortium

VECTORS = json.loads(
    (PROJECT_ROOT / "tests" / "vectors" / "consortium_fingerprint.json").read_text(encoding="utf-8")
)
CASES = VECTORS["cases"]
#: A valid trust file's object (the first vector's).
VALID: dict[str, Any] = CASES[0]["input"]
FINGERPRINT = re.compile(r"[0-9a-f]{4}(-[0-9a-f]{4}){7}")
NAMES = "DepartmentRegistry, DatasetRegistry, SharingAgreements and JointCommitments"
MAX_INT = 2**53 - 1


def documented_fingerprint_command() -> str:
    """The shell command docs/CLI.md gives to recompute a fingerprint."""
    text = (PROJECT_ROOT / "docs" / "CLI.md").read_text(encoding="utf-8")
    [command] = [line for line in text.splitlines() if line.startswith("jq -jcS")]
    return command


# ============================================================================ fingerprint


@pytest.mark.parametrize("case", CASES, ids=[c["desc"][:50] for c in CASES])
def test_fingerprint_vector(case: dict[str, Any]) -> None:
    document = case["input"]
    # The rule, written out independently of ledger.trust.
    members = {k: v for k, v in document.items() if k != "fingerprint"}
    canonical = json.dumps(members, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    assert canonical == case["canonical"]
    digest = hashlib.sha256(canonical.encode("ascii")).hexdigest()
    assert "-".join(digest[i : i + 4] for i in range(0, 32, 4)) == case["expected"]
    # And the library.
    assert fingerprint_of(document) == case["expected"]
    trust = ConsortiumTrust.from_dict(document)
    assert trust.fingerprint == case["expected"]
    assert FINGERPRINT.fullmatch(trust.fingerprint)


@pytest.mark.parametrize("case", CASES, ids=[c["desc"][:50] for c in CASES])
def test_the_documented_command_recomputes_the_fingerprint(
    case: dict[str, Any], tmp_path: Path
) -> None:
    """docs/CLI.md's jq + sha256sum line, run as written on a file holding the vector."""
    command = documented_fingerprint_command()
    documented_path = "deployments/31337.consortium.json"
    assert documented_path in command
    (tmp_path / "deployments").mkdir()
    (tmp_path / documented_path).write_text(json.dumps(case["input"]), encoding="utf-8")
    result = subprocess.run(
        ["bash", "-o", "pipefail", "-c", command],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    assert result.stdout.strip() == case["expected"]


def test_the_fingerprint_changes_with_every_member() -> None:
    trust = ConsortiumTrust.from_dict(VALID)
    other_hash = "0x" + "ee" * 32
    changed = [
        dataclasses.replace(trust, chain_id=trust.chain_id + 1),
        dataclasses.replace(trust, genesis_hash=other_hash),
        dataclasses.replace(trust, deployment_block=trust.deployment_block + 1),
        dataclasses.replace(trust, deployment_block_hash=other_hash),
        *(
            dataclasses.replace(
                trust,
                contracts={**trust.contracts, name: "0x000000000000000000000000000000000000dEaD"},
            )
            for name in CONTRACT_NAMES
        ),
    ]
    fingerprints = {trust.fingerprint, *(c.fingerprint for c in changed)}
    assert len(fingerprints) == 1 + len(changed)


# ============================================================================ the file


def test_as_dict_from_dict_and_the_file_round_trip(tmp_path: Path) -> None:
    trust = ConsortiumTrust.from_dict(VALID)
    assert trust.as_dict() == {"format": TRUST_FORMAT, **{k: v for k, v in VALID.items()}}
    assert list(trust.contracts) == list(CONTRACT_NAMES)
    path = tmp_path / "sub" / "31337.consortium.json"
    trust.write(path)
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]  # no temporary left
    assert json.loads(path.read_text(encoding="utf-8")) == trust.as_dict()
    assert load_trust(path) == trust
    # The API's answer (with its fingerprint) is a trust file too.
    answer = tmp_path / "answer.json"
    answer.write_text(json.dumps({**trust.as_dict(), "fingerprint": trust.fingerprint}))
    assert load_trust(answer) == trust
    # Written again over the old file, atomically.
    other = dataclasses.replace(trust, deployment_block=7)
    other.write(path)
    assert load_trust(path) == other


def test_a_trust_keeps_its_own_copy_of_the_addresses() -> None:
    contracts = dict(VALID["contracts"])
    trust = ConsortiumTrust.from_dict({**VALID, "contracts": contracts})
    contracts["DatasetRegistry"] = "0x000000000000000000000000000000000000dEaD"
    assert trust.contracts["DatasetRegistry"] == VALID["contracts"]["DatasetRegistry"]


def test_the_errors_are_typed() -> None:
    assert issubclass(TrustFileError, InputError)
    assert issubclass(TrustMismatchError, LedgerError)
    assert TrustFileError.kind == "bad-trust-file"
    assert TrustMismatchError.kind == "trust-mismatch"


Change = Callable[[dict[str, Any]], None]


def _set(member: str, value: Any) -> Change:
    def change(document: dict[str, Any]) -> None:
        document[member] = value

    return change


def _drop(member: str) -> Change:
    def change(document: dict[str, Any]) -> None:
        del document[member]

    return change


def _contract(name: str, value: Any) -> Change:
    def change(document: dict[str, Any]) -> None:
        document["contracts"][name] = value

    return change


def _drop_contract(name: str) -> Change:
    def change(document: dict[str, Any]) -> None:
        del document["contracts"][name]

    return change


HASH = VALID["genesis_hash"]
DATASETS = VALID["contracts"]["DatasetRegistry"]  # 0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512

#: (id, change to a valid file, the sentence after "the trust file <path>: ").
MALFORMED: list[tuple[str, Change, str]] = [
    (
        "format missing",
        _drop("format"),
        'the `format` member is missing (a consortium trust file has "format": '
        '"xietong-consortium/1")',
    ),
    (
        "format of a later version",
        _set("format", "xietong-consortium/2"),
        '`format` is "xietong-consortium/2", which this version cannot read '
        "(it reads xietong-consortium/1)",
    ),
    (
        "format of a proof bundle",
        _set("format", "xietong-proof/1"),
        '`format` is "xietong-proof/1", which this version cannot read '
        "(it reads xietong-consortium/1)",
    ),
    ("chain_id missing", _drop("chain_id"), "the `chain_id` member is missing"),
    ("genesis_hash missing", _drop("genesis_hash"), "the `genesis_hash` member is missing"),
    (
        "deployment_block missing",
        _drop("deployment_block"),
        "the `deployment_block` member is missing",
    ),
    (
        "deployment_block_hash missing",
        _drop("deployment_block_hash"),
        "the `deployment_block_hash` member is missing",
    ),
    ("contracts missing", _drop("contracts"), "the `contracts` member is missing"),
    ("unknown member", _set("signers", []), 'the member "signers" is unknown'),
    (
        "chain_id a string",
        _set("chain_id", "31337"),
        '`chain_id` must be an integer from 1 to 9007199254740991, not "31337"',
    ),
    (
        "chain_id a boolean",
        _set("chain_id", True),
        "`chain_id` must be an integer from 1 to 9007199254740991, not true",
    ),
    (
        "chain_id a float",
        _set("chain_id", 31337.0),
        "`chain_id` must be an integer from 1 to 9007199254740991, not 31337.0",
    ),
    (
        "chain_id zero",
        _set("chain_id", 0),
        "`chain_id` must be an integer from 1 to 9007199254740991, not 0",
    ),
    (
        "chain_id beyond 2^53 - 1",
        _set("chain_id", MAX_INT + 1),
        "`chain_id` must be an integer from 1 to 9007199254740991, not 9007199254740992",
    ),
    (
        "chain_id null",
        _set("chain_id", None),
        "`chain_id` must be an integer from 1 to 9007199254740991, not null",
    ),
    (
        "genesis_hash in capitals",
        _set("genesis_hash", HASH.upper().replace("0X", "0x")),
        f'`genesis_hash` must be 0x and 64 lowercase hex digits, not "{HASH.upper().replace("0X", "0x")}"',
    ),
    (
        "genesis_hash without 0x",
        _set("genesis_hash", HASH[2:]),
        f'`genesis_hash` must be 0x and 64 lowercase hex digits, not "{HASH[2:]}"',
    ),
    (
        "genesis_hash too short",
        _set("genesis_hash", HASH[:-2]),
        f'`genesis_hash` must be 0x and 64 lowercase hex digits, not "{HASH[:-2]}"',
    ),
    (
        "genesis_hash a number",
        _set("genesis_hash", 12),
        "`genesis_hash` must be 0x and 64 lowercase hex digits, not 12",
    ),
    (
        "deployment_block_hash not hex",
        _set("deployment_block_hash", "0x" + "zz" * 32),
        f'`deployment_block_hash` must be 0x and 64 lowercase hex digits, not "0x{"zz" * 32}"',
    ),
    (
        "deployment_block_hash a list",
        _set("deployment_block_hash", [HASH]),
        "`deployment_block_hash` must be 0x and 64 lowercase hex digits, not an array",
    ),
    (
        "deployment_block negative",
        _set("deployment_block", -1),
        "`deployment_block` must be an integer from 0 to 9007199254740991, not -1",
    ),
    (
        "deployment_block a string",
        _set("deployment_block", "1"),
        '`deployment_block` must be an integer from 0 to 9007199254740991, not "1"',
    ),
    (
        "deployment_block a boolean",
        _set("deployment_block", False),
        "`deployment_block` must be an integer from 0 to 9007199254740991, not false",
    ),
    (
        "deployment_block 0 with another hash than the genesis",
        _set("deployment_block", 0),
        "`deployment_block_hash` must equal `genesis_hash` when `deployment_block` is 0",
    ),
    (
        "contracts a list",
        _set("contracts", list(VALID["contracts"].values())),
        f"`contracts` must be an object of {NAMES} to their addresses, not an array",
    ),
    (
        "contracts without JointCommitments",
        _drop_contract("JointCommitments"),
        f"`contracts` must name exactly {NAMES}, but it lacks JointCommitments",
    ),
    (
        "contracts with a fifth name",
        _contract("EvilRegistry", "0x000000000000000000000000000000000000dEaD"),
        f'`contracts` must name exactly {NAMES}, but it has the unknown name "EvilRegistry"',
    ),
    (
        "an address too short",
        _contract("DatasetRegistry", "0x1234"),
        '`contracts.DatasetRegistry` must be an account address (0x and 40 hex digits), not "0x1234"',
    ),
    (
        "an address not hex",
        _contract("SharingAgreements", "0x" + "g" * 40),
        "`contracts.SharingAgreements` must be an account address (0x and 40 hex digits), "
        f'not "0x{"g" * 40}"',
    ),
    (
        "an address a number",
        _contract("DepartmentRegistry", 5),
        "`contracts.DepartmentRegistry` must be an account address (0x and 40 hex digits), not 5",
    ),
    (
        "an address in lower case",
        _contract("DatasetRegistry", DATASETS.lower()),
        f"`contracts.DatasetRegistry` must be written in its EIP-55 checksummed form, {DATASETS}",
    ),
    (
        "an address with a wrong checksum",
        _contract("DatasetRegistry", DATASETS.replace("E77", "e77")),
        f"`contracts.DatasetRegistry` must be written in its EIP-55 checksummed form, {DATASETS}",
    ),
    (
        "one address for two contracts",
        _contract("JointCommitments", VALID["contracts"]["DepartmentRegistry"]),
        "`contracts` gives one address to two contracts",
    ),
    (
        "a fingerprint that does not match",
        _set("fingerprint", "0000-0000-0000-0000-0000-0000-0000-0000"),
        '`fingerprint` is "0000-0000-0000-0000-0000-0000-0000-0000", but the other members\' '
        f"fingerprint is {CASES[0]['expected']}",
    ),
    (
        "a fingerprint that is not a string",
        _set("fingerprint", 1),
        f"`fingerprint` is 1, but the other members' fingerprint is {CASES[0]['expected']}",
    ),
]


@pytest.mark.parametrize(
    ("change", "sentence"), [m[1:] for m in MALFORMED], ids=[m[0] for m in MALFORMED]
)
def test_a_malformed_member_is_refused_by_name(
    change: Change, sentence: str, tmp_path: Path
) -> None:
    document = copy.deepcopy(VALID)
    change(document)
    path = tmp_path / "trust.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(TrustFileError) as info:
        load_trust(path)
    assert str(info.value) == f"the trust file {path}: {sentence}."
    # The same sentence from the parsed object, and from the constructor where it applies.
    with pytest.raises(TrustFileError) as parsed:
        ConsortiumTrust.from_dict(document)
    assert str(parsed.value) == f"the trust file: {sentence}."


def test_the_constructor_refuses_what_a_file_could_not_hold() -> None:
    trust = ConsortiumTrust.from_dict(VALID)
    with pytest.raises(TrustFileError) as info:
        dataclasses.replace(trust, chain_id=True)
    assert str(info.value) == (
        "the consortium trust: `chain_id` must be an integer from 1 to 9007199254740991, not true."
    )
    with pytest.raises(TrustFileError, match="lacks JointCommitments"):
        dataclasses.replace(
            trust, contracts={k: v for k, v in trust.contracts.items() if k != "JointCommitments"}
        )


def test_a_trust_file_is_an_object(tmp_path: Path) -> None:
    path = tmp_path / "trust.json"
    path.write_text(json.dumps([VALID]), encoding="utf-8")
    with pytest.raises(TrustFileError) as info:
        load_trust(path)
    assert str(info.value) == f"the trust file {path}: a trust file is a JSON object, not an array."


@pytest.mark.parametrize(
    ("text", "sentence"),
    [
        (
            b"{",
            "is refused: it is not valid JSON (Expecting property name enclosed in double "
            "quotes at column 2).",
        ),
        (
            b'{"chain_id": 1, "chain_id": 2}',
            'is refused: the member name "chain_id" appears twice in one object.',
        ),
        (
            b'{"chain_id": NaN}',
            "is refused: the number NaN is not finite (NaN, Infinity and overflowing numbers are "
            "not JSON).",
        ),
        (b"\xff{}", "is refused: it is not UTF-8 text (byte 0 is not valid UTF-8)."),
        (b"[[[[[[1]]]]]]", "is refused: it is nested more than 4 levels deep."),
        (
            b" " * (MAX_TRUST_SIZE + 1),
            f"is larger than {MAX_TRUST_SIZE} bytes; a real one is about 500.",
        ),
    ],
    ids=["not JSON", "a member twice", "NaN", "not UTF-8", "nested deeper", "too large"],
)
def test_text_that_is_not_a_strict_json_object_is_refused(
    text: bytes, sentence: str, tmp_path: Path
) -> None:
    path = tmp_path / "trust.json"
    path.write_bytes(text)
    with pytest.raises(TrustFileError) as info:
        load_trust(path)
    assert str(info.value) == f"the trust file {path} {sentence}"


def test_a_missing_or_unreadable_file_is_refused(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.consortium.json"
    with pytest.raises(TrustFileError) as info:
        load_trust(missing)
    assert str(info.value) == (
        f"there is no trust file at {missing} (the consortium's founders publish it beside "
        "the deployment manifest)."
    )
    with pytest.raises(TrustFileError) as folder:
        load_trust(tmp_path)
    assert str(folder.value) == f"cannot read the trust file {tmp_path} (Is a directory)."


# ============================================================================ the gateway's file


def test_the_gateway_serves_only_the_trust_file_of_its_manifest(
    deployed: Consortium, tmp_path: Path
) -> None:
    deployment = deployed.deployment
    path = tmp_path / "m.consortium.json"
    again = (
        "put the consortium's trust file there (its founders publish it with the manifest; "
        "where the contracts were deployed, `xietong deploy --reuse` writes it again)"
    )
    with pytest.raises(DeploymentError) as missing:
        deployment_trust(deployment, path)
    assert str(missing.value) == f"there is no consortium trust file at {path}: {again}."
    path.write_text("{}", encoding="utf-8")
    with pytest.raises(DeploymentError) as damaged:
        deployment_trust(deployment, path)
    assert str(damaged.value) == (
        f"the consortium trust file {path} is damaged (`xietong consortium show` says how): "
        f"{again}."
    )
    dataclasses.replace(
        deployment.trust(), deployment_block=0, deployment_block_hash=deployment.genesis_hash
    ).write(path)
    with pytest.raises(DeploymentError) as other:
        deployment_trust(deployment, path)
    assert str(other.value) == (
        f"the consortium trust file {path} does not match the deployment manifest: {again}."
    )
    deployment.trust().write(path)
    assert deployment_trust(deployment, path) == deployment.trust()


# ============================================================================ check_node


def test_the_consortiums_node_matches(consortium: Consortium) -> None:
    trust = consortium.deployment.trust()
    check_node(trust, consortium.w3)  # raises on any difference
    assert trust.genesis_hash == "0x" + bytes(consortium.w3.eth.get_block(0)["hash"]).hex()


def test_another_chain_id_is_told(consortium: Consortium) -> None:
    trust = dataclasses.replace(consortium.deployment.trust(), chain_id=1)
    with pytest.raises(TrustMismatchError) as info:
        check_node(trust, consortium.w3)
    assert str(info.value) == "the node serves chain 31337, not the consortium's chain 1."


def test_another_genesis_is_told(consortium: Consortium) -> None:
    real = consortium.deployment.trust()
    trust = dataclasses.replace(real, genesis_hash="0x" + "66" * 32)
    with pytest.raises(TrustMismatchError) as info:
        check_node(trust, consortium.w3)
    assert str(info.value) == (
        f"the node's genesis block is {real.genesis_hash}, not the consortium's 0x{'66' * 32}: "
        "it is another chain with the same chain id."
    )


def test_a_deployment_block_the_node_does_not_have_is_told(consortium: Consortium) -> None:
    trust = dataclasses.replace(consortium.deployment.trust(), deployment_block=10**9)
    with pytest.raises(TrustMismatchError) as info:
        check_node(trust, consortium.w3)
    assert str(info.value) == (
        "the node has no block 1000000000, in which the consortium's contracts were deployed: "
        "it is another chain with the same genesis, or it has not synced that far."
    )


def test_another_deployment_block_is_told(consortium: Consortium) -> None:
    real = consortium.deployment.trust()
    trust = dataclasses.replace(real, deployment_block_hash="0x" + "77" * 32)
    with pytest.raises(TrustMismatchError) as info:
        check_node(trust, consortium.w3)
    assert str(info.value) == (
        f"the node's block {real.deployment_block} is {real.deployment_block_hash}, not the block "
        f"0x{'77' * 32} in which the consortium's contracts were deployed: it is another chain "
        "with the same genesis."
    )


@pytest.mark.parametrize("name", CONTRACT_NAMES)
def test_an_address_without_code_is_told(consortium: Consortium, node: NodeSpec, name: str) -> None:
    """The code at one address removed (Hardhat's and Anvil's setCode; the snapshot restores
    it after the test)."""
    trust = consortium.deployment.trust()
    address = trust.contracts[name]
    method = "hardhat_setCode" if node.engine == "hardhat" else "anvil_setCode"
    answer = consortium.w3.provider.make_request(method, [address, "0x"])  # type: ignore[arg-type]
    assert "error" not in answer, answer
    with pytest.raises(TrustMismatchError) as info:
        check_node(trust, consortium.w3)
    assert str(info.value) == (
        f"the node holds no contract code at the consortium's {name} address {address}."
    )


def test_a_node_that_does_not_answer_is_unavailable() -> None:
    silent = Web3(
        Web3.HTTPProvider(
            f"http://127.0.0.1:{free_port()}",
            request_kwargs={"timeout": 5},
            exception_retry_configuration=None,
        )
    )
    with pytest.raises(ChainUnavailableError) as info:
        check_node(ConsortiumTrust.from_dict(VALID), silent)
    assert str(info.value) == "the chain node does not answer (ConnectionError)."


# ============================================================================ look-alike chains

#: Genesis time of the look-alike nodes (2026-11-20T08:00:00Z): fixed, so that two nodes
#: started apart have the same genesis block.
GENESIS_TIME = 1_795_248_000


class Anvil:
    """An Anvil node of this module's own, its genesis time given."""

    def __init__(self, state_dir: Path, genesis_time: int) -> None:
        self.spec = NodeSpec(engine="anvil", port=free_port(), state_dir=state_dir)
        self.process = subprocess.Popen(
            [*node_command(self.spec), "--silent", "--timestamp", str(genesis_time)],
            cwd=HARDHAT_DIR,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        process = self.process
        wait_for_rpc(self.spec.rpc_url, timeout=30, is_alive=lambda: process.poll() is None)
        self.w3 = connect(self.spec.rpc_url)

    def genesis(self) -> str:
        return "0x" + bytes(self.w3.eth.get_block(0)["hash"]).hex()

    def deploy(self, where: Path) -> Deployment:
        return deploy(self.w3, founders_for_tests(), deployer=dev_account(0), manifest_path=where)

    def stop(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)


@dataclasses.dataclass
class LookAlikes:
    """The consortium's chain and three chains an outsider could run with its chain id."""

    real: Deployment
    #: Same genesis time, so the same genesis; one empty block mined before the same deployer
    #: deploys at the same nonce: the same addresses, deployed one block later.
    same_genesis: Anvil
    same_genesis_deployment: Deployment
    #: Another genesis time; the same deployer deploys at the same nonce in block 1.
    other_genesis: Anvil
    other_genesis_deployment: Deployment
    #: Same genesis, nothing mined yet.
    fresh: Anvil


@pytest.fixture(scope="module")
def lookalikes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LookAlikes]:
    where = tmp_path_factory.mktemp("lookalikes")
    started: list[Anvil] = []
    try:
        real = Anvil(where, GENESIS_TIME)
        started.append(real)
        same = Anvil(where, GENESIS_TIME)
        started.append(same)
        other = Anvil(where, GENESIS_TIME + 3600)
        started.append(other)
        fresh = Anvil(where, GENESIS_TIME)
        started.append(fresh)
        same.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
        yield LookAlikes(
            real=real.deploy(where / "real.json"),
            same_genesis=same,
            same_genesis_deployment=same.deploy(where / "same.json"),
            other_genesis=other,
            other_genesis_deployment=other.deploy(where / "other.json"),
            fresh=fresh,
        )
    finally:
        for node in started:
            node.stop()


def test_lookalike_chains_have_the_consortiums_id_and_addresses(lookalikes: LookAlikes) -> None:
    """The attack's premise: nothing but the genesis and block hashes tells these apart."""
    real = lookalikes.real
    for deployment in (lookalikes.same_genesis_deployment, lookalikes.other_genesis_deployment):
        assert deployment.chain_id == real.chain_id == 31337
        assert deployment.addresses == real.addresses
    assert lookalikes.same_genesis_deployment.genesis_hash == real.genesis_hash
    assert lookalikes.fresh.genesis() == real.genesis_hash
    assert lookalikes.other_genesis_deployment.genesis_hash != real.genesis_hash
    assert real.block_number == 1 and lookalikes.same_genesis_deployment.block_number == 2


def test_a_lookalike_chain_with_another_genesis_is_refused_by_its_genesis(
    lookalikes: LookAlikes,
) -> None:
    trust = lookalikes.real.trust()
    with pytest.raises(TrustMismatchError) as info:
        check_node(trust, lookalikes.other_genesis.w3)
    assert str(info.value) == (
        f"the node's genesis block is {lookalikes.other_genesis_deployment.genesis_hash}, not "
        f"the consortium's {trust.genesis_hash}: it is another chain with the same chain id."
    )
    # Its own trust file fits it: only the trust file a verifier holds tells the two apart.
    check_node(lookalikes.other_genesis_deployment.trust(), lookalikes.other_genesis.w3)


def test_a_lookalike_chain_with_the_same_genesis_is_refused_by_its_deployment_block(
    lookalikes: LookAlikes,
) -> None:
    trust = lookalikes.real.trust()
    same = lookalikes.same_genesis
    block_1 = "0x" + bytes(same.w3.eth.get_block(1)["hash"]).hex()
    with pytest.raises(TrustMismatchError) as info:
        check_node(trust, same.w3)
    assert str(info.value) == (
        f"the node's block 1 is {block_1}, not the block {trust.deployment_block_hash} in which "
        "the consortium's contracts were deployed: it is another chain with the same genesis."
    )
    check_node(lookalikes.same_genesis_deployment.trust(), same.w3)  # raises on any difference
    # A chain with the same genesis that has not reached the deployment block.
    with pytest.raises(TrustMismatchError, match="the node has no block 1, in which"):
        check_node(trust, lookalikes.fresh.w3)


def test_the_lookalikes_trust_files_differ_in_their_fingerprints(lookalikes: LookAlikes) -> None:
    fingerprints = {
        lookalikes.real.trust().fingerprint,
        lookalikes.same_genesis_deployment.trust().fingerprint,
        lookalikes.other_genesis_deployment.trust().fingerprint,
    }
    assert len(fingerprints) == 3


# ============================================================================ clique

#: A consortium network's trust file (the offline vectors'): the genesis signers named.
NETWORK_TRUST: dict[str, Any] = json.loads(
    (PROJECT_ROOT / "tests" / "vectors" / "offline_bundles.json").read_text(encoding="utf-8")
)["trust"]


def _clique(change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    document = copy.deepcopy(NETWORK_TRUST)
    change(document["clique"])
    return document


def test_a_network_trust_file_round_trips_with_its_signers() -> None:
    trust = ConsortiumTrust.from_dict(NETWORK_TRUST)
    assert trust.clique is not None and len(trust.clique.signers) == 4
    assert trust.as_dict() == NETWORK_TRUST
    first = trust.clique.signers[0]
    assert trust.clique.signer(first.address.lower()) == first
    assert trust.clique.signer("0x" + "00" * 20) is None
    # The signers are part of what the fingerprint vouches for.
    fewer = _clique(lambda c: c["signers"].pop())
    assert fingerprint_of(fewer) != trust.fingerprint


CLIQUE_MALFORMED = [
    ("null", lambda d: d.update(clique=None), "`clique` must be an object of epoch, period and signers, not null"),
    ("no epoch", lambda d: d["clique"].pop("epoch"), "the `clique.epoch` member is missing"),
    ("unknown member", lambda d: d["clique"].update(extra=1), "the member `clique.extra` is unknown"),
    ("epoch zero", lambda d: d["clique"].update(epoch=0), f"`clique.epoch` must be an integer from 1 to {MAX_INT}, not 0"),
    ("period negative", lambda d: d["clique"].update(period=-1), f"`clique.period` must be an integer from 0 to {MAX_INT}, not -1"),
    ("no signers", lambda d: d["clique"].update(signers=[]), "`clique.signers` must be a list of 1 to 64 signers"),
    ("signer not an object", lambda d: d["clique"]["signers"].__setitem__(0, "0x1"), "`clique.signers[0]` must be an object of exactly address, department and code"),
    ("address not checksummed", lambda d: d["clique"]["signers"][0].update(address=d["clique"]["signers"][0]["address"].lower()), "`clique.signers[0]`.address must be written in its EIP-55 checksummed form"),
    ("signers out of order", lambda d: d["clique"]["signers"].reverse(), "`clique.signers` must be in ascending address order, each once"),
    ("department not a hash", lambda d: d["clique"]["signers"][0].update(department="0x12"), "`clique.signers[0]`.department must be null or 0x and 64 lowercase hex digits"),
    ("code without department", lambda d: d["clique"]["signers"][0].update(department=None), "`clique.signers[0]` must give both department and code, or neither"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("change", "sentence"), [m[1:] for m in CLIQUE_MALFORMED], ids=[m[0] for m in CLIQUE_MALFORMED]
)
def test_a_malformed_clique_member_is_refused_by_name(
    change: Callable[[dict[str, Any]], None], sentence: str
) -> None:
    document = copy.deepcopy(NETWORK_TRUST)
    change(document)
    with pytest.raises(TrustFileError) as info:
        ConsortiumTrust.from_dict(document)
    assert str(info.value) == f"the trust file: {sentence}."

"""Deployment: founders files, the manifest, and refusing to deploy twice."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ledger.chain.artifacts import CONTRACT_NAMES, load_artifact
from ledger.chain.client import ChainClient
from ledger.chain.deploy import deploy, existing_deployment, load_deployment, load_founders
from ledger.errors import AlreadyDeployedError, ContractRevertError, DeploymentError, InputError
from ledger.ids import department_id
from ledger.keys import dev_account
from ledger.trust import check_node, load_trust
from tests.conftest import founders_for_tests
from tests.support import FOUNDERS, Consortium


def write(tmp_path: Path, text: str, name: str = "founders.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


GOOD = """
threshold_bps: 5001
proposal_lifetime: 3600
departments:
  - code: "A-1"
    name: 杭州市公安局
    operator: "dev:1"
  - {code: "B-2", name: 杭州市民政局, operator: "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"}
auditors: ["dev:4"]
"""


def test_load_founders_yaml(tmp_path: Path) -> None:
    founders = load_founders(write(tmp_path, GOOD), allow_dev=True)
    assert [f.name for f in founders.departments] == ["杭州市公安局", "杭州市民政局"]
    assert founders.departments[0].operator == dev_account(1).address
    assert founders.departments[0].department_id == department_id("A-1")
    assert founders.auditors == (dev_account(4).address,)
    assert (founders.threshold_bps, founders.proposal_lifetime) == (5001, 3600)


def test_load_founders_json(tmp_path: Path) -> None:
    data = {"departments": [{"code": "X", "name": "审计局", "operator": dev_account(5).address}]}
    path = write(tmp_path, json.dumps(data, ensure_ascii=False), "f.json")
    founders = load_founders(path, allow_dev=False)
    assert founders.departments[0].name == "审计局"
    assert founders.threshold_bps == 6666  # default: ceil(2n/3) approvals, e.g. 2 of 3


@pytest.mark.parametrize(
    ("desc", "text", "message"),
    [
        ("not a mapping", "- a\n- b\n", "must hold a mapping"),
        ("no departments", "departments: []\n", "at least one department"),
        (
            "missing operator",
            "departments: [{code: a, name: b}]\n",
            "needs `code`, `name` and `operator`",
        ),
        (
            "empty code",
            "departments: [{code: ' ', name: b, operator: 'dev:1'}]\n",
            "code must not be empty",
        ),
        ("empty name", "departments: [{code: a, name: '', operator: 'dev:1'}]\n", "1 to 256 bytes"),
        (
            "long name",
            f"departments: [{{code: a, name: {'局' * 86}, operator: 'dev:1'}}]\n",
            "1 to 256 bytes",
        ),
        (
            "newline in name",
            'departments: [{code: a, name: "杭州\\n市", operator: "dev:1"}]\n',
            r"control or bidirectional-formatting characters \(U\+000A at byte 6\)",
        ),
        (
            "bidi override in name",
            'departments: [{code: a, name: "局\\u202e", operator: "dev:1"}]\n',
            r"U\+202E at byte 3",
        ),
        (
            "lone surrogate in name",
            'departments: [{code: a, name: "局\\ud800", operator: "dev:1"}]\n',
            "valid UTF-8",
        ),
        (
            "bad address",
            "departments: [{code: a, name: b, operator: '0x12'}]\n",
            "is not an account address",
        ),
        (
            "bad checksum",
            "departments: [{code: a, name: b, operator: '0x3c44CdDdB6a900fa2b585dd299e03d12FA4293BC'}]\n",
            "wrong checksum",
        ),
        (
            "duplicate code",
            "departments: [{code: a, name: b, operator: 'dev:1'}, {code: a, name: c, operator: 'dev:2'}]\n",
            "listed twice",
        ),
        (
            "duplicate account",
            "departments: [{code: a, name: b, operator: 'dev:1'}, {code: c, name: c, operator: 'dev:1'}]\n",
            "listed twice",
        ),
        (
            "auditor is operator",
            "departments: [{code: a, name: b, operator: 'dev:1'}]\nauditors: ['dev:1']\n",
            "twice",
        ),
        (
            "bad threshold",
            "threshold_bps: 0\ndepartments: [{code: a, name: b, operator: 'dev:1'}]\n",
            "threshold_bps",
        ),
        (
            "short lifetime",
            "proposal_lifetime: 60\ndepartments: [{code: a, name: b, operator: 'dev:1'}]\n",
            "proposal_lifetime",
        ),
        ("not yaml", "departments: [unclosed\n", "is not valid YAML"),
        (
            "too many founders",
            "departments:\n"
            + "".join(
                f"  - {{code: c{i}, name: n{i}, operator: 'dev:{i % 20}'}}\n" for i in range(33)
            ),
            "at most 32 can be founded",
        ),
    ],
)
def test_bad_founders_file(tmp_path: Path, desc: str, text: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        load_founders(write(tmp_path, text), allow_dev=True)


def test_dev_references_refused_outside_local(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="only in local mode"):
        load_founders(write(tmp_path, GOOD), allow_dev=False)


def test_missing_founders_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read the founders file"):
        load_founders(tmp_path / "nope.yaml", allow_dev=True)


def test_manifest_describes_the_deployment(deployed: Consortium) -> None:
    d = deployed.deployment
    assert d.chain_id == 31337
    assert d.deployer == dev_account(0).address
    for name in CONTRACT_NAMES:
        assert d.artifacts[name] == load_artifact(name).sha256
        # Immutables are filled in at deployment: same length, same metadata trailer (which
        # hashes the sources), so the code on chain is the committed artifact's.
        code = "0x" + bytes(deployed.w3.eth.get_code(d.addresses[name])).hex()
        expected = load_artifact(name).deployed_bytecode
        assert len(code) == len(expected)
        assert code[-110:] == expected[-110:]
    assert [x["name"] for x in d.departments] == [name for _, name, _ in FOUNDERS.values()]


def test_contracts_are_wired_together(deployed: Consortium) -> None:
    c, registry = deployed.client, deployed.client.address("DepartmentRegistry")
    for name in ("DatasetRegistry", "SharingAgreements", "JointCommitments"):
        assert c.call(name, "departmentRegistry") == registry


def test_chinese_names_round_trip(deployed: Consortium) -> None:
    for key, name in deployed.names.items():
        assert deployed.call("DepartmentRegistry", "department", deployed.ids[key])[5] == name


def test_manifest_file_round_trips(consortium: Consortium, tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    first = deploy(consortium.w3, founders_for_tests(), deployer=dev_account(0), manifest_path=path)
    assert load_deployment(path) == first
    text = path.read_text(encoding="utf-8")
    assert "杭州市公安局" in text  # names are stored as UTF-8, not escaped


def test_deploy_writes_the_consortium_trust_file_beside_the_manifest(
    consortium: Consortium, tmp_path: Path
) -> None:
    path = tmp_path / "m.json"
    made = deploy(consortium.w3, founders_for_tests(), deployer=dev_account(0), manifest_path=path)
    genesis = consortium.w3.eth.get_block(0)["hash"].to_0x_hex()
    assert made.genesis_hash == genesis
    assert json.loads(path.read_text(encoding="utf-8"))["genesis_hash"] == genesis
    trust = load_trust(tmp_path / "m.consortium.json")
    assert trust == made.trust()
    assert trust.as_dict() == {
        "format": "xietong-consortium/1",
        "chain_id": 31337,
        "genesis_hash": genesis,
        "deployment_block": made.block_number,
        "deployment_block_hash": made.block_hash,
        "contracts": made.addresses,
        # The founders' operators cosign checkpoints; a majority of the 3 makes one.
        "checkpoints": {
            "threshold": 2,
            "cosigners": sorted(
                (
                    {
                        "address": consortium.ops[key].address,
                        "department": "0x" + consortium.ids[key].hex(),
                        "code": code,
                    }
                    for key, code in zip(
                        "ABC", [f.code for f in founders_for_tests().departments], strict=True
                    )
                ),
                key=lambda c: c["address"].lower(),
            ),
        },
    }
    check_node(trust, consortium.w3)  # raises on any difference
    # Elsewhere when asked (`xietong deploy` passes Settings.trust_path).
    elsewhere = tmp_path / "trust" / "31337.consortium.json"
    forced = deploy(
        consortium.w3,
        founders_for_tests(),
        deployer=dev_account(0),
        manifest_path=path,
        trust_path=elsewhere,
        force=True,
    )
    assert load_trust(elsewhere) == forced.trust() != trust


def test_a_manifest_without_the_genesis_hash_is_damaged(
    deployed: Consortium, tmp_path: Path
) -> None:
    old = deployed.deployment.as_dict()
    del old["genesis_hash"]
    path = tmp_path / "m.json"
    path.write_text(json.dumps(old), encoding="utf-8")
    with pytest.raises(DeploymentError, match="is damaged"):
        load_deployment(path)


def test_second_deploy_is_refused(consortium: Consortium, tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    first = deploy(consortium.w3, founders_for_tests(), deployer=dev_account(0), manifest_path=path)
    with pytest.raises(AlreadyDeployedError, match="already has a Xietong deployment"):
        deploy(consortium.w3, founders_for_tests(), deployer=dev_account(0), manifest_path=path)
    assert load_deployment(path) == first
    forced = deploy(
        consortium.w3, founders_for_tests(), deployer=dev_account(0), manifest_path=path, force=True
    )
    assert forced.addresses != first.addresses


def test_stale_manifest_is_replaced(consortium: Consortium, tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    stale = json.loads(json.dumps(consortium.deployment.as_dict()))
    for entry in stale["contracts"].values():
        entry["address"] = "0x000000000000000000000000000000000000dEaD"
    path.write_text(json.dumps(stale))
    assert existing_deployment(consortium.w3, path) is None
    fresh = deploy(consortium.w3, founders_for_tests(), deployer=dev_account(0), manifest_path=path)
    assert (
        fresh.addresses["DepartmentRegistry"] != stale["contracts"]["DepartmentRegistry"]["address"]
    )


def test_damaged_manifest(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    path.write_text("{not json")
    with pytest.raises(DeploymentError, match="is damaged"):
        load_deployment(path)
    with pytest.raises(DeploymentError) as missing:
        load_deployment(tmp_path / "missing.json")
    # The advice never names a command that would deploy a second set of contracts.
    assert str(missing.value) == (
        f"no deployment manifest at {tmp_path / 'missing.json'}: set XIETONG_DEPLOYMENT to "
        "your consortium's manifest, or XIETONG_HOME to the gateway's home (`xietong doctor` "
        "shows where it looks; only the founders of a new consortium run `xietong deploy`, once)."
    )


def test_bad_founders_rejected_by_the_contract(consortium: Consortium, tmp_path: Path) -> None:
    founders = founders_for_tests()
    twice = type(founders)(founders.departments + founders.departments[:1], (), 6667, 3600)
    with pytest.raises(ContractRevertError) as info:
        deploy(consortium.w3, twice, deployer=dev_account(0), manifest_path=tmp_path / "m.json")
    assert info.value.error_name == "DepartmentRegistryDepartmentExists"
    assert not (tmp_path / "m.json").exists()


def test_client_reads_deployment(deployed: Consortium) -> None:
    client = ChainClient(deployed.w3, deployed.deployment.addresses)
    assert client.call("DepartmentRegistry", "departmentCount") == len(FOUNDERS)

"""docs/API.md, "How ids are derived": the worked example runs as written (in a subprocess,
with nothing of ours imported) and prints what the document says; every value it prints is the
one ``ledger.ids``, ``ledger.merkle`` and ``ledger.hashing`` give for the same inputs, typed as
the CLI and the API take them; the dataset, version, agreement and commitment ids are the
contracts' ``compute*Id`` (``eth_call``) and the example's proof verifies on chain; every enum
number the document gives is the contract's, and the statuses are the API's."""

from __future__ import annotations

import ast
import contextlib
import io
import json
import random
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from eth_utils import keccak, to_checksum_address
from web3.types import Nonce
from web3.utils.address import get_create_address

from ledger import eip712, hashing, lifecycle, merkle
from ledger.anchoring import prepare_path
from ledger.db.queries import AGREEMENT_STATUSES, COMMITMENT_STATUSES
from ledger.ids import (
    agreement_id,
    code_hash,
    commitment_id,
    dataset_id,
    department_id,
    version_id,
)
from ledger.keys import dev_account
from ledger.paths import PROJECT_ROOT
from ledger.proposals import agreement_terms, commitment_proposal
from tests.support import Consortium

API_MD = PROJECT_ROOT / "docs" / "API.md"
INTERFACES = PROJECT_ROOT / "contracts" / "interfaces"
ARTIFACTS = PROJECT_ROOT / "ledger" / "artifacts"
TITLE = "How ids are derived"

# The worked example's inputs, as a person types them into the CLI or the API.
CIVIL, PSB, HEALTH = "11330100MB1A00002K", "11330100MB1A00001P", "11330100MB1A00003F"
DIBAO, POLICY = "HZ-MZ-DIBAO", "HZ-MZ-POLICY"
POLICY_FILES = {  # the demo's policy folder (ledger/demo.py)
    "低保资格核查流程.md": "# 资格核查\n1. 民政局发起核查请求\n2. 公安局比对户籍信息\n",
    "杭州市最低生活保障实施办法.txt": "第一条 为规范最低生活保障工作……\n",
}
ROW = {  # the first row of the demo's dibao-2026-11.csv
    "编号": "DB00000",
    "姓名": "高磊",
    "街道": "望江街道",
    "家庭人口": "4",
    "月保障金": "1380",
    "月份": "2026-11",
}
SALT = bytes.fromhex("47b974e0c699209760ea61ca36e313e4d6b03859fdd88f22c4e7880980131b1b")
PURPOSE = "eligibility-check 低保资格核查"
LEGAL_BASIS = "《社会救助暂行办法》第十一条"
TERMS_DOCUMENT = "杭州市民政局与杭州市公安局低保对象资格核查数据共享协议（示例）\n"
MATTER = "出生一件事-2026-000123"
DUTIES = ((HEALTH, "签发出生医学证明"), (PSB, "办理户口登记"), (CIVIL, "核定生育相关救助"))


# ------------------------------------------------------------------ the document


def section() -> str:
    """The text of the ``## How ids are derived`` section of docs/API.md."""
    text = API_MD.read_text(encoding="utf-8")
    return text.split(f"\n## {TITLE}\n", 1)[1].split("\n## ", 1)[0]


def fenced(text: str, language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```$", text, flags=re.MULTILINE | re.DOTALL)


def example() -> tuple[str, str]:
    """The worked example's Python block and the output the document says it prints."""
    text = section()
    [code], [output] = fenced(text, "python"), fenced(text, "text")
    assert text.index("```python") < text.index("```text")
    return code, output


def documented() -> dict[str, bytes]:
    """The values the document says the example prints, by name."""
    values = {}
    for line in example()[1].splitlines():
        name, value = line.split()
        assert re.fullmatch(r"0x[0-9a-f]{64}", value), line
        values[name] = bytes.fromhex(value[2:])
    return values


def setting(code: str, name: str) -> str:
    """The value of the example's top-level ``NAME = value`` line."""
    [value] = re.findall(rf"^{name} = (.+?)(?:  #.*)?$", code, flags=re.MULTILINE)
    assert isinstance(value, str)
    return value


def run(code: str, folder: Path) -> str:
    """The example's output, run in a subprocess by this venv's Python, isolated (``-I``: no
    environment, no current folder on the path) in an empty folder."""
    script = folder / "example.py"
    script.write_text(code, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-I", str(script)],
        cwd=folder,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        check=False,
    )
    assert result.returncode == 0 and result.stderr == "", result.stderr
    return str(result.stdout)


def word(value: int) -> bytes:
    return value.to_bytes(32, "big")


# ------------------------------------------------------------------ the example runs as written


def test_the_section_follows_the_routes_and_adds_no_shell_block() -> None:
    """After the routes, before the requests; tests/test_documents_run.py runs the document's
    three ```sh blocks, so the example is ```python and its output ```text."""
    text = API_MD.read_text(encoding="utf-8")
    titles = re.findall(r"^## (.+)$", text, flags=re.MULTILINE)
    assert titles[titles.index(TITLE) - 1 : titles.index(TITLE) + 2] == [
        "Routes",
        TITLE,
        "Requests, one of each",
    ]
    assert "```sh" not in section()
    assert len(fenced(text, "sh")) == 3
    assert "(#how-ids-are-derived)" in text


def test_the_example_imports_nothing_of_ours() -> None:
    imported = set()
    for node in ast.walk(ast.parse(example()[0])):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add((node.module or "").split(".")[0])
    assert imported == {"hashlib", "json", "eth_abi", "eth_utils"}


def test_the_worked_example_prints_what_the_document_says(tmp_path: Path) -> None:
    code, output = example()
    assert run(code, tmp_path) == output


# ------------------------------------------------------------------ the values are ledger's


def test_each_documented_value_is_the_ledgers(tmp_path: Path) -> None:
    """From the inputs as the CLI and the API take them (codes, dates, a terms document file),
    through the code that serves them."""
    code, _ = example()
    shown = documented()
    civil, psb, health = department_id(CIVIL), department_id(PSB), department_id(HEALTH)
    dibao, policy = dataset_id(civil, DIBAO), dataset_id(civil, POLICY)

    folder = tmp_path / "policy"
    folder.mkdir()
    for name, text in POLICY_FILES.items():
        (folder / name).write_text(text, encoding="utf-8")
    version = prepare_path(folder, policy)
    assert version.files is not None
    [md] = [f for f in version.files if f.path == "低保资格核查流程.md"]
    [file_leaf] = merkle.file_leaf_hashes([(md.content_hash, md.path)])
    record_hash, salt = hashing.record_entry(ROW, SALT)

    document = tmp_path / "协议.txt"
    document.write_text(TERMS_DOCUMENT, encoding="utf-8")
    terms = agreement_terms(
        provider=CIVIL,
        consumer=f" {PSB}\n",  # typed with spaces: trimmed
        datasets=[DIBAO],
        purpose=PURPOSE,
        legal_basis=LEGAL_BASIS,
        terms_document=str(document),
        valid_from="2026-12-01",
        valid_until="2027-12-01T08:00:00+08:00",
    )
    chain_id = int(setting(code, "CHAIN_ID"))
    agreements = setting(code, "AGREEMENTS").strip('"')
    commitments = setting(code, "COMMITMENTS").strip('"')
    proposal = commitment_proposal(
        matter=MATTER, participants=DUTIES, deadline="2026-12-15T18:00:00+08:00"
    )
    # The terms' encoding, word by word as the document lays it out.
    encoded_terms = b"".join(
        [
            word(0x20),
            terms.provider,
            terms.consumer,
            word(0x100),
            terms.purpose,
            terms.legal_basis,
            terms.terms_hash,
            word(terms.valid_from),
            word(terms.valid_until),
            word(len(terms.dataset_ids)),
            *terms.dataset_ids,
        ]
    )
    terms_digest = keccak(encoded_terms)
    agreement = agreement_id(terms, sequence=1, chain_id=chain_id, contract=agreements)
    assert agreement == keccak(
        word(chain_id) + bytes(12) + bytes.fromhex(agreements[2:]) + word(1) + terms_digest
    )
    commitment = commitment_id(
        lead=health,
        matter_ref=proposal.matter_ref,
        participants=proposal.participants,
        duty_hashes=proposal.duty_hashes,
        deadline=proposal.deadline,
        sequence=1,
        chain_id=chain_id,
        contract=commitments,
    )

    def array(words: tuple[bytes, ...]) -> bytes:
        return keccak(word(0x20) + word(len(words)) + b"".join(words))

    assert commitment == keccak(
        b"".join(
            [
                word(chain_id),
                bytes(12) + bytes.fromhex(commitments[2:]),
                word(1),
                health,
                proposal.matter_ref,
                array(proposal.participants),
                array(proposal.duty_hashes),
                word(proposal.deadline),
            ]
        )
    )
    # The file leaf, byte by byte as the document lays out abi.encode(bytes32, string).
    path = md.path.encode("utf-8")
    padded = path + bytes(-len(path) % 32)
    assert file_leaf == keccak(keccak(md.content_hash + word(0x40) + word(len(path)) + padded))
    assert hashing.canonical_json(ROW) == json.dumps(
        ROW, ensure_ascii=False, sort_keys=True, separators=(",", ":")
    ).encode("utf-8")

    assert shown == {
        "civil_department": civil,
        "psb_department": psb,
        "health_department": health,
        "dibao_code_hash": code_hash(DIBAO),
        "dibao_dataset": dibao,
        "policy_dataset": policy,
        "file_leaf": file_leaf,
        "file_proof_0": version.tree.proof(file_leaf)[0],
        "policy_root": version.tree.root,
        "policy_version": version.version_id,
        "record_hash": record_hash,
        "record_leaf": merkle.record_leaf_hashes([(record_hash, salt)])[0],
        "purpose": terms.purpose,
        "legal_basis": terms.legal_basis,
        "terms_hash": terms.terms_hash,
        "terms_digest": terms_digest,
        "agreement_id": agreement,
        "matter_ref": proposal.matter_ref,
        "commitment_id": commitment,
    }
    assert len(version.tree.proof(file_leaf)) == 1
    assert version.version_id == version_id(policy, version.tree.root)
    assert (terms.dataset_ids, terms.valid_from, terms.valid_until) == (
        (dibao,),
        1796083200,
        1827619200,
    )
    assert proposal.deadline == 1797328800


def test_the_example_addresses_are_those_of_a_fresh_local_deployment() -> None:
    """`xietong deploy` by development account 0 on a fresh chain: DepartmentRegistry,
    DatasetRegistry, SharingAgreements, JointCommitments, its first four transactions."""
    code, _ = example()
    deployer = dev_account(0).address
    assert setting(code, "AGREEMENTS").strip('"') == get_create_address(deployer, Nonce(2))
    assert setting(code, "COMMITMENTS").strip('"') == get_create_address(deployer, Nonce(3))
    assert setting(code, "CHAIN_ID") == "31337"


def test_the_examples_functions_are_the_ledgers() -> None:
    """Its helpers agree with ledger.merkle on trees of 1 to 33 leaves (odd and even, equal
    leaves), and its code_hash with ledger.ids."""
    namespace: dict[str, Any] = {}
    with contextlib.redirect_stdout(io.StringIO()):
        exec(example()[0], namespace)  # noqa: S102 - the document's own example
    rng = random.Random(14)
    for n in range(1, 34):
        leaves = [rng.randbytes(32) for _ in range(n)]
        if n > 3:
            leaves[1] = leaves[2]  # a duplicate stays a leaf
        tree = merkle.MerkleTree.from_leaf_hashes(leaves)
        shown = namespace["merkle_tree"](leaves)
        assert shown == tree.nodes(), n
        for leaf in leaves:
            proof = namespace["merkle_proof"](shown, leaf)
            assert namespace["process_proof"](leaf, proof) == tree.root, n
            assert merkle.verify_proof(tree.root, leaf, proof), n
    for text in ["HZ-MZ-DIBAO", "  低保名单\n", "\u3000全角空格\u3000", "🏛-archive", "a b"]:
        assert namespace["code_hash"](text) == code_hash(text), text


# ------------------------------------------------------------------ the values are the chain's


def test_the_documented_ids_are_the_contracts(deployed: Consortium, tmp_path: Path) -> None:
    """Dataset and version ids as documented; the agreement and commitment ids of the example
    run for this node's chain id and contracts are the contracts' computeAgreementId and
    computeCommitmentId of the documented terms."""
    shown = documented()
    civil = shown["civil_department"]
    for code, name in ((DIBAO, "dibao_dataset"), (POLICY, "policy_dataset")):
        on_chain = deployed.call("DatasetRegistry", "computeDatasetId", civil, code_hash(code))
        assert on_chain == shown[name], name
    assert (
        deployed.call(
            "DatasetRegistry", "computeVersionId", shown["policy_dataset"], shown["policy_root"]
        )
        == shown["policy_version"]
    )

    code, _ = example()
    chain_id = deployed.w3.eth.chain_id
    here = {
        "CHAIN_ID": str(chain_id),
        "AGREEMENTS": f'"{deployed.deployment.addresses["SharingAgreements"]}"',
        "COMMITMENTS": f'"{deployed.deployment.addresses["JointCommitments"]}"',
    }
    for name, value in here.items():
        code, count = re.subn(
            rf"^{name} = .*$", f"{name} = {value}", code, count=1, flags=re.MULTILINE
        )
        assert count == 1, name
    printed = dict(line.split() for line in run(code, tmp_path).splitlines())

    terms = (
        civil,
        shown["psb_department"],
        [shown["dibao_dataset"]],
        shown["purpose"],
        shown["legal_basis"],
        shown["terms_hash"],
        1796083200,
        1827619200,
    )
    on_chain = deployed.call("SharingAgreements", "computeAgreementId", terms, 1)
    assert "0x" + bytes(on_chain).hex() == printed["agreement_id"]
    health = shown["health_department"]
    on_chain = deployed.call(
        "JointCommitments",
        "computeCommitmentId",
        health,
        shown["matter_ref"],
        [health, shown["psb_department"], civil],
        [code_hash(duty) for _, duty in DUTIES],
        1797328800,
        1,
    )
    assert "0x" + bytes(on_chain).hex() == printed["commitment_id"]
    # A node deployed to as the document's local chain is gives the document's very ids.
    if here["CHAIN_ID"] == setting(example()[0], "CHAIN_ID") and to_checksum_address(
        here["AGREEMENTS"].strip('"')
    ) == setting(example()[0], "AGREEMENTS").strip('"'):
        assert printed["agreement_id"] == "0x" + shown["agreement_id"].hex()


def test_the_documented_proof_verifies_on_chain(consortium: Consortium) -> None:
    """The example's root anchored (by a department of the test consortium), its file leaf and
    one-step proof verify with DatasetRegistry.verifyLeaf; another proof does not."""
    shown = documented()
    c = consortium
    dataset = c.register_dataset("A", POLICY)
    root = shown["policy_root"]
    c.transact("DatasetRegistry", "anchor", dataset, root, 2, b"\x11" * 32, [], sender=c.ops["A"])
    leaf, sibling = shown["file_leaf"], shown["file_proof_0"]
    assert c.call("DatasetRegistry", "verifyLeaf", dataset, root, leaf, [sibling]) is True
    assert c.call("DatasetRegistry", "verifyLeaf", dataset, root, sibling, [leaf]) is True
    assert c.call("DatasetRegistry", "verifyLeaf", dataset, root, leaf, [leaf]) is False


# ------------------------------------------------------------------ enums and statuses


def solidity_enums() -> dict[str, list[str]]:
    """Every enum declared in contracts/interfaces/*.sol, as ``Interface.Enum``: its members in
    on-chain order."""
    enums = {}
    for source in sorted(INTERFACES.glob("*.sol")):
        text = re.sub(r"//[^\n]*", "", source.read_text(encoding="utf-8"))
        [interface] = re.findall(r"^interface (\w+)", text, flags=re.MULTILINE)
        for name, body in re.findall(r"\benum (\w+)\s*\{([^}]*)\}", text):
            enums[f"{interface}.{name}"] = [m.strip() for m in body.split(",") if m.strip()]
    return enums


def enum_table() -> dict[str, tuple[dict[int, str], list[str]]]:
    """The document's enum table: per enum its numbers and the words of its API column."""
    rows = re.findall(r"^\| `(\w+\.\w+)` \| (.+?) \| (.+?) \|$", section(), flags=re.MULTILINE)
    table = {}
    for name, numbers, api in rows:
        pairs = re.findall(r"(\d+) `(\w+)`", numbers)
        assert ", ".join(f"{n} `{m}`" for n, m in pairs) == numbers, numbers
        table[name] = ({int(n): m for n, m in pairs}, re.findall(r"`([\w-]+)`", api))
    return table


def test_every_enum_of_the_contracts_is_documented_with_its_numbers() -> None:
    enums = solidity_enums()
    assert len(enums) == 5, enums
    documented_numbers = {name: numbers for name, (numbers, _) in enum_table().items()}
    assert documented_numbers == {name: dict(enumerate(members)) for name, members in enums.items()}


def test_every_enum_the_abis_carry_is_documented() -> None:
    found: set[str] = set()

    def walk(item: Any) -> None:
        if isinstance(item, dict):
            kind = item.get("internalType")
            if isinstance(kind, str) and kind.startswith("enum "):
                found.add(kind.removeprefix("enum "))
            for value in item.values():
                walk(value)
        elif isinstance(item, list):
            for value in item:
                walk(value)

    for artifact in ARTIFACTS.glob("*.json"):
        walk(json.loads(artifact.read_text(encoding="utf-8"))["abi"])
    assert found == set(enum_table())


def test_the_documented_statuses_are_the_apis() -> None:
    table = enum_table()
    assert set(table["ISharingAgreements.AgreementStatus"][1]) == set(AGREEMENT_STATUSES)
    assert set(table["IJointCommitments.CommitmentStatus"][1]) == set(COMMITMENT_STATUSES)
    departments = table["IDepartmentRegistry.DepartmentStatus"][1]
    assert departments == ["active", "suspended", "None", "unknown-department"]


def test_the_derived_statuses_follow_the_documented_rules() -> None:
    """`expired` from validUntil on, `pending` before max(validFrom, acceptedAt), `overdue`
    once past the deadline (not at it); a proposed agreement never expires."""
    status = lifecycle.agreement_status
    window = {"valid_from": 100, "valid_until": 200}
    assert status("active", **window, now=200, accepted_at=50) == "expired"
    assert status("active", **window, now=199, accepted_at=50) == "active"
    assert status("active", **window, now=99, accepted_at=50) == "pending"
    assert status("active", **window, now=100, accepted_at=50) == "active"
    assert status("active", **window, now=149, accepted_at=150) == "pending"
    assert status("active", **window, now=150, accepted_at=150) == "active"
    assert status("active", **window, now=250, accepted_at=150) == "expired"
    assert status("proposed", **window, now=250) == "proposed"
    for chain_status in ("revoked", "superseded", "rejected", "withdrawn"):
        assert status(chain_status, **window, now=150, accepted_at=50) == chain_status
    overdue = lifecycle.commitment_status
    assert overdue("active", deadline=100, now=100) == "active"
    assert overdue("active", deadline=100, now=101) == "overdue"
    assert overdue("proposed", deadline=100, now=101) == "overdue"
    assert overdue("completed", deadline=100, now=101) == "completed"
    assert overdue("cancelled", deadline=100, now=101) == "cancelled"


def test_the_documented_consent_domains_and_types_are_the_contracts() -> None:
    text = " ".join(section().split())
    for name, version in (
        eip712.AGREEMENTS_DOMAIN,
        eip712.COMMITMENTS_DOMAIN,
        eip712.REGISTRY_DOMAIN,
    ):
        assert f"`{name}`" in text and version == "1"
    assert "version `1`" in text
    assert (
        "`EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)`"
        in text
    )
    for preimage in (eip712.ACCEPT_AGREEMENT_TYPE, eip712.SIGN_COMMITMENT_TYPE):
        assert f"`{preimage}`" in text

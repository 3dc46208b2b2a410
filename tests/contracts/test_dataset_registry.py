"""DatasetRegistry: dataset registration, version anchoring with lineage, revocation, views and
on-chain Merkle proof checks against OpenZeppelin standard trees, on both engines."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Sequence
from typing import Any

import pytest
from eth_abi import encode
from eth_account.signers.local import LocalAccount
from eth_utils import keccak

from ledger.chain.enums import DepartmentStatus, ProposalKind
from ledger.ids import dataset_id
from ledger.paths import HARDHAT_DIR
from tests.support import Consortium, reverts

ZERO32 = b"\x00" * 32
ZERO_ADDRESS = "0x" + "00" * 20
SUSPEND = ProposalKind.SUSPEND
SUSPENDED = DepartmentStatus.SUSPENDED
LEAF_TYPES = ["bytes32", "string"]

DS_A = dataset_id("TEST-DS-A-001")
DS_A2 = dataset_id("TEST-DS-A-002")
DS_B = dataset_id("TEST-DS-B-001")


def h(label: str) -> bytes:
    """A distinct, non-zero 32-byte value for ``label``."""
    return keccak(text=label)


# ------------------------------------------------------------------ OpenZeppelin standard tree


def leaf_hash(types: Sequence[str], values: Sequence[Any]) -> bytes:
    """StandardMerkleTree's leaf: keccak256(keccak256(abi.encode(values)))."""
    return keccak(keccak(encode(list(types), list(values))))


def node_hash(a: bytes, b: bytes) -> bytes:
    """Sorted-pair hashing (OpenZeppelin's ``standardNodeHash`` and ``MerkleProof``)."""
    return keccak(b"".join(sorted((a, b))))


class StandardTree:
    """A port of ``@openzeppelin/merkle-tree``'s StandardMerkleTree (sortLeaves: true).

    The tree is the flat array of ``core.js`` ``makeMerkleTree``: leaves sorted by hash sit at
    the end in reverse order (``tree[len - 1 - i] = leaves[i]``), node ``i`` hashes children
    ``2i + 1`` and ``2i + 2``; so an odd leaf count is handled exactly as the JS library does.
    """

    def __init__(self, values: Sequence[Sequence[Any]], types: Sequence[str]) -> None:
        assert values, "a tree needs at least one leaf"
        self.values = [list(v) for v in values]
        hashed = sorted((leaf_hash(types, v), i) for i, v in enumerate(self.values))
        size = 2 * len(hashed) - 1
        self.tree: list[bytes] = [b""] * size
        self.tree_index: dict[int, int] = {}
        for position, (digest, value_index) in enumerate(hashed):
            self.tree[size - 1 - position] = digest
            self.tree_index[value_index] = size - 1 - position
        for i in range(size - 1 - len(hashed), -1, -1):
            self.tree[i] = node_hash(self.tree[2 * i + 1], self.tree[2 * i + 2])

    @property
    def root(self) -> bytes:
        return self.tree[0]

    def leaf(self, value_index: int) -> bytes:
        return self.tree[self.tree_index[value_index]]

    def proof(self, value_index: int) -> list[bytes]:
        index = self.tree_index[value_index]
        proof = []
        while index > 0:
            sibling = index - 1 if index % 2 == 0 else index + 1
            proof.append(self.tree[sibling])
            index = (index - 1) // 2
        return proof


def process_proof(leaf: bytes, proof: Sequence[bytes]) -> bytes:
    result = leaf
    for sibling in proof:
        result = node_hash(result, sibling)
    return result


def leaves_of(values: Sequence[Sequence[Any]]) -> list[bytes]:
    return [leaf_hash(LEAF_TYPES, v) for v in values]


def leaf_values(count: int, label: str = "file") -> list[list[Any]]:
    """``count`` leaves as (content SHA-256 stand-in, path) values."""
    return [[h(f"{label}-{i}-content"), f"data/{label}/{i:04d}.csv"] for i in range(count)]


# ------------------------------------------------------------------ chain helpers


def register(c: Consortium, dataset: bytes, who: str = "A", metadata: bytes = ZERO32) -> Any:
    return c.transact("DatasetRegistry", "registerDataset", dataset, metadata, sender=c.ops[who])


def anchor(
    c: Consortium,
    dataset: bytes,
    root: bytes,
    *,
    who: str = "A",
    leaf_count: int = 10,
    metadata: bytes | None = None,
    parents: Sequence[bytes] = (),
    sender: LocalAccount | None = None,
) -> Any:
    return c.transact(
        "DatasetRegistry",
        "anchor",
        dataset,
        root,
        leaf_count,
        metadata if metadata is not None else h("meta:" + root.hex()),
        list(parents),
        sender=sender or c.ops[who],
    )


def suspend(c: Consortium, who: str) -> None:
    """Suspend department ``who`` (proposed and approved by the two other founders)."""
    others = [k for k in ("A", "B", "C") if k != who]
    tx = c.transact(
        "DepartmentRegistry",
        "propose",
        SUSPEND,
        c.ids[who],
        "",
        ZERO_ADDRESS,
        sender=c.ops[others[0]],
    )
    proposal_id = tx.event("ProposalCreated")["proposalId"]
    c.transact("DepartmentRegistry", "approve", proposal_id, sender=c.ops[others[1]])
    assert c.call("DepartmentRegistry", "statusOf", c.ids[who]) == SUSPENDED


def block_timestamp(c: Consortium, tx: Any) -> int:
    return int(c.w3.eth.get_block(tx.block_number)["timestamp"])


# ================================================================== registerDataset


def test_register_dataset_records_owner_time_and_event(consortium: Consortium) -> None:
    c = consortium
    metadata = h("catalogue entry A-001")
    tx = register(c, DS_A, "A", metadata)
    assert tx.events == [
        (
            "DatasetRegistered",
            {"datasetId": DS_A, "ownerDepartment": c.ids["A"], "metadataHash": metadata},
        )
    ]
    owner, registered_at = c.call("DatasetRegistry", "dataset", DS_A)
    assert owner == c.ids["A"]
    assert registered_at == block_timestamp(c, tx)
    assert c.call("DatasetRegistry", "ownerOf", DS_A) == c.ids["A"]


def test_register_dataset_with_zero_metadata_and_by_other_departments(
    consortium: Consortium,
) -> None:
    c = consortium
    register(c, DS_A, "A")
    tx = register(c, DS_B, "B")
    assert tx.event("DatasetRegistered")["metadataHash"] == ZERO32
    assert c.call("DatasetRegistry", "ownerOf", DS_A) == c.ids["A"]
    assert c.call("DatasetRegistry", "ownerOf", DS_B) == c.ids["B"]


def test_register_dataset_by_second_operator_belongs_to_the_department(
    consortium: Consortium,
) -> None:
    c = consortium
    second = c.spare(5)
    c.enrol(c.ops["A"], second)
    tx = c.transact("DatasetRegistry", "registerDataset", DS_A, ZERO32, sender=second)
    assert tx.event("DatasetRegistered")["ownerDepartment"] == c.ids["A"]
    # The first operator may anchor it: ownership is the department's, not the account's.
    anchor(c, DS_A, h("root-1"), who="A")
    assert c.call("DatasetRegistry", "isAnchored", h("root-1")) is True


def test_register_dataset_by_non_operator_reverts(consortium: Consortium) -> None:
    c = consortium
    outsider = c.spare(6)
    with reverts("DepartmentRegistryNotOperator", account=outsider.address):
        c.transact("DatasetRegistry", "registerDataset", DS_A, ZERO32, sender=outsider)
    with reverts("DepartmentRegistryNotOperator", account=c.auditor.address):
        c.transact("DatasetRegistry", "registerDataset", DS_A, ZERO32, sender=c.auditor)
    assert c.call("DatasetRegistry", "ownerOf", DS_A) == ZERO32


def test_register_dataset_by_removed_operator_reverts(consortium: Consortium) -> None:
    c = consortium
    second = c.spare(7)
    c.enrol(c.ops["A"], second)
    c.transact("DepartmentRegistry", "removeOperator", second.address, sender=c.ops["A"])
    with reverts("DepartmentRegistryNotOperator", account=second.address):
        c.transact("DatasetRegistry", "registerDataset", DS_A, ZERO32, sender=second)


def test_register_dataset_by_suspended_department_reverts(consortium: Consortium) -> None:
    c = consortium
    suspend(c, "C")
    with reverts(
        "DepartmentRegistryDepartmentNotActive", departmentId=c.ids["C"], status=SUSPENDED
    ):
        register(c, DS_A, "C")
    assert c.call("DatasetRegistry", "ownerOf", DS_A) == ZERO32


def test_register_zero_dataset_id_reverts(consortium: Consortium) -> None:
    c = consortium
    with reverts("DatasetRegistryZeroDatasetId"):
        register(c, ZERO32, "A")


@pytest.mark.parametrize("second", ["A", "B"])
def test_register_existing_dataset_reverts(consortium: Consortium, second: str) -> None:
    c = consortium
    register(c, DS_A, "A")
    with reverts("DatasetRegistryDatasetExists", datasetId=DS_A, ownerDepartment=c.ids["A"]):
        register(c, DS_A, second, h("other metadata"))
    assert c.call("DatasetRegistry", "ownerOf", DS_A) == c.ids["A"]


# ================================================================== dataset views


def test_unknown_dataset_views(consortium: Consortium) -> None:
    c = consortium
    assert c.call("DatasetRegistry", "ownerOf", DS_A) == ZERO32
    with reverts("DatasetRegistryUnknownDataset", datasetId=DS_A):
        c.call("DatasetRegistry", "dataset", DS_A)


def test_max_parents_is_eight(consortium: Consortium) -> None:
    assert consortium.call("DatasetRegistry", "maxParents") == 8


# ================================================================== anchor


def test_anchor_records_version_and_event(consortium: Consortium) -> None:
    c = consortium
    register(c, DS_A, "A")
    root, metadata = h("root-v1"), h("version 1 description")
    tx = anchor(c, DS_A, root, leaf_count=1234, metadata=metadata)
    assert tx.events == [
        (
            "VersionAnchored",
            {
                "datasetId": DS_A,
                "root": root,
                "departmentId": c.ids["A"],
                "leafCount": 1234,
                "metadataHash": metadata,
                "parents": [],
            },
        )
    ]
    assert c.call("DatasetRegistry", "version", root) == (
        DS_A,
        1234,
        block_timestamp(c, tx),
        tx.block_number,
        0,
    )
    assert c.call("DatasetRegistry", "isAnchored", root) is True
    assert c.call("DatasetRegistry", "isAnchored", h("root-v2")) is False


def test_anchor_later_version_records_its_own_block_and_time(consortium: Consortium) -> None:
    c = consortium
    register(c, DS_A, "A")
    first = anchor(c, DS_A, h("root-v1"))
    c.advance(3600)
    second = anchor(c, DS_A, h("root-v2"), leaf_count=1, parents=[h("root-v1")])
    v1 = c.call("DatasetRegistry", "version", h("root-v1"))
    v2 = c.call("DatasetRegistry", "version", h("root-v2"))
    assert second.block_number > first.block_number
    assert (v2[3], v2[2]) == (second.block_number, block_timestamp(c, second))
    assert v2[2] >= v1[2] + 3600
    assert v2[1] == 1


def test_anchor_with_parents_emits_lineage(consortium: Consortium) -> None:
    c = consortium
    register(c, DS_A, "A")
    parents = [h(f"parent-{i}") for i in range(3)]
    for parent in parents:
        anchor(c, DS_A, parent)
    child = h("child")
    tx = anchor(c, DS_A, child, metadata=h("merge"), parents=[parents[2], parents[0], parents[1]])
    event = tx.event("VersionAnchored")
    assert list(event["parents"]) == [parents[2], parents[0], parents[1]]
    assert event["metadataHash"] == h("merge")
    assert c.call("DatasetRegistry", "version", child)[0] == DS_A


def test_anchor_with_max_parents(consortium: Consortium) -> None:
    c = consortium
    register(c, DS_A, "A")
    parents = [h(f"parent-{i}") for i in range(8)]
    for parent in parents:
        anchor(c, DS_A, parent)
    tx = anchor(c, DS_A, h("child"), parents=parents)
    assert list(tx.event("VersionAnchored")["parents"]) == parents


def test_anchor_lineage_across_datasets_and_departments(consortium: Consortium) -> None:
    c = consortium
    register(c, DS_A, "A")
    register(c, DS_B, "B")
    anchor(c, DS_A, h("a-v1"), who="A")
    tx = anchor(c, DS_B, h("b-v1"), who="B", parents=[h("a-v1")])
    event = tx.event("VersionAnchored")
    assert (event["datasetId"], event["departmentId"]) == (DS_B, c.ids["B"])
    assert list(event["parents"]) == [h("a-v1")]
    assert c.call("DatasetRegistry", "version", h("b-v1"))[0] == DS_B


def test_anchor_revoked_parent_is_allowed(consortium: Consortium) -> None:
    """A revoked version stays on record, so later versions may still name it as a parent."""
    c = consortium
    register(c, DS_A, "A")
    anchor(c, DS_A, h("v1"))
    c.transact("DatasetRegistry", "revokeVersion", h("v1"), h("reason"), sender=c.ops["A"])
    tx = anchor(c, DS_A, h("v2"), parents=[h("v1")])
    assert list(tx.event("VersionAnchored")["parents"]) == [h("v1")]


def test_anchor_by_non_operator_reverts(consortium: Consortium) -> None:
    c = consortium
    register(c, DS_A, "A")
    outsider = c.spare(8)
    with reverts("DepartmentRegistryNotOperator", account=outsider.address):
        anchor(c, DS_A, h("root"), sender=outsider)
    assert c.call("DatasetRegistry", "isAnchored", h("root")) is False


def test_anchor_by_suspended_department_reverts(consortium: Consortium) -> None:
    c = consortium
    register(c, DS_A, "A")
    suspend(c, "A")
    with reverts(
        "DepartmentRegistryDepartmentNotActive", departmentId=c.ids["A"], status=SUSPENDED
    ):
        anchor(c, DS_A, h("root"))
    assert c.call("DatasetRegistry", "isAnchored", h("root")) is False


def test_anchor_unknown_dataset_reverts(consortium: Consortium) -> None:
    c = consortium
    with reverts("DatasetRegistryUnknownDataset", datasetId=DS_A):
        anchor(c, DS_A, h("root"))


def test_anchor_by_other_department_reverts(consortium: Consortium) -> None:
    c = consortium
    register(c, DS_A, "A")
    with reverts("DatasetRegistryNotDatasetOwner", datasetId=DS_A, departmentId=c.ids["B"]):
        anchor(c, DS_A, h("root"), who="B")
    assert c.call("DatasetRegistry", "isAnchored", h("root")) is False


def test_anchor_zero_root_reverts(consortium: Consortium) -> None:
    c = consortium
    register(c, DS_A, "A")
    with reverts("DatasetRegistryZeroRoot"):
        anchor(c, DS_A, ZERO32)


def test_anchor_zero_leaf_count_reverts(consortium: Consortium) -> None:
    c = consortium
    register(c, DS_A, "A")
    with reverts("DatasetRegistryEmptyVersion", root=h("root")):
        anchor(c, DS_A, h("root"), leaf_count=0)


def test_anchor_same_root_twice_reverts(consortium: Consortium) -> None:
    c = consortium
    register(c, DS_A, "A")
    anchor(c, DS_A, h("root"))
    with reverts("DatasetRegistryRootAlreadyAnchored", root=h("root"), datasetId=DS_A):
        anchor(c, DS_A, h("root"), leaf_count=99)


def test_anchor_root_of_another_dataset_reverts(consortium: Consortium) -> None:
    c = consortium
    register(c, DS_A, "A")
    register(c, DS_A2, "A")
    register(c, DS_B, "B")
    anchor(c, DS_A, h("root"))
    with reverts("DatasetRegistryRootAlreadyAnchored", root=h("root"), datasetId=DS_A):
        anchor(c, DS_A2, h("root"))
    with reverts("DatasetRegistryRootAlreadyAnchored", root=h("root"), datasetId=DS_A):
        anchor(c, DS_B, h("root"), who="B")
    assert c.call("DatasetRegistry", "version", h("root"))[0] == DS_A


def test_anchor_nine_parents_reverts(consortium: Consortium) -> None:
    c = consortium
    register(c, DS_A, "A")
    parents = [h(f"parent-{i}") for i in range(9)]
    for parent in parents:
        anchor(c, DS_A, parent)
    with reverts("DatasetRegistryTooManyParents", count=9, max=8):
        anchor(c, DS_A, h("child"), parents=parents)


def test_anchor_unknown_parent_reverts(consortium: Consortium) -> None:
    c = consortium
    register(c, DS_A, "A")
    anchor(c, DS_A, h("known"))
    with reverts("DatasetRegistryUnknownParent", parent=h("unknown")):
        anchor(c, DS_A, h("child"), parents=[h("known"), h("unknown")])
    with reverts("DatasetRegistryUnknownParent", parent=ZERO32):
        anchor(c, DS_A, h("child"), parents=[ZERO32])


def test_anchor_self_as_parent_reverts(consortium: Consortium) -> None:
    c = consortium
    register(c, DS_A, "A")
    with reverts("DatasetRegistryUnknownParent", parent=h("child")):
        anchor(c, DS_A, h("child"), parents=[h("child")])


def test_anchor_duplicate_parent_reverts(consortium: Consortium) -> None:
    c = consortium
    register(c, DS_A, "A")
    anchor(c, DS_A, h("p1"))
    anchor(c, DS_A, h("p2"))
    with reverts("DatasetRegistryDuplicateParent", parent=h("p1")):
        anchor(c, DS_A, h("child"), parents=[h("p1"), h("p2"), h("p1")])
    assert c.call("DatasetRegistry", "isAnchored", h("child")) is False


# ================================================================== revokeVersion


def test_revoke_version_records_time_and_event(consortium: Consortium) -> None:
    c = consortium
    register(c, DS_A, "A")
    anchor_tx = anchor(c, DS_A, h("root"), leaf_count=7)
    c.advance(60)
    tx = c.transact(
        "DatasetRegistry", "revokeVersion", h("root"), h("published in error"), sender=c.ops["A"]
    )
    assert tx.events == [
        (
            "VersionRevoked",
            {
                "datasetId": DS_A,
                "root": h("root"),
                "departmentId": c.ids["A"],
                "reasonHash": h("published in error"),
            },
        )
    ]
    revoked_at = block_timestamp(c, tx)
    assert c.call("DatasetRegistry", "version", h("root")) == (
        DS_A,
        7,
        block_timestamp(c, anchor_tx),
        anchor_tx.block_number,
        revoked_at,
    )
    assert revoked_at >= block_timestamp(c, anchor_tx) + 60
    # Revoked versions stay on record.
    assert c.call("DatasetRegistry", "isAnchored", h("root")) is True


def test_revoke_twice_reverts_with_first_revocation_time(consortium: Consortium) -> None:
    c = consortium
    register(c, DS_A, "A")
    anchor(c, DS_A, h("root"))
    tx = c.transact("DatasetRegistry", "revokeVersion", h("root"), ZERO32, sender=c.ops["A"])
    revoked_at = block_timestamp(c, tx)
    c.advance(10)
    with reverts("DatasetRegistryVersionRevoked", root=h("root"), revokedAt=revoked_at):
        c.transact("DatasetRegistry", "revokeVersion", h("root"), h("again"), sender=c.ops["A"])


def test_revoke_by_other_department_reverts(consortium: Consortium) -> None:
    c = consortium
    register(c, DS_A, "A")
    anchor(c, DS_A, h("root"))
    with reverts("DatasetRegistryNotDatasetOwner", datasetId=DS_A, departmentId=c.ids["B"]):
        c.transact("DatasetRegistry", "revokeVersion", h("root"), ZERO32, sender=c.ops["B"])
    assert c.call("DatasetRegistry", "version", h("root"))[4] == 0


def test_revoke_unknown_root_reverts(consortium: Consortium) -> None:
    c = consortium
    with reverts("DatasetRegistryUnknownRoot", root=h("nothing")):
        c.transact("DatasetRegistry", "revokeVersion", h("nothing"), ZERO32, sender=c.ops["A"])


def test_revoke_by_non_operator_reverts(consortium: Consortium) -> None:
    c = consortium
    register(c, DS_A, "A")
    anchor(c, DS_A, h("root"))
    with reverts("DepartmentRegistryNotOperator", account=c.spare(9).address):
        c.transact("DatasetRegistry", "revokeVersion", h("root"), ZERO32, sender=c.spare(9))


def test_revoke_by_suspended_department_reverts(consortium: Consortium) -> None:
    c = consortium
    register(c, DS_A, "A")
    anchor(c, DS_A, h("root"))
    suspend(c, "A")
    with reverts(
        "DepartmentRegistryDepartmentNotActive", departmentId=c.ids["A"], status=SUSPENDED
    ):
        c.transact("DatasetRegistry", "revokeVersion", h("root"), ZERO32, sender=c.ops["A"])
    assert c.call("DatasetRegistry", "version", h("root"))[4] == 0


# ================================================================== version views


def test_version_of_unknown_root_reverts(consortium: Consortium) -> None:
    c = consortium
    assert c.call("DatasetRegistry", "isAnchored", h("nothing")) is False
    with reverts("DatasetRegistryUnknownRoot", root=h("nothing")):
        c.call("DatasetRegistry", "version", h("nothing"))
    with reverts("DatasetRegistryUnknownRoot", root=ZERO32):
        c.call("DatasetRegistry", "version", ZERO32)


# ================================================================== verifyLeaf


def test_standard_tree_helper_matches_known_shapes() -> None:
    """The local helper: one leaf is its own root, two leaves hash as a sorted pair, and the
    three-leaf layout pairs the two largest leaf hashes first (as core.js does)."""
    values = leaf_values(3)
    leaves = sorted(leaf_hash(LEAF_TYPES, v) for v in values)
    assert StandardTree(values[:1], LEAF_TYPES).root == leaves_of(values[:1])[0]
    two = sorted(leaf_hash(LEAF_TYPES, v) for v in values[:2])
    assert StandardTree(values[:2], LEAF_TYPES).root == keccak(two[0] + two[1])
    # tree = [root, n1, leaves[2], leaves[1], leaves[0]]; n1 = hash(leaves[1], leaves[0]).
    assert StandardTree(values, LEAF_TYPES).root == node_hash(
        node_hash(leaves[1], leaves[0]), leaves[2]
    )


@pytest.mark.parametrize("count", [1, 2, 3, 5])
def test_verify_leaf_accepts_every_valid_proof(consortium: Consortium, count: int) -> None:
    c = consortium
    tree = StandardTree(leaf_values(count), LEAF_TYPES)
    register(c, DS_A, "A")
    anchor(c, DS_A, tree.root, leaf_count=count)
    for i in range(count):
        proof = tree.proof(i)
        assert process_proof(tree.leaf(i), proof) == tree.root
        assert c.call("DatasetRegistry", "verifyLeaf", tree.root, tree.leaf(i), proof) is True


@pytest.mark.parametrize("count", [1, 2, 3, 5])
def test_verify_leaf_rejects_tampered_leaf_and_proof(consortium: Consortium, count: int) -> None:
    c = consortium
    values = leaf_values(count)
    tree = StandardTree(values, LEAF_TYPES)
    register(c, DS_A, "A")
    anchor(c, DS_A, tree.root, leaf_count=count)
    last = count - 1
    leaf, proof = tree.leaf(last), tree.proof(last)
    # A changed value (other path, same content hash) gives another leaf.
    tampered_leaf = leaf_hash(LEAF_TYPES, [values[last][0], values[last][1] + ".bak"])
    assert c.call("DatasetRegistry", "verifyLeaf", tree.root, tampered_leaf, proof) is False
    # The single-keccak leaf is not the leaf (second-preimage protection of the standard tree).
    single = keccak(encode(LEAF_TYPES, values[last]))
    assert c.call("DatasetRegistry", "verifyLeaf", tree.root, single, proof) is False
    # An extra sibling, a flipped bit in a sibling, and a dropped sibling all fail.
    assert c.call("DatasetRegistry", "verifyLeaf", tree.root, leaf, [*proof, h("extra")]) is False
    if proof:
        flipped = bytes([proof[0][0] ^ 1]) + proof[0][1:]
        assert (
            c.call("DatasetRegistry", "verifyLeaf", tree.root, leaf, [flipped, *proof[1:]]) is False
        )
        assert c.call("DatasetRegistry", "verifyLeaf", tree.root, leaf, proof[:-1]) is False
    # A proof valid for one anchored root does not verify against another anchored root.
    other = StandardTree(leaf_values(count, "other"), LEAF_TYPES)
    anchor(c, DS_A, other.root, leaf_count=count)
    assert c.call("DatasetRegistry", "verifyLeaf", other.root, leaf, proof) is False
    assert c.call("DatasetRegistry", "verifyLeaf", tree.root, leaf, proof) is True


def test_verify_leaf_on_revoked_version_still_checks_the_proof(consortium: Consortium) -> None:
    """verifyLeaf answers for any anchored root, revoked or not (revocation is on record)."""
    c = consortium
    tree = StandardTree(leaf_values(4), LEAF_TYPES)
    register(c, DS_A, "A")
    anchor(c, DS_A, tree.root, leaf_count=4)
    c.transact("DatasetRegistry", "revokeVersion", tree.root, ZERO32, sender=c.ops["A"])
    assert c.call("DatasetRegistry", "verifyLeaf", tree.root, tree.leaf(2), tree.proof(2)) is True


def test_verify_leaf_unknown_root_reverts(consortium: Consortium) -> None:
    c = consortium
    tree = StandardTree(leaf_values(3), LEAF_TYPES)
    with reverts("DatasetRegistryUnknownRoot", root=tree.root):
        c.call("DatasetRegistry", "verifyLeaf", tree.root, tree.leaf(0), tree.proof(0))


def test_standard_tree_matches_openzeppelin_js() -> None:
    """Roots and proofs of the local helper equal ``StandardMerkleTree.of`` in JavaScript."""
    values = leaf_values(5)
    js_values = [["0x" + v[0].hex(), v[1]] for v in values]
    script = (
        "const { StandardMerkleTree } = require('@openzeppelin/merkle-tree');"
        "const [values, types] = JSON.parse(process.argv[1]);"
        "const tree = StandardMerkleTree.of(values, types);"
        "console.log(JSON.stringify({root: tree.root,"
        " proofs: values.map((_, i) => tree.getProof(i))}));"
    )
    result = subprocess.run(
        ["node", "-e", script, json.dumps([js_values, LEAF_TYPES])],
        cwd=HARDHAT_DIR,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    expected = json.loads(result.stdout)
    tree = StandardTree(values, LEAF_TYPES)
    assert "0x" + tree.root.hex() == expected["root"]
    assert [["0x" + p.hex() for p in tree.proof(i)] for i in range(5)] == expected["proofs"]

"""DatasetRegistry: dataset registration (ids derived from the owner department and the catalogue
code), version anchoring keyed by (dataset, root) with lineage by version id, revocation, record
erasure, views, on-chain Merkle proof checks against OpenZeppelin standard trees, and the
squatting attacks a hostile member could try; on both engines."""

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
from ledger.ids import code_hash, erasure_id, version_id
from ledger.merkle import ERASED_LEAF_TYPES, RECORD_LEAF_TYPES
from ledger.paths import HARDHAT_DIR
from tests.support import Consortium, dataset_of, reverts

ZERO32 = b"\x00" * 32
ZERO_ADDRESS = "0x" + "00" * 20
SUSPEND = ProposalKind.SUSPEND
SUSPENDED = DepartmentStatus.SUSPENDED
LEAF_TYPES = ["bytes32", "string"]

CODE_A = "TEST-DS-A-001"
CODE_A2 = "TEST-DS-A-002"
CODE_B = "TEST-DS-B-001"
DS_A = dataset_of("A", CODE_A)
DS_A2 = dataset_of("A", CODE_A2)
DS_B = dataset_of("B", CODE_B)
# Department B's dataset registered under A's catalogue code (the squatter's try).
DS_B_WITH_CODE_A = dataset_of("B", CODE_A)


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


def record_tree(count: int, label: str = "record") -> StandardTree:
    """A version of ``count`` record leaves: (canonical JSON SHA-256 stand-in, salt) values."""
    values = [[h(f"{label}-{i}-json"), h(f"{label}-{i}-salt")] for i in range(count)]
    return StandardTree(values, RECORD_LEAF_TYPES)


def erased_tree(records: StandardTree, indices: Sequence[int]) -> StandardTree:
    """The tree of an erasure: one ``(bytes32)`` leaf per erased record, its leaf hash in the
    version's tree (what ``eraseRecords`` takes as ``erasedRoot``)."""
    return StandardTree([[records.leaf(i)] for i in indices], ERASED_LEAF_TYPES)


# ------------------------------------------------------------------ chain helpers


def register(
    c: Consortium,
    code: str,
    who: str = "A",
    metadata: bytes = ZERO32,
    *,
    sender: LocalAccount | None = None,
) -> bytes:
    """Register dataset ``code`` as department ``who`` (its first operator, or ``sender``);
    returns the dataset id the chain gave it (from its ``DatasetRegistered`` event)."""
    tx = c.transact(
        "DatasetRegistry",
        "registerDataset",
        code_hash(code),
        metadata,
        sender=sender or c.ops[who],
    )
    return bytes(tx.event("DatasetRegistered")["datasetId"])


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
    """Anchor ``root`` in ``dataset``; ``parents`` are version ids (:func:`version_id`)."""
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


def revoke(
    c: Consortium, dataset: bytes, root: bytes, reason: bytes = ZERO32, *, who: str = "A"
) -> Any:
    return c.transact("DatasetRegistry", "revokeVersion", dataset, root, reason, sender=c.ops[who])


def erase(
    c: Consortium,
    dataset: bytes,
    root: bytes,
    erased_root: bytes,
    count: int,
    reason: bytes = ZERO32,
    *,
    who: str = "A",
    sender: LocalAccount | None = None,
) -> Any:
    return c.transact(
        "DatasetRegistry",
        "eraseRecords",
        dataset,
        root,
        erased_root,
        count,
        reason,
        sender=sender or c.ops[who],
    )


def erasure(c: Consortium, dataset: bytes, root: bytes, erased_root: bytes) -> tuple[int, int, int]:
    """``erasure(dataset, root, erasedRoot)``: (count, erasedAt, blockNumber)."""
    return tuple(c.call("DatasetRegistry", "erasure", dataset, root, erased_root))  # type: ignore[return-value]


def erased_count(c: Consortium, dataset: bytes, root: bytes) -> Any:
    return c.call("DatasetRegistry", "erasedCount", dataset, root)


def version(c: Consortium, dataset: bytes, root: bytes) -> tuple[int, int, int, int]:
    """``version(dataset, root)``: (leafCount, anchoredAt, blockNumber, revokedAt)."""
    return tuple(c.call("DatasetRegistry", "version", dataset, root))  # type: ignore[return-value]


def is_anchored(c: Consortium, dataset: bytes, root: bytes) -> Any:
    return c.call("DatasetRegistry", "isAnchored", dataset, root)


def verify_leaf(
    c: Consortium, dataset: bytes, root: bytes, leaf: bytes, proof: Sequence[bytes]
) -> Any:
    return c.call("DatasetRegistry", "verifyLeaf", dataset, root, leaf, list(proof))


def dataset_of_hash(owner: bytes, code_digest: bytes) -> bytes:
    """The dataset id of department ``owner`` for a raw code hash: keccak256(abi.encode(owner,
    codeHash)), two words concatenated."""
    return keccak(owner + code_digest)


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


def anchored_event(tx: Any) -> dict[str, Any]:
    event = dict(tx.event("VersionAnchored"))
    event["parents"] = list(event["parents"])
    return event


# ================================================================== registerDataset


def test_register_dataset_records_owner_code_time_and_event(consortium: Consortium) -> None:
    c = consortium
    metadata = h("catalogue entry A-001")
    tx = c.transact(
        "DatasetRegistry", "registerDataset", code_hash(CODE_A), metadata, sender=c.ops["A"]
    )
    assert tx.events == [
        (
            "DatasetRegistered",
            {
                "datasetId": DS_A,
                "ownerDepartment": c.ids["A"],
                "codeHash": code_hash(CODE_A),
                "metadataHash": metadata,
            },
        )
    ]
    owner, registered_at = c.call("DatasetRegistry", "dataset", DS_A)
    assert owner == c.ids["A"]
    assert registered_at == block_timestamp(c, tx)
    assert c.call("DatasetRegistry", "ownerOf", DS_A) == c.ids["A"]


def test_register_dataset_returns_the_id_derived_from_owner_and_code(
    consortium: Consortium,
) -> None:
    c = consortium
    registry = c.client.contract("DatasetRegistry")
    for who in ("A", "B"):
        returned = registry.functions.registerDataset(code_hash(CODE_A), ZERO32).call(
            {"from": c.ops[who].address}
        )
        assert returned == dataset_of(who, CODE_A)
        assert returned == c.call(
            "DatasetRegistry", "computeDatasetId", c.ids[who], code_hash(CODE_A)
        )
    # The call was a simulation: nothing is registered.
    assert c.call("DatasetRegistry", "ownerOf", DS_A) == ZERO32


def test_register_dataset_with_zero_metadata_and_by_other_departments(
    consortium: Consortium,
) -> None:
    c = consortium
    assert register(c, CODE_A, "A") == DS_A
    tx = c.transact(
        "DatasetRegistry", "registerDataset", code_hash(CODE_B), ZERO32, sender=c.ops["B"]
    )
    assert tx.event("DatasetRegistered")["metadataHash"] == ZERO32
    assert tx.event("DatasetRegistered")["datasetId"] == DS_B
    assert c.call("DatasetRegistry", "ownerOf", DS_A) == c.ids["A"]
    assert c.call("DatasetRegistry", "ownerOf", DS_B) == c.ids["B"]


def test_register_several_datasets_of_one_department(consortium: Consortium) -> None:
    c = consortium
    assert (register(c, CODE_A), register(c, CODE_A2)) == (DS_A, DS_A2)
    assert DS_A != DS_A2
    assert c.call("DatasetRegistry", "ownerOf", DS_A2) == c.ids["A"]


def test_register_dataset_by_second_operator_belongs_to_the_department(
    consortium: Consortium,
) -> None:
    c = consortium
    second = c.spare(5)
    c.enrol(c.ops["A"], second)
    tx = c.transact("DatasetRegistry", "registerDataset", code_hash(CODE_A), ZERO32, sender=second)
    # The id derives from the department, not the account: the same as the first operator's.
    assert tx.event("DatasetRegistered")["datasetId"] == DS_A
    assert tx.event("DatasetRegistered")["ownerDepartment"] == c.ids["A"]
    # The first operator may anchor it: ownership is the department's, not the account's.
    anchor(c, DS_A, h("root-1"), who="A")
    assert is_anchored(c, DS_A, h("root-1")) is True


def test_register_dataset_by_non_operator_reverts(consortium: Consortium) -> None:
    c = consortium
    outsider = c.spare(6)
    with reverts("DepartmentRegistryNotOperator", account=outsider.address):
        register(c, CODE_A, sender=outsider)
    with reverts("DepartmentRegistryNotOperator", account=c.auditor.address):
        register(c, CODE_A, sender=c.auditor)
    assert c.call("DatasetRegistry", "ownerOf", DS_A) == ZERO32


def test_register_dataset_by_removed_operator_reverts(consortium: Consortium) -> None:
    c = consortium
    second = c.spare(7)
    c.enrol(c.ops["A"], second)
    c.transact("DepartmentRegistry", "removeOperator", second.address, sender=c.ops["A"])
    with reverts("DepartmentRegistryNotOperator", account=second.address):
        register(c, CODE_A, sender=second)
    assert c.call("DatasetRegistry", "ownerOf", DS_A) == ZERO32


def test_register_dataset_by_suspended_department_reverts(consortium: Consortium) -> None:
    c = consortium
    suspend(c, "C")
    with reverts(
        "DepartmentRegistryDepartmentNotActive", departmentId=c.ids["C"], status=SUSPENDED
    ):
        register(c, CODE_A, "C")
    assert c.call("DatasetRegistry", "ownerOf", dataset_of("C", CODE_A)) == ZERO32


def test_register_zero_code_hash_reverts(consortium: Consortium) -> None:
    c = consortium
    with reverts("DatasetRegistryZeroCode"):
        c.transact("DatasetRegistry", "registerDataset", ZERO32, h("meta"), sender=c.ops["A"])
    assert c.call("DatasetRegistry", "ownerOf", dataset_of_hash(c.ids["A"], ZERO32)) == ZERO32


@pytest.mark.parametrize("second", ["first operator", "second operator"])
def test_register_existing_dataset_reverts(consortium: Consortium, second: str) -> None:
    """The same department registering the same code again (by any of its operators)."""
    c = consortium
    register(c, CODE_A, "A", h("metadata"))
    sender = c.ops["A"]
    if second == "second operator":
        sender = c.spare(5)
        c.enrol(c.ops["A"], sender)
    with reverts("DatasetRegistryDatasetExists", datasetId=DS_A, ownerDepartment=c.ids["A"]):
        register(c, CODE_A, "A", h("other metadata"), sender=sender)
    assert c.call("DatasetRegistry", "ownerOf", DS_A) == c.ids["A"]


# ================================================================== squatting on codes


def test_squatter_cannot_take_another_departments_dataset_code(consortium: Consortium) -> None:
    """B registers A's catalogue code before A does: B gets a dataset of its own, and A's
    registration of its code still succeeds, with A's id. (Before, the id was the code's hash
    alone, so B's registration took it and A's reverted with DatasetExists.)"""
    c = consortium
    squatted = register(c, CODE_A, "B")
    victims = register(c, CODE_A, "A")
    assert squatted == DS_B_WITH_CODE_A
    assert victims == DS_A
    assert squatted != victims
    assert c.call("DatasetRegistry", "ownerOf", DS_A) == c.ids["A"]
    assert c.call("DatasetRegistry", "ownerOf", DS_B_WITH_CODE_A) == c.ids["B"]
    assert c.call("DatasetRegistry", "dataset", DS_A)[0] == c.ids["A"]
    # A owns and anchors its dataset; B cannot anchor into it.
    anchor(c, DS_A, h("a-v1"), who="A")
    with reverts("DatasetRegistryNotDatasetOwner", datasetId=DS_A, departmentId=c.ids["B"]):
        anchor(c, DS_A, h("b-v1"), who="B")


def test_squatter_cannot_register_the_victims_dataset_id_as_a_code(
    consortium: Consortium,
) -> None:
    """Passing A's dataset id as a code hash gives B yet another id of its own."""
    c = consortium
    register(c, CODE_A, "A")
    tx = c.transact("DatasetRegistry", "registerDataset", DS_A, ZERO32, sender=c.ops["B"])
    assert tx.event("DatasetRegistered")["datasetId"] == dataset_of_hash(c.ids["B"], DS_A)
    assert tx.event("DatasetRegistered")["datasetId"] != DS_A
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
    register(c, CODE_A)
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
    assert version(c, DS_A, root) == (1234, block_timestamp(c, tx), tx.block_number, 0)
    assert is_anchored(c, DS_A, root) is True
    assert is_anchored(c, DS_A, h("root-v2")) is False
    # The version belongs to its dataset only.
    register(c, CODE_A2)
    assert is_anchored(c, DS_A2, root) is False


def test_anchor_later_version_records_its_own_block_and_time(consortium: Consortium) -> None:
    c = consortium
    register(c, CODE_A)
    first = anchor(c, DS_A, h("root-v1"))
    c.advance(3600)
    second = anchor(c, DS_A, h("root-v2"), leaf_count=1, parents=[version_id(DS_A, h("root-v1"))])
    v1 = version(c, DS_A, h("root-v1"))
    v2 = version(c, DS_A, h("root-v2"))
    assert second.block_number > first.block_number
    assert (v2[2], v2[1]) == (second.block_number, block_timestamp(c, second))
    assert v2[1] >= v1[1] + 3600
    assert (v1[0], v2[0]) == (10, 1)


def test_anchor_with_parents_emits_lineage_by_version_id(consortium: Consortium) -> None:
    c = consortium
    register(c, CODE_A)
    roots = [h(f"parent-{i}") for i in range(3)]
    for root in roots:
        anchor(c, DS_A, root)
    parents = [version_id(DS_A, roots[i]) for i in (2, 0, 1)]
    assert parents[0] == c.call("DatasetRegistry", "computeVersionId", DS_A, roots[2])
    child = h("child")
    tx = anchor(c, DS_A, child, metadata=h("merge"), parents=parents)
    event = anchored_event(tx)
    assert event["parents"] == parents
    assert event["metadataHash"] == h("merge")
    assert is_anchored(c, DS_A, child) is True


def test_anchor_with_max_parents(consortium: Consortium) -> None:
    c = consortium
    register(c, CODE_A)
    roots = [h(f"parent-{i}") for i in range(8)]
    for root in roots:
        anchor(c, DS_A, root)
    parents = [version_id(DS_A, root) for root in roots]
    tx = anchor(c, DS_A, h("child"), parents=parents)
    assert anchored_event(tx)["parents"] == parents


def test_anchor_lineage_across_datasets_and_departments(consortium: Consortium) -> None:
    c = consortium
    register(c, CODE_A, "A")
    register(c, CODE_A2, "A")
    register(c, CODE_B, "B")
    anchor(c, DS_A, h("a-v1"), who="A")
    # Another dataset of the same department.
    a2 = anchor(c, DS_A2, h("a2-v1"), who="A", parents=[version_id(DS_A, h("a-v1"))])
    assert anchored_event(a2)["parents"] == [version_id(DS_A, h("a-v1"))]
    # Another department's dataset, with parents in two datasets of A.
    parents = [version_id(DS_A, h("a-v1")), version_id(DS_A2, h("a2-v1"))]
    tx = anchor(c, DS_B, h("b-v1"), who="B", parents=parents)
    event = anchored_event(tx)
    assert (event["datasetId"], event["departmentId"]) == (DS_B, c.ids["B"])
    assert event["parents"] == parents
    assert is_anchored(c, DS_B, h("b-v1")) is True


def test_anchor_parent_names_one_datasets_version_not_every_version_of_its_root(
    consortium: Consortium,
) -> None:
    """A parent is a version id: the same root anchored in another dataset is another version,
    and a bare root is no version id at all."""
    c = consortium
    register(c, CODE_A, "A")
    register(c, CODE_B, "B")
    anchor(c, DS_B, h("shared"), who="B")
    with reverts("DatasetRegistryUnknownParent", parentVersionId=version_id(DS_A, h("shared"))):
        anchor(c, DS_A, h("child"), parents=[version_id(DS_A, h("shared"))])
    with reverts("DatasetRegistryUnknownParent", parentVersionId=h("shared")):
        anchor(c, DS_A, h("child"), parents=[h("shared")])
    tx = anchor(c, DS_A, h("child"), parents=[version_id(DS_B, h("shared"))])
    assert anchored_event(tx)["parents"] == [version_id(DS_B, h("shared"))]


def test_anchor_revoked_parent_is_allowed(consortium: Consortium) -> None:
    """A revoked version stays on record, so later versions may still name it as a parent."""
    c = consortium
    register(c, CODE_A)
    anchor(c, DS_A, h("v1"))
    revoke(c, DS_A, h("v1"), h("reason"))
    tx = anchor(c, DS_A, h("v2"), parents=[version_id(DS_A, h("v1"))])
    assert anchored_event(tx)["parents"] == [version_id(DS_A, h("v1"))]


def test_same_root_in_two_datasets_of_one_department(consortium: Consortium) -> None:
    c = consortium
    register(c, CODE_A)
    register(c, CODE_A2)
    first = anchor(c, DS_A, h("root"), leaf_count=3)
    second = anchor(c, DS_A2, h("root"), leaf_count=3)
    assert anchored_event(first)["datasetId"] == DS_A
    assert anchored_event(second)["datasetId"] == DS_A2
    assert version(c, DS_A, h("root"))[2] == first.block_number
    assert version(c, DS_A2, h("root"))[2] == second.block_number


def test_anchor_by_non_operator_reverts(consortium: Consortium) -> None:
    c = consortium
    register(c, CODE_A)
    outsider = c.spare(8)
    with reverts("DepartmentRegistryNotOperator", account=outsider.address):
        anchor(c, DS_A, h("root"), sender=outsider)
    assert is_anchored(c, DS_A, h("root")) is False


def test_anchor_by_suspended_department_reverts(consortium: Consortium) -> None:
    c = consortium
    register(c, CODE_A)
    suspend(c, "A")
    with reverts(
        "DepartmentRegistryDepartmentNotActive", departmentId=c.ids["A"], status=SUSPENDED
    ):
        anchor(c, DS_A, h("root"))
    assert is_anchored(c, DS_A, h("root")) is False


def test_anchor_unknown_dataset_reverts(consortium: Consortium) -> None:
    c = consortium
    with reverts("DatasetRegistryUnknownDataset", datasetId=DS_A):
        anchor(c, DS_A, h("root"))
    # An id derived from the code alone (the old scheme) is no dataset either.
    register(c, CODE_A)
    with reverts("DatasetRegistryUnknownDataset", datasetId=code_hash(CODE_A)):
        anchor(c, code_hash(CODE_A), h("root"))


def test_anchor_zero_root_reverts(consortium: Consortium) -> None:
    c = consortium
    register(c, CODE_A)
    with reverts("DatasetRegistryZeroRoot"):
        anchor(c, DS_A, ZERO32)
    assert is_anchored(c, DS_A, ZERO32) is False


def test_anchor_zero_leaf_count_reverts(consortium: Consortium) -> None:
    c = consortium
    register(c, CODE_A)
    with reverts("DatasetRegistryEmptyVersion", root=h("root")):
        anchor(c, DS_A, h("root"), leaf_count=0)
    assert is_anchored(c, DS_A, h("root")) is False


@pytest.mark.parametrize("again_by", ["first operator", "second operator"])
def test_anchor_same_root_twice_in_one_dataset_reverts(
    consortium: Consortium, again_by: str
) -> None:
    """Twice in the same dataset, also by another operator (gateway) of the same department."""
    c = consortium
    register(c, CODE_A)
    first = anchor(c, DS_A, h("root"))
    sender = c.ops["A"]
    if again_by == "second operator":
        sender = c.spare(5)
        c.enrol(c.ops["A"], sender)
    with reverts("DatasetRegistryVersionExists", datasetId=DS_A, root=h("root")):
        anchor(c, DS_A, h("root"), leaf_count=99, sender=sender)
    assert version(c, DS_A, h("root"))[0] == 10
    assert version(c, DS_A, h("root"))[2] == first.block_number


def test_anchor_nine_parents_reverts(consortium: Consortium) -> None:
    c = consortium
    register(c, CODE_A)
    roots = [h(f"parent-{i}") for i in range(9)]
    for root in roots:
        anchor(c, DS_A, root)
    with reverts("DatasetRegistryTooManyParents", count=9, max=8):
        anchor(c, DS_A, h("child"), parents=[version_id(DS_A, root) for root in roots])
    assert is_anchored(c, DS_A, h("child")) is False


def test_anchor_unknown_parent_reverts(consortium: Consortium) -> None:
    c = consortium
    register(c, CODE_A)
    anchor(c, DS_A, h("known"))
    known, unknown = version_id(DS_A, h("known")), version_id(DS_A, h("unknown"))
    with reverts("DatasetRegistryUnknownParent", parentVersionId=unknown):
        anchor(c, DS_A, h("child"), parents=[known, unknown])
    with reverts("DatasetRegistryUnknownParent", parentVersionId=ZERO32):
        anchor(c, DS_A, h("child"), parents=[ZERO32])
    assert is_anchored(c, DS_A, h("child")) is False


def test_anchor_self_as_parent_reverts(consortium: Consortium) -> None:
    c = consortium
    register(c, CODE_A)
    itself = version_id(DS_A, h("child"))
    with reverts("DatasetRegistryUnknownParent", parentVersionId=itself):
        anchor(c, DS_A, h("child"), parents=[itself])
    assert is_anchored(c, DS_A, h("child")) is False


def test_anchor_duplicate_parent_reverts(consortium: Consortium) -> None:
    c = consortium
    register(c, CODE_A)
    anchor(c, DS_A, h("p1"))
    anchor(c, DS_A, h("p2"))
    p1, p2 = version_id(DS_A, h("p1")), version_id(DS_A, h("p2"))
    with reverts("DatasetRegistryDuplicateParent", parentVersionId=p1):
        anchor(c, DS_A, h("child"), parents=[p1, p2, p1])
    assert is_anchored(c, DS_A, h("child")) is False


# ================================================================== squatting on versions


def test_squatter_anchoring_the_victims_root_first_does_not_block_the_victim(
    consortium: Consortium,
) -> None:
    """B learns the root A is about to anchor and anchors it first, in a dataset of B's: A's
    anchor of that root in A's dataset still succeeds. (Before, a root could be anchored once
    in the whole registry, so A's anchor reverted with RootAlreadyAnchored.)"""
    c = consortium
    victims = register(c, CODE_A, "A")
    squatters = register(c, CODE_B, "B")
    root = h("A's release, seen early by B")
    squat = anchor(c, squatters, root, who="B", leaf_count=1)
    anchored = anchor(c, victims, root, who="A", leaf_count=42)
    assert (victims, squatters) == (DS_A, DS_B)
    assert anchored_event(anchored)["departmentId"] == c.ids["A"]
    assert anchored_event(anchored)["datasetId"] == DS_A
    assert anchored_event(squat)["departmentId"] == c.ids["B"]
    assert anchored_event(squat)["datasetId"] == DS_B
    # A's version is A's own: its leaf count, block and time, untouched by B's.
    assert version(c, DS_A, root) == (42, block_timestamp(c, anchored), anchored.block_number, 0)
    assert version(c, DS_B, root) == (1, block_timestamp(c, squat), squat.block_number, 0)
    # A builds on its own version, which is not B's.
    assert version_id(DS_A, root) != version_id(DS_B, root)
    anchor(c, DS_A, h("A's next release"), parents=[version_id(DS_A, root)])


def test_squatter_cannot_anchor_into_another_departments_dataset(
    consortium: Consortium,
) -> None:
    """B anchors into A's dataset: refused, and A's own anchor of that root later succeeds."""
    c = consortium
    register(c, CODE_A, "A")
    register(c, CODE_B, "B")
    root = h("A's release")
    with reverts("DatasetRegistryNotDatasetOwner", datasetId=DS_A, departmentId=c.ids["B"]):
        anchor(c, DS_A, root, who="B")
    assert is_anchored(c, DS_A, root) is False
    # Also when A already holds versions there, and with a parent of A's.
    anchor(c, DS_A, h("A's first release"))
    with reverts("DatasetRegistryNotDatasetOwner", datasetId=DS_A, departmentId=c.ids["B"]):
        anchor(c, DS_A, root, who="B", parents=[version_id(DS_A, h("A's first release"))])
    tx = anchor(c, DS_A, root, who="A")
    assert anchored_event(tx)["departmentId"] == c.ids["A"]


def test_squatter_cannot_revoke_another_departments_version(consortium: Consortium) -> None:
    c = consortium
    register(c, CODE_A, "A")
    register(c, CODE_B, "B")
    anchor(c, DS_A, h("root"))
    anchor(c, DS_B, h("root"), who="B")
    with reverts("DatasetRegistryNotDatasetOwner", datasetId=DS_A, departmentId=c.ids["B"]):
        revoke(c, DS_A, h("root"), who="B")
    assert version(c, DS_A, h("root"))[3] == 0
    # B revoking the same content in its own dataset leaves A's version alone.
    revoke(c, DS_B, h("root"), who="B")
    assert version(c, DS_B, h("root"))[3] != 0
    assert version(c, DS_A, h("root"))[3] == 0


def test_same_content_anchored_by_two_departments_is_two_versions_each_attributed_to_its_anchorer(
    consortium: Consortium,
) -> None:
    """A anchors a tree, B anchors the same tree in its own dataset: two versions, each event
    naming its own department, each proof checked against its own version. (Before, B's
    anchor reverted with RootAlreadyAnchored and the root was attributed to A alone.)"""
    c = consortium
    tree = StandardTree(leaf_values(3), LEAF_TYPES)
    a, b = register(c, CODE_A, "A"), register(c, CODE_B, "B")
    by_a = anchor(c, a, tree.root, who="A", leaf_count=3, metadata=h("A's description"))
    by_b = anchor(c, b, tree.root, who="B", leaf_count=3, metadata=h("B's description"))
    assert anchored_event(by_a) == {
        "datasetId": DS_A,
        "root": tree.root,
        "departmentId": c.ids["A"],
        "leafCount": 3,
        "metadataHash": h("A's description"),
        "parents": [],
    }
    assert anchored_event(by_b) == {
        "datasetId": DS_B,
        "root": tree.root,
        "departmentId": c.ids["B"],
        "leafCount": 3,
        "metadataHash": h("B's description"),
        "parents": [],
    }
    assert version_id(DS_A, tree.root) != version_id(DS_B, tree.root)
    assert version(c, DS_A, tree.root) == (3, block_timestamp(c, by_a), by_a.block_number, 0)
    assert version(c, DS_B, tree.root) == (3, block_timestamp(c, by_b), by_b.block_number, 0)
    assert c.call("DatasetRegistry", "ownerOf", DS_A) == c.ids["A"]
    assert c.call("DatasetRegistry", "ownerOf", DS_B) == c.ids["B"]
    for ds in (DS_A, DS_B):
        assert (
            c.call("DatasetRegistry", "verifyLeaf", ds, tree.root, tree.leaf(1), tree.proof(1))
            is True
        )
    # Each department builds on its own version.
    anchor(c, DS_A, h("a-v2"), who="A", parents=[version_id(DS_A, tree.root)])
    anchor(c, DS_B, h("b-v2"), who="B", parents=[version_id(DS_B, tree.root)])


# ================================================================== revokeVersion


def test_revoke_version_records_time_and_event(consortium: Consortium) -> None:
    c = consortium
    register(c, CODE_A)
    anchor_tx = anchor(c, DS_A, h("root"), leaf_count=7)
    c.advance(60)
    tx = revoke(c, DS_A, h("root"), h("published in error"))
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
    assert version(c, DS_A, h("root")) == (
        7,
        block_timestamp(c, anchor_tx),
        anchor_tx.block_number,
        revoked_at,
    )
    assert revoked_at >= block_timestamp(c, anchor_tx) + 60
    # Revoked versions stay on record.
    assert is_anchored(c, DS_A, h("root")) is True


def test_revoke_one_version_leaves_the_same_root_in_another_dataset(
    consortium: Consortium,
) -> None:
    c = consortium
    register(c, CODE_A)
    register(c, CODE_A2)
    anchor(c, DS_A, h("root"))
    anchor(c, DS_A2, h("root"))
    revoke(c, DS_A, h("root"))
    assert version(c, DS_A, h("root"))[3] != 0
    assert version(c, DS_A2, h("root"))[3] == 0


def test_revoke_twice_reverts_with_first_revocation_time(consortium: Consortium) -> None:
    c = consortium
    register(c, CODE_A)
    anchor(c, DS_A, h("root"))
    revoked_at = block_timestamp(c, revoke(c, DS_A, h("root")))
    c.advance(10)
    with reverts(
        "DatasetRegistryVersionRevoked", datasetId=DS_A, root=h("root"), revokedAt=revoked_at
    ):
        revoke(c, DS_A, h("root"), h("again"))
    assert version(c, DS_A, h("root"))[3] == revoked_at


def test_revoke_unknown_version_reverts(consortium: Consortium) -> None:
    c = consortium
    # Neither dataset nor version.
    with reverts("DatasetRegistryUnknownVersion", datasetId=DS_A, root=h("nothing")):
        revoke(c, DS_A, h("nothing"))
    # The dataset exists, the root is anchored in another dataset only.
    register(c, CODE_A)
    register(c, CODE_B, "B")
    anchor(c, DS_B, h("root"), who="B")
    with reverts("DatasetRegistryUnknownVersion", datasetId=DS_A, root=h("root")):
        revoke(c, DS_A, h("root"))
    assert version(c, DS_B, h("root"))[3] == 0


def test_revoke_by_non_operator_reverts(consortium: Consortium) -> None:
    c = consortium
    register(c, CODE_A)
    anchor(c, DS_A, h("root"))
    outsider = c.spare(9)
    with reverts("DepartmentRegistryNotOperator", account=outsider.address):
        c.transact("DatasetRegistry", "revokeVersion", DS_A, h("root"), ZERO32, sender=outsider)
    assert version(c, DS_A, h("root"))[3] == 0


def test_revoke_by_suspended_department_reverts(consortium: Consortium) -> None:
    c = consortium
    register(c, CODE_A)
    anchor(c, DS_A, h("root"))
    suspend(c, "A")
    with reverts(
        "DepartmentRegistryDepartmentNotActive", departmentId=c.ids["A"], status=SUSPENDED
    ):
        revoke(c, DS_A, h("root"))
    assert version(c, DS_A, h("root"))[3] == 0


# ================================================================== eraseRecords


def test_erase_records_records_count_time_block_and_event(consortium: Consortium) -> None:
    c = consortium
    records = record_tree(5)
    register(c, CODE_A)
    anchor_tx = anchor(c, DS_A, records.root, leaf_count=5)
    c.advance(60)
    erased = erased_tree(records, [1, 3])
    tx = erase(c, DS_A, records.root, erased.root, 2, h("data subject request 2026-001"))
    assert tx.events == [
        (
            "RecordsErased",
            {
                "datasetId": DS_A,
                "root": records.root,
                "departmentId": c.ids["A"],
                "erasedRoot": erased.root,
                "count": 2,
                "reasonHash": h("data subject request 2026-001"),
            },
        )
    ]
    erased_at = block_timestamp(c, tx)
    assert erasure(c, DS_A, records.root, erased.root) == (2, erased_at, tx.block_number)
    assert erased_at >= block_timestamp(c, anchor_tx) + 60
    assert erased_count(c, DS_A, records.root) == 2
    # The version itself is untouched: neither revoked nor changed.
    assert version(c, DS_A, records.root) == (
        5,
        block_timestamp(c, anchor_tx),
        anchor_tx.block_number,
        0,
    )
    # Each erased record's leaf hash, as a (bytes32) leaf, proves against the erased root with
    # OpenZeppelin MerkleProof semantics; a record that was not erased does not.
    for position, index in enumerate((1, 3)):
        assert erased.leaf(position) == leaf_hash(ERASED_LEAF_TYPES, [records.leaf(index)])
        assert process_proof(erased.leaf(position), erased.proof(position)) == erased.root
    kept = leaf_hash(ERASED_LEAF_TYPES, [records.leaf(0)])
    assert process_proof(kept, erased.proof(0)) != erased.root
    # The rest of the version stays provable on chain. The chain names no record, so it
    # cannot refuse an erased one either: a verifier reads the erasures itself.
    assert verify_leaf(c, DS_A, records.root, records.leaf(0), records.proof(0)) is True
    assert verify_leaf(c, DS_A, records.root, records.leaf(1), records.proof(1)) is True


def test_erased_count_accumulates_over_erasures(consortium: Consortium) -> None:
    c = consortium
    records = record_tree(6)
    register(c, CODE_A)
    anchor(c, DS_A, records.root, leaf_count=6)
    first, second = erased_tree(records, [0, 1]), erased_tree(records, [4])
    first_tx = erase(c, DS_A, records.root, first.root, 2, h("request 1"))
    assert erased_count(c, DS_A, records.root) == 2
    c.advance(30)
    second_tx = erase(c, DS_A, records.root, second.root, 1, h("request 2"))
    assert second_tx.events == [
        (
            "RecordsErased",
            {
                "datasetId": DS_A,
                "root": records.root,
                "departmentId": c.ids["A"],
                "erasedRoot": second.root,
                "count": 1,
                "reasonHash": h("request 2"),
            },
        )
    ]
    assert erased_count(c, DS_A, records.root) == 3
    # Each erasure keeps its own count, time and block.
    assert erasure(c, DS_A, records.root, first.root) == (
        2,
        block_timestamp(c, first_tx),
        first_tx.block_number,
    )
    assert erasure(c, DS_A, records.root, second.root) == (
        1,
        block_timestamp(c, second_tx),
        second_tx.block_number,
    )
    assert second_tx.block_number > first_tx.block_number
    # The count is per version: another version of the dataset has none.
    other = record_tree(6, "other")
    anchor(c, DS_A, other.root, leaf_count=6)
    assert erased_count(c, DS_A, other.root) == 0


def test_erase_records_of_a_revoked_version(consortium: Consortium) -> None:
    """A revoked version stays on record, and so may its records' erasure."""
    c = consortium
    records = record_tree(3)
    register(c, CODE_A)
    anchor(c, DS_A, records.root, leaf_count=3)
    revoked_at = block_timestamp(c, revoke(c, DS_A, records.root, h("published in error")))
    erased = erased_tree(records, [2])
    tx = erase(c, DS_A, records.root, erased.root, 1, h("request"))
    assert tx.event("RecordsErased")["erasedRoot"] == erased.root
    assert erasure(c, DS_A, records.root, erased.root) == (
        1,
        block_timestamp(c, tx),
        tx.block_number,
    )
    assert erased_count(c, DS_A, records.root) == 1
    assert version(c, DS_A, records.root)[3] == revoked_at


def test_erasures_may_reach_exactly_the_leaf_count(consortium: Consortium) -> None:
    c = consortium
    records = record_tree(4)
    register(c, CODE_A)
    anchor(c, DS_A, records.root, leaf_count=4)
    erase(c, DS_A, records.root, erased_tree(records, [0, 1, 2]).root, 3)
    last = erased_tree(records, [3])
    tx = erase(c, DS_A, records.root, last.root, 1)
    assert tx.event("RecordsErased")["count"] == 1
    assert erased_count(c, DS_A, records.root) == 4
    # One erasure of every record of a one-leaf version, too.
    single = record_tree(1, "single")
    anchor(c, DS_A, single.root, leaf_count=1)
    erase(c, DS_A, single.root, erased_tree(single, [0]).root, 1)
    assert erased_count(c, DS_A, single.root) == 1


def test_erase_records_of_unknown_version_reverts(consortium: Consortium) -> None:
    c = consortium
    # Neither dataset nor version.
    with reverts("DatasetRegistryUnknownVersion", datasetId=DS_A, root=h("nothing")):
        erase(c, DS_A, h("nothing"), h("erased"), 1)
    # The dataset exists, the root is anchored in another dataset only.
    register(c, CODE_A)
    register(c, CODE_B, "B")
    anchor(c, DS_B, h("root"), who="B")
    with reverts("DatasetRegistryUnknownVersion", datasetId=DS_A, root=h("root")):
        erase(c, DS_A, h("root"), h("erased"), 1)
    assert erasure(c, DS_A, h("root"), h("erased")) == (0, 0, 0)
    assert erased_count(c, DS_A, h("root")) == 0
    assert erased_count(c, DS_B, h("root")) == 0


def test_squatter_cannot_erase_records_of_another_departments_version(
    consortium: Consortium,
) -> None:
    """B, hostile, erases records of A's version (to make A's proofs look withdrawn, or to use
    up its leaf count): refused, and A's own erasure of those records later succeeds."""
    c = consortium
    records = record_tree(3)
    erased = erased_tree(records, [0])
    register(c, CODE_A, "A")
    register(c, CODE_B, "B")
    anchor(c, DS_A, records.root, leaf_count=3)
    with reverts("DatasetRegistryNotDatasetOwner", datasetId=DS_A, departmentId=c.ids["B"]):
        erase(c, DS_A, records.root, erased.root, 1, who="B")
    with reverts("DatasetRegistryNotDatasetOwner", datasetId=DS_A, departmentId=c.ids["B"]):
        erase(c, DS_A, records.root, erased_tree(records, [0, 1, 2]).root, 3, who="B")
    assert erasure(c, DS_A, records.root, erased.root) == (0, 0, 0)
    assert erased_count(c, DS_A, records.root) == 0
    # B's erasure in its own version of the same content leaves A's version alone.
    anchor(c, DS_B, records.root, who="B", leaf_count=3)
    tx = erase(c, DS_B, records.root, erased.root, 1, who="B")
    assert tx.event("RecordsErased")["departmentId"] == c.ids["B"]
    assert erased_count(c, DS_A, records.root) == 0
    tx = erase(c, DS_A, records.root, erased.root, 1)
    assert tx.event("RecordsErased")["departmentId"] == c.ids["A"]
    assert erased_count(c, DS_A, records.root) == 1


def test_erase_records_by_non_operator_reverts(consortium: Consortium) -> None:
    c = consortium
    register(c, CODE_A)
    anchor(c, DS_A, h("root"))
    outsider = c.spare(9)
    with reverts("DepartmentRegistryNotOperator", account=outsider.address):
        erase(c, DS_A, h("root"), h("erased"), 1, sender=outsider)
    with reverts("DepartmentRegistryNotOperator", account=c.auditor.address):
        erase(c, DS_A, h("root"), h("erased"), 1, sender=c.auditor)
    assert erased_count(c, DS_A, h("root")) == 0


def test_erase_records_by_suspended_department_reverts(consortium: Consortium) -> None:
    c = consortium
    register(c, CODE_A)
    anchor(c, DS_A, h("root"))
    suspend(c, "A")
    with reverts(
        "DepartmentRegistryDepartmentNotActive", departmentId=c.ids["A"], status=SUSPENDED
    ):
        erase(c, DS_A, h("root"), h("erased"), 1)
    assert erasure(c, DS_A, h("root"), h("erased")) == (0, 0, 0)
    assert erased_count(c, DS_A, h("root")) == 0


def test_erase_records_with_zero_erased_root_reverts(consortium: Consortium) -> None:
    c = consortium
    register(c, CODE_A)
    anchor(c, DS_A, h("root"))
    with reverts("DatasetRegistryZeroRoot"):
        erase(c, DS_A, h("root"), ZERO32, 1)
    assert erasure(c, DS_A, h("root"), ZERO32) == (0, 0, 0)
    assert erased_count(c, DS_A, h("root")) == 0


def test_erase_records_with_zero_count_reverts(consortium: Consortium) -> None:
    c = consortium
    records = record_tree(3)
    erased = erased_tree(records, [0])
    register(c, CODE_A)
    anchor(c, DS_A, records.root, leaf_count=3)
    with reverts("DatasetRegistryEmptyErasure", erasedRoot=erased.root):
        erase(c, DS_A, records.root, erased.root, 0)
    assert erasure(c, DS_A, records.root, erased.root) == (0, 0, 0)
    assert erased_count(c, DS_A, records.root) == 0


def test_erase_same_records_twice_reverts(consortium: Consortium) -> None:
    c = consortium
    records = record_tree(5)
    erased = erased_tree(records, [1, 2])
    register(c, CODE_A)
    anchor(c, DS_A, records.root, leaf_count=5)
    first = erase(c, DS_A, records.root, erased.root, 2, h("request"))
    recorded = (2, block_timestamp(c, first), first.block_number)
    c.advance(10)
    for count, reason in ((2, h("request")), (1, h("another request"))):
        with reverts(
            "DatasetRegistryErasureExists",
            datasetId=DS_A,
            root=records.root,
            erasedRoot=erased.root,
        ):
            erase(c, DS_A, records.root, erased.root, count, reason)
    assert erasure(c, DS_A, records.root, erased.root) == recorded
    assert erased_count(c, DS_A, records.root) == 2
    # The erasure is keyed by its version: the same erased root in another version is new.
    register(c, CODE_A2)
    anchor(c, DS_A2, records.root, leaf_count=5)
    erase(c, DS_A2, records.root, erased.root, 2)
    assert erased_count(c, DS_A2, records.root) == 2


def test_erase_more_records_than_the_version_holds_reverts(consortium: Consortium) -> None:
    c = consortium
    records = record_tree(3)
    register(c, CODE_A)
    anchor(c, DS_A, records.root, leaf_count=3)
    for count in (4, 2**64 - 1):
        with reverts(
            "DatasetRegistryTooManyErased",
            datasetId=DS_A,
            root=records.root,
            erased=count,
            leafCount=3,
        ):
            erase(c, DS_A, records.root, h(f"erased {count}"), count)
    assert erased_count(c, DS_A, records.root) == 0


def test_erasures_that_together_exceed_the_leaf_count_revert(consortium: Consortium) -> None:
    c = consortium
    records = record_tree(5)
    register(c, CODE_A)
    anchor(c, DS_A, records.root, leaf_count=5)
    erase(c, DS_A, records.root, erased_tree(records, [0, 1, 2]).root, 3)
    too_many = erased_tree(records, [2, 3, 4])
    with reverts(
        "DatasetRegistryTooManyErased", datasetId=DS_A, root=records.root, erased=6, leafCount=5
    ):
        erase(c, DS_A, records.root, too_many.root, 3)
    assert erasure(c, DS_A, records.root, too_many.root) == (0, 0, 0)
    assert erased_count(c, DS_A, records.root) == 3
    # What is left can still be erased, and then nothing more.
    erase(c, DS_A, records.root, erased_tree(records, [3, 4]).root, 2)
    assert erased_count(c, DS_A, records.root) == 5
    with reverts(
        "DatasetRegistryTooManyErased", datasetId=DS_A, root=records.root, erased=6, leafCount=5
    ):
        erase(c, DS_A, records.root, h("one more"), 1)
    assert erased_count(c, DS_A, records.root) == 5


# ================================================================== erasure views


def test_erasure_of_none_is_zeros(consortium: Consortium) -> None:
    c = consortium
    # Of no version at all: zeros, no revert.
    assert erasure(c, DS_A, h("nothing"), h("erased")) == (0, 0, 0)
    assert erased_count(c, DS_A, h("nothing")) == 0
    # Of an anchored version, for a root never erased (or another version's erasure).
    records = record_tree(3)
    erased = erased_tree(records, [0])
    register(c, CODE_A)
    register(c, CODE_A2)
    anchor(c, DS_A, records.root, leaf_count=3)
    anchor(c, DS_A2, records.root, leaf_count=3)
    assert erasure(c, DS_A, records.root, erased.root) == (0, 0, 0)
    assert erased_count(c, DS_A, records.root) == 0
    erase(c, DS_A2, records.root, erased.root, 1)
    assert erasure(c, DS_A, records.root, erased.root) == (0, 0, 0)
    assert erasure(c, DS_A2, records.root, erased.root)[0] == 1


def test_compute_erasure_id_is_per_version_and_erased_root(consortium: Consortium) -> None:
    c = consortium
    root, erased = h("root"), h("erased")
    on_chain = c.call("DatasetRegistry", "computeErasureId", DS_A, root, erased)
    assert on_chain == erasure_id(DS_A, root, erased)
    assert on_chain == keccak(version_id(DS_A, root) + erased)
    assert on_chain != c.call("DatasetRegistry", "computeErasureId", DS_B, root, erased)
    assert on_chain != c.call("DatasetRegistry", "computeErasureId", DS_A, root, h("other"))


# ================================================================== version views


def test_version_of_unknown_version_reverts(consortium: Consortium) -> None:
    c = consortium
    assert is_anchored(c, DS_A, h("nothing")) is False
    with reverts("DatasetRegistryUnknownVersion", datasetId=DS_A, root=h("nothing")):
        c.call("DatasetRegistry", "version", DS_A, h("nothing"))
    with reverts("DatasetRegistryUnknownVersion", datasetId=DS_A, root=ZERO32):
        c.call("DatasetRegistry", "version", DS_A, ZERO32)
    # A root anchored in one dataset is no version of another.
    register(c, CODE_B, "B")
    anchor(c, DS_B, h("root"), who="B")
    assert is_anchored(c, DS_A, h("root")) is False
    with reverts("DatasetRegistryUnknownVersion", datasetId=DS_A, root=h("root")):
        c.call("DatasetRegistry", "version", DS_A, h("root"))


def test_compute_version_id_is_per_dataset(consortium: Consortium) -> None:
    c = consortium
    root = h("root")
    on_chain = c.call("DatasetRegistry", "computeVersionId", DS_A, root)
    assert on_chain == version_id(DS_A, root)
    assert on_chain != c.call("DatasetRegistry", "computeVersionId", DS_B, root)


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
    register(c, CODE_A)
    anchor(c, DS_A, tree.root, leaf_count=count)
    for i in range(count):
        proof = tree.proof(i)
        assert process_proof(tree.leaf(i), proof) == tree.root
        assert verify_leaf(c, DS_A, tree.root, tree.leaf(i), proof) is True


@pytest.mark.parametrize("count", [1, 2, 3, 5])
def test_verify_leaf_rejects_tampered_leaf_and_proof(consortium: Consortium, count: int) -> None:
    c = consortium
    values = leaf_values(count)
    tree = StandardTree(values, LEAF_TYPES)
    register(c, CODE_A)
    anchor(c, DS_A, tree.root, leaf_count=count)
    last = count - 1
    leaf, proof = tree.leaf(last), tree.proof(last)
    # A changed value (other path, same content hash) gives another leaf.
    tampered_leaf = leaf_hash(LEAF_TYPES, [values[last][0], values[last][1] + ".bak"])
    assert verify_leaf(c, DS_A, tree.root, tampered_leaf, proof) is False
    # The single-keccak leaf is not the leaf (second-preimage protection of the standard tree).
    single = keccak(encode(LEAF_TYPES, values[last]))
    assert verify_leaf(c, DS_A, tree.root, single, proof) is False
    # An extra sibling, a flipped bit in a sibling, and a dropped sibling all fail.
    assert verify_leaf(c, DS_A, tree.root, leaf, [*proof, h("extra")]) is False
    if proof:
        flipped = bytes([proof[0][0] ^ 1]) + proof[0][1:]
        assert verify_leaf(c, DS_A, tree.root, leaf, [flipped, *proof[1:]]) is False
        assert verify_leaf(c, DS_A, tree.root, leaf, proof[:-1]) is False
    # A proof valid for one anchored root does not verify against another anchored root.
    other = StandardTree(leaf_values(count, "other"), LEAF_TYPES)
    anchor(c, DS_A, other.root, leaf_count=count)
    assert verify_leaf(c, DS_A, other.root, leaf, proof) is False
    assert verify_leaf(c, DS_A, tree.root, leaf, proof) is True


def test_verify_leaf_on_revoked_version_still_checks_the_proof(consortium: Consortium) -> None:
    """verifyLeaf answers for any anchored version, revoked or not (revocation is on record)."""
    c = consortium
    tree = StandardTree(leaf_values(4), LEAF_TYPES)
    register(c, CODE_A)
    anchor(c, DS_A, tree.root, leaf_count=4)
    revoke(c, DS_A, tree.root)
    assert verify_leaf(c, DS_A, tree.root, tree.leaf(2), tree.proof(2)) is True
    assert verify_leaf(c, DS_A, tree.root, h("not a leaf"), tree.proof(2)) is False


def test_verify_leaf_unknown_version_reverts(consortium: Consortium) -> None:
    c = consortium
    tree = StandardTree(leaf_values(3), LEAF_TYPES)
    with reverts("DatasetRegistryUnknownVersion", datasetId=DS_A, root=tree.root):
        verify_leaf(c, DS_A, tree.root, tree.leaf(0), tree.proof(0))
    # Anchored in B's dataset only: not a version of A's, whatever the proof.
    register(c, CODE_A)
    register(c, CODE_B, "B")
    anchor(c, DS_B, tree.root, who="B", leaf_count=3)
    assert verify_leaf(c, DS_B, tree.root, tree.leaf(0), tree.proof(0)) is True
    with reverts("DatasetRegistryUnknownVersion", datasetId=DS_A, root=tree.root):
        verify_leaf(c, DS_A, tree.root, tree.leaf(0), tree.proof(0))


def openzeppelin_js_tree(values: Sequence[Sequence[Any]], types: Sequence[str]) -> Any:
    """Root and proofs of ``StandardMerkleTree.of(values, types)`` in JavaScript (0x-hex)."""
    js_values = [["0x" + v.hex() if isinstance(v, bytes) else v for v in value] for value in values]
    script = (
        "const { StandardMerkleTree } = require('@openzeppelin/merkle-tree');"
        "const [values, types] = JSON.parse(process.argv[1]);"
        "const tree = StandardMerkleTree.of(values, types);"
        "console.log(JSON.stringify({root: tree.root,"
        " proofs: values.map((_, i) => tree.getProof(i))}));"
    )
    result = subprocess.run(
        ["node", "-e", script, json.dumps([js_values, list(types)])],
        cwd=HARDHAT_DIR,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(result.stdout)


def test_standard_tree_matches_openzeppelin_js() -> None:
    """Roots and proofs of the local helper equal ``StandardMerkleTree.of`` in JavaScript."""
    values = leaf_values(5)
    expected = openzeppelin_js_tree(values, LEAF_TYPES)
    tree = StandardTree(values, LEAF_TYPES)
    assert "0x" + tree.root.hex() == expected["root"]
    assert [["0x" + p.hex() for p in tree.proof(i)] for i in range(5)] == expected["proofs"]


def test_erased_tree_matches_openzeppelin_js() -> None:
    """An erasure's tree (one ``(bytes32)`` leaf per erased record leaf) is the standard tree
    ``StandardMerkleTree.of(values, ["bytes32"])`` builds: same root, same proofs."""
    records = record_tree(6)
    erased = erased_tree(records, [0, 2, 5])
    expected = openzeppelin_js_tree(erased.values, ERASED_LEAF_TYPES)
    assert "0x" + erased.root.hex() == expected["root"]
    assert [["0x" + p.hex() for p in erased.proof(i)] for i in range(3)] == expected["proofs"]

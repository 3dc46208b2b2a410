"""Verification answers and proof bundles, on real nodes and databases."""

from __future__ import annotations

import copy
import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from eth_utils import keccak
from sqlalchemy.engine import Engine

from ledger import hashing, merkle
from ledger.anchoring import Anchorer, prepare_path
from ledger.ids import AgreementTerms, version_id
from ledger.indexer import Indexer
from ledger.verify import (
    BUNDLE_FORMAT,
    BundleClaimError,
    BundleFormatError,
    NotAnchoredError,
    NotConfirmedError,
    RevokedVersionError,
    RootMismatchError,
    UnknownRootError,
    Verifier,
    verify_bundle,
)
from tests.support import Consortium, dataset_of

DS_CODE = "VERIFY-TEST"
DS = dataset_of("A", DS_CODE)


def vid(dataset: bytes, root: str) -> str:
    """The version id of ``root`` in ``dataset``, as answers show it."""
    return "0x" + version_id(dataset, bytes.fromhex(root[2:])).hex()


@pytest.fixture
def world(consortium: Consortium, engine: Engine, tmp_path: Path) -> dict[str, Any]:
    """A version 1 and a version 2 derived from it, shared with B under an agreement."""
    c = consortium
    a = c.ops["A"]
    c.register_dataset("A", DS_CODE, keccak(text="meta"))
    folder = tmp_path / "v1"
    folder.mkdir()
    (folder / "report.txt").write_text("2026 年度报告\n", encoding="utf-8")
    (folder / "table.csv.txt").write_text("a,b\n1,2\n", encoding="utf-8")
    anchorer = Anchorer(c.client, engine, a)
    v1 = anchorer.anchor(prepare_path(folder, DS))
    (folder / "appendix.txt").write_text("附录\n", encoding="utf-8")
    v2 = anchorer.anchor(
        prepare_path(folder, DS, parents=[version_id(DS, bytes.fromhex(v1.root[2:]))])
    )
    now = c.now()
    terms = AgreementTerms(
        c.ids["A"],
        c.ids["B"],
        (DS,),
        keccak(text="p"),
        keccak(text="l"),
        keccak(text="t"),
        now - 10,
        now + 10_000,
    )
    tx = c.transact("SharingAgreements", "propose", terms.as_tuple(), sender=a)
    agreement = bytes(tx.event("AgreementProposed")["agreementId"])
    accepted = c.transact("SharingAgreements", "accept", agreement, sender=c.ops["B"])
    # Valid from 10 s back, but in effect (and receipted) from the acceptance only.
    accepted_at = int(c.w3.eth.get_block(accepted.block_number)["timestamp"])
    c.transact(
        "SharingAgreements",
        "recordAccess",
        agreement,
        keccak(text="log"),
        3,
        accepted_at,
        accepted_at,
        sender=c.ops["B"],
    )
    Indexer(c.client, c.deployment, engine).sync()
    return {"folder": folder, "v1": v1.root, "v2": v2.root, "agreement": "0x" + agreement.hex()}


def file_bundle(
    c: Consortium, engine: Engine, path: Path, name: str, confirmations: int = 1
) -> dict[str, Any]:
    content = hashing.sha256_file(path)
    values = [content, name]
    leaf = merkle.leaf_hash(merkle.FILE_LEAF_TYPES, values)
    return Verifier(engine, c.client, confirmations=confirmations).proof_bundle(leaf, values)


def test_answer_names_publisher_lineage_and_recipients(
    consortium: Consortium, engine: Engine, world: dict[str, Any]
) -> None:
    c = consortium
    answer = Verifier(engine, c.client).verify_content_hash(
        hashing.sha256_file(world["folder"] / "report.txt")
    )
    answer.raise_for_status()
    assert answer.anchored
    assert {m.version.root for m in answer.matches} == {world["v1"], world["v2"]}
    latest = answer.matches[0]
    assert latest.version.root == world["v2"]
    assert latest.path == "report.txt"
    assert latest.version.id == vid(DS, world["v2"])
    assert latest.version.owner.name == c.names["A"]
    assert (latest.version.anchored_by.id, latest.version.anchored_by.name) == (
        "0x" + c.ids["A"].hex(),
        c.names["A"],
    )
    assert latest.version.parents == [vid(DS, world["v1"])]
    assert [v.root for v in latest.lineage] == [world["v1"]]
    [auth] = latest.authorizations
    assert auth.agreement_id == world["agreement"]
    assert auth.consumer.name == c.names["B"]
    assert [r.entry_count for r in auth.receipts] == [3]
    assert latest.version.confirmations >= 1


def test_changed_byte_is_not_anchored(
    consortium: Consortium, engine: Engine, world: dict[str, Any], tmp_path: Path
) -> None:
    tampered = tmp_path / "report.txt"
    data = bytearray((world["folder"] / "report.txt").read_bytes())
    data[0] ^= 1
    tampered.write_bytes(bytes(data))
    answer = Verifier(engine, consortium.client).verify_content_hash(hashing.sha256_file(tampered))
    assert not answer.anchored
    with pytest.raises(NotAnchoredError, match="is not anchored"):
        answer.raise_for_status()


def test_revoked_version_is_reported(
    consortium: Consortium, engine: Engine, world: dict[str, Any]
) -> None:
    c = consortium
    for root in (world["v1"], world["v2"]):
        c.transact(
            "DatasetRegistry",
            "revokeVersion",
            DS,
            bytes.fromhex(root[2:]),
            keccak(text="error"),
            sender=c.ops["A"],
        )
    Indexer(c.client, c.deployment, engine).sync()
    answer = Verifier(engine, c.client).verify_content_hash(
        hashing.sha256_file(world["folder"] / "report.txt")
    )
    assert [m.status for m in answer.matches] == ["revoked", "revoked"]
    with pytest.raises(RevokedVersionError, match="revoked"):
        answer.raise_for_status()


def test_unconfirmed_version_is_reported(
    consortium: Consortium, engine: Engine, world: dict[str, Any]
) -> None:
    answer = Verifier(engine, consortium.client, confirmations=50).verify_content_hash(
        hashing.sha256_file(world["folder"] / "report.txt")
    )
    with pytest.raises(NotConfirmedError, match="fewer than required"):
        answer.raise_for_status()


def test_bundle_verifies_against_the_node(
    consortium: Consortium, engine: Engine, world: dict[str, Any], tmp_path: Path
) -> None:
    c = consortium
    bundle = file_bundle(c, engine, world["folder"] / "appendix.txt", "appendix.txt")
    assert bundle["format"] == BUNDLE_FORMAT
    assert bundle["version_id"] == vid(DS, world["v2"])
    assert bundle["publisher"] == {"id": "0x" + c.ids["A"].hex()}
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle))
    trust = c.deployment.trust()
    check = verify_bundle(json.loads(path.read_text()), c.w3, trust=trust)
    assert check.format == BUNDLE_FORMAT and check.kind == "file"
    assert check.root == world["v2"]
    assert check.dataset_id == "0x" + DS.hex()
    assert check.version_id == vid(DS, world["v2"])
    assert check.chain_id == c.client.chain_id
    assert check.contract == c.client.address("DatasetRegistry")
    assert check.consortium == trust.fingerprint
    a = {"id": "0x" + c.ids["A"].hex(), "name": c.names["A"], "name_flags": []}
    assert check.owner == check.publisher == a
    assert (check.leaf_count, check.transaction, check.block_number, check.anchored_at) == (
        bundle["leaf_count"],
        bundle["transaction"],
        bundle["block_number"],
        bundle["anchored_at"],
    )
    assert check.unchecked == []


def mutate(bundle: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(bundle)
    target = changed
    keys = path.split(".")
    for key in keys[:-1]:
        target = target[int(key)] if key.isdigit() else target[key]
    last = keys[-1]
    if last.isdigit():
        target[int(last)] = value
    else:
        target[last] = value
    return changed


@pytest.mark.parametrize(
    ("desc", "path", "value", "error", "message"),
    [
        (
            "tampered-content-hash",
            "leaf.values.0",
            "0x" + "11" * 32,
            RootMismatchError,
            "do not hash",
        ),
        ("tampered-path", "leaf.values.1", "other.txt", RootMismatchError, "do not hash"),
        ("tampered-sibling", "proof.0", "0x" + "22" * 32, RootMismatchError, "does not lead"),
        ("other-root", "root", "0x" + "33" * 32, RootMismatchError, "does not lead"),
        ("wrong-format", "format", "something/1", BundleFormatError, "not a xietong-proof/3"),
        ("hash-not-hex", "leaf.hash", "0xZZ", BundleFormatError, "malformed"),
        ("proof-not-list", "proof", "0x00", BundleFormatError, "must be a list"),
        ("chain-id-not-int", "chain_id", "31337", BundleFormatError, "must be an integer"),
        ("contract-not-address", "contract", "0x1234", BundleFormatError, "must be an address"),
        ("publisher-not-object", "publisher", "0x" + "55" * 32, BundleFormatError, "an object"),
        ("bad-types", "leaf.types", ["bytes32"], BundleFormatError, "leaf.types"),
    ],
)
def test_bad_bundles_are_refused(
    consortium: Consortium,
    engine: Engine,
    world: dict[str, Any],
    desc: str,
    path: str,
    value: Any,
    error: type[Exception],
    message: str,
) -> None:
    bundle = file_bundle(consortium, engine, world["folder"] / "appendix.txt", "appendix.txt")
    with pytest.raises(error, match=message):
        verify_bundle(
            mutate(bundle, path, value), consortium.w3, trust=consortium.deployment.trust()
        )


#: Each claim of a bundle of version 2, replaced by what a real bundle of version 1 of the same
#: dataset claims (or by another real department, chain or contract): (claim, what is wrong).
TAMPERED_CLAIMS = [
    ("transaction", "another-anchor-transaction", "its transaction is"),
    ("block_number", "another-anchor-block", "its block number is"),
    ("anchored_at", "another-time", "its anchoring time is"),
    ("leaf_count", "another-leaf-count", "its leaf count is 2; the chain says 3"),
    ("version_id", "another-version-id", "its version id is"),
    ("publisher.id", "another-department-as-publisher", "its publisher is"),
    ("chain_id", "another-chain-id", "was made on chain"),
    ("contract", "another-contract-of-the-consortium", "names registry"),
]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize(
    ("claim", "message"),
    [pytest.param(claim, message, id=wrong) for claim, wrong, message in TAMPERED_CLAIMS],
)
def test_a_tampered_claim_is_refused(
    consortium: Consortium, engine: Engine, world: dict[str, Any], claim: str, message: str
) -> None:
    """A gateway handing out bundles changes one claim of a genuine bundle (all else intact,
    the Merkle path sound): each is compared with the chain and the bundle refused; before
    the trust file, none of them was checked and each bundle verified."""
    c = consortium
    genuine = file_bundle(c, engine, world["folder"] / "appendix.txt", "appendix.txt")
    other = Verifier(engine, c.client).proof_bundle(
        *_report_leaf(world["folder"]), root=bytes.fromhex(world["v1"][2:])
    )
    assert other["root"] == world["v1"]
    replacement = {
        "publisher.id": "0x" + c.ids["B"].hex(),
        "chain_id": genuine["chain_id"] + 1,
        "contract": c.deployment.addresses["SharingAgreements"],
        # One second off (two anchors may share a second: Anvil mines them in one).
        "anchored_at": (
            datetime.fromisoformat(genuine["anchored_at"]) + timedelta(seconds=1)
        ).isoformat(),
    }.get(claim, other.get(claim))
    tampered = mutate(genuine, claim, replacement)
    assert tampered != genuine
    trust = c.deployment.trust()
    verify_bundle(genuine, c.w3, trust=trust)  # as made, it verifies
    with pytest.raises(BundleClaimError, match=message) as refused:
        verify_bundle(tampered, c.w3, trust=trust)
    assert refused.value.kind == "bundle-claim"
    assert "\n" not in str(refused.value) and len(str(refused.value)) < 300


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_flipped_leaf_kind_is_refused(
    consortium: Consortium, engine: Engine, world: dict[str, Any]
) -> None:
    """A file leaf claimed to be a record (the kind a reader trusts to know what was proven)."""
    c = consortium
    bundle = file_bundle(c, engine, world["folder"] / "appendix.txt", "appendix.txt")
    assert bundle["leaf"]["kind"] == "file"
    with pytest.raises(BundleFormatError, match=r"`leaf\.kind` is 'record'"):
        verify_bundle(mutate(bundle, "leaf.kind", "record"), c.w3, trust=c.deployment.trust())


def _report_leaf(folder: Path) -> tuple[bytes, list[Any]]:
    """(leaf hash, values) of report.txt, in both versions of the world."""
    values: list[Any] = [hashing.sha256_file(folder / "report.txt"), "report.txt"]
    return merkle.leaf_hash(merkle.FILE_LEAF_TYPES, values), values


def test_bundle_of_another_dataset_holding_no_such_version(
    consortium: Consortium, engine: Engine, world: dict[str, Any]
) -> None:
    """The dataset changed, with a version id to match: that dataset holds no such version."""
    c = consortium
    bundle = file_bundle(c, engine, world["folder"] / "appendix.txt", "appendix.txt")
    other = dataset_of("B", DS_CODE)  # the same code, another owner: another dataset
    forged = {**bundle, "dataset_id": "0x" + other.hex(), "version_id": vid(other, world["v2"])}
    with pytest.raises(UnknownRootError, match="holds no version of root"):
        verify_bundle(forged, c.w3, trust=c.deployment.trust())


def test_bundle_for_an_unanchored_root(
    consortium: Consortium, engine: Engine, world: dict[str, Any]
) -> None:
    bundle = file_bundle(consortium, engine, world["folder"] / "appendix.txt", "appendix.txt")
    # A different, valid tree whose root was never anchored: the proof holds, the chain says no.
    tree = merkle.MerkleTree.from_leaf_hashes(
        [bytes.fromhex(bundle["leaf"]["hash"][2:]), keccak(text="x")]
    )
    forged = {
        **bundle,
        "root": "0x" + tree.root.hex(),
        "version_id": "0x" + version_id(DS, tree.root).hex(),
        "proof": ["0x" + p.hex() for p in tree.proof(bytes.fromhex(bundle["leaf"]["hash"][2:]))],
    }
    with pytest.raises(UnknownRootError, match="holds no version of root"):
        verify_bundle(forged, consortium.w3, trust=consortium.deployment.trust())


def test_bundle_of_a_revoked_version(
    consortium: Consortium, engine: Engine, world: dict[str, Any]
) -> None:
    c = consortium
    bundle = file_bundle(c, engine, world["folder"] / "appendix.txt", "appendix.txt")
    c.transact(
        "DatasetRegistry",
        "revokeVersion",
        DS,
        bytes.fromhex(world["v2"][2:]),
        keccak(text="x"),
        sender=c.ops["A"],
    )
    with pytest.raises(RevokedVersionError, match="revoked by its owner"):
        verify_bundle(bundle, c.w3, trust=c.deployment.trust())


def test_bundle_needs_confirmations(
    consortium: Consortium, engine: Engine, world: dict[str, Any]
) -> None:
    bundle = file_bundle(consortium, engine, world["folder"] / "appendix.txt", "appendix.txt")
    with pytest.raises(NotConfirmedError, match="are required"):
        verify_bundle(
            bundle, consortium.w3, trust=consortium.deployment.trust(), confirmations=1000
        )


@pytest.mark.parametrize(
    "bundle", [None, [], "x", {"format": "xietong-proof/1"}, {"format": "xietong-proof/2"}]
)
def test_malformed_bundles(consortium: Consortium, bundle: Any) -> None:
    with pytest.raises(BundleFormatError):
        verify_bundle(bundle, consortium.w3, trust=consortium.deployment.trust())


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_verification_lists_every_version_holding_the_leaf(
    consortium: Consortium, engine: Engine, tmp_path: Path
) -> None:
    """A squatter (B) anchors A's release first, in a dataset of its own with A's very code:
    A's anchor still succeeds (a version is keyed by dataset and root), and verification
    lists both versions, each attributed to its own department; the bundle of each names its
    own publisher. Before, A's anchor was refused "already anchored" and the document was B's."""
    c = consortium
    folder = tmp_path / "release"
    folder.mkdir()
    (folder / "决定书.txt").write_text("行政许可决定书\n", encoding="utf-8")
    (folder / "附件.txt").write_text("附件\n", encoding="utf-8")
    squatted = c.register_dataset("B", DS_CODE, keccak(text="squat"))
    victim = c.register_dataset("A", DS_CODE, keccak(text="meta"))
    assert squatted != victim
    first = Anchorer(c.client, engine, c.ops["B"]).anchor(prepare_path(folder, squatted))
    second = Anchorer(c.client, engine, c.ops["A"]).anchor(prepare_path(folder, victim))
    assert first.status == second.status == "confirmed"
    assert first.root == second.root and first.block_number < second.block_number
    Indexer(c.client, c.deployment, engine).sync()

    verifier = Verifier(engine, c.client)
    answer = verifier.verify_content_hash(hashing.sha256_file(folder / "决定书.txt"))
    assert answer.anchored
    by_dataset = {m.version.dataset_id: m for m in answer.matches}
    assert set(by_dataset) == {"0x" + squatted.hex(), "0x" + victim.hex()}
    trust = c.deployment.trust()
    for dataset, key in ((victim, "A"), (squatted, "B")):
        match = by_dataset["0x" + dataset.hex()]
        department = ("0x" + c.ids[key].hex(), c.names[key])
        assert match.status == "anchored" and match.version.root == first.root
        assert match.version.id == vid(dataset, first.root)
        assert (match.version.owner.id, match.version.owner.name) == department
        assert (match.version.anchored_by.id, match.version.anchored_by.name) == department
        check = verify_bundle(verifier.match_bundle(match), c.w3, trust=trust)
        assert (check.dataset_id, check.version_id) == ("0x" + dataset.hex(), match.version.id)
        assert (check.owner["id"], check.owner["name"]) == department
        assert (check.publisher["id"], check.publisher["name"]) == department
    # Newest first: the victim's version, anchored second, leads the answer.
    assert answer.matches[0].version.dataset_id == "0x" + victim.hex()
    assert [m.path for m in answer.matches] == ["决定书.txt", "决定书.txt"]


def one_file_release(
    c: Consortium, engine: Engine, tmp_path: Path, text: str
) -> tuple[Path, bytes, Indexer]:
    """DS registered by A and indexed; a folder of one file not anchored yet: (folder, its
    content hash, the indexer)."""
    c.register_dataset("A", DS_CODE, keccak(text="meta"))
    folder = tmp_path / "release-of-one"
    folder.mkdir()
    (folder / "notice.txt").write_text(text, encoding="utf-8")
    indexer = Indexer(c.client, c.deployment, engine)
    indexer.sync()
    return folder, hashing.sha256_file(folder / "notice.txt"), indexer


def leave_for_a_longer_branch(c: Consortium, snapshot: str, blocks: int = 3) -> None:
    """Revert to ``snapshot`` and mine a longer other branch (the chain leaves what followed)."""
    c.w3.provider.make_request("evm_revert", [snapshot])  # type: ignore[arg-type]
    for _ in range(blocks):
        c.advance(1)


def test_an_orphaned_version_is_never_reported_anchored(
    consortium: Consortium, engine: Engine, tmp_path: Path
) -> None:
    """A version seen on a branch the chain then left: while the index still holds it (the
    indexer has not caught up with the reorg), the verifier does not report it; once the
    indexer rolls back, it is not anchored. Here the indexer takes every block
    (confirmations=1) and the verifier wants 2, so the orphaned version was seen unconfirmed."""
    c = consortium
    folder, content, indexer = one_file_release(c, engine, tmp_path, "通知\n")
    verifier = Verifier(engine, c.client, confirmations=2)
    snapshot = c.w3.provider.make_request("evm_snapshot", [])["result"]  # type: ignore[arg-type]
    Anchorer(c.client, engine, c.ops["A"]).anchor(prepare_path(folder, DS))
    indexer.sync()
    [match] = verifier.verify_content_hash(content).matches
    assert match.status == "unconfirmed" and match.version.confirmations == 1
    leave_for_a_longer_branch(c, snapshot)  # the stale index would put it 4 deep
    stale = verifier.verify_content_hash(content)
    assert stale.matches == [] and not stale.anchored
    with pytest.raises(NotAnchoredError):
        stale.raise_for_status()
    assert indexer.sync().reorged_from is not None
    assert verifier.verify_content_hash(content).matches == []


def test_a_final_version_is_checked_on_chain_once(
    consortium: Consortium, engine: Engine, world: dict[str, Any]
) -> None:
    c = consortium
    verifier = Verifier(engine, c.client)
    content = hashing.sha256_file(world["folder"] / "report.txt")
    calls: list[str] = []
    original = c.client.call

    def counting(contract: str, function: str, *args: Any) -> Any:
        calls.append(function)
        return original(contract, function, *args)

    c.client.call = counting  # type: ignore[method-assign]
    try:
        assert verifier.verify_content_hash(content).anchored
        first = calls.count("version")
        assert verifier.verify_content_hash(content).anchored
    finally:
        c.client.call = original  # type: ignore[method-assign]
    assert first == 2  # v1 and v2, each once
    assert calls.count("version") == first


def test_a_final_version_left_by_a_deeper_reorg_is_not_reported(
    consortium: Consortium, engine: Engine, tmp_path: Path
) -> None:
    """A reorg deeper than the confirmations (finality broken): a version seen final and
    checked on chain is no longer reported once the chain has left the index's checkpoint,
    even before the indexer rolls back."""
    c = consortium
    folder, content, indexer = one_file_release(c, engine, tmp_path, "决定书\n")
    verifier = Verifier(engine, c.client, confirmations=1)
    snapshot = c.w3.provider.make_request("evm_snapshot", [])["result"]  # type: ignore[arg-type]
    Anchorer(c.client, engine, c.ops["A"]).anchor(prepare_path(folder, DS))
    indexer.sync()
    assert verifier.verify_content_hash(content).anchored  # final, and its check kept
    leave_for_a_longer_branch(c, snapshot)
    assert verifier.verify_content_hash(content).matches == []
    indexer.sync()
    assert verifier.verify_content_hash(content).matches == []


def test_a_version_confirmed_here_is_verifiable_before_the_index_has_it(
    consortium: Consortium, engine: Engine, tmp_path: Path
) -> None:
    """The gateway's own batch is confirmed a moment before its indexer reaches the block:
    verification answers from the batch and the chain meanwhile, the same as the index will."""
    c = consortium
    folder, content, indexer = one_file_release(c, engine, tmp_path, "新通知\n")
    anchorer = Anchorer(c.client, engine, c.ops["A"])
    pending = anchorer.persist(prepare_path(folder, DS))
    verifier = Verifier(engine, c.client)
    assert verifier.verify_content_hash(content).matches == []  # persisted, not anchored
    batch = anchorer.submit(pending.id)
    assert batch.status == "confirmed"
    [early] = verifier.verify_content_hash(content).matches
    assert early.status == "anchored" and early.version.root == batch.root
    assert early.version.transaction == batch.tx_hash
    assert early.version.block_number == batch.block_number
    assert early.version.owner.name == c.names["A"]
    indexer.sync()
    [indexed] = verifier.verify_content_hash(content).matches
    assert (indexed.version.root, indexed.version.transaction, indexed.version.anchored_at) == (
        early.version.root,
        early.version.transaction,
        early.version.anchored_at,
    )

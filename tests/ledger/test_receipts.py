"""Access receipts: an access log hashed as salted record leaves, one entry proved against
the receipt's root and count, every part of a proof that lies refused with its own reason."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from ledger import InputError, hashing, merkle
from ledger.receipts import (
    ACCESS_PROOF_FORMAT,
    AccessProofError,
    access_entry_proof,
    check_access_proof,
    hash_access_log,
)

AGREEMENT = bytes.fromhex("a6" * 32)


def write_log(folder: Path, entries: int = 7) -> Path:
    log = folder / "access.jsonl"
    log.write_text(
        "".join(
            json.dumps({"lookup": f"DB{i:05d}", "officer": f"P{i % 3:03d}"}, ensure_ascii=False)
            + "\n"
            for i in range(entries)
        ),
        encoding="utf-8",
    )
    return log


def test_a_log_is_hashed_as_salted_records_and_the_salts_are_kept(tmp_path: Path) -> None:
    log = write_log(tmp_path)
    hashed = hash_access_log(log)
    assert hashed.entry_count == 7 and hashed.salts_path == tmp_path / "access.jsonl.salts.json"
    records = hashing.hash_records(log, salts=hashing.read_salts(hashed.salts_path, data=log))
    tree = merkle.MerkleTree.of(
        [[e.record_hash, e.salt] for e in records.entries], merkle.RECORD_LEAF_TYPES
    )
    assert hashed.root == tree.root
    assert hash_access_log(log).root == hashed.root  # the kept salts give the same root
    with pytest.raises(InputError) as refused:
        hash_access_log(tmp_path)
    assert str(refused.value) == (
        f"{tmp_path} is a directory; an access log is one CSV or JSON Lines file."
    )


@pytest.fixture
def proved(tmp_path: Path) -> tuple[dict[str, Any], bytes, int]:
    log = write_log(tmp_path)
    hashed = hash_access_log(log)
    proof = access_entry_proof(
        log, salts_path=hashed.salts_path, entry=4, agreement_id=AGREEMENT, receipt_index=1
    )
    return proof, hashed.root, hashed.entry_count


def test_an_entry_proves_against_its_receipt(
    proved: tuple[dict[str, Any], bytes, int], tmp_path: Path
) -> None:
    proof, root, count = proved
    assert proof["format"] == ACCESS_PROOF_FORMAT and proof["entry"] == 4
    assert (proof["agreement_id"], proof["receipt_index"]) == ("0x" + AGREEMENT.hex(), 1)
    check_access_proof(proof, log_root=root, entry_count=count)
    # The entry itself gives the record hash: shown to an auditor, it is checked so.
    entry = {"lookup": "DB00004", "officer": "P001"}
    assert "0x" + hashing.record_hash(entry).hex() == proof["record_hash"]
    with pytest.raises(InputError) as refused:
        access_entry_proof(
            tmp_path / "access.jsonl",
            salts_path=tmp_path / "access.jsonl.salts.json",
            entry=7,
            agreement_id=AGREEMENT,
            receipt_index=1,
        )
    assert str(refused.value) == f"{tmp_path / 'access.jsonl'} has 7 entries; there is no entry 7."


def _set(document: dict[str, Any], **values: Any) -> dict[str, Any]:
    changed = copy.deepcopy(document)
    changed.update(values)
    return changed


@pytest.mark.parametrize(
    ("tamper", "message"),
    [
        pytest.param(
            lambda p: [p],
            'an access proof is a JSON object with "format": "xietong-access-proof/1".',
            id="not-an-object",
        ),
        pytest.param(
            lambda p: _set(p, format="xietong-proof/2"),
            'an access proof is a JSON object with "format": "xietong-access-proof/1".',
            id="other-format",
        ),
        pytest.param(
            lambda p: _set(p, note="trust me"),
            "the access proof has members it should not: note.",
            id="extra-member",
        ),
        pytest.param(
            lambda p: _set(p, salt="0x" + "00" * 32),
            "the access proof's leaf is not the leaf of its record hash and salt.",
            id="salt-changed",
        ),
        pytest.param(
            lambda p: _set(p, record_hash="0x12"),
            "the access proof's record_hash is not a 0x hash of 64 hex digits.",
            id="short-record-hash",
        ),
        pytest.param(
            lambda p: _set(p, proof=[*p["proof"][:-1], "0x" + "ee" * 32]),
            "the access proof's path does not lead from its leaf to the log root.",
            id="path-node-changed",
        ),
        pytest.param(
            lambda p: _set(p, proof="0x" + "ee" * 32),
            "the access proof's proof is not a list of at most 64 hashes.",
            id="path-not-a-list",
        ),
        pytest.param(
            lambda p: _set(p, log_root="0x" + "dd" * 32),
            "the access proof names log root 0x" + "dd" * 32 + "; the receipt holds {root}.",
            id="other-root",
        ),
        pytest.param(
            lambda p: _set(p, entry_count=8),
            "the access proof says the log has 8 entries; the receipt says 7.",
            id="other-count",
        ),
        pytest.param(
            lambda p: _set(p, entry=7),
            "the access proof's entry is not a number from 0 to 6.",
            id="entry-beyond-the-log",
        ),
        pytest.param(
            lambda p: _set(p, entry=True),
            "the access proof's entry is not a number from 0 to 6.",
            id="entry-not-a-number",
        ),
    ],
)
def test_a_proof_that_lies_is_refused_with_its_reason(
    proved: tuple[dict[str, Any], bytes, int], tamper: Any, message: str
) -> None:
    proof, root, count = proved
    with pytest.raises(AccessProofError) as refused:
        check_access_proof(tamper(proof), log_root=root, entry_count=count)
    assert str(refused.value) == message.format(root="0x" + root.hex())


def test_an_entry_of_another_log_does_not_prove_against_this_receipt(
    proved: tuple[dict[str, Any], bytes, int], tmp_path: Path
) -> None:
    _, root, count = proved
    other = tmp_path / "other"
    other.mkdir()
    log = write_log(other)
    hashed = hash_access_log(log)  # fresh salts: another root
    foreign = access_entry_proof(
        log, salts_path=hashed.salts_path, entry=4, agreement_id=AGREEMENT, receipt_index=1
    )
    with pytest.raises(AccessProofError) as refused:
        check_access_proof(
            {**foreign, "log_root": "0x" + root.hex()}, log_root=root, entry_count=count
        )
    assert (
        str(refused.value) == "the access proof's path does not lead from its leaf to the log root."
    )

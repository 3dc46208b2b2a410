"""Access receipts: what a consumer department records on chain of its use of shared data.

The consumer keeps an access log (CSV or JSON Lines, one entry per access: who looked up what,
when, with which result). Entries are personal data, so nothing of them goes on chain but a
Merkle root and a count: each entry becomes a salted record leaf, exactly as an anchored
records file does (:mod:`ledger.hashing`, the salts in ``LOG.salts.json`` beside the log, kept
by the consumer), and ``SharingAgreements.recordAccess`` records the root, the count and the
period for an active agreement.

Later, the consumer (or an auditor it hands the log to) proves one entry against the receipt:
an ``xietong-access-proof/1`` document carries the entry's record hash, its salt, the leaf and
its Merkle path; anyone checks it against the receipt the chain holds (:func:`check_access_proof`
is pure; :func:`verify_access_proof` reads the receipt from a node). An auditor who is shown
the entry itself checks that it gives the record hash (``hashing.record_hash``), so the proof
reveals one entry and nothing of the others.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount

from . import hashing, merkle
from .anchoring import prepare_records
from .chain.client import ChainClient, SentTransaction
from .chain.reads import call_named
from .errors import InputError, LedgerError

__all__ = [
    "ACCESS_PROOF_FORMAT",
    "AccessLog",
    "AccessProofError",
    "access_entry_proof",
    "check_access_proof",
    "hash_access_log",
    "read_receipt",
    "record_access",
    "verify_access_proof",
]

ACCESS_PROOF_FORMAT = "xietong-access-proof/1"
_FIELDS = (
    "format",
    "agreement_id",
    "receipt_index",
    "log_root",
    "entry_count",
    "entry",
    "record_hash",
    "salt",
    "leaf",
    "proof",
)


_HASH = re.compile(r"^0x[0-9a-fA-F]{64}$")


class AccessProofError(LedgerError):
    """An access proof is malformed, or does not prove its entry against the receipt."""

    kind = "bad-access-proof"


@dataclass(frozen=True)
class AccessLog:
    """An access log hashed for a receipt."""

    root: bytes
    entry_count: int
    salts_path: Path


def hash_access_log(path: Path, *, salts_path: Path | None = None) -> AccessLog:
    """The Merkle root and entry count of the access log at ``path``, its entries salted
    record leaves. The salts come from ``salts_path`` (default ``LOG.salts.json``) when it
    exists, else fresh ones are drawn and written there: keep them with the log, they are
    needed to prove an entry."""
    if path.is_dir():
        raise InputError(f"{path} is a directory; an access log is one CSV or JSON Lines file.")
    sidecar = salts_path or path.with_name(path.name + ".salts.json")
    prepared = prepare_records(path, bytes(32), salts_path=sidecar)
    return AccessLog(root=prepared.root, entry_count=prepared.record_count, salts_path=sidecar)


def access_entry_proof(
    path: Path,
    *,
    salts_path: Path,
    entry: int,
    agreement_id: bytes,
    receipt_index: int,
) -> dict[str, Any]:
    """The ``xietong-access-proof/1`` document of entry ``entry`` (from 0) of the log at
    ``path`` (with its salts), for receipt ``receipt_index`` of agreement ``agreement_id``."""
    records = hashing.hash_records(path, salts=hashing.read_salts(salts_path, data=path))
    count = len(records.entries)
    if not 0 <= entry < count:
        raise InputError(f"{path} has {count} entries; there is no entry {entry}.")
    tree = merkle.MerkleTree.of(
        [[e.record_hash, e.salt] for e in records.entries], merkle.RECORD_LEAF_TYPES
    )
    chosen = records.entries[entry]
    leaf = merkle.leaf_hash(merkle.RECORD_LEAF_TYPES, [chosen.record_hash, chosen.salt])
    return {
        "format": ACCESS_PROOF_FORMAT,
        "agreement_id": "0x" + agreement_id.hex(),
        "receipt_index": receipt_index,
        "log_root": "0x" + tree.root.hex(),
        "entry_count": count,
        "entry": entry,
        "record_hash": "0x" + chosen.record_hash.hex(),
        "salt": "0x" + chosen.salt.hex(),
        "leaf": "0x" + leaf.hex(),
        "proof": ["0x" + node.hex() for node in tree.proof(leaf)],
    }


def _hash_field(document: dict[str, Any], name: str) -> bytes:
    value = document.get(name)
    if not isinstance(value, str) or not _HASH.match(value):
        raise AccessProofError(f"the access proof's {name} is not a 0x hash of 64 hex digits.")
    return bytes.fromhex(value[2:])


def check_access_proof(document: Any, *, log_root: bytes, entry_count: int) -> None:
    """Check an ``xietong-access-proof/1`` document against a receipt's ``log_root`` and
    ``entry_count`` (as the chain holds them). Pure; AccessProofError naming what is wrong."""
    if not isinstance(document, dict) or document.get("format") != ACCESS_PROOF_FORMAT:
        raise AccessProofError(
            f'an access proof is a JSON object with "format": "{ACCESS_PROOF_FORMAT}".'
        )
    unknown = sorted(set(document) - set(_FIELDS))
    if unknown:
        raise AccessProofError(f"the access proof has members it should not: {', '.join(unknown)}.")
    record_hash, salt = _hash_field(document, "record_hash"), _hash_field(document, "salt")
    leaf = _hash_field(document, "leaf")
    if merkle.leaf_hash(merkle.RECORD_LEAF_TYPES, [record_hash, salt]) != leaf:
        raise AccessProofError(
            "the access proof's leaf is not the leaf of its record hash and salt."
        )
    path = document.get("proof")
    if not isinstance(path, list) or len(path) > 64:
        raise AccessProofError("the access proof's proof is not a list of at most 64 hashes.")
    nodes = [_hash_field({"proof node": node}, "proof node") for node in path]
    claimed_root = _hash_field(document, "log_root")
    if claimed_root != log_root:
        raise AccessProofError(
            f"the access proof names log root {document['log_root']}; the receipt holds "
            f"0x{log_root.hex()}."
        )
    if document.get("entry_count") != entry_count:
        raise AccessProofError(
            f"the access proof says the log has {document.get('entry_count')!r} entries; the "
            f"receipt says {entry_count}."
        )
    entry = document.get("entry")
    if not isinstance(entry, int) or isinstance(entry, bool) or not 0 <= entry < entry_count:
        raise AccessProofError(
            f"the access proof's entry is not a number from 0 to {entry_count - 1}."
        )
    if not merkle.verify_proof(log_root, leaf, nodes):
        raise AccessProofError(
            "the access proof's path does not lead from its leaf to the log root."
        )


def record_access(
    client: ChainClient,
    signer: LocalAccount,
    agreement_id: bytes,
    *,
    log_root: bytes,
    entry_count: int,
    period_start: int,
    period_end: int | None = None,
) -> tuple[int, SentTransaction]:
    """Record a receipt for an active agreement, as its consumer; returns its index.

    Without ``period_end`` the period ends at the time of the chain's latest block: the chain's
    clock, not this machine's, is the one the contract holds a period end to (not after the
    block that records it), and a node's clock may run ahead of the wall clock (a development
    node gives each of several blocks mined in one second its own second) or behind it (a
    proof-of-authority block is a period old)."""
    if entry_count < 0 or entry_count >= 2**64:
        raise InputError(f"an entry count is a whole number from 0, not {entry_count}.")
    if period_end is None:
        period_end = int(client.head()["timestamp"])
    if period_end < period_start:
        raise InputError("a receipt's period ends before it starts.")
    tx = client.transact(
        "SharingAgreements",
        "recordAccess",
        agreement_id,
        log_root,
        entry_count,
        period_start,
        period_end,
        sender=signer,
    )
    return int(tx.event("AccessRecorded")["receiptIndex"]), tx


def read_receipt(client: ChainClient, agreement_id: bytes, receipt_index: int) -> dict[str, Any]:
    """Access receipt ``receipt_index`` of agreement ``agreement_id`` as the chain holds it."""
    receipt = call_named(client, "SharingAgreements", "accessReceipt", agreement_id, receipt_index)
    return {
        "log_root": bytes(receipt["logRoot"]),
        "entry_count": int(receipt["entryCount"]),
        "period_start": int(receipt["periodStart"]),
        "period_end": int(receipt["periodEnd"]),
        "recorded_at": int(receipt["recordedAt"]),
    }


def verify_access_proof(client: ChainClient, document: Any) -> dict[str, Any]:
    """Check an access proof against the receipt the chain holds for its agreement and index;
    what the receipt says and the entry's record hash (shown the entry, an auditor checks it
    gives that hash; its number in the log is the prover's word: not vouched for), or
    AccessProofError (a ContractRevertError for no such receipt)."""
    if not isinstance(document, dict):
        raise AccessProofError(
            f'an access proof is a JSON object with "format": "{ACCESS_PROOF_FORMAT}".'
        )
    agreement_id = _hash_field(document, "agreement_id")
    index = document.get("receipt_index")
    if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < 2**64:
        raise AccessProofError("the access proof's receipt_index is not a whole number.")
    receipt = read_receipt(client, agreement_id, index)
    check_access_proof(document, log_root=receipt["log_root"], entry_count=receipt["entry_count"])
    return {
        "agreement_id": "0x" + agreement_id.hex(),
        "receipt_index": index,
        # The entry is named by its record hash: a Merkle path over sorted leaves says nothing
        # of where in the log the entry stood, so the proof's "entry" number is not vouched for.
        "record_hash": document["record_hash"].lower(),
        "leaf": document["leaf"].lower(),
        **{k: v for k, v in receipt.items() if k != "log_root"},
        "log_root": "0x" + receipt["log_root"].hex(),
    }

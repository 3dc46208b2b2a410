"""Write tests/vectors/offline_bundles.json: real sealed bundles from a 4-validator geth network
and one tampered case per reason of docs/OFFLINE_PROOFS.md, for the Python and the JavaScript
verifiers alike (``make offline-vectors``, about a minute).

Tampered headers are sealed again with the development keys that sealed them (local mode
only uses public test keys), so that each case breaks exactly one rule: the one its
``reason`` names. Every case is checked here against ledger.verify.offline before it is
written.

    .venv/bin/python scripts/make_offline_vectors.py [--out FILE]
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import rlp
from eth_keys.datatypes import PrivateKey
from eth_utils import keccak
from trie import HexaryTrie

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))

from ledger.chain.network import rpc  # noqa: E402
from ledger.chain.sealed import receipt_encoding  # noqa: E402
from ledger.clique import decode_header, recover_signer  # noqa: E402
from ledger.errors import OfflineProofError  # noqa: E402
from ledger.keys import dev_account  # noqa: E402
from ledger.trust import ConsortiumTrust, load_trust  # noqa: E402
from ledger.verify.offline import verify_bundle_offline  # noqa: E402
from tests.support_sealed import SIGNER_ACCOUNTS, sealed_network  # noqa: E402

OUT = PROJECT_ROOT / "tests" / "vectors" / "offline_bundles.json"
HOSTS = [f"127.0.0.{131 + i}" for i in range(4)]
KEYS = {
    bytes.fromhex(dev_account(n).address[2:]): PrivateKey(bytes(dev_account(n).key))
    for n in SIGNER_ACCOUNTS
}
OUTSIDER = PrivateKey(bytes(dev_account(19).key))
EXTRA, SEAL = 12, 65  # extraData's field index, the seal's length
FIELD = {"mixHash": 13, "difficulty": 7, "timestamp": 11, "receiptsRoot": 5, "parentHash": 0}


# --------------------------------------------------------------------------- headers


def fields_of(raw_hex: str) -> list[Any]:
    return list(rlp.decode(bytes.fromhex(raw_hex[2:])))


def encoded(fields: list[Any]) -> str:
    return "0x" + bytes(rlp.encode(fields)).hex()


def sealed_with(fields: list[Any], key: PrivateKey) -> list[Any]:
    """``fields`` with its seal made again by ``key``."""
    unsealed = list(fields)
    unsealed[EXTRA] = fields[EXTRA][:-SEAL]
    signature = key.sign_msg_hash(keccak(rlp.encode(unsealed)))
    sealed = list(fields)
    sealed[EXTRA] = fields[EXTRA][:-SEAL] + signature.to_bytes()
    return sealed


def signer_of(raw_hex: str) -> bytes:
    return recover_signer(decode_header(bytes.fromhex(raw_hex[2:]), "header"))


def with_int(value: int) -> bytes:
    return value.to_bytes((value.bit_length() + 7) // 8, "big")


def rewritten(
    bundle: dict[str, Any],
    at: int,
    change: Callable[[list[Any]], list[Any]],
    *,
    key: PrivateKey | None = None,
) -> dict[str, Any]:
    """``bundle`` with ``headers[at]`` changed by ``change`` and sealed again (by ``key``, or
    by its own signer), and every header after it linked and sealed again by its own."""
    forged = copy.deepcopy(bundle)
    headers = forged["sealed"]["headers"]
    own = KEYS[signer_of(headers[at])]
    headers[at] = encoded(sealed_with(change(fields_of(headers[at])), key or own))
    for i in range(at + 1, len(headers)):
        fields = fields_of(headers[i])
        own = KEYS[signer_of(headers[i])]
        fields[FIELD["parentHash"]] = keccak(bytes.fromhex(headers[i - 1][2:]))
        headers[i] = encoded(sealed_with(fields, own))
    return forged


def set_field(name: str, value: bytes) -> Callable[[list[Any]], list[Any]]:
    def change(fields: list[Any]) -> list[Any]:
        fields[FIELD[name]] = value
        return fields

    return change


# --------------------------------------------------------------------------- receipts


def with_receipt(
    bundle: dict[str, Any], receipts: list[dict[str, Any]], change: Callable[[bytes], bytes]
) -> dict[str, Any]:
    """``bundle`` whose anchor receipt is ``change``d: the block's receipts trie rebuilt, its
    root put in the anchor header, and the headers sealed again."""
    index = bundle["sealed"]["transaction"]["index"]
    values = [receipt_encoding(r) for r in receipts]
    values[index] = change(values[index])
    trie = HexaryTrie(db={})
    for i, value in enumerate(values):
        trie[rlp.encode(i)] = value
    forged = rewritten(bundle, 0, set_field("receiptsRoot", trie.root_hash))
    forged["sealed"]["receipt"]["proof"] = [
        "0x" + rlp.encode(node).hex() for node in trie.get_proof(rlp.encode(index))
    ]
    return forged


def receipt_fields(value: bytes) -> tuple[bytes, list[Any]]:
    prefix = value[:1] if value[0] < 0x7F else b""
    return prefix, list(rlp.decode(value[len(prefix) :]))


def failed_receipt(value: bytes) -> bytes:
    prefix, items = receipt_fields(value)
    items[0] = b""
    return prefix + bytes(rlp.encode(items))


def receipt_without_logs(value: bytes) -> bytes:
    prefix, items = receipt_fields(value)
    items[3] = []
    return prefix + bytes(rlp.encode(items))


def a_log_that_is_not_one(value: bytes) -> bytes:
    prefix, items = receipt_fields(value)
    items[3] = [*items[3], [b"\x01" * 20]]
    return prefix + bytes(rlp.encode(items))


def not_a_receipt(value: bytes) -> bytes:
    prefix, items = receipt_fields(value)
    return prefix + bytes(rlp.encode(items[:3]))


# --------------------------------------------------------------------------- cases


def cases(
    plain: dict[str, Any],
    historic: dict[str, Any],
    trust: dict[str, Any],
    receipts: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    def tweak(bundle: dict[str, Any], change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
        forged = copy.deepcopy(bundle)
        change(forged)
        return forged

    headers = plain["sealed"]["headers"]
    last = len(headers) - 1
    other_genesis = {**trust, "genesis_hash": "0x" + "11" * 32}
    no_clique = {k: v for k, v in trust.items() if k != "clique"}
    last_number = decode_header(bytes.fromhex(headers[-1][2:]), "h").number
    early_epoch = {**trust, "clique": {**trust["clique"], "epoch": last_number}}
    previous_signer = KEYS[signer_of(headers[-2])]
    flip = {b"\x01": b"\x02", b"\x02": b"\x01"}

    def flipped_difficulty(fields: list[Any]) -> list[Any]:
        fields[FIELD["difficulty"]] = flip[fields[FIELD["difficulty"]]]
        return fields

    def too_soon(fields: list[Any]) -> list[Any]:
        parent = fields_of(headers[-2])
        fields[FIELD["timestamp"]] = parent[FIELD["timestamp"]]
        return fields

    def bad_v(bundle: dict[str, Any]) -> None:
        fields = fields_of(bundle["sealed"]["headers"][-1])
        fields[EXTRA] = fields[EXTRA][:-1] + bytes([27])
        bundle["sealed"]["headers"][-1] = encoded(fields)

    def flip_byte(value: str, at: int) -> str:
        raw = bytearray(bytes.fromhex(value[2:]))
        raw[at] ^= 0x01
        return "0x" + raw.hex()

    def unsealed(bundle: dict[str, Any]) -> None:
        bundle.pop("sealed")
        bundle["format"] = "xietong-proof/2"

    def sixteen_of_fifteen(bundle: dict[str, Any]) -> None:
        bundle["sealed"]["headers"][1] = encoded(fields_of(bundle["sealed"]["headers"][1])[:15])

    return [
        {"desc": "a bundle sealed by a majority, without history", "bundle": plain,
         "valid": True},
        {"desc": "the same anchor with the headers from block 1", "bundle": historic,
         "valid": True},
        {"desc": "sealed has an unknown member", "reason": "bundle-form",
         "bundle": tweak(plain, lambda b: b["sealed"].update(extra=[]))},
        {"desc": "a header is not hex", "reason": "bundle-form",
         "bundle": tweak(plain, lambda b: b["sealed"]["headers"].__setitem__(0, "0xzz"))},
        {"desc": "dataset_id written with 0X", "reason": "bundle-form",
         "bundle": tweak(plain, lambda b: b.update(dataset_id="0X" + b["dataset_id"][2:]))},
        {"desc": "the leaf's content hash written with 0X", "reason": "bundle-form",
         "bundle": tweak(plain, lambda b: b["leaf"]["values"].__setitem__(
             0, "0X" + b["leaf"]["values"][0][2:]))},
        {"desc": "the leaf's path was changed", "reason": "merkle-path",
         "bundle": tweak(plain, lambda b: b["leaf"]["values"].__setitem__(1, "other.txt"))},
        {"desc": "sealed is null (a bundle from Hardhat or Anvil)", "reason": "no-seals",
         "bundle": tweak(plain, lambda b: b.update(sealed=None))},
        {"desc": "a xietong-proof/2 bundle", "reason": "no-seals",
         "bundle": tweak(plain, unsealed)},
        {"desc": "the trust file names no signers", "reason": "trust-no-signers",
         "bundle": plain, "trust": no_clique},
        {"desc": "another chain id", "reason": "claim-chain",
         "bundle": tweak(plain, lambda b: b.update(chain_id=b["chain_id"] + 1))},
        {"desc": "another registry", "reason": "claim-contract",
         "bundle": tweak(plain, lambda b: b.update(contract="0x" + "12" * 20))},
        {"desc": "a header of 15 fields", "reason": "header-form",
         "bundle": tweak(plain, sixteen_of_fifteen)},
        {"desc": "the history does not start on the trust file's genesis", "reason":
         "wrong-genesis", "bundle": historic, "trust": other_genesis},
        {"desc": "a header left out of the chain", "reason": "header-link",
         "bundle": tweak(plain, lambda b: b["sealed"]["headers"].pop(1))},
        {"desc": "a header of the history left out", "reason": "header-link",
         "bundle": tweak(historic, lambda b: b["sealed"]["history"].pop(2))},
        {"desc": "a header changed and not sealed again", "reason": "header-link",
         "bundle": tweak(plain, lambda b: b["sealed"]["headers"].__setitem__(
             0, encoded(set_field("mixHash", b"\x01" * 32)(fields_of(headers[0])))))},
        {"desc": "another block number claimed", "reason": "claim-block",
         "bundle": tweak(plain, lambda b: b.update(block_number=b["block_number"] + 1))},
        {"desc": "another time claimed", "reason": "claim-time",
         "bundle": tweak(plain, lambda b: b.update(anchored_at="2001-01-01T00:00:00+00:00"))},
        {"desc": "a mix digest, sealed again", "reason": "header-field",
         "bundle": rewritten(plain, last, set_field("mixHash", b"\x01" * 32))},
        {"desc": "sealed in the same second as its parent", "reason": "header-time",
         "bundle": rewritten(plain, last, too_soon)},
        {"desc": "a seal whose v is 27", "reason": "seal-invalid",
         "bundle": tweak(plain, bad_v)},
        {"desc": "a header sealed by a key outside the signer set", "reason":
         "signer-outside-set", "bundle": rewritten(plain, last, lambda f: f, key=OUTSIDER)},
        {"desc": "two headers in a row sealed by the same signer", "reason": "signer-repeated",
         "bundle": rewritten(plain, last, lambda f: f, key=previous_signer)},
        {"desc": "a difficulty that does not match the signer's turn", "reason":
         "header-difficulty", "bundle": rewritten(plain, last, flipped_difficulty)},
        {"desc": "a checkpoint (trust file epoch) that lists no signers", "reason":
         "checkpoint-signers", "bundle": plain, "trust": early_epoch},
        {"desc": "only the anchor block's header", "reason": "too-few-signers",
         "bundle": tweak(plain, lambda b: b["sealed"].update(headers=b["sealed"]["headers"][:1]))},
        {"desc": "a byte of a transaction proof node flipped", "reason": "transaction-proof",
         "bundle": tweak(plain, lambda b: b["sealed"]["transaction"]["proof"].__setitem__(
             -1, flip_byte(b["sealed"]["transaction"]["proof"][-1], 40)))},
        {"desc": "another transaction claimed", "reason": "claim-transaction",
         "bundle": tweak(plain, lambda b: b.update(transaction="0x" + "ab" * 32))},
        {"desc": "the receipt proof's last node left out", "reason": "receipt-proof",
         "bundle": tweak(plain, lambda b: b["sealed"]["receipt"]["proof"].pop())},
        {"desc": "a receipt of three fields, its trie and headers made again", "reason":
         "receipt-form", "bundle": with_receipt(plain, receipts, not_a_receipt)},
        {"desc": "a receipt whose last log is not a log, its trie and headers made again",
         "reason": "receipt-form",
         "bundle": with_receipt(plain, receipts, a_log_that_is_not_one)},
        {"desc": "a failed receipt, its trie and headers made again", "reason":
         "receipt-failed", "bundle": with_receipt(plain, receipts, failed_receipt)},
        {"desc": "a receipt without the anchor event, its trie and headers made again",
         "reason": "anchor-missing",
         "bundle": with_receipt(plain, receipts, receipt_without_logs)},
        {"desc": "another publisher claimed", "reason": "claim-publisher",
         "bundle": tweak(plain, lambda b: b["publisher"].update(id="0x" + "cd" * 32))},
        {"desc": "another leaf count claimed", "reason": "claim-leaf-count",
         "bundle": tweak(plain, lambda b: b.update(leaf_count=b["leaf_count"] + 1))},
        {"desc": "another version id claimed", "reason": "claim-version",
         "bundle": tweak(plain, lambda b: b.update(version_id="0x" + "ef" * 32))},
    ]  # fmt: skip


def checked(case: dict[str, Any], trust: dict[str, Any]) -> dict[str, Any]:
    """The case, after ledger.verify.offline gave what it expects."""
    consortium = ConsortiumTrust.from_dict(case.get("trust", trust))
    try:
        verify_bundle_offline(case["bundle"], consortium)
        outcome = None
    except OfflineProofError as exc:
        outcome = exc.reason
    expected = None if case.get("valid") else case["reason"]
    if outcome != expected:
        raise SystemExit(f"{case['desc']}: expected {expected}, the verifier says {outcome}")
    return {"valid": expected is None, **case}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        home = Path(scratch)
        with sealed_network(home, HOSTS) as net:
            folder = home / "files"
            folder.mkdir()
            plain = net.anchored_bundle(folder, "an offline proof vector\n")
            historic = net.from_genesis(plain)
            receipts = rpc(
                net.network.members[0].rpc_url,
                "eth_getBlockReceipts",
                [hex(plain["block_number"])],
            )
            trust = load_trust(net.trust_path).as_dict()
    written = {
        "desc": "Sealed proof bundles (xietong-proof/3) from a 4-validator geth Clique network "
        "(period 1 s) and one tampered case per reason of docs/OFFLINE_PROOFS.md; made by "
        "scripts/make_offline_vectors.py. A case's `trust` replaces the file's.",
        "trust": trust,
        "cases": [checked(c, trust) for c in cases(plain, historic, trust, receipts)],
    }
    args.out.write_text(json.dumps(written, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"{len(written['cases'])} cases written to {args.out}")


if __name__ == "__main__":
    main()

"""Write tests/vectors/checkpoints.json: cosigned checkpoints (docs/CHECKPOINTS.md) and one
broken case per reason, for the Python and the JavaScript verifiers alike
(``make checkpoint-vectors``, a second, no chain).

The checkpoints name the blocks of the first sealed bundle of tests/vectors/offline_bundles.json
(a real 4-validator network), and are cosigned with development keys named in a trust file
that is that file's plus ``checkpoints``; the bundle cases are that bundle with a
``checkpoint`` member. Signatures are deterministic (RFC 6979), so the file is the same on
every run. Every case is checked here against ledger.witness and ledger.verify.offline before
it is written.

    .venv/bin/python scripts/make_checkpoint_vectors.py [--out FILE]
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from pathlib import Path
from typing import Any

from eth_utils import keccak

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))

from ledger.errors import CheckpointError, OfflineProofError  # noqa: E402
from ledger.keys import dev_account  # noqa: E402
from ledger.trust import ConsortiumTrust  # noqa: E402
from ledger.verify.offline import verify_bundle_offline  # noqa: E402
from ledger.witness import check_checkpoint, cosign  # noqa: E402

OUT = PROJECT_ROOT / "tests" / "vectors" / "checkpoints.json"
SOURCE = PROJECT_ROOT / "tests" / "vectors" / "offline_bundles.json"
#: The development accounts that cosign, one per department of the source's trust file.
COSIGNER_ACCOUNTS = (11, 12, 13, 14)
OUTSIDER = 19
TIME = 1765000000
_ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


def _trust(source: dict[str, Any]) -> dict[str, Any]:
    departments = [(s["department"], s["code"]) for s in source["trust"]["clique"]["signers"]]
    cosigners = sorted(
        (
            {"address": dev_account(n).address, "department": d, "code": c}
            for n, (d, c) in zip(COSIGNER_ACCOUNTS, departments, strict=True)
        ),
        key=lambda c: c["address"].lower(),
    )
    return {**source["trust"], "checkpoints": {"threshold": 3, "cosigners": cosigners}}


def _checkpoint(
    trust: dict[str, Any], number: int, block_hash: str, accounts: tuple[int, ...]
) -> dict[str, Any]:
    signatures = [
        cosign(
            dev_account(n).key,
            chain_id=trust["chain_id"],
            genesis_hash=trust["genesis_hash"],
            number=number,
            block_hash=block_hash,
            time=TIME + i,
        ).as_dict()
        for i, n in enumerate(accounts)
    ]
    signatures.sort(key=lambda s: s["address"].lower())
    return {"number": number, "hash": block_hash, "cosignatures": signatures}


def _high_s(signature: str) -> str:
    """The other form of one signature: s → n − s, v flipped (valid ECDSA, refused here)."""
    raw = bytes.fromhex(signature[2:])
    s = _ORDER - int.from_bytes(raw[32:64], "big")
    return "0x" + (raw[:32] + s.to_bytes(32, "big") + bytes([55 - raw[64]])).hex()


def _cases(trust: dict[str, Any], number: int, block_hash: str) -> list[dict[str, Any]]:
    three = (11, 12, 13)
    good = _checkpoint(trust, number, block_hash, three)
    cases: list[dict[str, Any]] = [
        {"desc": "three of four departments cosigned", "checkpoint": good},
        {
            "desc": "all four departments cosigned",
            "checkpoint": _checkpoint(trust, number, block_hash, COSIGNER_ACCOUNTS),
        },
    ]

    def broken(desc: str, reason: str, change: Any, **extra: Any) -> None:
        checkpoint = copy.deepcopy(good)
        change(checkpoint)
        cases.append({"desc": desc, "reason": reason, "checkpoint": checkpoint, **extra})

    def member(name: str, value: Any) -> Any:
        return lambda c: c.__setitem__(name, value)

    def signature_member(name: str, value: Any) -> Any:
        return lambda c: c["cosignatures"][0].__setitem__(name, value)

    broken("an unknown member", "checkpoint-form", member("origin", "xietong/31338"))
    broken("no cosignatures member", "checkpoint-form", lambda c: c.pop("cosignatures"))
    broken("the number written as text", "checkpoint-form", member("number", str(number)))
    broken("the number a boolean", "checkpoint-form", member("number", True))
    broken("the number above 2^53-1", "checkpoint-form", member("number", 2**53))
    broken("the hash in capitals", "checkpoint-form", member("hash", block_hash.upper()))
    broken("the hash one byte short", "checkpoint-form", member("hash", block_hash[:-2]))
    broken("no cosignature", "checkpoint-form", member("cosignatures", []))
    broken(
        "a cosignature's address not in its EIP-55 form",
        "checkpoint-form",
        signature_member("address", good["cosignatures"][0]["address"].lower()),
    )
    broken("a cosignature's time negative", "checkpoint-form", signature_member("time", -1))
    broken(
        "a cosignature's signature in capitals",
        "checkpoint-form",
        signature_member("signature", "0x" + good["cosignatures"][0]["signature"][2:].upper()),
    )
    broken(
        "a cosignature with an unknown member",
        "checkpoint-form",
        lambda c: c["cosignatures"][0].__setitem__("department", "0x" + "00" * 32),
    )
    broken(
        "the cosignatures out of address order",
        "checkpoint-form",
        lambda c: c["cosignatures"].reverse(),
    )
    broken(
        "one cosignature twice",
        "checkpoint-form",
        lambda c: c["cosignatures"].insert(1, copy.deepcopy(c["cosignatures"][0])),
    )
    outsider = _checkpoint(trust, number, block_hash, (OUTSIDER,))["cosignatures"][0]
    broken(
        "a cosignature by a key the trust file does not name",
        "cosigner-unknown",
        lambda c: (
            c["cosignatures"].append(outsider),
            c["cosignatures"].sort(key=lambda s: s["address"].lower()),
        ),
    )
    other = _checkpoint(trust, number + 1, block_hash, three)["cosignatures"][0]["signature"]
    broken(
        "a signature made for another number",
        "cosignature-invalid",
        signature_member("signature", other),
    )
    broken(
        "a signature's time changed",
        "cosignature-invalid",
        signature_member("time", good["cosignatures"][0]["time"] + 1),
    )
    broken(
        "a signature in its high-s form",
        "cosignature-invalid",
        signature_member("signature", _high_s(good["cosignatures"][0]["signature"])),
    )
    broken(
        "a signature with v 0 (not 27 or 28)",
        "cosignature-invalid",
        signature_member("signature", good["cosignatures"][0]["signature"][:-2] + "00"),
    )
    borrowed = good["cosignatures"][1]["signature"]
    broken(
        "another cosigner's signature under an address",
        "cosignature-invalid",
        signature_member("signature", borrowed),
    )
    cases.append(
        {
            "desc": "two of four departments cosigned (the threshold is three)",
            "reason": "cosigners-too-few",
            "checkpoint": _checkpoint(trust, number, block_hash, (11, 12)),
        }
    )
    same_department = copy.deepcopy(trust)
    keys = same_department["checkpoints"]["cosigners"]
    keys[1] = {**keys[1], "department": keys[0]["department"], "code": keys[0]["code"]}
    account = {dev_account(n).address: n for n in COSIGNER_ACCOUNTS}
    cases.append(
        {
            "desc": "three keys cosigned, two of them one department's",
            "reason": "cosigners-too-few",
            "checkpoint": _checkpoint(
                trust, number, block_hash, tuple(account[k["address"]] for k in keys[:3])
            ),
            "trust": same_department,
        }
    )
    without = {k: v for k, v in trust.items() if k != "checkpoints"}
    cases.append(
        {
            "desc": "a trust file that names no cosigners",
            "reason": "trust-no-cosigners",
            "checkpoint": good,
            "trust": without,
        }
    )
    return cases


def _bundle_cases(
    trust: dict[str, Any], bundle: dict[str, Any], hashes: list[str]
) -> list[dict[str, Any]]:
    first = bundle["block_number"]
    last = first + len(hashes) - 1
    three = (11, 12, 13)

    def with_checkpoint(number: int, block_hash: str) -> dict[str, Any]:
        return {**bundle, "checkpoint": _checkpoint(trust, number, block_hash, three)}

    parent = (
        "0x"
        + bytes(
            __import__("rlp").decode(bytes.fromhex(bundle["sealed"]["headers"][0][2:]))[0]
        ).hex()
    )
    without = {k: v for k, v in trust.items() if k != "checkpoints"}
    return [
        {"desc": "cosigned at the last sealed header", "bundle": with_checkpoint(last, hashes[-1])},
        {"desc": "cosigned at the anchor's block", "bundle": with_checkpoint(first, hashes[0])},
        {"desc": "no checkpoint (null)", "bundle": {**bundle, "checkpoint": None}},
        {
            "desc": "cosigned at the anchor block's parent",
            "reason": "checkpoint-below-anchor",
            "bundle": with_checkpoint(first - 1, parent),
        },
        {
            "desc": "cosigned above the last sealed header",
            "reason": "checkpoint-unlinked",
            "bundle": with_checkpoint(last + 1, hashes[-1]),
        },
        {
            "desc": "cosigned hash is not the sealed header's",
            "reason": "checkpoint-unlinked",
            "bundle": with_checkpoint(last, hashes[0]),
        },
        {
            "desc": "a checkpoint whose cosignature does not verify",
            "reason": "cosignature-invalid",
            "bundle": {
                **bundle,
                "checkpoint": {
                    **with_checkpoint(last, hashes[-1])["checkpoint"],
                    "number": last - 1,
                    "hash": hashes[-2],
                },
            },
        },
        {
            "desc": "a malformed checkpoint",
            "reason": "checkpoint-form",
            "bundle": {**bundle, "checkpoint": []},
        },
        {
            "desc": "a checkpoint and a trust file that names no cosigners",
            "bundle": with_checkpoint(last, hashes[-1]),
            "trust": without,
            "unchecked_checkpoint": True,
        },
    ]


def _check(cases: list[dict[str, Any]], trust: dict[str, Any], *, bundles: bool) -> None:
    for case in cases:
        case_trust = ConsortiumTrust.from_dict(case.get("trust", trust))
        try:
            if bundles:
                answer = verify_bundle_offline(case["bundle"], case_trust)
                got = None
                checkpoint = answer.checkpoint
                if case.get("unchecked_checkpoint"):
                    assert checkpoint is None, case["desc"]
                    assert answer.unchecked, case["desc"]
                elif case["bundle"].get("checkpoint") is not None:
                    assert checkpoint is not None, case["desc"]
            else:
                check_checkpoint(case["checkpoint"], case_trust)
                got = None
        except (CheckpointError, OfflineProofError) as exc:
            got = exc.reason
        assert got == case.get("reason"), (case["desc"], got)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    source = json.loads(SOURCE.read_text(encoding="utf-8"))
    trust = _trust(source)
    bundle = next(
        c["bundle"]
        for c in source["cases"]
        if c.get("valid") and not c["bundle"]["sealed"]["history"]
    )
    hashes = ["0x" + keccak(bytes.fromhex(h[2:])).hex() for h in bundle["sealed"]["headers"]]
    number = bundle["block_number"] + len(hashes) - 1
    cases = _cases(trust, number, hashes[-1])
    bundle_cases = _bundle_cases(trust, bundle, hashes)
    _check(cases, trust, bundles=False)
    _check(bundle_cases, trust, bundles=True)
    document = {
        "desc": (
            "Cosigned checkpoints (docs/CHECKPOINTS.md) of the blocks of a real sealed bundle "
            "(tests/vectors/offline_bundles.json's first), cosigned with development keys, and "
            "one broken case per reason; made by scripts/make_checkpoint_vectors.py. A case "
            "without `reason` is valid; a case's `trust` replaces the file's. `checkpoints` are "
            "checked alone, `bundles` offline as sealed proof bundles."
        ),
        "trust": trust,
        "checkpoints": cases,
        "bundles": bundle_cases,
    }
    args.out.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {len(cases) + len(bundle_cases)} cases to {args.out}")


if __name__ == "__main__":
    main()

"""Examples shown in the OpenAPI document, one per route (ids shortened for reading)."""

from __future__ import annotations

from typing import Any

__all__ = ["ok", "problems"]

H = "0x" + "3f" * 32
ROOT = "0x" + "a1" * 32
DATASET_ID = "0x" + "d5" * 32
# A version is keyed by its dataset and root: keccak256(abi.encode(dataset id, root)).
VERSION_ID = "0x" + "e5" * 32
PARENT_ID = "0x" + "b2" * 32  # the version it derives from (parents are version ids)
REGISTRY = "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512"  # DatasetRegistry, as in "consortium"
TX = "0x" + "7c" * 32
DEPT = {"id": "0x" + "5e" * 32, "name": "杭州市民政局"}
CONSUMER = {"id": "0x" + "6d" * 32, "name": "杭州市公安局"}
# A department as the index's answers name it: flags say when a name needs its id beside it.
DEPT_REF = {**DEPT, "name_flags": []}
CONSUMER_REF = {**CONSUMER, "name_flags": []}
TIME = "2026-11-20T08:00:00+00:00"

VERSION = {
    "id": VERSION_ID,
    "root": ROOT,
    "dataset_id": DATASET_ID,
    "owner": {**DEPT, "status": "active"},
    "anchored_by": {**DEPT, "status": "active"},
    "leaf_count": 2,
    "block_number": 42,
    "anchored_at": TIME,
    "transaction": TX,
    "confirmations": 3,
    "final": True,
    "revoked_at": None,
    "parents": [],
}
VERIFICATION = {
    "query": f"file content {H}",
    "anchored": True,
    "status": "anchored",
    "matches": [
        {
            "leaf_hash": "0x" + "0b" * 32,
            "kind": "file",
            "digest": "sha256",
            "content_hash": H,
            "path": "杭州市最低生活保障实施办法.txt",
            "record_index": None,
            "version": VERSION,
            "lineage": [],
            "erasure": None,
            "unattributed_erasures": 0,
            "status": "anchored",
            "proof_url": f"/v1/proofs/0x{'0b' * 32}",
            "authorizations": [
                {
                    "agreement_id": "0x" + "ae" * 32,
                    "provider": {**DEPT, "status": "active"},
                    "consumer": {**CONSUMER, "status": "active"},
                    "purpose": "0x" + "9f" * 32,
                    "legal_basis": "0x" + "8e" * 32,
                    "terms_hash": "0x" + "7d" * 32,
                    "valid_from": TIME,
                    "valid_until": "2027-11-20T08:00:00+00:00",
                    "receipts": [],
                }
            ],
        }
    ],
    "index": {"block_number": 44, "node_reachable": True},
}
BUNDLE = {
    "format": "xietong-proof/3",
    "leaf": {
        "kind": "file",
        "types": ["bytes32", "string"],
        "values": [H, "policy.txt"],
        "hash": "0x" + "0b" * 32,
    },
    "proof": ["0x" + "c4" * 32],
    "root": ROOT,
    "dataset_id": DATASET_ID,
    "version_id": VERSION_ID,
    "leaf_count": 2,
    "chain_id": 31337,
    "contract": REGISTRY,
    "transaction": TX,
    "block_number": 42,
    "anchored_at": TIME,
    "publisher": {"id": DEPT["id"]},
    "sealed": None,
}
RECORD_BUNDLE = {
    **BUNDLE,
    "leaf": {
        "kind": "record",
        "types": ["bytes32", "bytes32"],
        "values": ["0x" + "4e" * 32, "0x" + "5a" * 32],
        "hash": "0x" + "0c" * 32,
    },
}
RECORD_VERIFICATION = {
    "query": "the record",
    "anchored": True,
    "status": "anchored",
    "matches": [
        {
            "leaf_hash": "0x" + "0c" * 32,
            "kind": "record",
            "digest": "sha256",
            "content_hash": None,
            "path": None,
            "record_index": 3,
            "version": VERSION,
            "lineage": [],
            "erasure": None,
            "unattributed_erasures": 0,
            "status": "anchored",
            "proof_url": f"/v1/proofs/0x{'0c' * 32}?version={VERSION_ID}",
            "authorizations": [],
            "proof": RECORD_BUNDLE,
        }
    ],
    "index": {"block_number": 44, "node_reachable": True},
}
CODE_HASH = "0x" + "c7" * 32  # keccak256 of the catalogue code, e.g. "HZ-MZ-DIBAO"
DATASET_ITEM = {
    "id": DATASET_ID,
    "owner": DEPT_REF,
    "code_hash": CODE_HASH,
    "metadata_hash": "0x" + "e1" * 32,
    "registered_at": TIME,
    "transaction": TX,
    "version_count": 2,
    "latest_root": ROOT,
    "latest_anchored_at": TIME,
}
VERSION_ROW = {
    "id": VERSION_ID,
    "root": ROOT,
    "dataset_id": DATASET_ID,
    "department": DEPT_REF,
    "leaf_count": 252,
    "metadata_hash": "0x" + "e2" * 32,
    "anchored_at": TIME,
    "block_number": 42,
    "transaction": TX,
    "parents": [PARENT_ID],
    "status": "anchored",
    "revoked_at": None,
    "revoke_reason_hash": None,
    "erasures": [],
}
AGREEMENT = {
    "id": "0x" + "ae" * 32,
    "status": "active",
    "provider": DEPT_REF,
    "consumer": CONSUMER_REF,
    "proposer": DEPT_REF,
    "datasets": ["0x" + "d5" * 32],
    "purpose": "0x" + "9f" * 32,
    "legal_basis": "0x" + "8e" * 32,
    "terms_hash": "0x" + "7d" * 32,
    "valid_from": TIME,
    "effective_from": TIME,
    "valid_until": "2027-11-20T08:00:00+00:00",
    "proposed_at": TIME,
    "accepted_at": TIME,
    "accepted_by": "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
    "closed_at": None,
    "reason_hash": None,
    "supersedes": None,
    "superseded_by": None,
}
DATASET = {
    "id": DATASET_ID,
    "owner": DEPT_REF,
    "code_hash": CODE_HASH,
    "metadata_hash": "0x" + "e1" * 32,
    "registered_at": TIME,
    "block_number": 40,
    "transaction": TX,
    "versions": [VERSION_ROW],
    "lineage": [{"from": PARENT_ID, "to": VERSION_ID}],
    "agreements": [AGREEMENT],
}
COMMITMENT = {
    "id": "0x" + "c0" * 32,
    "status": "active",
    "matter_ref": "0x" + "4d" * 32,
    "lead": {"id": "0x" + "7a" * 32, "name": "杭州市卫生健康委员会", "name_flags": []},
    "deadline": "2026-12-05T08:00:00+00:00",
    "proposed_at": TIME,
    "activated_at": TIME,
    "closed_at": None,
    "closing_hash": None,
    "participants": [
        {
            "department": CONSUMER_REF,
            "duty_hash": "0x" + "1d" * 32,
            "signed_at": TIME,
            "signer": "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
            "done_at": None,
            "last_evidence_hash": None,
            "report_count": 0,
        }
    ],
}
DEPARTMENT: dict[str, Any] = {
    **DEPT,
    "display_name": DEPT["name"],
    "name_flags": [],
    "name_hex": None,
    "status": "active",
    "admitted_at": TIME,
    "status_changed_at": TIME,
}
# A name that needs a warning: a zero-width space (U+200B) after it. The display name shows it
# escaped, with the department's id beside it.
FLAGGED_DEPARTMENT: dict[str, Any] = {
    "id": "0x" + "66" * 32,
    "name": "杭州市民政局\u200b",
    "display_name": "杭州市民政局\\u200b [0x" + "66" * 32 + "]",
    "name_flags": ["zero-width", "lookalike"],
    "name_hex": None,
    "status": "active",
    "admitted_at": TIME,
    "status_changed_at": TIME,
}
EVENT = {
    "block_number": 42,
    "log_index": 0,
    "time": TIME,
    "transaction": TX,
    "contract": "SharingAgreements",
    "event": "AgreementRevoked",
    "department_id": DEPT["id"],
    "department": DEPT["name"],
    "subject_id": "0x" + "ae" * 32,
    "args": {"agreementId": "0x" + "ae" * 32, "reasonHash": "0x" + "11" * 32},
}
BATCH = {
    "batch_id": "4f1c2d8e9a7b4c3d8e9f0a1b2c3d4e5f",
    "dataset_id": "0x" + "d5" * 32,
    "status": "confirmed",
    "leaf_count": 2,
    "root": ROOT,
    "transaction": TX,
    "block_number": 43,
    "error": None,
}
TRANSACTION = {"transaction": TX, "block_number": 44}
PROPOSAL = {
    "id": 5,
    "kind": "admit",
    "status": "open",
    "proposer": DEPT_REF,
    "department": {"id": "0x" + "9d" * 32, "name": None, "name_flags": []},
    "name": "杭州市医疗保障局",
    "display_name": "杭州市医疗保障局",
    "name_flags": [],
    "name_hex": None,
    "account": "0x" + "11" * 20,
    "approvals": 1,
    "created_at": TIME,
    "expires_at": "2026-11-27T08:00:00+00:00",
    "executed_at": None,
}
PAGE = {"next_cursor": "WzE3NjM2MjU2MDAsIjB4YWUuLi4iXQ"}


_SIGNATURE: dict[str, Any] = {
    "seq": 7,
    "number": 48,
    "hash": "0x" + "4b" * 32,
    "address": "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC",
    "department": DEPT["id"],
    "code": "11330100MB1A00002K",
    "time": 1763625600,
    "signature": "0x" + "2f" * 64 + "1c",
}
_SIGNATURE_2: dict[str, Any] = {
    **_SIGNATURE,
    "seq": 9,
    "address": "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
    "department": CONSUMER["id"],
    "code": "11330100MB1A00001P",
    "time": 1763625604,
}
_CONFLICT: dict[str, Any] = {
    "number": 48,
    "seen_at": TIME,
    "acknowledged_at": None,
    "hashes": [
        {"hash": "0x" + "4b" * 32, "departments": 1, "cosigners": [_SIGNATURE]},
        {
            "hash": "0x" + "e0" * 32,
            "departments": 1,
            "cosigners": [{**_SIGNATURE_2, "hash": "0x" + "e0" * 32}],
        },
    ],
}
_WATCHER: dict[str, Any] = {
    "id": "wh_4f1c2d8e9a7b4c3d8e9f0a1b2c3d4e5f",
    "department": "0x834d4f0bde746ba44227add2c505e406aaeb59e7a1a1ae3a18aeb665111fe350",
    "url": "https://hooks.mz.hangzhou.example/xietong",
    "topics": ["agreement.changed", "content.anchored-by-other"],
    "expiring_days": None,
    "start_block": 97,
    "matched_to": {"block_number": 120, "log_index": 3},
    "rotating_until": None,
    "created_at": "2026-12-06T08:00:00+00:00",
    "api_key": "2ab1df45c390",
    "messages": {"pending": 0, "delivered": 4, "dead": 1},
}
_WEBHOOK: dict[str, Any] = {
    "id": "msg_9b2e6f0c1d3a4b5c8e7f6a5b4c3d2e1f",
    "watcher_id": "wh_4f1c2d8e9a7b4c3d8e9f0a1b2c3d4e5f",
    "url": "https://hooks.mz.hangzhou.example/xietong",
    "topic": "content.anchored-by-other",
    "status": "dead",
    "attempts": 8,
    "next_attempt_at": None,
    "last_status": 503,
    "last_error": "the receiver answered HTTP 503",
    "created_at": "2026-12-06T08:01:02+00:00",
    "delivered_at": None,
    "body": {
        "type": "content.anchored-by-other",
        "timestamp": "2026-12-06T08:01:02+00:00",
        "data": {"department": "0x834d…e350", "event": "VersionAnchored", "block_number": 118},
    },
}

ERASURE = {
    "erasure_id": "0x" + "ee" * 32,
    "dataset_id": DATASET_ID,
    "root": ROOT,
    "erased_root": "0x" + "e0" * 32,
    "count": 2,
    "reason_hash": "0x" + "4e" * 32,
    **TRANSACTION,
}

EXAMPLES: dict[str, Any] = {
    "erasure": ERASURE,
    "verification": VERIFICATION,
    "file_verification": {**VERIFICATION, "size": 2816},  # bytes received
    "record_verification": RECORD_VERIFICATION,
    "bundle": BUNDLE,
    "datasets": {"items": [DATASET_ITEM], **PAGE},
    "dataset": DATASET,
    "agreements": {"items": [AGREEMENT], **PAGE},
    "agreement": {**AGREEMENT, "access_receipts": []},
    "commitments": {"items": [COMMITMENT], **PAGE},
    "commitment": COMMITMENT,
    "departments": {"items": [DEPARTMENT, FLAGGED_DEPARTMENT], "next_cursor": None},
    "department": DEPARTMENT,
    "events": {"items": [EVENT], **PAGE},
    "batch": BATCH,
    "authorization": {
        "authorized": True,
        "status": "authorized",
        "source": "chain",
        "block_number": 45,
        "agreement_id": AGREEMENT["id"],
        "agreement": AGREEMENT,
        "index": {
            "block_number": 44,
            "block_time": TIME,
            "chain_id": 31337,
            "synced_at": TIME,
            "age_seconds": 1,
        },
    },
    "agreement_tx": {"agreement_id": "0x" + "ae" * 32, **TRANSACTION},
    "commitment_tx": {"commitment_id": "0x" + "c0" * 32, **TRANSACTION},
    "provenance": {
        "prefix": {"xt": "https://xietong.example/ns#", "prov": "http://www.w3.org/ns/prov#"},
        "entity": {
            f"xt:version/{VERSION_ID}": {
                "prov:type": {"$": "xt:DatasetVersion", "type": "prov:QUALIFIED_NAME"},
                "xt:dataset": {"$": f"xt:dataset/{DATASET_ID}", "type": "prov:QUALIFIED_NAME"},
                "xt:root": ROOT,
            }
        },
        "agent": {
            f"xt:department/{DEPT['id']}": {
                "prov:type": {"$": "prov:Organization", "type": "prov:QUALIFIED_NAME"},
                "prov:label": DEPT["name"],
            }
        },
        "activity": {},
        "hadMember": {
            f"_:mem-{VERSION_ID}": {
                "prov:collection": f"xt:dataset/{DATASET_ID}",
                "prov:entity": f"xt:version/{VERSION_ID}",
            }
        },
    },
    "receipt_tx": {"agreement_id": "0x" + "a6" * 32, "receipt_index": 2, **TRANSACTION},
    "access_proof_check": {
        "valid": True,
        "agreement_id": "0x" + "a6" * 32,
        "receipt_index": 2,
        "record_hash": "0x" + "6e" * 32,
        "leaf": "0x" + "4b" * 32,
        "entry_count": 120,
        "period_start": "2026-11-01T00:00:00+00:00",
        "period_end": "2026-11-30T16:00:00+00:00",
        "recorded_at": TIME,
        "log_root": "0x" + "3c" * 32,
    },
    "reviewed_receipts": {
        "items": [
            {
                "agreement_id": "0x" + "a6" * 32,
                "agreement": None,
                "index": 0,
                "consumer": DEPT_REF,
                "log_root": "0x" + "3c" * 32,
                "entry_count": 30,
                "period_start": "2026-11-01T00:00:00+00:00",
                "period_end": "2026-11-15T00:00:00+00:00",
                "recorded_at": TIME,
                "block_number": 44,
                "transaction": TX,
                "flags": ["unknown-agreement"],
            }
        ],
        "next_cursor": None,
    },
    "batches": {
        "items": [
            {
                "batch_id": "4f1c2d8e9a7b4c3d8e9f0a1b2c3d4e5f",
                "root": ROOT,
                "transaction": None,
                "block_number": None,
                "dataset_id": DATASET_ID,
                "status": "failed",
                "leaf_count": 2,
                "error": "DatasetRegistry refused the anchor: dataset 0x… is not registered.",
            }
        ],
        "next_cursor": None,
    },
    "watcher": _WATCHER,
    "watchers": {"items": [_WATCHER]},
    "watcher_secret": {
        "watcher": _WATCHER,
        "secret": "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    },
    "webhook": _WEBHOOK,
    "webhooks": {"items": [_WEBHOOK], "next_cursor": None},
    "checkpoint_signatures": {"items": [_SIGNATURE, _SIGNATURE_2], "next_after": 9, "last_seq": 9},
    "checkpoint_form": {
        "number": 48,
        "hash": "0x" + "4b" * 32,
        "cosignatures": [
            {k: _SIGNATURE[k] for k in ("address", "time", "signature")},
            {k: _SIGNATURE_2[k] for k in ("address", "time", "signature")},
        ],
    },
    "checkpoint": {
        "number": 48,
        "threshold": 2,
        "conflict": False,
        "hashes": [
            {
                "hash": "0x" + "4b" * 32,
                "departments": 2,
                "cosigned": True,
                "cosigners": [_SIGNATURE, _SIGNATURE_2],
            }
        ],
    },
    "checkpoint_conflicts": {"items": [_CONFLICT]},
    "checkpoint_conflict": {**_CONFLICT, "acknowledged_at": TIME},
    "documents": {
        "hash": "0x" + "3e" * 32,
        "named": None,
        "documents": [
            {
                "kind": "agreement-terms",
                "subject_type": "agreement",
                "subject": "0x" + "a6" * 32,
                "status": "active",
                "department": None,
                "time": TIME,
            }
        ],
    },
    "catalogue": {
        "format": "xietong-catalogue/1",
        "texts": [{"rule": "code", "text": "eligibility-check", "hash": "0x" + "f6" * 32}],
    },
    "catalogue_names": {
        "names": {"0x" + "f6" * 32: {"text": "eligibility-check", "verified": True}}
    },
    "catalogue_import": {"imported": 1, "hashes": ["0x" + "f6" * 32]},
    "proposal": PROPOSAL,
    "proposals": {"items": [PROPOSAL], "next_cursor": None},
    "proposal_tx": {
        "proposal_id": 5,
        "kind": "admit",
        "approvals": 1,
        "executed": False,
        **TRANSACTION,
    },
    "consortium": {
        "format": "xietong-consortium/1",
        "chain_id": 31337,
        "genesis_hash": "0x" + "3f0b" * 16,
        "deployment_block": 1,
        "deployment_block_hash": "0x" + "9a1c" * 16,
        "contracts": {
            "DepartmentRegistry": "0x5FbDB2315678afecb367f032d93F642f64180aa3",
            "DatasetRegistry": "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512",
            "SharingAgreements": "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0",
            "JointCommitments": "0xCf7Ed3AccA5a467e9e704C703E8D87F634fB0Fc9",
        },
        "checkpoints": {
            "threshold": 2,
            "cosigners": [
                {
                    "address": "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC",
                    "department": "0x" + "5e" * 32,
                    "code": "11330100MB1A00002K",
                },
                {
                    "address": "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
                    "department": "0x" + "6d" * 32,
                    "code": "11330100MB1A00001P",
                },
                {
                    "address": "0x90F79bf6EB2c4f870365E785982E1f101E93b906",
                    "department": "0x" + "7e" * 32,
                    "code": "11330100MB1A00003F",
                },
            ],
        },
        "fingerprint": "a2de-df78-f93e-39e5-eabc-2bea-8bc6-743e",
    },
    "health": {"status": "ok"},
    "ready": {
        "ready": True,
        "reasons": [],
        "node": {
            "reachable": True,
            "head": 44,
            "head_age_seconds": 1,
            "url": "http://127.0.0.2:8545",
            "fallback": False,
        },
        "database": {"reachable": True},
        "checkpoints": {"conflicts": []},
        "index": {
            "block_number": 44,
            "block_time": TIME,
            "chain_id": 31337,
            "lag_blocks": 0,
            "behind_blocks": 0,
            "synced_at": TIME,
            "age_seconds": 1,
            "indexer": {
                "running": True,
                "last_pass_at": TIME,
                "caught_up_at": TIME,
                "last_error": None,
                "failures": 0,
            },
        },
    },
}


def ok(name: str, *, status: int = 200) -> dict[int | str, dict[str, Any]]:
    """The ``responses`` entry documenting a route's answer with its example."""
    return {status: {"content": {"application/json": {"example": EXAMPLES[name]}}}}


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``responses`` entries for the problem JSON a route may answer (the Problem schema is
    added to the document's components by ``create_app``)."""
    schema = {"$ref": "#/components/schemas/Problem"}
    return {
        s: {"description": "Problem", "content": {"application/problem+json": {"schema": schema}}}
        for s in statuses
    }

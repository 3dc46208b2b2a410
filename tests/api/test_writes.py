"""Write routes of 杭州市民政局's gateway (dev account 2) on the demo chain: submitting hashes
for anchoring, agreements with relayed EIP-712 consent, and the commitment lifecycle. Each
test reverts the chain and starts from a fresh database indexed from it."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ledger import merkle
from ledger.consent import make_consent, propose_agreement
from ledger.ids import AgreementTerms, code_hash, department_id, version_id
from ledger.keys import dev_account
from ledger.verify import verify_bundle
from tests.api._support import (
    CIVIL,
    CIVIL_DEV,
    DIBAO,
    HEALTH,
    HEALTH_DEV,
    NAMES,
    POLICY,
    PSB,
    PSB_DEV,
    Api,
    World,
    assert_problem,
    dataset_of,
)
from tests.support import fresh_database

UNKNOWN = "0x" + "5a" * 32


def hex_id(value: bytes) -> str:
    return "0x" + value.hex()


def iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).isoformat()


def chain_now(world: World) -> int:
    return int(world.client.w3.eth.get_block("latest")["timestamp"])


def advance(world: World, seconds: int) -> None:
    provider = world.client.w3.provider
    provider.make_request("evm_increaseTime", [seconds])  # type: ignore[arg-type]
    provider.make_request("evm_mine", [])  # type: ignore[arg-type]


def refused_by_contract(response: Any) -> str:
    """The decoded custom error of a 409 contract-revert problem."""
    body = assert_problem(response, 409, "contract-revert")
    assert isinstance(body["error_args"], dict)
    return str(body["error_name"])


def flush(api: Api) -> list[str]:
    """Seal and anchor every due batch now, as the background batcher would."""
    state = api.state
    done: list[str] = state.queue.flush(state.anchorer, now=float(2**40))
    return done


# --------------------------------------------------------------------------- anchoring


def test_submitted_hashes_are_anchored_then_verifiable(writer: Api, chain: World) -> None:
    files = {
        "2026/11/决定书-0001.pdf": b"%PDF decision 1",
        "2026/11/决定书-0002.pdf": b"%PDF decision 2",
    }
    leaves = [
        {"content_hash": "0x" + hashlib.sha256(data).hexdigest(), "name": name}
        for name, data in files.items()
    ]
    response = writer.post(
        "/v1/anchors", scope="anchor", json={"dataset": POLICY, "leaves": leaves + leaves[:1]}
    )
    assert response.status_code == 202, response.text
    batch = response.json()
    assert batch["status"] == "collecting" and batch["leaf_count"] == 2  # the repeat counts once
    assert batch["dataset_id"] == hex_id(dataset_of(CIVIL, POLICY))
    polled = writer.ok(f"/v1/anchors/{batch['batch_id']}", scope="anchor")
    assert polled["status"] == "collecting" and polled["root"] is None

    assert flush(writer) == [batch["batch_id"]]
    done = writer.ok(f"/v1/anchors/{batch['batch_id']}", scope="anchor")
    expected_root = merkle.MerkleTree.of(
        [[bytes.fromhex(leaf["content_hash"][2:]), leaf["name"]] for leaf in leaves],
        merkle.FILE_LEAF_TYPES,
    ).root
    assert done["status"] == "confirmed" and done["root"] == hex_id(expected_root)
    assert done["leaf_count"] == 2 and done["error"] is None
    client = chain.client
    policy = dataset_of(CIVIL, POLICY)
    assert client.call("DatasetRegistry", "isAnchored", policy, expected_root) is True
    receipt = client.w3.eth.get_transaction_receipt(done["transaction"])
    assert receipt["blockNumber"] == done["block_number"] and receipt["status"] == 1

    writer.sync()
    for leaf in leaves:
        answer = writer.ok("/v1/verify", params={"hash": leaf["content_hash"]})
        [match] = answer["matches"]
        assert (match["path"], match["version"]["root"]) == (leaf["name"], done["root"])
        assert match["version"]["id"] == hex_id(version_id(policy, expected_root))
        assert match["version"]["owner"]["name"] == NAMES[CIVIL]
        assert match["version"]["anchored_by"]["name"] == NAMES[CIVIL]
    assert flush(writer) == []  # nothing left to anchor

    # The same hashes again, in a batch of their own: it names the batch holding the version.
    repeat = writer.post("/v1/anchors", scope="anchor", json={"dataset": POLICY, "leaves": leaves})
    assert repeat.status_code == 202, repeat.text
    assert flush(writer) == [repeat.json()["batch_id"]]
    repeated = writer.ok(f"/v1/anchors/{repeat.json()['batch_id']}", scope="anchor")
    assert repeated["status"] == "redirected"
    assert repeated["error"] == (
        f"these hashes make root {done['root']}, the version of batch {batch['batch_id']} "
        "(now confirmed): follow that batch."
    )


def test_a_batch_the_chain_refused_is_listed_abandoned_and_never_blocks_its_hashes(
    writer: Api, chain: World
) -> None:
    """While 民政局 is suspended the registry refuses its anchors (new batches at once): the
    batch submitted before fails, is listed
    by GET /v1/anchors/failed and can be given up; once readmitted, the same hashes anchor."""
    civil = department_id(CIVIL)

    def membership(kind: int, proposer: int, approver: int) -> None:
        made = chain.client.transact(
            "DepartmentRegistry",
            "propose",
            kind,
            civil,
            "",
            "0x" + "00" * 20,
            sender=dev_account(proposer),
        )
        number = made.event("ProposalCreated")["proposalId"]
        chain.client.transact("DepartmentRegistry", "approve", number, sender=dev_account(approver))

    leaves = [{"content_hash": "0x" + hashlib.sha256(b"suspended").hexdigest(), "name": "s.pdf"}]
    body = {"dataset": POLICY, "leaves": leaves}
    submitted = writer.post("/v1/anchors", scope="anchor", json=body)
    assert submitted.status_code == 202, submitted.text
    first = submitted.json()["batch_id"]
    membership(1, PSB_DEV, HEALTH_DEV)  # suspended before the batch is anchored
    assert_problem(writer.post("/v1/anchors", scope="anchor", json=body), 409, "contract-revert")
    assert flush(writer) == [first]
    refused = writer.ok(f"/v1/anchors/{first}", scope="anchor")
    assert refused["status"] == "failed" and "suspended" in refused["error"], refused
    assert writer.ok("/v1/anchors/failed", scope="anchor") == {
        "items": [refused],
        "next_cursor": None,
    }
    malformed = writer.get("/v1/anchors/failed?cursor=bm90IGEgY3Vyc29y", scope="anchor")
    assert assert_problem(malformed, 400, "bad-input")["detail"] == (
        "the cursor is malformed; use the next_cursor of a page."
    )
    # Given up: it is no longer listed, and cannot be given up twice.
    gone = writer.post(f"/v1/anchors/{first}/abandon", scope="anchor")
    assert gone.status_code == 200 and gone.json()["status"] == "abandoned", gone.text
    assert writer.ok("/v1/anchors/failed", scope="anchor")["items"] == []
    again = writer.post(f"/v1/anchors/{first}/abandon", scope="anchor")
    assert assert_problem(again, 409, "anchor")["detail"] == (
        f"anchoring {first} is abandoned: only a failed one can be abandoned."
    )
    assert_problem(
        writer.post(f"/v1/anchors/{'0' * 32}/abandon", scope="anchor"), 404, "unknown-batch"
    )
    # Readmitted, the same hashes anchor: a refused version never blocks its content.
    membership(2, PSB_DEV, HEALTH_DEV)  # Readmit
    second = writer.post("/v1/anchors", scope="anchor", json=body).json()["batch_id"]
    flush(writer)
    # The version the first batch held is anchored again under that batch, which the new
    # batch names.
    redirected = writer.ok(f"/v1/anchors/{second}", scope="anchor")
    assert redirected["status"] == "redirected", redirected
    assert redirected["error"] == (
        f"these hashes make root {refused['root']}, the version of batch {first} (now "
        "confirmed): follow that batch."
    )
    assert writer.ok(f"/v1/anchors/{first}", scope="anchor")["status"] == "confirmed"
    assert writer.ok("/v1/anchors/failed", scope="anchor")["items"] == []
    confirmed = writer.post(f"/v1/anchors/{first}/abandon", scope="anchor")
    assert assert_problem(confirmed, 409, "anchor")["detail"] == (
        f"anchoring {first} is confirmed: only a failed one can be abandoned."
    )
    followed = writer.post(f"/v1/anchors/{second}/abandon", scope="anchor")
    assert assert_problem(followed, 409, "anchor")["detail"] == (
        f"batch {second} is redirected: only a failed one can be abandoned."
    )


def test_a_full_batch_is_anchored_without_waiting(
    chain: World, database_url: str, make_api: Any
) -> None:
    api = make_api(
        chain.settings(database_url=database_url, anchor_batch_size=2, anchor_batch_seconds=3600)
    )
    api.sync()
    first = [
        {"content_hash": "0x" + "01" * 32, "name": "a"},
        {"content_hash": "0x" + "02" * 32, "name": "b"},
    ]
    full = api.post("/v1/anchors", scope="anchor", json={"dataset": POLICY, "leaves": first}).json()
    third = [{"content_hash": "0x" + "03" * 32, "name": "c"}]
    fresh = api.post(
        "/v1/anchors", scope="anchor", json={"dataset": POLICY, "leaves": third}
    ).json()
    assert fresh["batch_id"] != full["batch_id"]  # a full batch takes no more hashes
    state = api.state
    assert state.queue.flush(state.anchorer) == [full["batch_id"]]  # the young one waits
    assert api.ok(f"/v1/anchors/{full['batch_id']}", scope="anchor")["status"] == "confirmed"
    assert api.ok(f"/v1/anchors/{fresh['batch_id']}", scope="anchor")["status"] == "collecting"


def register(
    chain: World, department: str, operator: int, code: str, metadata: bytes = b"\x00" * 32
) -> str:
    """Department ``department`` (its operator dev account ``operator``) registers its dataset
    of catalogue code ``code`` straight on chain, by default without a description (a SHA-256
    dataset whatever the catalogue holds); the 0x dataset id."""
    chain.client.transact(
        "DatasetRegistry",
        "registerDataset",
        code_hash(code),
        metadata,
        sender=dev_account(operator),
    )
    return hex_id(dataset_of(department, code))


def test_anchoring_refuses_other_departments_and_unknown_datasets(
    writer: Api, chain: World
) -> None:
    # Described by a text this gateway does not hold: it is another's dataset before anything.
    huji = register(chain, PSB, PSB_DEV, "HZ-GA-HUJI", code_hash("户籍库 · 杭州市公安局"))
    writer.sync()
    leaves = [{"content_hash": "0x" + "11" * 32, "name": "a.txt"}]
    theirs = writer.post("/v1/anchors", scope="anchor", json={"dataset": huji, "leaves": leaves})
    assert_problem(theirs, 403, "not-owner")
    # A code names this gateway's department's dataset: 杭州市民政局 has no HZ-GA-HUJI.
    by_code = writer.post(
        "/v1/anchors", scope="anchor", json={"dataset": "HZ-GA-HUJI", "leaves": leaves}
    )
    assert_problem(by_code, 404, "unknown-dataset")
    unknown = writer.post(
        "/v1/anchors", scope="anchor", json={"dataset": "HZ-NO-SUCH", "leaves": leaves}
    )
    assert_problem(unknown, 404, "unknown-dataset")
    bad_hash = [{"content_hash": "0x11", "name": "a.txt"}]
    refused = writer.post(
        "/v1/anchors", scope="anchor", json={"dataset": POLICY, "leaves": bad_hash}
    )
    assert_problem(refused, 400, "bad-hash")
    for body in (
        {"dataset": POLICY, "leaves": []},
        {"dataset": POLICY, "leaves": [{"content_hash": "0x" + "11" * 32, "name": "n" * 1025}]},
        {"leaves": leaves},
    ):
        assert_problem(
            writer.post("/v1/anchors", scope="anchor", json=body), 422, "invalid-request"
        )
    assert_problem(writer.get("/v1/anchors/" + "0" * 32, scope="anchor"), 404, "unknown-batch")
    assert_problem(writer.get("/v1/anchors/not-a-batch", scope="anchor"), 422, "invalid-request")
    assert flush(writer) == []


def test_a_code_two_departments_registered_is_ambiguous_but_each_id_works(
    writer: Api, chain: World
) -> None:
    """Dataset ids derive from owner and code: 杭州市公安局 registering 杭州市民政局's code
    makes a second dataset, not a takeover. A read by the code alone is refused, naming both
    ids; each id reads its own dataset; the gateway's anchors by code stay its own."""
    civil = hex_id(dataset_of(CIVIL, DIBAO))
    psb = register(chain, PSB, PSB_DEV, DIBAO)
    assert psb != civil
    writer.sync()
    problem = assert_problem(writer.get(f"/v1/datasets/{DIBAO}"), 400, "ambiguous-dataset")
    assert civil in problem["detail"] and psb in problem["detail"]
    assert_problem(writer.get(f"/v1/datasets/{DIBAO}/provenance"), 400, "ambiguous-dataset")
    ours, theirs = writer.ok(f"/v1/datasets/{civil}"), writer.ok(f"/v1/datasets/{psb}")
    assert (ours["id"], ours["owner"]["name"], len(ours["versions"])) == (civil, NAMES[CIVIL], 2)
    assert (theirs["id"], theirs["owner"]["name"], theirs["versions"]) == (psb, NAMES[PSB], [])
    assert ours["code_hash"] == theirs["code_hash"] == hex_id(code_hash(DIBAO))
    assert writer.ok(f"/v1/datasets/{psb}/provenance")["entity"]
    # POST /v1/anchors resolves a code against the gateway's own department.
    leaves = [{"content_hash": "0x" + "12" * 32, "name": "b.txt"}]
    batch = writer.post("/v1/anchors", scope="anchor", json={"dataset": DIBAO, "leaves": leaves})
    assert batch.status_code == 202, batch.text
    assert batch.json()["dataset_id"] == civil


def test_the_same_content_anchored_by_two_departments_gives_two_matches(
    writer: Api, chain: World, make_api: Any, tmp_path: Path
) -> None:
    """The same file anchored by 杭州市民政局 (this gateway) and by 杭州市公安局 (its own
    gateway, its own dataset): one root, two versions, each attributed to its department."""
    content = "0x" + hashlib.sha256(b"%PDF joint notice").hexdigest()
    leaves = [{"content_hash": content, "name": "2026/11/联合通知.pdf"}]
    ours = writer.post("/v1/anchors", scope="anchor", json={"dataset": POLICY, "leaves": leaves})
    assert ours.status_code == 202, ours.text
    assert flush(writer) == [ours.json()["batch_id"]]
    psb_policy = register(chain, PSB, PSB_DEV, "HZ-GA-NOTICES")
    folder = tmp_path / "psb"
    folder.mkdir()
    with fresh_database("sqlite", folder) as url:
        psb_gateway = make_api(chain.settings(database_url=url, dev_account=PSB_DEV))
        psb_gateway.sync()
        theirs = psb_gateway.post(
            "/v1/anchors", scope="anchor", json={"dataset": "HZ-GA-NOTICES", "leaves": leaves}
        )
        assert theirs.status_code == 202, theirs.text
        assert theirs.json()["dataset_id"] == psb_policy
        assert flush(psb_gateway) == [theirs.json()["batch_id"]]
    writer.sync()
    answer = writer.ok("/v1/verify", params={"hash": content, "with_proof": "true"})
    assert answer["anchored"] is True and answer["status"] == "anchored"
    matches = {m["version"]["dataset_id"]: m for m in answer["matches"]}
    civil_policy = hex_id(dataset_of(CIVIL, POLICY))
    assert len(answer["matches"]) == 2 and set(matches) == {civil_policy, psb_policy}
    [root] = {m["version"]["root"] for m in answer["matches"]}
    for dataset, department in ((civil_policy, CIVIL), (psb_policy, PSB)):
        version = matches[dataset]["version"]
        assert version["id"] == hex_id(
            version_id(bytes.fromhex(dataset[2:]), bytes.fromhex(root[2:]))
        )
        named = {"id": hex_id(department_id(department)), "name": NAMES[department]}
        assert {k: version["owner"][k] for k in named} == named
        assert {k: version["anchored_by"][k] for k in named} == named
        check = verify_bundle(matches[dataset]["proof"], chain.client.w3, trust=chain.trust())
        assert (check.version_id, check.publisher["id"]) == (version["id"], named["id"])
        # The match's proof_url names its version, not just the root both versions share:
        # each department's proof credits that department.
        linked = writer.ok(matches[dataset]["proof_url"])
        check = verify_bundle(linked, chain.client.w3, trust=chain.trust())
        assert (check.version_id, check.publisher["id"]) == (version["id"], named["id"])
    assert matches[civil_policy]["version"]["id"] != matches[psb_policy]["version"]["id"]
    # The root alone no longer names one version: refused, with both version ids named.
    leaf = answer["matches"][0]["leaf_hash"]
    refused = writer.get(f"/v1/proofs/{leaf}", params={"root": root})
    assert refused.status_code == 400, refused.text
    problem = refused.json()
    assert problem["type"] == "urn:xietong:problem:bad-input"
    assert problem["detail"].startswith(f"root {root} is a version of 2 datasets: name one by its ")
    assert all(m["version"]["id"] in problem["detail"] for m in answer["matches"])


# --------------------------------------------------------------------------- agreements


def terms(**overrides: Any) -> dict[str, Any]:
    return {
        "provider": CIVIL,
        "consumer": HEALTH,
        "datasets": [POLICY],
        "purpose": "policy-review 政策评估",
        "legal_basis": "《政府信息公开条例》",
        "terms_hash": "0x" + "7d" * 32,
        "valid_from": "2020-01-01",
        "valid_until": "2099-01-01",
        **overrides,
    }


def test_a_proposal_withdrawn_and_an_agreement_amended_then_superseded(
    writer: Api, chain: World
) -> None:
    proposed = writer.post("/v1/agreements", json=terms()).json()["agreement_id"]
    withdrawn = writer.post(f"/v1/agreements/{proposed}/withdraw")
    assert withdrawn.status_code == 200, withdrawn.text
    again = writer.post(f"/v1/agreements/{proposed}/withdraw")
    assert assert_problem(again, 409, "contract-revert")["error_name"] == (
        "SharingAgreementsInvalidStatus"
    )
    # An active agreement amended: new purpose and end; 卫健委 accepts; the old one superseded.
    active = writer.post("/v1/agreements", json=terms()).json()["agreement_id"]
    chain.client.transact(
        "SharingAgreements", "accept", bytes.fromhex(active[2:]), sender=dev_account(HEALTH_DEV)
    )
    changed = {"purpose": "policy-review-2027 政策复核", "valid_until": "2098-01-01"}
    amended = writer.post(f"/v1/agreements/{active}/amend", json=changed)
    assert amended.status_code == 201, amended.text
    amendment = amended.json()["agreement_id"]
    assert amendment != active
    chain.client.transact(
        "SharingAgreements", "accept", bytes.fromhex(amendment[2:]), sender=dev_account(HEALTH_DEV)
    )
    writer.sync()
    old, new = writer.ok(f"/v1/agreements/{active}"), writer.ok(f"/v1/agreements/{amendment}")
    assert (old["status"], old["superseded_by"]) == ("superseded", amendment)
    assert (new["status"], new["supersedes"]) == ("active", active)
    assert new["purpose"] == "0x" + code_hash("policy-review-2027 政策复核").hex()
    assert new["valid_until"] == "2098-01-01T00:00:00+00:00"
    assert (new["datasets"], new["terms_hash"]) == (old["datasets"], old["terms_hash"])
    assert writer.ok(f"/v1/agreements/{proposed}")["status"] == "withdrawn"
    # Refusals: nothing to change, an agreement no longer active, a malformed field.
    empty = writer.post(f"/v1/agreements/{amendment}/amend", json={})
    assert assert_problem(empty, 400, "bad-input")["detail"] == (
        "an amendment changes something: datasets, purpose, legal basis, terms or validity."
    )
    stale = writer.post(f"/v1/agreements/{active}/amend", json=changed)
    assert assert_problem(stale, 409, "contract-revert")["error_name"] == (
        "SharingAgreementsInvalidStatus"
    )
    bad = writer.post(f"/v1/agreements/{amendment}/amend", json={"valid_until": "soon"})
    assert_problem(bad, 400, "bad-input")
    unknown = writer.post(f"/v1/agreements/{UNKNOWN}/amend", json=changed)
    assert_problem(unknown, 409, "contract-revert")


def test_agreement_proposed_accepted_by_relayed_consent_then_revoked(
    writer: Api, chain: World
) -> None:
    proposed = writer.post("/v1/agreements", json=terms())
    assert proposed.status_code == 201, proposed.text
    agreement = proposed.json()["agreement_id"]
    assert (
        chain.client.w3.eth.get_transaction_receipt(proposed.json()["transaction"])["status"] == 1
    )
    writer.sync()
    shown = writer.ok(f"/v1/agreements/{agreement}")
    assert shown["status"] == "proposed" and shown["proposer"]["name"] == NAMES[CIVIL]
    assert shown["purpose"] == hex_id(code_hash("policy-review 政策评估"))
    check = {
        "provider": CIVIL,
        "consumer": HEALTH,
        "dataset": POLICY,
        "purpose": "policy-review 政策评估",
    }
    assert writer.ok("/v1/authorizations/check", params=check)["authorized"] is False

    health = dev_account(HEALTH_DEV)
    consent = make_consent(chain.client, health, "AcceptAgreement", bytes.fromhex(agreement[2:]))
    accepted = writer.post(
        f"/v1/agreements/{agreement}/accept", json={"consent": consent.as_dict()}
    )
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["agreement_id"] == agreement
    writer.sync()
    shown = writer.ok(f"/v1/agreements/{agreement}")
    assert shown["status"] == "active" and shown["accepted_by"] == health.address
    assert writer.ok("/v1/authorizations/check", params=check)["authorized"] is True

    again = writer.post(f"/v1/agreements/{agreement}/accept")
    assert refused_by_contract(again) == "SharingAgreementsInvalidStatus"
    assert again.json()["error_args"]["agreementId"] == agreement

    revoked = writer.post(f"/v1/agreements/{agreement}/revoke", json={"reason": "用途超出约定范围"})
    assert revoked.status_code == 200, revoked.text
    writer.sync()
    shown = writer.ok(f"/v1/agreements/{agreement}")
    assert shown["status"] == "revoked" and shown["reason_hash"] == hex_id(
        code_hash("用途超出约定范围")
    )
    assert writer.ok("/v1/authorizations/check", params=check)["authorized"] is False
    twice = writer.post(f"/v1/agreements/{agreement}/revoke", json={"reason": "再次"})
    assert refused_by_contract(twice) == "SharingAgreementsInvalidStatus"


def test_agreement_consent_must_be_for_this_agreement(writer: Api, chain: World) -> None:
    first = writer.post("/v1/agreements", json=terms()).json()["agreement_id"]
    second = writer.post("/v1/agreements", json=terms(purpose="archive 归档")).json()[
        "agreement_id"
    ]
    health = dev_account(HEALTH_DEV)
    for_second = make_consent(chain.client, health, "AcceptAgreement", bytes.fromhex(second[2:]))
    wrong = writer.post(f"/v1/agreements/{first}/accept", json={"consent": for_second.as_dict()})
    assert "not a AcceptAgreement consent for" in assert_problem(wrong, 400, "bad-input")["detail"]
    sign_kind = make_consent(chain.client, health, "SignCommitment", bytes.fromhex(first[2:]))
    wrong_kind = writer.post(
        f"/v1/agreements/{first}/accept", json={"consent": sign_kind.as_dict()}
    )
    assert_problem(wrong_kind, 400, "bad-input")
    junk = writer.post(f"/v1/agreements/{first}/accept", json={"consent": {"format": "other"}})
    assert_problem(junk, 400, "bad-input")
    # The consent of a department that is not the counterparty is refused by the contract.
    psb = make_consent(
        chain.client, dev_account(PSB_DEV), "AcceptAgreement", bytes.fromhex(first[2:])
    )
    outsider = writer.post(f"/v1/agreements/{first}/accept", json={"consent": psb.as_dict()})
    assert refused_by_contract(outsider) == "SharingAgreementsNotCounterparty"
    # The proposer cannot reject its own proposal; the right consent still works after all this.
    rejected = writer.post(f"/v1/agreements/{first}/reject", json={"reason": "不同意"})
    assert refused_by_contract(rejected) == "SharingAgreementsNotCounterparty"
    for_first = make_consent(chain.client, health, "AcceptAgreement", bytes.fromhex(first[2:]))
    assert (
        writer.post(
            f"/v1/agreements/{first}/accept", json={"consent": for_first.as_dict()}
        ).status_code
        == 200
    )
    replay = writer.post(f"/v1/agreements/{first}/accept", json={"consent": for_first.as_dict()})
    assert refused_by_contract(replay) == "InvalidAccountNonce"
    assert replay.json()["detail"] == (
        f"agreement {first} is already active: nothing is left to accept (this consent, or "
        "another of its signer's, was relayed before)."
    )


def test_agreement_proposals_are_checked(writer: Api) -> None:
    not_party = writer.post(
        "/v1/agreements", json=terms(provider=PSB, consumer=HEALTH, datasets=[DIBAO])
    )
    assert refused_by_contract(not_party) == "SharingAgreementsNotParty"
    assert_problem(writer.post("/v1/agreements", json=terms(valid_from="soon")), 400, "bad-input")
    assert_problem(writer.post("/v1/agreements", json=terms(terms_hash="0x7d")), 400, "bad-hash")
    assert_problem(writer.post("/v1/agreements", json=terms(datasets=[])), 422, "invalid-request")
    undecodable = writer.post(
        "/v1/agreements", content=b'{"x": "\xff"}', headers={"Content-Type": "application/json"}
    )
    assert assert_problem(undecodable, 400, "malformed-json")["detail"] == (
        "the body is not valid JSON (it cannot be read)."
    )
    # A purpose longer than the catalogue keeps: proposed all the same (only not named).
    long_purpose = writer.post("/v1/agreements", json=terms(purpose="审" * 5000))
    assert long_purpose.status_code == 201, long_purpose.text
    not_json = writer.post(
        "/v1/agreements", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert assert_problem(not_json, 400, "malformed-json")["detail"] == (
        "the body is not valid JSON: Expecting property name enclosed in double quotes "
        "at character 1."
    )
    assert_problem(writer.post("/v1/agreements/0x12/accept"), 400, "bad-hash")
    unknown = writer.post(f"/v1/agreements/{UNKNOWN}/revoke", json={"reason": "x"})
    assert refused_by_contract(unknown) == "SharingAgreementsUnknownAgreement"


def agreement_until(chain: World, valid_until: int, consumer: tuple[str, int]) -> str:
    """An agreement on POLICY proposed and accepted straight on chain (as any department's
    own tools may), valid until ``valid_until``; its 0x id."""
    now = chain_now(chain)
    code, operator = consumer
    agreement_terms = AgreementTerms(
        provider=department_id(CIVIL),
        consumer=department_id(code),
        dataset_ids=(dataset_of(CIVIL, POLICY),),
        purpose=code_hash("archive 归档"),
        legal_basis=code_hash("《档案法》"),
        terms_hash=b"\x7d" * 32,
        valid_from=now - 60,
        valid_until=valid_until,
    )
    agreement, _ = propose_agreement(chain.client, dev_account(CIVIL_DEV), agreement_terms)
    chain.client.transact("SharingAgreements", "accept", agreement, sender=dev_account(operator))
    return hex_id(agreement)


def test_an_agreement_valid_beyond_year_9999_is_listed(writer: Api, chain: World) -> None:
    agreement = agreement_until(chain, 2**40, (PSB, PSB_DEV))
    writer.sync()
    [listed] = [a for a in writer.walk("/v1/agreements", dataset=POLICY) if a["id"] == agreement]
    assert listed["status"] == "active" and listed["valid_until"] is None


def test_a_file_shared_under_an_agreement_valid_forever_verifies(writer: Api, chain: World) -> None:
    content = "0x" + hashlib.sha256(b"shared for ever").hexdigest()
    leaves = [{"content_hash": content, "name": "forever.txt"}]
    assert (
        writer.post(
            "/v1/anchors", scope="anchor", json={"dataset": POLICY, "leaves": leaves}
        ).status_code
        == 202
    )
    flush(writer)
    agreement = agreement_until(chain, 2**64 - 1, (HEALTH, HEALTH_DEV))
    writer.sync()
    assert writer.ok(f"/v1/agreements/{agreement}")["valid_until"] is None
    [match] = writer.ok("/v1/verify", params={"hash": content})["matches"]
    [authorization] = match["authorizations"]
    assert authorization["agreement_id"] == agreement and authorization["valid_until"] is None


# --------------------------------------------------------------------------- commitments


def test_commitment_lifecycle_through_the_api(writer: Api, chain: World) -> None:
    deadline = iso(chain_now(chain) + 30 * 86_400)
    proposal = {
        "matter_ref": "低保 入户核查-0007",
        "deadline": deadline,
        "participants": [
            {"department": CIVIL, "duty": "核定救助"},
            {"department": PSB, "duty": "核实户籍"},
        ],
    }
    proposed = writer.post("/v1/commitments", json=proposal)
    assert proposed.status_code == 201, proposed.text
    commitment = proposed.json()["commitment_id"]
    writer.sync()
    shown = writer.ok(f"/v1/commitments/{commitment}")
    assert shown["status"] == "proposed" and shown["lead"]["name"] == NAMES[CIVIL]
    assert [p["signed_at"] is not None for p in shown["participants"]] == [True, False]

    early = writer.post(f"/v1/commitments/{commitment}/complete", json={"evidence": "办结"})
    assert refused_by_contract(early) == "JointCommitmentsInvalidStatus"
    psb = dev_account(PSB_DEV)
    consent = make_consent(chain.client, psb, "SignCommitment", bytes.fromhex(commitment[2:]))
    signed = writer.post(f"/v1/commitments/{commitment}/sign", json={"consent": consent.as_dict()})
    assert signed.status_code == 200, signed.text
    writer.sync()
    shown = writer.ok(f"/v1/commitments/{commitment}")
    assert shown["status"] == "active" and shown["participants"][1]["signer"] == psb.address

    twice = writer.post(f"/v1/commitments/{commitment}/sign")  # the lead signed on proposing
    assert refused_by_contract(twice) == "JointCommitmentsInvalidStatus"
    reported = writer.post(
        f"/v1/commitments/{commitment}/report", json={"evidence": "救助核定 完成"}
    )
    assert reported.status_code == 200, reported.text
    not_done = writer.post(f"/v1/commitments/{commitment}/complete", json={"evidence": "办结"})
    assert refused_by_contract(not_done) == "JointCommitmentsParticipantsNotDone"
    chain.client.transact(
        "JointCommitments",
        "reportProgress",
        bytes.fromhex(commitment[2:]),
        code_hash("户籍 核实"),
        True,
        sender=psb,
    )
    completed = writer.post(f"/v1/commitments/{commitment}/complete", json={"evidence": "办结"})
    assert completed.status_code == 200, completed.text
    writer.sync()
    shown = writer.ok(f"/v1/commitments/{commitment}")
    assert shown["status"] == "completed" and shown["closing_hash"] == hex_id(code_hash("办结"))
    assert [p["last_evidence_hash"] for p in shown["participants"]] == [
        hex_id(code_hash("救助核定 完成")),
        hex_id(code_hash("户籍 核实")),
    ]
    assert commitment in [c["id"] for c in writer.walk("/v1/commitments", status="completed")]


def test_an_unsigned_commitment_past_its_deadline_is_overdue_and_can_be_cancelled(
    writer: Api, chain: World
) -> None:
    deadline = chain_now(chain) + 3600
    proposal = {
        "matter_ref": "出生一件事-2026-000999",
        "deadline": iso(deadline),
        "participants": [
            {"department": CIVIL, "duty": "核定"},
            {"department": HEALTH, "duty": "签发"},
        ],
    }
    commitment = writer.post("/v1/commitments", json=proposal).json()["commitment_id"]
    writer.sync()
    assert commitment in [c["id"] for c in writer.walk("/v1/commitments", status="proposed")]
    assert writer.walk("/v1/commitments", status="overdue") == []
    advance(chain, 7200)
    writer.sync()
    assert [c["id"] for c in writer.walk("/v1/commitments", status="overdue")] == [commitment]
    assert commitment not in [c["id"] for c in writer.walk("/v1/commitments", status="proposed")]
    assert writer.ok(f"/v1/commitments/{commitment}")["status"] == "overdue"
    assert chain.client.call("JointCommitments", "isOverdue", bytes.fromhex(commitment[2:])) is True

    cancelled = writer.post(f"/v1/commitments/{commitment}/cancel", json={"reason": "事项已撤回"})
    assert cancelled.status_code == 200, cancelled.text
    writer.sync()
    assert writer.ok(f"/v1/commitments/{commitment}")["status"] == "cancelled"
    assert writer.walk("/v1/commitments", status="overdue") == []


def test_commitment_proposals_are_checked(writer: Api, chain: World) -> None:
    past = {
        "matter_ref": "m",
        "deadline": iso(chain_now(chain) - 60),
        "participants": [{"department": CIVIL, "duty": "d"}, {"department": PSB, "duty": "e"}],
    }
    in_the_past = writer.post("/v1/commitments", json=past)
    assert refused_by_contract(in_the_past) == "JointCommitmentsDeadlineInPast"
    assert_problem(
        writer.post("/v1/commitments", json={**past, "deadline": "later"}), 400, "bad-input"
    )
    assert_problem(
        writer.post("/v1/commitments", json={**past, "participants": []}), 422, "invalid-request"
    )
    unknown = writer.post(f"/v1/commitments/{UNKNOWN}/report", json={"evidence": "x"})
    assert refused_by_contract(unknown) == "JointCommitmentsUnknownCommitment"
    assert_problem(writer.post("/v1/commitments/0x12/sign"), 400, "bad-hash")


def test_a_long_lived_verifier_follows_the_index(writer: Api, chain: World) -> None:
    """The verifier keeps facts per index position: an agreement accepted or revoked and a
    version revoked after a first answer show in the next answer once indexed."""
    digest = "0x" + hashlib.sha256(b"%PDF notice 7").hexdigest()
    leaf = {"content_hash": digest, "name": "2026/11/通知-0007.pdf"}
    submitted = writer.post(
        "/v1/anchors", scope="anchor", json={"dataset": POLICY, "leaves": [leaf]}
    )
    assert submitted.status_code == 202, submitted.text
    assert flush(writer) == [submitted.json()["batch_id"]]
    writer.sync()
    query = {"hash": digest}
    first = writer.ok("/v1/verify", params=query)
    assert first["status"] == "anchored" and first["matches"][0]["authorizations"] == []

    agreement = writer.post("/v1/agreements", json=terms()).json()["agreement_id"]
    consent = make_consent(
        chain.client, dev_account(HEALTH_DEV), "AcceptAgreement", bytes.fromhex(agreement[2:])
    )
    assert (
        writer.post(
            f"/v1/agreements/{agreement}/accept", json={"consent": consent.as_dict()}
        ).status_code
        == 200
    )
    writer.sync()
    shared = writer.ok("/v1/verify", params=query)["matches"][0]["authorizations"]
    assert [a["agreement_id"] for a in shared] == [agreement]
    assert shared[0]["consumer"]["name"] == NAMES[HEALTH]

    assert (
        writer.post(f"/v1/agreements/{agreement}/revoke", json={"reason": "到期"}).status_code
        == 200
    )
    writer.sync()
    assert writer.ok("/v1/verify", params=query)["matches"][0]["authorizations"] == []

    root = first["matches"][0]["version"]["root"]
    chain.revoke_policy_version(root)
    writer.sync()
    after = writer.ok("/v1/verify", params=query)
    assert after["status"] == "revoked" and after["anchored"] is False
    assert after["matches"][0]["version"]["revoked_at"] is not None

"""Relayed EIP-712 consent that must not count, through the API: signed by the wrong key,
tampered after signing, replayed, made for another chain or contract, expired, garbage
signature bytes, or signed by an operator of a suspended department. Each is refused with
its own problem JSON (the contract's decoded error for reverts), and afterwards nothing has
changed on chain (no block, no nonce used, the subject as it was) or in the index.

Scopes are tested by tests/api/test_auth.py (every /v1 route refuses keys below its scope
with 403 ``forbidden``), so they are not repeated here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount

from ledger.eip712 import ConsentMessage, sign_consent
from ledger.events import jsonable
from ledger.ids import department_id
from ledger.keys import dev_account
from tests.api._support import (
    CIVIL,
    CIVIL_DEV,
    HEALTH,
    HEALTH_DEV,
    POLICY,
    PSB_DEV,
    Api,
    World,
    assert_problem,
)

SUSPEND = 1  # IDepartmentRegistry.ProposalKind.Suspend
DEPARTMENT_SUSPENDED = 2  # IDepartmentRegistry.DepartmentStatus.Suspended
ZERO_ADDRESS = "0x" + "00" * 20
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


@dataclass(frozen=True)
class Kind:
    consent: str  # the EIP-712 primary type
    contract: str
    view: str  # the contract's getter of the subject
    route: str  # the API route that relays the consent
    item: str  # the API route that shows the subject from the index


KINDS = {
    "agreement": Kind(
        "AcceptAgreement",
        "SharingAgreements",
        "agreement",
        "/v1/agreements/{}/accept",
        "/v1/agreements/{}",
    ),
    "commitment": Kind(
        "SignCommitment",
        "JointCommitments",
        "commitment",
        "/v1/commitments/{}/sign",
        "/v1/commitments/{}",
    ),
}


def chain_now(world: World) -> int:
    return int(world.client.w3.eth.get_block("latest")["timestamp"])


def propose(writer: Api, chain: World, kind: str, label: str) -> str:
    """A subject proposed by this gateway (杭州市民政局) with 杭州市卫生健康委员会 as the party
    whose consent is missing; its 0x id."""
    if kind == "agreement":
        response = writer.post(
            "/v1/agreements",
            json={
                "provider": CIVIL,
                "consumer": HEALTH,
                "datasets": [POLICY],
                "purpose": f"review {label}",
                "legal_basis": "《政府信息公开条例》",
                "terms_hash": "0x" + "7d" * 32,
                "valid_from": "2020-01-01",
                "valid_until": "2099-01-01",
            },
        )
        assert response.status_code == 201, response.text
        return str(response.json()["agreement_id"])
    deadline = datetime.fromtimestamp(chain_now(chain) + 30 * 86_400, tz=UTC).isoformat()
    response = writer.post(
        "/v1/commitments",
        json={
            "matter_ref": f"出生一件事 {label}",
            "deadline": deadline,
            "participants": [
                {"department": CIVIL, "duty": "核定"},
                {"department": HEALTH, "duty": "签发"},
            ],
        },
    )
    assert response.status_code == 201, response.text
    return str(response.json()["commitment_id"])


def document(
    chain: World,
    kind: Kind,
    subject: str,
    signer: LocalAccount,
    *,
    key: bytes | None = None,
    nonce: int = 0,
    deadline: int | None = None,
    chain_id: int | None = None,
    contract: str | None = None,
) -> dict[str, Any]:
    """A ``xietong-consent/1`` document for ``signer``, signed with ``key`` (default the
    signer's) over exactly the values it states."""
    message = ConsentMessage(
        kind=kind.consent,
        subject_id=bytes.fromhex(subject[2:]),
        signer=signer.address,
        nonce=nonce,
        deadline=chain_now(chain) + 3600 if deadline is None else deadline,
        chain_id=chain.client.chain_id if chain_id is None else chain_id,
        contract=chain.client.address(kind.contract) if contract is None else contract,
    )
    signature = sign_consent(message, signer.key if key is None else key)
    return {
        "format": "xietong-consent/1",
        "kind": message.kind,
        "subject_id": subject,
        "signer": message.signer,
        "nonce": message.nonce,
        "deadline": message.deadline,
        "chain_id": message.chain_id,
        "contract": message.contract,
        "signature": "0x" + signature.hex(),
    }


def on_chain(chain: World, kind: Kind, subjects: list[str], signer: str) -> tuple[Any, ...]:
    """What a refused consent must leave alone: the block height, the signer's nonce, the
    subjects as the contract holds them."""
    client = chain.client
    return (
        client.w3.eth.block_number,
        client.call(kind.contract, "nonces", signer),
        [jsonable(client.call(kind.contract, kind.view, bytes.fromhex(s[2:]))) for s in subjects],
    )


def indexed(writer: Api, kind: Kind, subjects: list[str]) -> list[Any]:
    """The subjects and their audit events as the index shows them, after a sync."""
    writer.sync()
    shown = []
    for subject in subjects:
        item = {k: v for k, v in writer.ok(kind.item.format(subject)).items() if k != "index"}
        events = writer.ok("/v1/audit/events", params={"subject": subject})["items"]
        shown.append((item, events))
    return shown


def high_s(signature: str) -> str:
    """The other, malleable form (s' = n - s, v flipped) of a valid signature."""
    raw = bytes.fromhex(signature[2:])
    r, s, v = raw[:32], int.from_bytes(raw[32:64], "big"), raw[64]
    return "0x" + (r + (SECP256K1_N - s).to_bytes(32, "big") + bytes([55 - v])).hex()


@pytest.mark.parametrize("name", KINDS)
def test_forged_replayed_foreign_and_suspended_consents_are_refused(
    name: str, writer: Api, chain: World, worlds: dict[str, World]
) -> None:
    kind = KINDS[name]
    health, psb = dev_account(HEALTH_DEV), dev_account(PSB_DEV)
    used, target = propose(writer, chain, name, "A"), propose(writer, chain, name, "B")
    url = kind.route.format(target)

    # A good consent counts once: nonce 0 of 杭州市卫生健康委员会 is now used.
    first = document(chain, kind, used, health)
    accepted = writer.post(kind.route.format(used), json={"consent": first})
    assert accepted.status_code == 200, accepted.text

    def sign(**changes: Any) -> dict[str, Any]:
        return document(chain, kind, target, health, **{"nonce": 1, **changes})

    good = sign()
    now = chain_now(chain)
    ours = chain.client.address(kind.contract)
    other_contract = KINDS["commitment" if name == "agreement" else "agreement"].contract
    # The same contract deployed again on this chain (the PostgreSQL world's deployment).
    twin = worlds["postgresql"].client.address(kind.contract)
    assert twin != ours
    prefix = kind.contract
    invalid = (409, "contract-revert", prefix + "InvalidSignature", {"signer": health.address})
    refused: list[tuple[str, str, dict[str, Any], tuple[int, str, str | None, dict[str, Any]]]] = [
        # (1) signed by another key than the signer it names
        (
            "another department's key",
            url,
            {**good, "signature": sign(key=psb.key)["signature"]},
            invalid,
        ),
        (
            "a stranger's key",
            url,
            {**good, "signature": sign(key=Account.create().key)["signature"]},
            invalid,
        ),
        # (2) tampered after signing
        ("deadline changed", url, {**good, "deadline": good["deadline"] + 60}, invalid),
        ("nonce changed", url, {**good, "nonce": 2}, invalid),
        (
            "signer changed",
            url,
            {**good, "signer": psb.address},
            (409, "contract-revert", prefix + "InvalidSignature", {"signer": psb.address}),
        ),
        ("subject changed", kind.route.format(used), {**good, "subject_id": used}, invalid),
        ("malleated (high s)", url, {**good, "signature": high_s(good["signature"])}, invalid),
        # (3) replayed: the used consent again, and its nonce for another subject
        (
            "replayed",
            kind.route.format(used),
            first,
            (
                409,
                "contract-revert",
                "InvalidAccountNonce",
                {"account": health.address, "currentNonce": 1},
            ),
        ),
        (
            "nonce reused",
            url,
            sign(nonce=0),
            (
                409,
                "contract-revert",
                "InvalidAccountNonce",
                {"account": health.address, "currentNonce": 1},
            ),
        ),
        (
            "nonce ahead",
            url,
            sign(nonce=5),
            (
                409,
                "contract-revert",
                "InvalidAccountNonce",
                {"account": health.address, "currentNonce": 1},
            ),
        ),
        # (4) another chain: said so (refused before the chain), or passed off as this one
        ("for chain 1", url, sign(chain_id=1), (400, "bad-input", None, {})),
        ("signed for chain 1", url, {**good, "signature": sign(chain_id=1)["signature"]}, invalid),
        # (5) another verifying contract: said so, or passed off as this one
        (
            "for the other contract",
            url,
            sign(contract=chain.client.address(other_contract)),
            (400, "bad-input", None, {}),
        ),
        ("for another deployment", url, sign(contract=twin), (400, "bad-input", None, {})),
        (
            "signed for another deployment",
            url,
            {**good, "signature": sign(contract=twin)["signature"]},
            invalid,
        ),
        (
            "signed for the other contract",
            url,
            {**good, "signature": sign(contract=chain.client.address(other_contract))["signature"]},
            invalid,
        ),
        # (6) expired
        (
            "expired",
            url,
            sign(deadline=now - 1),
            (409, "contract-revert", prefix + "SignatureExpired", {"deadline": now - 1}),
        ),
        # (8) garbage signature bytes
        ("empty signature", url, {**good, "signature": "0x"}, invalid),
        ("65 zero bytes", url, {**good, "signature": "0x" + "00" * 65}, invalid),
        ("65 0xff bytes", url, {**good, "signature": "0x" + "ff" * 65}, invalid),
        ("truncated", url, {**good, "signature": good["signature"][:-2]}, invalid),
        ("one byte more", url, {**good, "signature": good["signature"] + "00"}, invalid),
        ("v out of range", url, {**good, "signature": good["signature"][:-2] + "1d"}, invalid),
        ("not hex", url, {**good, "signature": "0x" + "zz" * 65}, (400, "bad-input", None, {})),
        ("not a string", url, {**good, "signature": 12345}, (400, "bad-input", None, {})),
    ]
    subjects = [used, target]
    chain_before = on_chain(chain, kind, subjects, health.address)
    assert chain_before[1] == 1
    index_before = indexed(writer, kind, subjects)
    for label, where, consent, (status, problem, error, args) in refused:
        body = assert_problem(writer.post(where, json={"consent": consent}), status, problem)
        if error is None:
            assert "error_name" not in body, label
            continue
        assert body["error_name"] == error, (label, body)
        assert {k: body["error_args"][k] for k in args} == args, (label, body)
    # A nonce ahead of the signer's next is not called spent: an earlier consent is missing.
    ahead = writer.post(url, json={"consent": sign(nonce=5)}).json()["detail"]
    assert ahead == (
        f"this consent has nonce 5, but {health.address}'s next is 1: a consent they made "
        "before it was never relayed; relay that one first, or ask for a new one."
    )
    reused = writer.post(url, json={"consent": sign(nonce=0)}).json()["detail"]
    assert "nonce 0 is spent" in reused or "nothing is left to accept" in reused, reused
    for label in ("for chain 1", "for the other contract"):
        [(_, _, consent, _)] = [case for case in refused if case[0] == label]
        detail = writer.post(url, json={"consent": consent}).json()["detail"]
        assert f"on chain {consent['chain_id']}" in detail and consent["contract"] in detail
    assert on_chain(chain, kind, subjects, health.address) == chain_before
    assert indexed(writer, kind, subjects) == index_before

    # (7) an operator of a suspended department: its consent is refused, though well made.
    registry = "DepartmentRegistry"
    health_id = department_id(HEALTH)
    tx = chain.client.transact(
        registry, "propose", SUSPEND, health_id, "", ZERO_ADDRESS, sender=psb
    )
    chain.client.transact(
        registry,
        "approve",
        tx.event("ProposalCreated")["proposalId"],
        sender=dev_account(CIVIL_DEV),
    )
    assert chain.client.call(registry, "isActive", health_id) is False
    chain_before = on_chain(chain, kind, subjects, health.address)
    index_before = indexed(writer, kind, subjects)
    suspended = writer.post(url, json={"consent": sign()})
    body = assert_problem(suspended, 409, "contract-revert")
    assert body["error_name"] == "DepartmentRegistryDepartmentNotActive", body
    assert body["error_args"] == {
        "departmentId": "0x" + health_id.hex(),
        "status": DEPARTMENT_SUSPENDED,
    }
    assert on_chain(chain, kind, subjects, health.address) == chain_before
    assert indexed(writer, kind, subjects) == index_before
    assert index_before[1][0]["status"] == "proposed"

"""``/v1/agreements`` and ``/v1/authorizations/check``: data-sharing agreements (数据共享授权)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Query
from pydantic import BaseModel, Field

from ledger import receipts, refs
from ledger.chain.reads import read_agreement
from ledger.consent import amend_agreement, amended_terms, propose_agreement
from ledger.db import queries
from ledger.errors import ChainError, ContractRevertError
from ledger.ids import code_hash
from ledger.proposals import agreement_terms, amendment
from ledger.refs import parse_hash

from ..deps import SessionDep, StateDep, require
from ..examples import ok, problems
from ..schemas import (
    AccessProofCheck,
    AgreementList,
    AgreementTransaction,
    AgreementWithReceipts,
    Authorization,
    ReceiptTransaction,
)
from ._params import Cursor, DepartmentRef, Limit, page
from ._writes import ConsentBody, consent_or_relay, mined, transact

router = APIRouter(prefix="/v1/agreements", tags=["agreements"])
checks = APIRouter(
    prefix="/v1/authorizations", tags=["agreements"], dependencies=[Depends(require("read"))]
)
AgreementId = Annotated[
    str, Path(description="Agreement id (0x and 64 hex digits).", examples=["0x" + "ae" * 32])
]
Status = Annotated[
    str | None, Query(description=f"One of {', '.join(queries.AGREEMENT_STATUSES)}.")
]


@router.get(
    "",
    summary="List agreements",
    response_model=AgreementList,
    dependencies=[Depends(require("read"))],
    responses={**ok("agreements"), **problems(400, 404)},
)
def list_agreements(
    session: SessionDep,
    department: DepartmentRef = None,
    dataset: Annotated[
        str | None,
        Query(description="Dataset id, or code when one department registered it (else 400)."),
    ] = None,
    status: Status = None,
    cursor: Cursor = None,
    limit: Limit = 100,
) -> dict[str, Any]:
    """Agreements, oldest first; ``department`` matches provider or consumer."""
    return page(
        queries.list_agreements(
            session=session,
            department=refs.hex_id(department, what="department") if department else None,
            dataset=queries.resolve_dataset(session=session, text=dataset) if dataset else None,
            status=status,
            cursor=cursor,
            limit=limit,
        )
    )


@router.get(
    "/{agreement}",
    summary="An agreement and its access receipts",
    response_model=AgreementWithReceipts,
    dependencies=[Depends(require("read"))],
    responses={**ok("agreement"), **problems(400, 404)},
)
def get_agreement(session: SessionDep, agreement: AgreementId) -> dict[str, Any]:
    """One agreement, with its access receipts."""
    return queries.get_agreement(
        session=session, agreement_id="0x" + parse_hash(agreement, what="agreement id").hex()
    )


@checks.get(
    "/check",
    summary="May the provider share the dataset with the consumer for the purpose now?",
    response_model=Authorization,
    responses={**ok("authorization"), **problems(400)},
)
def check(
    state: StateDep,
    session: SessionDep,
    provider: Annotated[
        str,
        Query(description="Provider department (0x id or code).", examples=["11330100MB1A00002K"]),
    ],
    consumer: Annotated[
        str,
        Query(description="Consumer department (0x id or code).", examples=["11330100MB1A00001P"]),
    ],
    dataset: Annotated[
        str, Query(description="Dataset (0x id or code).", examples=["HZ-MZ-DIBAO"])
    ],
    purpose: Annotated[
        str,
        Query(
            description="Purpose code as agreed, or its 0x hash.",
            examples=["eligibility-check 低保资格核查"],
        ),
    ],
) -> dict[str, Any]:
    """Asked of the chain (``source: chain``): authorized only when the chain authorizes at its
    head and at its newest confirmed block. When the node does not answer, answered from the
    index (``source: index``) if the index was caught up with the chain at most
    ``XIETONG_INDEX_MAX_LAG_SECONDS`` ago (``index.age_seconds``), else ``authorized: null``
    (``status: unknown``): never a confident stale "authorized"."""
    purpose_hash = "0x" + refs.id_or_code(purpose, what="purpose").hex()
    provider_id = refs.id_or_code(provider, what="provider")
    keys = (
        "0x" + provider_id.hex(),
        refs.hex_id(consumer, what="consumer"),
        "0x" + refs.dataset(dataset, owner=provider_id).hex(),
        purpose_hash,
    )
    index = queries.index_status(session=session)
    answer = _ask_chain(state, keys) if state.node_may_answer() else None
    if answer is not None:
        head, agreement_id = answer
        return {
            "authorized": agreement_id is not None,
            "status": "authorized" if agreement_id is not None else "not-authorized",
            "source": "chain",
            "block_number": head,
            "agreement_id": agreement_id,
            "agreement": None
            if agreement_id is None
            else queries.indexed_agreement(session=session, agreement_id=agreement_id),
            "index": index,
        }
    fresh = (
        index["age_seconds"] is not None
        and index["age_seconds"] <= state.settings.index_max_lag_seconds
    )
    agreement = (
        queries.authorizing_agreement(
            session=session,
            provider=keys[0],
            consumer=keys[1],
            dataset=keys[2],
            purpose=keys[3],
        )
        if fresh
        else None
    )
    authorized = (agreement is not None) if fresh else None
    return {
        "authorized": authorized,
        "status": "unknown"
        if authorized is None
        else "authorized"
        if authorized
        else "not-authorized",
        "source": "index",
        "block_number": index["block_number"],
        "agreement_id": agreement["id"] if agreement else None,
        "agreement": agreement,
        "index": index,
    }


def _ask_chain(state: StateDep, keys: tuple[str, ...]) -> tuple[int, str | None] | None:
    """(head, id of the agreement authorizing at the head and at the newest confirmed block, or
    None); None when the node does not answer (or answers an error)."""
    client_args = [bytes.fromhex(key[2:]) for key in keys]
    try:
        client = state.gateway.client
        head = client.block_number()
        found = bytes(
            client.call("SharingAgreements", "authorizingAgreement", *client_args, block=head)
        )
        confirmed = max(0, head - state.settings.confirmations + 1)
        if any(found) and confirmed != head:
            # What the head authorizes must hold at the confirmed block too: an acceptance a
            # reorg may still drop does not authorize yet.
            at_confirmed = client.call(
                "SharingAgreements", "authorizingAgreement", *client_args, block=confirmed
            )
            if not any(bytes(at_confirmed)):
                found = bytes(32)
    except ContractRevertError:
        raise
    except ChainError:  # the node does not answer, or refuses: the index answers
        state.node_failed()
        return None
    return head, "0x" + found.hex() if any(found) else None


# --------------------------------------------------------------------------- writes


class ProposeAgreement(BaseModel):
    """Terms of a new agreement; this gateway's department must be the provider or consumer."""

    provider: str = Field(examples=["11330100MB1A00002K"], description="Department code or 0x id.")
    consumer: str = Field(examples=["11330100MB1A00001P"], description="Department code or 0x id.")
    datasets: list[str] = Field(min_length=1, max_length=64, examples=[["HZ-MZ-DIBAO"]])
    purpose: str = Field(
        min_length=1,
        examples=["eligibility-check 低保资格核查"],
        description="Only its hash goes on chain.",
    )
    legal_basis: str = Field(min_length=1, examples=["《社会救助暂行办法》第十一条"])
    terms_hash: str = Field(
        description="SHA-256 of the terms document.", examples=["0x" + "7d" * 32]
    )
    valid_from: str = Field(examples=["2026-12-01"], description="ISO 8601 date or date-time.")
    valid_until: str = Field(examples=["2027-12-01"], description="ISO 8601 (exclusive).")


class AmendAgreement(BaseModel):
    """New terms for an active agreement: what is left out stays as it is; the parties never
    change. At least one member."""

    datasets: list[str] | None = Field(default=None, min_length=1, max_length=64)
    purpose: str | None = Field(default=None, min_length=1, examples=["eligibility-recheck"])
    legal_basis: str | None = Field(default=None, min_length=1)
    terms_hash: str | None = Field(default=None, description="SHA-256 of the new terms document.")
    valid_from: str | None = Field(default=None, description="ISO 8601 date or date-time.")
    valid_until: str | None = Field(default=None, examples=["2028-12-01"])


class RecordAccess(BaseModel):
    """An access receipt: the Merkle root and count of the consumer's access-log entries (as
    `xietong agreement record-access` computes them: salted record leaves) and the period."""

    log_root: str = Field(description="Merkle root of the entries.", examples=["0x" + "3c" * 32])
    entry_count: int = Field(ge=0, lt=2**64, examples=[120])
    period_start: str = Field(examples=["2026-11-01"], description="ISO 8601, inclusive.")
    period_end: str | None = Field(
        default=None,
        examples=["2026-11-30T23:59:59+08:00"],
        description="ISO 8601; default: the time of the chain's latest block.",
    )


class Reason(BaseModel):
    reason: str = Field(
        min_length=1,
        max_length=1000,
        examples=["用途超出约定范围"],
        description="Why; only its hash goes on chain.",
    )


@router.post(
    "",
    summary="Propose an agreement",
    response_model=AgreementTransaction,
    status_code=201,
    dependencies=[Depends(require("admin"))],
    responses={**ok("agreement_tx", status=201), **problems(400, 403, 409, 503)},
)
def propose(state: StateDep, body: ProposeAgreement) -> dict[str, Any]:
    """Propose on behalf of this gateway's department; the other party accepts."""
    terms = agreement_terms(
        provider=body.provider,
        consumer=body.consumer,
        datasets=body.datasets,
        purpose=body.purpose,
        legal_basis=body.legal_basis,
        terms_hash=body.terms_hash,
        valid_from=body.valid_from,
        valid_until=body.valid_until,
    )
    gw = state.gateway
    gw.remember(("code", body.purpose), ("code", body.legal_basis))  # the catalogue's texts
    with state.write_lock:
        agreement_id, tx = propose_agreement(gw.client, gw.signer, terms)
    return {
        "agreement_id": "0x" + agreement_id.hex(),
        **mined(tx),
    }


@router.post(
    "/{agreement}/accept",
    summary="Accept an agreement (own key or relayed consent)",
    response_model=AgreementTransaction,
    dependencies=[Depends(require("admin"))],
    responses={**ok("agreement_tx"), **problems(400, 403, 409, 503)},
)
def accept(
    state: StateDep, agreement: AgreementId, body: ConsentBody | None = None
) -> dict[str, Any]:
    """Accept as the counterparty, or relay the counterparty's EIP-712 consent."""
    agreement_id = parse_hash(agreement, what="agreement id")
    result = consent_or_relay(state, "AcceptAgreement", agreement_id, body)
    return {"agreement_id": "0x" + agreement_id.hex(), **result}


def _close(state: StateDep, function: str, agreement: str, reason: str | None) -> dict[str, Any]:
    agreement_id = parse_hash(agreement, what="agreement id")
    gw = state.gateway
    args: list[Any] = [agreement_id]
    if reason is not None:
        gw.remember(("code", reason))
        args.append(code_hash(reason))
    result = transact(
        state,
        lambda: gw.client.transact("SharingAgreements", function, *args, sender=gw.signer),
    )
    return {"agreement_id": "0x" + agreement_id.hex(), **result}


@router.post(
    "/{agreement}/receipts",
    summary="Record an access receipt",
    response_model=ReceiptTransaction,
    status_code=201,
    dependencies=[Depends(require("admin"))],
    responses={**ok("receipt_tx", status=201), **problems(400, 403, 409, 503)},
)
def record_receipt(state: StateDep, agreement: AgreementId, body: RecordAccess) -> dict[str, Any]:
    """As the agreement's consumer: the entries never leave the department, only their root
    and count go on chain, with the period (inside the agreement's effective window, not in
    the future)."""
    agreement_id = parse_hash(agreement, what="agreement id")
    gw = state.gateway
    with state.write_lock:
        index, tx = receipts.record_access(
            gw.client,
            gw.signer,
            agreement_id,
            log_root=parse_hash(body.log_root, what="log root"),
            entry_count=body.entry_count,
            period_start=refs.timestamp(body.period_start, what="period start"),
            period_end=(
                None
                if body.period_end is None
                else refs.timestamp(body.period_end, what="period end")
            ),
        )
    return {
        "agreement_id": "0x" + agreement_id.hex(),
        "receipt_index": index,
        **mined(tx),
    }


@router.post(
    "/{agreement}/receipts/{index}/verify",
    summary="Check an access proof",
    response_model=AccessProofCheck,
    dependencies=[Depends(require("read"))],
    responses={**ok("access_proof_check"), **problems(400, 409, 503)},
)
def verify_receipt_entry(
    state: StateDep,
    agreement: AgreementId,
    index: Annotated[int, Path(ge=0, description="The receipt's index.")],
    proof: Annotated[
        dict[str, Any],
        Body(
            description="An `xietong-access-proof/1` document (`xietong agreement prove-access`)."
        ),
    ],
) -> dict[str, Any]:
    """Does the proof's entry belong to this receipt's log? Checked against the receipt the
    chain holds (400 ``bad-access-proof`` naming what does not hold)."""
    agreement_id = "0x" + parse_hash(agreement, what="agreement id").hex()
    claimed = proof.get("agreement_id")
    claimed = claimed.lower() if isinstance(claimed, str) else claimed
    if (claimed, proof.get("receipt_index")) != (agreement_id, index):
        raise receipts.AccessProofError(
            f"the access proof is for receipt {_echo(proof.get('receipt_index'))} of agreement "
            f"{_echo(proof.get('agreement_id'))}, not receipt {index} of {agreement_id}."
        )
    checked = receipts.verify_access_proof(state.gateway.client, proof)
    return {
        "valid": True,
        **checked,
        **{k: queries.iso(checked[k]) for k in ("period_start", "period_end", "recorded_at")},
    }


def _echo(value: Any) -> str:
    """A value from the caller's document, safe to say back (short; lone surrogates escaped)."""
    return str(value)[:66].encode("utf-8", "backslashreplace").decode("utf-8")


@router.post(
    "/{agreement}/withdraw",
    summary="Withdraw a proposal",
    response_model=AgreementTransaction,
    dependencies=[Depends(require("admin"))],
    responses={**ok("agreement_tx"), **problems(400, 403, 409, 503)},
)
def withdraw(state: StateDep, agreement: AgreementId) -> dict[str, Any]:
    """The proposing department withdraws its proposal before the counterparty answers."""
    return _close(state, "withdraw", agreement, None)


@router.post(
    "/{agreement}/amend",
    summary="Amend an active agreement",
    response_model=AgreementTransaction,
    status_code=201,
    dependencies=[Depends(require("admin"))],
    responses={**ok("agreement_tx", status=201), **problems(400, 403, 409, 503)},
)
def amend(state: StateDep, agreement: AgreementId, body: AmendAgreement) -> dict[str, Any]:
    """Either party proposes new terms; the answer's ``agreement_id`` is the amendment's,
    which the counterparty accepts like any proposal and which then supersedes the agreement."""
    agreement_id = parse_hash(agreement, what="agreement id")
    gw = state.gateway
    current = read_agreement(gw.client, agreement_id)
    changes = amendment(
        provider=current.terms.provider,
        datasets=body.datasets,
        purpose=body.purpose,
        legal_basis=body.legal_basis,
        terms_hash=body.terms_hash,
        valid_from=body.valid_from,
        valid_until=body.valid_until,
    )
    gw.remember(*(("code", text) for text in (body.purpose, body.legal_basis) if text is not None))
    with state.write_lock:
        amendment_id, tx = amend_agreement(
            gw.client, gw.signer, agreement_id, amended_terms(current.terms, **changes)
        )
    return {
        "agreement_id": "0x" + amendment_id.hex(),
        **mined(tx),
    }


@router.post(
    "/{agreement}/revoke",
    summary="Revoke an active agreement",
    response_model=AgreementTransaction,
    dependencies=[Depends(require("admin"))],
    responses={**ok("agreement_tx"), **problems(400, 403, 409, 503)},
)
def revoke(state: StateDep, agreement: AgreementId, body: Reason) -> dict[str, Any]:
    """Either party revokes, with a reason (only its hash goes on chain)."""
    return _close(state, "revoke", agreement, body.reason)


@router.post(
    "/{agreement}/reject",
    summary="Reject a proposed agreement",
    response_model=AgreementTransaction,
    dependencies=[Depends(require("admin"))],
    responses={**ok("agreement_tx"), **problems(400, 403, 409, 503)},
)
def reject(state: StateDep, agreement: AgreementId, body: Reason) -> dict[str, Any]:
    """The counterparty rejects a proposal."""
    return _close(state, "reject", agreement, body.reason)

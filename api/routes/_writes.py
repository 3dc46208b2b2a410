"""What the write routes share: running a transaction with this gateway's key, relaying consent."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, Field

from ledger import consent as ledger_consent
from ledger.chain.client import SentTransaction
from ledger.consent import ConsentKind, parse_consent

from ..state import ApiState


class ConsentBody(BaseModel):
    """Optional: another department's signed consent (``xietong-consent/1``) to relay."""

    consent: dict[str, Any] | None = Field(
        default=None,
        description="The consent document made by `xietong agreement|commitment consent`; "
        "omit it to consent with this gateway's own key.",
    )


def mined(tx: SentTransaction) -> dict[str, Any]:
    """A write's answer members for its transaction: its hash and block."""
    return {"transaction": tx.tx_hash, "block_number": tx.block_number}


def transact(state: ApiState, action: Callable[[], SentTransaction]) -> dict[str, Any]:
    """Run ``action`` (one transaction) under the process's write lock."""
    with state.write_lock:
        tx = action()
    return mined(tx)


def consent_or_relay(
    state: ApiState, kind: ConsentKind, subject_id: bytes, body: ConsentBody | None
) -> dict[str, Any]:
    """Relay the consent in ``body`` for ``subject_id``, or consent with the gateway's key
    (:func:`ledger.consent.consent_or_relay`)."""
    gw = state.gateway
    relayed = None
    if body is not None and body.consent is not None:
        relayed = parse_consent(body.consent, source="the consent")
    return transact(
        state,
        lambda: ledger_consent.consent_or_relay(
            gw.client, gw.signer, kind, subject_id, consent=relayed, source="the consent"
        ),
    )

"""What the write routes share: running a transaction with this gateway's key, relaying consent."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, Field

from ledger.chain.client import SentTransaction
from ledger.consent import ConsentKind, expect_consent, parse_consent, relay_consent

from ..state import ApiState


class ConsentBody(BaseModel):
    """Optional: another department's signed consent (``xietong-consent/1``) to relay."""

    consent: dict[str, Any] | None = Field(
        default=None,
        description="The consent document made by `xietong agreement|commitment consent`; "
        "omit it to consent with this gateway's own key.",
    )


def transact(state: ApiState, action: Callable[[], SentTransaction]) -> dict[str, Any]:
    """Run ``action`` (one transaction) under the process's write lock."""
    with state.write_lock:
        tx = action()
    return {"transaction": tx.tx_hash, "block_number": tx.block_number}


def consent_or_relay(
    state: ApiState,
    kind: ConsentKind,
    subject_id: bytes,
    body: ConsentBody | None,
    direct: Callable[[], SentTransaction],
) -> dict[str, Any]:
    """Relay the consent in ``body`` for ``subject_id``, or consent with the gateway's key."""
    gw = state.gateway
    if body is None or body.consent is None:
        return transact(state, direct)
    consent = parse_consent(body.consent, source="the consent")
    expect_consent(consent, kind, subject_id, source="the consent")
    return transact(state, lambda: relay_consent(gw.client, gw.signer, consent))

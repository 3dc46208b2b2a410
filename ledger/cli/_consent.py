"""What `agreement consent|accept` and `commitment consent|sign` share: writing a department's
EIP-712 consent to a file, and relaying one (or consenting directly by transaction)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .. import consent as ledger_consent
from ..chain.client import SentTransaction
from ..consent import ConsentKind, make_consent, read_consent
from ..errors import InputError
from ..gateway import Gateway
from ..settings import Settings
from ._output import respond, safe


def write_consent(
    settings: Settings,
    kind: ConsentKind,
    subject: Callable[[], bytes],
    out: Path,
    valid_for: int,
    json_output: bool,
) -> None:
    """Sign consent to ``subject()`` with this gateway's key and write it to ``out``."""

    def run() -> dict[str, Any]:
        gw = Gateway(settings)
        signed = make_consent(gw.client, gw.signer, kind, subject(), valid_for=valid_for)
        try:
            out.write_text(json.dumps(signed.as_dict(), indent=2) + "\n", encoding="utf-8")
        except OSError as exc:
            raise InputError(f"cannot write {out} ({exc.strerror}).") from None
        return {
            "consent": str(out),
            "signer": signed.signer,
            "nonce": signed.nonce,
            "deadline": signed.deadline,
        }

    respond(
        json_output,
        run,
        lambda result: (
            f"[green]wrote[/] consent {safe(result['consent'])} (nonce {result['nonce']}); "
            "hand it to the relaying gateway"
        ),
    )


def consent_or_relay(
    gw: Gateway, kind: ConsentKind, subject_id: bytes, signature: Path | None
) -> SentTransaction:
    """Relay the consent file ``signature`` for ``subject_id``, or consent with this gateway's
    key (:func:`ledger.consent.consent_or_relay`)."""
    relayed = None if signature is None else read_consent(signature)
    return ledger_consent.consent_or_relay(
        gw.client, gw.signer, kind, subject_id, consent=relayed, source=str(signature)
    )

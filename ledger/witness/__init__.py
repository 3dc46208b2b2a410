"""Cosigned checkpoints: each department's gateway signs the chain head it sees, collects the
other departments' signatures, and tells when two differ (docs/CHECKPOINTS.md)."""

from __future__ import annotations

from .checkpoint import (
    MAX_COSIGNATURES,
    NO_COSIGNERS,
    Cosignature,
    CosignedCheckpoint,
    check_bundle_checkpoint,
    check_checkpoint,
    check_cosignature,
    check_signed,
    cosign,
    origin,
    signed_text,
    signer_of,
)
from .witness import PAGE, NotCheckpointedError, PassReport, Witness

__all__ = [
    "MAX_COSIGNATURES",
    "NO_COSIGNERS",
    "PAGE",
    "Cosignature",
    "CosignedCheckpoint",
    "NotCheckpointedError",
    "PassReport",
    "Witness",
    "check_bundle_checkpoint",
    "check_checkpoint",
    "check_cosignature",
    "check_signed",
    "cosign",
    "origin",
    "signed_text",
    "signer_of",
]

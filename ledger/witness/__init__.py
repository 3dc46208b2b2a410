"""Cosigned checkpoints: each department's gateway signs the chain head it sees, collects the
other departments' signatures, and tells when two differ (docs/CHECKPOINTS.md)."""

from __future__ import annotations

from .checkpoint import (
    MAX_COSIGNATURES,
    Cosignature,
    CosignedCheckpoint,
    check_checkpoint,
    check_cosignature,
    cosign,
    origin,
    signed_text,
    signer_of,
)

__all__ = [
    "MAX_COSIGNATURES",
    "Cosignature",
    "CosignedCheckpoint",
    "check_checkpoint",
    "check_cosignature",
    "cosign",
    "origin",
    "signed_text",
    "signer_of",
]

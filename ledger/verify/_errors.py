"""The typed failures of verification (all :class:`VerificationError`, a ``LedgerError``)."""

from __future__ import annotations

from ..errors import InputError, LedgerError

__all__ = [
    "BundleClaimError",
    "BundleFormatError",
    "NotAnchoredError",
    "NotConfirmedError",
    "RecordErasedError",
    "RevokedVersionError",
    "RootMismatchError",
    "UnknownRootError",
    "VerificationError",
    "WouldBlockError",
]


class VerificationError(LedgerError):
    """Verification failed."""

    kind = "verification"


class NotAnchoredError(VerificationError):
    """No anchored version contains the file, hash or record."""

    kind = "not-anchored"


class RootMismatchError(VerificationError):
    """The proof does not lead from the leaf to the root."""

    kind = "root-mismatch"


class UnknownRootError(VerificationError):
    """The dataset holds no version of the root on the chain (the name is kept from when a
    root was anchored once across all datasets)."""

    kind = "unknown-root"


class RevokedVersionError(VerificationError):
    """The version was revoked by its owner."""

    kind = "revoked"


class RecordErasedError(VerificationError):
    """The record was anchored, then erased by its owner (its salt destroyed)."""

    kind = "erased"


class NotConfirmedError(VerificationError):
    """The anchor has fewer confirmations than required."""

    kind = "not-confirmed"


class BundleFormatError(VerificationError, InputError):
    """The proof bundle is malformed."""

    kind = "bad-bundle"


class BundleClaimError(VerificationError):
    """A claim of the proof bundle (its consortium, version id, transaction, block, time, leaf
    count or publisher) is not what the chain says: the bundle is refused."""

    kind = "bundle-claim"


class WouldBlockError(Exception):
    """Inside :meth:`Verifier.in_memory`: the answer needs the chain node, a database server
    or a tree rebuilt; nothing was left half done, so ask again on a worker thread."""

"""Answer "is this file or record authentic, who published it, when, and who may receive it?"

:class:`Verifier` answers from the index (leaf store + projections) and checks each root it
reports once against the chain. :func:`verify_bundle` checks a proof bundle with nothing but
the bundle, the consortium trust file and any node: the Merkle path offline, then every claim
of the bundle on the consortium's chain.

Failures are typed (all :class:`VerificationError`): :class:`NotAnchoredError`,
:class:`RootMismatchError`, :class:`UnknownRootError`, :class:`RevokedVersionError`,
:class:`RecordErasedError`, :class:`NotConfirmedError`, :class:`BundleFormatError`, :class:`BundleClaimError`.

Modules: :mod:`.answers` (the answer as data), :mod:`.verifier` (answers from the index,
and the proof bundles of leaves, files and records), :mod:`.bundles` (proof bundles, checked
without the gateway). Inside: ``_facts`` (reading the index), ``_chain_view`` (the chain as
answers see it), ``_gate`` (answering in memory only).
"""

from ._errors import (
    BundleClaimError,
    BundleFormatError,
    NotAnchoredError,
    NotConfirmedError,
    RecordErasedError,
    RevokedVersionError,
    RootMismatchError,
    UnknownRootError,
    VerificationError,
    WouldBlockError,
)
from .answers import Authorization, Department, Erasure, Match, Receipt, Verification, Version
from .bundles import (
    BUNDLE_FORMAT,
    LEGACY_BUNDLE_FORMAT,
    MAX_BUNDLE_SIZE,
    BundleCheck,
    check_bundle_offline,
    load_bundle,
    verify_bundle,
)
from .verifier import Verifier

__all__ = [
    "BUNDLE_FORMAT",
    "LEGACY_BUNDLE_FORMAT",
    "MAX_BUNDLE_SIZE",
    "Authorization",
    "BundleCheck",
    "BundleClaimError",
    "BundleFormatError",
    "Department",
    "Erasure",
    "Match",
    "NotAnchoredError",
    "NotConfirmedError",
    "Receipt",
    "RecordErasedError",
    "RevokedVersionError",
    "RootMismatchError",
    "UnknownRootError",
    "Verification",
    "VerificationError",
    "Verifier",
    "Version",
    "WouldBlockError",
    "check_bundle_offline",
    "load_bundle",
    "verify_bundle",
]

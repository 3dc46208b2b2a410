"""What a watcher can subscribe to, and which chain events concern it: pure, no I/O.

Every topic is relative to the watcher's department (``us``):

* ``code.taken``: another department registered a dataset under a code one of ours has (the
  same code hash: another dataset, a look-alike to the reader);
* ``content.anchored-by-other``: another department anchored a version whose root is the root
  of one of our versions (our content, under someone else's name);
* ``dataset.version``: a version of one of our datasets was anchored or revoked;
* ``agreement.changed``: an agreement where we are provider or consumer was proposed,
  accepted, rejected, withdrawn, revoked, superseded or had an access receipt recorded;
* ``agreement.expiring``: such an agreement, active, ends within the watcher's N days (once per
  agreement and end);
* ``commitment.changed``: a commitment we take part in (or lead) was proposed, signed,
  activated, progressed, completed or cancelled;
* ``commitment.overdue``: such a commitment, active, is past its deadline (once);
* ``department.suspension-proposed``: someone proposed to suspend us;
* ``checkpoint.conflict``: two different hashes were signed for one block number
  (docs/CHECKPOINTS.md): a fork, or a department that lies (once per number and count of
  hashes, while not acknowledged).

:func:`event_topics` says which of a watcher's topics one chain event fires, from the event
and :class:`Concerns` (what the index says is ours, read when the event is matched).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..chain.enums import ProposalKind

__all__ = [
    "CHECKPOINT_TOPICS",
    "EVENT_TOPICS",
    "TIMED_TOPICS",
    "TOPICS",
    "Concerns",
    "event_topics",
]

#: Topics fired by chain events.
EVENT_TOPICS = (
    "code.taken",
    "content.anchored-by-other",
    "dataset.version",
    "agreement.changed",
    "commitment.changed",
    "department.suspension-proposed",
)
#: Topics fired by time passing (an end near, a deadline passed).
TIMED_TOPICS = ("agreement.expiring", "commitment.overdue")
#: Topics fired by the cosigned checkpoints this gateway holds.
CHECKPOINT_TOPICS = ("checkpoint.conflict",)
TOPICS = EVENT_TOPICS + TIMED_TOPICS + CHECKPOINT_TOPICS

_AGREEMENT_EVENTS = {
    "AgreementProposed",
    "AgreementAccepted",
    "AgreementRejected",
    "AgreementWithdrawn",
    "AgreementRevoked",
    "AgreementSuperseded",
    "AccessRecorded",
}
_COMMITMENT_EVENTS = {
    "CommitmentProposed",
    "CommitmentSigned",
    "CommitmentActivated",
    "ProgressReported",
    "CommitmentCompleted",
    "CommitmentCancelled",
}


@dataclass(frozen=True)
class Concerns:
    """What is ours, as the index says: dataset ids and their code hashes, our versions'
    roots, agreements where we are a party, commitments we take part in."""

    department: str
    datasets: frozenset[str] = field(default_factory=frozenset)
    codes: frozenset[str] = field(default_factory=frozenset)
    roots: frozenset[str] = field(default_factory=frozenset)
    agreements: frozenset[str] = field(default_factory=frozenset)
    commitments: frozenset[str] = field(default_factory=frozenset)


def _lower(value: Any) -> str | None:
    return value.lower() if isinstance(value, str) else None


def event_topics(name: str, args: dict[str, Any], concerns: Concerns) -> list[str]:
    """The topics the event ``name`` with ``args`` (as the index stores them) fires for the
    department of ``concerns``, in :data:`EVENT_TOPICS` order."""
    us = concerns.department.lower()
    fired: set[str] = set()
    if name == "DatasetRegistered":
        owner = _lower(args.get("ownerDepartment"))
        if owner != us and _lower(args.get("codeHash")) in concerns.codes:
            fired.add("code.taken")
    elif name in ("VersionAnchored", "VersionRevoked", "RecordsErased"):
        if _lower(args.get("datasetId")) in concerns.datasets:
            fired.add("dataset.version")
        anchorer = _lower(args.get("departmentId"))
        if (
            name == "VersionAnchored"
            and anchorer != us
            and _lower(args.get("root")) in concerns.roots
        ):
            fired.add("content.anchored-by-other")
    elif name in _AGREEMENT_EVENTS:
        ids = {_lower(args.get("agreementId")), _lower(args.get("supersededBy"))}
        if ids & concerns.agreements:
            fired.add("agreement.changed")
    elif name in _COMMITMENT_EVENTS:
        if _lower(args.get("commitmentId")) in concerns.commitments:
            fired.add("commitment.changed")
    elif (
        name == "ProposalCreated"
        and args.get("kind") == ProposalKind.SUSPEND
        and _lower(args.get("departmentId")) == us
    ):
        fired.add("department.suspension-proposed")
    return [topic for topic in EVENT_TOPICS if topic in fired]

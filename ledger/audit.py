"""The audit trail's filters, from the text people type (the CLI's options, the API's query,
the portal's form): the keyword arguments of :func:`ledger.db.queries.list_events`.

A missing or empty value does not filter; a bad one is an
:class:`~ledger.errors.InputError` naming it. Pure: no I/O.
"""

from __future__ import annotations

from typing import TypedDict

from eth_utils import is_hex_address, to_checksum_address

from . import refs

__all__ = ["EventFilters", "event_filters", "subject_filter"]


class EventFilters(TypedDict):
    """What :func:`ledger.db.queries.list_events` filters on, as the index stores it."""

    department: str | None
    event_type: str | None
    since: int | None
    until: int | None
    subject: str | None


def subject_filter(text: str) -> str:
    """A subject as the trail files it: an account (checksummed; operator and auditor
    events), a proposal number, or an id or code (0x and 64 hex digits)."""
    value = text.strip()
    if is_hex_address(value):
        return to_checksum_address(value)
    if value.isdigit():
        return value
    return refs.hex_id(value, what="subject")


def event_filters(
    *,
    department: str | None = None,
    event_type: str | None = None,
    since: str | None = None,
    until: str | None = None,
    subject: str | None = None,
) -> EventFilters:
    """The filters of the audit trail.

    Args:
        department: Department code or 0x id.
        event_type: Event name, e.g. ``AgreementRevoked``.
        since: ISO 8601 date or date-time (inclusive).
        until: ISO 8601 date or date-time (exclusive).
        subject: Subject id (agreement, commitment, root …), account or proposal number.
    """
    return {
        "department": refs.hex_id(department, what="department") if department else None,
        "event_type": event_type or None,
        "since": refs.timestamp(since, what="start") if since else None,
        "until": refs.timestamp(until, what="end") if until else None,
        "subject": subject_filter(subject) if subject else None,
    }

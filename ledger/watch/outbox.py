"""Watchers and their webhooks: subscribe, match the indexed chain, keep an outbox, deliver.

A pass has two steps, each safe to stop at any point:

1. :meth:`Watchers.scan` reads, per watcher, the indexed events after its cursor and the
   agreements and commitments whose time has come, and in **one database transaction** adds a
   message to the outbox for each topic they fire and moves the cursor past them. A pass that
   fails changes nothing: the next one starts from the same cursor, so no event is skipped,
   and a message is keyed by what it says (``<block hash>:<log index>:<topic>``), so none is
   made twice. When the block of the cursor's event is no longer indexed with the same hash (a
   reorganisation the indexer followed), the cursor goes back to the watcher's first block and
   the keys keep what was said once.
2. :meth:`Watchers.deliver` takes the messages that are due, each leased by one conditional
   update (two gateways never send one message at once; a lease left by a killed process runs
   out), POSTs it signed per Standard Webhooks (:mod:`ledger.watch.signing`), the same
   ``webhook-id`` on every attempt, and records the answer: a 2xx delivers it; anything else
   (another status, a refused connection, a timeout) schedules the next attempt after an
   exponentially growing delay, until ``max_attempts``: then the message is ``dead``, listed
   with its last error and sent again only when an operator asks (:meth:`Watchers.retry`).

Nothing of a secret is logged or returned but by :meth:`Watchers.add` and
:meth:`Watchers.rotate`, once, to the operator who asked.
"""

from __future__ import annotations

import copy
import json
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy import ColumnElement, delete, func, or_, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from .._urls import is_loopback
from ..db.queries import Page, iso, keyset_page, status_time
from ..db.tables import (
    AgreementRow,
    ChainEvent,
    CheckpointConflict,
    CheckpointSignature,
    CommitmentParticipantRow,
    CommitmentRow,
    DatasetRow,
    VersionRow,
    Watcher,
    WebhookMessage,
)
from ..errors import InputError, LedgerError
from ..lifecycle import agreement_status, commitment_status
from .signing import new_secret, signature_header
from .topics import EVENT_TOPICS, TOPICS, Concerns, event_topics

__all__ = [
    "DeliveryReport",
    "UnknownMessageError",
    "UnknownWatcherError",
    "Watchers",
    "check_topics",
    "check_url",
    "retry_delay",
]

#: Events read per watcher in one scan transaction.
SCAN_BATCH = 1_000
#: A rotated-out secret keeps signing (beside the new one) this long, for receivers to switch.
ROTATION_OVERLAP = 24 * 3600
#: The longest wait between two attempts.
MAX_DELAY = 10 * 3600
#: Longest URL accepted.
MAX_URL = 2_000
#: Most days ahead an ``agreement.expiring`` watcher may look.
MAX_EXPIRING_DAYS = 3_650


class UnknownWatcherError(LedgerError):
    """No watcher of this department has that id."""

    kind = "unknown-watcher"


class UnknownMessageError(LedgerError):
    """No webhook of this department's watchers has that id."""

    kind = "unknown-message"


def retry_delay(attempts: int, base: float) -> float:
    """Seconds to wait after the ``attempts``-th failed attempt: ``base`` × 4^(attempts − 1),
    at most :data:`MAX_DELAY` (5 s, 20 s, 80 s, 5 min, 21 min, 85 min, 5.7 h, then 10 h for a
    base of 5 s)."""
    return float(min(base * 4 ** max(0, attempts - 1), MAX_DELAY))


@dataclass(frozen=True)
class DeliveryReport:
    """What one :meth:`Watchers.deliver` did."""

    delivered: int = 0
    failed: int = 0
    dead: int = 0


def check_url(url: str, *, allow_http: bool) -> str:
    """A webhook URL as given, or InputError: http(s) with a host, no user or password in it
    (it would be kept and shown), plain http only to a loopback address or in local mode."""
    if len(url) > MAX_URL:
        raise InputError(f"the webhook URL is longer than {MAX_URL} characters.")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError(f"{url[:80]!r} is not an http(s) URL with a host.")
    if parts.username is not None or parts.password is not None:
        raise InputError(
            "a webhook URL holds no user or password: the signature says who sends it."
        )
    if parts.scheme == "http" and not allow_http and not is_loopback(parts.hostname):
        raise InputError("webhooks go over https (plain http only to a loopback address).")
    return url


def check_topics(topics: Sequence[str], expiring_days: int | None) -> list[str]:
    """The topics, sorted and without repeats; InputError naming an unknown one, or a
    missing or out-of-range ``expiring_days`` with ``agreement.expiring``."""
    if not topics:
        raise InputError(f"name at least one topic: {', '.join(TOPICS)}.")
    unknown = sorted(set(topics) - set(TOPICS))
    if unknown:
        raise InputError(f"unknown topic {unknown[0]!r}: the topics are {', '.join(TOPICS)}.")
    if "agreement.expiring" in topics:
        if expiring_days is None or not 1 <= expiring_days <= MAX_EXPIRING_DAYS:
            raise InputError(
                f"agreement.expiring needs the days ahead to look, 1 to {MAX_EXPIRING_DAYS}."
            )
    elif expiring_days is not None:
        raise InputError("days ahead are for the agreement.expiring topic only.")
    return sorted(set(topics))


class Watchers:
    """The watchers of one department (``department``, 0x id) in one database."""

    def __init__(
        self,
        engine: Engine,
        *,
        department: str,
        allow_http: bool = False,
        retry_base: float = 5.0,
        max_attempts: int = 8,
        timeout: float = 10.0,
        clock: Callable[[], float] = time.time,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.engine = engine
        self.department = department.lower()
        self.allow_http = allow_http
        self.retry_base = retry_base
        self.max_attempts = max_attempts
        self.timeout = timeout
        self.clock = clock
        self.transport = transport
        #: Set in a view made by :meth:`limited_to`: the API key whose watchers alone it sees.
        self.api_key_id: str | None = None
        #: Called at each step a pass may be killed at (the fault tests send SIGKILL there):
        #: "matched" (messages added, the transaction not yet committed), "leased" (a message
        #: leased, not yet sent), "answered" (the receiver answered, the answer not yet
        #: recorded) and "recorded".
        self._crash_hook: Callable[[str], None] = lambda _step: None

    def limited_to(self, api_key_id: str) -> Watchers:
        """A view of the watchers that API key ``api_key_id`` added, and of their webhooks,
        and of nothing else: what a ``watch`` key may see and change (the CLI and admin keys
        see all of the department's). A watcher added through the view is the key's."""
        view = copy.copy(self)
        view.api_key_id = api_key_id
        return view

    # ------------------------------------------------------------------ subscriptions

    def add(
        self,
        *,
        url: str,
        topics: Sequence[str],
        expiring_days: int | None = None,
        start_block: int | None = None,
    ) -> tuple[dict[str, Any], str]:
        """A new watcher and its signing secret (shown this once). It is told of events from
        ``start_block`` on (default: the block after the index's newest event)."""
        url = check_url(url, allow_http=self.allow_http)
        chosen = check_topics(topics, expiring_days)
        secret = new_secret()
        now = int(self.clock())
        with Session(self.engine) as session:
            if start_block is None:
                newest = session.exec(
                    select(ChainEvent.block_number)
                    .order_by(col(ChainEvent.block_number).desc())
                    .limit(1)
                ).first()
                start_block = (newest or 0) + 1
            watcher = Watcher(
                id="wh_" + uuid.uuid4().hex,
                department_id=self.department,
                api_key_id=self.api_key_id,
                url=url,
                topics=json.dumps(chosen),
                expiring_days=expiring_days,
                secret=secret,
                start_block=start_block,
                cursor_block=start_block,
                cursor_log=-1,
                created_at=now,
            )
            session.add(watcher)
            session.commit()
            session.refresh(watcher)
            return self._shown(session, watcher), secret

    def all(self) -> list[dict[str, Any]]:
        """This department's watchers, oldest first, with their outbox counts (no secret)."""
        with Session(self.engine) as session:
            rows = session.exec(
                select(Watcher)
                .where(*self._visible())
                .order_by(col(Watcher.created_at), col(Watcher.id))
            ).all()
            return [self._shown(session, row) for row in rows]

    def exist(self) -> bool:
        """Whether this department has any watcher (one indexed read, no counts)."""
        with Session(self.engine) as session:
            return (
                session.exec(
                    select(Watcher.id).where(Watcher.department_id == self.department).limit(1)
                ).first()
                is not None
            )

    def get(self, watcher_id: str) -> dict[str, Any]:
        with Session(self.engine) as session:
            return self._shown(session, self._watcher(session, watcher_id))

    def remove(self, watcher_id: str) -> dict[str, Any]:
        """Delete a watcher and its outbox (undelivered messages are not sent)."""
        with Session(self.engine) as session:
            watcher = self._watcher(session, watcher_id)
            shown = self._shown(session, watcher)
            session.execute(
                delete(WebhookMessage).where(col(WebhookMessage.watcher_id) == watcher.id)
            )
            session.delete(watcher)
            session.commit()
        return shown

    def rotate(self, watcher_id: str) -> tuple[dict[str, Any], str]:
        """A new secret for a watcher (shown this once); the old one keeps signing beside it
        for :data:`ROTATION_OVERLAP` seconds, so the receiver can switch without a gap."""
        secret = new_secret()
        now = int(self.clock())
        with Session(self.engine) as session:
            watcher = self._watcher(session, watcher_id)
            watcher.previous_secret, watcher.previous_until = watcher.secret, now + ROTATION_OVERLAP
            watcher.secret = secret
            session.add(watcher)
            session.commit()
            session.refresh(watcher)
            return self._shown(session, watcher), secret

    # ------------------------------------------------------------------ matching

    def scan(self) -> int:
        """Match every watcher's new events and due times into the outbox; the number of
        messages added. Each watcher's matching is one transaction (see the module)."""
        with Session(self.engine) as session:
            ids = session.exec(
                select(Watcher.id).where(Watcher.department_id == self.department)
            ).all()
        return sum(self._scan_one(watcher_id) for watcher_id in ids)

    def _scan_one(self, watcher_id: str) -> int:
        now = int(self.clock())
        added = 0
        with Session(self.engine) as session:
            watcher = session.exec(
                select(Watcher).where(Watcher.id == watcher_id).with_for_update()
            ).first()
            if watcher is None:  # removed meanwhile
                return 0
            topics = set(json.loads(watcher.topics))
            self._rewind_if_reorged(session, watcher)
            events = session.exec(
                select(ChainEvent)
                .where(
                    or_(
                        col(ChainEvent.block_number) > watcher.cursor_block,
                        (col(ChainEvent.block_number) == watcher.cursor_block)
                        & (col(ChainEvent.log_index) > watcher.cursor_log),
                    )
                )
                .order_by(col(ChainEvent.block_number), col(ChainEvent.log_index))
                .limit(SCAN_BATCH)
            ).all()
            if events and topics & set(EVENT_TOPICS):
                # What is ours is read only when there are events to match: an idle pass reads
                # no dataset, root, agreement or commitment.
                concerns = _concerns(session, self.department)
                for event in events:
                    args = json.loads(event.args)
                    for topic in event_topics(event.name, args, concerns):
                        if topic in topics:
                            added += self._add_message(
                                session,
                                watcher,
                                f"{event.block_hash}:{event.log_index}:{topic}",
                                topic,
                                now,
                                _event_data(event, args, self.department),
                            )
            if events:
                last = events[-1]
                watcher.cursor_block, watcher.cursor_log = last.block_number, last.log_index
                watcher.cursor_hash = last.block_hash
            # Ending soon and overdue are judged as the answers judge them: by the chain's
            # time when it runs ahead of this machine's.
            judged = status_time(session=session, wall=now)
            for dedupe, topic, data in self._timed(session, watcher, topics, judged):
                added += self._add_message(session, watcher, dedupe, topic, now, data)
            session.add(watcher)
            if added:
                self._crash_hook("matched")
            session.commit()
        return added

    def _rewind_if_reorged(self, session: Session, watcher: Watcher) -> None:
        if watcher.cursor_hash is None:
            return
        at = session.exec(
            select(ChainEvent.block_hash).where(
                ChainEvent.block_number == watcher.cursor_block,
                ChainEvent.log_index == watcher.cursor_log,
            )
        ).first()
        if at != watcher.cursor_hash:
            watcher.cursor_block, watcher.cursor_log = watcher.start_block, -1
            watcher.cursor_hash = None

    def _timed(
        self, session: Session, watcher: Watcher, topics: set[str], now: int
    ) -> list[tuple[str, str, dict[str, Any]]]:
        """(dedupe key, topic, data) of the agreements ending soon and commitments overdue."""
        due: list[tuple[str, str, dict[str, Any]]] = []
        us = self.department
        if "agreement.expiring" in topics and watcher.expiring_days:
            horizon = now + watcher.expiring_days * 86400
            rows = session.exec(
                select(AgreementRow).where(
                    or_(col(AgreementRow.provider) == us, col(AgreementRow.consumer) == us),
                    col(AgreementRow.status) == "active",
                    col(AgreementRow.valid_until) > now,
                    col(AgreementRow.valid_until) <= horizon,
                )
            ).all()
            for row in rows:
                if (
                    agreement_status(
                        row.status,
                        valid_from=row.valid_from,
                        valid_until=row.valid_until,
                        now=now,
                        accepted_at=row.accepted_at,
                    )
                    != "active"
                ):
                    continue
                data = {
                    "department": us,
                    "agreement_id": row.id,
                    "provider": row.provider,
                    "consumer": row.consumer,
                    "valid_until": iso(row.valid_until),
                    "days_left": (row.valid_until - now) // 86400,
                }
                due.append((f"expiring:{row.id}:{row.valid_until}", "agreement.expiring", data))
        if "commitment.overdue" in topics:
            ours = _our_commitments(session, us)
            overdue = session.exec(
                select(CommitmentRow).where(
                    col(CommitmentRow.status).in_(("proposed", "active")),
                    col(CommitmentRow.deadline) < now,
                )
            ).all()
            for commitment in overdue:
                if (
                    commitment.id not in ours
                    or commitment_status(commitment.status, deadline=commitment.deadline, now=now)
                    != "overdue"
                ):
                    continue
                data = {
                    "department": us,
                    "commitment_id": commitment.id,
                    "lead": commitment.lead,
                    "deadline": iso(commitment.deadline),
                }
                due.append(
                    (f"overdue:{commitment.id}:{commitment.deadline}", "commitment.overdue", data)
                )
        if "checkpoint.conflict" in topics:
            conflicts = session.exec(
                select(CheckpointConflict).where(col(CheckpointConflict.acknowledged_at).is_(None))
            ).all()
            for conflict in conflicts:
                signed = session.exec(
                    select(CheckpointSignature)
                    .where(CheckpointSignature.number == conflict.number)
                    .order_by(col(CheckpointSignature.block_hash), col(CheckpointSignature.address))
                ).all()
                hashes: dict[str, list[str]] = {}
                for signature in signed:
                    hashes.setdefault(signature.block_hash, []).append(signature.department_id)
                conflict_data: dict[str, Any] = {
                    "department": us,
                    "number": conflict.number,
                    "hashes": [
                        {"hash": h, "departments": sorted(set(d))} for h, d in hashes.items()
                    ],
                }
                due.append(
                    (
                        f"conflict:{conflict.number}:{conflict.hashes}",
                        "checkpoint.conflict",
                        conflict_data,
                    )
                )
        return due

    def _add_message(
        self,
        session: Session,
        watcher: Watcher,
        dedupe: str,
        topic: str,
        now: int,
        data: dict[str, Any],
    ) -> int:
        said = session.exec(
            select(WebhookMessage.id).where(
                WebhookMessage.watcher_id == watcher.id, WebhookMessage.dedupe == dedupe
            )
        ).first()
        if said is not None:
            return 0
        body = {"type": topic, "timestamp": iso(now), "data": data}
        session.add(
            WebhookMessage(
                id="msg_" + uuid.uuid4().hex,
                watcher_id=watcher.id,
                dedupe=dedupe,
                topic=topic,
                body=json.dumps(body, ensure_ascii=False, separators=(",", ":")),
                status="pending",
                next_attempt_at=now,
                created_at=now,
            )
        )
        session.flush()  # a second message with this key in one pass is caught above
        return 1

    # ------------------------------------------------------------------ delivery

    def deliver(self, *, limit: int = 100) -> DeliveryReport:
        """Send the messages that are due (at most ``limit``), oldest first."""
        now = int(self.clock())
        with Session(self.engine) as session:
            due = session.exec(
                select(WebhookMessage.id)
                .join(Watcher, col(Watcher.id) == col(WebhookMessage.watcher_id))
                .where(
                    Watcher.department_id == self.department,
                    WebhookMessage.status == "pending",
                    col(WebhookMessage.next_attempt_at) <= now,
                    or_(
                        col(WebhookMessage.leased_until).is_(None),
                        col(WebhookMessage.leased_until) < now,
                    ),
                )
                .order_by(col(WebhookMessage.created_at), col(WebhookMessage.id))
                .limit(limit)
            ).all()
        delivered = failed = dead = 0
        if not due:  # no client made (its TLS context costs milliseconds of CPU per pass)
            return DeliveryReport(delivered=0, failed=0, dead=0)
        with httpx.Client(
            timeout=self.timeout, follow_redirects=False, transport=self.transport
        ) as client:
            for message_id in due:
                outcome = self._deliver_one(client, message_id)
                delivered += outcome == "delivered"
                failed += outcome == "pending"
                dead += outcome == "dead"
        return DeliveryReport(delivered=delivered, failed=failed, dead=dead)

    def _lease(self, message_id: str) -> tuple[WebhookMessage, Watcher] | None:
        """The message and its watcher, leased to this call; None when another has it."""
        now = int(self.clock())
        lease = now + int(self.timeout) + 5
        with Session(self.engine) as session:
            taken = session.execute(
                update(WebhookMessage)
                .where(
                    col(WebhookMessage.id) == message_id,
                    col(WebhookMessage.status) == "pending",
                    or_(
                        col(WebhookMessage.leased_until).is_(None),
                        col(WebhookMessage.leased_until) < now,
                    ),
                )
                .values(leased_until=lease)
            )
            session.commit()
            if taken.rowcount != 1:  # type: ignore[attr-defined]
                return None
            message = session.get(WebhookMessage, message_id)
            watcher = session.get(Watcher, message.watcher_id) if message else None
            if message is None or watcher is None:
                return None
            session.expunge_all()
            return message, watcher

    def _deliver_one(self, client: httpx.Client, message_id: str) -> str | None:
        leased = self._lease(message_id)
        if leased is None:
            return None
        message, watcher = leased
        self._crash_hook("leased")
        now = int(self.clock())
        body = message.body.encode()
        in_use = [watcher.secret]
        if watcher.previous_secret and (watcher.previous_until or 0) > now:
            in_use.append(watcher.previous_secret)
        headers = {
            "content-type": "application/json",
            "user-agent": "xietong-webhooks",
            "webhook-id": message.id,
            "webhook-timestamp": str(now),
            "webhook-signature": signature_header(in_use, message.id, now, body),
        }
        status: int | None = None
        try:
            # The status is all that is read: a receiver's body (of any size) is left unread.
            with client.stream("POST", watcher.url, content=body, headers=headers) as answer:
                status = answer.status_code
            error = None if 200 <= status < 300 else f"the receiver answered HTTP {status}"
        except httpx.TimeoutException:
            error = f"no answer within {self.timeout:g} s"
        except httpx.TransportError as exc:
            error = f"could not send it ({type(exc).__name__})"  # no URL: it is the receiver's
        self._crash_hook("answered")
        recorded = self._record(message.id, status, error)
        self._crash_hook("recorded")
        return recorded

    def _record(self, message_id: str, status: int | None, error: str | None) -> str:
        now = int(self.clock())
        with Session(self.engine) as session:
            message = session.get(WebhookMessage, message_id)
            if message is None:  # its watcher was removed meanwhile
                return "removed"
            message.attempts += 1
            message.last_status, message.last_error = status, error
            message.leased_until = None
            if error is None:
                message.status, message.delivered_at = "delivered", now
            elif message.attempts >= self.max_attempts:
                message.status = "dead"
            else:
                message.next_attempt_at = now + round(
                    retry_delay(message.attempts, self.retry_base)
                )
            session.add(message)
            session.commit()
            return message.status

    # ------------------------------------------------------------------ the outbox

    def messages(
        self, *, status: str | None = None, cursor: str | None = None, limit: int = 100
    ) -> Page:
        """This department's webhooks, oldest first, a page at a time (``status``: pending,
        delivered or dead: the dead letters)."""
        if status is not None and status not in ("pending", "delivered", "dead"):
            raise InputError("status must be one of pending, delivered, dead.")
        query = (
            select(WebhookMessage, Watcher.url)
            .join(Watcher, col(Watcher.id) == col(WebhookMessage.watcher_id))
            .where(*self._visible())
        )
        if status is not None:
            query = query.where(WebhookMessage.status == status)
        with Session(self.engine) as session:
            return keyset_page(
                session,
                query,
                (col(WebhookMessage.created_at), col(WebhookMessage.id)),
                cursor,
                limit,
                lambda row: (row[0].created_at, row[0].id),
                lambda row: _message(row[0], row[1]),
            )

    def retry(self, message_id: str) -> dict[str, Any]:
        """Send a dead message again: pending, due now, its attempts counted afresh."""
        now = int(self.clock())
        with Session(self.engine) as session:
            found = session.exec(
                select(WebhookMessage, Watcher.url)
                .join(Watcher, col(Watcher.id) == col(WebhookMessage.watcher_id))
                .where(WebhookMessage.id == message_id, *self._visible())
            ).first()
            if found is None:
                raise UnknownMessageError(f"there is no webhook {message_id[:80]}.")
            message, url = found
            if message.status != "dead":
                raise InputError(
                    f"webhook {message.id} is {message.status}: only a dead one is sent again."
                )
            message.status, message.attempts, message.next_attempt_at = "pending", 0, now
            session.add(message)
            session.commit()
            session.refresh(message)
            return _message(message, url)

    # ------------------------------------------------------------------ internals

    def _visible(self) -> list[ColumnElement[bool]]:
        """The conditions on Watcher that narrow a query to the watchers this object sees:
        its department's, and of them only its API key's in a :meth:`limited_to` view."""
        seen = [col(Watcher.department_id) == self.department]
        if self.api_key_id is not None:
            seen.append(col(Watcher.api_key_id) == self.api_key_id)
        return seen

    def _watcher(self, session: Session, watcher_id: str) -> Watcher:
        watcher = session.exec(
            select(Watcher).where(Watcher.id == watcher_id, *self._visible())
        ).first()
        if watcher is None:
            raise UnknownWatcherError(f"there is no watcher {watcher_id[:80]}.")
        return watcher

    def _shown(self, session: Session, watcher: Watcher) -> dict[str, Any]:
        counted = dict(
            session.exec(
                select(WebhookMessage.status, func.count())
                .where(WebhookMessage.watcher_id == watcher.id)
                .group_by(col(WebhookMessage.status))
            ).all()
        )
        counts = {status: counted.get(status, 0) for status in ("pending", "delivered", "dead")}
        return {
            "id": watcher.id,
            "department": watcher.department_id,
            "url": watcher.url,
            "topics": json.loads(watcher.topics),
            "expiring_days": watcher.expiring_days,
            "start_block": watcher.start_block,
            "matched_to": {"block_number": watcher.cursor_block, "log_index": watcher.cursor_log},
            "rotating_until": iso(watcher.previous_until)
            if watcher.previous_until and watcher.previous_until > int(self.clock())
            else None,
            "created_at": iso(watcher.created_at),
            "api_key": watcher.api_key_id,
            "messages": counts,
        }


def _message(message: WebhookMessage, url: str) -> dict[str, Any]:
    return {
        "id": message.id,
        "watcher_id": message.watcher_id,
        "url": url,
        "topic": message.topic,
        "status": message.status,
        "attempts": message.attempts,
        "next_attempt_at": iso(message.next_attempt_at) if message.status == "pending" else None,
        "last_status": message.last_status,
        "last_error": message.last_error,
        "created_at": iso(message.created_at),
        "delivered_at": iso(message.delivered_at),
        "body": json.loads(message.body),
    }


def _event_data(event: ChainEvent, args: dict[str, Any], department: str) -> dict[str, Any]:
    return {
        "department": department,
        "event": event.name,
        "contract": event.contract,
        "args": args,
        "block_number": event.block_number,
        "block_hash": event.block_hash,
        "log_index": event.log_index,
        "transaction": event.tx_hash,
        "time": iso(event.timestamp),
    }


def _our_commitments(session: Session, us: str) -> set[str]:
    led = session.exec(select(CommitmentRow.id).where(CommitmentRow.lead == us)).all()
    taking_part = session.exec(
        select(CommitmentParticipantRow.commitment_id).where(
            CommitmentParticipantRow.department_id == us
        )
    ).all()
    return {*led, *taking_part}


def _concerns(session: Session, us: str) -> Concerns:
    """What the index says is ``us``'s, for matching events (see :class:`Concerns`)."""
    datasets = session.exec(select(DatasetRow).where(DatasetRow.owner_department == us)).all()
    ours = {row.id for row in datasets}
    roots = session.exec(
        select(VersionRow.root).where(
            or_(col(VersionRow.dataset_id).in_(ours), col(VersionRow.department_id) == us)
        )
    ).all()
    agreements = session.exec(
        select(AgreementRow.id).where(
            or_(col(AgreementRow.provider) == us, col(AgreementRow.consumer) == us)
        )
    ).all()
    return Concerns(
        department=us,
        datasets=frozenset(ours),
        codes=frozenset(row.code_hash for row in datasets),
        roots=frozenset(roots),
        agreements=frozenset(agreements),
        commitments=frozenset(_our_commitments(session, us)),
    )

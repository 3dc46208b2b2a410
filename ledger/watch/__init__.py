"""Watchers: a department subscribes to what concerns it on chain, and is told by webhooks
signed per Standard Webhooks, from a durable outbox (:mod:`ledger.watch.outbox`)."""

from __future__ import annotations

from .outbox import (
    DeliveryReport,
    UnknownMessageError,
    UnknownWatcherError,
    Watchers,
    check_topics,
    check_url,
    retry_delay,
)
from .signing import new_secret, secret_key, signature_header, signatures
from .topics import EVENT_TOPICS, TIMED_TOPICS, TOPICS, Concerns, event_topics

__all__ = [
    "EVENT_TOPICS",
    "TIMED_TOPICS",
    "TOPICS",
    "Concerns",
    "DeliveryReport",
    "UnknownMessageError",
    "UnknownWatcherError",
    "Watchers",
    "check_topics",
    "check_url",
    "event_topics",
    "new_secret",
    "retry_delay",
    "secret_key",
    "signature_header",
    "signatures",
]

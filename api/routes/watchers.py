"""``/v1/watchers`` and ``/v1/webhooks``: a department's subscriptions to what concerns it on
chain, and the outbox of the webhooks they are sent (``ledger.watch``; watch or admin keys)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from ..deps import WatchersDep, require_watch
from ..examples import ok, problems
from ..schemas import (
    MessageStatus,
    WatcherAnswer,
    WatcherList,
    WatcherSecret,
    WatchTopic,
    WebhookItem,
    WebhookList,
)
from ._params import Cursor, Limit, page

#: A watch key sees and changes only the watchers it added (and their webhooks); an admin key,
#: all of the department's.
router = APIRouter(tags=["watchers"], dependencies=[Depends(require_watch)])

WatcherId = Annotated[str, Path(description="The watcher's id (wh_…).", max_length=80)]
MessageId = Annotated[str, Path(description="The webhook's id (msg_…).", max_length=80)]


class NewWatcher(BaseModel):
    """What to be told of, and where."""

    model_config = ConfigDict(extra="forbid")
    url: str = Field(
        description="Where the webhooks are POSTed: https (plain http only to loopback).",
        examples=["https://hooks.mz.hangzhou.example/xietong"],
    )
    topics: list[WatchTopic] = Field(description="What to be told of (at least one).")
    expiring_days: int | None = Field(
        default=None, description="With agreement.expiring: how many days ahead to look."
    )


@router.post(
    "/v1/watchers",
    summary="Add a watcher",
    status_code=201,
    response_model=WatcherSecret,
    responses={**ok("watcher_secret", status=201), **problems(400, 403)},
)
def add(watchers: WatchersDep, body: NewWatcher) -> dict[str, Any]:
    """Subscribe a URL to what concerns this gateway's department, from the next block on.
    The answer holds the signing secret, shown this once."""
    watcher, secret = watchers.add(
        url=body.url, topics=body.topics, expiring_days=body.expiring_days
    )
    return {"watcher": watcher, "secret": secret}


@router.get(
    "/v1/watchers",
    summary="This department's watchers",
    response_model=WatcherList,
    responses={**ok("watchers"), **problems(403)},
)
def listed(watchers: WatchersDep) -> dict[str, Any]:
    """Oldest first, each with its webhooks pending, delivered and dead (never a secret)."""
    return {"items": watchers.all()}


@router.get(
    "/v1/watchers/{watcher_id}",
    summary="One watcher",
    response_model=WatcherAnswer,
    responses={**ok("watcher"), **problems(403, 404)},
)
def shown(watchers: WatchersDep, watcher_id: WatcherId) -> dict[str, Any]:
    return watchers.get(watcher_id)


@router.delete(
    "/v1/watchers/{watcher_id}",
    summary="Remove a watcher",
    response_model=WatcherAnswer,
    responses={**ok("watcher"), **problems(403, 404)},
)
def removed(watchers: WatchersDep, watcher_id: WatcherId) -> dict[str, Any]:
    """The watcher and its webhooks not yet delivered are gone."""
    return watchers.remove(watcher_id)


@router.post(
    "/v1/watchers/{watcher_id}/rotate",
    summary="Rotate a watcher's secret",
    response_model=WatcherSecret,
    responses={**ok("watcher_secret"), **problems(403, 404)},
)
def rotated(watchers: WatchersDep, watcher_id: WatcherId) -> dict[str, Any]:
    """A new secret, shown this once; the old one keeps signing beside it for a day (the
    `webhook-signature` header then holds both)."""
    watcher, secret = watchers.rotate(watcher_id)
    return {"watcher": watcher, "secret": secret}


@router.get(
    "/v1/webhooks",
    summary="The webhook outbox",
    response_model=WebhookList,
    responses={**ok("webhooks"), **problems(400, 403)},
)
def webhooks(
    watchers: WatchersDep,
    status: Annotated[
        MessageStatus | None, Query(description="pending, delivered or dead (dead letters).")
    ] = None,
    cursor: Cursor = None,
    limit: Limit = 100,
) -> dict[str, Any]:
    """This department's webhooks, oldest first, with attempts and the last error."""
    return page(watchers.messages(status=status, cursor=cursor, limit=limit))


@router.post(
    "/v1/webhooks/{message_id}/retry",
    summary="Send a dead webhook again",
    response_model=WebhookItem,
    responses={**ok("webhook"), **problems(400, 403, 404)},
)
def retried(watchers: WatchersDep, message_id: MessageId) -> dict[str, Any]:
    """Only a dead one: it is due at once, its attempts counted afresh, the same id."""
    return watchers.retry(message_id)

"""``/healthz`` and ``/readyz`` for load balancers (no key), ``/metrics`` for monitoring
(with the key scope ``XIETONG_METRICS_SCOPE``, or on its own address ``XIETONG_METRICS_ADDRESS``).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from functools import partial
from typing import Any

from fastapi import APIRouter, Depends, FastAPI
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from sqlalchemy import text
from sqlmodel import Session

from ledger.db import queries
from ledger.db.tables import IndexerCheckpoint

from ..deps import StateDep, require
from ..examples import ok, problems
from ..metrics import Position, metrics_listener
from ..schemas import Health, Readiness
from ..state import ApiState

__all__ = ["index_position", "install", "readiness", "router"]

router = APIRouter(tags=["health"])


def head_clock() -> float:
    """The time the head block's age is measured at: this machine's clock (tests measure a
    development chain's head, whose clock can run ahead of it, at a time of their own)."""
    return time.time()


@router.get(
    "/healthz", summary="The process answers", response_model=Health, responses=ok("health")
)
def healthz() -> dict[str, str]:
    """Always ``ok`` while the process serves requests."""
    return {"status": "ok"}


def _iso(seconds: float | None) -> str | None:
    return None if seconds is None else queries.iso(int(seconds))


def readiness(state: StateDep) -> dict[str, Any]:
    """Node, database and index, each checked now; ``reasons`` lists why it is not ready.

    The chain is judged halted when its head block is older than
    ``XIETONG_CHAIN_MAX_HEAD_AGE_SECONDS`` (when set: a network whose validators seal every
    period; a development node seals only on demand).

    The node is the one that answered: the gateway's own, or while it does not answer a
    fallback (``XIETONG_RPC_FALLBACK_URLS``; ``node.fallback``), which keeps the gateway ready.

    The index is judged by this process's indexer loop (``xietong serve`` runs one; an app
    without it only reports the index): not ready when its last pass failed, when more than
    ``XIETONG_INDEX_MAX_LAG_BLOCKS`` confirmed blocks are not indexed, or when the loop has
    not caught up with the chain for ``XIETONG_INDEX_MAX_LAG_SECONDS``.
    """
    settings = state.settings
    node: dict[str, Any] = {
        "reachable": False,
        "head": None,
        "head_age_seconds": None,
        "url": None,
        "fallback": False,
    }
    try:
        client = state.gateway.client
        head = client.head()
        node["head"] = int(head["number"])
        node["head_age_seconds"] = max(0, int(head_clock()) - int(head["timestamp"]))
        node["reachable"] = True
        serving = client.serving_node()  # the own node, or a fallback while it is down
        node["url"], node["fallback"] = serving.url, serving.fallback
    except Exception as exc:  # any failure to reach the node means "not reachable"
        node["error"] = type(exc).__name__
    database: dict[str, Any] = {"reachable": False}
    checkpoints: dict[str, Any] = {"conflicts": []}
    index: dict[str, Any] = {
        "block_number": None,
        "block_time": None,
        "chain_id": None,
        "lag_blocks": None,
        "behind_blocks": None,
        "synced_at": None,
        "age_seconds": None,
    }
    try:
        with Session(state.gateway.engine) as session:
            session.execute(text("select 1"))
            index.update(queries.index_status(session=session))
            checkpoints["conflicts"] = queries.open_conflicts(session=session)
        database["reachable"] = True
    except Exception as exc:
        database["error"] = type(exc).__name__
    if node["head"] is not None and database["reachable"]:
        indexed = index["block_number"]
        if indexed is None:
            indexed = state.gateway.deployment.block_number - 1
        else:
            index["lag_blocks"] = max(0, node["head"] - indexed)
            state.metrics.position.record(Position(head=node["head"], indexed=indexed))
        # Confirmed blocks the index has not read yet.
        index["behind_blocks"] = max(0, node["head"] - settings.confirmations + 1 - indexed)
    loop = state.index_health.snapshot()
    index["indexer"] = {
        "running": loop["running"],
        "last_pass_at": _iso(loop["last_pass_at"]),
        "caught_up_at": _iso(loop["caught_up_at"]),
        "last_error": loop["last_error"],
        "failures": loop["failures"],
    }
    reasons: list[str] = []
    if not node["reachable"]:
        reasons.append("node-unreachable")
    elif 0 < settings.chain_max_head_age_seconds < node["head_age_seconds"]:
        reasons.append("chain-halted")  # e.g. a majority of a network's validators stopped
    if not database["reachable"]:
        reasons.append("database-unreachable")
    if checkpoints["conflicts"]:
        reasons.append("checkpoint-conflict")  # two hashes signed for one block: a fork, a liar
    if loop["running"]:
        if loop["last_error"] is not None:
            reasons.append("index-pass-failed")
        if (index["behind_blocks"] or 0) > settings.index_max_lag_blocks:
            reasons.append("index-behind")
        since = loop["caught_up_at"] or loop["started_at"]
        if since is not None and time.time() - since > settings.index_max_lag_seconds:
            reasons.append("index-stale")
    return {
        "ready": not reasons,
        "reasons": reasons,
        "node": node,
        "database": database,
        "index": index,
        "checkpoints": checkpoints,
    }


@router.get(
    "/readyz",
    summary="Node reachable, database reachable, index advancing",
    response_model=Readiness,
    responses={**ok("ready"), 503: {"description": "Not ready (same body)", "model": Readiness}},
)
def readyz(state: StateDep) -> JSONResponse:
    """200 when the node and the database answer and the index keeps up with the chain (see
    :func:`readiness`), 503 otherwise; always with the details and the ``reasons``."""
    body = readiness(state)
    return JSONResponse(body, status_code=200 if body["ready"] else 503)


def metrics(state: StateDep) -> Response:
    """Request counts and latencies per route; chain head, index block and lag, at most
    ``XIETONG_METRICS_REFRESH_SECONDS`` old (see :func:`index_position`). Each process
    (each worker of ``xietong serve --workers N``) counts its own requests."""
    return Response(state.metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")


def index_position(state: ApiState) -> Position:
    """The chain head and the index's block for the metrics: from this process's indexer loop
    when its last pass is recent enough (no round trip), else one node call and one query."""
    health = state.index_health
    result, passed_at = health.last_result, health.last_success_at
    if (
        result is not None
        and passed_at is not None
        and time.time() - passed_at <= state.settings.metrics_refresh_seconds
    ):
        return Position(head=result.head, indexed=result.to_block)
    # What cannot be read now keeps its last value in the metrics (``/readyz`` says why).
    head = indexed = None
    with contextlib.suppress(Exception):
        head = state.gateway.client.block_number()
    with contextlib.suppress(Exception), Session(state.gateway.engine) as session:
        checkpoint = session.get(IndexerCheckpoint, 1)
        indexed = None if checkpoint is None else checkpoint.block_number
    return Position(head=head, indexed=indexed)


def install(app: FastAPI, state: ApiState) -> None:
    """Add the health routes to ``app``, and its metrics: at ``/metrics`` behind
    ``XIETONG_METRICS_SCOPE``, or, with ``XIETONG_METRICS_ADDRESS``, on that address only (for
    the app's lifetime, without a key; ``/metrics`` is then 404 like any unknown route)."""
    settings = state.settings
    state.metrics.position.follow(
        partial(index_position, state), every=settings.metrics_refresh_seconds
    )
    app.include_router(router)
    listen = settings.metrics_listen()
    if listen is not None:
        app.include_router(APIRouter(lifespan=_serving_metrics(state, *listen)))
        return
    scope = settings.metrics_scope
    description = metrics.__doc__ or ""
    dependencies, refusals = [], problems()
    if scope != "none":
        description += f"\n\nNeeds an API key of scope `{scope}` (`XIETONG_METRICS_SCOPE`)."
        dependencies = [Depends(require(scope))]
        # Every key covers `read`: only a wider scope can be too narrow.
        refusals = problems(401, 429) if scope == "read" else problems(401, 403, 429)
    guarded = APIRouter(tags=["health"], dependencies=dependencies)
    guarded.add_api_route(
        "/metrics",
        metrics,
        methods=["GET"],
        summary="Prometheus metrics",
        description=description,
        response_class=PlainTextResponse,  # documented as text only (the route answers itself)
        responses={
            200: {"content": {"text/plain": {"example": "xietong_index_lag_blocks 0.0\n"}}},
            **refusals,
        },
    )
    app.include_router(guarded)


def _serving_metrics(
    state: ApiState, host: str, port: int
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """The lifespan serving this process's metrics on ``host``:``port``."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        listener = metrics_listener(state.metrics, host, port)
        listener.__enter__()  # binds at once; fails here when the address is taken
        try:
            yield
        finally:
            # Stopping waits for the listener's poll (half a second): not on the event loop.
            await run_in_threadpool(listener.__exit__, None, None, None)

    return lifespan

"""``/healthz``, ``/readyz`` and ``/metrics``: for load balancers and monitoring (no key)."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from sqlalchemy import text
from sqlmodel import Session

from ledger.db import queries

from ..deps import StateDep
from ..examples import ok

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process answers", responses=ok("health"))
def healthz() -> dict[str, str]:
    """Always ``ok`` while the process serves requests."""
    return {"status": "ok"}


def _iso(seconds: float | None) -> str | None:
    return None if seconds is None else queries.iso(int(seconds))


def readiness(state: StateDep) -> dict[str, Any]:
    """Node, database and index, each checked now; ``reasons`` lists why it is not ready.

    The index is judged by this process's indexer loop (``xietong serve`` runs one; an app
    without it only reports the index): not ready when its last pass failed, when more than
    ``XIETONG_INDEX_MAX_LAG_BLOCKS`` confirmed blocks are not indexed, or when the loop has
    not caught up with the chain for ``XIETONG_INDEX_MAX_LAG_SECONDS``.
    """
    settings = state.settings
    node: dict[str, Any] = {"reachable": False, "head": None}
    try:
        node["head"] = state.gateway.client.block_number()
        node["reachable"] = True
    except Exception as exc:  # any failure to reach the node means "not reachable"
        node["error"] = type(exc).__name__
    database: dict[str, Any] = {"reachable": False}
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
        database["reachable"] = True
    except Exception as exc:
        database["error"] = type(exc).__name__
    if node["head"] is not None and database["reachable"]:
        indexed = index["block_number"]
        if indexed is None:
            indexed = state.gateway.deployment.block_number - 1
        else:
            index["lag_blocks"] = max(0, node["head"] - indexed)
            state.metrics.chain_head.set(node["head"])
            state.metrics.index_block.set(indexed)
            state.metrics.index_lag.set(index["lag_blocks"])
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
    if not database["reachable"]:
        reasons.append("database-unreachable")
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
    }


@router.get(
    "/readyz",
    summary="Node reachable, database reachable, index advancing",
    responses={**ok("ready"), 503: {"description": "Not ready (same body)"}},
)
def readyz(state: StateDep) -> JSONResponse:
    """200 when the node and the database answer and the index keeps up with the chain (see
    :func:`readiness`), 503 otherwise; always with the details and the ``reasons``."""
    body = readiness(state)
    return JSONResponse(body, status_code=200 if body["ready"] else 503)


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    responses={200: {"content": {"text/plain": {"example": "xietong_index_lag_blocks 0.0\n"}}}},
)
def metrics(state: StateDep) -> Response:
    """Request counts and latencies per route, index block, chain head and lag."""
    readiness(state)
    return Response(state.metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")

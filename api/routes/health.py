"""``/healthz``, ``/readyz`` and ``/metrics``: for load balancers and monitoring (no key)."""

from __future__ import annotations

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


def readiness(state: StateDep) -> dict[str, Any]:
    """Node, database and index, each checked now."""
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
    }
    try:
        with Session(state.gateway.engine) as session:
            session.execute(text("select 1"))
            index.update(queries.index_status(session=session))
        database["reachable"] = True
    except Exception as exc:
        database["error"] = type(exc).__name__
    if node["head"] is not None and index["block_number"] is not None:
        index["lag_blocks"] = max(0, node["head"] - index["block_number"])
        state.metrics.chain_head.set(node["head"])
        state.metrics.index_block.set(index["block_number"])
        state.metrics.index_lag.set(index["lag_blocks"])
    return {
        "ready": bool(node["reachable"] and database["reachable"]),
        "node": node,
        "database": database,
        "index": index,
    }


@router.get(
    "/readyz",
    summary="Node reachable, database reachable, index lag",
    responses={**ok("ready"), 503: {"description": "Not ready (same body)"}},
)
def readyz(state: StateDep) -> JSONResponse:
    """200 when the node and the database answer, 503 otherwise; always with the details."""
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

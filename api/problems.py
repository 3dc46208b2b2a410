"""Errors as RFC 9457 problem JSON, with a stable ``type`` per kind of error.

Every :class:`~ledger.LedgerError` has a ``kind``; the problem's ``type`` is
``urn:xietong:problem:<kind>`` and its HTTP status comes from :data:`STATUS`. Request
validation, unknown routes and internal errors get problem JSON too; an internal error never
shows its details (they go to the log, without secrets).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from ledger import ContractRevertError, InputError, LedgerError
from ledger._events import jsonable

__all__ = [
    "PROBLEM_TYPE_PREFIX",
    "STATUS",
    "Problem",
    "install",
    "ledger_error_response",
    "problem_response",
]

log = logging.getLogger("xietong.api")

PROBLEM_TYPE_PREFIX = "urn:xietong:problem:"
MEDIA_TYPE = "application/problem+json"

#: HTTP status of each error kind; kinds not listed are 400 for input errors, else 500.
STATUS: dict[str, int] = {
    "bad-input": 400,
    "bad-hash": 400,
    "bad-bundle": 400,
    "invalid-request": 422,
    "unauthorized": 401,
    "forbidden": 403,
    "not-owner": 403,
    "not-found": 404,
    "unknown-department": 404,
    "unknown-dataset": 404,
    "unknown-agreement": 404,
    "unknown-commitment": 404,
    "unknown-batch": 404,
    "not-anchored": 404,
    "method-not-allowed": 405,
    "revoked": 410,
    "payload-too-large": 413,
    "rate-limited": 429,
    "contract-revert": 409,
    "anchor": 409,
    "not-confirmed": 409,
    "root-mismatch": 409,
    "unknown-root": 409,
    "node-unavailable": 503,
    "database-unavailable": 503,
    "no-signer": 503,
    "transaction-failed": 502,
    "configuration": 503,
    "key-refused": 503,
    "chain": 502,
    "internal": 500,
}

TITLES: dict[str, str] = {
    "bad-input": "Bad input",
    "bad-hash": "Malformed hash",
    "bad-bundle": "Malformed proof bundle",
    "invalid-request": "Invalid request",
    "unauthorized": "API key required",
    "forbidden": "Scope too narrow",
    "not-owner": "Not this department's dataset",
    "not-found": "Not found",
    "unknown-department": "Unknown department",
    "unknown-dataset": "Unknown dataset",
    "unknown-agreement": "Unknown agreement",
    "unknown-commitment": "Unknown commitment",
    "unknown-batch": "Unknown batch",
    "not-anchored": "Not anchored",
    "method-not-allowed": "Method not allowed",
    "revoked": "Version revoked",
    "payload-too-large": "Upload too large",
    "rate-limited": "Rate limited",
    "contract-revert": "Refused by the contract",
    "anchor": "Cannot anchor",
    "not-confirmed": "Not confirmed",
    "root-mismatch": "Proof does not match",
    "unknown-root": "Unknown root",
    "node-unavailable": "Chain node unavailable",
    "database-unavailable": "Database unavailable",
    "no-signer": "No signing key",
    "transaction-failed": "Transaction failed",
    "configuration": "Gateway misconfigured",
    "key-refused": "Signing key refused",
    "chain": "Chain error",
    "internal": "Internal error",
}


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str = Field(examples=["urn:xietong:problem:bad-hash"])
    title: str = Field(examples=["Malformed hash"])
    status: int = Field(examples=[400])
    detail: str = Field(examples=["a hash is 32 bytes (64 hex digits); '0x1234' has 4 digits."])
    instance: str | None = Field(default=None, examples=["/v1/verify"])


def problem_response(
    kind: str,
    detail: str,
    *,
    status: int | None = None,
    instance: str | None = None,
    headers: dict[str, str] | None = None,
    **extensions: Any,
) -> JSONResponse:
    """A problem JSON response of ``kind``."""
    code = status or STATUS.get(kind, 500)
    body = {
        "type": PROBLEM_TYPE_PREFIX + kind,
        "title": TITLES.get(kind, kind.replace("-", " ").capitalize()),
        "status": code,
        "detail": detail,
        "instance": instance,
        **extensions,
    }
    return JSONResponse(body, status_code=code, media_type=MEDIA_TYPE, headers=headers)


def ledger_error_response(request: Request, exc: Exception) -> JSONResponse:
    """The problem JSON of a :class:`LedgerError` (its ``kind`` gives type and status)."""
    assert isinstance(exc, LedgerError)
    kind = exc.kind
    if kind not in STATUS and isinstance(exc, InputError):
        kind = "bad-input"
    extensions: dict[str, Any] = {}
    if isinstance(exc, ContractRevertError):
        extensions = {"error_name": exc.error_name, "error_args": jsonable(exc.error_args)}
    headers = {"WWW-Authenticate": 'ApiKey header="X-API-Key"'} if kind == "unauthorized" else None
    retry = getattr(exc, "retry_after", None)
    if retry is not None:
        headers = {"Retry-After": str(max(1, int(retry + 0.999)))}
    if STATUS.get(kind, 500) >= 500:
        log.warning("%s %s: %s", request.method, request.url.path, kind)
    return problem_response(
        kind, str(exc), instance=request.url.path, headers=headers, **extensions
    )


def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"location": ".".join(str(p) for p in e.get("loc", ())), "message": str(e.get("msg", ""))}
        for e in exc.errors()
    ]
    first = errors[0] if errors else {"location": "request", "message": "invalid"}
    detail = f"{first['location']}: {first['message']}."
    return problem_response("invalid-request", detail, instance=request.url.path, errors=errors)


def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    kinds = {
        404: "not-found",
        405: "method-not-allowed",
        413: "payload-too-large",
        401: "unauthorized",
    }
    kind = kinds.get(exc.status_code, "bad-input" if exc.status_code < 500 else "internal")
    detail = exc.detail if isinstance(exc.detail, str) else "the request was refused."
    if exc.status_code == 404 and detail == "Not Found":
        detail = f"there is no route {request.url.path}."
    return problem_response(
        kind,
        detail,
        status=exc.status_code,
        instance=request.url.path,
        headers=getattr(exc, "headers", None),
    )


def internal_error(request: Request, exc: Exception) -> JSONResponse:
    log.error("internal error on %s %s: %s", request.method, request.url.path, type(exc).__name__)
    return problem_response(
        "internal", "the gateway failed to answer; the error was logged.", instance=request.url.path
    )


def install(app: FastAPI) -> None:
    """Register the problem JSON handlers on ``app``."""
    app.add_exception_handler(LedgerError, ledger_error_response)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, internal_error)

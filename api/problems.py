"""Errors as RFC 9457 problem JSON, with a stable ``type`` per kind of error.

Every :class:`~ledger.LedgerError` has a ``kind``; the problem's ``type`` is
``urn:xietong:problem:<kind>`` and its HTTP status and title come from :data:`PROBLEMS`. Request
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
from ledger.events import jsonable

__all__ = [
    "PROBLEMS",
    "PROBLEM_TYPE_PREFIX",
    "Problem",
    "install",
    "ledger_error_response",
    "problem_response",
]

log = logging.getLogger("xietong.api")

PROBLEM_TYPE_PREFIX = "urn:xietong:problem:"
MEDIA_TYPE = "application/problem+json"

#: Each error kind: its HTTP status and title (the problem's ``type`` is
#: ``urn:xietong:problem:<kind>``). A LedgerError of a kind not listed is 400 when it is an
#: InputError (as ``bad-input``), else 500. A new kind of error is one line here.
PROBLEMS: dict[str, tuple[int, str]] = {
    "bad-input": (400, "Bad input"),
    "bad-hash": (400, "Malformed hash"),
    "bad-bundle": (400, "Malformed proof bundle"),
    "export-too-large": (400, "Export too large"),
    "bad-access-proof": (400, "Access proof does not hold"),
    "ambiguous-dataset": (400, "Ambiguous dataset code"),
    "bundle-claim": (409, "Proof bundle contradicts the chain"),
    "malformed-json": (400, "Malformed JSON body"),
    "invalid-request": (422, "Invalid request"),
    "unauthorized": (401, "API key required"),
    "forbidden": (403, "Scope too narrow"),
    "not-owner": (403, "Not this department's dataset"),
    "not-found": (404, "Not found"),
    "unknown-department": (404, "Unknown department"),
    "unknown-dataset": (404, "Unknown dataset"),
    "unknown-agreement": (404, "Unknown agreement"),
    "unknown-commitment": (404, "Unknown commitment"),
    "unknown-batch": (404, "Unknown batch"),
    "unknown-proposal": (404, "Unknown proposal"),
    "unknown-watcher": (404, "Unknown watcher"),
    "unknown-message": (404, "Unknown webhook"),
    "unknown-checkpoint": (404, "No checkpoint at that block"),
    "not-anchored": (404, "Not anchored"),
    "method-not-allowed": (405, "Method not allowed"),
    "revoked": (410, "Version revoked"),
    "request-timeout": (408, "Request timeout"),
    "payload-too-large": (413, "Upload too large"),
    "body-too-large": (413, "Request body too large"),
    "rate-limited": (429, "Rate limited"),
    "contract-revert": (409, "Refused by the contract"),
    "anchor": (409, "Cannot anchor"),
    "not-confirmed": (409, "Not confirmed"),
    "not-sealed": (409, "Not sealed by a majority of the signers yet"),
    "root-mismatch": (409, "Proof does not match"),
    "unknown-root": (409, "Unknown root"),
    "node-unavailable": (503, "Chain node unavailable"),
    "database-unavailable": (503, "Database unavailable"),
    "server-busy": (503, "Too many connections"),
    "no-signer": (503, "No signing key"),
    "transaction-failed": (502, "Transaction failed"),
    "configuration": (503, "Gateway misconfigured"),
    "key-refused": (503, "Signing key refused"),
    "chain": (502, "Chain error"),
    "internal": (500, "Internal error"),
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
    known_status, title = PROBLEMS.get(kind, (500, kind.replace("-", " ").capitalize()))
    code = status or known_status
    body = {
        "type": PROBLEM_TYPE_PREFIX + kind,
        "title": title,
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
    if kind not in PROBLEMS and isinstance(exc, InputError):
        kind = "bad-input"
    extensions: dict[str, Any] = {}
    if isinstance(exc, ContractRevertError):
        extensions = {"error_name": exc.error_name, "error_args": jsonable(exc.error_args)}
    headers = {"WWW-Authenticate": 'ApiKey header="X-API-Key"'} if kind == "unauthorized" else None
    retry = getattr(exc, "retry_after", None)
    if retry is not None:
        headers = {"Retry-After": str(max(1, int(retry + 0.999)))}
    if PROBLEMS.get(kind, (500, ""))[0] >= 500:
        log.warning("%s %s: %s", request.method, request.url.path, kind)
    return problem_response(
        kind, str(exc), instance=request.url.path, headers=headers, **extensions
    )


def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    unparsed = next((e for e in exc.errors() if e.get("type") == "json_invalid"), None)
    if unparsed is not None:
        # A body that is not JSON at all is a malformed request (RFC 9110 §15.5.1: 400), not
        # well-formed content the route cannot process (422).
        reason = str(unparsed.get("ctx", {}).get("error", "not JSON")).rstrip(".")
        where = unparsed.get("loc", ("body",))[-1]
        at = f" at character {where}" if isinstance(where, int) else ""
        return problem_response(
            "malformed-json",
            f"the body is not valid JSON: {reason}{at}.",
            instance=request.url.path,
        )
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
    if exc.status_code == 400 and detail == "There was an error parsing the body":
        # FastAPI's answer to a JSON body that does not decode (invalid UTF-8), nests too
        # deep or holds a number too long to read: malformed, like one that does not parse.
        kind, detail = "malformed-json", "the body is not valid JSON (it cannot be read)."
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
    # Answered outside api.app._Observe (by Starlette's outermost middleware): its headers here.
    return problem_response(
        "internal",
        "the gateway failed to answer; the error was logged.",
        instance=request.url.path,
        headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"},
    )


def install(app: FastAPI) -> None:
    """Register the problem JSON handlers on ``app``."""
    app.add_exception_handler(LedgerError, ledger_error_response)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, internal_error)

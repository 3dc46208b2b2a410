"""The FastAPI application: routes under ``/v1``, health, metrics, docs and the auditor portal."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.openapi.utils import get_openapi
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import DBAPIError
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ledger import __version__
from ledger.db.engine import as_unavailable
from ledger.settings import Settings

from . import docs, problems
from ._guard import RequestGuard
from .examples import problems as problem_docs
from .metrics import Metrics
from .portal import routes as portal
from .routes import (
    agreements,
    anchors,
    audit,
    catalogue,
    checkpoints,
    commitments,
    consortium,
    datasets,
    departments,
    documents,
    erasures,
    health,
    proofs,
    proposals,
    verify,
    watchers,
)
from .state import ApiState

__all__ = ["create_app"]

log = logging.getLogger("xietong.api")

DESCRIPTION = """\
Verification and audit API of a Xietong (协同) gateway.

*Is this file or record authentic, who published it, when, and who was allowed to receive it?*
Answers come from the gateway's index of the consortium chain; every proof bundle checks
against the contract on any node, without trusting this gateway.

**Auth**: send an API key in the `X-API-Key` header (`xietong apikey create --scope
read|anchor|watch|admin`: `anchor` and `watch` keys may also read, `admin` keys do
everything). Read routes may be open to anonymous callers
(`XIETONG_API_OPEN_READS=true`); `/v1/consortium`, the consortium trust file with its
fingerprint, and `/v1/checkpoints`, the checkpoints cosigned by the departments' gateways,
are public. Errors are RFC 9457 problem JSON with a stable `type`
(`urn:xietong:problem:<kind>`). Hashes and ids are 0x-hex; times ISO 8601.
"""


# Python's recursion limit is back at its default in any process that imports ``ledger``
# (ledger/_recursion.py): py_ecc raises it, and json's C parser would then overflow the C
# stack on a deeply nested body (parsed once the caller is admitted: any caller on open read
# routes) instead of raising RecursionError, which FastAPI answers as a 422 problem.


def create_app(settings: Settings | None = None, *, background: bool = False) -> FastAPI:
    """The app for ``settings`` (read from the environment when omitted).

    ``background`` starts the indexer and the anchoring batcher in threads for the app's
    lifetime (``xietong serve`` does; tests that drive the index themselves do not).
    """
    state = ApiState.build(settings or Settings())
    # Create the tables (and fail fast on a bad URL) before serving.
    _ = state.gateway.engine

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        threads = []
        if background:
            for target, name in (
                (state.index_loop, "xietong-indexer"),
                (state.anchor_loop, "xietong-anchorer"),
                (state.watch_loop, "xietong-webhooks"),
                (state.checkpoint_loop, "xietong-checkpoints"),
            ):
                thread = threading.Thread(target=target, name=name, daemon=True)
                thread.start()
                threads.append(thread)
        try:
            yield
        finally:
            state.stopping.set()
            for thread in threads:
                thread.join(timeout=15)
            if "verifier" in vars(state):
                await state.verifier.aclose()

    app = FastAPI(
        title="Xietong (协同) gateway API",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # /docs is api.docs's page: Swagger UI served from here, under a CSP
        redoc_url=None,
    )
    app.state.xietong = state
    problems.install(app)

    def database_unavailable(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, DBAPIError)
        mapped = as_unavailable(exc)  # the one table of database outages (ledger.db.engine)
        if mapped is None:
            return problems.internal_error(request, exc)
        return problems.ledger_error_response(request, mapped)

    app.add_exception_handler(DBAPIError, database_unavailable)

    app.add_middleware(RequestGuard, state=state)  # inside _Observe: its answers are counted
    app.add_middleware(_Observe, metrics=state.metrics, fallback_node=state.fallback_node)

    for router in (
        verify.router,
        documents.router,
        proofs.router,
        datasets.router,
        erasures.router,
        agreements.router,
        agreements.checks,
        commitments.router,
        departments.router,
        proposals.router,
        catalogue.router,
        audit.router,
    ):
        app.include_router(router, responses=problem_docs(401, 413, 422, 429))
    app.include_router(anchors.router, responses=problem_docs(401, 403, 413, 422, 429))
    app.include_router(consortium.router)
    app.include_router(checkpoints.router, responses=problem_docs(422, 429))
    app.include_router(watchers.router, responses=problem_docs(401, 413, 422, 429))
    health.install(app, state)  # /healthz, /readyz; /metrics as the settings say
    _add_problem_schema(app)
    docs.install(app)
    portal.install(app)
    return app


#: Sent with every answer: no browser feature a page of ours could use (no camera, microphone,
#: location, payment, USB …: the portal and /docs need none), and a window of ours shares no
#: browsing context with a page of another origin that opened it or that it opens.
DOCUMENT_POLICIES = {
    "Permissions-Policy": (
        "accelerometer=(), camera=(), display-capture=(), geolocation=(), gyroscope=(), "
        "magnetometer=(), microphone=(), payment=(), usb=()"
    ),
    "Cross-Origin-Opener-Policy": "same-origin",
}

#: Sent with every answer while the chain reads come from a fallback node
#: (``XIETONG_RPC_FALLBACK_URLS``) because the gateway's own node does not answer:
#: ``fallback <scheme://host:port>`` of the node that served the last read.
CHAIN_NODE_HEADER = "Xietong-Chain-Node"


class _Observe:
    """Count and time every HTTP request by route template, and send
    ``X-Content-Type-Options: nosniff``, ``Cache-Control: no-store`` and
    :data:`DOCUMENT_POLICIES` unless the route set them, and :data:`CHAIN_NODE_HEADER` while
    ``fallback_node`` names the fallback node the chain reads come from.

    ``HEAD`` is answered for every ``GET`` route (RFC 9110 §9.3.2): the request goes in as a
    ``GET`` and its answer comes back with the same status and headers, ``Content-Length``
    included, without the body.

    API answers, problems, health, metrics and the OpenAPI document may carry what a key may
    read: no cache keeps them. Static files (a :class:`StaticFiles` mount: the portal's
    ``/static``, the docs' ``/docs/assets``) are the exception: they are the same for everyone
    and keep their validators (ETag, Last-Modified) and the browser's caching, but for their
    errors.

    A plain ASGI middleware: Starlette's ``@app.middleware("http")`` (BaseHTTPMiddleware)
    costs a task, a memory stream and a streaming response per request. As there, a request
    whose exception escapes the handlers is not counted.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        metrics: Metrics,
        fallback_node: Callable[[], str | None] = lambda: None,
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.fallback_node = fallback_node

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 0
        method = scope["method"]
        head = method == "HEAD"
        if head:
            scope = {**scope, "method": "GET"}

        async def send_with_header(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = MutableHeaders(scope=message)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                for name, value in DOCUMENT_POLICIES.items():
                    headers.setdefault(name, value)
                if status >= 400 or not isinstance(scope.get("endpoint"), StaticFiles):
                    headers.setdefault("Cache-Control", "no-store")
                fallback = self.fallback_node()  # read after the route: its reads count
                if fallback is not None:
                    headers[CHAIN_NODE_HEADER] = f"fallback {fallback}"
            elif head and message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        await self.app(scope, receive, send_with_header)
        template = getattr(scope.get("route"), "path", "unmatched")
        self.metrics.observe(method, template, status, time.perf_counter() - started)


def _add_problem_schema(app: FastAPI) -> None:
    """Serve the OpenAPI document with the Problem schema the problem responses refer to."""

    def openapi() -> dict[str, object]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title, version=app.version, description=app.description, routes=app.routes
            )
            schemas = schema.setdefault("components", {}).setdefault("schemas", {})
            schemas["Problem"] = problems.Problem.model_json_schema()
            _document_hash_patterns(schema)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


# Hashes and ids as the routes parse them (ledger.refs): documented here, in the document only,
# so that a malformed one still gets the 400 bad-hash problem rather than FastAPI's 422.
_HASH = "^(0[xX])?[0-9a-fA-F]{64}$"
_SUBJECT = "^0[xX][0-9a-fA-F]{64}$"
_PARAMETER_PATTERNS = {
    ("query", "hash"): _HASH,
    ("path", "leaf"): _HASH,
    ("query", "root"): _HASH,
    ("query", "record_hash"): _HASH,
    ("query", "salt"): _HASH,
    ("path", "agreement"): _SUBJECT,
    ("path", "commitment"): _SUBJECT,
}
_BODY_PATTERNS = {("RecordQuery", "record_hash"): _HASH, ("RecordQuery", "salt"): _HASH}


def _with_pattern(schema: dict[str, Any], pattern: str) -> None:
    """Put ``pattern`` on the string form(s) of ``schema`` (``str`` or ``str | None``)."""
    for form in [schema, *schema.get("anyOf", [])]:
        if form.get("type") == "string":
            form["pattern"] = pattern


def _document_hash_patterns(schema: dict[str, Any]) -> None:
    for item in schema.get("paths", {}).values():
        for operation in item.values():
            for parameter in operation.get("parameters", []):
                pattern = _PARAMETER_PATTERNS.get((parameter["in"], parameter["name"]))
                if pattern is not None:
                    _with_pattern(parameter["schema"], pattern)
    components = schema.get("components", {}).get("schemas", {})
    for (model, field), pattern in _BODY_PATTERNS.items():
        properties = components.get(model, {}).get("properties", {})
        if field in properties:
            _with_pattern(properties[field], pattern)

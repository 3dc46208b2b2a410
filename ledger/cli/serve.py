"""``xietong serve``: the HTTP API and the auditor portal (uvicorn), with indexer and batcher."""

from __future__ import annotations

from typing import Annotated

import typer

from ._metrics import LOOPBACK, check_metrics_address
from ._output import console, fail, load_settings, safe


def serve_command(
    host: Annotated[
        str | None,
        typer.Option("--host", help="Address to bind (default XIETONG_API_HOST, 127.0.0.1)."),
    ] = None,
    port: Annotated[
        int | None,
        typer.Option("--port", min=1, max=65535, help="Port (default XIETONG_API_PORT, 8000)."),
    ] = None,
    workers: Annotated[int, typer.Option("--workers", min=1, max=32, help="Worker processes.")] = 1,
    log_level: Annotated[str, typer.Option("--log-level", help="uvicorn log level.")] = "info",
) -> None:
    """Serve the API (/v1, /docs, /healthz, /readyz, /metrics) and the portal until Ctrl-C."""
    import uvicorn

    settings = load_settings(False)
    bind_host = host or settings.api_host
    bind_port = port or settings.api_port
    if bind_host not in LOOPBACK:
        console.print(
            f"[yellow]warning:[/] binding {safe(bind_host)}: "
            "the API is reachable from other machines."
        )
    # Fail with one sentence on a bad database URL, an unreachable database or a keystore that
    # would be refused (weak, or open to other users), before uvicorn.
    from ..db.engine import create_db_engine
    from ..errors import LedgerError
    from ..keys import check_keystore

    try:
        create_db_engine(settings.database_url)
        check_keystore(settings)
    except LedgerError as exc:
        fail(str(exc), kind=exc.kind, as_json=False)
    check_metrics_address(settings, workers)
    console.print(
        f"serving http://{safe(bind_host)}:{bind_port}/ (portal), /docs (API), /v1 … ; "
        "Ctrl-C stops",
        highlight=False,
    )
    uvicorn.run(
        "api.server:app_from_environment",
        factory=True,
        host=bind_host,
        port=bind_port,
        workers=workers,
        log_level=log_level,
        access_log=False,
        proxy_headers=False,
        # Slow clients (api/_protocol.py): a deadline for each request head, a connection
        # limit per worker, and the idle time of a keep-alive connection.
        http="api.server:HttpProtocol",
        timeout_keep_alive=settings.api_keep_alive,
    )

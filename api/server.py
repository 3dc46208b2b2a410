"""What uvicorn imports in each worker process of ``xietong serve``: the app factory and the
HTTP protocol, both configured from ``XIETONG_*`` (read once per process)."""

from __future__ import annotations

import functools

from fastapi import FastAPI

from ledger.settings import Settings

from ._protocol import GuardedHttpProtocol
from .app import create_app

__all__ = ["HttpProtocol", "app_from_environment", "worker_settings"]


@functools.cache
def worker_settings() -> Settings:
    """This worker process's settings."""
    return Settings()


def app_from_environment() -> FastAPI:
    """The app with the indexer and batcher running, configured from ``XIETONG_*``."""
    return create_app(worker_settings(), background=True)


class HttpProtocol(GuardedHttpProtocol):
    """The HTTP/1.1 protocol of ``xietong serve``: a deadline for each request head
    (``XIETONG_API_HEADER_TIMEOUT``) and a connection limit (``XIETONG_API_MAX_CONNECTIONS``)."""

    def limits(self) -> tuple[float, int | None]:
        settings = worker_settings()
        return settings.api_header_timeout, settings.api_max_connections

"""The factory uvicorn imports in each worker process of ``xietong serve``."""

from __future__ import annotations

from fastapi import FastAPI

from ledger.settings import Settings

from .app import create_app


def app_from_environment() -> FastAPI:
    """The app with the indexer and batcher running, configured from ``XIETONG_*``."""
    return create_app(Settings(), background=True)

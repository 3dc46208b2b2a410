"""Portal pages (placeholder until the portal lands)."""

from __future__ import annotations

from fastapi import FastAPI


def install(app: FastAPI) -> None:
    """Mount the portal's pages and static assets on ``app``."""

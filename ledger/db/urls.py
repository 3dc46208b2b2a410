"""What a database URL names, read in one place (the settings, the engine and the doctor)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

__all__ = ["masked_url", "sqlite_file"]


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL (``sqlite:///path``, relative or absolute); None for another
    database, an in-memory one, a ``file:`` URI, or a URL that does not parse."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return None
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return None
    return None if database.startswith("file:") else Path(database)


def masked_url(url: str) -> str:
    """A database URL fit to show: its password replaced by ``***``."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(not a database URL)"

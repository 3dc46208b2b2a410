"""Xietong (协同) HTTP API and auditor portal, over the ``ledger`` library.

Public API::

    from api import create_app
    app = create_app(Settings(), background=True)
"""

from __future__ import annotations

from .app import create_app

__all__ = ["create_app"]

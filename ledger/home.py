"""The gateway's home: the one folder holding its state (``.env``, ``deployments/``, ``var/``
with the SQLite database, the node's files and the demo's), found the same way from any folder
a command runs in.

Where it is, first found wins:

1. ``XIETONG_HOME`` (a department's server sets it, e.g. ``/srv/xietong``; a relative value is
   taken from the folder the command runs in, once, and shown absolute);
2. the source checkout the ``xietong`` command runs from (``make run`` and ``make setup``
   install it editable: the folder holding ``pyproject.toml``);
3. ``$XDG_DATA_HOME/xietong`` (``~/.local/share/xietong``) for an installed package.

Every relative path in the settings (``XIETONG_DEPLOYMENTS_DIR``, ``XIETONG_DEPLOYMENT``,
``XIETONG_NODE_DIR``, ``XIETONG_KEYSTORE``, ``XIETONG_KEYSTORE_PASSWORD_FILE``, a
``sqlite:///relative`` database) is relative to the home, never to the current folder.
``xietong doctor`` prints the home, how it was found, and every path resolved.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from .paths import PROJECT_ROOT

__all__ = ["HOME_VARIABLE", "Home", "HomeSource", "find_home", "under_home"]

#: The environment variable naming the home.
HOME_VARIABLE = "XIETONG_HOME"

HomeSource = Literal["XIETONG_HOME", "checkout", "user data", "settings"]


@dataclass(frozen=True)
class Home:
    """Where the gateway's state lives, and how that was decided."""

    path: Path
    source: HomeSource


def _is_checkout(root: Path) -> bool:
    return (root / "pyproject.toml").is_file() and (root / "ledger").is_dir()


def find_home(environ: Mapping[str, str] | None = None) -> Home:
    """The home, from ``XIETONG_HOME``, the checkout, or the user's data folder (see the
    module's docstring); its path is absolute and need not exist yet."""
    values = os.environ if environ is None else environ
    named = values.get(HOME_VARIABLE, "").strip()
    if named:
        return Home(Path(named).expanduser().absolute(), "XIETONG_HOME")
    if _is_checkout(PROJECT_ROOT):
        return Home(PROJECT_ROOT, "checkout")
    data = values.get("XDG_DATA_HOME", "").strip()
    base = Path(data) if data and Path(data).is_absolute() else Path.home() / ".local" / "share"
    return Home(base / "xietong", "user data")


def under_home(home: Path, path: Path) -> Path:
    """``path`` as the settings mean it: itself when absolute, else inside ``home``."""
    expanded = path.expanduser()
    return expanded if expanded.is_absolute() else home / expanded

"""Build hook for the optional C extension ``ledger._keccak`` (everything else is in
pyproject.toml).

The extension is the fast path of :mod:`ledger.merkle` (Keccak-256, leaf hashing and tree
building in bulk). It is ``optional``: without a C compiler the install still succeeds and
``ledger.merkle`` falls back to its pure-Python implementation (same results, much slower).
"""

from __future__ import annotations

import os

from setuptools import Extension, setup

_POSIX = os.name == "posix"

setup(
    ext_modules=[
        Extension(
            "ledger._keccak",
            sources=["ledger/_keccak.c"],
            extra_compile_args=["-O3", "-pthread"] if _POSIX else [],
            extra_link_args=["-pthread"] if _POSIX else [],
            optional=True,
        )
    ]
)

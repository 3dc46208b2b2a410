"""Keep Python's recursion limit at its default, whatever py_ecc does.

py_ecc (imported by eth_account) raises the limit to 100000 when it is first imported; json's
C parser then overflows the C stack on deeply nested input — a segfault that takes the whole
process down, not a RecursionError. Imported first by ``ledger``: py_ecc is imported here and
the limit put back, so a later ``import eth_account`` anywhere in the process finds py_ecc
imported and leaves the limit alone.
"""

from __future__ import annotations

import sys

import py_ecc  # noqa: F401

RECURSION_LIMIT = 1000

sys.setrecursionlimit(min(sys.getrecursionlimit(), RECURSION_LIMIT))

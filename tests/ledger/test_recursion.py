"""py_ecc (via eth_account) raises the recursion limit to 100000 on import; importing ledger
puts it back, so deeply nested JSON is a RecursionError, not a segfault, in every process
(CLI, scripts, API), whatever is imported later."""

from __future__ import annotations

import subprocess
import sys

PROGRAM = """
import json, sys
import ledger
import eth_account, ledger.keys, ledger.chain.client  # the usual later imports
print(sys.getrecursionlimit())
try:
    json.loads("[" * 300_000)
except RecursionError:
    print("RecursionError")
"""


def test_deep_json_is_a_recursion_error_after_importing_ledger() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROGRAM], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, (done.returncode, done.stderr[-2000:])  # -11 was a segfault
    assert done.stdout.split() == ["1000", "RecursionError"]

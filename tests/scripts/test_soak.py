"""The soak's short version: steady verify and anchor traffic against a real `xietong serve`
with zero errors, flat memory and every submitted hash provable at the end (`make soak` runs
the long one)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.timeout(600)
def test_short_soak_passes(tmp_path: Path) -> None:
    out = tmp_path / "soak.json"
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "soak.py"), "--seconds", "20", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=540,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    result = json.loads(out.read_text(encoding="utf-8"))
    assert result["passed"] is True and result["errors"] == []
    assert result["requests"]["verify"] >= 1000 and result["requests"]["anchor"] >= 20
    assert result["submitted_hashes"] > 0
    assert result["provable"] == result["submitted_hashes"]
    assert result["roots"] >= 2  # several batches were sealed and anchored while verifying
    assert result["memory_mib"]["samples"] >= 10


def test_soak_refuses_bad_arguments(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "soak.py"), "--seconds", "0"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "--seconds must be positive" in done.stderr

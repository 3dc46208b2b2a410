"""The app as a whole under hostile bodies (no chain needed)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from ledger.paths import PROJECT_ROOT

# Run in a child process: should the guard regress, the child segfaults, not the test session.
CHILD = textwrap.dedent(
    """
    import json, sys
    from fastapi.testclient import TestClient
    from api import create_app
    from ledger.settings import Settings

    # Open reads: an anonymous body is parsed (with a key required it would get 401 unread).
    settings = Settings(
        _env_file=None, env="local", database_url=f"sqlite:///{sys.argv[1]}", api_open_reads=True
    )
    app = create_app(settings)
    assert "py_ecc" in sys.modules  # the import that raises the recursion limit has happened
    with TestClient(app) as client:
        response = client.post(
            "/v1/verify/record", content=b"[" * 300_000,
            headers={"content-type": "application/json"},
        )
    print(json.dumps({"status": response.status_code, "type": response.headers["content-type"],
                      "body": response.json()}))
    """
)


def test_a_deeply_nested_json_body_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    # With py_ecc's recursion limit (100000) json's C parser overflowed the C stack: SIGSEGV.
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(tmp_path / "xietong.db")],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, (done.returncode, done.stderr[-2000:])
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    assert answer["status"] == 400 and answer["type"] == "application/problem+json"
    assert answer["body"]["type"] == "urn:xietong:problem:malformed-json"

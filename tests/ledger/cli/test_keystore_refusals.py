"""``xietong`` in production refuses a weak keystore, or one whose files other users can get
at, with one sentence naming the problem and its fix (no stack trace): ``xietong serve`` before
it starts serving, although it loads the key only at the first write."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from eth_account import Account

from ledger.chain.node import free_port
from tests.support import gateway_environment


def serve(tmp_path: Path, **variables: str) -> subprocess.CompletedProcess[str]:
    """``xietong serve`` in production on a free port, with a fresh SQLite database; it ends
    by itself only when it refuses to start (a server that starts fails the test at the
    timeout)."""
    env = {
        **gateway_environment(tmp_path),
        "XIETONG_ENV": "production",
        "XIETONG_DATABASE_URL": f"sqlite:///{tmp_path / 'var' / 'xietong.db'}",
        **variables,
    }
    return subprocess.run(
        [sys.executable, "-m", "ledger.cli", "serve", "--port", str(free_port())],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=90,
        check=False,
    )


def one_sentence(result: subprocess.CompletedProcess[str]) -> str:
    """The refusal: exit status 1 and one line on stderr, nothing else."""
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_serve_refuses_a_weak_keystore_in_one_sentence(tmp_path: Path) -> None:
    keystore = tmp_path / "department.keystore.json"
    keystore.write_text(
        json.dumps(Account.encrypt(Account.create().key, "pw", kdf="pbkdf2", iterations=1))
    )
    keystore.chmod(0o600)
    line = one_sentence(
        serve(tmp_path, XIETONG_KEYSTORE=str(keystore), XIETONG_KEYSTORE_PASSWORD="pw")
    )
    assert line == (
        f"error: the keystore {keystore} is encrypted with PBKDF2 at 1 iteration, below "
        "eth-account's default 1,000,000: re-encrypt it with "
        "`Account.encrypt(Account.decrypt(keyfile, password), password)` of eth_account (its "
        "default cost), written to a file of mode 0600."
    )


def test_serve_refuses_a_password_file_others_can_read_in_one_sentence(tmp_path: Path) -> None:
    keystore = tmp_path / "department.keystore.json"
    keystore.write_text(json.dumps(Account.encrypt(Account.create().key, "pw", kdf="pbkdf2")))
    keystore.chmod(0o600)
    password_file = tmp_path / "password"
    password_file.write_text("pw\n")
    password_file.chmod(0o666)
    line = one_sentence(
        serve(
            tmp_path,
            XIETONG_KEYSTORE=str(keystore),
            XIETONG_KEYSTORE_PASSWORD_FILE=str(password_file),
        )
    )
    assert line == (
        f"error: the keystore password file {password_file} is readable by other users "
        f"(mode 0666): run `chmod 600 {password_file}`."
    )

"""No private key, keystore password, API key or salt ever appears in a log line or an error.

Every logger (the root at DEBUG, third-party ones included: SQLAlchemy with its bound
parameters, web3, urllib3, httpx, uvicorn, psycopg) and stdout/stderr are captured while the
API is exercised in process (keys good, wrong, malformed and revoked; header, bearer token
and portal sign-in; records verified with their salts, good and mistyped; writes with the
admin key; error paths), and while the ``xietong`` command runs with a fresh encrypted
keystore (anchoring a CSV with salts, verifying a row, a wrong password, a mistyped salts
sidecar, ``apikey create``, ``xietong serve`` at log level debug). Then none of the secrets
may show in a captured record, a problem or error message, or the command's stderr.
"""

from __future__ import annotations

import contextlib
import csv
import json
import logging
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from eth_account import Account
from sqlmodel import Session
from standardwebhooks import Webhook

from ledger import hashing
from ledger.apikeys import revoke_api_key
from ledger.chain.node import free_port
from ledger.consent import make_consent
from ledger.demo import DATASET_DESCRIPTIONS
from ledger.keys import dev_account
from tests.api._support import (
    CIVIL,
    CIVIL_DEV,
    HEALTH,
    HEALTH_DEV,
    POLICY,
    Api,
    World,
)
from tests.ledger.watch._receiver import receiver
from tests.support import gateway_environment, mistype

#: Loggers that keep their own level or handlers; set to DEBUG and propagating.
LOGGERS = (
    "web3",
    "urllib3",
    "httpx",
    "httpcore",
    "uvicorn",
    "uvicorn.error",
    "uvicorn.access",
    "sqlalchemy",
    "sqlalchemy.engine",
    "sqlalchemy.pool",
    "psycopg",
    "asyncio",
    "xietong",
    "fastapi",
    "starlette",
)
_RECORD_FIELDS = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class Captured(logging.Handler):
    """Every record, formatted with its traceback and any extra fields."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.lines: list[str] = []
        self.names: set[str] = set()

    def emit(self, record: logging.LogRecord) -> None:
        self.names.add(record.name)
        extra = {k: v for k, v in vars(record).items() if k not in _RECORD_FIELDS}
        self.lines.append(self.format(record) + (f" {extra!r}" if extra else ""))


@contextlib.contextmanager
def all_logs_at_debug() -> Iterator[Captured]:
    """Capture every logger at DEBUG (restored afterwards)."""
    handler = Captured()
    root = logging.getLogger()
    existing = root.manager.loggerDict.items()
    names = set(LOGGERS) | {n for n, v in existing if isinstance(v, logging.Logger)}
    saved = {}
    for name in names:
        logger = logging.getLogger(name)
        saved[name] = (logger.level, logger.propagate, logger.disabled)
    saved_root = root.level
    root.setLevel(logging.DEBUG)
    root.addHandler(handler)
    for name in names:
        logger = logging.getLogger(name)
        logger.setLevel(logging.NOTSET)  # inherit DEBUG from the root
        logger.propagate, logger.disabled = True, False
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(saved_root)
        for name, (level, propagate, disabled) in saved.items():
            logger = logging.getLogger(name)
            logger.setLevel(level)
            logger.propagate, logger.disabled = propagate, disabled


def forms(secret: str) -> set[str]:
    """The ways a secret may be written: hex with and without 0x, either case; an API key
    whole and its secret part; a webhook secret whole and its base64."""
    found = {secret, secret.removeprefix("whsec_")}
    if secret.startswith("xt_") and secret.count("_") >= 2 and len(secret.split("_", 2)[2]) >= 16:
        found.add(secret.split("_", 2)[2])
    bare = secret.removeprefix("0x")
    if all(c in "0123456789abcdefABCDEF" for c in bare) and len(bare) >= 32:
        found |= {bare.lower(), bare.upper(), "0x" + bare.lower()}
    return found


def assert_no_secret(texts: Iterable[str], secrets_: Iterable[str], where: str) -> None:
    every = set().union(*(forms(s) for s in secrets_))
    for text in texts:
        for secret in every:
            assert secret not in text, f"a secret ({secret[:6]}…) shows in {where}: {text[:300]}"


def private_key_hex(account: Any) -> str:
    return "0x" + bytes(account.key).hex()


# --------------------------------------------------------------------------- the API in process


class Calls:
    """Requests to an app in process; the text of every error answer and every header kept."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.errors: list[str] = []
        self.headers: list[str] = []

    def __call__(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        response = self.api.client.request(method, url, **kwargs)
        self.headers.append(json.dumps(dict(response.headers)))
        if response.status_code >= 400:
            self.errors.append(response.text)
        return response


def assert_clean(
    logs: Captured,
    capfd: pytest.CaptureFixture[str],
    calls: Calls,
    secret: list[str],
    *,
    errors: int,
) -> None:
    """No secret in a log record, stdout/stderr, an error answer or a response header (the
    key itself is in the portal's Set-Cookie: it is not a secret from its holder)."""
    captured = capfd.readouterr()
    # The capture saw the chatty third-party loggers (SQL statements with their parameters,
    # the test's HTTP client), so their silence about secrets means something.
    assert any(n.startswith("sqlalchemy.engine") for n in logs.names), logs.names
    assert "httpx" in logs.names, logs.names
    assert any("SELECT" in line for line in logs.lines)
    assert_no_secret([*logs.lines, captured.out, captured.err], secret, "the logs or output")
    assert_no_secret(calls.errors, secret, "an error answer")
    salts_and_keys = [s for s in secret if not s.startswith("xt_")]
    assert_no_secret(calls.headers, salts_and_keys, "a response header")
    assert len(calls.errors) >= errors, calls.errors


def test_reads_never_log_or_answer_a_key_or_salt(
    world: World, make_api: Any, capfd: pytest.CaptureFixture[str]
) -> None:
    with all_logs_at_debug() as logs:
        api = make_api(world.settings())
        calls = Calls(api)
        read_id, read = api.new_key("read")
        revoked_id, revoked = api.new_key("read", name="revoked")
        with Session(api.state.gateway.engine) as session:
            revoke_api_key(session=session, key_id=revoked_id)
        wrong_secret = f"xt_{read_id}_{secrets.token_urlsafe(32)}"  # well formed, not the key
        unknown = f"xt_{secrets.token_hex(6)}_{secrets.token_urlsafe(32)}"
        malformed = "xt_" + secrets.token_hex(30)
        keys = [read, revoked, wrong_secret, unknown, malformed]

        for key in keys:
            for headers in ({"X-API-Key": key}, {"Authorization": f"Bearer {key}"}):
                answer = calls("GET", "/v1/datasets", headers=headers)
                assert answer.status_code == (200 if key == read else 401), answer.text
        assert calls("GET", "/v1/datasets", headers={"X-API-Key": read + "x"}).status_code == 401
        assert (
            calls("POST", "/v1/agreements", headers={"X-API-Key": read}, json={}).status_code == 403
        )

        # Records with their salts: anchored, with the bundle, wrong and mistyped salts.
        data = world.report.files["november"]
        with open(data, encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
        salts = [
            "0x" + s.hex() for s in hashing.read_salts(world.report.files["november_salts"]).values
        ]
        row, salt = rows[3], salts[3]
        mistyped = [salt[:-1], salt + "7", salt[:-1] + "g", salt[:40] + " " + salt[40:]]
        headers = {"X-API-Key": read}
        found = calls(
            "POST",
            "/v1/verify/record",
            headers=headers,
            json={"record": row, "salt": salt, "with_proof": True},
        )
        assert found.status_code == 200, found.text
        assert found.json()["matches"][0]["proof"]["leaf"]["values"][1] == salt
        for other in (salts[4], *mistyped):
            refused = calls(
                "POST", "/v1/verify/record", headers=headers, json={"record": row, "salt": other}
            )
            assert refused.status_code == (404 if other == salts[4] else 400), refused.text
        both = {"record": row, "record_hash": "0x" + "ab" * 32, "salt": salt}
        assert calls("POST", "/v1/verify/record", headers=headers, json=both).status_code == 400
        assert (
            calls("POST", "/v1/verify/record", headers=headers, json={"salt": 7}).status_code == 422
        )

        # The portal: sign in with a key, then with wrong, malformed and revoked ones.
        form = {"Content-Type": "application/x-www-form-urlencoded"}
        signed_in = calls(
            "POST",
            "/login",
            content=f"key={read}&next=/".encode(),
            headers=form,
            follow_redirects=False,
        )
        assert signed_in.status_code == 303, signed_in.text
        assert calls("GET", "/datasets").status_code == 200
        api.client.cookies.clear()
        for key in (wrong_secret, malformed, revoked):
            failed = calls("POST", "/login", content=f"key={key}&next=/".encode(), headers=form)
            assert failed.status_code == 401
            assert_no_secret([failed.text], [key], "the sign-in page")
    assert_clean(
        logs,
        capfd,
        calls,
        [private_key_hex(dev_account(CIVIL_DEV)), *keys, *salts, *mistyped],
        errors=20,
    )


def test_writes_never_log_or_answer_a_key(
    writer: Api, chain: World, capfd: pytest.CaptureFixture[str]
) -> None:
    with all_logs_at_debug() as logs:
        calls = Calls(writer)
        _, admin = writer.new_key("admin")
        headers = {"X-API-Key": admin}
        proposed = calls(
            "POST",
            "/v1/agreements",
            headers=headers,
            json={
                "provider": CIVIL,
                "consumer": HEALTH,
                "datasets": [POLICY],
                "purpose": "secrets 保密",
                "legal_basis": "《数据安全法》",
                "terms_hash": "0x" + "7d" * 32,
                "valid_from": "2020-01-01",
                "valid_until": "2099-01-01",
            },
        )
        assert proposed.status_code == 201, proposed.text
        agreement = proposed.json()["agreement_id"]
        health = dev_account(HEALTH_DEV)
        consent = make_consent(
            chain.client, health, "AcceptAgreement", bytes.fromhex(agreement[2:])
        )
        url = f"/v1/agreements/{agreement}/accept"
        forged = {**consent.as_dict(), "deadline": consent.deadline + 1}
        assert calls("POST", url, headers=headers, json={"consent": forged}).status_code == 409
        junk = {**consent.as_dict(), "signature": "0x" + "zz" * 65}
        assert calls("POST", url, headers=headers, json={"consent": junk}).status_code == 400
        accepted = calls("POST", url, headers=headers, json={"consent": consent.as_dict()})
        assert accepted.status_code == 200, accepted.text
        for _ in range(2):
            assert calls("POST", url, headers=headers).status_code == 409
        not_json = calls(
            "POST",
            "/v1/agreements",
            headers={**headers, "Content-Type": "application/json"},
            content=b"{not json",
        )
        assert not_json.status_code == 400  # malformed-json
        leaves = [{"content_hash": "0x" + "ee" * 32, "name": "secret.txt"}]
        anchored = calls(
            "POST", "/v1/anchors", headers=headers, json={"dataset": POLICY, "leaves": leaves}
        )
        assert anchored.status_code == 202, anchored.text
        writer.state.queue.flush(writer.state.anchorer, now=float(2**40))
        for bad in (
            {"dataset": POLICY, "leaves": [{"content_hash": "0x11", "name": "a"}]},
            {"dataset": "HZ-NO-SUCH", "leaves": leaves},
            {"dataset": POLICY, "leaves": []},
        ):
            assert calls("POST", "/v1/anchors", headers=headers, json=bad).status_code >= 400
        assert calls("GET", "/v1/no-such-route", headers=headers).status_code == 404
        assert calls("POST", url, headers={"X-API-Key": admin[:-2]}).status_code == 401

        # A watcher's signing secrets: added, rotated, read back and signing webhooks (the
        # gateway keeps them to sign with, so they are in its database, never in its logs).
        with receiver() as got:
            made = calls(
                "POST",
                "/v1/watchers",
                headers=headers,
                json={"url": got.url, "topics": ["dataset.version"]},
            )
            assert made.status_code == 201, made.text
            watcher = made.json()["watcher"]["id"]
            rotated = calls("POST", f"/v1/watchers/{watcher}/rotate", headers=headers)
            assert rotated.status_code == 200, rotated.text
            webhook_secrets = [made.json()["secret"], rotated.json()["secret"]]
            assert calls("GET", f"/v1/watchers/{watcher}", headers=headers).status_code == 200
            again = calls(
                "POST", "/v1/anchors", headers=headers, json={"dataset": POLICY, "leaves": leaves}
            )
            assert again.status_code == 202, again.text
            writer.state.queue.flush(writer.state.anchorer, now=float(2**41))
            writer.sync()
            assert writer.state.watchers.scan() == 1
            assert writer.state.watchers.deliver().delivered == 1
            [webhook] = got.wait_for(1)
            assert Webhook(webhook_secrets[0]).verify(webhook.body, webhook.headers)
            assert Webhook(webhook_secrets[1]).verify(webhook.body, webhook.headers)
    signing = [private_key_hex(dev_account(i)) for i in (CIVIL_DEV, HEALTH_DEV)]
    assert_clean(logs, capfd, calls, [*signing, admin, *webhook_secrets], errors=10)


# --------------------------------------------------------------------------- the command


class Command:
    """``xietong`` in its own process with this environment; every output kept."""

    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self.env, self.cwd = env, cwd
        self.stdout: list[str] = []
        self.stderr: list[str] = []

    def __call__(self, *args: str, ok: bool = True, **env: str) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [sys.executable, "-m", "ledger.cli", *args],
            capture_output=True,
            text=True,
            env={**self.env, **env},
            cwd=self.cwd,
            timeout=180,
            check=False,
        )
        self.stdout.append(result.stdout)
        self.stderr.append(result.stderr)
        assert (result.returncode == 0) is ok, (
            f"{args}: {result.returncode}\n{result.stdout}{result.stderr}"
        )
        assert "Traceback" not in result.stdout + result.stderr
        return result


def operator_keystore(chain: World, tmp_path: Path, password: str) -> tuple[Any, Path]:
    """A fresh key, operator of 杭州市民政局 with some ether, in an encrypted keystore."""
    account = Account.create()
    civil = dev_account(CIVIL_DEV)
    chain.client.transact("DepartmentRegistry", "nominateOperator", account.address, sender=civil)
    chain.client.w3.provider.make_request("hardhat_setBalance", [account.address, hex(10**20)])  # type: ignore[arg-type]
    department = chain.client.call("DepartmentRegistry", "departmentOf", civil.address)
    chain.client.transact("DepartmentRegistry", "acceptNomination", department, sender=account)
    path = tmp_path / "civil.keystore.json"
    # What production accepts: eth-account's default cost (PBKDF2, the quicker of its two
    # defaults to decrypt at each command), readable by this user only.
    path.write_text(json.dumps(Account.encrypt(account.key, password, kdf="pbkdf2")))
    path.chmod(0o600)
    return account, path


def test_the_command_and_the_server_never_show_a_secret(chain: World, tmp_path: Path) -> None:
    password, wrong_password = (
        "correct horse 电池 " + secrets.token_hex(8),
        "guess-" + secrets.token_hex(8),
    )
    account, keystore = operator_keystore(chain, tmp_path, password)
    env = {
        **gateway_environment(tmp_path),
        "XIETONG_ENV": "production",
        "XIETONG_RPC_URL": chain.rpc_url,
        "XIETONG_DATABASE_URL": f"sqlite:///{tmp_path / 'xietong.db'}",
        "XIETONG_DEPLOYMENT": str(chain.manifest),
        "XIETONG_KEYSTORE": str(keystore),
        "XIETONG_KEYSTORE_PASSWORD": password,
    }
    xietong = Command(env, tmp_path)

    created = xietong("apikey", "create", "--scope", "read", "--name", "auditor")
    key = next(line for line in created.stdout.splitlines() if line.startswith("xt_"))
    assert created.stdout.count(key) == 1  # shown once, as documented
    assert key not in xietong("apikey", "list").stdout
    assert key not in json.dumps(xietong("apikey", "list", "--json").stdout)

    data = tmp_path / "低保-2026-12.csv"
    with data.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["编号", "姓名", "街道", "月保障金"])
        writer.writerows(
            [
                [f"DB{i:05}", name, "湖滨街道", "1250"]
                for i, name in enumerate(["王明", "李华", "张伟"])
            ]
        )
    # This gateway's database is new: it learns the dataset's description (set up again).
    xietong("catalogue", "add", DATASET_DESCRIPTIONS[POLICY])
    xietong("dataset", "anchor", str(data), "--dataset", POLICY, "--records")
    sidecar = Path(f"{data}.salts.json")
    salts = ["0x" + s.hex() for s in hashing.read_salts(sidecar, data=data).values]
    for output in ("--json", None):
        answer = xietong(
            "verify",
            str(data),
            "--record",
            "1",
            "--salts",
            str(sidecar),
            *([output] if output else []),
        )
        assert "ANCHORED" in answer.stdout.upper()
    bundle = tmp_path / "row1.json"
    xietong(
        "dataset",
        "proof",
        str(data),
        "--record",
        "1",
        "--salts",
        str(sidecar),
        "--out",
        str(bundle),
    )
    assert (
        json.loads(bundle.read_text())["leaf"]["values"][1] == salts[1]
    )  # the bundle holds it, by design
    xietong("verify-proof", str(bundle))

    # A mistyped salt in the sidecar, and a wrong keystore password.
    document = json.loads(sidecar.read_text())
    mistyped = document["salts"][1][:-1] + "g"
    document["salts"][1] = mistyped
    typo = tmp_path / "typo.salts.json"
    typo.write_text(json.dumps(document))
    xietong("verify", str(data), "--record", "1", "--salts", str(typo), ok=False)
    xietong("verify", str(data), "--record", "1", "--salts", str(typo), "--json", ok=False)
    xietong(
        "dataset",
        "anchor",
        str(data),
        "--dataset",
        POLICY,
        "--salts",
        str(tmp_path / "b.json"),
        ok=False,
        XIETONG_KEYSTORE_PASSWORD=wrong_password,
    )

    # The server, at log level debug, asked with the key and the salts (once in a URL).
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("wb") as output:
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "ledger.cli",
                "serve",
                "--port",
                str(port),
                "--log-level",
                "debug",
            ],
            env={**env, "XIETONG_INDEX_INTERVAL": "0.2"},
            cwd=tmp_path,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    served_errors: list[str] = []
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            deadline = time.monotonic() + 60
            while True:
                assert server.poll() is None, log.read_text(errors="replace")
                with contextlib.suppress(httpx.TransportError):
                    if http.get("/healthz").status_code == 200:
                        break
                assert time.monotonic() < deadline, log.read_text(errors="replace")
                time.sleep(0.3)
            record = dict(next(csv.DictReader(data.open(encoding="utf-8", newline=""))))
            headers = {"Authorization": f"Bearer {key}"}
            for _ in range(50):  # until the background indexer has the version
                found = http.post(
                    "/v1/verify/record", headers=headers, json={"record": record, "salt": salts[0]}
                )
                if found.status_code == 200:
                    break
                time.sleep(0.2)
            assert found.status_code == 200, found.text
            leaf = found.json()["matches"][0]["leaf_hash"]
            record_hash = "0x" + hashing.record_hash(record).hex()
            asked = [
                http.post(
                    "/v1/verify/record",
                    headers=headers,
                    json={"record": record, "salt": salts[0][:-1]},
                ),
                http.post(
                    "/v1/verify/record",
                    headers={"X-API-Key": mistype(key)},
                    json={"record": record, "salt": salts[0]},
                ),
                http.get(
                    f"/v1/proofs/{leaf}",
                    headers=headers,
                    params={"record_hash": record_hash, "salt": salts[0]},
                ),
                http.get(
                    f"/v1/proofs/{leaf}",
                    headers=headers,
                    params={"record_hash": record_hash, "salt": salts[0] + "0"},
                ),
                http.post(
                    "/login",
                    content=f"key={key}x".encode(),
                    headers={"Content-Type": "application/x-www-form-urlencoded"},
                ),
            ]
            assert [a.status_code for a in asked] == [400, 401, 200, 400, 401], [
                a.text for a in asked
            ]
            served_errors = [a.text for a in asked if a.status_code >= 400]
    finally:
        os.killpg(server.pid, signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
    server_log = log.read_text(errors="replace")
    assert "started server process" in server_log.lower(), server_log

    every = [private_key_hex(account), password, wrong_password, key, *salts, mistyped]
    assert_no_secret(xietong.stderr, every, "the command's stderr")
    assert_no_secret(xietong.stdout[1:], every, "the command's output")  # [0]: apikey create
    assert_no_secret(xietong.stdout[:1], [k for k in every if k != key], "apikey create's output")
    assert_no_secret([server_log], every, "the server's log")
    assert_no_secret(served_errors, every, "the server's error answers")

"""``xietong watch``: a department's webhooks against a real node (Anvil) and a real receiver
on loopback. The gateway is killed (SIGKILL) while a receiver holds a delivery, and at each
step of a pass (matched, leased, answered, recorded): no webhook is lost, none is matched
twice, and a webhook sent again has the same id and body."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from standardwebhooks import Webhook

from ledger.ids import department_id
from tests.ledger._gateway_process import run_cli_killed_at
from tests.ledger.cli._cli import Cli, documented
from tests.ledger.watch._receiver import receiver
from tests.support import fresh_database

PSB = "11330100MB1A00001P"  # 杭州市公安局, dev account 1


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    """SQLite only: the outbox's SQL runs on both databases in tests/ledger/watch."""
    with fresh_database("sqlite", tmp_path) as url:
        yield url


def anchored_twice(cli: Cli, tmp_path: Path) -> None:
    """民政局 (dev 2) anchors a folder; 公安局 (dev 1) anchors the same folder as its own."""
    folder = tmp_path / "policy"
    folder.mkdir()
    (folder / "办法.txt").write_text("第一条 ……\n", encoding="utf-8")
    cli.json("dataset", "register", "HZ-POLICY")
    cli.json("dataset", "anchor", str(folder), "--dataset", "HZ-POLICY")
    cli.json("dataset", "register", "HZ-COPY", account=1)
    cli.json("dataset", "anchor", str(folder), "--dataset", "HZ-COPY", account=1)


def test_a_department_hears_of_its_content_anchored_by_another(cli: Cli, tmp_path: Path) -> None:
    with receiver() as got:
        added = cli.json(
            "watch",
            "add",
            got.url,
            "--topic",
            "content.anchored-by-other",
            "--topic",
            "dataset.version",
        )
        secret, watcher = added["secret"], added["watcher"]
        sample = documented("xietong watch add")  # docs/CLI.md's fields, exactly
        assert set(added) == set(sample) and set(watcher) == set(sample["watcher"])
        assert secret.startswith("whsec_") and watcher["topics"] == [
            "content.anchored-by-other",
            "dataset.version",
        ]
        anchored_twice(cli, tmp_path)
        ran = cli.json("watch", "run")
        assert {k: ran[k] for k in ("matched", "delivered", "dead")} == {
            "matched": 2,
            "delivered": 2,
            "dead": 0,
        }
        bodies = [Webhook(secret).verify(r.body, r.headers) for r in got.wait_for(2)]
        assert sorted(b["type"] for b in bodies) == ["content.anchored-by-other", "dataset.version"]
        copied = next(b for b in bodies if b["type"] == "content.anchored-by-other")
        assert copied["data"]["args"]["departmentId"] == "0x" + department_id(PSB).hex()
        assert copied["data"]["event"] == "VersionAnchored"
        assert cli.json("watch", "run")["matched"] == 0  # nothing said twice
        [listed] = cli.json("watch", "list")["watchers"]
        assert listed["messages"] == {"pending": 0, "delivered": 2, "dead": 0}
        assert "secret" not in listed and secret not in cli.run("watch", "list").stdout
        # 公安局's gateway holds no watcher of 民政局's.
        assert cli.json("watch", "list", account=1)["watchers"] == []
        refused = cli.json("watch", "remove", watcher["id"], account=1, ok=False)
        assert refused["error"] == {
            "type": "unknown-watcher",
            "message": f"there is no watcher {watcher['id']}.",
        }
        bad = cli.run("watch", "add", "ftp://x/", "--topic", "dataset.version", ok=False)
        assert bad.returncode == 1 and bad.stderr.startswith("error: 'ftp://x/' is not an http(s)")
        assert cli.json("watch", "show", watcher["id"])["watcher"]["messages"]["delivered"] == 2
        rotated = cli.json("watch", "rotate", watcher["id"])
        assert rotated["secret"] != secret and rotated["watcher"]["rotating_until"] is not None
        unknown = cli.json("watch", "retry", "msg_nope", ok=False)["error"]
        assert unknown == {"type": "unknown-message", "message": "there is no webhook msg_nope."}
        assert cli.json("watch", "remove", watcher["id"])["watcher"]["id"] == watcher["id"]


def test_a_gateway_killed_mid_delivery_sends_the_same_webhook_again(
    cli: Cli, tmp_path: Path
) -> None:
    quick = Cli({**cli.env, "XIETONG_WEBHOOK_TIMEOUT": "1"}, cli.cwd)
    with receiver() as got:
        got.hold.set()  # the receiver takes the request and does not answer
        added = quick.json("watch", "add", got.url, "--topic", "dataset.version")
        anchored_twice(quick, tmp_path)
        running = subprocess.Popen(
            [sys.executable, "-m", "ledger.cli", "watch", "run"],
            env={**quick.env, "XIETONG_DEV_ACCOUNT": "2"},
            cwd=quick.cwd,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        [held] = got.wait_for(1)
        os.killpg(running.pid, signal.SIGKILL)  # the gateway dies before the answer
        running.wait(timeout=30)
        got.hold.clear()
        [pending] = quick.json("watch", "messages")["messages"]
        assert pending["status"] == "pending" and pending["id"] == held.headers["webhook-id"]
        # Leased for the timeout and 5 s, then sent again by the next run: the same id.
        deadline = time.monotonic() + 30
        while quick.json("watch", "run")["delivered"] == 0:
            assert time.monotonic() < deadline, "the leased webhook was never sent again"
            time.sleep(0.5)
        again = got.received[-1]
        assert again.headers["webhook-id"] == held.headers["webhook-id"]
        assert Webhook(added["secret"]).verify(again.body, again.headers)["type"] == (
            "dataset.version"
        )
        [done] = quick.json("watch", "messages", "--status", "delivered")["messages"]
        assert done["attempts"] == 1


#: Per step the gateway is SIGKILLed at: the webhooks the receiver had taken by then, and the
#: outbox it left (None: nothing, the matching rolled back).
KILLED_AT = {
    # Messages added, the transaction not committed: no message, the cursor where it was.
    "matched": (0, None),
    # A message leased, not sent: owed, sent once the lease runs out.
    "leased": (0, ("pending", 0)),
    # The receiver answered 200, the answer not recorded: owed still, so sent again with the
    # same id and body (a receiver that keeps the ids it handled sees a repeat, never a loss).
    "answered": (1, ("pending", 0)),
    # Delivered and recorded: nothing is owed and nothing goes out again.
    "recorded": (1, ("delivered", 1)),
}


@pytest.mark.parametrize("step", list(KILLED_AT))
def test_a_gateway_killed_at_each_step_loses_no_webhook_and_sends_one_id(
    cli: Cli, tmp_path: Path, step: str
) -> None:
    quick = Cli({**cli.env, "XIETONG_WEBHOOK_TIMEOUT": "1"}, cli.cwd)
    taken, left = KILLED_AT[step]
    with receiver() as got:
        added = quick.json("watch", "add", got.url, "--topic", "dataset.version")
        anchored_twice(quick, tmp_path)
        env = {**quick.env, "XIETONG_DEV_ACCOUNT": "2"}
        killed = run_cli_killed_at(step, env, tmp_path / "runs", "watch", "run")
        assert killed.returncode == -signal.SIGKILL and killed.stdout == ""
        if taken:
            got.wait_for(taken)
        assert len(got.received) == taken
        outbox = quick.json("watch", "messages")["messages"]
        assert [(m["status"], m["attempts"]) for m in outbox] == ([left] if left else [])
        # The next runs (a lease lasts the timeout and 5 s) finish what the killed one began.
        deadline = time.monotonic() + 30
        while not (outbox := quick.json("watch", "messages")["messages"]) or any(
            m["status"] == "pending" for m in outbox
        ):
            assert time.monotonic() < deadline, f"the webhook was never delivered: {outbox}"
            quick.json("watch", "run")
            time.sleep(0.5)
        [done] = outbox
        assert done["status"] == "delivered" and done["attempts"] == 1
        assert quick.json("watch", "run")["matched"] == 0  # nothing matched twice
        sent = got.received
        assert len(sent) == (2 if step == "answered" else 1)
        assert {r.headers["webhook-id"] for r in sent} == {done["id"]}
        assert {r.body for r in sent} == {sent[0].body}
        assert Webhook(added["secret"]).verify(sent[-1].body, sent[-1].headers)["type"] == (
            "dataset.version"
        )


def test_following_says_a_failed_pass_in_one_sentence_and_goes_on(cli: Cli, tmp_path: Path) -> None:
    """`watch run --follow`: a webhook sent, then the node stopped: each pass says so in one
    sentence and the command keeps following; Ctrl-C ends it with exit 0."""
    quick = Cli({**cli.env, "XIETONG_WEBHOOK_INTERVAL": "0.2"}, cli.cwd)
    with receiver() as got:
        quick.json("watch", "add", got.url, "--topic", "dataset.version")
        anchored_twice(quick, tmp_path)
        out, err = tmp_path / "follow.out", tmp_path / "follow.err"
        with out.open("wb") as stdout, err.open("wb") as stderr:
            following = subprocess.Popen(
                [sys.executable, "-m", "ledger.cli", "watch", "run", "--follow"],
                env={**quick.env, "XIETONG_DEV_ACCOUNT": "2"},
                cwd=quick.cwd,
                stdout=stdout,
                stderr=stderr,
            )
        try:
            [sent] = got.wait_for(1)
            assert sent.headers["webhook-id"].startswith("msg_")
            quick.run("node", "stop")
            deadline = time.monotonic() + 30
            while err.read_text(encoding="utf-8").count("error:") < 2:  # two failed passes
                assert following.poll() is None, err.read_text(encoding="utf-8")
                assert time.monotonic() < deadline, "no failed pass was said"
                time.sleep(0.2)
            assert following.poll() is None  # still following
        finally:
            following.send_signal(signal.SIGINT)
            following.wait(timeout=30)
    assert following.returncode == 0
    said = [line for line in err.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(said) >= 2 and all(line.startswith("error: ") for line in said), said
    # One sentence each pass; the first may have met the node as it stopped, the later ones
    # find it gone, all alike.
    assert all(line == said[-1] for line in said[1:]), said
    passes = out.read_text(encoding="utf-8").splitlines()
    assert passes[0] == "1 webhook(s) added; 1 delivered, 0 to retry, 0 dead", passes

"""Erasing records through the `xietong` command, on a real node and database: the salts are
destroyed in the sidecar, the erasure is on chain with nothing personal, verifying an erased
record says when and by whom, the other records stay provable, an interrupted erasure is
finished by running it again, and no store the gateway writes keeps the salt."""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import stat
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import delete

from ledger import merkle
from ledger.db.engine import create_db_engine
from ledger.db.tables import ErasedLeaf
from ledger.erasure import erased_root
from ledger.hashing import read_salts
from tests.ledger._gateway_process import run_cli_killed_at
from tests.ledger.cli._cli import Cli, documented
from tests.ledger.cli.test_workflow import chain_client

ERASE_FIELDS = set(documented("xietong dataset erase"))
REASON = "PIPL-2026-0113"


def _write_rows(path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["编号", "姓名", "身份证号"])
        writer.writerows(
            [
                ["DB1", "王明", "330106199001011234"],
                ["DB2", "李华", "330106198502023456"],
                ["DB3", "赵强", "330106197703035678"],
            ]
        )


def _database_file(cli: Cli, tmp_path: Path) -> Path:
    """The gateway's database as a file to search: SQLite's own, or every row of every table
    of the PostgreSQL database as text (written under ``tmp_path``)."""
    url = cli.env["XIETONG_DATABASE_URL"]
    if url.startswith("sqlite:///"):
        return Path(url.removeprefix("sqlite:///"))
    dump = tmp_path / "postgresql-rows.txt"
    with psycopg.connect(url) as conn, dump.open("w", encoding="utf-8") as out:
        tables = conn.execute(
            "SELECT quote_ident(table_name) FROM information_schema.tables "
            "WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
        ).fetchall()
        assert len(tables) > 10, tables
        for (table,) in tables:
            for (row,) in conn.execute(f"SELECT t::text FROM {table} t"):  # noqa: S608
                out.write(f"{table}\t{row}\n")
    return dump


def _files_holding(top: Path, needles: list[bytes], *, skip: Path) -> list[str]:
    """Every file under ``top`` (but ``skip``) whose bytes hold one of ``needles``."""
    found = []
    for folder, _dirs, names in os.walk(top):
        for name in names:
            path = Path(folder) / name
            if skip in path.parents or not path.is_file():
                continue
            data = path.read_bytes()
            if any(needle in data for needle in needles):
                found.append(str(path))
    return found


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
def test_an_erased_record_says_when_and_by_whom_and_its_salt_is_nowhere(
    cli: Cli, tmp_path: Path
) -> None:
    data = tmp_path / "dibao.csv"
    _write_rows(data)
    cli.json("dataset", "register", "HZ-DIBAO")
    anchored = cli.json("dataset", "anchor", str(data), "--dataset", "HZ-DIBAO")
    sidecar = tmp_path / "dibao.csv.salts.json"
    # A consumer received row 1 with its salt before the erasure: its copy is its own.
    consumer = tmp_path / "consumer"
    consumer.mkdir()
    copy = consumer / "dibao.csv.salts.json"
    shutil.copyfile(sidecar, copy)
    salt = read_salts(sidecar).values[1]
    assert salt is not None
    before = cli.json("verify", str(data), "--record", "1", "--salts", str(sidecar))
    leaf = before["matches"][0]["leaf_hash"]

    # Refusals first, each one sentence, nothing sent.
    no_row = cli.run(
        "dataset", "erase", str(data), "--record", "7", "--salts", str(sidecar),
        "--dataset", "HZ-DIBAO", "--reason", REASON, ok=False,
    )  # fmt: skip
    assert no_row.returncode == 1
    assert no_row.stderr.strip() == f"error: {data} has 3 records; there is no record 7."
    other = cli.run(
        "dataset", "erase", str(data), "--record", "1", "--salts", str(sidecar),
        "--dataset", "0x" + "11" * 32, "--reason", REASON, ok=False,
    )  # fmt: skip
    assert "no version of dataset 0x1111" in other.stderr and other.returncode == 1

    # The gateway killed once the leaves are written (nothing sent), then once the erasure is
    # on chain (the salt not destroyed yet): each time the salt is still there.
    erase = ("dataset", "erase", str(data), "--record", "1", "--salts", str(sidecar),
             "--dataset", "HZ-DIBAO", "--reason", REASON)  # fmt: skip
    env = {**cli.env, "XIETONG_DEV_ACCOUNT": "2"}
    client = chain_client(cli)
    for step, on_chain_count in (("recorded", 0), ("sent", 1)):
        killed = run_cli_killed_at(step, env, tmp_path / "runs", *erase)
        assert killed.returncode == -signal.SIGKILL and killed.stdout == ""
        assert read_salts(sidecar).values[1] == salt
        dataset, root = (bytes.fromhex(x[2:]) for x in (anchored["dataset_id"], anchored["root"]))
        assert client.call("DatasetRegistry", "erasedCount", dataset, root) == on_chain_count
    # Run again: the chain holds the erasure, so nothing is sent; the salt is destroyed.
    erased = cli.json(
        "dataset", "erase", str(data), "--record", "1", "--salts", str(sidecar),
        "--dataset", "HZ-DIBAO", "--reason", REASON,
    )  # fmt: skip
    assert set(erased) == ERASE_FIELDS and erased["ok"] is True
    assert erased["count"] == 1 and erased["rows"] == [1] and erased["transaction"] is None
    assert erased["root"] == anchored["root"] and erased["salts"] == str(sidecar.resolve())
    assert erased["erased_root"] == "0x" + erased_root([bytes.fromhex(leaf[2:])]).hex()
    kept = read_salts(sidecar)
    assert kept.values[1] is None and kept.values[0] is not None and kept.erased_rows == (1,)
    assert json.loads(sidecar.read_text())["salts"][1] is None
    assert stat.S_IMODE(sidecar.stat().st_mode) == 0o600

    # On chain: the count and time, under the root of the erased leaves; nothing else.
    on_chain = client.call(
        "DatasetRegistry", "erasure", dataset, root, bytes.fromhex(erased["erased_root"][2:])
    )
    assert on_chain[0] == 1 and on_chain[1] > 0
    assert client.call("DatasetRegistry", "erasedCount", dataset, root) == 1

    # Verifying: the owner (its salt gone), and the consumer with its copy.
    for salts in (sidecar, copy):
        answer = cli.run(
            "verify", str(data), "--record", "1", "--salts", str(salts), "--json", ok=False
        )
        assert answer.returncode == 1
        shown = json.loads(answer.stdout)
        assert shown["anchored"] is False and shown["error"]["type"] == "erased"
        [match] = shown["matches"]
        assert match["status"] == "erased" and match["leaf_hash"] == leaf
        erasure = match["erasure"]
        assert erasure["erased_by"]["name"] == "杭州市民政局" and erasure["count"] == 1
        assert shown["error"]["message"] == (
            f"record 1 of dibao.csv was erased on {erasure['erased_at']} by 杭州市民政局 "
            f"(version {anchored['root']})."
        )
        # The proof leads from the leaf to the root the chain holds.
        erased_leaf = merkle.leaf_hash(merkle.ERASED_LEAF_TYPES, [bytes.fromhex(leaf[2:])])
        steps = [bytes.fromhex(step[2:]) for step in erasure["proof"]]
        assert "0x" + merkle.process_proof(erased_leaf, steps).hex() == erasure["erased_root"]
    people = cli.run("verify", str(data), "--record", "1", "--salts", str(copy), ok=False)
    assert people.stdout.startswith("ERASED  record 1")
    assert "  erased         " in people.stdout and " by 杭州市民政局 (1 record(s)" in people.stdout
    assert people.stderr.startswith("error: record 1 of dibao.csv was erased on ")

    # Erasing it again, from either sidecar: one sentence.
    again = cli.run(
        "dataset", "erase", str(data), "--record", "1", "--salts", str(sidecar),
        "--dataset", "HZ-DIBAO", "--reason", REASON, ok=False,
    )  # fmt: skip
    assert again.stderr.strip() == (
        "error: record 1 of dibao.csv was erased: its salt was destroyed, so it can no longer be proven."
    )
    twice = cli.run(
        "dataset", "erase", str(data), "--record", "1", "--record", "2", "--salts", str(copy),
        "--dataset", "HZ-DIBAO", "--reason", REASON, ok=False,
    )  # fmt: skip
    assert twice.stderr.startswith("error: record 1 was erased already, on ")

    # The rest of the version stays provable, from the owner's sidecar.
    assert cli.json("verify", str(data), "--record", "2", "--salts", str(sidecar))["anchored"]
    bundle = tmp_path / "row0.json"
    cli.json(
        "dataset",
        "proof",
        str(data),
        "--record",
        "0",
        "--salts",
        str(sidecar),
        "--out",
        str(bundle),
    )
    checked = cli.json("verify-proof", str(bundle))
    assert checked["valid"] is True
    # A bundle of the version says what it cannot tell: whether its record is an erased one.
    [note] = [s for s in checked["unchecked"] if "erased" in s]
    assert note.startswith("its owner has erased 1 record(s) of this version")
    # The erased row may be blanked in the data file: the others are still proven.
    rows = data.read_text(encoding="utf-8").splitlines()
    rows[2] = ",,"
    data.write_text("\n".join(rows) + "\n", encoding="utf-8")
    assert cli.json("verify", str(data), "--record", "0", "--salts", str(sidecar))["anchored"]
    whole = cli.run(
        "dataset", "anchor", str(data), "--dataset", "HZ-DIBAO", "--salts", str(sidecar), ok=False
    )
    assert "hold erased records (row 1)" in whole.stderr

    # No store of the gateway keeps the salt: its home, database and logs, the sidecar, the
    # chain's transactions and logs. (The consumer's copy is the consumer's.)
    needles = [salt, salt.hex().encode(), salt.hex().upper().encode()]
    database = _database_file(cli, tmp_path)
    assert _files_holding(tmp_path, needles, skip=consumer) == []
    # The search reads those stores: the database holds the leaf; the consumer's copy, the salt.
    assert str(database) in _files_holding(tmp_path, [leaf.encode()], skip=consumer)
    assert _files_holding(consumer, needles, skip=tmp_path / "none") == [str(copy)]
    head = client.block_number()
    for number in range(head + 1):
        block = client.w3.eth.get_block(number, full_transactions=True)
        for tx in block["transactions"]:
            assert salt not in bytes(tx["input"])
            receipt = client.w3.eth.get_transaction_receipt(tx["hash"])
            for log in receipt["logs"]:
                assert salt not in bytes(log["data"]) + b"".join(map(bytes, log["topics"]))

    # The erasure's leaves journaled elsewhere (an erasure made with another database): this
    # gateway still finds the records in its leaf store, and says what it cannot rule out.
    engine = create_db_engine(cli.env["XIETONG_DATABASE_URL"])
    with engine.begin() as connection:
        connection.execute(delete(ErasedLeaf))
    engine.dispose()
    unnamed = cli.json("verify", str(data), "--record", "2", "--salts", str(sidecar))
    assert unnamed["anchored"] is True
    assert unnamed["matches"][0]["unattributed_erasures"] == 1
    shown = cli.run("verify", str(data), "--record", "2", "--salts", str(sidecar)).stdout
    assert "its owner erased 1 record(s) of this version that this gateway cannot name" in shown


SUBJECT = "330106199001011234"  # 王明, two records in one file and one in another


def _write_subject_rows(path: Path, rows: list[list[str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["编号", "姓名", "身份证号"])
        writer.writerows(rows)


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
def test_erasing_a_subject_destroys_their_key_and_with_it_their_salts_everywhere(
    cli: Cli, tmp_path: Path
) -> None:
    """Records anchored with a subject column take their salts from their subject's key.
    Erasing the subject erases their records of the version on chain and destroys the key:
    their salts are then lost in every sidecar and every copy, which no one had to find."""
    store = tmp_path / "var" / "subject-keys.json"
    data, later = tmp_path / "dibao.csv", tmp_path / "dibao-2027.csv"
    _write_subject_rows(
        data,
        [
            ["DB1", "王明", SUBJECT],
            ["DB2", "李华", "330106198502023456"],
            ["DB3", "（合计）", ""],  # no subject: a salt of its own
            ["DB4", "王明", SUBJECT],
        ],
    )
    _write_subject_rows(later, [["DB9", "王明", SUBJECT], ["DB8", "李华", "330106198502023456"]])
    cli.json("dataset", "register", "HZ-DIBAO")
    refused = cli.run(
        "dataset", "anchor", str(data), "--dataset", "HZ-DIBAO", "--subject-column", "身份证",
        ok=False,
    )  # fmt: skip
    assert refused.stderr.strip() == (
        f"error: the header on line 1 of {data} has no column '身份证' to name each record's "
        "subject."
    )
    assert not store.exists()
    anchored = cli.json(
        "dataset", "anchor", str(data), "--dataset", "HZ-DIBAO", "--subject-column", "身份证号"
    )
    cli.json(
        "dataset", "anchor", str(later), "--dataset", "HZ-DIBAO", "--subject-column", "身份证号"
    )
    sidecar, other = (Path(f"{p}.salts.json") for p in (data, later))
    document = json.loads(sidecar.read_text())
    assert document["format"] == "xietong-salts/2" and stat.S_IMODE(store.stat().st_mode) == 0o600
    entries = document["salts"]
    assert entries[0]["subject"] == entries[3]["subject"] != entries[1]["subject"]
    assert isinstance(entries[2], str)  # the row without a subject
    assert SUBJECT not in store.read_text() + sidecar.read_text()  # only tags name subjects
    backup = tmp_path / "backup"
    backup.mkdir()
    shutil.copyfile(other, backup / other.name)
    salts = [read_salts(sidecar, subject_keys=store).values[i] for i in (0, 3)]
    salts.append(read_salts(other, subject_keys=store).values[0])
    keys = json.loads(store.read_text())["subjects"]
    [key] = [keys[entries[0]["subject"]]]
    for row in range(4):
        assert cli.json("verify", str(data), "--record", str(row), "--salts", str(sidecar))[
            "anchored"
        ]

    # Refusals, each one sentence, nothing sent.
    erase = ("dataset", "erase", str(data), "--salts", str(sidecar), "--dataset", "HZ-DIBAO",
             "--reason", REASON)  # fmt: skip
    both = cli.run(*erase, "--record", "0", "--subject", SUBJECT, ok=False)
    assert both.stderr.strip() == (
        "error: say which records to erase: --record ROW (repeat), or --subject VALUE."
    )
    nobody = cli.run(*erase, "--subject", "330106200001010000", ok=False)
    assert nobody.stderr.strip() == f"error: the subject key store {store} holds no such subject."
    plain = tmp_path / "plain.csv"
    _write_subject_rows(plain, [["DB7", "孙丽", "330106199909099999"]])
    cli.json("dataset", "anchor", str(plain), "--dataset", "HZ-DIBAO")
    own = cli.run(
        "dataset", "erase", str(plain), "--salts", f"{plain}.salts.json", "--dataset", "HZ-DIBAO",
        "--reason", REASON, "--subject", SUBJECT, ok=False,
    )  # fmt: skip
    assert own.stderr.strip() == (
        f"error: {plain}.salts.json does not take its salts from the subject key store {store}: "
        "erase its records with --record."
    )
    assert json.loads(store.read_text())["subjects"][entries[0]["subject"]] == key

    erased = cli.json(*erase, "--subject", SUBJECT)
    assert set(erased) == ERASE_FIELDS | {"subject_key"} and erased["subject_key"] == "destroyed"
    assert erased["count"] == 2 and erased["rows"] == [0, 3]
    assert erased["root"] == anchored["root"]
    assert json.loads(store.read_text())["subjects"][entries[0]["subject"]] is None
    assert [e is None for e in json.loads(sidecar.read_text())["salts"]] == [
        True,
        False,
        False,
        True,
    ]

    # Verifying: erased in this version (when and by whom); in the other file and its backup,
    # the salt can no longer be derived, and the record no longer be proven.
    shown = cli.json("verify", str(data), "--record", "3", "--salts", str(sidecar), ok=False)
    assert shown["matches"][0]["status"] == "erased"
    for sidecar_copy in (other, backup / other.name):
        gone = cli.run(
            "verify", str(later), "--record", "0", "--salts", str(sidecar_copy), ok=False
        )
        assert gone.stderr.strip() == (
            "error: record 0 of dibao-2027.csv was erased: its salt was destroyed, so it can no "
            "longer be proven."
        )
    # The others stay provable: another subject, and the row with a salt of its own.
    for row in (1, 2):
        assert cli.json("verify", str(data), "--record", str(row), "--salts", str(sidecar))[
            "anchored"
        ]
    assert cli.json("verify", str(later), "--record", "1", "--salts", str(other))["anchored"]
    # Neither the subject's salts nor their key are anywhere: not in the store, the sidecars
    # (the backup still holds only a nonce), the database, the logs or the chain.
    needles = [n for s in salts if s for n in (s, s.hex().encode())] + [key.encode()]
    database = _database_file(cli, tmp_path)
    assert _files_holding(tmp_path, needles, skip=tmp_path / "none") == []
    root = anchored["root"].encode()
    assert str(database) in _files_holding(tmp_path, [root], skip=tmp_path / "none")
    # Run again (as after a crash between the erasure and the key's destruction): no record of
    # the subject is left in the sidecar, and the key is destroyed (again).
    again = cli.json(*erase, "--subject", SUBJECT)
    assert again == {"ok": True, "count": 0, "salts": str(sidecar), "subject_key": "destroyed"}


def test_a_subjects_records_in_several_versions_are_each_erased_on_chain_before_the_key_goes(
    cli: Cli, tmp_path: Path
) -> None:
    """A subject with records in two versions: `--keep-key` erases those of the first and
    keeps the key, so the second's can still be found and erased; that run destroys the key.
    Both versions then answer "erased" for the subject's records, on chain."""
    store = tmp_path / "var" / "subject-keys.json"
    first, second = tmp_path / "dibao.csv", tmp_path / "dibao-2027.csv"
    _write_subject_rows(first, [["DB1", "王明", SUBJECT], ["DB2", "李华", "330106198502023456"]])
    _write_subject_rows(second, [["DB8", "李华", "330106198502023456"], ["DB9", "王明", SUBJECT]])
    cli.json("dataset", "register", "HZ-DIBAO")
    roots = [
        cli.json(
            "dataset", "anchor", str(path), "--dataset", "HZ-DIBAO", "--subject-column", "身份证号"
        )["root"]
        for path in (first, second)
    ]
    tag = json.loads(Path(f"{first}.salts.json").read_text())["salts"][0]["subject"]

    def erase(path: Path, *more: str, ok: bool = True) -> dict[str, object]:
        return cli.json(
            "dataset", "erase", str(path), "--salts", f"{path}.salts.json", "--dataset",
            "HZ-DIBAO", "--reason", REASON, "--subject", SUBJECT, *more, ok=ok,
        )  # fmt: skip

    refused = cli.run(
        "dataset", "erase", str(first), "--salts", f"{first}.salts.json", "--dataset",
        "HZ-DIBAO", "--reason", REASON, "--record", "0", "--keep-key", ok=False,
    )  # fmt: skip
    assert refused.stderr.strip() == (
        "error: --keep-key keeps a subject's key: it goes with --subject."
    )
    nobody = cli.json(
        "dataset", "erase", str(first), "--salts", f"{first}.salts.json", "--dataset",
        "HZ-DIBAO", "--reason", REASON, "--subject", "330106200001010000", "--keep-key", ok=False,
    )  # fmt: skip
    assert nobody["error"]["message"] == f"the subject key store {store} holds no such subject."

    kept = erase(first, "--keep-key")
    assert (kept["subject_key"], kept["root"], kept["rows"]) == ("kept", roots[0], [0])
    assert json.loads(store.read_text())["subjects"][tag] is not None
    # Again with the key kept: nothing of theirs is left in that sidecar, the key stays.
    assert erase(first, "--keep-key") == {
        "ok": True,
        "count": 0,
        "salts": f"{first}.salts.json",
        "subject_key": "kept",
    }
    done = erase(second)
    assert (done["subject_key"], done["root"], done["rows"]) == ("destroyed", roots[1], [1])
    assert json.loads(store.read_text())["subjects"][tag] is None
    assert erase(second, "--keep-key")["subject_key"] == "destroyed"  # nothing to keep now
    for path, row, root in ((first, 0, roots[0]), (second, 1, roots[1])):
        shown = cli.json(
            "verify", str(path), "--record", str(row), "--salts", f"{path}.salts.json", ok=False
        )
        [match] = shown["matches"]
        assert match["status"] == "erased" and match["erasure"]["count"] == 1, shown
        assert shown["error"]["message"].endswith(f"by 杭州市民政局 (version {root})."), shown
    # The other subject's records stay provable in both versions.
    for path, row in ((first, 1), (second, 0)):
        assert cli.json("verify", str(path), "--record", str(row), "--salts", f"{path}.salts.json")[
            "anchored"
        ]

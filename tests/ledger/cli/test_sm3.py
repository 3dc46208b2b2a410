"""An SM3 dataset (GM/T 0004-2012) through the `xietong` command, on a real node and database:
registered for SM3, its files and records anchored with SM3 digests, verified by the file, by
its SM3 digest and by a record, its bundles carrying SM3 leaves that `verify-proof` checks on
chain, a bundle whose tag was changed refused, and erasure working the same."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

import pytest
from eth_utils import keccak

from ledger.ids import code_hash, dataset_id, department_id
from ledger.keys import dev_account
from ledger.metadata import metadata_text
from tests.ledger.cli._cli import Cli, documented
from tests.ledger.cli.test_workflow import CIVIL, chain_client

REGISTER_FIELDS = set(documented("xietong dataset register"))
ANCHOR_FIELDS = set(documented("xietong dataset anchor"))


def sm3(data: bytes) -> str:
    return "0x" + hashlib.new("sm3", data).hexdigest()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_an_sm3_dataset_is_anchored_verified_and_proven_with_sm3(cli: Cli, tmp_path: Path) -> None:
    registered = cli.json(
        "dataset", "register", "HZ-SM3", "--metadata", "国密数据集", "--digest", "sm3"
    )
    assert set(registered) == REGISTER_FIELDS and registered["digest"] == "sm3"
    bad = cli.run("dataset", "register", "HZ-MD5", "--digest", "md5", ok=False)
    assert (
        bad.returncode == 1
        and bad.stderr.strip() == "error: the digest 'md5' is not sha256 or sm3."
    )

    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "办法.txt").write_bytes("第一条 国密\n".encode())
    (folder / "b.md").write_bytes(b"# b\n")
    files = cli.json("dataset", "anchor", str(folder), "--dataset", "HZ-SM3")
    assert set(files) == ANCHOR_FIELDS and files["digest"] == "sm3" and files["leaf_count"] == 2
    # The dataset says SM3: SHA-256 is refused, before anything is sent.
    refused = cli.run(
        "dataset", "anchor", str(folder / "b.md"), "--dataset", "HZ-SM3", "--digest", "sha256",
        ok=False,
    )  # fmt: skip
    assert refused.stderr.strip() == (
        f"error: dataset {registered['dataset_id']} was registered for sm3 digests; "
        "anchor its versions with sm3."
    )

    data = tmp_path / "rows.csv"
    with data.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["编号", "姓名"])
        writer.writerows([["S1", "甲"], ["S2", "乙"], ["S3", "丙"]])
    records = cli.json("dataset", "anchor", str(data), "--dataset", "HZ-SM3")
    assert records["digest"] == "sm3" and records["leaf_kind"] == "record"
    salts = tmp_path / "rows.csv.salts.json"

    # Verified by the file (both digests computed), and by its SM3 digest alone.
    content = (folder / "办法.txt").read_bytes()
    by_file = cli.json("verify", str(folder / "办法.txt"))
    [match] = by_file["matches"]
    assert match["digest"] == "sm3" and match["content_hash"] == sm3(content)
    assert match["status"] == "anchored" and match["version"]["root"] == files["root"]
    assert cli.json("verify", sm3(content))["anchored"] is True
    missing = cli.run("verify", "0x" + hashlib.sha256(content).hexdigest(), ok=False)
    assert "is not anchored" in missing.stderr  # its SHA-256 was never anchored
    row = cli.json("verify", str(data), "--record", "1", "--salts", str(salts))
    assert row["matches"][0]["digest"] == "sm3" and row["matches"][0]["record_index"] == 1

    # Bundles: SM3 leaves, the tag first, checked on chain.
    bundle = tmp_path / "file.json"
    cli.json("dataset", "proof", str(folder / "办法.txt"), "--out", str(bundle))
    written = json.loads(bundle.read_text(encoding="utf-8"))
    assert written["leaf"]["types"] == ["string", "bytes32", "string"]
    assert written["leaf"]["values"] == ["sm3", sm3(content), "办法.txt"]
    assert cli.json("verify-proof", str(bundle))["valid"] is True
    record_bundle = tmp_path / "record.json"
    cli.json(
        "dataset", "proof", str(data), "--record", "2", "--salts", str(salts),
        "--out", str(record_bundle),
    )  # fmt: skip
    leaf = json.loads(record_bundle.read_text(encoding="utf-8"))["leaf"]
    assert leaf["types"] == ["string", "bytes32", "bytes32"] and leaf["values"][0] == "sm3"
    assert cli.json("verify-proof", str(record_bundle))["valid"] is True

    # A member who relabels the leaf (the same digest called SHA-256) is refused.
    forged = dict(
        written, leaf={**written["leaf"], "values": ["sha256", *written["leaf"]["values"][1:]]}
    )
    forged_path = tmp_path / "forged.json"
    forged_path.write_text(json.dumps(forged), encoding="utf-8")
    checked = cli.run("verify-proof", str(forged_path), ok=False)
    assert checked.returncode == 1
    assert '`leaf.values[0]` of an SM3 leaf must be "sm3".' in checked.stderr
    dropped = dict(
        written,
        leaf={
            **written["leaf"],
            "types": ["bytes32", "string"],
            "values": written["leaf"]["values"][1:],
        },
    )
    forged_path.write_text(json.dumps(dropped), encoding="utf-8")
    assert (
        "do not hash to its leaf hash" in cli.run("verify-proof", str(forged_path), ok=False).stderr
    )

    # Erasing a record of an SM3 version works as for SHA-256.
    erased = cli.json(
        "dataset", "erase", str(data), "--record", "0", "--salts", str(salts),
        "--dataset", "HZ-SM3", "--reason", "PIPL-SM3-1",
    )  # fmt: skip
    assert erased["count"] == 1 and erased["root"] == records["root"]
    after = cli.run("verify", str(data), "--record", "0", "--salts", str(salts), "--json", ok=False)
    assert json.loads(after.stdout)["matches"][0]["status"] == "erased"
    assert cli.json("verify", str(data), "--record", "1", "--salts", str(salts))["anchored"]

    # What went on chain for the dataset is the hash of its metadata document, which the
    # catalogue of the registering gateway names.
    document = metadata_text("国密数据集", "sm3")
    on_chain = (
        chain_client(cli)
        .contract("DatasetRegistry")
        .events.DatasetRegistered.get_logs(from_block=0)
    )
    [event] = [
        e for e in on_chain if "0x" + e["args"]["datasetId"].hex() == registered["dataset_id"]
    ]
    metadata_hash = "0x" + event["args"]["metadataHash"].hex()
    assert metadata_hash == "0x" + keccak(text=document).hex()
    named = cli.json("catalogue", "show", metadata_hash)["names"][metadata_hash]
    assert named == {"text": document, "verified": True, "known": True}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_dataset_whose_metadata_text_is_unknown_here_is_not_anchored_until_it_is_added(
    cli: Cli, tmp_path: Path
) -> None:
    """Registered elsewhere (another gateway of the department): this gateway's catalogue lacks
    its metadata text, so it cannot tell SHA-256 from SM3 and refuses rather than guess."""
    document = metadata_text("别处登记的数据集", "sm3")
    chain_client(cli).transact(
        "DatasetRegistry", "registerDataset", code_hash("HZ-ELSEWHERE"),
        keccak(text=document), sender=dev_account(2),
    )  # fmt: skip
    data = tmp_path / "a.txt"
    data.write_bytes("别处\n".encode())
    refused = cli.run("dataset", "anchor", str(data), "--dataset", "HZ-ELSEWHERE", ok=False)
    dataset = "0x" + dataset_id(department_id(CIVIL), "HZ-ELSEWHERE").hex()
    assert refused.returncode == 1 and refused.stderr.strip() == (
        f"error: dataset {dataset} was registered with metadata 0x{keccak(text=document).hex()}, "
        "whose text this gateway's catalogue does not hold, so whether it takes SHA-256 or SM3 "
        "digests is unknown: add that text to the catalogue (xietong catalogue add --rule text "
        "TEXT, or catalogue import FILE of the registering gateway's export); or name it "
        "with --digest."
    )
    assert cli.run("verify", sm3(data.read_bytes()), ok=False).returncode == 1  # not anchored
    # The operator names the digest; or the catalogue learns the text, and it says so.
    said = cli.json("dataset", "anchor", str(data), "--dataset", "HZ-ELSEWHERE", "--digest", "sm3")
    assert said["digest"] == "sm3"
    assert cli.json("verify", sm3(data.read_bytes()))["anchored"] is True
    cli.json("catalogue", "add", "--rule", "text", document)
    later = tmp_path / "b.txt"
    later.write_bytes("后来\n".encode())
    anchored = cli.json("dataset", "anchor", str(later), "--dataset", "HZ-ELSEWHERE")
    assert anchored["digest"] == "sm3"

"""The verify page and an SM3 dataset (docs/SM3.md): 杭州市民政局 registers a dataset for SM3
(GM/T 0004-2012) and anchors a small folder and a CSV with SM3 digests; a file of the folder
dropped on the page is found by its SM3 digest (asked about once its SHA-256 is in no version),
and says so; the CSV with its salts is found whole with SM3 record leaves, and a changed row is
named whether row 1 is intact or not; a sealed bundle of an SM3 leaf is checked by the offline
verifier in the browser. The page's SM3 (sm-crypto's, vendored) and its SM3 leaves are Python's.

Debian's Chromium driven by Playwright against the real app over a real Hardhat node with the
demo played (the ``world`` of conftest.py, whose chain changes are undone after each test by
the ``consortium`` snapshot). Every request is recorded: only hashes leave the page."""

from __future__ import annotations

import csv
import hashlib
import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from eth_utils import keccak
from playwright.sync_api import Page, expect

from ledger import hashing, merkle
from ledger.anchoring import prepare_path
from ledger.ids import code_hash
from ledger.metadata import metadata_text
from ledger.paths import PROJECT_ROOT
from ledger.verify.bundles import check_bundle_offline
from tests.browser._browser import wait_until
from tests.browser._portal import CIVIL, Sent, World, sign_in, verdict_audit
from tests.browser.test_verify_page import (
    ALARM,
    drop,
    leaves_of,
    on_the_demo,
    settled,
    sha256_of,
    sm3_leaves_of,
    sm3_of,
    verdicts,
)

CODE = "HZ-MZ-SM3"
DESCRIPTION = "低保名单（国密）"
POLICY = "低保办法（国密）.txt"
HEADER = ["编号", "姓名", "街道", "月保障金"]
ROWS = [
    [f"G{i:03d}", name, "湖滨街道", str(1000 + 10 * i)]
    for i, name in enumerate("甲乙丙丁戊己庚辛壬癸")
]
VECTORS = PROJECT_ROOT / "tests" / "vectors" / "sm3.json"


@dataclass
class Sm3Dataset:
    """The SM3 dataset, its anchored folder (a policy text and a table) and CSV (with salts)."""

    dataset_id: str
    folder: Path
    policy: Path
    files_root: str
    data: Path
    salts: Path
    records_root: str


def write_csv(path: Path, rows: list[list[str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)


@pytest.fixture
def sm3_dataset(world: World, tmp_path: Path) -> Sm3Dataset:
    """Registered for SM3 by the world's gateway (杭州市民政局's operator), as `xietong dataset
    register --digest sm3` does; a folder and a CSV anchored with SM3; indexed."""
    gateway = world.gateway
    text = metadata_text(DESCRIPTION, "sm3")
    gateway.remember(("code", CODE), ("text", text))
    tx = gateway.client.transact(
        "DatasetRegistry",
        "registerDataset",
        code_hash(CODE),
        keccak(text=text),
        sender=gateway.signer,
    )
    dataset = tx.event("DatasetRegistered")["datasetId"]
    folder = tmp_path / "sm3-docs"
    folder.mkdir()
    policy = folder / POLICY
    policy.write_text("第一条 为规范最低生活保障（国密存证）……\n" * 40, encoding="utf-8")
    (folder / "附表.md").write_text("| 街道 | 户数 |\n| 湖滨 | 12 |\n", encoding="utf-8")
    files = gateway.anchorer().anchor(prepare_path(folder, dataset, digest="sm3"))
    data = tmp_path / "dibao-sm3.csv"
    write_csv(data, [HEADER, *ROWS])
    records = gateway.anchorer().anchor(prepare_path(data, dataset, digest="sm3"))
    gateway.indexer().sync()
    return Sm3Dataset(
        dataset_id="0x" + bytes(dataset).hex(),
        folder=folder,
        policy=policy,
        files_root=files.root,
        data=data,
        salts=tmp_path / "dibao-sm3.csv.salts.json",
        records_root=records.root,
    )


def row_leaves(rows: list[list[str]], salts: Path, digest: hashing.Digest) -> list[str]:
    """The record leaves of ``rows`` (under HEADER) with the salts of a sidecar, by position."""
    values = hashing.read_salts(salts).values
    leaves = []
    for row, salt in zip(rows, values, strict=True):
        assert salt is not None
        record, _ = hashing.record_entry(dict(zip(HEADER, row, strict=True)), salt, digest=digest)
        types = merkle.leaf_types("record", digest)
        leaf = merkle.leaf_hash(types, merkle.leaf_values("record", digest, record, salt))
        leaves.append("0x" + leaf.hex())
    return leaves


def secrets(sm3: Sm3Dataset) -> list[str]:
    """What must never leave the page: the salts and the rows' values."""
    salts = json.loads(sm3.salts.read_text(encoding="utf-8"))["salts"]
    return [*salts, *(value for row in ROWS for value in row[:2])]


# --------------------------------------------------------------------------- a file


@on_the_demo
def test_a_file_of_an_sm3_dataset_is_found_by_its_sm3_digest(
    page: Page, world: World, sm3_dataset: Sm3Dataset, sent: Sent
) -> None:
    policy = sm3_dataset.policy
    sign_in(page, world)

    drop(page, policy)
    verdict = verdicts(page)
    expect(verdict).to_have_attribute("data-status", "anchored")
    expect(verdict).to_contain_text("已存证")
    # What matched is named: the file's SM3 digest, not its SHA-256.
    subject = verdict.locator(".subject")
    expect(subject).to_contain_text("SM3: 0x")
    expect(subject.locator(f"[data-digest='sm3'] code[title='{sm3_of(policy)}']")).to_have_count(1)
    expect(subject).not_to_contain_text("SHA-256")
    card = page.locator("#result article.match")
    expect(card).to_have_count(1)
    expect(card).to_have_attribute("data-root", sm3_dataset.files_root)
    expect(card).to_contain_text(CIVIL)
    expect(card).to_contain_text(POLICY)
    digest = card.locator("dd [data-digest]")
    expect(digest).to_have_attribute("data-digest", "sm3")
    expect(digest).to_have_text("SM3")
    expect(card.locator("dt", has_text="摘要算法")).to_have_count(1)
    expect(card.locator("[data-named='verified']").first).to_have_text(CODE)
    expect(page.locator("#hash")).to_have_value(sm3_of(policy))  # the digest that matched

    # Asked: its SHA-256 (in no version), then its SM3 digest; its SHA-256 and its text's
    # keccak256 as documents. Nothing else, never the file.
    assert sent.hashes("/v1/verify") == [sha256_of(policy), sm3_of(policy)]
    assert sha256_of(policy) in sent.hashes("/v1/documents")
    assert sm3_of(policy) not in sent.hashes("/v1/documents")
    sent.only_hashes()
    content = policy.read_bytes()
    assert not [body for _, _, body in sent.requests if body and content[:64] in body]

    # Its proof: the SM3 leaf, the tag first, checked offline as Python checks it.
    with page.expect_download() as download_info:
        card.locator("button[data-proof-url]").click()
    bundle = json.loads(Path(download_info.value.path()).read_text(encoding="utf-8"))
    assert bundle["leaf"]["types"] == list(merkle.SM3_FILE_LEAF_TYPES)
    assert bundle["leaf"]["values"] == ["sm3", sm3_of(policy), POLICY]
    _, _, root = check_bundle_offline(bundle)
    assert "0x" + root.hex() == sm3_dataset.files_root

    # In English, the same match: the digest's label too.
    page.goto(world.base + "/?lang=en")
    drop(page, policy)
    expect(verdicts(page)).to_have_attribute("data-status", "anchored")
    expect(page.locator("#result article.match dt", has_text="Digest")).to_have_count(1)
    expect(page.locator("#result article.match dd [data-digest='sm3']")).to_have_text("SM3")

    # A SHA-256 file is found by its SHA-256 alone, and says so.
    sent.requests.clear()
    page.goto(world.base + "/")
    drop(page, world.anchored_file)
    expect(verdicts(page)).to_have_attribute("data-status", "anchored")
    expect(verdicts(page).locator(".subject")).to_contain_text("SHA-256: 0x")
    expect(page.locator("#result article.match dd [data-digest]")).to_have_attribute(
        "data-digest", "sha256"
    )
    assert sent.hashes("/v1/verify") == [sha256_of(world.anchored_file)]


@on_the_demo
def test_a_file_larger_than_sm_cryptos_bound_is_hashed_with_sm3_in_chunks(
    page: Page, world: World, sent: Sent, tmp_path: Path
) -> None:
    """sm-crypto's sm3 holds the whole file several times over: above 32 MiB the page hashes
    the file with its own SM3, 4 MiB at a time, and asks about that digest when no version
    holds the SHA-256 (the digest is Python's)."""
    large = tmp_path / "large.bin"
    large.write_bytes(bytes(range(251)) * (32 * 1024 * 1024 // 251 + 7))
    assert large.stat().st_size > 32 * 1024 * 1024
    sign_in(page, world)

    drop(page, large)
    verdict = verdicts(page)
    expect(verdict).to_have_attribute("data-status", "not-anchored", timeout=60_000)
    expect(page.locator("#result [data-notice^='sm3-']")).to_have_count(0)
    digest = verdict.locator(f".subject [data-digest='sm3'] code[title='{sm3_of(large)}']")
    expect(digest).to_have_count(1)
    assert sent.hashes("/v1/verify") == [sha256_of(large), sm3_of(large)]
    assert not ALARM.search(page.locator("#result").inner_text())


# --------------------------------------------------------------------------- records


@on_the_demo
def test_records_of_an_sm3_dataset_are_checked_with_sm3_leaves(
    page: Page, world: World, sm3_dataset: Sm3Dataset, sent: Sent
) -> None:
    data, salts = sm3_dataset.data, sm3_dataset.salts
    leaves, sm3_leaves = leaves_of(data, salts), sm3_leaves_of(data, salts)
    root = (
        "0x"
        + merkle.MerkleTree.from_leaf_hashes([bytes.fromhex(x[2:]) for x in sm3_leaves]).root.hex()
    )
    assert root == sm3_dataset.records_root
    sign_in(page, world)

    drop(page, data, salts)
    verdict = verdicts(page)
    expect(verdict).to_have_attribute("data-status", "records-anchored")
    expect(verdict).to_have_attribute("data-digest", "sm3")
    expect(verdict).to_have_attribute("data-rows", str(len(ROWS)))
    expect(verdict).to_contain_text("全部记录均已存证")
    expect(verdict).to_contain_text("按盐值以 SM3 重算的根哈希")
    expect(verdict.locator(f"[data-digest='sm3'] code[title='{root}']")).to_have_count(1)
    card = page.locator("#result article.match")
    expect(card).to_have_count(1)
    expect(card).to_have_attribute("data-root", root)
    expect(card.locator("dd [data-digest='sm3']")).to_have_text("SM3")
    # Row 1's SHA-256 leaf (unknown), then its SM3 leaf (in the version with this root); the
    # file's SHA-256 and SM3 digest (the file is no file of a version); the version's dataset.
    settled(page)
    asked = sent.hashes("/v1/verify")
    assert asked == [leaves[0], sm3_leaves[0], sha256_of(data), sm3_of(data)]
    sent.only_hashes()
    sent.never(secrets(sm3_dataset))

    page.goto(world.base + "/?lang=en")
    drop(page, salts, data)
    expect(verdicts(page)).to_contain_text("Root recomputed with the salts (SM3)")
    expect(verdicts(page)).to_contain_text(
        f"These {len(ROWS)} records are exactly the dataset version"
    )


@on_the_demo
@pytest.mark.parametrize("changed_row", [4, 0], ids=["row-5", "row-1"])
def test_a_changed_row_of_an_sm3_dataset_is_named(
    page: Page,
    world: World,
    sm3_dataset: Sm3Dataset,
    sent: Sent,
    tmp_path: Path,
    changed_row: int,
) -> None:
    """The records with one row changed: with row 1 intact its SM3 leaf decides the digest at
    once; with row 1 changed neither of its leaves is known, and rows are asked about both
    ways until one is found, then with SM3 alone."""
    rows = [list(row) for row in ROWS]
    rows[changed_row][3] = "9999"
    changed = tmp_path / "changed" / sm3_dataset.data.name
    changed.parent.mkdir()
    write_csv(changed, [HEADER, *rows])
    sm3_leaves = sm3_leaves_of(sm3_dataset.data, sm3_dataset.salts)
    sign_in(page, world)

    drop(page, changed, sm3_dataset.salts)
    verdict = verdicts(page)
    expect(verdict).to_have_attribute("data-status", "records-differ")
    expect(verdict).to_have_attribute("data-digest", "sm3")
    expect(verdict).to_have_attribute("data-missing", "1")
    expect(verdict).to_have_attribute("data-matched", str(len(ROWS) - 1))
    missing = page.locator("#records-missing tbody tr")
    expect(missing).to_have_count(1)
    expect(missing).to_have_attribute("data-row", str(changed_row + 1))
    matched = page.locator("#records-matched tbody tr")
    expect(matched).to_have_count(len(ROWS) - 1)
    # A matched row shows the SM3 leaf it was found by.
    other = 1 if changed_row == 0 else 0
    expect(
        page.locator(
            f"#records-matched tr[data-row='{other + 1}'] code[title='{sm3_leaves[other]}']"
        )
    ).to_have_count(1)
    assert not ALARM.search(verdict.inner_text()) or "与存证不符" in verdict.inner_text()

    settled(page)
    asked = set(sent.hashes("/v1/verify"))
    new_leaves = row_leaves(rows, sm3_dataset.salts, "sm3")
    sha_leaves = row_leaves(rows, sm3_dataset.salts, "sha256")
    assert new_leaves[other] == sm3_leaves[other]
    assert {*new_leaves} <= asked  # every row by its SM3 leaf
    sha_asked = asked & set(sha_leaves)
    if changed_row == 0:
        # Row 1, then the first rows under way (4 at a time) asked both ways before one was found.
        assert sha_leaves[0] in sha_asked and 2 <= len(sha_asked) <= 5, len(sha_asked)
    else:
        assert sha_asked == {sha_leaves[0]}
    assert asked <= {*new_leaves, *sha_leaves, sha256_of(changed), sm3_of(changed)}
    sent.only_hashes()
    sent.never(secrets(sm3_dataset))


# --------------------------------------------------------------------------- the page's SM3


@on_the_demo
def test_the_pages_sm3_and_sm3_leaves_are_pythons(page: Page, world: World) -> None:
    """window.sm3 (the vendored sm-crypto) gives the standard's vectors in Chromium; records.js
    hashes rows with it and makes SM3 record leaves and roots as ledger/merkle.py does."""
    sign_in(page, world)
    wait_until(page, "typeof window.sm3 === 'function' && Boolean(window.xietongRecords)")
    vectors = json.loads(VECTORS.read_text(encoding="utf-8"))
    for case in vectors["cases"]:
        one = (
            bytes.fromhex(case["message_hex"])
            if "message_hex" in case
            else case["message"].encode("utf-8")
        )
        got = page.evaluate(
            """([one, repeat]) => {
              const bytes = new Uint8Array(one.length * repeat);
              for (let k = 0; k < repeat; k++) bytes.set(one, k * one.length);
              return window.sm3(bytes);
            }""",
            [list(one), case.get("repeat", 1)],
        )
        assert got == case["expected"], case["desc"]
        # The page's own SM3 (large files, in chunks): the same digest, however it is fed.
        chunked = page.evaluate(
            """([one, repeat]) => {
              const bytes = new Uint8Array(one.length * repeat);
              for (let k = 0; k < repeat; k++) bytes.set(one, k * one.length);
              return [1, 7, 63, 64, 65, 1000].map((size) => {
                const chunks = [];
                for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
                return window.xietongSm3Hex(chunks);
              });
            }""",
            [list(one), case.get("repeat", 1)],
        )
        assert chunked == [case["expected"]] * 6, case["desc"]
    # Every length around the block and padding boundaries, against OpenSSL and sm-crypto.
    messages = [bytes((7 * i + n) % 256 for i in range(n)) for n in range(0, 200)]
    got_both = page.evaluate(
        """(messages) => messages.map((m) => {
          const bytes = new Uint8Array(m);
          return [window.xietongSm3Hex(bytes), window.sm3(bytes)];
        })""",
        [list(m) for m in messages],
    )
    assert got_both == [[hashlib.new("sm3", m).hexdigest()] * 2 for m in messages]

    content = '编号,姓名\nS1,甲\nS2,"乙, ""丙"""\n'.encode()
    path = Path(world.report.workdir) / "sm3-parity.csv"
    path.write_bytes(content)
    expected = [e.record_hash.hex() for e in hashing.hash_records(path, digest="sm3").entries]
    got = page.evaluate(
        """async (bytes) => {
          const records = window.xietongRecords;
          return records.recordHashes(records.parseRows(new Uint8Array(bytes), "csv"), null, "sm3");
        }""",
        list(content),
    )
    assert got == expected

    pairs = [
        (hashlib.new("sm3", bytes([i])).digest(), hashlib.sha256(bytes([i, i])).digest())
        for i in range(9)
    ]
    blob = merkle.sm3_record_leaf_blob(b"".join(h + s for h, s in pairs))
    leaves = [blob[k : k + 32] for k in range(0, len(blob), 32)]
    for h, s in pairs[:2]:
        assert merkle.leaf_hash(merkle.SM3_RECORD_LEAF_TYPES, ["sm3", h, s]) in leaves
    for count in range(1, 10):
        got_leaves = page.evaluate(
            "(pairs) => pairs.map(([h, s]) => window.xietongRecords.leaf(h, s, 'sm3'))",
            [[h.hex(), s.hex()] for h, s in pairs[:count]],
        )
        assert got_leaves == [leaf.hex() for leaf in leaves[:count]]
        root = page.evaluate("(leaves) => window.xietongRecords.merkleRoot(leaves)", got_leaves)
        assert root == merkle.MerkleTree.from_leaf_hashes(leaves[:count]).root.hex()


# --------------------------------------------------------------------------- offline


@on_the_demo
def test_a_sealed_sm3_bundle_is_checked_offline_in_the_browser(
    page: Page, world: World, tmp_path: Path
) -> None:
    """A bundle of an SM3 record leaf on a chain sealed by hardhat-node/offline/fixtures.mjs,
    with its trust file: valid with the network cut; its tag changed, refused (bundle-form)."""
    made = json.loads(
        subprocess.run(
            ["node", "offline/fixtures.mjs"],
            cwd=PROJECT_ROOT / "hardhat-node",
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        ).stdout
    )
    [case] = [c for c in made["cases"] if c["desc"].startswith("valid: an SM3 record leaf (")]
    [bad] = [
        c
        for c in made["cases"]
        if c["desc"] == 'bundle-form: an SM3 record leaf whose first value is not the tag "sm3"'
    ]
    files: dict[str, Any] = {"trust": made["trust"], "valid": case["bundle"], "bad": bad["bundle"]}
    paths = {}
    for name, content in files.items():
        paths[name] = tmp_path / f"{name}.json"
        paths[name].write_text(json.dumps(content), encoding="utf-8")
    sign_in(page, world)
    page.goto(world.base + "/?lang=en")
    page.context.set_offline(True)
    page.set_input_files("#offline-trust-file", str(paths["trust"]))
    answer = page.locator("#offline-result .verdict")
    page.set_input_files("#offline-bundle", str(paths["valid"]))
    expect(answer).to_have_attribute("data-status", "offline-valid")
    page.set_input_files("#offline-bundle", str(paths["bad"]))
    expect(answer).to_have_attribute("data-reason", "bundle-form")


# --------------------------------------------------------------------------- accessibility


@on_the_demo
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_sm3_results_have_no_wcag_21_aa_violation(
    axe_page: Page, world: World, sm3_dataset: Sm3Dataset, tmp_path: Path, lang: str
) -> None:
    page = axe_page
    unknown = tmp_path / "unknown.txt"
    unknown.write_text("nothing anchored, either way", encoding="utf-8")
    sign_in(page, world)
    page.goto(f"{world.base}/?lang={lang}")
    found: dict[str, Any] = {}

    def check(state: str, status: str) -> None:
        verdict_audit(page, found, state, status)

    drop(page, sm3_dataset.policy)
    check("an SM3 file", "anchored")
    drop(page, sm3_dataset.data, sm3_dataset.salts)
    check("SM3 records, whole", "records-anchored")
    drop(page, unknown)
    check("neither digest anchored", "not-anchored")
    violations = {state: v for state, v in found.items() if v}
    assert not violations, json.dumps(violations, ensure_ascii=False, indent=1)

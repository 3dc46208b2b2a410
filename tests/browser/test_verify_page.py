"""The verify page beyond one file: records files checked row by row with their salts sidecar,
documents recognised by their hashes, and no false alarm when nothing could have matched.

Debian's Chromium driven by Playwright against the real app over a real Hardhat node with the
demo played (the ``world`` of conftest.py). Every request the page makes is recorded, to show
that only hashes leave it: never a row, never a salt."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

from ledger.demo import DIBAO
from ledger.hashing import (
    RecordFormatError,
    hash_records,
    read_salts,
    record_entry,
    write_salts,
)
from ledger.hashing._errors import HashingError
from ledger.ids import code_hash
from ledger.merkle import MerkleTree, record_leaf_hashes, sm3_record_leaf_blob
from ledger.paths import PROJECT_ROOT
from tests.browser._portal import CIVIL, PORTAL_MARKS, Sent, World, sign_in, verdict_audit

F = TypeVar("F", bound=Callable[..., Any])


def on_the_demo(test: F) -> F:
    """A test of the page over the demo (the marks of PORTAL_MARKS); the test of the vendored
    file, alone, needs no chain."""
    for mark in PORTAL_MARKS:
        test = mark(test)
    return test


PSB = "杭州市公安局"
PURPOSE = "eligibility-check 低保资格核查"
#: Words that would call a file altered: never said when nothing could be compared.
ALARM = re.compile(r"修改|篡改|改动|tamper|modif|alter", re.IGNORECASE)
STATIC = PROJECT_ROOT / "api" / "portal" / "static"
NODE_MODULES = PROJECT_ROOT / "hardhat-node" / "node_modules"


# --------------------------------------------------------------------------- helpers


def drop(page: Page, *files: str | Path) -> None:
    """Give the page's file input these files together (as a drop of several files)."""
    page.set_input_files("#file", [str(f) for f in files])


def rows_of(path: str | Path) -> list[list[str]]:
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


def leaves_of(data: str | Path, salts: str | Path) -> list[str]:
    """The record leaves of a records file with its sidecar, as the gateway's anchorer made them."""
    records = hash_records(data, salts=read_salts(salts))
    pairs = [(e.record_hash, e.salt) for e in records.entries]
    return ["0x" + leaf.hex() for leaf in record_leaf_hashes(pairs)]


def sm3_leaves_of(data: str | Path, salts: str | Path) -> list[str]:
    """The SM3 record leaves (docs/SM3.md) of a records file with its sidecar: what the page asks
    about when no row's SHA-256 leaf is known."""
    records = hash_records(data, salts=read_salts(salts), digest="sm3")
    blob = b"".join(e.record_hash + e.salt for e in records.entries)
    leaves = sm3_record_leaf_blob(blob)
    return ["0x" + leaves[k : k + 32].hex() for k in range(0, len(leaves), 32)]


def secrets_of(data: str | Path, salts: str | Path) -> list[str]:
    """What must never leave the page: every salt (hex) and the rows' identifying values
    (record numbers, names, streets: none can occur inside a hex hash)."""
    document = json.loads(Path(salts).read_text(encoding="utf-8"))
    values = {value for row in rows_of(data)[1:] for value in row[:3]}
    return list(document["salts"]) + sorted(values)


def short_hex(value: str) -> str:
    """A hash as the page shortens it when it cannot name it (portal.js short)."""
    return f"{value[:8]}…{value[-6:]}"


def sha256_of(path: str | Path) -> str:
    return "0x" + hashlib.sha256(Path(path).read_bytes()).hexdigest()


def sm3_of(path: str | Path) -> str:
    """A file's SM3 digest (docs/SM3.md): asked about when no version holds its SHA-256."""
    return "0x" + hashlib.new("sm3", Path(path).read_bytes()).hexdigest()


def verdicts(page: Page) -> Any:
    return page.locator("#result .verdict")


def settled(page: Page) -> None:
    """Wait until the page has every answer it asks for (#result is no longer aria-busy): a
    records file is also asked about as a whole file after its rows' verdict is shown."""
    expect(page.locator("#result")).not_to_have_attribute("aria-busy", "true")


# --------------------------------------------------------------------------- the vendored keccak


def test_the_vendored_keccak_is_the_pinned_npm_build() -> None:
    """js-sha3 is served from api/portal/static/vendor, byte for byte the build of the version
    hardhat-node/package.json pins (installed by npm), with its licence."""
    pinned = json.loads((PROJECT_ROOT / "hardhat-node" / "package.json").read_text())
    version = pinned["dependencies"]["js-sha3"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", version), "pin an exact version"
    installed = NODE_MODULES / "js-sha3"
    assert json.loads((installed / "package.json").read_text())["version"] == version
    vendored = STATIC / "vendor" / "js-sha3"
    assert (vendored / "sha3.min.js").read_bytes() == (
        installed / "build" / "sha3.min.js"
    ).read_bytes()
    assert (vendored / "LICENSE.txt").read_bytes() == (installed / "LICENSE.txt").read_bytes()
    assert f"@version {version}" in (vendored / "sha3.min.js").read_text()
    lock = json.loads((PROJECT_ROOT / "hardhat-node" / "package-lock.json").read_text())
    assert lock["packages"]["node_modules/js-sha3"]["version"] == version
    assert lock["packages"][""]["dependencies"]["js-sha3"] == version


# --------------------------------------------------------------------------- records with their salts


@on_the_demo
def test_records_with_their_salts_are_checked_whole_in_the_browser(
    page: Page, world: World, sent: Sent
) -> None:
    november, salts = world.report.files["november"], world.report.files["november_salts"]
    root = world.report.versions["dibao-2026-11"]
    leaves = leaves_of(november, salts)
    assert (
        "0x" + MerkleTree.from_leaf_hashes([bytes.fromhex(x[2:]) for x in leaves]).root.hex()
        == root
    )
    sign_in(page, world)

    drop(page, november, salts)
    verdict = verdicts(page)
    expect(verdict).to_have_attribute("data-status", "records-anchored")
    expect(verdict).to_have_attribute("data-rows", "252")
    expect(verdict).to_contain_text("全部记录均已存证")
    expect(verdict).to_contain_text("这 252 条记录与 杭州市民政局 于")
    expect(verdict.locator("time")).to_have_count(1)
    expect(verdict.locator(f"code[title='{root}']")).to_have_count(1)  # the recomputed root
    card = page.locator("#result article.match")
    expect(card).to_have_count(1)
    expect(card).to_have_attribute("data-root", root)
    expect(card).to_contain_text(CIVIL)
    version = world.version(DIBAO, "dibao-2026-11")
    expect(
        card.locator(f"a[href='/datasets/{world.report.datasets[DIBAO]}#v-{version}']")
    ).to_have_count(1)
    # Named as people typed them, from the catalogue (checked against the chain): the dataset
    # by its code and owner, the sharing agreement's purpose and legal basis by their texts.
    dataset = card.locator(f"a[href='/datasets/{world.report.datasets[DIBAO]}#v-{version}']")
    expect(dataset.locator("[data-named='verified']")).to_have_text(DIBAO)
    expect(dataset.locator("xpath=following-sibling::*[@data-owner]")).to_have_text(f"· {CIVIL}")
    sharing = card.locator(f"tr[data-agreement='{world.report.agreements['dibao-to-psb']}']")
    expect(sharing.locator("[data-named='verified']").nth(0)).to_have_text(PURPOSE)
    expect(sharing.locator("[data-named='verified']").nth(1)).to_have_text(
        "《社会救助暂行办法》第十一条"
    )
    expect(card).not_to_contain_text(short_hex(world.report.datasets[DIBAO]))
    assert set(sent.hashes("/v1/catalogue/names")) >= {
        world.report.datasets[DIBAO],
        "0x" + code_hash(PURPOSE).hex(),
    }

    # One leaf asked about (row 1's), and the file's own SHA-256 (then, in no version, its SM3
    # digest); the version's dataset, for its erasures (none): nothing else, no row, no salt.
    settled(page)
    sent.only_hashes()
    assert sorted(sent.hashes("/v1/verify")) == sorted(
        [leaves[0], sha256_of(november), sm3_of(november)]
    )
    assert [urlsplit(url).path for _, url, _ in sent.requests if "/v1/datasets/" in url] == [
        f"/v1/datasets/{world.report.datasets[DIBAO]}"
    ]
    assert sent.hashes("/v1/documents") == [sha256_of(november)]  # more than 4096 characters
    sent.never(secrets_of(november, salts))

    page.goto(world.base + "/?lang=en")
    drop(page, salts, november)  # in any order
    expect(verdicts(page)).to_contain_text(
        "These 252 records are exactly the dataset version 杭州市民政局 anchored at"
    )


@on_the_demo
def test_a_changed_row_is_named_when_checked_with_the_original_salts(
    page: Page, world: World, sent: Sent, tmp_path: Path
) -> None:
    """The sidecar belongs to the original bytes: the page says so, then pairs record n with
    salt n (the counts are equal) and names the record that is not as anchored."""
    november, salts = world.report.files["november"], world.report.files["november_salts"]
    rows = rows_of(november)
    rows[8][4] = str(int(rows[8][4]) + 1)  # record 8 (the header is line 1): its allowance
    changed = tmp_path / Path(november).name
    with changed.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    original = Path(november).read_bytes()
    assert len(changed.read_bytes()) == len(original) and changed.read_bytes() != original
    sign_in(page, world)

    drop(page, changed, salts)
    verdict = verdicts(page)
    expect(verdict).to_have_attribute("data-status", "records-differ")
    expect(verdict).to_have_attribute("data-missing", "1")
    expect(verdict).to_have_attribute("data-matched", "251")
    expect(verdict).to_contain_text(
        "1 条记录不在本网关已知的任何数据集版本中，另有 251 条记录与存证一致"
    )
    notice = page.locator("#result [data-notice='salts-other-bytes']")
    expect(notice).to_contain_text("盐值文件 dibao-2026-11.csv.salts.json 是为另一份内容生成的")
    expect(notice).to_contain_text("仍按位置把第 n 条记录与第 n 个盐值配对逐条核验")
    missing = page.locator("#records-missing tbody tr")
    expect(missing).to_have_count(1)
    expect(missing).to_have_attribute("data-row", "8")
    expect(missing.locator("td").first).to_have_text("9")  # the line it starts on
    expect(missing).to_contain_text("未找到")
    summary = page.locator("details.records-matched summary")
    expect(summary).to_have_text("与存证一致的记录（251 条）")
    expect(page.locator("#records-matched tbody tr")).to_have_count(251)

    # Every record asked about by its leaf (the changed one's computed with salt 8), and the
    # file's SHA-256 and SM3 digest: nothing else (row 1's SHA-256 leaf was found: no SM3 leaf).
    leaves = leaves_of(november, salts)
    salt = bytes.fromhex(json.loads(Path(salts).read_text())["salts"][7])
    [new] = record_leaf_hashes([record_entry(dict(zip(rows[0], rows[8], strict=True)), salt)])
    settled(page)
    asked = sent.hashes("/v1/verify")
    assert len(asked) == 254
    assert set(asked) == set([*leaves[:7], "0x" + new.hex(), *leaves[8:]]) | {
        sha256_of(changed),
        sm3_of(changed),
    }
    sent.only_hashes()
    sent.never(secrets_of(changed, salts))


@on_the_demo
def test_salts_that_cannot_belong_to_the_file_are_refused_clearly(
    page: Page, world: World, sent: Sent, tmp_path: Path
) -> None:
    november = world.report.files["november"]
    october_salts = world.report.files["october"] + ".salts.json"
    sign_in(page, world)

    # Another file's sidecar (240 rows for 252): refused, and no row's leaf is sent.
    drop(page, november, october_salts)
    verdict = verdicts(page)
    expect(verdict).to_have_attribute("data-status", "salts-other-file")
    expect(verdict).to_contain_text(
        "盐值文件 dibao-2026-10.csv.salts.json 是为 dibao-2026-10.csv 生成的（240 条记录"
    )
    expect(verdict).to_contain_text("不是为 dibao-2026-11.csv（252 条记录")
    settled(page)
    assert sent.hashes("/v1/verify") == [sha256_of(november), sm3_of(november)]
    sent.never(secrets_of(world.report.files["october"], october_salts))

    # Broken sidecars: each refused in one sentence.
    document = json.loads(Path(world.report.files["november_salts"]).read_text())
    broken = {
        "not-json": (b"{not json", "不是有效的 JSON 文档"),
        "format": (
            json.dumps({**document, "format": "xietong-salts/9"}).encode(),
            '格式应为 xietong-salts/1 或 /2，而它的 format 是 "xietong-salts/9"',
        ),
        "count": (
            json.dumps({**document, "salts": document["salts"][:-1]}).encode(),
            "声明 252 条记录，却有 251 个盐值",
        ),
        "hex": (
            json.dumps({**document, "salts": ["00", *document["salts"][1:]]}).encode(),
            "salts[0] 不是 64 位小写十六进制数",
        ),
        "rows-float": (  # 252.0 is a float to Python, so no row count
            json.dumps({**document, "rows": float(document["rows"])}).encode(),
            "的 rows 字段无效",
        ),
    }
    for name, (content, sentence) in broken.items():
        folder = tmp_path / name
        folder.mkdir()
        sidecar = folder / "dibao-2026-11.csv.salts.json"
        sidecar.write_bytes(content)
        with pytest.raises(HashingError):  # what the CLI says of it too
            read_salts(sidecar)
        page.reload()
        drop(page, november, sidecar)
        expect(verdicts(page)).to_have_attribute("data-status", "bad-salts")
        expect(verdicts(page)).to_contain_text(sentence)
    sent.only_hashes()


@on_the_demo
def test_records_without_their_salts_are_not_called_tampered(
    page: Page, world: World, sent: Sent
) -> None:
    november, salts = world.report.files["november"], world.report.files["november_salts"]
    sign_in(page, world)

    drop(page, november)
    verdict = verdicts(page)
    expect(verdict).to_have_attribute("data-status", "needs-salts")
    expect(verdict).to_contain_text("这看起来是记录数据（CSV，252 条记录）")
    expect(verdict).to_contain_text("dibao-2026-11.csv.salts.json")
    assert not ALARM.search(page.locator("#result").inner_text())

    page.reload()
    drop(page, salts)  # the salts alone: read here, never sent, not even hashed
    expect(verdicts(page)).to_have_attribute("data-status", "salts-only")
    expect(verdicts(page)).to_contain_text(
        "这是记录文件 dibao-2026-11.csv 的盐值文件（252 条记录）"
    )
    assert sent.hashes("/v1/verify") == [sha256_of(november), sm3_of(november)]

    page.goto(world.base + "/?lang=en")
    drop(page, november)
    expect(verdicts(page)).to_contain_text("This looks like records data (CSV, 252 records)")
    assert not ALARM.search(page.locator("#result").inner_text())
    sent.only_hashes()
    sent.never(secrets_of(november, salts))


@on_the_demo
def test_json_lines_records_never_anchored_are_neutral(
    page: Page, world: World, sent: Sent
) -> None:
    """The demo's access log (JSON Lines, salted, its root only in access receipts): every row
    is asked about by the very leaves Python computes, SHA-256 and SM3 (no leaf of either was
    found, so the dataset's digest is unknown), and none is in a dataset version."""
    log = Path(world.report.workdir) / "psb-access-2026-11.jsonl"
    salts = Path(str(log) + ".salts.json")
    leaves = leaves_of(log, salts)
    sm3_leaves = sm3_leaves_of(log, salts)
    sign_in(page, world)

    drop(page, log, salts)
    verdict = verdicts(page)
    expect(verdict).to_have_attribute("data-status", "not-anchored")
    expect(verdict).to_have_attribute("data-rows", "30")
    expect(verdict).to_contain_text("已核验的 30 条记录都不在本网关已知的任何数据集版本中")
    assert not ALARM.search(page.locator("#result").inner_text())
    settled(page)
    asked = sent.hashes("/v1/verify")
    assert len(asked) == 62
    assert set(asked) == set(leaves) | set(sm3_leaves) | {sha256_of(log), sm3_of(log)}
    sent.only_hashes()
    document = json.loads(salts.read_text())
    sent.never([*list(document["salts"]), "DB00001", "P001"])


@on_the_demo
def test_row_checks_are_bounded_and_four_at_a_time(
    page: Page, world: World, sent: Sent, tmp_path: Path
) -> None:
    """600 records never anchored, with their salts: 500 leaves asked about, at most 4 at
    once, and the page says how many were not checked. No leaf is found, so the dataset's
    digest is unknown: each record is asked about by its SHA-256 and its SM3 leaf (docs/SM3.md),
    250 records in all."""
    data = tmp_path / "big.csv"
    data.write_text("id,value\n" + "".join(f"R{i:04d},{i}\n" for i in range(600)), encoding="utf-8")
    sidecar = tmp_path / "big.csv.salts.json"
    write_salts(sidecar, hash_records(data).salts)
    sign_in(page, world)

    drop(page, data, sidecar)
    verdict = verdicts(page)
    expect(verdict).to_have_attribute("data-status", "not-anchored", timeout=60_000)
    expect(verdict).to_contain_text("已核验的 250 条记录都不在本网关已知的任何数据集版本中")
    expect(page.locator("#result [data-notice='unchecked']")).to_have_text(
        "另有 350 条记录未核验（每次最多发送 500 个查询）。"
    )
    leaves, sm3_leaves = leaves_of(data, sidecar), sm3_leaves_of(data, sidecar)
    settled(page)
    asked = sent.hashes("/v1/verify")
    assert len(asked) == 502
    assert set(asked) == set(leaves[:250]) | set(sm3_leaves[:250]) | {
        sha256_of(data),
        sm3_of(data),
    }
    assert 1 < sent.most_in_flight <= 4
    sent.only_hashes()
    sent.never(json.loads(sidecar.read_text())["salts"])


# --------------------------------------------------------------------------- documents


@on_the_demo
def test_documents_are_recognised_by_their_hashes(
    page: Page, world: World, sent: Sent, tmp_path: Path
) -> None:
    terms = world.report.files["terms"]
    agreements = world.report.agreements
    purpose = tmp_path / "purpose.txt"
    purpose.write_text(f"\u3000 {PURPOSE}\x85\n", encoding="utf-8")  # trimmed as str.strip()
    evidence = tmp_path / "evidence.txt"
    evidence.write_text("户口登记 完成", encoding="utf-8")
    basis = tmp_path / "basis.txt"
    basis.write_text("《社会救助暂行办法》第十一条\n", encoding="utf-8")
    sign_in(page, world)

    drop(page, terms, purpose, evidence, basis)
    items = page.locator("#result .item")
    expect(items).to_have_count(4)
    first = items.nth(0).locator(".verdict")
    expect(first).to_have_attribute("data-status", "document")
    expect(first).to_contain_text("已识别：链上文档")
    found = first.locator("li[data-kind='agreement-terms']")
    expect(found).to_have_count(2)
    assert {li.get_attribute("data-subject") for li in found.all()} == {
        agreements["dibao-to-psb"],
        agreements["dibao-to-health-revoked"],
    }
    active = first.locator(f"li[data-subject='{agreements['dibao-to-psb']}']")
    expect(active).to_contain_text("这是共享协议 0x")
    expect(active).to_contain_text("的条款文件（状态：生效中）")
    expect(active.locator(f"a[href='/agreements/{agreements['dibao-to-psb']}']")).to_have_count(1)
    revoked = first.locator(f"li[data-subject='{agreements['dibao-to-health-revoked']}']")
    expect(revoked).to_contain_text("（状态：已撤销）")

    second = items.nth(1).locator(".verdict")
    expect(second).to_have_attribute("data-status", "document")
    purpose_item = second.locator("li[data-kind='agreement-purpose']")
    expect(purpose_item).to_have_count(1)
    expect(purpose_item).to_have_attribute("data-subject", agreements["dibao-to-psb"])
    expect(purpose_item).to_contain_text("这是共享协议 0x")
    expect(second.locator(".named-text")).to_have_text(PURPOSE)  # the catalogue's text, checked
    purpose_hash = "0x" + code_hash(PURPOSE).hex()
    expect(
        second.locator(f".document-group[data-how='text'][data-hash='{purpose_hash}']")
    ).to_have_count(1)

    third = items.nth(2).locator(".verdict li[data-kind='commitment-evidence']")
    expect(third).to_have_count(1)
    expect(third).to_contain_text(f"这是 {PSB} 在联办承诺 0x")
    expect(third.locator(f"a[href='/commitments/{world.report.commitment}']")).to_have_count(1)
    fourth = items.nth(3).locator(".verdict")
    expect(fourth).to_have_attribute("data-status", "document")
    basis_item = fourth.locator("li[data-kind='agreement-legal-basis']")
    expect(basis_item).to_have_attribute("data-subject", agreements["dibao-to-psb"])
    expect(fourth.locator(".named-text")).to_have_text("《社会救助暂行办法》第十一条")
    assert not ALARM.search(page.locator("#result").inner_text())
    # Asked by hashes only: each file's SHA-256, and each short text's keccak256.
    assert purpose_hash in sent.hashes("/v1/documents")
    assert sha256_of(terms) in sent.hashes("/v1/documents")
    sent.only_hashes()

    # The terms hash pasted: the same answer, for a hash.
    page.goto(world.base + "/?lang=en")
    page.fill("#hash", sha256_of(terms))
    page.click("#hash-form button[type=submit]")
    expect(verdicts(page)).to_have_attribute("data-status", "document")
    expect(verdicts(page)).to_contain_text(
        "This hash is not anchored in a dataset version, but the chain records it"
    )
    expect(verdicts(page).locator("li").first).to_contain_text("The terms document of agreement 0x")
    expect(verdicts(page).locator("li").first).to_contain_text("(status: Active)")

    # A text with a byte-order mark is not the purpose (str.strip() keeps U+FEFF).
    marked = tmp_path / "marked.txt"
    marked.write_text("\ufeff" + PURPOSE, encoding="utf-8")
    page.goto(world.base + "/")
    drop(page, marked)
    expect(verdicts(page)).to_have_attribute("data-status", "not-anchored")


@on_the_demo
def test_a_file_nothing_knows_is_not_called_tampered(
    page: Page, world: World, sent: Sent, tmp_path: Path
) -> None:
    unknown = tmp_path / "随机.bin"
    unknown.write_bytes(os.urandom(3000))
    sign_in(page, world)

    drop(page, unknown)
    verdict = verdicts(page)
    expect(verdict).to_have_attribute("data-status", "not-anchored")
    expect(verdict).to_contain_text("未存证")
    expect(verdict).to_contain_text(
        "本网关已知的数据集版本中没有这个哈希，它也不是本网关已知的文档（协议条款、用途、法律依据、凭证等）。"
    )
    assert not ALARM.search(page.locator("#result").inner_text())
    # Its SHA-256 is in no version, then its SM3 digest (docs/SM3.md): both are asked about,
    # and both shown; the documents are named by SHA-256 only.
    assert sent.hashes("/v1/verify") == [sha256_of(unknown), sm3_of(unknown)]
    assert sent.hashes("/v1/documents") == [sha256_of(unknown)]
    expect(verdict.locator(".subject")).to_contain_text("SM3: 0x")
    expect(
        verdict.locator(f".subject [data-digest='sm3'] code[title='{sm3_of(unknown)}']")
    ).to_have_count(1)

    page.goto(world.base + "/?lang=en")
    drop(page, unknown)
    expect(verdicts(page)).to_contain_text(
        "This hash is not anchored in any dataset version this gateway knows, and it is no "
        "document this gateway knows of"
    )
    assert not ALARM.search(page.locator("#result").inner_text())
    page.fill("#hash", "0x" + "ab" * 32)
    page.click("#hash-form button[type=submit]")
    expect(verdicts(page)).to_have_attribute("data-status", "not-anchored")
    assert not ALARM.search(page.locator("#result").inner_text())
    sent.only_hashes()


# --------------------------------------------------------------------------- the browser's reading of rows

#: Records files read by both Python and the browser: each must give the same record hashes
#: (and the same line for each record), or be refused by both, on the same line, the browser
#: naming the reason given here.
CSV_CASES: list[tuple[bytes, str | None]] = [
    ('\ufeff编号,姓名,备注\r\nDB1,王明,"a, ""b""\r\nc"\r\n\r\nDB2,李华,\r\n'.encode(), None),
    (b"\n\n a ,b\n1,2\n\n\n3,4", None),
    ('x,"y"\n"1\u0001","2\x7f"\n'.encode(), None),
    (b'k,v\nab"c",d\n"",""\n', None),
    # member names sort by UTF-16 code units: U+1F600 (a surrogate pair) before U+FF61
    ("\U0001f600,\uff61,a\n1,2,3\n".encode(), None),
    (b'a\n"1"\r\n2\r', None),
    (b"h\n" + b"v" * 131072 + b"\n", None),
    (b"h\n" + b"v" * 131073 + b"\n", "csv:field_limit"),
    (b"a,b\n1,2,3\n", "width"),
    (b'a,b\n"1"x,2\n', "csv:quote"),
    (b"a,b\n1\r2,3\n", "csv:newline"),
    (b'a,b\n"1,2\n', "csv:eof"),
    (b"a,a\n1,2\n", "duplicate_header"),
    (b"a,b\n1,\xff\n", "not_utf8"),
    (b"a,b\n", "no_records"),
    (b"\n\n", "empty_csv"),
]

JSONL_CASES: list[tuple[bytes, str | None]] = [
    (
        (
            '{"b":1.0,"a":[1e21,1e-7,-0,0.1,1.2345678901234568e20,5e-324,9007199254740992]}\r\n'
            '\n  \n{"__proto__":{"\\ud83d\\ude00":"\\u0001\\"\\\\/","\uff61":null},"t":true}\n'
            '{"n":-9007199254740992,"s":"\\u2028é\U0001f600","e":{},"l":[],"f":false}'
        ).encode(),
        None,
    ),
    (b'\xef\xbb\xbf{"a":"b"}\n', None),
    (b'{"a":' * 199 + b"[1]" + b"}" * 199 + b"\n", None),  # 200 levels: the deepest accepted
    (b'{"a":1,"a":2}\n', "jsonl:json_duplicate"),
    (b'{"a":NaN}\n', "jsonl:json_not_finite"),
    (b'{"a":1e400}\n', "jsonl:json_not_finite"),
    (b'{"a":9007199254740993}\n', "jsonl:json_big_int"),
    (b'{"a":"\\ud800"}\n', "jsonl:json_surrogate"),
    (b"[1]\n", "jsonl:json_not_object"),
    (b'{"a":1} x\n', "jsonl:json_syntax"),
    (b'{"a":' * 201 + b"1" + b"}" * 201 + b"\n", "jsonl:json_deep"),
    (b"\n \n", "no_records"),
]

PARSE = """async ([bytes, format]) => {
  const records = window.xietongRecords;
  try {
    const rows = records.parseRows(new Uint8Array(bytes), format);
    return {hashes: await records.recordHashes(rows), lines: rows.map((r) => r.line)};
  } catch (error) {
    if (!(error instanceof records.RecordsError)) throw error;
    const v = error.values;
    return {error: v.reason ? error.code + ":" + v.reason : error.code, line: v.line ?? null};
  }
}"""


def python_reading(content: bytes, fmt: str, folder: Path) -> dict[str, Any]:
    """What ledger/hashing makes of ``content``: its record hashes, or where it refuses it."""
    path = folder / f"case.{fmt}"
    path.write_bytes(content)
    try:
        records = hash_records(path)
    except HashingError as exc:
        return {"error": True, "line": exc.line if isinstance(exc, RecordFormatError) else None}
    return {"hashes": [e.record_hash.hex() for e in records.entries]}


@on_the_demo
def test_the_browser_reads_rows_exactly_as_python_does(
    page: Page, world: World, tmp_path: Path
) -> None:
    sign_in(page, world)
    cases = [(c, "csv", r) for c, r in CSV_CASES] + [(c, "jsonl", r) for c, r in JSONL_CASES]
    for index, (content, fmt, refusal) in enumerate(cases):
        folder = tmp_path / str(index)
        folder.mkdir()
        expected = python_reading(content, fmt, folder)
        got = page.evaluate(PARSE, [list(content), fmt])
        where = (index, content[:60], got)
        if refusal is None:
            assert "hashes" in expected, where
            assert got.get("hashes") == expected["hashes"], where
        else:
            assert "error" in expected, where  # Python refuses it too
            assert got.get("error") == refusal, where
            assert got["line"] == expected["line"], (where, expected)
    # Line numbers of the records (for the table of rows): where each record starts.
    got = page.evaluate(PARSE, [list(CSV_CASES[0][0]), "csv"])
    assert got["lines"] == [2, 5]

    # Leaves and roots as ledger/merkle.py makes them, for trees of 1 to 9 leaves.
    pairs = [
        (hashlib.sha256(bytes([i])).digest(), hashlib.sha256(bytes([i, i])).digest())
        for i in range(9)
    ]
    leaves = record_leaf_hashes(pairs)
    for count in range(1, 10):
        got_leaves = page.evaluate(
            "(pairs) => pairs.map(([h, s]) => window.xietongRecords.leaf(h, s))",
            [[h.hex(), s.hex()] for h, s in pairs[:count]],
        )
        assert got_leaves == [leaf.hex() for leaf in leaves[:count]]
        root = page.evaluate("(leaves) => window.xietongRecords.merkleRoot(leaves)", got_leaves)
        assert root == MerkleTree.from_leaf_hashes(leaves[:count]).root.hex()


# --------------------------------------------------------------------------- accessibility


@on_the_demo
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_new_result_states_have_no_wcag_21_aa_violation(
    axe_page: Page, world: World, tmp_path: Path, lang: str
) -> None:
    page = axe_page
    november, salts = world.report.files["november"], world.report.files["november_salts"]
    rows = rows_of(november)
    rows[3][4] = "0"
    changed = tmp_path / Path(november).name
    with changed.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    unknown = tmp_path / "unknown.txt"
    unknown.write_text("nothing anchored", encoding="utf-8")
    sign_in(page, world)
    page.goto(f"{world.base}/?lang={lang}")
    found: dict[str, Any] = {}

    def check(state: str, status: str) -> None:
        verdict_audit(page, found, state, status)

    drop(page, november, salts)
    check("records: every row", "records-anchored")
    drop(page, changed, salts)
    page.locator("details.records-matched summary").click()  # the folded table, open
    check("records: a changed row", "records-differ")
    drop(page, november)
    check("records: no salts", "needs-salts")
    drop(page, salts)
    check("salts alone", "salts-only")
    drop(page, world.report.files["terms"], unknown, world.anchored_file)
    expect(page.locator("#result .item .verdict")).to_have_count(3)
    check("documents, not anchored, anchored: three files", "document")
    expect(page.locator("#result .verdict[data-status='not-anchored']")).to_have_count(1)
    expect(page.locator("#result .verdict[data-status='anchored']")).to_have_count(1)
    violations = {state: v for state, v in found.items() if v}
    assert not violations, json.dumps(violations, ensure_ascii=False, indent=1)

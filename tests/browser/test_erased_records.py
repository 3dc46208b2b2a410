"""Erased records on the portal (docs/ERASURE.md): 杭州市民政局 anchors three records as a
version of its 低保 dataset and erases the second one (its salt destroyed in the owner's
sidecar). The verify page then says the record was erased, when and by whom, whether asked by
its leaf or with the original salts kept by someone who received them, and never calls it not
anchored or tampered with; with the owner's shredded sidecar the erased row is shown as erased
and not asked about, the other rows checked; the dataset page lists the erasure under its
version, naming no record.

Debian's Chromium driven by Playwright against the real app over a real Hardhat node with the
demo played (the ``world`` of conftest.py, whose chain changes are undone after each test by
the ``consortium`` snapshot)."""

from __future__ import annotations

import csv
import json
import re
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import delete
from sqlmodel import Session

from ledger import hashing, merkle
from ledger.anchoring import prepare_path
from ledger.db import queries
from ledger.db.tables import ErasedLeaf
from ledger.demo import DIBAO
from ledger.erasure import ErasedRecords
from ledger.hashing._errors import HashingError
from ledger.ids import version_id
from tests.browser._portal import (
    CIVIL,
    PORTAL_MARKS,
    World,
    axe_violations,
    sign_in,
    verdict_audit,
)
from tests.browser.test_verify_page import (
    ALARM,
    Sent,
    drop,
    settled,
    sha256_of,
    sm3_of,
    verdicts,
)

pytestmark = PORTAL_MARKS

NAME = "dibao-erase.csv"
HEADER = ["编号", "姓名", "住址"]
ROWS = [["E1", "甲", "上城区 1 号"], ["E2", "乙", "拱墅区 2 号"], ["E3", "丙", "西湖区 3 号"]]
ERASED_ROW = 1  # the second record (the page numbers records from 1: record 2)
REASON = "PIPL-2026-0201"


@dataclass
class Erasure:
    """The version anchored, the erasure of its second record, and the files around it."""

    data: Path  # the CSV as anchored, kept by whoever received it
    salts: Path  # its sidecar with every salt (a copy made before the erasure)
    owner_data: Path  # the owner's copy: the erased row blanked in place
    owner_salts: Path  # the owner's sidecar: the erased row's salt destroyed (null)
    leaves: list[str]
    root: str
    version: str
    erased: ErasedRecords
    erased_at: str  # ISO time, as the API gives it

    def wall_clock(self, zone: str) -> str:
        """``erased_at`` as the page shows it (the consortium's zone)."""
        instant = datetime.fromisoformat(self.erased_at).astimezone(ZoneInfo(zone))
        return instant.strftime("%Y-%m-%d %H:%M:%S")


def write_csv(path: Path, rows: list[list[str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)


@pytest.fixture
def erasure(world: World, tmp_path: Path) -> Erasure:
    """Three records anchored by 杭州市民政局 (the world's gateway signs as its operator) as a
    version of HZ-MZ-DIBAO, then the second erased: on chain, in the gateway's database and in
    the owner's sidecar. Indexed, so the served portal knows it."""
    gateway = world.gateway
    dataset = bytes.fromhex(world.report.datasets[DIBAO][2:])
    received = tmp_path / "received"
    owner = tmp_path / "owner"
    received.mkdir()
    owner.mkdir()
    data = owner / NAME
    write_csv(data, [HEADER, *ROWS])
    anchored = gateway.anchorer().anchor(prepare_path(data, dataset, records=True))
    sidecar = owner / (NAME + ".salts.json")
    # A department that received the records before keeps them with their salts.
    shutil.copy(data, received / NAME)
    shutil.copy(sidecar, received / (NAME + ".salts.json"))
    salts = hashing.read_salts(sidecar)
    leaves = [
        "0x" + merkle.leaf_hash(merkle.RECORD_LEAF_TYPES, [e.record_hash, e.salt]).hex()
        for e in hashing.hash_records(data, salts=salts).entries
    ]
    gateway.indexer().sync()
    erased = gateway.eraser().erase(
        dataset=dataset,
        leaves=[bytes.fromhex(leaves[ERASED_ROW][2:])],
        reason=REASON,
        rows=[ERASED_ROW],
        salts_path=sidecar,
    )
    gateway.indexer().sync()
    # The owner blanks the erased row in its copy, keeping it in place.
    blank = [list(row) for row in ROWS]
    blank[ERASED_ROW] = ["", "", ""]
    write_csv(data, [HEADER, *blank])
    assert hashing.read_salts(sidecar).erased_rows == (ERASED_ROW,)
    version = "0x" + version_id(dataset, bytes.fromhex(anchored.root[2:])).hex()
    detail = world.read(queries.get_dataset, dataset_id=world.report.datasets[DIBAO])
    [listed] = [v for v in detail["versions"] if v["id"] == version]
    [erasure] = listed["erasures"]
    assert erasure["id"] == erased.erasure_id and erasure["count"] == 1
    return Erasure(
        data=received / NAME,
        salts=received / (NAME + ".salts.json"),
        owner_data=data,
        owner_salts=sidecar,
        leaves=leaves,
        root=anchored.root,
        version=version,
        erased=erased,
        erased_at=erasure["erased_at"],
    )


def secrets_of(erasure: Erasure) -> list[str]:
    """What must never leave the page: the salts (the erased one too) and the rows' values."""
    salts = json.loads(erasure.salts.read_text(encoding="utf-8"))["salts"]
    return [*salts, *(value for row in ROWS for value in row)]


def no_alarm(page: Page) -> None:
    """Nothing on the result says tampered, altered or not anchored."""
    shown = page.locator("#result").inner_text()
    assert not ALARM.search(shown), shown
    assert "未存证" not in shown and "not anchored" not in shown.lower(), shown


# --------------------------------------------------------------------------- verify page


def test_an_erased_record_is_said_erased_by_its_leaf_and_with_its_original_salts(
    page: Page, world: World, erasure: Erasure, sent: Sent
) -> None:
    zone = world.settings.timezone
    when = erasure.wall_clock(zone)
    sign_in(page, world)

    # By its leaf, pasted: erased, on which date, by 杭州市民政局.
    page.fill("#hash", erasure.leaves[ERASED_ROW])
    page.click("#hash-form button[type=submit]")
    verdict = verdicts(page)
    expect(verdict).to_have_attribute("data-status", "erased")
    expect(verdict).to_have_class(re.compile(r"\bverdict-bad\b"))
    expect(verdict.locator("h2")).to_contain_text("记录已删除")
    expect(verdict).to_contain_text(f"此记录已由 {CIVIL} 于 {when} 删除")
    expect(verdict.locator("time")).to_have_attribute("datetime", erasure.erased_at)
    card = page.locator("#result article.match")
    expect(card).to_have_count(1)
    expect(card).to_have_attribute("data-root", erasure.root)
    expect(card).to_have_attribute("data-erasure", erasure.erased.erasure_id)
    expect(card.locator(".badge[data-status='erased']")).to_have_text("记录已删除")
    by = card.locator("dt", has_text="删除部门").locator("xpath=following-sibling::dd")
    expect(by).to_have_text(CIVIL)
    assert erasure.erased.transaction is not None
    expect(card.locator(f"code[title='{erasure.erased.transaction}']")).to_have_count(1)
    expect(card.locator(f"code[title='{erasure.erased.erased_root}']")).to_have_count(1)
    no_alarm(page)

    # The same in English.
    page.goto(world.base + "/?lang=en")
    page.fill("#hash", erasure.leaves[ERASED_ROW])
    page.click("#hash-form button[type=submit]")
    expect(verdicts(page)).to_have_attribute("data-status", "erased")
    expect(verdicts(page).locator("h2")).to_contain_text("Record erased")
    expect(verdicts(page)).to_contain_text(f"This record was erased on {when} by {CIVIL}")
    no_alarm(page)

    # The records with the salts someone received before the erasure: the rows make the whole
    # version, whose erasure makes the page ask about every row; the erased one is said erased,
    # when and by whom, the others anchored.
    page.goto(world.base + "/?lang=zh")
    sent.requests.clear()
    drop(page, erasure.data, erasure.salts)
    verdict = verdicts(page)
    expect(verdict).to_have_attribute("data-status", "records-erased")
    expect(verdict).to_have_attribute("data-matched", "2")
    expect(verdict).to_have_attribute("data-erased", "1")
    expect(verdict).to_have_attribute("data-missing", "0")
    expect(verdict).to_contain_text("部分记录已被删除")
    expect(verdict).to_contain_text("2 条记录在已存证的数据集版本中；另有 1 条记录已被其所有者删除")
    expect(verdict.locator(f"code[title='{erasure.root}']")).to_have_count(1)  # recomputed
    expect(page.locator("#result [data-notice='version-erasures']")).to_contain_text(
        "此版本中有 1 条记录已被其所有者删除"
    )
    gone = page.locator("#records-erased tbody tr")
    expect(gone).to_have_count(1)
    expect(gone).to_have_attribute("data-row", "2")
    expect(gone).to_have_attribute("data-state", "erased")
    expect(gone).to_contain_text(f"已删除 {when} 由 {CIVIL} 删除")
    expect(gone.locator(f"code[title='{erasure.leaves[ERASED_ROW]}']")).to_have_count(1)
    matched = page.locator("#records-matched tbody tr")
    expect(matched).to_have_count(2)
    assert [r.get_attribute("data-row") for r in matched.all()] == ["1", "3"]
    assert [r.get_attribute("data-state") for r in matched.all()] == ["match", "match"]
    expect(page.locator("#records-missing")).to_have_count(0)
    no_alarm(page)
    # Asked: every row's leaf, the version's dataset (for its erasures) and the file's SHA-256
    # (then, in no version, its SM3 digest: docs/SM3.md).
    dataset = world.report.datasets[DIBAO]
    settled(page)
    assert sorted(sent.hashes("/v1/verify")) == sorted(
        [*erasure.leaves, sha256_of(erasure.data), sm3_of(erasure.data)]
    )
    asked = [urlsplit(url) for method, url, _ in sent.requests]
    assert [p.path for p in asked if p.path.startswith("/v1/datasets")] == [
        f"/v1/datasets/{dataset}"
    ]
    sent.only_hashes()
    sent.never(secrets_of(erasure))

    # The dataset page lists the erasure under its version: how many, when, by whom, in which
    # transaction; nothing names a record (no leaf, no row).
    page.goto(f"{world.base}/datasets/{dataset}")
    line = page.locator(f"#versions tr.version-erasures[data-version='{erasure.version}']")
    expect(line).to_have_count(1)
    item = line.locator(f"li[data-erasure='{erasure.erased.erasure_id}']")
    expect(item).to_have_attribute("data-count", "1")
    expect(item).to_contain_text("删除 1 条记录")
    expect(item).to_contain_text(when)
    expect(item.locator("time")).to_have_attribute("datetime", erasure.erased_at)
    expect(item).to_contain_text(f"删除部门 {CIVIL}")
    expect(item.locator(f"code[title='{erasure.erased.transaction}']")).to_have_count(1)
    expect(page.locator("#erasures-note")).to_be_visible()
    versions = page.locator("#versions").inner_text()
    for leaf in erasure.leaves:
        assert leaf[2:10] not in versions and leaf[-6:] not in versions, leaf
    assert not any(value in versions for row in ROWS for value in row)
    # The row is the version's own: right under it.
    expect(page.locator(f"#v-{erasure.version} + tr.version-erasures")).to_have_count(1)
    page.goto(f"{world.base}/datasets/{dataset}?lang=en")
    expect(item).to_contain_text("1 record(s) erased")
    expect(item).to_contain_text(f"by {CIVIL}")


def test_a_record_whose_version_has_erasures_this_gateway_cannot_name_says_so(
    axe_page: Page, world: World, erasure: Erasure
) -> None:
    """The erasure's leaves journaled in another database (an erasure made with `xietong
    dataset erase` on an operator's machine): the record is still in the leaf store, so it is
    answered anchored, and its card says its version has erasures this gateway cannot name."""
    page = axe_page
    with Session(world.gateway.engine) as session:
        session.execute(delete(ErasedLeaf))
        session.commit()
    world.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
    world.gateway.indexer().sync()  # a new generation of the index: nothing kept answers
    sign_in(page, world)
    page.fill("#hash", erasure.leaves[ERASED_ROW])
    page.click("#hash-form button[type=submit]")
    expect(verdicts(page)).to_have_attribute("data-status", "anchored")
    notice = page.locator("#result article.match [data-notice='unattributed-erasures']")
    expect(notice).to_have_text(
        "此版本中有 1 条记录已被其所有者删除（链上有删除记录），本网关不知道是哪几条："
        "此记录是否在其中，由执行删除的网关回答。"
    )
    page.goto(world.base + "/?lang=en")
    page.fill("#hash", erasure.leaves[0])
    page.click("#hash-form button[type=submit]")
    expect(verdicts(page)).to_have_attribute("data-status", "anchored")
    expect(notice).to_contain_text("Its owner erased 1 records of this version")
    assert axe_violations(page) == []


def test_the_owners_shredded_sidecar_shows_the_erased_row_and_checks_the_others(
    page: Page, world: World, erasure: Erasure, sent: Sent, tmp_path: Path
) -> None:
    sign_in(page, world)

    # The owner's blanked file with its sidecar: matched by format and row count (its SHA-256
    # is not the sidecar's any more), the erased row not asked about, the others anchored.
    assert (
        sha256_of(erasure.owner_data)[2:]
        != json.loads(erasure.owner_salts.read_text())["source_sha256"]
    )
    drop(page, erasure.owner_data, erasure.owner_salts)
    verdict = verdicts(page)
    expect(verdict).to_have_attribute("data-status", "records-erased")
    expect(verdict).to_have_attribute("data-matched", "2")
    expect(verdict).to_have_attribute("data-erased", "1")
    expect(verdict).to_contain_text("2 条记录在已存证的数据集版本中；另有 1 条记录已被其所有者删除")
    expect(verdict).not_to_contain_text("按盐值重算的根哈希")  # no root without every salt
    notice = page.locator("#result [data-notice='erased-rows']")
    expect(notice).to_contain_text("盐值文件中有 1 条记录（记录 2）的盐值已销毁")
    expect(notice).to_contain_text("无法重算整个文件的根哈希")
    expect(page.locator("#result [data-notice='salts-other-bytes']")).to_have_count(0)
    gone = page.locator("#records-erased tbody tr")
    expect(gone).to_have_count(1)
    expect(gone).to_have_attribute("data-row", "2")
    expect(gone).to_have_attribute("data-state", "erased")
    expect(gone).to_have_attribute("data-salt", "destroyed")
    expect(gone).to_contain_text("已删除（盐值已销毁，未核验）")
    matched = page.locator("#records-matched tbody tr")
    expect(matched).to_have_count(2)
    assert [r.get_attribute("data-state") for r in matched.all()] == ["match", "match"]
    for row in matched.all():
        expect(row.locator(f"a[href*='#v-{erasure.version}']")).to_have_count(1)
    no_alarm(page)
    kept = [erasure.leaves[0], erasure.leaves[2]]
    settled(page)
    assert sorted(sent.hashes("/v1/verify")) == sorted(
        [*kept, sha256_of(erasure.owner_data), sm3_of(erasure.owner_data)]
    )
    sent.only_hashes()  # no dataset lookup: no root was recomputed
    sent.never(secrets_of(erasure))

    page.goto(world.base + "/?lang=en")
    drop(page, erasure.owner_salts, erasure.owner_data)
    expect(verdicts(page)).to_contain_text(
        "Records in an anchored dataset version: 2. Records their owner erased: 1"
    )
    expect(page.locator("#records-erased tbody tr")).to_contain_text(
        "erased (salt destroyed, not checked)"
    )
    no_alarm(page)

    # The sidecar alone says it holds an erased record.
    page.goto(world.base + "/?lang=zh")
    drop(page, erasure.owner_salts)
    expect(verdicts(page)).to_have_attribute("data-status", "salts-only")
    expect(verdicts(page)).to_contain_text("其中 1 条记录的盐值已销毁（记录已删除）。")

    # A file that lost a row (removed, not blanked) cannot be paired with it.
    removed = tmp_path / NAME
    write_csv(removed, [HEADER, ROWS[0], ROWS[2]])
    drop(page, removed, erasure.owner_salts)
    expect(verdicts(page)).to_have_attribute("data-status", "salts-other-file")
    expect(verdicts(page)).to_contain_text("含已删除的记录，因此按记录数与数据文件配对")
    expect(verdicts(page)).to_contain_text("而 dibao-erase.csv 读出 2 条，无法配对")


#: Sidecars read by Python's read_salts and the page: each accepted by both, or refused by
#: both (the page's reason named).
SALT = [f"a{i}" * 32 for i in range(4)]
HEAD = {
    "format": "xietong-salts/1",
    "source": NAME,
    "source_sha256": "ab" * 32,
    "record_format": "csv",
}
SIDECAR_CASES: list[tuple[list[Any], str | None]] = [
    ([SALT[0], None, SALT[2]], None),
    ([None, None, None], None),  # every record erased: the salts set still has its rows
    ([None, SALT[1], None], None),
    ([SALT[0], None, SALT[0]], "salts_repeat"),  # nulls are not salts, repeats are refused
    ([SALT[0], "null", SALT[2]], "salts_hex"),
    ([SALT[0], "", SALT[2]], "salts_hex"),
    ([SALT[0], 0, SALT[2]], "salts_hex"),
    ([SALT[0], SALT[1].upper(), SALT[2]], "salts_hex"),
]

READ_SIDECAR = """(bytes) => {
  const records = window.xietongRecords;
  try {
    const salts = records.readSidecar(new Uint8Array(bytes));
    return {salts: salts.salts, erased: salts.erased};
  } catch (error) {
    if (!(error instanceof records.RecordsError)) throw error;
    return {error: error.code};
  }
}"""


def test_the_page_reads_sidecars_with_erased_records_as_python_does(
    page: Page, world: World, tmp_path: Path
) -> None:
    sign_in(page, world)
    for index, (salts, refusal) in enumerate(SIDECAR_CASES):
        content = json.dumps({**HEAD, "rows": len(salts), "salts": salts}).encode()
        path = tmp_path / f"{index}.salts.json"
        path.write_bytes(content)
        got = page.evaluate(READ_SIDECAR, list(content))
        if refusal is None:
            read = hashing.read_salts(path)
            assert got["salts"] == [None if s is None else s.hex() for s in read.values], index
            assert got["erased"] == list(read.erased_rows), index
        else:
            with pytest.raises(HashingError):
                hashing.read_salts(path)
            assert got == {"error": refusal}, (index, got)


# --------------------------------------------------------------------------- accessibility


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_erased_states_have_no_wcag_21_aa_violation(
    axe_page: Page, world: World, erasure: Erasure, lang: str
) -> None:
    page = axe_page
    sign_in(page, world)
    page.goto(f"{world.base}/?lang={lang}")
    found: dict[str, Any] = {}

    def check(state: str, status: str) -> None:
        verdict_audit(page, found, state, status)

    page.fill("#hash", erasure.leaves[ERASED_ROW])
    page.click("#hash-form button[type=submit]")
    check("an erased record, by its leaf", "erased")
    drop(page, erasure.data, erasure.salts)
    page.locator("details.records-matched summary").click()  # the folded table, open
    check("records with the original salts", "records-erased")
    drop(page, erasure.owner_data, erasure.owner_salts)
    expect(page.locator("#result [data-notice='erased-rows']")).to_be_visible()
    check("records with the shredded salts", "records-erased")
    page.goto(f"{world.base}/datasets/{world.report.datasets[DIBAO]}")
    expect(page.locator("tr.version-erasures")).to_have_count(1)
    found["the dataset page"] = axe_violations(page)
    violations = {state: v for state, v in found.items() if v}
    assert not violations, json.dumps(violations, ensure_ascii=False, indent=1)

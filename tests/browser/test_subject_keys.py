"""Records whose salts come from subject keys (docs/ERASURE.md), checked on the verify page:
杭州市民政局 anchors a file with a subject column (its sidecar is xietong-salts/2). Dropped
with the department's subject key store, the page derives the salts in the browser (WebCrypto
HMAC-SHA256, against the vectors computed with OpenSSL) and finds the version; without the
store it says what is missing; with a store where a subject's key was destroyed, that subject's
rows are erased and not asked about. No salt, key or row value leaves the page.

Debian's Chromium driven by Playwright against the real app over a real Hardhat node with the
demo played (the ``world`` of conftest.py)."""

from __future__ import annotations

import csv
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from ledger import hashing
from ledger.anchoring import prepare_path
from ledger.demo import DIBAO
from ledger.paths import PROJECT_ROOT
from tests.browser._portal import PORTAL_MARKS, Sent, World, sign_in
from tests.browser.test_verify_page import drop, settled, verdicts

pytestmark = PORTAL_MARKS

VECTORS = json.loads((PROJECT_ROOT / "tests" / "vectors" / "subject_keys.json").read_text())
HEADER = ["编号", "姓名", "身份证号"]
WANG, LI = "330106199001011234", "330106198502023456"
ROWS = [["S1", "王明", WANG], ["S2", "李华", LI], ["S3", "王明", WANG]]


@dataclass
class SubjectVersion:
    data: Path
    salts: Path
    store: Path
    root: str


@pytest.fixture
def subject_version(world: World, tmp_path: Path) -> SubjectVersion:
    dataset = bytes.fromhex(world.report.datasets[DIBAO][2:])
    data = tmp_path / "dibao-subjects.csv"
    with data.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([HEADER, *ROWS])
    store = tmp_path / "subject-keys.json"
    prepared = prepare_path(
        data, dataset, records=True, subject_column="身份证号", subject_keys=store
    )
    anchored = world.gateway.anchorer().anchor(prepared)
    world.gateway.indexer().sync()
    salts = tmp_path / (data.name + ".salts.json")
    assert json.loads(salts.read_text())["format"] == "xietong-salts/2"
    return SubjectVersion(data, salts, store, anchored.root)


def secrets_of(version: SubjectVersion) -> list[str]:
    """Salts, keys, tags and row values: none may leave the page."""
    salts = hashing.read_salts(version.salts, subject_keys=version.store)
    store = json.loads(version.store.read_text())
    return [
        *(s.hex() for s in salts.values if s),
        *store["subjects"],
        *(k for k in store["subjects"].values() if k),
        store["tag_key"],
        *(value for row in ROWS for value in row),
    ]


def test_the_page_derives_subject_salts_as_the_vectors_say(page: Page, world: World) -> None:
    sign_in(page, world)
    page.wait_for_function("Boolean(window.xietongRecords)")
    derived = page.evaluate(
        """async ([store, sidecar]) => {
          const records = window.xietongRecords, text = (o) => new TextEncoder().encode(JSON.stringify(o));
          const salts = records.readSidecar(text(sidecar));
          const done = await records.deriveSubjectSalts(salts, [records.readSubjectKeys(text(store))]);
          return [done.salts, done.erased];
        }""",
        [VECTORS["store"], VECTORS["sidecar"]],
    )
    assert derived == [VECTORS["salts"], [3]]
    # What Python refuses, the page refuses too, each with its own reason.
    refused = page.evaluate(
        """async ([store, sidecar, cases]) => {
          const records = window.xietongRecords, text = (o) => new TextEncoder().encode(JSON.stringify(o));
          const keys = records.readSubjectKeys(text(store));
          const codes = [];
          for (const c of cases) {
            const bad = JSON.parse(JSON.stringify(sidecar));
            Object.assign(bad, c.change || {});
            if ("row" in c) bad.salts[c.row] = c.entry;
            try {
              await records.deriveSubjectSalts(records.readSidecar(text(bad)), [keys]);
              codes.push(null);
            } catch (error) {
              codes.push(error.code);
            }
          }
          return codes;
        }""",
        [VECTORS["store"], VECTORS["sidecar"], VECTORS["bad_sidecars"]],
    )
    assert refused == [case["js"] for case in VECTORS["bad_sidecars"]]


def test_records_with_subject_keys_are_checked_in_the_browser(
    page: Page, world: World, subject_version: SubjectVersion, sent: Sent, tmp_path: Path
) -> None:
    version = subject_version
    sign_in(page, world)
    drop(page, version.data, version.salts, version.store)
    verdict = verdicts(page)
    expect(verdict).to_have_attribute("data-status", "records-anchored")
    expect(verdict).to_have_attribute("data-rows", "3")
    expect(verdict.locator(f"code[title='{version.root}']")).to_have_count(1)
    settled(page)
    sent.never(secrets_of(version))

    # Without the store: the sidecar cannot give its salts, and the page says what to add.
    page.goto(world.base + "/?lang=zh")
    drop(page, version.data, version.salts)
    bad = page.locator("#result .verdict[data-status='bad-salts']")
    expect(bad).to_contain_text(
        f"{version.salts.name} 的记录盐值由主体密钥生成：请将本部门的主体密钥库（subject-keys.json）与它一同选择。"
    )
    page.goto(world.base + "/?lang=en")
    drop(page, version.data, version.salts)
    expect(page.locator("#result .verdict[data-status='bad-salts']")).to_contain_text(
        "derives its records' salts from subject keys: choose the department's subject key "
        "store (subject-keys.json) with it."
    )

    # Another department's store, or a broken one: each refused in one sentence.
    other = tmp_path / "other" / "subject-keys.json"
    other.parent.mkdir()
    hashing.SubjectKeys.open(other, create=True).save()
    drop(page, version.data, version.salts, other)
    expect(page.locator("#result .verdict[data-status='bad-salts']")).to_contain_text(
        "was made with another subject key store than the one chosen."
    )
    broken = tmp_path / "broken" / "subject-keys.json"
    broken.parent.mkdir()
    broken.write_text(json.dumps({**json.loads(version.store.read_text()), "id": "0f"}))
    drop(page, version.data, version.salts, broken)
    expect(page.locator("#result .verdict").first).to_contain_text(
        "subject-keys.json is not a usable subject key store (its id is not valid)."
    )

    # 王明's key destroyed (his records erased): his two rows are erased and not asked about,
    # 李华's row is found.
    destroyed = tmp_path / "destroyed" / "subject-keys.json"
    destroyed.parent.mkdir()
    shutil.copyfile(version.store, destroyed)
    store = hashing.SubjectKeys.open(destroyed)
    store.destroy(WANG)
    store.save()
    sent.requests.clear()
    page.goto(world.base + "/?lang=zh")
    drop(page, version.data, version.salts, destroyed)
    verdict = verdicts(page)
    expect(verdict).to_have_attribute("data-erased", "2")
    expect(verdict).to_have_attribute("data-matched", "1")
    expect(verdict).to_have_attribute("data-missing", "0")
    settled(page)
    sent.never(secrets_of(version))

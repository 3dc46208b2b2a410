"""Governance, amendments and the auditor's review of access receipts in a real browser: on the
demo consortium, membership proposals are made (one left to expire, two left open, a
suspension and a readmission carried out), the 低保 agreement is amended, an agreement is
withdrawn, and the consumer records a receipt whose period straddles its own suspension; the
portal's pages must show all of it, flag that receipt and no other, and export the review as
CSV."""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from ledger import demo
from ledger.chain.client import SentTransaction
from ledger.chain.enums import ProposalKind
from ledger.consent import accept_agreement, amend_agreement, propose_agreement
from ledger.db import queries
from ledger.governance import approve_proposal, membership_proposal, propose_membership
from ledger.ids import AgreementTerms, code_hash, department_id
from ledger.keys import dev_account
from tests.browser._browser import TIMEOUT_MS, new_context
from tests.browser._portal import AXE, CIVIL, PORTAL_MARKS, World, axe_violations, sign_in
from tests.browser.test_portal import Shot
from tests.browser.test_portal import screenshots as screenshots
from tests.browser.test_portal import shot as _shot

pytestmark = PORTAL_MARKS
#: The screenshots go where test_portal's go (a temporary folder unless asked otherwise).
shot = _shot

DAY = 86_400
#: The name an admission proposes: the civil affairs bureau's, with a zero-width space.
HOSTILE_NAME = "杭州市民政局\u200b"
NEW_CODE = "11330100MB1A00009X"
INACTIVE_ZH = "访问期间内，提供方或使用方曾处于暂停状态"
INACTIVE_EN = "The provider or the consumer was suspended at some moment of the period"


@dataclass
class Scene:
    """What ``play`` did on chain, indexed."""

    expired: int  # grant-auditor proposal left past its lifetime
    grant: int  # grant-auditor proposal, open (the account has not accepted)
    admission: int  # admission of a department with a look-alike name, open
    suspension: int  # PSB suspended: executed
    readmission: int  # PSB readmitted: executed
    old: str  # the demo's 低保 agreement, superseded by its amendment
    amendment: str
    withdrawn: str
    receipts: int  # receipts in all (the demo's two, honest, and the flagged one)


def _hex(value: bytes) -> str:
    return "0x" + value.hex()


def play(world: World) -> Scene:
    client, w3 = world.gateway.client, world.w3
    psb, civil, health = dev_account(1), dev_account(2), dev_account(3)
    psb_code = demo.PSB[0]

    def now() -> int:
        return int(w3.eth.get_block("latest")["timestamp"])

    def block_time(tx: SentTransaction) -> int:
        return int(w3.eth.get_block(tx.block_number)["timestamp"])

    def grant_auditor(index: int) -> int:
        proposal = membership_proposal("grant-auditor", account=dev_account(index).address)
        return propose_membership(client, civil, proposal)[0]

    # A proposal left open past its lifetime (a week): expired.
    expired = grant_auditor(7)
    w3.provider.make_request("evm_increaseTime", [8 * DAY])  # type: ignore[arg-type]
    w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
    grant = grant_auditor(5)
    # An admission proposed straight to the contract (the CLI refuses such a name).
    admitted = client.transact(
        "DepartmentRegistry",
        "propose",
        int(ProposalKind.ADMIT),
        department_id(NEW_CODE),
        HOSTILE_NAME,
        dev_account(6).address,
        sender=health,
    )
    admission = int(admitted.event("ProposalCreated")["proposalId"])

    # 民政局 amends the 低保 agreement; 公安局 accepts: the amendment supersedes it.
    old = world.report.agreements["dibao-to-psb"]
    start = now()
    terms = AgreementTerms(
        provider=department_id(demo.CIVIL[0]),
        consumer=department_id(psb_code),
        dataset_ids=(bytes.fromhex(world.report.datasets[demo.DIBAO][2:]),),
        purpose=code_hash("eligibility-check 低保资格核查"),
        legal_basis=code_hash("《社会救助暂行办法》第十一条"),
        terms_hash=code_hash("低保数据共享协议（修订）"),
        valid_from=start - 60,
        valid_until=start + 180 * DAY,
    )
    amendment, _ = amend_agreement(client, civil, bytes.fromhex(old[2:]), terms)
    accepted_at = block_time(accept_agreement(client, psb, amendment))

    # 公安局 is suspended, then readmitted (2 of 3 approvals each time).
    suspension, _ = propose_membership(
        client, civil, membership_proposal("suspend", department=psb_code)
    )
    suspended = approve_proposal(client, health, suspension)
    assert any(name == "DepartmentSuspended" for name, _ in suspended.events)
    readmission, _ = propose_membership(
        client, civil, membership_proposal("readmit", department=psb_code)
    )
    readmitted = approve_proposal(client, health, readmission)
    assert any(name == "DepartmentReadmitted" for name, _ in readmitted.events)
    assert block_time(suspended) > accepted_at

    # Readmitted, it records a receipt whose period runs through its suspension: the contract
    # takes it (it is active now, the period inside the agreement's window); the review flags it.
    client.transact(
        "SharingAgreements",
        "recordAccess",
        amendment,
        b"\x11" * 32,
        7,
        accepted_at,
        now(),
        sender=psb,
    )

    # An agreement proposed to the health commission and withdrawn before any answer.
    withdrawn, _ = propose_agreement(
        client,
        civil,
        AgreementTerms(
            provider=department_id(demo.CIVIL[0]),
            consumer=department_id(demo.HEALTH[0]),
            dataset_ids=(bytes.fromhex(world.report.datasets[demo.DIBAO][2:]),),
            purpose=code_hash("statistics 统计分析"),
            legal_basis=code_hash("《统计法》"),
            terms_hash=code_hash("撤回的协议"),
            valid_from=start,
            valid_until=start + 30 * DAY,
        ),
    )
    client.transact("SharingAgreements", "withdraw", withdrawn, sender=civil)
    world.gateway.indexer().sync()
    return Scene(
        expired=expired,
        grant=grant,
        admission=admission,
        suspension=suspension,
        readmission=readmission,
        old=old,
        amendment=_hex(amendment),
        withdrawn=_hex(withdrawn),
        receipts=world.report.receipts + 1,
    )


def read_csv(page: Page, world: World, href: str) -> list[dict[str, str]]:
    exported = page.request.get(world.base + href, timeout=TIMEOUT_MS)  # the portal's cookie
    assert exported.status == 200, exported.text()
    assert exported.headers["content-type"].startswith("text/csv")
    assert "attachment" in exported.headers["content-disposition"]
    body = exported.body()
    assert body.startswith(b"\xef\xbb\xbf")  # UTF-8, for Excel
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))


# --------------------------------------------------------------------------- tests


def test_governance_proposals_board_and_detail(page: Page, world: World, shot: Shot) -> None:
    scene = play(world)
    sign_in(page, world, "/proposals")
    expect(page.get_by_role("navigation", name="主导航")).to_contain_text("成员治理")
    rows = page.locator("#proposals tbody tr")
    expect(rows).to_have_count(5)
    statuses = {
        scene.expired: ("expired", "已过期", "grant-auditor"),
        scene.grant: ("open", "待批准", "grant-auditor"),
        scene.admission: ("open", "待批准", "admit"),
        scene.suspension: ("executed", "已执行", "suspend"),
        scene.readmission: ("executed", "已执行", "readmit"),
    }
    for proposal, (status, label, kind) in statuses.items():
        row = page.locator(f"tr[data-proposal='{proposal}']")
        expect(row).to_have_attribute("data-kind", kind)
        expect(row.locator(".badge")).to_have_attribute("data-status", status)
        expect(row.locator(".badge")).to_have_text(label)
    # Who proposed, and whom it concerns, by name.
    suspension = page.locator(f"tr[data-proposal='{scene.suspension}']")
    expect(suspension).to_contain_text("暂停部门")
    expect(suspension.locator("td").nth(2)).to_contain_text(CIVIL)
    expect(suspension.locator("td").nth(3)).to_contain_text("杭州市公安局")
    expect(suspension.locator("td.num")).to_have_text("2")
    # The proposed name is chain data: its zero-width space shown as an escape, flagged, and
    # the department's id beside it.
    admission = page.locator(f"tr[data-proposal='{scene.admission}']")
    expect(admission).to_contain_text("杭州市民政局\\u200b")
    warning = admission.locator(".name-warning")
    expect(warning).to_have_attribute("data-flags", "zero-width lookalike")
    expect(warning).to_contain_text(_hex(department_id(NEW_CODE)))
    assert "\u200b" not in page.locator("main").inner_text()
    shot(page, "proposals")

    page.select_option("#f-status", "executed")
    page.click("form[action='/proposals'] button[type=submit]")
    expect(page).to_have_url(re.compile(r"status=executed"))
    expect(rows).to_have_count(2)
    page.select_option("#f-status", "expired")
    page.click("form[action='/proposals'] button[type=submit]")
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-proposal", str(scene.expired))

    # A suspension: its facts and its history, down to the department it suspended.
    page.goto(f"{world.base}/proposals/{scene.suspension}")
    expect(page.locator("h1")).to_contain_text(f"成员治理提案 #{scene.suspension}")
    expect(page.locator("h1 .badge")).to_have_text("已执行")
    facts = page.locator("dl.facts")
    expect(facts).to_contain_text("暂停部门")
    expect(facts).to_contain_text("杭州市公安局")
    history = [r.get_attribute("data-event") for r in page.locator("tr[data-event]").all()]
    assert history == [
        "ProposalCreated",
        "ProposalApproved",
        "ProposalApproved",
        "ProposalExecuted",
        "DepartmentSuspended",
    ]
    expect(page.locator("tr[data-event='ProposalExecuted'] [data-note='approvals']")).to_have_text(
        "已获批准 2/2"
    )
    shot(page, "proposal")

    # An admission: the proposed name, escaped, with its flags and id; its first operator.
    page.goto(f"{world.base}/proposals/{scene.admission}?lang=en")
    expect(page.locator("h1 .badge")).to_have_text("Open")
    facts = page.locator("dl.facts")
    expect(facts).to_contain_text("Admit a department")
    expect(facts).to_contain_text("杭州市民政局\\u200b")
    expect(facts.locator(".name-warning")).to_have_attribute("data-flags", "zero-width lookalike")
    expect(facts).to_contain_text("First operator")
    assert "\u200b" not in page.locator("main").inner_text()
    history = [r.get_attribute("data-event") for r in page.locator("tr[data-event]").all()]
    assert history == ["ProposalCreated", "ProposalApproved"]

    for missing in ("999", "0", "x", "1" * 30):
        response = page.goto(f"{world.base}/proposals/{missing}")
        assert response is not None and response.status == 404
        expect(page.get_by_test_id("error")).to_contain_text("no such membership proposal")


def test_amended_and_withdrawn_agreements(page: Page, world: World, shot: Shot) -> None:
    scene = play(world)
    sign_in(page, world, "/agreements")
    for agreement, status, label in (
        (scene.old, "superseded", "已被取代"),
        (scene.amendment, "active", "生效中"),
        (scene.withdrawn, "withdrawn", "已撤回"),
    ):
        badge = page.locator(f"tr[data-agreement='{agreement}'] .badge")
        expect(badge).to_have_attribute("data-status", status)
        expect(badge).to_have_text(label)
    shot(page, "agreements-amended")
    page.goto(world.base + "/agreements?lang=en")
    expect(page.locator(f"tr[data-agreement='{scene.old}'] .badge")).to_have_text("Superseded")
    expect(page.locator(f"tr[data-agreement='{scene.withdrawn}'] .badge")).to_have_text("Withdrawn")

    # The superseded agreement: which agreement took its place, and its history says so.
    page.goto(f"{world.base}/agreements/{scene.old}?lang=zh")
    facts = page.locator("dl.facts")
    expect(facts.locator(f"a[href='/agreements/{scene.amendment}']")).to_have_count(2)
    history = [r.get_attribute("data-event") for r in page.locator("tr[data-event]").all()]
    assert history[:2] == ["AgreementProposed", "AgreementAccepted"]
    assert history[-2:] == ["AgreementProposed", "AgreementSuperseded"]
    proposed = page.locator(f"tr[data-event='AgreementProposed'][data-subject='{scene.amendment}']")
    expect(proposed.locator("[data-note='amendment']")).to_contain_text("修订（接受后取代）")
    expect(proposed.locator(f"a[href='/agreements/{scene.old}']")).to_have_count(1)
    superseded = page.locator("tr[data-event='AgreementSuperseded'] [data-note='superseded']")
    expect(superseded.locator(f"a[href='/agreements/{scene.amendment}']")).to_have_count(1)
    # Its two receipts (the demo's) are within its scope and validity.
    expect(page.locator("#receipts tbody tr")).to_have_count(2)
    expect(page.locator("#receipts [data-flag='none']")).to_have_count(2)
    shot(page, "agreement-superseded")

    # The amendment names what it supersedes; its receipt is flagged.
    page.goto(f"{world.base}/agreements/{scene.amendment}")
    expect(page.locator("h1 .badge")).to_have_text("生效中")
    expect(page.locator(f"dl.facts a[href='/agreements/{scene.old}']")).to_have_count(1)
    [receipt] = page.locator("#receipts tbody tr").all()
    expect(receipt).to_have_attribute("data-flags", "department-inactive")
    expect(receipt.locator("[data-flag='department-inactive']")).to_contain_text(INACTIVE_ZH)
    page.click("#review-link")
    expect(page).to_have_url(re.compile(rf"/audit/receipts\?agreement={scene.amendment}$"))
    expect(page.locator("#receipts tbody tr")).to_have_count(1)

    page.goto(f"{world.base}/agreements/{scene.withdrawn}")
    expect(page.locator("h1 .badge")).to_have_attribute("data-status", "withdrawn")
    history = [r.get_attribute("data-event") for r in page.locator("tr[data-event]").all()]
    assert history == ["AgreementProposed", "AgreementWithdrawn"]


def test_the_receipts_review_flags_use_outside_scope_and_exports_it(
    page: Page,
    world: World,
    shot: Shot,
) -> None:
    scene = play(world)
    sign_in(page, world, "/audit")
    page.click("nav.tabs a[href='/audit/receipts']")
    expect(page).to_have_url(world.base + "/audit/receipts")
    expect(page.locator("nav.tabs a[aria-current='page']")).to_have_text("访问回执审查")
    rows = page.locator("#receipts tbody tr")
    expect(rows).to_have_count(scene.receipts)
    flagged = page.locator("#receipts tr[data-flags='department-inactive']")
    expect(flagged).to_have_count(1)
    expect(flagged).to_have_attribute("data-agreement", scene.amendment)
    expect(flagged.locator("[data-flag='department-inactive']")).to_contain_text(INACTIVE_ZH)
    expect(flagged.locator(".badge")).to_have_text("生效中")
    expect(flagged).to_contain_text(CIVIL)  # the provider
    expect(flagged).to_contain_text("杭州市公安局")  # the consumer
    expect(flagged).to_contain_text("低保资格核查")  # the purpose, named by the catalogue
    expect(
        flagged.locator(f"a[href='/datasets/{world.report.datasets[demo.DIBAO]}']")
    ).to_have_count(1)
    honest = page.locator("#receipts tr[data-flags='']")
    expect(honest).to_have_count(scene.receipts - 1)
    for line in honest.all():
        assert line.get_attribute("data-agreement") == scene.old
        expect(line.locator(".badge")).to_have_text("已被取代")
        expect(line.locator("[data-flag='none']")).to_have_text("未发现异常")
    page.locator("details.legend summary").click()
    expect(page.locator("details.legend dl dt")).to_have_count(len(queries.RECEIPT_FLAGS))
    shot(page, "receipts")

    # Everything, as CSV: the flagged row's flags, none on the honest ones, every column named.
    href = page.locator("#csv-export").get_attribute("href")
    assert href == "/audit/receipts.csv"
    table = read_csv(page, world, href)
    assert list(table[0]) == list(queries.RECEIPT_CSV_FIELDS)
    assert len(table) == scene.receipts
    by_flags = {(row["agreement_id"], row["receipt_index"]): row["flags"] for row in table}
    assert by_flags == {
        (scene.old, "0"): "",
        (scene.old, "1"): "",
        (scene.amendment, "0"): "department-inactive",
    }
    [row] = [r for r in table if r["flags"]]
    assert (row["provider"], row["consumer"], row["receipt_consumer"]) == (
        CIVIL,
        "杭州市公安局",
        "杭州市公安局",
    )
    assert row["agreement_status"] == "active" and row["entry_count"] == "7"
    assert row["purpose_text"] == "eligibility-check 低保资格核查"
    assert row["datasets"] == world.report.datasets[demo.DIBAO]

    # Flagged receipts only: the page and its export.
    page.select_option("#f-flagged", "1")
    page.click("#receipt-filters button[type=submit]")
    expect(page).to_have_url(re.compile(r"flagged=1"))
    expect(rows).to_have_count(1)
    href = page.locator("#csv-export").get_attribute("href")
    assert href == "/audit/receipts.csv?flagged=1"
    assert [r["flags"] for r in read_csv(page, world, href)] == ["department-inactive"]
    shot(page, "receipts-flagged")

    page.goto(world.base + "/audit/receipts?flagged=1&lang=en")
    expect(page.locator("h1")).to_have_text("Access receipts review")
    expect(flagged.locator("[data-flag='department-inactive']")).to_contain_text(INACTIVE_EN)
    shot(page, "receipts-en")

    # A malformed agreement id is said so above an empty table (and refused by the export).
    page.goto(world.base + "/audit/receipts?agreement=0x12")
    expect(page.locator(".alert-error")).to_contain_text("agreement id")
    expect(rows).to_have_count(0)
    response = page.request.get(world.base + "/audit/receipts.csv?agreement=nope")
    assert response.status == 400


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_new_pages_have_no_wcag_21_aa_violation(
    browser: Browser, world: World, lang: str
) -> None:
    scene = play(world)
    # As in test_portal: axe needs the CSP bypassed (this profile only), loaded before the page.
    context = new_context(browser, locale="zh-CN", bypass_csp=True)
    context.add_init_script(path=str(AXE))
    page = context.new_page()
    found: dict[str, Any] = {}
    try:
        sign_in(page, world, "/proposals")
        page.goto(f"{world.base}/proposals?lang={lang}")  # the language cookie for the rest
        for path in (
            "/proposals",
            "/proposals?status=open",
            f"/proposals/{scene.admission}",
            f"/proposals/{scene.suspension}",
            f"/proposals/{scene.expired}",
            "/proposals/999",
            "/agreements",
            f"/agreements/{scene.old}",
            f"/agreements/{scene.amendment}",
            f"/agreements/{scene.withdrawn}",
            "/audit/receipts",
            "/audit/receipts?flagged=1",
            "/audit/receipts?agreement=0x12",
        ):
            page.goto(world.base + path)
            page.wait_for_load_state("load")
            if path == "/audit/receipts":
                page.locator("details.legend summary").click()  # the legend open too
            assert page.evaluate("typeof axe") == "object", path
            found[path] = axe_violations(page)
    finally:
        context.close()
    violations = {path: found_here for path, found_here in found.items() if found_here}
    assert not violations, json.dumps(violations, ensure_ascii=False, indent=1)

"""The auditor portal in a real browser: Debian's Chromium driven by Playwright, against the
real app served by uvicorn over a real Hardhat node and a real (SQLite) database holding the
demo scenario. Each page's screenshot is written to a temporary folder, or to the folder named by
``XIETONG_SCREENSHOTS`` (``make screenshots`` refreshes docs/screenshots/ that way)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlmodel import Session

from api.deps import SESSION_COOKIE
from ledger.apikeys import create_api_key
from ledger.db import queries
from ledger.db.tables import CatalogueText
from ledger.demo import DIBAO, POLICY
from ledger.ids import code_hash
from ledger.keys import dev_account
from ledger.trust import load_trust
from ledger.verify import check_bundle_offline, verify_bundle
from ledger.watch import Watchers
from ledger.witness import Witness
from tests.browser._browser import TIMEOUT_MS, new_context
from tests.browser._portal import (
    ANCHORED_FILE,
    AXE,
    CIVIL,
    PORTAL_MARKS,
    World,
    axe_violations,
    sign_in,
)
from tests.browser._portal import serve_portal as _serve
from tests.ledger.watch._receiver import receiver
from tests.ledger.witness._peer import peer, signed_item
from tests.support import mistype

pytestmark = PORTAL_MARKS

Shot = Callable[[Page, str], None]


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the pages' screenshots go: never a tracked folder unless asked for."""
    chosen = os.environ.get("XIETONG_SCREENSHOTS")
    folder = Path(chosen) if chosen else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def shot(screenshots: Path) -> Shot:
    """``shot(page, name)``: a full-page screenshot of ``page`` saved as ``name``.png."""

    def take(page: Page, name: str) -> None:
        page.screenshot(path=str(screenshots / f"{name}.png"), full_page=True)
        assert (screenshots / f"{name}.png").stat().st_size > 0

    return take


# --------------------------------------------------------------------------- tests


def test_pages_need_a_read_key_and_keep_a_session_in_a_strict_httponly_cookie(
    page: Page, world: World, shot: Shot
) -> None:
    response = page.goto(world.base + "/agreements?status=active")
    assert response is not None
    assert urlsplit(page.url).path == "/login"
    assert parse_qs(urlsplit(page.url).query) == {"next": ["/agreements?status=active"]}
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    shot(page, "login")

    page.fill("#key", mistype(world.key))
    page.click("form[action='/login'] button[type=submit]")
    expect(page.get_by_test_id("login-failed")).to_be_visible()
    assert not [c for c in page.context.cookies() if c["name"] == SESSION_COOKIE]

    page.fill("#key", world.key)
    with page.expect_response(lambda r: r.url.endswith("/agreements?status=active")) as answer:
        page.click("form[action='/login'] button[type=submit]")
    assert answer.value.status == 200
    assert answer.value.headers["cache-control"] == "no-store"
    [cookie] = [c for c in page.context.cookies() if c["name"] == SESSION_COOKIE]
    assert cookie["httpOnly"] is True and cookie["sameSite"] == "Strict"
    assert cookie["secure"] is False  # plain HTTP, no trusted TLS proxy
    assert cookie["value"] != world.key and world.key not in cookie["value"]  # a session id
    # The cookie cannot be read by scripts, and the read API accepts it (same origin).
    assert SESSION_COOKIE not in page.evaluate("document.cookie")
    assert page.evaluate("fetch('/v1/departments').then(r => r.status)") == 200
    # Signing out takes a POST with the session's form token: a GET or a bare POST ends nothing.
    assert page.evaluate("fetch('/logout').then(r => r.status)") == 405
    bare = "fetch('/logout', {method: 'POST', redirect: 'manual'}).then(r => r.status)"
    assert page.evaluate(bare) == 403
    assert page.evaluate("fetch('/v1/departments').then(r => r.status)") == 200

    page.click("form[action='/logout'] button")
    expect(page).to_have_url(re.compile(r"/login\?out=1$"))
    assert not [c for c in page.context.cookies() if c["name"] == SESSION_COOKIE]
    # The session ended on the server: its id, replayed, opens nothing.
    replay = {"Cookie": f"{SESSION_COOKIE}={cookie['value']}"}
    assert page.request.get(world.base + "/v1/departments", headers=replay).status == 401
    page.goto(world.base + "/audit")
    assert urlsplit(page.url).path == "/login"


def test_verify_a_dropped_file_and_download_its_proof(page: Page, world: World, shot: Shot) -> None:
    sign_in(page, world)
    content = world.anchored_file.read_bytes()
    digest = hashlib.sha256(content).hexdigest()
    policy = world.read(queries.get_dataset, dataset_id=world.report.datasets[POLICY])
    [version] = policy["versions"]
    sent: list[tuple[str, str, bytes | None]] = []
    page.on("request", lambda r: sent.append((r.method, r.url, r.post_data_buffer)))

    page.set_input_files("#file", str(world.anchored_file))
    verdict = page.locator("#result .verdict")
    expect(verdict).to_have_attribute("data-status", "anchored")
    expect(verdict).to_contain_text("已存证")
    match = page.locator("#result article.match")
    expect(match).to_have_count(1)
    expect(match).to_contain_text(CIVIL)
    expect(match).to_contain_text(ANCHORED_FILE)
    expect(match.locator(f"[title='{version['transaction']}']")).to_be_visible()
    expect(match.locator(".badge[data-status='anchored']")).to_be_visible()
    # The dataset link leads to the version's row, keyed by its version id.
    assert version["id"] == world.version(POLICY, "policy")
    link = match.locator(f"a[href='/datasets/{policy['id']}#v-{version['id']}']")
    expect(link).to_have_count(1)
    # Only the hash left the browser: one GET with the SHA-256, no body anywhere.
    verifies = [(m, u, body) for m, u, body in sent if "/v1/verify" in u]
    assert verifies == [("GET", f"{world.base}/v1/verify?hash=0x{digest}", None)]
    assert not [body for _, _, body in sent if body and content in body]
    shot(page, "verify")

    with page.expect_download() as download_info:
        match.locator("button[data-proof-url]").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".json")
    bundle = json.loads(Path(download.path()).read_text(encoding="utf-8"))
    _, _, root = check_bundle_offline(bundle)
    assert "0x" + root.hex() == world.report.versions["policy"] == version["root"]
    assert bundle["leaf"]["values"] == ["0x" + digest, ANCHORED_FILE]
    assert bundle["format"] == "xietong-proof/3" and bundle["version_id"] == version["id"]
    trust = load_trust(world.settings.trust_path(world.w3.eth.chain_id))
    checked = verify_bundle(bundle, world.w3, trust=trust)
    assert checked.root == version["root"] and checked.dataset_id == policy["id"]
    assert checked.version_id == version["id"] and checked.publisher["name"] == CIVIL

    page.set_input_files("#file", str(world.tampered_file))
    verdict = page.locator("#result .verdict")
    expect(verdict).to_have_attribute("data-status", "not-anchored")
    expect(verdict).to_contain_text("未存证")
    expect(verdict).to_have_class(re.compile(r"verdict-bad"))
    expect(page.locator("#result article.match")).to_have_count(0)
    shot(page, "verify-not-anchored")

    # A pasted hash (with spaces and upper case) gives the same answer as the file.
    page.fill("#hash", f"  0x{digest.upper()} ")
    page.click("#hash-form button[type=submit]")
    expect(page.locator("#result .verdict")).to_have_attribute("data-status", "anchored")
    page.fill("#hash", "0x1234")
    page.click("#hash-form button[type=submit]")
    expect(page.locator("#result .verdict")).to_have_attribute("data-status", "bad-hash")


def test_the_browser_hash_fallback_matches_sha256(page: Page, world: World) -> None:
    """The chunked SHA-256 used without WebCrypto (plain HTTP elsewhere than localhost)."""
    sign_in(page, world)
    for size in (0, 1, 55, 56, 63, 64, 65, 1000, 200_003):
        data = bytes((i * 7 + size) % 256 for i in range(size))
        got = page.evaluate("bytes => xietongSha256Hex(new Uint8Array(bytes))", list(data))
        assert got == hashlib.sha256(data).hexdigest(), size


def test_datasets_and_lineage_graph(page: Page, world: World, shot: Shot) -> None:
    sign_in(page, world, "/datasets")
    rows = page.locator("#datasets tbody tr")
    expect(rows).to_have_count(2)
    dibao = world.report.datasets[DIBAO]
    expect(page.locator(f"tr[data-dataset='{dibao}']")).to_contain_text(CIVIL)
    shot(page, "datasets")

    page.fill("#find", DIBAO)  # a dataset code leads to its page
    page.click("form[role=search] button[type=submit]")
    expect(page).to_have_url(f"{world.base}/datasets/{dibao}")
    svg = page.locator("svg#lineage")
    expect(svg).to_be_visible()
    october, november = (
        world.report.versions["dibao-2026-10"],
        world.report.versions["dibao-2026-11"],
    )
    # Versions are keyed by version id (dataset and root): the edges, links and rows.
    october_id, november_id = (world.version(DIBAO, f"dibao-2026-{m}") for m in ("10", "11"))
    nodes = svg.locator("g.lineage-node")
    expect(nodes).to_have_count(2)
    assert nodes.nth(0).get_attribute("data-root") == october  # block order, left to right
    assert nodes.nth(1).get_attribute("data-root") == november
    first, second = (nodes.nth(i).locator("rect").bounding_box() for i in (0, 1))
    assert first is not None and second is not None and first["x"] < second["x"]
    edge = svg.locator(f"path.lineage-edge[data-from='{october_id}'][data-to='{november_id}']")
    expect(edge).to_have_count(1)
    expect(page.locator("#versions tbody tr")).to_have_count(2)
    expect(page.locator(f"#v-{october_id} [title='{october}']")).to_have_count(1)
    expect(page.locator(f"#v-{november_id}")).to_contain_text(CIVIL)
    parent = page.locator(f"#v-{november_id} a[href='#v-{october_id}']")  # its parent's row
    expect(parent).to_have_count(1)
    assert parent.get_attribute("title") == october_id
    nodes.nth(1).locator(f"a[href='#v-{november_id}']").click()
    expect(page).to_have_url(f"{world.base}/datasets/{dibao}#v-{november_id}")
    shot(page, "dataset")

    page.goto(world.base + "/datasets/NO-SUCH-DATASET")
    expect(page.get_by_test_id("error")).to_be_visible()


def shown_times(page: Page, scope: str) -> list[tuple[str, str, str]]:
    """(datetime attribute, text, title) of every <time> under ``scope``."""
    times: list[tuple[str, str, str]] = page.eval_on_selector_all(
        f"{scope} time",
        "nodes => nodes.map(n => [n.getAttribute('datetime'), n.textContent, n.title])",
    )
    assert times, f"no time under {scope}"
    return times


def as_wall_clock(value: str, hours: int) -> str:
    instant = datetime.fromisoformat(value).astimezone(timezone(timedelta(hours=hours)))
    return instant.strftime("%Y-%m-%d %H:%M:%S")


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "UTC"])
def test_times_are_shown_in_the_consortiums_zone_with_utc_on_hover(
    page: Page, world: World, zone: str
) -> None:
    hours = 8 if zone == "Asia/Shanghai" else 0
    server = _serve(world.settings.model_copy(update={"timezone": zone}))
    try:
        base = next(server)
        page.goto(f"{base}/datasets/{world.report.datasets[DIBAO]}")
        page.fill("#key", world.key)
        page.click("form[action='/login'] button[type=submit]")
        expect(page.locator("#versions time").first).to_be_visible()
        for value, text, title in shown_times(page, "main"):
            assert text == as_wall_clock(value, hours), (value, text)
            assert title == as_wall_clock(value, 0) + " UTC", (value, title)
        footer = page.locator(".site-footer .time-zone")
        expect(footer).to_have_attribute("data-zone", zone)
        expected = "北京时间（UTC+08:00）" if hours else "UTC（UTC+00:00）"
        expect(footer).to_contain_text(expected)
        # The verify page's answer, built by its script, shows them the same way.
        page.goto(base + "/")
        page.set_input_files("#file", str(world.anchored_file))
        expect(page.locator("#result .verdict")).to_have_attribute("data-status", "anchored")
        for value, text, title in shown_times(page, "#result"):
            assert text == as_wall_clock(value, hours), (value, text)
            assert title == as_wall_clock(value, 0) + " UTC", (value, title)
    finally:
        server.close()


def test_names_come_from_the_catalogue_checked_against_the_chain(page: Page, world: World) -> None:
    dibao = world.report.datasets[DIBAO]
    sign_in(page, world, f"/datasets/{dibao}")
    facts = page.locator("main dl").first
    expect(facts).to_contain_text(DIBAO)
    expect(facts).to_contain_text("低保名单 · 杭州市民政局")
    page.goto(world.base + "/datasets")
    expect(page.locator(f"tr[data-dataset='{dibao}'] th")).to_have_text(DIBAO)

    sharing = world.report.agreements["dibao-to-psb"]
    page.goto(f"{world.base}/agreements/{sharing}")
    purpose = page.locator("main [data-named]").filter(has_text="eligibility-check")
    expect(purpose).to_have_text("eligibility-check 低保资格核查")
    purpose_hash = "0x" + code_hash("eligibility-check 低保资格核查").hex()
    assert purpose_hash in (purpose.get_attribute("title") or "")
    expect(page.locator("main")).to_contain_text("《社会救助暂行办法》第十一条")
    expect(page.locator("main")).to_contain_text(DIBAO)  # its dataset, by code
    # …and its owner: another department may register the same code (another dataset).
    owner = page.locator(f"main a[href='/datasets/{dibao}'] + [data-owner]")
    expect(owner).to_have_text("· 杭州市民政局")
    page.goto(f"{world.base}/commitments/{world.report.commitment}")
    expect(page.locator("main")).to_contain_text("出生一件事-2026-000123")
    expect(page.locator("#participants")).to_contain_text("办理户口登记")

    # A text the catalogue no longer holds: the hash, marked. A text edited in the database
    # (it no longer gives the chain's hash): the hash, marked as differing, never the text.
    basis_hash = "0x" + code_hash("《社会救助暂行办法》第十一条").hex()
    with Session(world.gateway.engine) as session:
        session.delete(session.get(CatalogueText, basis_hash))
        edited = session.get(CatalogueText, purpose_hash)
        assert edited is not None
        edited.text = "别的用途"
        session.add(edited)
        session.commit()
    page.goto(f"{world.base}/agreements/{sharing}")
    main = page.locator("main")
    expect(main.locator("[data-named='unknown']")).to_have_count(1)
    expect(main.locator("[data-named='differs']")).to_have_count(1)
    expect(main.locator("[data-named='unknown']")).to_have_text("未登记")
    expect(main.locator("[data-named='differs']")).to_have_text("与链上不符")
    expect(main).not_to_contain_text("别的用途")
    expect(main).not_to_contain_text("《社会救助暂行办法》")
    expect(main.locator(f"code.hex[title='{basis_hash}']")).to_have_count(1)
    page.goto(f"{world.base}/agreements/{sharing}?lang=en")
    expect(main.locator("[data-named='unknown']")).to_have_text("not catalogued")


def test_agreement_and_commitment_boards(page: Page, world: World, shot: Shot) -> None:
    sign_in(page, world, "/agreements")
    active, revoked = (
        world.report.agreements[k] for k in ("dibao-to-psb", "dibao-to-health-revoked")
    )
    board = page.locator("#agreements tbody tr")
    expect(board).to_have_count(2)
    expect(page.locator(f"tr[data-agreement='{active}'] .badge")).to_have_attribute(
        "data-status", "active"
    )
    expect(page.locator(f"tr[data-agreement='{active}'] .badge")).to_have_text("生效中")
    expect(page.locator(f"tr[data-agreement='{revoked}'] .badge")).to_have_attribute(
        "data-status", "revoked"
    )
    expect(page.locator(f"tr[data-agreement='{revoked}'] .badge")).to_have_text("已撤销")
    shot(page, "agreements")

    page.select_option("#f-status", "revoked")
    page.click("form[action='/agreements'] button[type=submit]")
    expect(page).to_have_url(re.compile(r"status=revoked"))
    expect(board).to_have_count(1)
    expect(board.first).to_have_attribute("data-agreement", revoked)

    page.goto(f"{world.base}/agreements/{active}")
    expect(page.locator("#receipts tbody tr")).to_have_count(world.report.receipts)
    history = [r.get_attribute("data-event") for r in page.locator("tr[data-event]").all()]
    assert history[:2] == ["AgreementProposed", "AgreementAccepted"]
    assert history.count("AccessRecorded") == world.report.receipts
    shot(page, "agreement")

    page.goto(world.base + "/commitments")
    rows = page.locator("#commitments tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-commitment", world.report.commitment)
    expect(rows.first.locator(".badge")).to_have_attribute("data-status", "completed")
    expect(rows.first.locator(".badge")).to_have_text("已办结")
    shot(page, "commitments")
    page.select_option("#f-status", "active")
    page.click("form[action='/commitments'] button[type=submit]")
    expect(rows).to_have_count(0)

    page.goto(f"{world.base}/commitments/{world.report.commitment}")
    expect(page.locator("#participants tbody tr")).to_have_count(3)
    events = [r.get_attribute("data-event") for r in page.locator("tr[data-event]").all()]
    assert events[0] == "CommitmentProposed" and events[-1] == "CommitmentCompleted"
    shot(page, "commitment")


def test_audit_trail_filters_and_csv(page: Page, world: World, shot: Shot) -> None:
    sign_in(page, world, "/audit")
    all_rows = page.locator("#events tbody tr")
    expect(all_rows.first).to_be_visible()
    total = all_rows.count()
    assert total > 20 and page.get_by_test_id("next-page").count() == 0

    # Pages follow next_cursor: every event once, in chain order.
    page.goto(world.base + "/audit?limit=10")
    seen: list[str] = []
    for _ in range(10):
        seen += [r.inner_text() for r in all_rows.locator("td:nth-child(5)").all()]
        more = page.get_by_test_id("next-page")
        if more.count() == 0:
            break
        more.click()
        expect(page).to_have_url(re.compile(r"cursor="))
    positions = [tuple(int(x) for x in re.findall(r"\d+", p)) for p in seen]
    assert len(positions) == total and positions == sorted(set(positions))
    page.goto(world.base + "/audit")

    civil_id = next(
        d["id"] for d in world.read(queries.list_departments).items if d["name"] == CIVIL
    )
    page.select_option("#f-department", civil_id)
    page.select_option("#f-type", "VersionAnchored")
    page.click("#audit-filters button[type=submit]")
    expect(page).to_have_url(re.compile(r"type=VersionAnchored"))
    expect(all_rows).to_have_count(3)  # October, November, policy
    for row in all_rows.all():
        assert row.get_attribute("data-event") == "VersionAnchored"
        expect(row).to_contain_text(CIVIL)
    # Each anchor's root links to its version's row on the dataset page (by version id).
    links = {a.get_attribute("href") for a in all_rows.locator("a[href*='#v-']").all()}
    assert links == {
        f"/datasets/{world.report.datasets[code]}#v-{world.version(code, name)}"
        for code, name in ((DIBAO, "dibao-2026-10"), (DIBAO, "dibao-2026-11"), (POLICY, "policy"))
    }

    csv_link = page.locator("#csv-export")
    href = csv_link.get_attribute("href")
    assert href is not None
    assert parse_qs(urlsplit(href).query) == {
        "format": ["csv"],
        "department": [civil_id],
        "type": ["VersionAnchored"],
    }
    exported = page.request.get(world.base + href, timeout=TIMEOUT_MS)  # the portal's cookie
    assert exported.status == 200 and exported.headers["content-type"].startswith("text/csv")
    assert exported.body().startswith(b"\xef\xbb\xbf")  # Excel's sign that it is UTF-8
    table = list(csv.DictReader(io.StringIO(exported.body().decode("utf-8-sig"))))
    assert [r["event"] for r in table] == ["VersionAnchored"] * 3
    assert {r["department"] for r in table} == {CIVIL}

    # Nested arguments (the proposed terms) are shown field by field.
    page.select_option("#f-department", "")
    page.select_option("#f-type", "AgreementProposed")
    page.click("#audit-filters button[type=submit]")
    expect(all_rows).to_have_count(2)
    all_rows.first.locator("details.args summary").click()
    terms = all_rows.first.locator("details.args dl")
    expect(terms).to_contain_text("协议条款 terms")
    expect(terms).to_contain_text("有效期至: ")  # a field of the terms, labelled too
    expect(terms).to_contain_text("数据集 ID 列表: ")
    expect(terms.locator("span[title='validUntil']")).to_have_text("有效期至")

    page.fill("#f-since", "2999-01-01")
    page.click("#audit-filters button[type=submit]")
    expect(all_rows).to_have_count(0)
    page.fill("#f-since", "")
    page.select_option("#f-department", "")
    page.select_option("#f-type", "AgreementRevoked")
    page.click("#audit-filters button[type=submit]")
    expect(all_rows).to_have_count(1)
    all_rows.first.locator("details.args summary").click()
    arguments = all_rows.first.locator("details.args dl")
    expect(arguments).to_contain_text("协议 ID agreementId")  # labelled, the name beside it
    expect(arguments).to_contain_text("原因哈希 reasonHash")
    shot(page, "audit")


def test_language_switch_is_remembered(page: Page, world: World, shot: Shot) -> None:
    sign_in(page, world, "/datasets/" + world.report.datasets[DIBAO])
    nav = page.get_by_role("navigation", name="主导航")
    expect(nav).to_contain_text("共享协议")

    page.click("a[data-lang='en']")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("navigation", name="Main navigation")).to_contain_text("Agreements")
    expect(page.locator("svg#lineage")).to_contain_text("Version 2")
    expect(page.locator(".site-footer")).to_contain_text("Index at block #")
    shot(page, "dataset-en")
    for path, name in (
        ("/", "verify-en"),
        ("/agreements", "agreements-en"),
        ("/commitments", "commitments-en"),
        ("/audit", "audit-en"),
    ):
        page.goto(world.base + path)  # no ?lang: the cookie remembers English
        expect(page.locator("html")).to_have_attribute("lang", "en")
        if path == "/":
            page.set_input_files("#file", str(world.anchored_file))
            expect(page.locator("#result .verdict")).to_contain_text("Anchored")
            expect(page.locator("#result")).to_contain_text(CIVIL)  # names stay Chinese
        if path == "/agreements":
            expect(page.locator("#agreements .badge[data-status='revoked']")).to_have_text(
                "Revoked"
            )
        shot(page, name)

    page.click("a[data-lang='zh']")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    page.goto(world.base + "/commitments")
    expect(page.locator("h1")).to_have_text("联办承诺")
    expect(page.locator(".site-footer")).to_contain_text("索引位置")


def test_open_reads_need_no_sign_in(page: Page, world: World) -> None:
    server = _serve(world.settings.model_copy(update={"api_open_reads": True}))
    try:
        base = next(server)
        page.goto(base + "/commitments")
        assert urlsplit(page.url).path == "/commitments"
        expect(page.locator("#commitments tbody tr")).to_have_count(1)
        expect(page.locator("form[action='/logout']")).to_have_count(0)
        page.goto(base + "/")
        page.set_input_files("#file", str(world.anchored_file))
        expect(page.locator("#result .verdict")).to_have_attribute("data-status", "anchored")
        page.goto(base + "/login")
        expect(page.locator("main")).to_contain_text("本网关的查询无需登录")
    finally:
        server.close()


# --------------------------------------------------------------------------- webhooks


def test_dead_letters_are_listed_with_their_error_and_only_the_receivers_host(
    page: Page, world: World
) -> None:
    """民政局 watches its datasets' versions; the receiver refuses (503) and each webhook is
    a dead letter after its one attempt: the audit pages list them (the axe run over every
    page, below, sees them too)."""
    sign_in(page, world, "/audit/webhooks")
    expect(page.locator("[data-notice='no-watchers']")).to_be_visible()
    department = "0x" + world.gateway.department_of_signer().hex()
    hooks = Watchers(world.gateway.engine, department=department, allow_http=True, max_attempts=1)
    with receiver() as refusing:
        refusing.statuses[:] = [503] * 10
        hooks.add(url=refusing.url, topics=["dataset.version"], start_block=1)
        made = hooks.scan()
        assert made == len(world.report.versions) and hooks.deliver().dead == made
    page.goto(world.base + "/audit/webhooks")
    rows = page.locator("#webhooks tbody tr")
    expect(rows).to_have_count(made)
    first = rows.first
    expect(first).to_have_attribute("data-status", "dead")
    expect(first).to_have_attribute("data-topic", "dataset.version")
    expect(first).to_contain_text("the receiver answered HTTP 503")
    expect(first).to_contain_text("127.0.0.1")
    expect(first).to_contain_text("死信")
    expect(page.locator("main")).not_to_contain_text("/hooks/xietong")  # the host only
    page.goto(world.base + "/audit/webhooks?status=delivered&lang=en")
    expect(page.locator("main .empty")).to_be_visible()
    page.select_option("#f-status", "dead")
    page.click("#webhook-filters button[type=submit]")
    expect(page.locator("#webhooks tbody tr").first).to_contain_text("Dead letter")


# --------------------------------------------------------------------------- checkpoints

PSB_CODE, CIVIL_CODE, HEALTH_CODE = "11330100MB1A00001P", "11330100MB1A00002K", "11330100MB1A00003F"
HEALTH = "杭州市卫生健康委员会"


def test_a_checkpoint_conflict_is_shown_until_it_is_acknowledged(
    page: Page, axe_page: Page, world: World, shot: Shot
) -> None:
    """民政局's gateway (account 2) cosigns two checkpoints; a peer hands on 公安局's signature
    of the first (cosigned by the threshold, 2 of 3), 卫健委's of another hash for the second
    (a conflict) and one by a key the trust file does not name (refused). The page shows the
    conflict first, the first checkpoint as the latest, the peer's counts; acknowledged over the
    API, the conflict moves below. axe finds nothing in either state."""
    trust = world.gateway.deployment.trust()
    interval = world.settings.checkpoint_interval
    number = (world.w3.eth.block_number // interval + 2) * interval
    while world.w3.eth.block_number <= number:  # undone after the test (consortium snapshot)
        world.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
    earlier = number - interval
    first, right = (
        "0x" + bytes(world.w3.eth.get_block(n)["hash"]).hex() for n in (earlier, number)
    )
    wrong = "0x" + "e0" * 32
    with Session(world.gateway.engine) as session:
        _, admin = create_api_key(session=session, name="checkpoint admin", scope="admin")
    with peer() as other:
        other.serve(
            signed_item(trust, 1, earlier, first, time=1765000001),
            signed_item(trust, 3, number, wrong, time=1765000003),
            signed_item(trust, 9, number, right, time=1765000009),  # not a cosigner: refused
        )
        settings = world.settings.model_copy(update={"checkpoint_peers": [other.url]})
        ours = Witness(
            world.gateway.engine,
            world.gateway.client,
            trust,
            signer=dev_account(2),
            interval=interval,
            confirmations=settings.confirmations,
            peers=settings.checkpoint_peers,
            timeout=5.0,
        )
        report = ours.run()
        assert report.conflicts == [number] and sorted(report.signed) == [earlier, number]
        assert report.accepted == {other.url: 2} and report.refused == {other.url: 1}
        server = _serve(settings)
        try:
            base = next(server)
            for context_page in (page, axe_page):
                context_page.goto(base + "/audit/checkpoints")
                context_page.fill("#key", world.key)
                context_page.click("form[action='/login'] button[type=submit]")
                expect(context_page).to_have_url(base + "/audit/checkpoints")
            tab = page.locator("nav.tabs a[aria-current='page']")
            expect(tab).to_have_attribute("href", "/audit/checkpoints")
            expect(page.locator("[data-notice='not-signing']")).to_have_count(0)

            # The open conflict, first and in an alert: the block, each hash, who signed it.
            alert = page.get_by_test_id("open-conflicts")
            expect(alert).to_be_visible()
            expect(alert.locator("[role='alert']")).to_contain_text(
                f"区块 {number} 被签署了不同的哈希"
            )
            conflict = alert.locator(f"article[data-conflict='{number}'][data-state='open']")
            expect(conflict).to_contain_text(f"区块 #{number}")
            ours_row, theirs_row = (
                conflict.locator(f"tr[data-hash='{h}']") for h in (right, wrong)
            )
            expect(ours_row.locator("th")).to_have_text(right)
            expect(theirs_row.locator("th")).to_have_text(wrong)
            expect(ours_row.locator("li[data-code]")).to_have_count(1)
            expect(ours_row.locator(f"li[data-code='{CIVIL_CODE}']")).to_contain_text(CIVIL)
            expect(theirs_row.locator("li[data-code]")).to_have_count(1)
            expect(theirs_row.locator(f"li[data-code='{HEALTH_CODE}']")).to_contain_text(HEALTH)
            assert page.locator("article[data-state='acknowledged']").count() == 0

            # The latest checkpoint the threshold cosigned: the block before, 公安局 and 民政局.
            latest = page.locator("#latest-checkpoint")
            expect(latest).to_have_attribute("data-number", str(earlier))
            expect(latest).to_have_attribute("data-hash", first)
            expect(latest.locator("code.hash")).to_have_text(first)
            cosigners = page.locator("#latest-cosigners tbody tr")
            expect(cosigners).to_have_count(2)
            codes = {cosigners.nth(i).get_attribute("data-code") for i in range(2)}
            assert codes == {PSB_CODE, CIVIL_CODE}
            expect(page.locator(f"#latest-cosigners tr[data-code='{PSB_CODE}']")).to_contain_text(
                "杭州市公安局"
            )
            psb_time = page.locator(f"#latest-cosigners tr[data-code='{PSB_CODE}'] time")
            expect(psb_time).to_have_attribute("datetime", "2025-12-06T05:46:41+00:00")

            # The peer, by its origin: what it gave, what was refused and why.
            row = page.locator(f"#checkpoint-peers tr[data-peer='{other.url}']")
            expect(row.locator("td.num")).to_have_text(["2", "1"])
            expect(row).to_contain_text("cosigner-unknown")
            expect(row.locator("time")).to_have_count(1)
            shot(page, "checkpoints-conflict")
            open_found = axe_violations_after_load(axe_page)
            # That page shows the conflict whole; every other page has a banner leading to it.
            expect(page.locator("[data-conflict-banner]")).to_have_count(0)
            page.goto(base + "/datasets")
            banner = page.locator(f"[data-conflict-banner='{number}'][role='alert']")
            expect(banner).to_contain_text(f"检查点冲突：区块 {number} 被签署了不同的哈希")
            expect(banner.locator("a")).to_have_attribute("href", "/audit/checkpoints")
            axe_page.goto(base + "/datasets")
            banner_found = axe_violations_after_load(axe_page)

            acknowledged = page.request.post(
                f"{base}/v1/checkpoints/conflicts/{number}/acknowledge",
                headers={"X-API-Key": admin},
            )
            assert acknowledged.status == 200, acknowledged.text()
            page.goto(base + "/datasets?lang=en")
            expect(page.locator("[data-conflict-banner]")).to_have_count(0)
            page.goto(base + "/audit/checkpoints?lang=en")
            expect(page.get_by_test_id("open-conflicts")).to_have_count(0)
            moved = page.locator(f"article[data-conflict='{number}'][data-state='acknowledged']")
            expect(moved).to_be_visible()
            expect(page.locator("#conflicts-title")).to_have_text("Acknowledged conflicts")
            expect(
                moved.locator(f"tr[data-hash='{right}'] li[data-code='{CIVIL_CODE}']")
            ).to_have_count(1)
            expect(
                moved.locator(f"tr[data-hash='{wrong}'] li[data-code='{HEALTH_CODE}']")
            ).to_have_count(1)
            expect(moved).to_contain_text("acknowledged")
            expect(page.locator("#latest-checkpoint")).to_have_attribute(
                "data-number", str(earlier)
            )
            axe_page.goto(base + "/audit/checkpoints")
            acknowledged_found = axe_violations_after_load(axe_page)
        finally:
            server.close()
    found = {"open": open_found, "banner": banner_found, "acknowledged": acknowledged_found}
    assert not any(found.values()), json.dumps(found, ensure_ascii=False, indent=1)


def axe_violations_after_load(page: Page) -> list[dict[str, Any]]:
    page.wait_for_load_state("load")
    assert page.evaluate("typeof axe") == "object", "axe-core did not load"
    return axe_violations(page)


# --------------------------------------------------------------------------- accessibility


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_page_has_no_wcag_21_aa_violation(browser: Browser, world: World, lang: str) -> None:
    # Under the pages' own CSP axe could not be injected: this profile bypasses it (the other
    # tests keep it) and loads axe before each page's scripts.
    context = new_context(browser, locale="zh-CN", bypass_csp=True)
    context.add_init_script(path=str(AXE))
    page = context.new_page()
    found: dict[str, list[dict[str, Any]]] = {}

    def check(state: str) -> None:
        page.wait_for_load_state("load")
        assert page.evaluate("typeof axe") == "object", f"axe-core did not load on {state}"
        found[state] = axe_violations(page)

    try:
        page.goto(f"{world.base}/login?lang={lang}")
        check("login")
        page.fill("#key", "not a key")
        page.click("form[action='/login'] button[type=submit]")
        check("login refused")
        page.fill("#key", world.key)
        page.click("form[action='/login'] button[type=submit]")
        expect(page).to_have_url(world.base + "/")
        expect(page.locator("html")).to_have_attribute("lang", "en" if lang == "en" else "zh-CN")
        check("verify")
        page.set_input_files("#file", str(world.anchored_file))
        expect(page.locator("#result .verdict")).to_have_attribute("data-status", "anchored")
        check("verify: anchored")
        page.set_input_files("#file", str(world.tampered_file))
        expect(page.locator("#result .verdict")).to_have_attribute("data-status", "not-anchored")
        check("verify: not anchored")
        page.fill("#hash", "0x12")
        page.click("#hash-form button[type=submit]")
        expect(page.locator("#hash")).to_have_attribute("aria-invalid", "true")
        expect(page.locator("#hash")).to_have_attribute("aria-describedby", "hash-error")
        expect(page.locator("#hash-error")).to_have_attribute("data-status", "bad-hash")
        check("verify: malformed hash")
        page.fill("#hash", "0x1")  # editing the field clears the mark
        expect(page.locator("#hash")).not_to_have_attribute("aria-invalid", "true")
        dibao = world.report.datasets[DIBAO]
        agreement = world.report.agreements["dibao-to-psb"]
        for path in (
            "/datasets",
            f"/datasets/{dibao}",
            "/agreements",
            f"/agreements/{agreement}",
            "/commitments",
            f"/commitments/{world.report.commitment}",
            "/proposals",
            "/audit",
            "/audit/receipts",
            "/audit/webhooks",
            "/audit/webhooks?status=",
            "/audit/checkpoints",
            "/datasets/NO-SUCH-DATASET",
        ):
            page.goto(world.base + path)
            check(path)
    finally:
        context.close()
    assert set(found) >= {"login", "verify", "/audit", f"/datasets/{dibao}"}
    violations = {state: found_here for state, found_here in found.items() if found_here}
    assert not violations, json.dumps(violations, ensure_ascii=False, indent=1)

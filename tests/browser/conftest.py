"""Fixtures of the browser tests: one Chromium per test module; for the portal's tests, the
demo scenario served by the real app (``world``) and a fresh browser profile (``page``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright
from sqlmodel import Session

from ledger.apikeys import create_api_key
from ledger.chain.deploy import deploy, load_founders
from ledger.chain.node import NodeSpec
from ledger.demo import run_demo
from ledger.gateway import Gateway
from ledger.keys import dev_account
from ledger.paths import PROJECT_ROOT
from ledger.settings import Settings
from tests.browser._browser import CHROMIUM, CHROMIUM_ARGS, new_context
from tests.browser._portal import ANCHORED_FILE, AXE, Sent, World, serve_portal
from tests.support import Consortium


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS, timeout=60_000
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def world(
    consortium: Consortium, node: NodeSpec, database_url: str, tmp_path: Path
) -> Iterator[World]:
    """The local demo consortium deployed on the session node (undone after the test by the
    ``consortium`` snapshot), the demo played and indexed, a read key, and the app serving it
    with open reads off."""
    manifest = tmp_path / "deployment.json"
    founders = load_founders(PROJECT_ROOT / "scripts" / "founders.local.yaml", allow_dev=True)
    deploy(consortium.w3, founders, deployer=dev_account(0), manifest_path=manifest)
    settings = Settings(
        _env_file=None,
        env="local",
        rpc_url=node.rpc_url,
        database_url=database_url,  # type: ignore[call-arg]
        deployment=manifest,
        dev_account=2,
        api_open_reads=False,
        confirmations=1,
    )
    gateway = Gateway(settings)
    report = run_demo(gateway, tmp_path / "demo", echo=lambda _line: None)
    with Session(gateway.engine) as session:
        _, key = create_api_key(session=session, name="browser test", scope="read")
    anchored = Path(report.files["policy"]) / ANCHORED_FILE
    tampered = tmp_path / "tampered" / ANCHORED_FILE
    tampered.parent.mkdir()
    content = bytearray(anchored.read_bytes())
    content[-2] ^= 0x01  # one byte changed
    tampered.write_bytes(bytes(content))
    server = serve_portal(settings)
    try:
        base = next(server)
        yield World(base, key, report, settings, gateway, consortium.w3, anchored, tampered)
    finally:
        server.close()
        gateway.engine.dispose()


@pytest.fixture
def axe_page(browser: Browser) -> Iterator[Page]:
    """A profile that bypasses the page's CSP (the other tests keep it) to load axe-core."""
    context = new_context(browser, locale="zh-CN", bypass_csp=True)
    context.add_init_script(path=str(AXE))
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser profile (no cookies), 1280 wide, with bounded waits; the test fails on
    a script error or a resource the page's CSP refused."""
    context = new_context(browser, locale="zh-CN", accept_downloads=True)
    errors: list[str] = []
    page = context.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on(
        "console",
        lambda m: errors.append(m.text) if "Content Security Policy" in m.text else None,
    )
    try:
        yield page
    finally:
        context.close()
    assert not errors, f"script errors or refused resources on the page: {errors}"


@pytest.fixture
def sent(page: Page) -> Sent:
    """Every request the page sends to the gateway's API, from now on."""
    record = Sent()
    page.on("request", record.record)
    page.on("requestfinished", record.done)
    page.on("requestfailed", record.done)
    return record

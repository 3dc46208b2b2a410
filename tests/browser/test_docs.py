"""``/docs`` in a real browser with the network cut: Debian's Chromium driven by Playwright
against the real app served by uvicorn, every request to another origin aborted and counted.
Swagger UI must come up from the gateway alone (api/docs.py), under the page's Content Security
Policy without a single violation. No chain node: the page needs only ``/openapi.json``."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest
from playwright.sync_api import Browser, Page, Route, expect

from api.app import create_app
from api.docs import ASSETS
from ledger.chain.node import free_port
from ledger.settings import Settings
from tests.browser._browser import new_context, serve, wait_until

#: Every Content Security Policy violation of the page, as the browser reports it to the page.
RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__violations.push(`${e.effectiveDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`);
});
"""


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app on a free port in a thread (an empty SQLite database, a node that is not
    there), stopped and joined after the module."""
    folder = tmp_path_factory.mktemp("docs")
    settings = Settings(
        _env_file=None,
        env="local",
        rpc_url=f"http://127.0.0.1:{free_port()}",
        database_url=f"sqlite:///{folder / 'xietong.db'}",  # type: ignore[call-arg]
    )
    app = create_app(settings)
    server = serve(app, "docs-test-server")
    try:
        yield next(server)
    finally:
        server.close()
        app.state.xietong.gateway.engine.dispose()


@dataclass
class Offline:
    """A browser page whose network ends at the gateway: what it asked for, what was cut."""

    page: Page
    requested: list[str] = field(default_factory=list)
    aborted: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)

    def violations(self) -> list[str]:
        found: list[str] = self.page.evaluate("window.__violations")
        return found


@pytest.fixture
def offline(browser: Browser, base: str) -> Iterator[Offline]:
    context = new_context(browser)
    page = context.new_page()
    seen = Offline(page)

    def cut(route: Route) -> None:
        url = route.request.url
        seen.requested.append(url)
        if url.startswith(base + "/"):
            route.continue_()
        else:
            seen.aborted.append(url)
            route.abort("internetdisconnected")

    context.route("**/*", cut)
    page.add_init_script(RECORD_VIOLATIONS)
    page.on("console", lambda m: seen.console.append(f"{m.type}: {m.text}"))
    page.on("pageerror", lambda error: seen.console.append(f"pageerror: {error}"))
    try:
        yield seen
    finally:
        context.close()


def test_docs_show_the_operations_with_the_network_cut(offline: Offline, base: str) -> None:
    page = offline.page
    response = page.goto(base + "/docs")
    assert response is not None and response.status == 200
    verify = page.locator("#operations-verify-verify_hash_v1_verify_get")
    expect(verify).to_be_visible()
    expect(verify.locator(".opblock-summary-path")).to_have_text("/v1/verify")
    # Every operation of the document is listed.
    document = httpx.get(base + "/openapi.json", timeout=10).json()
    operations = sum(len(item) for item in document["paths"].values())
    expect(page.locator(".opblock")).to_have_count(operations)
    # And the page works: an operation opens on its parameters.
    verify.locator(".opblock-summary").click()
    expect(verify.locator("tr[data-param-name='hash']")).to_be_visible()
    expect(page.locator("footer a[href$='/LICENSE']")).to_have_text("Apache License 2.0")

    assert offline.aborted == [], "the page asked another host for something"
    assert f"{base}{ASSETS}/swagger-ui-bundle.js" in offline.requested
    assert f"{base}/openapi.json" in offline.requested
    assert offline.violations() == []
    assert offline.console == [], "console messages (CSP refusals, script errors)"


def test_the_cut_and_the_violation_record_see_what_they_are_for(
    offline: Offline, base: str
) -> None:
    # The two detectors of the test above, shown to fire: a script the policy refuses and an
    # image from another host are recorded as violations, and a request to another host is
    # aborted and counted.
    page = offline.page
    page.goto(base + "/docs")
    expect(page.locator("#operations-verify-verify_hash_v1_verify_get")).to_be_visible()
    page.evaluate(
        """() => {
          const script = document.createElement("script");
          script.textContent = "window.inlineRan = true";
          document.body.append(script);
          const image = document.createElement("img");
          image.src = "https://example.org/tracker.png";
          document.body.append(image);
        }"""
    )
    wait_until(page, "window.__violations.length >= 2")
    violations = offline.violations()
    assert any(v.startswith("script-src-elem ") for v in violations), violations
    assert any(v.startswith("img-src https://example.org/") for v in violations), violations
    assert page.evaluate("window.inlineRan === undefined")
    assert any("Content Security Policy" in line for line in offline.console), offline.console
    assert offline.aborted == []  # refused by the policy before any request
    with pytest.raises(Exception, match="ERR_INTERNET_DISCONNECTED"):
        page.goto("https://example.org/")
    assert offline.aborted == ["https://example.org/"]

"""What the portal's browser tests share: the demo scenario served by the real app (``World``),
the app served in a thread, and signing in with the read key. The fixtures built on them
(``world``, ``page``) are in conftest.py."""

from __future__ import annotations

import re
from collections.abc import Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from playwright.sync_api import Page, Request, expect
from sqlmodel import Session
from web3 import Web3

from api.app import create_app
from ledger.demo import DemoReport
from ledger.gateway import Gateway
from ledger.ids import version_id
from ledger.paths import PROJECT_ROOT
from ledger.settings import Settings
from tests.browser._browser import serve

#: The marks of a module of portal tests: one engine and one database are enough, as the pages
#: only read the index, which the ledger and API suites check on both engines and databases.
PORTAL_MARKS = [
    pytest.mark.chain,
    pytest.mark.parametrize("node", ["hardhat"], indirect=True),
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]

CIVIL = "杭州市民政局"
ANCHORED_FILE = "低保资格核查流程.md"


@dataclass
class World:
    """The demo scenario on a deployment of its own, served by the real app at ``base``."""

    base: str
    key: str
    report: DemoReport
    settings: Settings
    gateway: Gateway
    w3: Web3
    anchored_file: Path
    tampered_file: Path

    def read(self, fn: Any, **kwargs: Any) -> Any:
        """A ``ledger.db.queries`` answer from the index the app serves."""
        with Session(self.gateway.engine) as session:
            return fn(session=session, **kwargs)

    def version(self, code: str, name: str) -> str:
        """The 0x version id of the demo's version ``name`` (a key of ``report.versions``)
        in its dataset ``code``: versions are keyed by dataset and root."""
        dataset, root = self.report.datasets[code], self.report.versions[name]
        return "0x" + version_id(bytes.fromhex(dataset[2:]), bytes.fromhex(root[2:])).hex()


def serve_portal(settings: Settings) -> Generator[str, None, None]:
    """The app on a free port in a thread, stopped and joined when the generator closes."""
    yield from serve(create_app(settings), "portal-test-server")


def sign_in(page: Page, world: World, target: str = "/") -> None:
    page.goto(world.base + target)
    expect(page).to_have_url(re.compile(r"/login"))
    page.fill("#key", world.key)
    page.click("form[action='/login'] button[type=submit]")
    expect(page).to_have_url(world.base + target)
    page.wait_for_load_state("load")  # and its deferred scripts have run


#: axe-core from npm (hardhat-node/package.json, pinned): the WCAG 2.1 A and AA rules, which
#: GB/T 37668 follows.
AXE = PROJECT_ROOT / "hardhat-node" / "node_modules" / "axe-core" / "axe.min.js"
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
RUN_AXE = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: "tag", values: tags}});
  return result.violations.map((v) => ({
    rule: v.id, impact: v.impact,
    where: v.nodes.map((n) => n.target.join(" ") + " — " + n.failureSummary),
  }));
}"""


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """What axe-core finds on the page as it is now (scripts run, results shown)."""
    violations: list[dict[str, Any]] = page.evaluate(RUN_AXE, WCAG_21_AA)
    return violations


def verdict_audit(page: Page, found: dict[str, Any], state: str, status: str) -> None:
    """Once the verify page shows a verdict of ``status`` and is done, keep its axe violations
    under ``state`` in ``found``."""
    expect(page.locator(f"#result .verdict[data-status='{status}']").first).to_be_visible()
    expect(page.locator("#progress")).to_have_text("")
    found[state] = axe_violations(page)


@dataclass
class Sent:
    """Every request the page sent to the gateway's API: method, URL, body."""

    requests: list[tuple[str, str, bytes | None]] = field(default_factory=list)
    #: Requests to /v1/verify under way now, and the most there ever were at once.
    in_flight: int = 0
    most_in_flight: int = 0

    def record(self, request: Request) -> None:
        if "/v1/" in request.url:
            self.requests.append((request.method, request.url, request.post_data_buffer))
        if "/v1/verify" in request.url:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)

    def done(self, request: Request) -> None:
        if "/v1/verify" in request.url:
            self.in_flight -= 1

    def hashes(self, route: str) -> list[str]:
        """The ``hash`` of each GET to ``route`` (``/v1/verify`` or ``/v1/documents``)."""
        found = []
        for _, url, _ in self.requests:
            parts = urlsplit(url)
            if parts.path == route:
                found += parse_qs(parts.query)["hash"]
        return found

    def only_hashes(self) -> None:
        """Every request is a GET of /v1/verify or /v1/documents with one well-formed hash,
        or of /v1/catalogue/names with the hashes an answer named, or of the dataset an answer
        named (/v1/datasets/0x…: its version's erasures), and nothing else: no body, no other
        parameter."""
        for method, url, body in self.requests:
            parts = urlsplit(url)
            assert method == "GET" and body is None, (method, url)
            if parts.path == "/v1/catalogue/names":
                assert re.fullmatch(r"hash=0x[0-9a-f]{64}(&hash=0x[0-9a-f]{64})*", parts.query)
                continue
            if parts.path.startswith("/v1/datasets/"):
                assert re.fullmatch(r"/v1/datasets/0x[0-9a-f]{64}", parts.path), url
                assert not parts.query, url
                continue
            assert parts.path in ("/v1/verify", "/v1/documents"), url
            assert re.fullmatch(r"hash=0x[0-9a-f]{64}", parts.query), url

    def never(self, secrets: list[str]) -> None:
        """None of ``secrets`` (salts, row values) is in any request, raw or URL-encoded."""
        for _, url, body in self.requests:
            seen = unquote(url) + (body or b"").decode("utf-8", "replace")
            leaked = [s for s in secrets if s in seen]
            assert not leaked, (url, leaked[:3])

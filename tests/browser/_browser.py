"""What the browser tests share: Debian's Chromium and how it is launched, a browser context
with bounded waits, and the real app served by uvicorn in a thread."""

from __future__ import annotations

import threading
import time
from collections.abc import Generator
from typing import Any

import uvicorn
from fastapi import FastAPI
from playwright.sync_api import Browser, BrowserContext, Page

from ledger.chain.node import free_port

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
TIMEOUT_MS = 15_000


def new_context(browser: Browser, **options: Any) -> BrowserContext:
    """A fresh browser profile (no cookies), 1280 wide, with bounded waits."""
    context = browser.new_context(viewport={"width": 1280, "height": 800}, **options)
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    return context


def wait_until(page: Page, expression: str, *, timeout: float = TIMEOUT_MS / 1000) -> None:
    """Until ``expression`` is truthy in the page, asked again every 50 ms by ``page.evaluate``.

    Not ``page.wait_for_function``: when its first check fails, it polls by ``eval`` inside the
    page, which the portal's Content Security Policy refuses (no 'unsafe-eval'), so it failed
    whenever the page was slower than the first check."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"still not true after {timeout:g} s: {expression}")
        page.wait_for_timeout(50)


def serve(app: FastAPI, name: str) -> Generator[str, None, None]:
    """``app`` on a free port in a thread called ``name``: ``next()`` gives its base URL once
    it has started; closing the generator stops the server and joins the thread."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name=name, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started:
            assert thread.is_alive(), "the server thread died while starting"
            assert time.monotonic() < deadline, "the server did not start within 30 s"
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        assert not thread.is_alive(), "the server did not stop within 15 s"

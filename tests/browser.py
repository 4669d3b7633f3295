"""A real headless Chromium for the page tests: the session fixture ``browser`` launches Debian's
``/usr/bin/chromium`` through Playwright's async API (never a downloaded browser), and ``page``
gives each test a fresh context and page. Host names other than localhost do not resolve in this
browser, so a page can reach only the servers the tests start on 127.0.0.1 and never the
internet (the provider's pages link to web fonts). Without Chromium the tests that use it are
skipped with the reason (failed in CI).
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, Page, async_playwright

from tests.conftest import missing

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost",
]


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    if shutil.which(CHROMIUM) is None:
        missing("Chromium is not installed: apt-get install -y chromium")
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        yield chromium
        await chromium.close()


@pytest.fixture
async def page(browser: Browser) -> AsyncIterator[Page]:
    context = await browser.new_context()
    yield await context.new_page()
    await context.close()

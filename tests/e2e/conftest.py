"""End-to-end: the demo organisation served by a real uvicorn, and real Chromium pages signed in
as its personas. These run on SQLite only (the other tiers cover PostgreSQL); each test gets a
fresh copy of a database seeded once with the demo organisation. ``axe`` runs axe-core (from
``tests/idp/node_modules``) in a page and returns its serious and critical violations."""

from __future__ import annotations

import asyncio
import contextlib
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect

from app import demo
from app.cli import migrate
from app.db import Database
from tests.conftest import missing
from tests.pages.conftest import dev_app
from tests.support.receivers import MailServer
from tests.support.servers import free_port, serving

AXE = Path(__file__).resolve().parents[1] / "idp" / "node_modules" / "axe-core" / "axe.min.js"


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    url = f"sqlite+aiosqlite:///{path}"
    migrate(url)

    async def seed() -> None:
        db = Database(url)
        try:
            await demo.seed(db)
        finally:
            await db.dispose()

    asyncio.run(seed())
    return path


@pytest.fixture
def database_url(tmp_path: Path, demo_template: Path) -> str:
    """A fresh copy of the demo database (this overrides the SQLite/PostgreSQL pair)."""
    path = tmp_path / "demo.db"
    shutil.copy(demo_template, path)
    return f"sqlite+aiosqlite:///{path}"


@contextlib.contextmanager
def serving_demo(database_url: str) -> Iterator[str]:
    """The demo on a real uvicorn in a thread, with the dev sign-in and email on (to an SMTP
    server on loopback, as a deployment would have); its base URL."""
    port = free_port()
    with MailServer.running() as smtp:
        app = dev_app(database_url, MUSTER_BASE_URL=f"http://127.0.0.1:{port}",
                      MUSTER_SMTP_URL=smtp.url)  # fmt: skip
        with serving(app, port) as url:
            yield url


@pytest.fixture
def site(db: Database, database_url: str) -> Iterator[str]:
    """The demo on its own database, for a test that changes things (``db`` writes to it)."""
    with serving_demo(database_url) as url:
        yield url


@pytest.fixture(scope="module")
def demo_site(tmp_path_factory: pytest.TempPathFactory, demo_template: Path) -> Iterator[str]:
    """The demo shared by a module's tests that only look."""
    path = tmp_path_factory.mktemp("looking") / "demo.db"
    shutil.copy(demo_template, path)
    with serving_demo(f"sqlite+aiosqlite:///{path}") as url:
        yield url


async def sign_in(page: Page, site: str, email: str) -> None:
    """Sign in through the demo's persona picker, as a person would."""
    await page.goto(f"{site}/auth/sign-in")
    await page.get_by_role("button", name=re.compile(re.escape(email))).click()
    await page.wait_for_url(f"{site}/")


@pytest.fixture
async def persona(browser: Browser, site: str):
    """``await persona(email)``: a new browser context signed in as that demo persona."""
    contexts = []

    async def open_as(email: str, **options) -> Page:
        context = await browser.new_context(**options)
        contexts.append(context)
        page = await context.new_page()
        await sign_in(page, site, email)
        return page

    yield open_as
    for context in contexts:
        await context.close()


async def settled(page: Page) -> None:
    """Wait until the page's script has shown every time in local words (it titles each) and
    the browser has drawn two frames since: the colours of a scheme just emulated are in."""
    # (a locator, not wait_for_function: polling a string predicate is eval, which CSP refuses)
    await expect(page.locator("time[datetime][data-show]:not([title])")).to_have_count(0)
    await page.evaluate(
        "new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))"
    )


async def axe(page: Page) -> list[dict]:
    """The serious and critical accessibility violations axe-core finds on the page."""
    if not AXE.exists():
        missing("axe-core is not installed: npm ci --prefix tests/idp")
    if not await page.evaluate("typeof axe !== 'undefined'"):
        # Evaluated by the browser's debugging protocol: a <script> tag would be inline script,
        # which the pages' Content-Security-Policy refuses.
        await page.evaluate(AXE.read_text() + "\n;undefined")
    result = await page.evaluate("async () => (await axe.run(document)).violations")
    return [v for v in result if v["impact"] in ("serious", "critical")]

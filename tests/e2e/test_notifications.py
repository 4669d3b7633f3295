"""The bell in Chromium: a notification sent while a page is open shows in the header's count
without a reload (on the dashboard, through the page's own stream: one connection per tab), is read out by the polite announcer, and the inbox lists it; marking all read
empties the count. Screenshots of the header with a count and of the inbox, light and dark, each
checked with axe-core."""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Page, Request, expect

from app.db import Database
from app.models import NotificationKind
from app.services import notifications, users
from tests.e2e.conftest import axe, settled, sign_in
from tests.pages.conftest import dev_app
from tests.support.servers import Served, free_port, serving, until

LIVE = 5_000  # ms


@pytest.fixture
def site(db: Database, database_url: str) -> Iterator[Served]:
    port = free_port()
    # No worker: nothing but this test notifies anyone while it counts.
    app = dev_app(database_url, MUSTER_BASE_URL=f"http://127.0.0.1:{port}", MUSTER_RUN_JOBS="0")
    with serving(app, port) as url:
        yield Served(url, app.state.services.hub)


async def notify_in_server(site: Served, person, title: str, body: str) -> None:
    """Send ``person`` a notification through the served app's own database and event loop (as
    its worker does), so the commit wakes their bell's feed."""
    db = site.hub.db

    async def send() -> None:
        async with db.write() as session:
            await notifications.send(
                session, [person.id], kind=NotificationKind.WORKFLOW, incident=None,
                title=title, body=body, cause=f"e2e:{title}", now=db.now(), email=False,
            )  # fmt: skip

    loop = site.hub._tasks[0].get_loop()
    await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(send(), loop))


async def unread_now(page: Page) -> int:
    name = await page.locator("header a#bell").inner_text()
    found = re.search(r"(\d+) unread", name)
    return int(found.group(1)) if found else 0


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    folder = os.environ.get("MUSTER_SCREENSHOTS")
    path = Path(folder) if folder else tmp_path
    path.mkdir(parents=True, exist_ok=True)
    return path


async def test_the_bell_counts_live_and_the_inbox_lists(browser, site, db, shots):
    async with db.read() as session:
        executive = await users.get_user_by_email(session, "exec@demo.muster")
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    streams = event_streams(page)
    try:
        await sign_in(page, site.url, "exec@demo.muster")
        await site.feeds_started(1, inboxes=True)  # the header's bell feed is listening
        await site.feeds_started(1)  # and the dashboard's: in the same stream
        await until(lambda: streams == ["/live/dashboard"])  # the browser's word for it
        before = await unread_now(page)
        await notify_in_server(
            site, executive, "Loop in leadership: INC-30 needs you", "Checkout is down."
        )
        bell = page.get_by_role("link", name=f"Notifications, {before + 1} unread")
        await expect(bell).to_be_visible(timeout=LIVE)  # no reload
        await expect(page.locator("header .bell-count")).to_have_text(str(before + 1))
        await expect(page.locator("#announcer")).to_contain_text(
            "New notification: Loop in leadership: INC-30 needs you."
        )
        await pictures(page, shots, "header-bell")
        assert streams == ["/live/dashboard"]  # one connection for the page and its bell

        await bell.click()
        await page.wait_for_url(f"{site.url}/notifications")
        await site.feeds_started(0)  # the dashboard's stream is closed; this page has none
        await until(lambda: streams == ["/live/dashboard", "/live/notifications"])  # but the bell's
        await site.feeds_started(1, inboxes=True)
        first = page.locator(".inbox .notification").first
        await expect(first).to_contain_text("Loop in leadership: INC-30 needs you")
        await expect(first.locator(".unread-mark")).to_have_text("Unread")
        await pictures(page, shots, "inbox")

        await page.get_by_role("button", name="Mark all read").click()
        await page.wait_for_url(re.compile(r"/notifications\?marked=all$"))
        await expect(page.get_by_role("link", name="Notifications", exact=True)).to_be_visible()
        assert await page.locator(".unread-mark").count() == 0
    finally:
        await context.close()


def event_streams(page: Page) -> list[str]:
    """The paths (and queries) of the event streams ``page`` opens, as it opens them."""
    opened: list[str] = []

    def seen(request: Request) -> None:
        if "text/event-stream" in (request.headers.get("accept") or ""):
            url = urlsplit(request.url)
            opened.append(url.path + (f"?{url.query}" if url.query else ""))

    page.on("request", seen)
    return opened


async def pictures(page: Page, folder: Path, name: str) -> None:
    """Light and dark: no serious accessibility violation; a screenshot of each."""
    for scheme in ("light", "dark"):
        await page.emulate_media(color_scheme=scheme)
        await settled(page)
        violations = await axe(page)
        assert not violations, [(scheme, v["id"], v["help"]) for v in violations]
        await page.screenshot(path=str(folder / f"{name}-{scheme}.png"))
    await page.emulate_media(color_scheme="light")


async def test_the_bell_counts_live_on_the_list_and_an_incident_in_their_streams(browser, site, db):
    async with db.read() as session:
        executive = await users.get_user_by_email(session, "exec@demo.muster")
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    try:
        await sign_in(page, site.url, "exec@demo.muster")
        reference = await page.locator(".incident-row .ref").first.inner_text()
        streams = event_streams(page)
        for n, path in enumerate(("/incidents", f"/incidents/{reference}")):
            streams.clear()
            await page.goto(f"{site.url}{path}")
            await site.feeds_started(1)
            await site.feeds_started(1, inboxes=True)
            before = await unread_now(page)
            await notify_in_server(site, executive, f"Heads up {n}", "Look.")
            bell = page.get_by_role("link", name=f"Notifications, {before + 1} unread")
            await expect(bell).to_be_visible(timeout=LIVE)  # no reload
            assert streams == [f"/live{path}"], path  # the page's stream brought it
    finally:
        await context.close()

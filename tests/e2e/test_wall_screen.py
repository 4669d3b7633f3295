"""The wall screen in Chromium at 1920 x 1080: the demo organisation plus enough ongoing
incidents to overflow it, every one shown or summarised without scrolling, axe-core content, a
Critical incident declared while it is open appearing live at the top (pushing a Minor one into
the summary), and its screenshot (``docs/screenshots/wall-screen.png`` with
``MUSTER_SCREENSHOTS``, as ``make screenshots`` sets it)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from app.db import Database
from app.models import Severity
from app.services import declarations, incidents, users
from tests.e2e.conftest import axe, settled, sign_in
from tests.pages.conftest import dev_app, feeds_started
from tests.support.factories import named
from tests.support.servers import free_port, serving

LIVE = 5_000  # ms
SCREEN = {"width": 1920, "height": 1080}
# On top of the demo's ongoing incidents: enough that the Minor ones cannot all show.
EXTRA = {
    "Critical": ["Warehouse scanners offline in Leeds"],
    "Major": ["Invoices stuck in the PDF queue", "SSO sign-in slow for Okta customers"],
    "Minor": [
        "Typo in the welcome email",
        "Dark mode logo blurry",
        "CSV dates in US format",
        "Help centre search slow",
        "Slack app shows old avatars",
        "Webhook retries noisy",
        "Calendar sync an hour late",
        "Status badge misaligned",
        "Export button hidden on iPad",
    ],
}


@pytest.fixture
def served(db: Database, database_url: str) -> Iterator[tuple[str, object]]:
    port = free_port()
    app = dev_app(database_url, MUSTER_BASE_URL=f"http://127.0.0.1:{port}")
    with serving(app, port) as url:
        yield url, app


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    folder = os.environ.get("MUSTER_SCREENSHOTS")
    path = Path(folder) if folder else tmp_path
    path.mkdir(parents=True, exist_ok=True)
    return path


async def fits(page: Page) -> None:
    height = await page.evaluate("document.documentElement.scrollHeight")
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert height <= SCREEN["height"] and width <= SCREEN["width"], (width, height)


async def accounted(page: Page) -> dict[str, int]:
    """Every row on the page is shown or summarised: the rows shown by group and the hidden."""
    return await page.evaluate(
        """() => {
          const rows = [...document.querySelectorAll('#wall-board .wall-rows > li.wall-row')];
          const hidden = rows.filter((row) => row.hidden).length;
          const said = [...document.querySelectorAll('.wall-more li[data-more]:not([hidden]) .n')]
            .reduce((sum, n) => sum + Number(n.textContent), 0);
          return {rows: rows.length, hidden, said};
        }"""
    )


async def test_the_wall_screen_shows_everything_at_once_and_live(browser, served, db, shots):
    url, app = served
    async with db.read() as session:
        support = await users.get_user_by_email(session, "support@demo.muster")
    for severity_name, names in EXTRA.items():
        severity = await named(db, Severity, severity_name)
        for name in names:
            incident = await declarations.declare(
                db, actor=support, name=name, severity_id=severity.id
            )
            await incidents.share_update(
                db, actor=support, incident_id=incident.id, next_update_in_minutes=30,
                message="Looking into it with the team that owns it.",
            )  # fmt: skip
    context = await browser.new_context(viewport=SCREEN, color_scheme="dark")
    page = await context.new_page()
    try:
        await sign_in(page, url, "exec@demo.muster")
        await page.goto(f"{url}/?tv=1")
        await feeds_started(app)
        await expect(page.locator("#wall-state")).to_have_text("Live", timeout=LIVE)
        await settled(page)
        await fits(page)
        before = await accounted(page)
        assert before["hidden"] > 0 and before["hidden"] == before["said"], before
        assert await page.locator("form, button, input, select, a, nav").count() == 0
        for scheme in ("dark", "light"):  # the wall is dark either way
            await page.emulate_media(color_scheme=scheme)
            await settled(page)
            violations = await axe(page)
            assert not violations, [
                (scheme, v["id"], v["impact"], v["help"], [n["target"] for n in v["nodes"][:3]])
                for v in violations
            ]
        await page.screenshot(path=str(shots / "wall-screen.png"))

        critical = await named(db, Severity, "Critical")
        fresh = await declarations.declare(
            db,
            actor=support,
            name="Payments API returns 500 for every card",
            severity_id=critical.id,
        )
        row = page.locator(f"#wall-{fresh.reference}")
        await expect(row).to_be_visible(timeout=LIVE)
        first = page.locator(".wall-group:not([hidden]) .wall-row:not([hidden])").first
        await expect(first).to_have_id(f"wall-{fresh.reference}")
        await settled(page)
        await fits(page)
        after = await accounted(page)
        assert after["rows"] == before["rows"] + 1 and after["hidden"] == after["said"], after
        assert after["hidden"] >= before["hidden"]
    finally:
        await context.close()

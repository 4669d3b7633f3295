"""What people do in Muster, in a real Chromium against a real server with the demo
organisation: support declares and the executive's open dashboard shows it; a responder takes
the lead and promises the next update, and the executive sees it live; a private security
incident never shows up for the executive; the declare form by keyboard alone."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest
from playwright.async_api import expect

from app.db import Database
from app.services import declarations, incidents, users
from tests.e2e.conftest import sign_in
from tests.pages.conftest import dev_app
from tests.support.servers import Served, free_port, serving

LIVE = 2_000  # ms: what "appears live" means for a person watching (the bar)


@pytest.fixture
def served(db: Database, database_url: str) -> Iterator[Served]:
    """The demo served in this process, so a test can wait until a live feed has started."""
    port = free_port()
    app = dev_app(database_url, MUSTER_BASE_URL=f"http://127.0.0.1:{port}")
    with serving(app, port) as url:
        yield Served(url, app.state.services.hub)


@pytest.fixture
def site(served: Served) -> str:
    return served.url


async def test_support_declares_and_the_executives_dashboard_shows_it(persona, site, served):
    executive = await persona("exec@demo.muster")
    await expect(executive.get_by_role("heading", name="Ongoing incidents")).to_be_visible()
    await served.feeds_started()  # the dashboard's live feed knows where it starts

    support = await persona("support@demo.muster")
    await support.get_by_role("link", name="Declare incident").click()
    await support.get_by_label("Name").fill("34 customers can't log in")
    await support.get_by_label("Summary").fill("Since the 14:00 release, from the help centre.")
    await support.get_by_role("radio", name=re.compile(r"^Major\b")).check()
    started = time.monotonic()
    await support.get_by_role("button", name="Declare incident").click()
    await support.wait_for_url(re.compile(r"/incidents/INC-\d+$"))
    reference = support.url.rsplit("/", 1)[1]

    row = executive.locator(f"#incident-{reference}")
    await expect(row).to_contain_text("34 customers can't log in", timeout=LIVE)
    assert time.monotonic() - started < 2 + 1  # within 2 s of the incident page, allowing its load
    await expect(row).to_contain_text("Major")
    await expect(executive.locator("#announcer")).to_contain_text(reference)


async def test_a_responder_takes_lead_and_promises_the_next_update(persona, site, served, db):
    async with db.read() as session:
        reporter = await users.get_user_by_email(session, "support@demo.muster")
    incident = await declarations.declare(db, actor=reporter, name="Checkout slow in Safari")
    reference = incident.reference
    executive = await persona("exec@demo.muster")
    row = executive.locator(f"#incident-{reference}")
    await expect(row).to_contain_text("nobody yet")
    await served.feeds_started()

    responder = await persona("sre@demo.muster")
    await responder.goto(f"{site}/incidents/{reference}")
    await responder.get_by_role("button", name="Take lead").click()
    await expect(row).to_contain_text("Jordan Lee", timeout=LIVE)

    await responder.get_by_label("Message").fill("Rolled back the CDN change; watching errors.")
    await responder.get_by_label("Next update in").select_option(label="15 minutes")
    await responder.get_by_role("button", name="Share update").click()
    await expect(row).to_contain_text("Rolled back the CDN change", timeout=LIVE)
    await expect(row.locator(".due")).to_contain_text(re.compile(r"due in 1[45] min"))


async def test_a_private_security_incident_never_shows_for_the_executive(persona, site, served, db):
    async with db.read() as session:
        security = await users.get_user_by_email(session, "security@demo.muster")
    secret = "Laptop with customer exports stolen"
    from app.services import catalog

    async with db.read() as session:
        kind = next(t for t in await catalog.list_incident_types(session) if t.name == "Security")
    incident = await declarations.declare(db, actor=security, name=secret, type_id=kind.id)
    assert incident.private

    executive = await persona("exec@demo.muster")
    await served.feeds_started()  # were the note to leak, the open dashboard would show it
    await incidents.add_note(db, actor=security, incident_id=incident.id, message="Wiped remotely")
    for path in ("/", "/incidents", f"/incidents?search={secret.split()[0]}"):
        await executive.goto(f"{site}{path}")
        await expect(executive.get_by_role("main")).to_be_visible()
        assert secret not in await executive.content(), path
    await executive.goto(f"{site}/incidents/{incident.reference}")
    assert "Laptop" not in await executive.content()
    await expect(executive.get_by_role("heading", level=1)).to_contain_text("not found")

    insider = await persona("security@demo.muster")
    await insider.goto(f"{site}/incidents/{incident.reference}")
    await expect(insider.get_by_role("heading", level=1)).to_contain_text(secret)


async def test_the_declare_form_works_by_keyboard_alone(browser, site):
    context = await browser.new_context()
    page = await context.new_page()
    await sign_in(page, site, "data@demo.muster")
    await page.goto(f"{site}/incidents/new")
    # From the top of the page: the skip link, then into the form, with Tab alone.
    await page.keyboard.press("Tab")
    await expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    await page.keyboard.press("Enter")
    for _ in range(30):
        await page.keyboard.press("Tab")
        if await page.evaluate("document.activeElement.id") == "declare-name":
            break
    else:
        raise AssertionError("Tab never reached the Name field")
    await page.keyboard.type("Revenue dashboard shows zero for EU")
    await page.keyboard.press("Tab")
    await expect(page.get_by_label("Summary")).to_be_focused()
    await page.keyboard.type("Since the 02:00 load.")
    await page.keyboard.press("Tab")  # into the type choices
    async with page.expect_response(lambda answer: "/incidents/new?" in answer.url) as redrawn:
        await page.keyboard.press("ArrowDown")  # the next type, by arrow keys as radios go
    await (await redrawn.value).finished()  # the type's part of the form is redrawn:
    # (a locator, not wait_for_function: polling a string predicate is eval, which CSP refuses)
    await expect(page.locator(".htmx-request")).to_have_count(0)
    for _ in range(40):
        focused = await page.evaluate("document.activeElement.textContent.trim()")
        if focused == "Declare incident":
            break
        await page.keyboard.press("Tab")
    else:
        raise AssertionError("Tab never reached the Declare incident button")
    await page.keyboard.press("Enter")
    await page.wait_for_url(re.compile(r"/incidents/INC-\d+$"))
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Revenue dashboard")
    await context.close()

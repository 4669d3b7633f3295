"""The pages under their Content-Security-Policy in a real Chromium: every page, a live update
over SSE, htmx form posts, and GraphiQL running a query with a token header, each with no CSP
violation reported (``securitypolicyviolation`` events and the console), no script error and no
failed request."""

from __future__ import annotations

import json
from collections.abc import Iterator
from urllib.parse import urlencode

import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect

from app.db import Database
from app.models import TokenScope
from app.services import declarations, tokens, users
from tests.e2e.conftest import sign_in
from tests.e2e.test_pages import PAGES
from tests.pages.conftest import dev_app
from tests.support.servers import Served, free_port, serving

LIVE = 2_000  # ms
REPORT = """
document.addEventListener("securitypolicyviolation", (e) => {
  console.error(`csp-violation ${e.violatedDirective} ${e.blockedURI} at ${e.sourceFile}:${e.lineNumber}`);
});
"""


class Watched:
    """What went wrong in a browser context: CSP violations, script errors, failed requests."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    async def open(self, browser: Browser) -> BrowserContext:
        context = await browser.new_context()
        await context.add_init_script(REPORT)  # runs before each page's own scripts
        context.on("page", self.watch)
        return context

    def watch(self, page: Page) -> None:
        def console(message) -> None:
            if "Failed to load resource" in message.text:
                return  # a status, told by the response listener (pages answering 404 are fine)
            if message.type == "error" or "Content Security Policy" in message.text:
                self.problems.append(f"console: {message.text}")

        page.on("console", console)
        page.on("pageerror", lambda error: self.problems.append(f"script error: {error}"))

        def failed(request) -> None:
            # Leaving a page aborts what it still loads (its live feed, a late icon): no failure.
            # (What the policy blocks fails as net::ERR_BLOCKED_BY_CSP, and is reported too.)
            if request.failure != "net::ERR_ABORTED":
                self.problems.append(f"failed: {request.url} {request.failure}")

        page.on("requestfailed", failed)

        def response(answer) -> None:
            if answer.status >= 400 and answer.request.resource_type != "document":
                self.problems.append(f"HTTP {answer.status}: {answer.url}")

        page.on("response", response)


@pytest.fixture
def site(db: Database, database_url: str) -> Iterator[Served]:
    """The demo, with GraphiQL on."""
    port = free_port()
    app = dev_app(database_url, MUSTER_BASE_URL=f"http://127.0.0.1:{port}", MUSTER_GRAPHIQL="1")
    with serving(app, port) as url:
        yield Served(url, app.state.services.hub)


@pytest.fixture
async def watched(browser: Browser):
    watching = Watched()
    contexts: list[BrowserContext] = []

    async def open_as(email: str | None, site: str) -> Page:
        context = await watching.open(browser)
        contexts.append(context)
        page = await context.new_page()
        if email is not None:
            await sign_in(page, site, email)
        return page

    yield watching, open_as
    for context in contexts:
        await context.close()


async def test_every_page_runs_under_the_policy(site, watched):
    watching, open_as = watched
    pages: dict[str | None, Page] = {}
    for name, who, path in PAGES:
        if who not in pages:
            pages[who] = await open_as(who, site.url)
        page = pages[who]
        answer = await page.goto(f"{site.url}{path}")
        assert (
            answer is not None and "script-src 'self'" in answer.headers["content-security-policy"]
        ), name
        await page.wait_for_load_state("load")
        if await page.locator("script[src*='htmx']").count():  # (the status history has none)
            await page.wait_for_function("typeof htmx === 'object'")  # the scripts ran
    assert watching.problems == []


async def test_live_updates_and_htmx_forms_under_the_policy(site, watched, db):
    watching, open_as = watched
    async with db.read() as session:
        reporter = await users.get_user_by_email(session, "support@demo.muster")
    executive = await open_as("exec@demo.muster", site.url)
    await site.feeds_started()  # the dashboard's live feed knows where it starts

    incident = await declarations.declare(db, actor=reporter, name="Checkout slow in Safari")
    row = executive.locator(f"#incident-{incident.reference}")
    await expect(row).to_contain_text("Checkout slow in Safari", timeout=LIVE)  # over SSE

    responder = await open_as("sre@demo.muster", site.url)
    await responder.goto(f"{site.url}/incidents/{incident.reference}")
    async with responder.expect_response(lambda r: r.request.method == "POST") as posted:
        await responder.get_by_role("button", name="Take lead").click()  # an htmx post
    answer = await posted.value
    assert answer.request.headers.get("hx-request") == "true"
    await expect(row).to_contain_text("Jordan Lee", timeout=LIVE)

    await responder.get_by_label("Message").fill("Rolled back the CDN change.")
    await responder.get_by_role("button", name="Share update").click()
    await expect(row).to_contain_text("Rolled back the CDN change", timeout=LIVE)
    await expect(responder.locator("#timeline-list")).to_contain_text("Rolled back")
    assert watching.problems == []


async def test_graphiql_runs_a_query_with_a_token_under_the_policy(site, watched, db):
    watching, open_as = watched
    async with db.read() as session:
        person = await users.get_user_by_email(session, "sre@demo.muster")
    _, secret = await tokens.create_token(db, user=person, name="graphiql", scope=TokenScope.READ)
    page = await open_as(None, site.url)
    parameters = {
        "q": "{ viewer { email } }",
        "headers": json.dumps({"Authorization": f"Bearer {secret}"}),
    }
    answer = await page.goto(f"{site.url}/graphql?{urlencode(parameters)}")
    assert answer is not None and answer.status == 200
    run = page.locator(".graphiql-execute-button")
    await expect(run).to_be_visible(timeout=10_000)
    async with page.expect_response(
        lambda r: r.request.method == "POST" and "viewer" in (r.request.post_data or "")
    ) as posted:
        await run.click()
    response = await posted.value
    assert response.request.headers["authorization"] == f"Bearer {secret}"
    assert await response.json() == {"data": {"viewer": {"email": "sre@demo.muster"}}}
    await expect(page.locator(".result-window")).to_contain_text("sre@demo.muster")
    assert watching.problems == []

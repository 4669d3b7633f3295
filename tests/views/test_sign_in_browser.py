"""Signing in and out in a real headless Chromium, against a real uvicorn and the real OpenID
Provider: from a page that needs sign-in, through the provider's login form, back to that page;
then signing out here and at the provider."""

from __future__ import annotations

import pytest

from app.config import Settings
from tests.live.conftest import serving
from views.app import create_app


@pytest.fixture
def site(db, database_url, identity_provider):
    """Muster on the port the provider expects, with the provider configured."""
    base = f"http://127.0.0.1:{identity_provider.muster_port}"
    environ = {
        **identity_provider.muster_env(base),
        "MUSTER_DATABASE_URL": database_url,
        "MUSTER_SECRET_KEY": "k" * 32,
    }
    with serving(create_app(Settings.from_env(environ)), identity_provider.muster_port) as url:
        yield url


async def test_sign_in_and_out_in_chromium(site, page, identity_provider):
    await page.goto(f"{site}/?from=chromium")
    assert page.url.startswith(f"{site}/auth/sign-in")
    await page.get_by_role("link", name="Sign in with your organisation's account").click()

    await page.wait_for_url(f"{identity_provider.issuer}/**")
    await page.fill("input[name=login]", "admin@example.com")
    await page.fill("input[name=password]", "any password")
    await page.click("button[type=submit]")

    await page.wait_for_url(f"{site}/?from=chromium")
    assert await page.get_by_role("heading", level=1).inner_text() == "Ongoing incidents"
    account = await page.inner_text(".account")
    assert "Adrian Admin" in account  # the name the provider gave
    assert "admin" in account.replace("Adrian Admin", "")  # the role its groups give
    cookies = {c["name"]: c for c in await page.context.cookies(site)}
    assert cookies["muster_session"]["httpOnly"]
    assert cookies["muster_session"]["sameSite"] == "Lax"

    await page.get_by_role("button", name="Sign out").click()
    await page.wait_for_url(f"{identity_provider.issuer}/**")
    await page.click("button[value=yes]")
    await page.wait_for_url(f"{site}/auth/signed-out")
    assert "You have signed out" in await page.inner_text("main")
    assert "muster_session" not in {c["name"] for c in await page.context.cookies(site)}
    await page.goto(f"{site}/")
    assert page.url.startswith(f"{site}/auth/sign-in")

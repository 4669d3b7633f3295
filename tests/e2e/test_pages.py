"""Every page, light and dark, in Chromium: axe-core finds no serious or critical accessibility
violation, and a screenshot is taken. Screenshots go to a temporary folder, or to the folder
named by ``MUSTER_SCREENSHOTS`` (``make screenshots`` writes them to docs/screenshots/)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.e2e.conftest import axe, settled, sign_in

# (name, who, path): who is None for pages seen signed out.
PAGES = [
    ("sign-in", None, "/auth/sign-in"),
    ("dashboard", "exec@demo.muster", "/"),
    ("dashboard-tv", "exec@demo.muster", "/?tv=1"),
    ("declare", "support@demo.muster", "/incidents/new"),
    ("incident", "sre@demo.muster", "/incidents/INC-25"),
    ("incident-private", "security@demo.muster", "/incidents/INC-22"),
    ("incident-not-found", "admin@demo.muster", "/incidents/INC-999"),
    ("incidents", "exec@demo.muster", "/incidents"),
    ("incidents-search", "exec@demo.muster", "/incidents?search=login"),
    ("my-work", "sre@demo.muster", "/me"),
    ("notifications", "exec@demo.muster", "/notifications"),
    ("settings-notifications", "sre@demo.muster", "/settings/notifications"),
    ("settings-tokens", "support@demo.muster", "/settings"),
    ("settings-types", "admin@demo.muster", "/settings/types"),
    ("settings-teams", "admin@demo.muster", "/settings/teams"),
    ("settings-workflows", "admin@demo.muster", "/settings/workflows"),
    ("settings-webhooks", "admin@demo.muster", "/settings/webhooks"),
    ("settings-status", "admin@demo.muster", "/settings/status"),
    ("sign-out", "data@demo.muster", "/auth/logout"),
    ("status", None, "/status"),
    ("status-history", None, "/status/history"),
    ("status-subscribe", None, "/status/subscribe"),
    ("status-internal", "support@demo.muster", "/status/internal"),
    ("status-internal-maintenance", "sre@demo.muster", "/status/internal#schedule"),
]


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = os.environ.get("MUSTER_SCREENSHOTS")
    path = Path(folder) if folder else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.mark.parametrize(("name", "who", "path"), PAGES, ids=[p[0] for p in PAGES])
async def test_page_is_accessible_and_pictured(browser, demo_site, shots, name, who, path):
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    try:
        if who is not None:
            await sign_in(page, demo_site, who)
        response = await page.goto(f"{demo_site}{path}")
        assert response is not None
        assert response.status == (404 if name == "incident-not-found" else 200)
        for scheme in ("light", "dark"):
            await page.emulate_media(color_scheme=scheme)
            await settled(page)
            violations = await axe(page)
            assert not violations, [
                (scheme, v["id"], v["impact"], v["help"], [n["target"] for n in v["nodes"][:3]])
                for v in violations
            ]
            await page.screenshot(path=str(shots / f"{name}-{scheme}.png"), full_page=True)
    finally:
        await context.close()


async def test_pages_fit_a_phone(browser, demo_site, shots):
    site = demo_site
    context = await browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True)
    page = await context.new_page()
    await sign_in(page, site, "exec@demo.muster")
    for path, name in [
        ("/", "dashboard"),
        ("/incidents/INC-25", "incident"),
        ("/status", "status"),
        ("/status/subscribe", "status-subscribe"),
    ]:
        await page.goto(f"{site}{path}")
        await settled(page)
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, f"{path} scrolls sideways on a phone ({width} px)"
        await page.screenshot(path=str(shots / f"{name}-phone.png"), full_page=True)
    await context.close()

"""The status page tab: an admin saves the page settings and adds and edits components through
the forms, and /status then shows the new title, intro, support link and component; a refused
form keeps its input with the message on its field (an off-site logo, a javascript: link);
members are told only admins may, and their posts change nothing."""

from __future__ import annotations

from sqlalchemy import select

from app.models import StatusComponent
from tests.support.html import facts, field_error, one, parse, text, texts, value

PATH = "/settings/status"
SETTINGS = {
    "title": "Acme status",
    "intro": "Live status of Acme's services.",
    "supportUrl": "mailto:help@acme.test",
    "logoUrl": "/static/favicon.svg",
}


def components(page: str) -> dict[str, dict[str, str]]:
    return {
        text(li, ".item-name"): facts(li)
        for li in parse(page).css("#settings-section li.status-component")
    }


def noticed(page: str) -> str:
    return text(parse(page), '#settings-section .notice.ok[role="status"]')


async def test_an_admin_sets_up_the_status_page(browsers, people):
    async with browsers(people.admin) as browser:
        page = await browser.get(PATH)
        assert page.status_code == 200
        tree = parse(page.text)
        assert "Status page" in texts(tree, ".settings-tabs a")
        assert one(tree, 'a[href="/status"]').text() == "View the public status page"
        assert text(tree, "#settings-section .empty") == "No components yet: add one below."

        saved = await browser.post(PATH, SETTINGS)
        assert saved.status_code == 303
        page = await browser.get(saved.headers["location"])
        assert noticed(page.text) == "Saved the status page settings."
        assert value(parse(page.text), "title") == "Acme status"

        made = await browser.post(
            f"{PATH}/components",
            {"name": "API", "description": "The REST API.", "groupName": "Core", "public": "on"},
        )
        assert made.status_code == 303
        page = await browser.get(made.headers["location"])
        assert noticed(page.text) == "Created “API”."
        assert components(page.text)["API"] == {
            "Group": "Core",
            "Shown": "Public",
            "Status": "Operational",
        }
        await browser.post(f"{PATH}/components", {"name": "Billing jobs", "groupName": ""})

        item = (
            one(parse(page.text), "li.status-component").attributes["id"].removeprefix("component-")
        )
        edited = await browser.post(
            f"{PATH}/components/{item}",
            {
                "name": "Public API",
                "description": "The REST API.",
                "groupName": "Core",
                "public": "on",
                "status": "PARTIAL_OUTAGE",
            },
            htmx=True,
        )
        assert edited.status_code == 200
        assert noticed(edited.text) == "Saved the changes to “Public API”."
        shown = components(edited.text)
        assert shown["Public API"]["Status"] == "Partial outage"
        assert shown["Billing jobs Internal"] == {
            "Group": "None",
            "Shown": "Internal only",
            "Status": "Operational",
        }

        public = await browser.get("/status")
        assert public.status_code == 200
        assert "Acme status" in text(parse(public.text), "h1")
        assert "Live status of Acme's services." in parse(public.text).body.text()
        assert one(parse(public.text), 'a[href="mailto:help@acme.test"]').text() == (
            "Contact support"
        )
        assert one(parse(public.text), "img.status-logo").attributes["src"] == (
            "/static/favicon.svg"
        )
        assert "Public API" in public.text and "Partial outage" in public.text
        assert "Billing jobs" not in public.text


async def test_a_refused_form_keeps_its_input(browsers, people):
    async with browsers(people.admin) as browser:
        refused = await browser.post(
            PATH,
            {**SETTINGS, "title": "Keep me", "logoUrl": "https://cdn.acme.test/logo.png"},
        )
        assert refused.status_code == 422
        form = one(parse(refused.text), '[aria-labelledby="page-settings-heading"] form')
        assert "path on this site" in field_error(form, "logoUrl")
        assert value(form, "title") == "Keep me"
        assert value(form, "logoUrl") == "https://cdn.acme.test/logo.png"

        refused = await browser.post(PATH, {**SETTINGS, "supportUrl": "javascript:alert(1)"})
        assert refused.status_code == 422
        form = one(parse(refused.text), '[aria-labelledby="page-settings-heading"] form')
        assert "http:// or https://" in field_error(form, "supportUrl")

        refused = await browser.post(f"{PATH}/components", {"name": ""})
        assert refused.status_code == 422
        assert field_error(parse(refused.text), "name") == "Name cannot be empty."
        page = await browser.get(PATH)
        assert value(parse(page.text), "title") == "Status"
        assert components(page.text) == {}


async def test_members_are_refused(browsers, people, db):
    async with browsers(people.admin) as browser:
        await browser.post(f"{PATH}/components", {"name": "API", "public": "on"})
        page = await browser.get(PATH)
        item = (
            one(parse(page.text), "li.status-component").attributes["id"].removeprefix("component-")
        )
    for who in (people.member, people.responder):
        async with browsers(who) as browser:
            page = await browser.get(PATH)
            assert page.status_code == 403
            assert "Only admins" in page.text
            assert "Status page" not in texts(parse(page.text), ".settings-tabs a")
            for path, data in (
                (PATH, {**SETTINGS, "title": "Mine"}),
                (f"{PATH}/components", {"name": "Mine", "public": "on"}),
                (
                    f"{PATH}/components/{item}",
                    {"name": "Mine", "public": "on", "status": "MAJOR_OUTAGE"},
                ),
            ):
                answer = await browser.post(path, data)
                assert answer.status_code == 403, path
    async with browsers(people.admin) as browser:
        page = await browser.get(PATH)
        assert value(parse(page.text), "title") == "Status"
    async with db.read() as session:
        rows = list(await session.scalars(select(StatusComponent)))
        assert [(r.name, r.status.name) for r in rows] == [("API", "OPERATIONAL")]

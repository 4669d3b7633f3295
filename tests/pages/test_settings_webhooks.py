"""The webhooks tab: an admin adds an endpoint and sees its secret once, edits it, sends a test
(which shows in the delivery log), turns it off and on, makes a new secret and deletes it; a
refused form keeps its input; members are told only admins may, and their posts change nothing."""

from __future__ import annotations

from sqlalchemy import select

from app.models import WebhookDelivery, WebhookEndpoint
from tests.support.html import checked, facts, field_error, one, parse, text, texts, value

PATH = "/settings/webhooks"
NEW = {
    "url": "https://chat.example.com/hooks/T1",
    "description": "#incidents",
    "format": "SLACK",
    "eventTypes": ["incident.declared", "incident.resolved"],
}


def endpoints(page: str) -> dict[str, dict[str, str]]:
    return {
        text(li, ".item-name"): facts(li) for li in parse(page).css("#settings-section li.webhook")
    }


def endpoint_id(page: str) -> str:
    return one(parse(page), "li.webhook").attributes["id"].removeprefix("webhook-")


def noticed(page: str) -> str:
    return text(parse(page), '#settings-section .notice.ok[role="status"]')


async def test_an_admin_manages_an_endpoint(browsers, people, db):
    async with browsers(people.admin) as browser:
        page = await browser.get(PATH)
        assert page.status_code == 200
        assert "Webhooks" in texts(parse(page.text), ".settings-tabs a")
        assert text(parse(page.text), "#settings-section .empty") == (
            "No endpoints yet: add one below."
        )

        made = await browser.post(PATH, NEW)
        assert made.status_code == 200  # answered in place: the secret never goes in a URL
        secret = text(parse(made.text), "textarea#new-webhook-secret")
        assert secret.startswith("whsec_")
        shown = endpoints(made.text)["#incidents"]
        assert shown["Receiver"] == "Slack, Mattermost or Rocket.Chat"
        assert shown["Events"] == "Declared, Resolved"
        assert shown["Private incidents"] == "Never sent"

        again = await browser.get(PATH)
        assert secret not in again.text and parse(again.text).css("#new-webhook-secret") == []
        item = endpoint_id(again.text)
        tree = parse(again.text)
        assert checked(tree, "eventTypes")[:2] == ["incident.declared", "incident.resolved"]

        saved = await browser.post(
            f"{PATH}/{item}",
            {"url": NEW["url"], "description": "#ops", "format": "TEAMS", "includePrivate": "on"},
        )
        assert saved.status_code == 303
        page = await browser.get(saved.headers["location"])
        assert noticed(page.text) == "Saved the changes to “#ops”."
        assert endpoints(page.text)["#ops"]["Events"] == "Every event"
        assert endpoints(page.text)["#ops"]["Private incidents"] == "Included"

        tested = await browser.post(f"{PATH}/{item}/test", htmx=True)
        assert tested.status_code == 200
        assert noticed(tested.text).startswith("Sent a test to “#ops”")
        [row] = parse(tested.text).css("table.deliveries tbody tr")
        assert "webhook.test" in row.text() and "Retrying" in text(row, ".state")

        off = await browser.post(f"{PATH}/{item}/switch", {"enabled": "false"})
        page = await browser.get(off.headers["location"])
        assert "Off" in text(parse(page.text), "li.webhook .item-name")
        assert "Turned off by Ada Admin." in page.text
        on = await browser.post(f"{PATH}/{item}/switch", {"enabled": "true"})
        page = await browser.get(on.headers["location"])
        assert noticed(page.text) == "Turned “#ops” on."

        rotated = await browser.post(f"{PATH}/{item}/rotate")
        assert rotated.status_code == 200
        new_secret = text(parse(rotated.text), "textarea#new-webhook-secret")
        assert new_secret.startswith("whsec_") and new_secret != secret

        deleted = await browser.post(f"{PATH}/{item}/delete")
        page = await browser.get(deleted.headers["location"])
        assert noticed(page.text) == "Deleted the endpoint and its delivery log."
        assert endpoints(page.text) == {}
    async with db.read() as session:
        assert await session.scalar(select(WebhookEndpoint.id)) is None
        assert await session.scalar(select(WebhookDelivery.id)) is None


async def test_a_refused_form_keeps_its_input(browsers, people):
    async with browsers(people.admin) as browser:
        refused = await browser.post(
            PATH, {**NEW, "url": "ftp://chat.example.com/x", "description": "keep me"}
        )
        assert refused.status_code == 422
        tree = parse(refused.text)
        form = one(tree, '[aria-labelledby="new-webhook-heading"] form')
        assert "https:// or http://" in field_error(form, "url")
        assert value(form, "description") == "keep me"
        assert checked(form, "eventTypes") == ["incident.declared", "incident.resolved"]
        assert parse((await browser.get(PATH)).text).css("li.webhook") == []


async def test_members_are_refused(browsers, people, db):
    async with browsers(people.admin) as browser:
        await browser.post(PATH, NEW)
        item = endpoint_id((await browser.get(PATH)).text)
    async with browsers(people.member) as browser:
        page = await browser.get(PATH)
        assert page.status_code == 403
        assert "Only admins" in page.text and NEW["url"] not in page.text
        for path, data in (
            (PATH, NEW),
            (f"{PATH}/{item}", {**NEW, "description": "mine"}),
            (f"{PATH}/{item}/test", {}),
            (f"{PATH}/{item}/rotate", {}),
            (f"{PATH}/{item}/delete", {}),
        ):
            answer = await browser.post(path, data)
            assert answer.status_code == 403, path
            assert "whsec_" not in answer.text
    async with db.read() as session:
        rows = list(await session.scalars(select(WebhookEndpoint)))
        assert [r.description for r in rows] == ["#incidents"]
        assert await session.scalar(select(WebhookDelivery.id)) is None

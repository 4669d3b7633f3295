"""Subscribing to the status page from a browser with no cookies, with mail going to a real SMTP
server on loopback: the form (per component), "check your inbox" alike for every address, the
confirmation link's button, the subscription's page, one-click unsubscribe as a mail provider
sends it (RFC 8058), bad links, another site's forms refused, and no offer without email."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from urllib.parse import urlsplit

import httpx2
import pytest
from sqlalchemy import func, select

from app import jobs
from app.models import StatusSubscriber
from app.services import status_components, status_page
from app.worker import HANDLERS
from tests.pages.conftest import SITE, dev_app, hearing
from tests.support.html import parse, text_of
from tests.support.receivers import MailServer
from views.status_subscriptions import ASKS_PER_MINUTE

FORM = {"Origin": SITE}


@pytest.fixture
def smtp() -> Iterator[MailServer]:
    with MailServer.running() as server:
        yield server


@pytest.fixture
async def site(db, database_url, smtp):
    """The app with email on; a cookie-less browser on it."""
    app = hearing(db, dev_app(database_url, MUSTER_SMTP_URL=smtp.url,
                              MUSTER_MAIL_FROM="Status <status@example.com>", MUSTER_RUN_JOBS="0"))  # fmt: skip
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url=SITE) as http:
        yield http
    await app.state.services.db.dispose()


async def drain(db, smtp) -> None:
    async with httpx2.AsyncClient() as http:
        outside = jobs.Outside(base_url=SITE, secret_key="k" * 32, mail=smtp.settings, http=http)
        while taken := await jobs.claim(db, limit=50, lease=timedelta(minutes=1)):
            for job in taken:
                await HANDLERS[job.kind](db, job.payload, outside)
            await jobs.finish(db, taken)


def link_in(message, path: str) -> str:
    text = message.get_body(("plain",)).get_content()
    found = re.search(rf"{SITE}({path}\?token=\S+)", text)
    assert found, text
    return found.group(1)


async def components(db, people):
    api = await status_components.create_component(db, actor=people.admin, name="API")
    web = await status_components.create_component(db, actor=people.admin, name="Dashboard")
    return api, web


def heading(page: str) -> str:
    return text_of(parse(page).css_first("main h1"))


async def test_a_customer_subscribes_to_one_component_confirms_and_hears_only_of_it(
    db, people, site, smtp
):
    api, web = await components(db, people)
    status = await site.get("/status")
    assert parse(status.text).css_first('a[href="/status/subscribe"]') is not None

    form = parse((await site.get("/status/subscribe")).text)
    assert form.css_first('label[for="email"]') is not None
    boxes = form.css('input[name="component"]')
    assert [text_of(form.css_first(f'label[for="{b.attributes["id"]}"]')) for b in boxes] == [
        "API",
        "Dashboard",
    ]
    api_id = boxes[0].attributes["value"]

    sent = await site.post("/status/subscribe", data={"email": "cus@example.com",
                                                      "component": api_id}, headers=FORM)  # fmt: skip
    assert sent.status_code == 200 and heading(sent.text) == "Check your inbox"
    assert sent.headers["cache-control"] == "no-store"
    await drain(db, smtp)
    [confirmation] = smtp.to("cus@example.com")
    assert confirmation["Subject"] == "Confirm your subscription to Status"
    assert "about API" in confirmation.get_body(("plain",)).get_content()

    # Opening the link confirms nothing (mail scanners open links); its button does.
    confirm = link_in(confirmation, "/status/subscribe/confirm")
    opened = await site.get(confirm)
    assert heading(opened.text) == "Confirm your subscription"
    token = parse(opened.text).css_first('input[name="token"]').attributes["value"]
    async with db.read() as session:
        assert await session.scalar(select(StatusSubscriber.confirmed_at)) is None
    done = await site.post("/status/subscribe/confirm", data={"token": token}, headers=FORM)
    assert heading(done.text) == "Your subscription"
    assert "You are subscribed." in text_of(parse(done.text).css_first("main"))
    ticked = parse(done.text).css('input[name="component"][checked]')
    assert [box.attributes["value"] for box in ticked] == [api_id]

    for component in (web, api):
        await status_page.publish_status_incident(
            db, actor=people.responder, title=f"{component.name} errors", message="Looking.",
            affected=[(component.id, status_page.ComponentStatus.MAJOR_OUTAGE)],
        )  # fmt: skip
    await drain(db, smtp)
    [news] = smtp.to("cus@example.com")[1:]
    assert news["Subject"] == "Status: API errors (Investigating)"
    incident_page = re.search(
        rf"{SITE}(/status/incidents/\S+)", news.get_body(("plain",)).get_content()
    )
    opened_incident = await site.get(incident_page.group(1))
    assert opened_incident.status_code == 200 and "API errors" in opened_incident.text


async def test_one_click_unsubscribe_works_as_a_mail_provider_posts_it(db, people, site, smtp):
    await site.post("/status/subscribe", data={"email": "cus@example.com"}, headers=FORM)
    await drain(db, smtp)
    confirm = link_in(smtp.to("cus@example.com")[0], "/status/subscribe/confirm")
    token = (
        parse((await site.get(confirm)).text).css_first('input[name="token"]').attributes["value"]
    )
    await site.post("/status/subscribe/confirm", data={"token": token}, headers=FORM)
    await status_page.publish_status_incident(db, actor=people.responder, title="Slow", message="m")
    await drain(db, smtp)
    news = smtp.to("cus@example.com")[-1]
    url = re.fullmatch(r"<(.+)>", news["List-Unsubscribe"]).group(1)
    assert url.startswith(f"{SITE}/status/unsubscribe?token=")
    path = urlsplit(url)._replace(scheme="", netloc="").geturl()

    # Opening it only asks; the provider's POST (no cookie, no Origin, just the body) does it.
    asked = await site.get(path)
    assert heading(asked.text) == "Unsubscribe"
    clicked = await site.post(
        path, content=b"List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )  # fmt: skip
    assert clicked.status_code == 200 and heading(clicked.text) == "You are unsubscribed"
    async with db.read() as session:
        assert await session.scalar(select(func.count()).select_from(StatusSubscriber)) == 0
    again = await site.post(path, content=b"List-Unsubscribe=One-Click",
                            headers={"Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip
    assert again.status_code == 200  # done already is done
    manage = link_in(news, "/status/subscription")
    assert (await site.get(manage)).status_code == 404


async def test_the_answer_is_the_same_for_every_address(db, people, site, smtp):
    await site.post("/status/subscribe", data={"email": "known@example.com"}, headers=FORM)
    answers = []
    for email in ("known@example.com", "stranger@example.com"):
        answer = await site.post("/status/subscribe", data={"email": email}, headers=FORM)
        answers.append(answer.text.replace(email, "ADDRESS"))
    assert answers[0] == answers[1]


async def test_bad_input_and_bad_links_get_clear_answers(db, people, site, smtp):
    refused = await site.post("/status/subscribe", data={"email": "nope"}, headers=FORM)
    assert refused.status_code == 422
    field = parse(refused.text).css_first("#email")
    assert field.attributes.get("aria-invalid") == "true"
    assert "Not an email address" in text_of(parse(refused.text).css_first("#email-error"))
    for path in ("/status/subscribe/confirm?token=x.y", "/status/subscription?token=abc",
                 "/status/unsubscribe?token="):  # fmt: skip
        answer = await site.get(path)
        assert answer.status_code == 404 and heading(answer.text) == "This link is not valid"
    forged = await site.post("/status/unsubscribe?token=a.b", headers=FORM)
    assert forged.status_code == 404
    await drain(db, smtp)
    assert smtp.messages == []


async def test_another_site_cannot_post_the_forms(db, people, site, smtp):
    evil = {"Origin": "https://evil.example"}
    answer = await site.post(
        "/status/subscribe", data={"email": "victim@example.com"}, headers=evil
    )
    assert answer.status_code == 403
    await drain(db, smtp)
    assert smtp.messages == []


async def test_without_email_nothing_is_offered(db, database_url, people):
    app = hearing(db, dev_app(database_url))
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url=SITE) as http:
        status = await http.get("/status")
        assert parse(status.text).css_first('a[href="/status/subscribe"]') is None
        form = await http.get("/status/subscribe")
        assert form.status_code == 404
        assert heading(form.text) == "Email updates are not available"
    await app.state.services.db.dispose()


async def test_one_address_may_ask_only_a_few_times_a_minute(db, people, site, smtp):
    for n in range(ASKS_PER_MINUTE):
        answer = await site.post("/status/subscribe", data={"email": f"c{n}@example.com"},
                                 headers=FORM)  # fmt: skip
        assert answer.status_code == 200
    refused = await site.post("/status/subscribe", data={"email": "more@example.com"}, headers=FORM)
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
    assert (await site.get("/status/subscribe")).status_code == 200  # the form itself still opens
    await drain(db, smtp)
    assert smtp.to("more@example.com") == []
    assert len(smtp.messages) == ASKS_PER_MINUTE

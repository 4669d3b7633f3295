"""Email subscriptions to the status page, through their real jobs and a real SMTP server on
loopback (aiosmtpd): double opt-in, the same answer whoever the address is, at most one
confirmation per few minutes, each update mailed once to exactly the subscribers it concerns (per
component), the links in every mail (confirm, manage, RFC 8058 one-click unsubscribe) and what a
forged or old link opens."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from urllib.parse import parse_qs, unquote, urlsplit

import httpx2
import pytest
from sqlalchemy import func, select

from app import jobs
from app.errors import Invalid, NotFound
from app.models import Job, StatusDelivery, StatusSubscriber
from app.models.status_page import ComponentStatus, StatusIncidentState
from app.services import status_components
from app.services import status_page as sp
from app.services import status_subscriptions as subs
from app.worker import HANDLERS
from tests.support.receivers import MailServer

BASE = "https://status.example.com"
SECRET = "s" * 32
S = ComponentStatus


@pytest.fixture
def smtp() -> Iterator[MailServer]:
    with MailServer.running() as server:
        yield server


async def drain(db, smtp) -> None:
    """Run every due job, as the worker would, until none is left."""
    async with httpx2.AsyncClient() as http:
        outside = jobs.Outside(base_url=BASE, secret_key=SECRET, mail=smtp.settings, http=http)
        while taken := await jobs.claim(db, limit=50, lease=timedelta(minutes=1)):
            for job in taken:
                await HANDLERS[job.kind](db, job.payload, outside)
            await jobs.finish(db, taken)


def token_in(message) -> str:
    """The token of the first subscription link in a mail's text."""
    text = message.get_body(("plain",)).get_content()
    link = re.search(rf"{BASE}/status/\S+\?token=(\S+)", text)
    assert link, text
    return unquote(link.group(1))


async def subscribed(db, smtp, email, component_ids=()):
    """A confirmed subscriber, through the confirmation mail's link; their token."""
    await subs.subscribe(db, email=email, component_ids=component_ids)
    await drain(db, smtp)
    [confirmation] = smtp.to(email)
    token = token_in(confirmation)
    await subs.confirm(db, secret_key=SECRET, token=token)
    smtp.messages.clear()
    return token


async def components(db, people, *names, public=True):
    made = []
    for name in names:
        made.append(
            (
                await status_components.create_component(
                    db, actor=people.admin, name=name, public=public
                )
            ).id
        )
    return made


async def test_double_opt_in_sends_nothing_but_the_confirmation_until_confirmed(db, people, smtp):
    [api] = await components(db, people, "API")
    await subs.subscribe(db, email="  Cus@Example.com ", component_ids=[])
    await drain(db, smtp)
    [confirmation] = smtp.to("cus@example.com")
    assert confirmation["Subject"] == "Confirm your subscription to Status"
    assert "/status/subscribe/confirm?token=" in confirmation.get_body(("plain",)).get_content()

    await sp.publish_status_incident(
        db, actor=people.responder, title="API errors", message="Looking.",
        affected=[(api, S.MAJOR_OUTAGE)],
    )  # fmt: skip
    await drain(db, smtp)
    assert len(smtp.to("cus@example.com")) == 1  # unconfirmed: nothing more

    await subs.confirm(db, secret_key=SECRET, token=token_in(confirmation))
    await sp.publish_status_incident(
        db, actor=people.responder, title="Dashboard slow", message="Checking.",
    )  # fmt: skip
    await drain(db, smtp)
    news = smtp.to("cus@example.com")[-1]
    assert news["Subject"] == "Status: Dashboard slow (Investigating)"
    assert "Checking." in news.get_body(("plain",)).get_content()


async def test_each_update_reaches_exactly_the_subscribers_it_concerns_once(db, people, smtp):
    api, dashboard = await components(db, people, "API", "Dashboard")
    await subscribed(db, smtp, "all@example.com")
    await subscribed(db, smtp, "api@example.com", [api])
    await subscribed(db, smtp, "dash@example.com", [dashboard])

    made = await sp.publish_status_incident(
        db, actor=people.responder, title="API errors", message="We are looking into it.",
        affected=[(api, S.PARTIAL_OUTAGE)],
    )  # fmt: skip
    await drain(db, smtp)
    assert sorted(r for rs, _ in smtp.messages for r in rs) == [
        "all@example.com",
        "api@example.com",
    ]
    [message] = smtp.to("api@example.com")
    text = message.get_body(("plain",)).get_content()
    assert "We are looking into it." in text and "Affected: API" in text
    assert f"{BASE}/status/incidents/" in text
    page = message.get_body(("html",)).get_content()
    assert "We are looking into it." in page and "/status/incidents/" in page

    # RFC 8058: an https unsubscribe URL with the token, and the one-click header.
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = re.fullmatch(r"<(.+)>", message["List-Unsubscribe"]).group(1)
    assert unsubscribe.startswith(f"{BASE}/status/unsubscribe?token=")

    # An update to the same incident, and the fan-out taken over after a crash: once each.
    await sp.post_status_update(
        db, actor=people.responder, status_incident_id=made.id,
        state=StatusIncidentState.RESOLVED, message="Fixed.",
    )  # fmt: skip
    async with db.read() as session:
        [fan_out] = await session.scalars(select(Job).where(Job.kind == sp.NEWS_JOB))
    payload = fan_out.payload
    await drain(db, smtp)
    async with httpx2.AsyncClient() as http:
        outside = jobs.Outside(base_url=BASE, secret_key=SECRET, mail=smtp.settings, http=http)
        await subs.fan_out(db, payload, outside)  # run again, as a process taking it over would
    await drain(db, smtp)
    assert len(smtp.to("api@example.com")) == 2
    assert len(smtp.to("all@example.com")) == 2
    assert smtp.to("dash@example.com") == []


async def test_the_fan_out_goes_in_batches_and_skips_nobody(db, people, smtp, monkeypatch):
    monkeypatch.setattr(subs, "FAN_OUT_BATCH", 2)
    addresses = [f"c{n}@example.com" for n in range(5)]
    for address in addresses:
        await subscribed(db, smtp, address)
    await subs.subscribe(db, email="waiting@example.com")  # never confirmed
    await drain(db, smtp)
    smtp.messages.clear()

    await sp.publish_status_incident(db, actor=people.responder, title="Slow", message="Hm.")
    await drain(db, smtp)
    assert sorted(r for rs, _ in smtp.messages for r in rs) == addresses
    async with db.read() as session:
        assert await session.scalar(select(func.count()).select_from(StatusDelivery)) == 5
        sent = await session.scalars(select(StatusDelivery.sent_at))
        assert all(at is not None for at in sent)


async def test_asking_again_answers_alike_and_mails_at_most_every_few_minutes(
    db, people, smtp, clock
):
    token = await subscribed(db, smtp, "known@example.com")
    clock.advance(minutes=11)  # since its confirmation mail
    for email in ("known@example.com", "known@example.com", "new@example.com"):
        assert await subs.subscribe(db, email=email) is None  # one answer for all
    await drain(db, smtp)
    [again] = smtp.to("known@example.com")
    assert again["Subject"] == "You are already subscribed to Status"
    assert "/status/subscription?token=" in again.get_body(("plain",)).get_content()
    assert token_in(again) == token  # the same links as ever
    assert len(smtp.to("new@example.com")) == 1

    await subs.subscribe(db, email="new@example.com")
    await drain(db, smtp)
    assert len(smtp.to("new@example.com")) == 1  # too soon: not sent again
    clock.advance(minutes=11)
    await subs.subscribe(db, email="new@example.com")
    await drain(db, smtp)
    assert len(smtp.to("new@example.com")) == 2


async def test_an_unconfirmed_address_is_forgotten_after_a_week(db, people, smtp, clock):
    await subs.subscribe(db, email="late@example.com")
    await drain(db, smtp)
    token = token_in(smtp.to("late@example.com")[0])
    clock.advance(days=7, minutes=1)
    await drain(db, smtp)
    async with db.read() as session:
        assert await session.scalar(select(func.count()).select_from(StatusSubscriber)) == 0
    with pytest.raises(NotFound, match="has expired"):
        await subs.confirm(db, secret_key=SECRET, token=token)


async def test_links_open_only_their_own_subscription(db, people, smtp):
    api, internal = await components(db, people, "API", "Billing DB")
    await status_components.update_component(
        db, actor=people.admin, component_id=internal, public=False
    )
    token = await subscribed(db, smtp, "me@example.com")

    async with db.read() as session:
        row = await subs.subscription(session, secret_key=SECRET, token=token)
    assert row.email == "me@example.com" and row.component_ids is None
    changed = await subs.choose_components(db, secret_key=SECRET, token=token, component_ids=[api])
    assert changed.component_ids == [api]
    with pytest.raises(NotFound, match="No status component"):  # internal ones are not offered
        await subs.choose_components(db, secret_key=SECRET, token=token, component_ids=[internal])

    link_key, _, mac = token.partition(".")
    other = "B" if mac[-1] == "A" else "A"  # a real MAC ends in "A" one time in 64
    forged = [f"{link_key}.{mac[:-1]}{other}", f"{link_key}.", "nonsense", token + "x" * 200]
    for bad in forged:
        with pytest.raises(NotFound, match="not valid"):
            await subs.unsubscribe(db, secret_key=SECRET, token=bad)
    with pytest.raises(NotFound):  # the same token under another server's key
        await subs.unsubscribe(db, secret_key="t" * 32, token=token)

    await subs.unsubscribe(db, secret_key=SECRET, token=token)
    await subs.unsubscribe(db, secret_key=SECRET, token=token)  # twice, an old mail: done
    async with db.read() as session:
        assert await session.scalar(select(func.count()).select_from(StatusSubscriber)) == 0
        with pytest.raises(NotFound, match="not subscribed"):
            await subs.subscription(session, secret_key=SECRET, token=token)


async def test_an_unsubscribed_address_gets_nothing_already_queued(db, people, smtp):
    token = await subscribed(db, smtp, "gone@example.com")
    await sp.publish_status_incident(db, actor=people.responder, title="Slow", message="Hm.")
    async with httpx2.AsyncClient() as http:  # the fan-out ran, the mail is queued
        outside = jobs.Outside(base_url=BASE, secret_key=SECRET, mail=smtp.settings, http=http)
        [fan_out] = await jobs.claim(db, limit=1, lease=timedelta(minutes=1))
        await subs.fan_out(db, fan_out.payload, outside)
        await jobs.finish(db, [fan_out])
    await subs.unsubscribe(db, secret_key=SECRET, token=token)
    await drain(db, smtp)
    assert smtp.to("gone@example.com") == []


async def test_bad_input_is_refused_and_changes_nothing(db, people, smtp):
    [internal] = await components(db, people, "Billing DB", public=False)
    for email, chosen, error in (
        ("not an address", [], Invalid),
        ("x@example.com", [internal], NotFound),
        ("x@example.com", [10_000], NotFound),
        ("x@example.com", list(range(sp.MOST_AFFECTED + 1)), Invalid),
    ):
        with pytest.raises(error):
            await subs.subscribe(db, email=email, component_ids=chosen)
    await drain(db, smtp)
    assert smtp.messages == []
    async with db.read() as session:
        assert await session.scalar(select(func.count()).select_from(StatusSubscriber)) == 0


def test_tokens_carry_no_address():
    row = StatusSubscriber(email="me@example.com", link_key="ab" * 16)
    made = subs.token(SECRET, row)
    assert "me" not in made and made.startswith("ab" * 16 + ".")
    assert parse_qs(urlsplit(f"/x?token={made}").query)["token"] == [made]


async def test_a_component_made_internal_brings_its_subscribers_nothing(db, people, smtp):
    [billing] = await components(db, people, "Billing")
    await subscribed(db, smtp, "billing@example.com", [billing])
    await status_components.update_component(
        db, actor=people.admin, component_id=billing, public=False
    )
    await sp.publish_status_incident(
        db, actor=people.responder, title="Invoices late", message="Looking.",
        affected=[(billing, S.DEGRADED_PERFORMANCE)],
    )  # fmt: skip
    await drain(db, smtp)
    assert smtp.to("billing@example.com") == []

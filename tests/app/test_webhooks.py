"""Webhooks against a real HTTP receiver on loopback: Standard Webhooks signatures that the
``standardwebhooks`` library verifies, Slack and Teams messages, retries after a failure with the
same ``webhook-id``, the refusal of inside addresses, private incidents only to endpoints that
opted in, and an endpoint turned off (admins told) after repeated failure.

The deliveries are run the way the worker runs jobs: claimed from the queue, handed to
``webhooks.deliver``, then finished, or retried when it asks to be."""

from __future__ import annotations

import ipaddress
from datetime import timedelta

import httpx2
import pytest
from sqlalchemy import select
from standardwebhooks import Webhook

from app import jobs, outbound
from app.errors import Forbidden, Invalid
from app.models import (
    DeliveryState,
    Incident,
    Job,
    Notification,
    NotificationKind,
    TimelineEvent,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookFormat,
)
from app.services import declarations, incidents, webhook_endpoints, webhooks
from tests.support.receivers import Receiver

KEY = "k" * 32
BASE = "http://muster.test"


@pytest.fixture(scope="module")
def served_receiver():
    with Receiver.running() as receiver:
        yield receiver


@pytest.fixture
def receiver(served_receiver):
    served_receiver.got.clear()
    served_receiver.answers.clear()
    return served_receiver


@pytest.fixture
async def http():
    async with httpx2.AsyncClient() as client:
        yield client


def outside(http, *, allow_private=True, mail=None):
    return jobs.Outside(
        base_url=BASE, secret_key=KEY, mail=mail, http=http, webhook_allow_private=allow_private
    )


class Outbox:
    """Feeds committed timeline events to ``webhooks.react`` as the dispatcher does: in order,
    in one transaction per batch, from where it left off."""

    def __init__(self, db) -> None:
        self.db = db
        self.position = 0

    async def react(self) -> None:
        async with self.db.write() as session:
            events = list(
                await session.scalars(
                    select(TimelineEvent)
                    .where(TimelineEvent.id > self.position)
                    .order_by(TimelineEvent.id)
                )
            )
            if not events:
                return
            ids = {event.incident_id for event in events}
            rows = await session.scalars(select(Incident).where(Incident.id.in_(ids)))
            await webhooks.react(session, events, {i.id: i for i in rows}, now=self.db.now())
            self.position = events[-1].id


async def run_jobs(db, reach) -> list[jobs.RetryLater]:
    """Run every due webhook job once, as the worker would; the retries asked for."""
    retries = []
    for job in await jobs.claim(db, limit=100, lease=timedelta(minutes=1), kinds=[webhooks.JOB]):
        try:
            await webhooks.deliver(db, job.payload, reach)
        except jobs.RetryLater as retry:
            retries.append(retry)
            await jobs.retry(db, job, error=str(retry), delay=retry.delay)
        else:
            await jobs.finish(db, [job])
    return retries


async def endpoint(db, people, url, **options):
    return await webhook_endpoints.create_endpoint(
        db, actor=people.admin, secret_key=KEY, url=url, **options
    )


async def deliveries(db, endpoint_id=None):
    async with db.read() as session:
        query = select(WebhookDelivery).order_by(WebhookDelivery.id)
        if endpoint_id is not None:
            query = query.where(WebhookDelivery.endpoint_id == endpoint_id)
        return list(await session.scalars(query))


async def test_a_declare_reaches_a_standard_endpoint_signed(db, people, receiver, http):
    row, secret = await endpoint(db, people, receiver.at("/standard", host="localhost"))
    assert secret.startswith("whsec_") and secret not in row.sealed_secret
    outbox = Outbox(db)
    incident = await declarations.declare(db, actor=people.member, name="Checkout is down")
    await outbox.react()

    assert await run_jobs(db, outside(http)) == []
    [got] = receiver.on("/standard")
    assert got.headers["host"] == f"localhost:{receiver.url.rsplit(':', 1)[1]}"
    message = Webhook(secret).verify(got.body, got.headers)  # raises unless signed right
    assert message["type"] == "incident.declared"
    assert message["data"]["incident"] == {
        "reference": incident.reference,
        "name": "Checkout is down",
        "url": f"{BASE}/incidents/{incident.reference}",
        "status": message["data"]["incident"]["status"],
        "severity": message["data"]["incident"]["severity"],
        "type": message["data"]["incident"]["type"],
        "mode": "STANDARD",
        "private": False,
    }
    assert message["data"]["incident"]["status"] and message["data"]["incident"]["severity"]
    with pytest.raises(Exception, match="signature"):
        Webhook(webhook_endpoints.new_secret()).verify(got.body, got.headers)

    [delivery] = await deliveries(db)
    assert delivery.state is DeliveryState.DELIVERED
    assert delivery.message_id == got.headers["webhook-id"]
    assert (delivery.attempts, delivery.last_status_code) == (1, 200)
    async with db.read() as session:
        assert await session.scalar(select(Job.id)) is None  # the job is done

    # Done is done: the same job run again (a process killed after sending) sends nothing more.
    await webhooks.deliver(db, {"delivery_id": delivery.id}, outside(http))
    assert len(receiver.got) == 1


async def test_chat_formats_and_event_type_choices(db, people, receiver, http):
    await endpoint(
        db,
        people,
        receiver.at("/slack"),
        format=WebhookFormat.SLACK,
        event_types=["incident.updated", "incident.resolved"],
    )
    await endpoint(db, people, receiver.at("/teams"), format=WebhookFormat.TEAMS)
    outbox = Outbox(db)
    incident = await declarations.declare(db, actor=people.responder, name="Search <!channel> slow")
    await incidents.share_update(
        db, actor=people.responder, incident_id=incident.id, message="Rolled back the index."
    )
    await outbox.react()
    await run_jobs(db, outside(http))

    [slack] = receiver.on("/slack")  # declared is not one of the types it chose
    text = slack.json()["text"]
    assert "Rolled back the index." in text and incident.reference in text
    assert "<!channel>" not in text and "&lt;!channel&gt;" in text  # no mention smuggled in
    blocks = slack.json()["blocks"]
    assert blocks[0]["type"] == "section" and blocks[0]["text"]["text"] == text
    [button] = blocks[-1]["elements"]
    assert button["type"] == "button"
    assert button["url"] == f"{BASE}/incidents/{incident.reference}"

    teams = receiver.on("/teams")
    assert len(teams) == 2  # declared and updated
    for got in teams:
        message = got.json()
        assert message["type"] == "message"
        [attachment] = message["attachments"]
        assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
        card = attachment["content"]
        assert (card["type"], card["version"]) == ("AdaptiveCard", "1.4")
        assert card["actions"][0]["type"] == "Action.OpenUrl"
        assert card["actions"][0]["url"].endswith(f"/incidents/{incident.reference}")
    assert "declared" in teams[0].json()["attachments"][0]["content"]["body"][0]["text"]


async def test_resolving_and_closing_are_their_own_types(db, people, receiver, http):
    _, secret = await endpoint(
        db, people, receiver.at("/ends"), event_types=["incident.resolved", "incident.closed"]
    )
    outbox = Outbox(db)
    incident = await declarations.declare(db, actor=people.responder, name="Disk full")
    async with db.read() as session:
        from app.models import Status, StatusCategory

        finished = (
            await session.scalars(
                select(Status).where(Status.category == StatusCategory.POST_INCIDENT)
            )
        ).first()
        closed = (
            await session.scalars(select(Status).where(Status.category == StatusCategory.CLOSED))
        ).first()
    await incidents.change_status(
        db, actor=people.responder, incident_id=incident.id, status_id=finished.id
    )
    await incidents.change_status(
        db, actor=people.responder, incident_id=incident.id, status_id=closed.id
    )
    await outbox.react()
    await run_jobs(db, outside(http))
    types = [Webhook(secret).verify(r.body, r.headers)["type"] for r in receiver.on("/ends")]
    assert types == ["incident.resolved", "incident.closed"]


async def test_a_failed_delivery_is_retried_with_the_same_id(db, people, receiver, http, clock):
    _, secret = await endpoint(db, people, receiver.at("/flaky"))
    receiver.answers.extend([500])
    outbox = Outbox(db)
    await declarations.declare(db, actor=people.member, name="Login slow")
    await outbox.react()

    before = db.now()
    [retry] = await run_jobs(db, outside(http))
    assert retry.delay <= webhooks.RETRY_DELAYS[0]  # the first retry comes within 30 s
    [delivery] = await deliveries(db)
    assert delivery.state is DeliveryState.PENDING
    assert (delivery.attempts, delivery.last_status_code) == (1, 500)
    assert "broken today" in delivery.last_error
    async with db.read() as session:
        job = await session.scalar(select(Job))
    assert before < job.run_at <= before + webhooks.RETRY_DELAYS[0] + (db.now() - before)
    assert await run_jobs(db, outside(http)) == []  # not due yet: nothing sent
    assert len(receiver.got) == 1

    clock.advance(seconds=6)
    assert await run_jobs(db, outside(http)) == []
    first, second = receiver.on("/flaky")
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == delivery.message_id
    Webhook(secret).verify(second.body, second.headers)
    [delivery] = await deliveries(db)
    assert delivery.state is DeliveryState.DELIVERED and delivery.attempts == 2


def test_the_retry_schedule():
    waits = [webhooks.retry_delay(n) for n in range(1, 10)]
    assert waits[0].total_seconds() <= 30
    assert waits == sorted(waits)
    assert waits[-1].total_seconds() == 3600


async def test_inside_addresses_are_refused_unless_allowed(db, people, receiver, http):
    await endpoint(db, people, receiver.at("/inside"))
    outbox = Outbox(db)
    await declarations.declare(db, actor=people.member, name="Queue backed up")
    await outbox.react()

    [retry] = await run_jobs(db, outside(http, allow_private=False))
    assert "loopback" in str(retry)
    assert receiver.got == []
    [delivery] = await deliveries(db)
    assert delivery.state is DeliveryState.PENDING and delivery.last_status_code is None
    assert "127.0.0.1" in delivery.last_error and "loopback" in delivery.last_error

    async with db.write() as session:  # due again now
        for job in await session.scalars(select(Job)):
            job.run_at = db.now()
    assert await run_jobs(db, outside(http, allow_private=True)) == []
    assert len(receiver.on("/inside")) == 1


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1", "10.0.0.8", "172.16.4.4", "192.168.1.1", "169.254.169.254", "0.0.0.0",
     "224.0.0.251", "100.64.0.1", "::1", "fe80::1", "fd12::1", "::ffff:10.0.0.1", "ff02::1",
     "2002:a00:1::1", "240.0.0.1"],
)  # fmt: skip
def test_inside_address_kinds(address):
    assert outbound.refusal(ipaddress.ip_address(address)) is not None


@pytest.mark.parametrize("address", ["8.8.8.8", "2606:4700:4700::1111"])
def test_public_addresses_pass(address):
    assert outbound.refusal(ipaddress.ip_address(address)) is None


async def test_a_name_resolving_inside_is_refused(http, receiver):
    with pytest.raises(outbound.Refused, match="localhost leads to a loopback"):
        await outbound.send(http, receiver.at("/x", host="localhost"), content=b"{}", headers={})
    assert receiver.got == []


@pytest.mark.parametrize(
    "url",
    ["ftp://example.com/x", "https://user:pass@example.com/x", "https:///x", "example.com",
     "https://exa mple.com/", "https://example.com:99999/"],
)  # fmt: skip
async def test_urls_refused_when_made(db, people, url):
    with pytest.raises(Invalid) as refused:
        await endpoint(db, people, url)
    assert refused.value.field == "url"


async def test_what_may_be_configured(db, people):
    with pytest.raises(Invalid) as refused:
        await endpoint(db, people, "https://example.com/hook", event_types=["incident.deleted"])
    assert refused.value.field == "eventTypes"
    with pytest.raises(Forbidden):
        await webhook_endpoints.create_endpoint(
            db, actor=people.member, secret_key=KEY, url="https://example.com/hook"
        )
    row, secret = await endpoint(db, people, "https://example.com/hook")
    assert webhook_endpoints.unseal(row.sealed_secret, KEY) == secret
    with pytest.raises(ValueError, match="another secret key"):
        webhook_endpoints.unseal(row.sealed_secret, "another key entirely")
    _, rotated = await webhook_endpoints.rotate_secret(
        db, actor=people.admin, secret_key=KEY, endpoint_id=row.id
    )
    async with db.read() as session:
        stored = await session.get(WebhookEndpoint, row.id)
    assert rotated != secret and webhook_endpoints.unseal(stored.sealed_secret, KEY) == rotated


async def test_private_incidents_only_reach_endpoints_that_opted_in(db, people, receiver, http):
    shy, _ = await endpoint(db, people, receiver.at("/shy"))
    told, _ = await endpoint(db, people, receiver.at("/told"), include_private=True)
    outbox = Outbox(db)
    secret_incident = await declarations.declare(
        db, actor=people.responder, name="Payroll leak", private=True
    )
    await outbox.react()
    await run_jobs(db, outside(http))
    assert receiver.on("/shy") == []
    [got] = receiver.on("/told")
    assert got.json()["data"]["incident"]["name"] == "Payroll leak"  # they opted in
    assert got.json()["data"]["incident"]["private"] is True

    async with db.write() as session:
        incident = await session.get(Incident, secret_incident.id)
        data = {"workflow": "Tell security"}
        none = await webhooks.send_to(
            session, endpoint_id=shy.id, event_type="workflow.step", incident=incident,
            data=data, now=db.now(),
        )  # fmt: skip
        sent = await webhooks.send_to(
            session, endpoint_id=told.id, event_type="workflow.step", incident=incident,
            data=data, now=db.now(),
        )  # fmt: skip
    assert none is None and sent is not None
    await run_jobs(db, outside(http))
    assert receiver.on("/shy") == []
    assert receiver.on("/told")[-1].json()["type"] == "workflow.step"


async def test_test_mode_incidents_say_so(db, people, receiver, http):
    from app.models import IncidentMode

    await endpoint(db, people, receiver.at("/drill"))
    outbox = Outbox(db)
    await declarations.declare(db, actor=people.member, name="Game day", mode=IncidentMode.TEST)
    await outbox.react()
    await run_jobs(db, outside(http))
    [got] = receiver.on("/drill")
    assert got.json()["data"]["incident"]["mode"] == "TEST"


async def test_send_a_test(db, people, receiver, http):
    row, secret = await endpoint(db, people, receiver.at("/ping"))
    delivery = await webhooks.send_test(db, actor=people.admin, endpoint_id=row.id)
    await run_jobs(db, outside(http))
    [got] = receiver.on("/ping")
    message = Webhook(secret).verify(got.body, got.headers)
    assert message["type"] == "webhook.test" and got.headers["webhook-id"] == delivery.message_id


async def test_repeated_failure_turns_the_endpoint_off_and_tells_admins(
    db, people, receiver, http, clock
):
    row, _ = await endpoint(db, people, receiver.at("/down"))
    receiver.answers.extend([503] * 100)
    for _ in range(webhooks.DISABLE_AFTER):
        await webhooks.send_test(db, actor=people.admin, endpoint_id=row.id)
    assert len(await run_jobs(db, outside(http))) == webhooks.DISABLE_AFTER
    clock.advance(hours=25)
    assert await run_jobs(db, outside(http)) == []  # past 24 h: each gives up

    states = {d.state for d in await deliveries(db)}
    assert states == {DeliveryState.FAILED}
    async with db.read() as session:
        stored = await session.get(WebhookEndpoint, row.id)
        told = list(
            await session.scalars(
                select(Notification).where(Notification.kind == NotificationKind.WEBHOOK_DISABLED)
            )
        )
    assert not stored.enabled and "5 deliveries in a row failed" in stored.disabled_reason
    assert {n.user_id for n in told} == {people.admin.id}

    # Off: new events make no deliveries; turned back on, they do again.
    outbox = Outbox(db)
    await declarations.declare(db, actor=people.member, name="Still down?")
    await outbox.react()
    assert len(await deliveries(db)) == webhooks.DISABLE_AFTER
    await webhook_endpoints.update_endpoint(
        db, actor=people.admin, endpoint_id=row.id, enabled=True
    )
    await declarations.declare(db, actor=people.member, name="Back?")
    await outbox.react()
    assert len(await deliveries(db)) == webhooks.DISABLE_AFTER + 1


async def test_a_deleted_endpoint_sends_nothing_more(db, people, receiver, http):
    row, _ = await endpoint(db, people, receiver.at("/gone"))
    await webhooks.send_test(db, actor=people.admin, endpoint_id=row.id)
    await webhook_endpoints.delete_endpoint(db, actor=people.admin, endpoint_id=row.id)
    assert await run_jobs(db, outside(http)) == []
    assert receiver.got == []
    async with db.read() as session:
        assert await session.scalar(select(Job.id)) is None

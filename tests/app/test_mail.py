"""Email over a real SMTP server on loopback (aiosmtpd): the message a notification becomes
(plain text and HTML, one link), nothing about a private incident in it, nothing sent to someone
who may no longer see the incident, and a retry when the server is away."""

from __future__ import annotations

from collections.abc import Iterator

import httpx2
import pytest

from app import jobs, mail
from app.config import MailSettings
from app.models import NotificationKind
from app.services import declarations, incidents, members, notifications
from tests.support.receivers import MailServer
from tests.support.servers import free_port

BASE = "https://muster.example.com"


@pytest.fixture
def smtp() -> Iterator[MailServer]:
    with MailServer.running() as server:
        yield server


async def notified(db, person, incident, *, title="Update on INC-1", body="Rolled back."):
    async with db.write() as session:
        made = await notifications.send(
            session, [person.id], kind=NotificationKind.UPDATE_SHARED, incident=incident,
            title=title, body=body, cause=f"test:{title}", now=db.now(), email=True,
        )  # fmt: skip
    return made[0]


async def send(db, notification, settings):
    async with httpx2.AsyncClient() as http:
        outside = jobs.Outside(base_url=BASE, secret_key="s" * 32, mail=settings, http=http)
        await mail.send_email(db, {"notification_id": notification.id}, outside)


async def test_a_notification_becomes_an_email_with_one_link(db, people, smtp):
    incident = await declarations.declare(db, actor=people.member, name="Checkout is slow")
    title = f"Update on {incident.reference} Checkout is slow"
    notification = await notified(db, people.viewer, incident, title=title)
    await send(db, notification, smtp.settings)

    [(recipients, message)] = smtp.messages
    assert recipients == [people.viewer.email]
    assert message["Subject"] == title
    assert message["From"] == "Muster <muster@example.com>"
    text = message.get_body(("plain",)).get_content()
    page = message.get_body(("html",)).get_content()
    link = f"{BASE}/incidents/{incident.reference}"
    assert "Rolled back." in text and link in text
    assert f'href="{link}"' in page and "Rolled back." in page


async def test_email_about_a_private_incident_names_nothing(db, people, smtp):
    incident = await declarations.declare(
        db, actor=people.responder, name="Payroll data exposed", private=True
    )
    await members.invite(
        db, actor=people.responder, incident_id=incident.id, user_id=people.member.id
    )
    notification = await notified(
        db, people.member, incident, title="Update on Payroll data exposed", body="Keys rotated."
    )
    await send(db, notification, smtp.settings)

    [(_, message)] = smtp.messages
    raw = message.as_string()
    assert message["Subject"] == "A private incident you are in was updated"
    for secret in ("Payroll", "Keys rotated"):
        assert secret not in raw
    assert f"{BASE}/incidents/{incident.reference}" in message.get_body(("plain",)).get_content()


async def test_no_email_once_the_person_may_not_see_the_incident(db, people, smtp):
    incident = await declarations.declare(db, actor=people.responder, name="Phishing wave")
    notification = await notified(db, people.viewer, incident)
    await incidents.change_visibility(
        db, actor=people.responder, incident_id=incident.id, private=True
    )
    await send(db, notification, smtp.settings)
    assert smtp.messages == []


async def test_an_unreachable_server_means_trying_again_later(db, people):
    incident = await declarations.declare(db, actor=people.member, name="Search is stale")
    notification = await notified(db, people.viewer, incident)
    away = MailSettings(
        host="127.0.0.1", port=free_port(), implicit_tls=False, username=None, password=None,
        sender="muster@example.com",
    )  # fmt: skip
    with pytest.raises(jobs.RetryLater, match="unreachable"):
        await send(db, notification, away)

"""Email: the ``email`` job, which sends one notification to its person over SMTP.

The message has a plain-text and an HTML part and one link, to the incident (or to the inbox).
About a private incident it names no detail at all ("A private incident you are in was
updated"): mail passes through servers and inboxes Muster does not control. The job re-checks at
sending time that the person is still active and may still see the incident, and sends nothing
otherwise. Sending is at least once: a process killed after the server took the message but
before the job was finished sends it again.
"""

from __future__ import annotations

import html
import logging
from datetime import timedelta
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from typing import Any

import aiosmtplib
from sqlalchemy import select

from app import jobs, policy
from app.config import MailSettings
from app.db import Database
from app.models import Incident, Notification, User

log = logging.getLogger("muster.mail")

GIVE_UP_AFTER = timedelta(hours=24)
TIMEOUT = 20  # seconds for the whole SMTP conversation


async def send_email(db: Database, payload: dict[str, Any], outside: jobs.Outside) -> None:
    """The ``email`` job: ``payload["notification_id"]``'s email, if it should still go."""
    if outside.mail is None:
        return
    async with db.read() as session:
        notification = await session.get(Notification, payload["notification_id"])
        if notification is None:
            return
        person = await session.get(User, notification.user_id)
        if person is None or not person.active:
            return
        incident = None
        if notification.incident_id is not None:
            incident = await session.scalar(
                select(Incident).where(
                    Incident.id == notification.incident_id, policy.visible_incidents(person)
                )
            )
            if incident is None:
                return  # they may no longer see it: no email
    message = compose(notification, person, incident, outside.base_url, outside.mail)
    await send_or_retry(
        message, outside.mail, age=db.now() - notification.created_at,
        what=f"notification {notification.id}",
    )  # fmt: skip


async def send_or_retry(
    message: EmailMessage, mail: MailSettings, *, age: timedelta, what: str
) -> None:
    """Send ``message``; a mail server that refuses or cannot be reached makes the job retry
    (``jobs.RetryLater``) until the cause is ``GIVE_UP_AFTER`` old, when it is logged and
    dropped."""
    try:
        await deliver(message, mail)
    except (aiosmtplib.SMTPException, OSError) as error:
        if age > GIVE_UP_AFTER:
            log.error("gave up emailing %s: %s", what, error)
            return
        raise jobs.RetryLater(f"the mail server refused or was unreachable: {error}") from error


def compose(
    notification: Notification,
    person: User,
    incident: Incident | None,
    base_url: str,
    mail: MailSettings,
) -> EmailMessage:
    """The email for ``notification``: plain text and HTML, one link."""
    if incident is None:
        link = f"{base_url}/notifications"
        subject, body, action = notification.title, notification.body, "Open your notifications"
    else:
        link = f"{base_url}/incidents/{incident.reference}"
        action = f"Open {incident.reference}"
        if incident.private:
            subject = "A private incident you are in was updated"
            body = "Open Muster to read what changed."
            action = "Open the incident"
        else:
            subject, body = notification.title, notification.body
    return written(
        subject, body, link=link, action=action, footer=_footer(base_url), sender=mail.sender,
        to=formataddr((person.name, person.email)),
    )  # fmt: skip


def written(
    subject: str, body: str, *, link: str, action: str, footer: str, sender: str, to: str
) -> EmailMessage:
    """An email as Muster writes them all: the subject as heading, the text, one link (its
    ``action``), a footer; in plain text and in HTML."""
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = sender
    message["To"] = to
    message["Message-ID"] = make_msgid(domain="muster")
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(f"{subject}\n\n{body}\n\n{action}: {link}\n\n{footer}\n")
    message.add_alternative(
        f"""<!doctype html>
<html lang="en"><body style="font-family: system-ui, sans-serif; line-height: 1.5; color: #1a1a1a">
<h1 style="font-size: 1.25rem">{html.escape(subject)}</h1>
<p style="white-space: pre-line">{html.escape(body)}</p>
<p><a href="{html.escape(link, quote=True)}" style="font-weight: 600">{html.escape(action)}</a></p>
<p style="color: #555; font-size: 0.875rem; white-space: pre-line">{html.escape(footer)}</p>
</body></html>
""",
        subtype="html",
    )
    return message


def _footer(base_url: str) -> str:
    return f"Choose which emails Muster sends you: {base_url}/settings/notifications"


async def deliver(message: EmailMessage, mail: MailSettings) -> None:
    """Hand ``message`` to the mail server (TLS first for smtps, else STARTTLS if offered)."""
    await aiosmtplib.send(
        message,
        hostname=mail.host,
        port=mail.port,
        username=mail.username,
        password=mail.password,
        use_tls=mail.implicit_tls,
        start_tls=None if not mail.implicit_tls else False,
        timeout=TIMEOUT,
    )

"""Email to the status page's subscribers: the ``status_confirm`` job (confirm your subscription,
or, to an address already confirmed, where to manage it) and the ``status_mail`` job (one status
update to one subscriber, ``app.services.status_subscriptions`` made it).

Both say only what the public page says (the page's title, the status incident's title, state,
message and public components) and link to the public page. Every mail carries the subscriber's
own links: managing the subscription, and unsubscribing in one click (RFC 8058:
``List-Unsubscribe`` with an https URL and ``List-Unsubscribe-Post``; the mail server signs these
headers with DKIM). Each job re-reads at sending time and sends nothing to an address that has
gone or is not confirmed; sending is at least once (``app.mail``), and a delivery is marked sent.
"""

from __future__ import annotations

from email.message import EmailMessage
from typing import Any
from urllib.parse import quote

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app import jobs, mail
from app.db import Database
from app.models import (
    StatusComponent,
    StatusDelivery,
    StatusIncident,
    StatusPageSettings,
    StatusSubscriber,
    StatusUpdate,
)
from app.opaque import sealer_for
from app.services.status_subscriptions import CONFIRM_WITHIN, public_affected, token


def _links(outside: jobs.Outside, subscriber: StatusSubscriber) -> dict[str, str]:
    mine = quote(token(outside.secret_key, subscriber))
    return {
        "confirm": f"{outside.base_url}/status/subscribe/confirm?token={mine}",
        "manage": f"{outside.base_url}/status/subscription?token={mine}",
        "unsubscribe": f"{outside.base_url}/status/unsubscribe?token={mine}",
    }


def _listed(message: EmailMessage, links: dict[str, str]) -> EmailMessage:
    message["List-Unsubscribe"] = f"<{links['unsubscribe']}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    return message


async def _title(session: AsyncSession) -> str:
    settings = await session.get(StatusPageSettings, 1)
    return settings.title if settings is not None else "Status"


async def send_confirmation(db: Database, payload: dict[str, Any], outside: jobs.Outside) -> None:
    """The ``status_confirm`` job: ask the address to confirm (or say it already has)."""
    if outside.mail is None:
        return
    async with db.read() as session:
        subscriber = await session.get(StatusSubscriber, payload.get("subscriber_id"))
        if subscriber is None:
            return
        title = await _title(session)
        chosen = subscriber.component_ids
        names = [] if not chosen else list(
            await session.scalars(
                select(StatusComponent.name)
                .where(StatusComponent.id.in_(chosen), StatusComponent.public.is_(True))
                .order_by(StatusComponent.position, StatusComponent.id)
            )
        )  # fmt: skip
    links = _links(outside, subscriber)
    about = f" about {', '.join(names)}" if names else ""
    footer = "If it was not you, ignore this email: nothing more will be sent."
    if subscriber.confirmed_at is None:
        days = CONFIRM_WITHIN.days
        subject = f"Confirm your subscription to {title}"
        body = (
            f"Someone, probably you, asked for email updates from {title}{about} at this "
            "address. Nothing is sent until you confirm."
        )
        link, action = links["confirm"], "Confirm your subscription"
        footer += f" This address will be forgotten in {days} days."
    else:
        subject = f"You are already subscribed to {title}"
        body = (
            f"Someone, probably you, asked to subscribe this address to {title} again. It is "
            "subscribed already: change what you get, or unsubscribe, from the link below."
        )
        link, action = links["manage"], "Manage your subscription"
        footer = f"Unsubscribe: {links['unsubscribe']}"
    message = mail.written(
        subject, body, link=link, action=action, footer=footer, sender=outside.mail.sender,
        to=subscriber.email,
    )  # fmt: skip
    await mail.send_or_retry(
        _listed(message, links), outside.mail, age=db.now() - subscriber.created_at,
        what=f"the confirmation to status subscriber {subscriber.id}",
    )  # fmt: skip


async def send_news(db: Database, payload: dict[str, Any], outside: jobs.Outside) -> None:
    """The ``status_mail`` job: one status update to one confirmed subscriber."""
    if outside.mail is None:
        return
    async with db.read() as session:
        delivery = await session.get(StatusDelivery, payload.get("delivery_id"))
        if delivery is None or delivery.sent_at is not None:
            return
        subscriber = await session.get(StatusSubscriber, delivery.subscriber_id)
        news = await session.get(StatusUpdate, delivery.status_update_id)
        if subscriber is None or subscriber.confirmed_at is None or news is None:
            return
        incident = await session.get(StatusIncident, news.status_incident_id)
        assert incident is not None  # updates go with their status incident
        names = [c.name for c in await public_affected(session, incident.id)]
        title = await _title(session)
    links = _links(outside, subscriber)
    page = sealer_for(outside.secret_key).seal("StatusIncident", (incident.id,))
    body = news.message + (f"\n\nAffected: {', '.join(names)}" if names else "")
    message = mail.written(
        f"{title}: {incident.title} ({news.state.label})", body,
        link=f"{outside.base_url}/status/incidents/{page}", action="Open the status page",
        footer=(
            f"You get this because you subscribed to {title}.\n"
            f"Manage your subscription: {links['manage']}\n"
            f"Unsubscribe: {links['unsubscribe']}"
        ),
        sender=outside.mail.sender, to=subscriber.email,
    )  # fmt: skip
    await mail.send_or_retry(
        _listed(message, links), outside.mail, age=db.now() - delivery.created_at,
        what=f"status delivery {delivery.id}",
    )  # fmt: skip
    async with db.write() as session:
        await session.execute(
            update(StatusDelivery).where(StatusDelivery.id == delivery.id).values(sent_at=db.now())
        )

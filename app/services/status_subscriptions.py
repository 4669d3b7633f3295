"""Email subscriptions to the status page: subscribing with double opt-in, the links in every
mail (confirm, manage, one-click unsubscribe), and the fan-out of each status update to the
subscribers it concerns.

Anyone may ask for updates for an address, about every component or only some public ones.
Asking never says whether the address was already subscribed (the answer is the same, so nobody
learns who follows the page): it queues a ``status_confirm`` mail, which asks an unconfirmed
address to confirm and tells a confirmed one where to manage its subscription, at most once per
``RESEND_AFTER`` per address, so the form cannot be used to flood someone's inbox. Nothing else
is sent until the address is confirmed; an unconfirmed one is forgotten ``CONFIRM_WITHIN`` after
its last confirmation mail (the ``status_forget`` job).

A link names its subscriber by the row's random ``link_key`` and a MAC of it under a key derived
from ``MUSTER_SECRET_KEY`` (``token``): without the key nobody can make one, the database holds
nothing a link can be rebuilt from, and a link whose subscriber is gone is still known to be
ours (so unsubscribing twice, or with an old mail, says "unsubscribed"). Unsubscribing deletes the
address outright.

Each new ``StatusUpdate`` queues one ``status_news`` job in its own transaction
(``app.services.status_page``). The job walks the confirmed subscribers in id order,
``FAN_OUT_BATCH`` at a time, and for each one the update concerns (everything, or a chosen
component among those it affects) makes one ``StatusDelivery`` (unique per subscriber and update)
and its ``status_mail`` job, in one transaction with the job for the next batch: a fan-out taken
over after a crash mails nobody twice and skips nobody. The mail itself is ``app.status_mail``.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Final

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from app import jobs
from app.db import Database
from app.errors import Invalid, NotFound
from app.models import (
    AffectedComponent,
    StatusComponent,
    StatusDelivery,
    StatusSubscriber,
    StatusUpdate,
)
from app.services.status_page import MOST_AFFECTED, NEWS_JOB
from app.services.users import normal_email

CONFIRM_JOB: Final = "status_confirm"
FORGET_JOB: Final = "status_forget"
MAIL_JOB: Final = "status_mail"
RESEND_AFTER = timedelta(minutes=10)
CONFIRM_WITHIN = timedelta(days=7)
FAN_OUT_BATCH = 500
TOKEN_LONGEST = 100
_HKDF_INFO = b"muster: status subscription links v1"
BAD_LINK = "This link is not valid: open the newest email about your subscription."


# Links -----------------------------------------------------------------------------------------


@functools.cache
def _link_key(secret_key: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_HKDF_INFO).derive(
        secret_key.encode()
    )


def _mac(secret_key: str, link_key: str) -> str:
    digest = hmac.new(_link_key(secret_key), link_key.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def token(secret_key: str, subscriber: StatusSubscriber) -> str:
    """What the subscriber's links carry: their ``link_key`` and its MAC."""
    return f"{subscriber.link_key}.{_mac(secret_key, subscriber.link_key)}"


def _opened(secret_key: str, text: str) -> str:
    """The ``link_key`` inside a token we made, or ``NotFound`` naming ``token``."""
    link_key, _, mac = text[:TOKEN_LONGEST].partition(".")
    if not (link_key.isascii() and mac.isascii()) or not hmac.compare_digest(
        mac.encode(), _mac(secret_key, link_key).encode()
    ):
        raise NotFound(BAD_LINK, field="token")
    return link_key


async def _subscriber(
    session: AsyncSession, secret_key: str, text: str, *, lock: bool = False
) -> StatusSubscriber | None:
    """The subscriber a token names (None: ours, but they have gone); ``NotFound`` if not ours."""
    query = select(StatusSubscriber).where(StatusSubscriber.link_key == _opened(secret_key, text))
    return await session.scalar(query.with_for_update() if lock else query)


# Subscribing -----------------------------------------------------------------------------------


async def _public_components(session: AsyncSession, component_ids: Sequence[int]) -> list[int]:
    if len(component_ids) > MOST_AFFECTED:
        raise Invalid(f"Choose at most {MOST_AFFECTED} components.", field="componentIds")
    wanted = sorted(set(component_ids))
    found = list(
        await session.scalars(
            select(StatusComponent.id).where(
                StatusComponent.id.in_(wanted), StatusComponent.public.is_(True)
            )
        )
    )
    if len(found) != len(wanted):
        raise NotFound("No status component with that id.", field="componentIds")
    return wanted


async def subscribe(db: Database, *, email: str, component_ids: Sequence[int] = ()) -> None:
    """Ask for email about the status page (``component_ids`` empty: about everything). The
    same answer whatever the address's state; the confirmation mail does the rest."""
    email = normal_email(email)
    async with db.write() as session:
        now = db.now()
        chosen = await _public_components(session, component_ids) or None
        row = await session.scalar(
            select(StatusSubscriber).where(StatusSubscriber.email == email).with_for_update()
        )
        if row is None:
            row = StatusSubscriber(
                email=email, component_ids=chosen, link_key=secrets.token_hex(16), created_at=now
            )
            session.add(row)
            await session.flush()
        elif row.confirmed_at is None:
            row.component_ids = chosen  # their latest choice, once they confirm
        sent = row.confirmation_sent_at
        if sent is not None and now - sent < RESEND_AFTER:
            return
        row.confirmation_sent_at = now
        await jobs.enqueue(session, CONFIRM_JOB, {"subscriber_id": row.id}, now=now)
        if row.confirmed_at is None:
            await jobs.enqueue(
                session, FORGET_JOB, {"subscriber_id": row.id}, now=now, run_at=now + CONFIRM_WITHIN
            )


def _confirmable(row: StatusSubscriber | None, now: datetime) -> StatusSubscriber:
    if row is None or (
        row.confirmed_at is None
        and (row.confirmation_sent_at is None or now - row.confirmation_sent_at > CONFIRM_WITHIN)
    ):
        raise NotFound(
            "This confirmation link has expired: subscribe again to get a new one.", field="token"
        )
    return row


async def confirm(db: Database, *, secret_key: str, token: str) -> StatusSubscriber:
    """The second step of double opt-in: from now on the address is sent updates."""
    async with db.write() as session:
        now = db.now()
        row = _confirmable(await _subscriber(session, secret_key, token, lock=True), now)
        if row.confirmed_at is None:
            row.confirmed_at = now
        return row


async def choose_components(
    db: Database, *, secret_key: str, token: str, component_ids: Sequence[int]
) -> StatusSubscriber:
    """Change what a subscription is about (empty: everything)."""
    async with db.write() as session:
        now = db.now()
        row = _confirmable(await _subscriber(session, secret_key, token, lock=True), now)
        row.component_ids = await _public_components(session, component_ids) or None
        return row


async def unsubscribe(db: Database, *, secret_key: str, token: str) -> None:
    """Forget the address (and the mail still queued for it); done already is done."""
    async with db.write() as session:
        row = await _subscriber(session, secret_key, token, lock=True)
        if row is not None:
            await session.execute(
                delete(StatusDelivery).where(StatusDelivery.subscriber_id == row.id)
            )
            await session.delete(row)


async def subscription(session: AsyncSession, *, secret_key: str, token: str) -> StatusSubscriber:
    """The subscription a link names, for its page (``NotFound`` when it has gone)."""
    row = await _subscriber(session, secret_key, token)
    if row is None:
        raise NotFound("You are not subscribed to this status page.", field="token")
    return row


async def forget(db: Database, payload: dict[str, Any], outside: jobs.Outside) -> None:
    """The ``status_forget`` job: an address never confirmed goes (nothing if it was, or if a
    newer confirmation mail gave it longer)."""
    async with db.write() as session:
        row = await session.get(StatusSubscriber, payload.get("subscriber_id"))
        sent = None if row is None else row.confirmation_sent_at
        if row is None or row.confirmed_at is not None:
            return
        if sent is not None and db.now() - sent < CONFIRM_WITHIN:
            return
        await session.delete(row)


# Fan-out ---------------------------------------------------------------------------------------


async def public_affected(session: AsyncSession, status_incident_id: int) -> list[StatusComponent]:
    """The public components a status incident affects, in page order: what its mail names and
    what subscriptions are matched against."""
    return list(
        await session.scalars(
            select(StatusComponent)
            .join(AffectedComponent, AffectedComponent.component_id == StatusComponent.id)
            .where(
                AffectedComponent.status_incident_id == status_incident_id,
                StatusComponent.public.is_(True),
            )
            .order_by(StatusComponent.position, StatusComponent.id)
        )
    )


async def fan_out(db: Database, payload: dict[str, Any], outside: jobs.Outside) -> None:
    """The ``status_news`` job: one batch of subscribers after ``after`` (by id) gets its
    deliveries, and the next batch its job."""
    update_id, after = payload.get("status_update_id"), payload.get("after")
    if not isinstance(update_id, int) or not isinstance(after, int):
        return
    async with db.write() as session:
        now = db.now()
        update = await session.get(StatusUpdate, update_id)
        if update is None:
            return
        # The public ones: subscribers choose among those alone.
        affected = {c.id for c in await public_affected(session, update.status_incident_id)}
        batch = list(
            await session.execute(
                select(StatusSubscriber.id, StatusSubscriber.component_ids)
                .where(StatusSubscriber.id > after, StatusSubscriber.confirmed_at.is_not(None))
                .order_by(StatusSubscriber.id)
                .limit(FAN_OUT_BATCH)
            )
        )
        done = set(
            await session.scalars(
                select(StatusDelivery.subscriber_id).where(
                    StatusDelivery.status_update_id == update_id,
                    StatusDelivery.subscriber_id.in_([row.id for row in batch]),
                )
            )
        )
        for subscriber_id, chosen in batch:
            if subscriber_id in done or (chosen is not None and not affected & set(chosen)):
                continue
            delivery = StatusDelivery(
                subscriber_id=subscriber_id, status_update_id=update_id, created_at=now
            )
            session.add(delivery)
            await session.flush()
            await jobs.enqueue(session, MAIL_JOB, {"delivery_id": delivery.id}, now=now)
        if len(batch) == FAN_OUT_BATCH:
            last = batch[-1].id
            await jobs.enqueue(
                session, NEWS_JOB, {"status_update_id": update_id, "after": last}, now=now,
                key=f"{NEWS_JOB}:{update_id}:{last}",
            )  # fmt: skip

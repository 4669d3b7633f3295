"""Notifications: storing them (once per person per cause, only for people who may see what they
are about), reading a person's inbox, marking it read, and each person's email preferences.

``send`` is the one way a notification comes to exist: whoever causes one (the outbox consumer's
default rules in ``app.reactions``, a workflow's notify step, a nudge) calls it inside their own
transaction, so the notification commits with its cause or not at all. It keeps only recipients in
``policy.audience`` of the incident, skips a person who already has a notification for the same
``cause``, queues an email job for each person whose preferences want one (when email is on), and
marks the transaction to wake the live inbox feeds. A notification about an incident the person
may no longer see is not listed and not counted (``visible``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Iterable, Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, Select, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app import jobs, policy
from app.db import Database, touching_inboxes
from app.errors import Invalid
from app.models import (
    Incident,
    Notification,
    NotificationKind,
    NotificationPreference,
    User,
)

EMAIL_JOB = "email"
TITLE_LENGTH = 300
BODY_LENGTH = 4000
MARK_LIMIT = 100  # ids one markNotificationsRead may name


async def send(
    session: AsyncSession,
    user_ids: Iterable[int],
    *,
    kind: NotificationKind,
    incident: Incident | None,
    title: str,
    body: str = "",
    cause: str,
    now: datetime,
    email: bool,
) -> list[Notification]:
    """Notify each of ``user_ids`` who may see ``incident`` and has nothing for ``cause`` yet;
    queue their emails too when ``email`` (mail is configured). Returns what was stored."""
    wanted = set(user_ids)
    if not wanted:
        return []
    audience = select(User.id).where(User.id.in_(wanted))
    if incident is not None:
        audience = audience.where(policy.audience(incident))
    else:
        audience = audience.where(User.active.is_(True))
    recipients = set(await session.scalars(audience))
    already = set(
        await session.scalars(
            select(Notification.user_id).where(
                Notification.cause == cause, Notification.user_id.in_(recipients)
            )
        )
    )
    made = [
        Notification(
            user_id=user_id,
            kind=kind,
            incident_id=None if incident is None else incident.id,
            title=title[:TITLE_LENGTH],
            body=body[:BODY_LENGTH],
            cause=cause,
            created_at=now,
        )
        for user_id in sorted(recipients - already)
    ]
    if not made:
        return []
    session.add_all(made)
    await session.flush()
    touching_inboxes(session, {n.user_id for n in made})
    if email:
        muted = set(
            await session.scalars(
                select(NotificationPreference.user_id).where(
                    NotificationPreference.kind == kind,
                    NotificationPreference.email.is_(False),
                    NotificationPreference.user_id.in_([n.user_id for n in made]),
                )
            )
        )
        for notification in made:
            if notification.user_id not in muted:
                await jobs.enqueue(
                    session,
                    EMAIL_JOB,
                    {"notification_id": notification.id},
                    now=now,
                    key=f"email:{notification.id}",
                )
    return made


def visible(user: User) -> ColumnElement[bool]:
    """A WHERE condition (with ``Incident`` outer-joined) on ``user``'s notifications that are
    about nothing, or about an incident they may see now."""
    return or_(Notification.incident_id.is_(None), policy.visible_incidents(user))


def _inbox(user: User) -> Select[Notification]:
    return (
        select(Notification)
        .outerjoin(Incident, Incident.id == Notification.incident_id)
        .where(Notification.user_id == user.id, visible(user))
    )


async def list_notifications(
    session: AsyncSession,
    user: User,
    *,
    first: int,
    before_id: int | None = None,
    unread_only: bool = False,
) -> list[Notification]:
    """``user``'s notifications, newest first: ``first`` of them (plus one, to tell whether
    there are more) older than ``before_id``."""
    query = _inbox(user).order_by(Notification.id.desc()).limit(first + 1)
    if before_id is not None:
        query = query.where(Notification.id < before_id)
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    return list((await session.scalars(query)).all())


async def unread_count(session: AsyncSession, user: User) -> int:
    """How many of ``user``'s notifications they may see are unread."""
    query = (
        select(func.count())
        .select_from(Notification)
        .outerjoin(Incident, Incident.id == Notification.incident_id)
        .where(Notification.user_id == user.id, visible(user), Notification.read_at.is_(None))
    )
    return int(await session.scalar(query) or 0)


@dataclasses.dataclass(frozen=True)
class InboxState:
    """What a live inbox shows: the unread count and the newest notification."""

    unread: int
    newest: Notification | None


async def inbox_states(session: AsyncSession, user_ids: Collection[int]) -> dict[int, InboxState]:
    """``unread_count`` and the newest notification of each of ``user_ids``, in three statements
    however many people (the live inboxes woken together), each against their own access."""
    if not user_ids:
        return {}
    theirs = (
        select(Notification.user_id)
        .join(User, User.id == Notification.user_id)
        .outerjoin(Incident, Incident.id == Notification.incident_id)
        .where(
            Notification.user_id.in_(list(user_ids)),
            User.active.is_(True),
            or_(Notification.incident_id.is_(None), policy.visible_to(Notification.user_id)),
        )
        .group_by(Notification.user_id)
    )
    unread = theirs.add_columns(func.count()).where(Notification.read_at.is_(None))
    counts = {user_id: count for user_id, count in await session.execute(unread)}
    latest = theirs.add_columns(func.max(Notification.id))
    newest_ids = {user_id: newest for user_id, newest in await session.execute(latest)}
    rows = {
        row.id: row
        for row in await session.scalars(
            select(Notification).where(Notification.id.in_(list(newest_ids.values())))
        )
    }
    return {
        user_id: InboxState(counts.get(user_id, 0), rows.get(newest_ids.get(user_id, 0)))
        for user_id in user_ids
    }


async def mark_read(
    db: Database, *, actor: User, ids: Sequence[int] = (), everything: bool = False
) -> int:
    """Mark ``actor``'s notifications read: those in ``ids`` (others' ids are ignored, as if
    they did not exist), or all of them. Returns how many changed."""
    if not everything and not ids:
        raise Invalid("Name the notifications to mark read, or mark them all.", field="ids")
    if len(ids) > MARK_LIMIT:
        raise Invalid(f"Mark at most {MARK_LIMIT} notifications at once.", field="ids")
    async with db.write() as session:
        query = update(Notification).where(
            Notification.user_id == actor.id, Notification.read_at.is_(None)
        )
        if not everything:
            query = query.where(Notification.id.in_(list(ids)))
        marked = await session.scalars(query.values(read_at=db.now()).returning(Notification.id))
        changed = len(marked.all())
        if changed:
            touching_inboxes(session, {actor.id})
        return changed


@dataclasses.dataclass(frozen=True)
class Preference:
    """Whether ``kind`` reaches the person by email (the inbox always has it)."""

    kind: NotificationKind
    email: bool


async def preferences(session: AsyncSession, user: User) -> list[Preference]:
    """``user``'s choice for every kind, in the kinds' order (email on unless turned off)."""
    rows = await session.scalars(
        select(NotificationPreference).where(NotificationPreference.user_id == user.id)
    )
    chosen = {row.kind: row.email for row in rows}
    return [Preference(kind, chosen.get(kind, True)) for kind in NotificationKind]


async def update_preferences(
    db: Database, *, actor: User, choices: Sequence[Preference]
) -> list[Preference]:
    """Set ``actor``'s email choice for each kind named (others stay as they were)."""
    if len({c.kind for c in choices}) != len(choices):
        raise Invalid("Each kind may be set once.", field="preferences")
    async with db.write() as session:
        rows = {
            row.kind: row
            for row in await session.scalars(
                select(NotificationPreference).where(NotificationPreference.user_id == actor.id)
            )
        }
        for choice in choices:
            row = rows.get(choice.kind)
            if row is None:
                session.add(
                    NotificationPreference(user_id=actor.id, kind=choice.kind, email=choice.email)
                )
            else:
                row.email = choice.email
        await session.flush()
        return await preferences(session, actor)

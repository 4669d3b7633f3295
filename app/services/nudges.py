"""Nudges: reminders nobody has to send by hand. ``sweep`` looks for an update that has fallen due
(``UPDATE_OVERDUE``, to the communications lead, else the incident lead, else the reporter,
again every ``NudgeSettings.repeat`` until someone shares an update), an active incident without
a lead after ``NudgeSettings.no_lead`` (``NO_LEAD``, to the reporter, once) and a follow-up past
its due date (``FOLLOW_UP_DUE``, to its owner, once per due date). Each nudge has a key stored
as a ``Nudge`` row in the same transaction as its notification (and, for the first round sent
about a promised update, its ``UPDATE_OVERDUE`` timeline event), so every process may sweep at
once and each nudge still goes out once: a sweep first looks in a read transaction, and only
when something is due takes the write transaction, where on PostgreSQL
``pg_try_advisory_xact_lock`` lets one process through (the others skip this round) and the rows
it nudges about are locked ``FOR UPDATE SKIP LOCKED`` (an incident being edited right now waits
for the next sweep, so an update shared this instant is never nudged about); the keys are
checked again under the lock (SQLite has one writer at a time). Lock order is the nudge lock,
the rows, then ``db.EVENTS_LOCK``, as in every incident write. Each rule looks at most at
``BATCH`` rows per sweep, oldest due first (scanning up to ``SCAN_PAGES`` pages past those
already nudged). Practice (``TEST``) incidents are nudged like real ones: they rehearse the same
flow.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy import Select, exists, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app import policy
from app.config import NudgeSettings
from app.db import Database, appending_events
from app.models import (
    RESPONDING,
    Action,
    ActionKind,
    ActionStatus,
    EventKind,
    Incident,
    IncidentRole,
    Notification,
    NotificationKind,
    Nudge,
    RoleAssignment,
    RoleKind,
    Status,
    StatusCategory,
    TimelineEvent,
    User,
)
from app.services import notifications

BATCH = 200  # nudges one rule sends per sweep, at most
SCAN_PAGES = 5  # pages of BATCH rows one rule reads per sweep, past those already nudged
# The advisory lock a PostgreSQL sweep takes (and others skip on) to send nudges.
NUDGE_LOCK = 0x6E75646765  # "nudge"

_OVERDUE_CHAIN = (RoleKind.COMMUNICATIONS, RoleKind.LEAD, RoleKind.REPORTER)
_Row = TypeVar("_Row")


@dataclasses.dataclass(frozen=True)
class _Overdue:
    key: str
    incident: Incident
    due_at: datetime
    round: int


@dataclasses.dataclass(frozen=True)
class _NoLead:
    key: str
    incident: Incident


@dataclasses.dataclass(frozen=True)
class _FollowUp:
    key: str
    action: Action


@dataclasses.dataclass
class _Plan:
    overdue: list[_Overdue]
    no_lead: list[_NoLead]
    follow_ups: list[_FollowUp]

    def __bool__(self) -> bool:
        return bool(self.overdue or self.no_lead or self.follow_ups)


async def sweep(db: Database, settings: NudgeSettings, *, email: bool) -> None:
    """Send every nudge that is due now and has not been sent (at most ``BATCH`` per rule);
    queue their emails too when ``email``. Safe to run in several processes at once."""
    now = db.now()
    async with db.read() as session:
        if not await _plan(session, settings, now, lock=False):
            return
    async with db.write() as session:
        if not db.is_sqlite:
            taken = await session.scalar(
                text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": NUDGE_LOCK}
            )
            if not taken:
                return  # another process is sweeping; whatever it leaves, the next sweep sends
        plan = await _plan(session, settings, now, lock=True)
        events: list[TimelineEvent] = []
        for overdue in plan.overdue:
            event = await _nudge_overdue(session, overdue, now=now, email=email)
            if event is not None:
                events.append(event)
        for missing in plan.no_lead:
            await _nudge_no_lead(session, missing, settings, now=now, email=email)
        for late in plan.follow_ups:
            await _nudge_follow_up(session, late, now=now, email=email)
        if events:
            # Last, so the events lock is held only from here to the commit.
            await appending_events(session)
            session.add_all(events)


async def _plan(
    session: AsyncSession, settings: NudgeSettings, now: datetime, *, lock: bool
) -> _Plan:
    return _Plan(
        overdue=await _overdue(session, settings, now, lock=lock),
        no_lead=await _no_lead(session, settings, now, lock=lock),
        follow_ups=await _follow_ups(session, now, lock=lock),
    )


def overdue_key(incident_id: int, due_at: datetime, round_: int) -> str:
    """The key of an overdue update's nudge: one per incident, promised time and round."""
    return f"overdue:{incident_id}:{due_at.isoformat()}:{round_}"


async def _overdue(
    session: AsyncSession, settings: NudgeSettings, now: datetime, *, lock: bool
) -> list[_Overdue]:
    query = (
        select(Incident)
        .join(Status, Status.id == Incident.status_id)
        .where(Status.category.in_(RESPONDING), Incident.next_update_due_at <= now)
        .order_by(Incident.next_update_due_at, Incident.id)
    )
    if lock:
        query = query.with_for_update(of=Incident, skip_locked=True)

    def nudge(incident: Incident) -> _Overdue:
        due_at = incident.next_update_due_at
        assert due_at is not None
        round_ = (now - due_at) // settings.repeat
        return _Overdue(overdue_key(incident.id, due_at, round_), incident, due_at, round_)

    return await _unsent(session, query, nudge, lambda n: n.key)


async def _no_lead(
    session: AsyncSession, settings: NudgeSettings, now: datetime, *, lock: bool
) -> list[_NoLead]:
    if (
        await session.scalar(
            select(IncidentRole.id).where(IncidentRole.kind == RoleKind.LEAD).limit(1)
        )
        is None
    ):
        return []  # no lead role to take: nobody can be nudged to fill it
    led = exists().where(
        RoleAssignment.incident_id == Incident.id,
        RoleAssignment.role_id == IncidentRole.id,
        IncidentRole.kind == RoleKind.LEAD,
    )
    since = func.coalesce(Incident.accepted_at, Incident.declared_at)
    query = (
        select(Incident)
        .join(Status, Status.id == Incident.status_id)
        .where(Status.category == StatusCategory.ACTIVE, ~led, since <= now - settings.no_lead)
        .order_by(since, Incident.id)
    )
    if lock:
        query = query.with_for_update(of=Incident, skip_locked=True)

    def nudge(incident: Incident) -> _NoLead:
        since = incident.accepted_at or incident.declared_at
        return _NoLead(f"no-lead:{incident.id}:{since.isoformat()}", incident)

    return await _unsent(session, query, nudge, lambda n: n.key)


async def _follow_ups(session: AsyncSession, now: datetime, *, lock: bool) -> list[_FollowUp]:
    query = (
        select(Action)
        .where(
            Action.kind == ActionKind.FOLLOW_UP,
            Action.status == ActionStatus.OPEN,
            Action.owner_id.is_not(None),
            Action.due_on < now.date(),
        )
        .order_by(Action.due_on, Action.id)
    )
    if lock:
        query = query.with_for_update(of=Action, skip_locked=True)

    def nudge(action: Action) -> _FollowUp:
        assert action.due_on is not None
        return _FollowUp(f"follow-up:{action.id}:{action.due_on.isoformat()}", action)

    return await _unsent(session, query, nudge, lambda n: n.key)


_Nudge = TypeVar("_Nudge")


async def _unsent(
    session: AsyncSession,
    query: Select[_Row],
    nudge: Callable[[_Row], _Nudge],
    key: Callable[[_Nudge], str],
) -> list[_Nudge]:
    """The first ``BATCH`` nudges ``query``'s rows call for that have not been sent yet."""
    found: list[_Nudge] = []
    for page in range(SCAN_PAGES):
        rows = list(await session.scalars(query.limit(BATCH).offset(page * BATCH)))
        due = [nudge(row) for row in rows]
        sent = (
            set(
                await session.scalars(select(Nudge.key).where(Nudge.key.in_([key(n) for n in due])))
            )
            if due
            else set()
        )
        found.extend(n for n in due if key(n) not in sent)
        if len(found) >= BATCH or len(rows) < BATCH:
            break
    return found[:BATCH]


async def _reminded(
    session: AsyncSession, incident: Incident, kinds: Sequence[RoleKind]
) -> User | None:
    """The holder of the first of ``kinds`` who may still see ``incident`` (for ``REPORTER``,
    whoever declared it if nobody holds the role)."""
    rows = await session.execute(
        select(IncidentRole.kind, User)
        .join(RoleAssignment, RoleAssignment.role_id == IncidentRole.id)
        .join(User, User.id == RoleAssignment.user_id)
        .where(
            RoleAssignment.incident_id == incident.id,
            IncidentRole.kind.in_(kinds),
            policy.audience(incident),
        )
        .order_by(IncidentRole.position, IncidentRole.id)
    )
    holders: dict[RoleKind, User] = {}
    for kind, user in rows:
        holders.setdefault(kind, user)
    for kind in kinds:
        if kind in holders:
            return holders[kind]
    if RoleKind.REPORTER not in kinds:
        return None
    return await session.scalar(
        select(User)
        .join(TimelineEvent, TimelineEvent.actor_id == User.id)
        .where(
            TimelineEvent.incident_id == incident.id,
            TimelineEvent.kind == EventKind.DECLARED,
            policy.audience(incident),
        )
        .limit(1)
    )


async def _send(
    session: AsyncSession,
    user: User | None,
    *,
    key: str,
    incident: Incident,
    kind: NotificationKind,
    title: str,
    body: str,
    now: datetime,
    email: bool,
) -> list[Notification]:
    session.add(Nudge(key=key, incident_id=incident.id, created_at=now))
    await session.flush()
    if user is None:
        return []
    return await notifications.send(
        session,
        [user.id],
        kind=kind,
        incident=incident,
        title=title,
        body=body,
        cause=key,
        now=now,
        email=email,
    )


async def _nudge_overdue(
    session: AsyncSession, overdue: _Overdue, *, now: datetime, email: bool
) -> TimelineEvent | None:
    """Remind whoever should share the update; on the first round (or the first one a sweep
    got to, if none ran in time), also the timeline event, returned to be added last. The event
    does NOT bump ``incident.version``: nothing about the incident changed, and someone's open
    edit form must not conflict because of it."""
    incident = overdue.incident
    due = overdue.due_at
    first = overdue.round == 0 or not await session.scalar(
        select(
            exists().where(
                Nudge.incident_id == incident.id,
                Nudge.key.startswith(overdue_key(incident.id, due, 0)[:-1], autoescape=True),
            )
        )
    )
    user = await _reminded(session, incident, _OVERDUE_CHAIN)
    title = (
        "A private incident you are in has an overdue update"
        if incident.private
        else f"Update overdue: {incident.reference} {incident.name}"
    )
    by = f"{due:%H:%M} UTC" + ("" if due.date() == now.date() else f" on {_day(due.date())}")
    sent = await _send(
        session,
        user,
        key=overdue.key,
        incident=incident,
        kind=NotificationKind.UPDATE_OVERDUE,
        title=title,
        body=(
            f"You promised an update by {by}. Share one to let everyone know where things stand."
        ),
        now=now,
        email=email,
    )
    if not first:
        return None
    payload: dict[str, Any] = {
        "reminded": user.name if user is not None and sent else None,
        "due_at": due.isoformat(),
    }
    return TimelineEvent(
        incident_id=incident.id,
        kind=EventKind.UPDATE_OVERDUE,
        actor_id=None,
        occurred_at=now,
        payload=payload,
    )


async def _nudge_no_lead(
    session: AsyncSession,
    missing: _NoLead,
    settings: NudgeSettings,
    *,
    now: datetime,
    email: bool,
) -> None:
    incident = missing.incident
    user = await _reminded(session, incident, (RoleKind.REPORTER,))
    minutes = round(settings.no_lead.total_seconds() / 60)
    await _send(
        session,
        user,
        key=missing.key,
        incident=incident,
        kind=NotificationKind.NO_LEAD,
        title=(
            "A private incident you reported has no lead"
            if incident.private
            else f"No lead yet: {incident.reference} {incident.name}"
        ),
        body=(
            f"It has been active for over {minutes} min without an incident lead. "
            "Take the role, or find someone who will."
        ),
        now=now,
        email=email,
    )


async def _nudge_follow_up(
    session: AsyncSession, late: _FollowUp, *, now: datetime, email: bool
) -> None:
    action = late.action
    incident = await session.get_one(Incident, action.incident_id)
    owner = await session.get_one(User, action.owner_id)
    assert action.due_on is not None
    await _send(
        session,
        owner,
        key=late.key,
        incident=incident,
        kind=NotificationKind.FOLLOW_UP_DUE,
        title=(
            "A follow-up you own on a private incident is overdue"
            if incident.private
            else f"Follow-up overdue: “{action.title}” ({incident.reference})"
        ),
        body=(
            f"It was due on {_day(action.due_on)}. "
            "Mark it done, or change its due date if the plan changed."
        ),
        now=now,
        email=email,
    )


def _day(day: date) -> str:
    return f"{day.day} {day:%B %Y}"

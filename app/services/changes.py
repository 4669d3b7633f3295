"""The shared first and last steps of every write to an incident.

``changing`` is the usual start: one write transaction, and in it ``open_incident``, which loads
the incident for update, works out the actor's standing, and refuses in
one fixed order: an incident the actor cannot see is ``NotFound`` (exactly as a missing one, by
the same single statement: visibility is part of its WHERE), an
action the policy forbids is ``Forbidden``, a stale ``expected_version`` is ``Conflict``. The
returned ``Change`` appends timeline events and bumps the version once per transaction.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from app import policy
from app.db import Database, appending_events
from app.errors import Conflict, Forbidden, incident_not_found
from app.models import EventKind, Incident, Member, RoleAssignment, TimelineEvent, User

Rule = Callable[[User, Incident, policy.Standing], bool]


@dataclasses.dataclass
class Change:
    """One transaction's work on one incident."""

    session: AsyncSession
    actor: User
    incident: Incident
    standing: policy.Standing
    now: datetime
    _touched: bool = False

    async def record(self, kind: EventKind, payload: dict[str, Any]) -> TimelineEvent:
        """Append an event to the incident's timeline and mark the incident changed."""
        await appending_events(self.session)
        if not self._touched:
            self.incident.version += 1
            self.incident.updated_at = self.now
            self._touched = True
        event = TimelineEvent(
            incident_id=self.incident.id,
            kind=kind,
            actor_id=self.actor.id,
            occurred_at=self.now,
            payload=payload,
        )
        self.session.add(event)
        return event


async def standing(session: AsyncSession, user: User, incident_id: int) -> policy.Standing:
    """How ``user`` is related to the incident (member; reporter or role holder)."""
    member = exists().where(Member.incident_id == incident_id, Member.user_id == user.id)
    party = exists().where(
        RoleAssignment.incident_id == incident_id, RoleAssignment.user_id == user.id
    )
    row = (await session.execute(select(member, party))).one()
    return policy.Standing(member=bool(row[0]), party=bool(row[1]))


async def open_incident(
    session: AsyncSession,
    actor: User,
    incident_id: int,
    *,
    now: datetime,
    allowed: Rule = policy.can_edit,
    expected_version: int | None = None,
) -> Change:
    """Lock the incident for this transaction and check the actor may change it."""
    # The access rule is in the WHERE: a hidden incident takes the very path of a missing one.
    incident = await session.scalar(
        select(Incident)
        .where(Incident.id == incident_id, policy.visible_incidents(actor))
        .with_for_update(of=Incident)
    )
    if incident is None:
        raise incident_not_found()
    relation = await standing(session, actor, incident.id)
    if not allowed(actor, incident, relation):
        raise Forbidden("You are not allowed to do that on this incident.")
    if expected_version is not None and expected_version != incident.version:
        raise Conflict(
            f"{incident.reference} was changed by someone else since you loaded it "
            f"(version {expected_version}, now {incident.version}); reload and try again.",
            field="expectedVersion",
        )
    return Change(session=session, actor=actor, incident=incident, standing=relation, now=now)


@contextlib.asynccontextmanager
async def changing(
    db: Database,
    actor: User,
    incident_id: int,
    *,
    allowed: Rule = policy.can_edit,
    expected_version: int | None = None,
) -> AsyncIterator[Change]:
    """One write transaction on one incident, opened with ``open_incident``'s checks."""
    async with db.write() as session:
        yield await open_incident(
            session,
            actor,
            incident_id,
            now=db.now(),
            allowed=allowed,
            expected_version=expected_version,
        )

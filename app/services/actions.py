"""Actions (work during an incident) and follow-ups (work after it): adding and updating them,
and finding someone's open work.

Both live in one table, told apart by ``kind``, and follow the same rules: editors of the
incident add and change them, and an owner may always work on their own.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app import policy
from app.db import Database
from app.errors import Invalid, NotFound
from app.models import Action, ActionKind, ActionStatus, EventKind, Incident, User
from app.services.changes import Change, changing, open_incident
from app.services.members import admit
from app.services.users import get_user
from app.text import clean_text

TITLE_LIMIT = 300


class Keep(enum.Enum):
    """Marks an optional argument the caller left alone (as opposed to clearing it)."""

    KEEP = "KEEP"


KEEP = Keep.KEEP
_ADDED = {
    ActionKind.ACTION: EventKind.ACTION_ADDED,
    ActionKind.FOLLOW_UP: EventKind.FOLLOW_UP_ADDED,
}
_UPDATED = {
    ActionKind.ACTION: EventKind.ACTION_UPDATED,
    ActionKind.FOLLOW_UP: EventKind.FOLLOW_UP_UPDATED,
}


async def add_action(
    db: Database,
    *,
    actor: User,
    incident_id: int,
    title: str,
    owner_id: int | None = None,
    due_on: date | None = None,
    kind: ActionKind = ActionKind.ACTION,
    expected_version: int | None = None,
) -> Action:
    """Add an action (or, with ``kind=FOLLOW_UP``, a follow-up) to an incident."""
    title = clean_text(title, field="title", limit=TITLE_LIMIT)
    async with changing(db, actor, incident_id, expected_version=expected_version) as change:
        session = change.session
        owner = await _owner(change, owner_id) if owner_id is not None else None
        action = Action(
            incident_id=incident_id,
            kind=kind,
            title=title,
            owner_id=owner.id if owner else None,
            status=ActionStatus.OPEN,
            due_on=due_on,
            created_by_id=actor.id,
            created_at=change.now,
        )
        session.add(action)
        await session.flush()
        await change.record(
            _ADDED[kind],
            {"action_id": action.id, "title": title, "owner": owner.name if owner else None},
        )
        return action


async def update_action(
    db: Database,
    *,
    actor: User,
    action_id: int,
    title: str | None = None,
    status: ActionStatus | None = None,
    owner_id: int | Keep | None = KEEP,
    due_on: date | Keep | None = KEEP,
    expected_version: int | None = None,
) -> Action:
    """Change an action or follow-up: its title, status, owner or due date."""
    async with db.write() as session:
        action = await _find(session, action_id, actor)
        try:
            change = await open_incident(
                session,
                actor,
                action.incident_id,
                now=db.now(),
                allowed=lambda user, incident, standing: policy.can_work_on(
                    user, incident, standing, action.owner_id
                ),
                expected_version=expected_version,
            )
        except NotFound as hidden:  # the work of an incident one may not see does not exist
            raise _missing() from hidden
        changed: dict[str, object] = {}
        if title is not None:
            title = clean_text(title, field="title", limit=TITLE_LIMIT)
            if title != action.title:
                changed["title"] = action.title = title
        if status is not None and status is not action.status:
            action.status = status
            action.completed_at = change.now if status is not ActionStatus.OPEN else None
            changed["status"] = status.name
        if not isinstance(owner_id, Keep) and owner_id != action.owner_id:
            owner = await _owner(change, owner_id) if owner_id is not None else None
            action.owner_id = owner.id if owner else None
            changed["owner"] = owner.name if owner else None
        if not isinstance(due_on, Keep) and due_on != action.due_on:
            action.due_on = due_on
            changed["due_on"] = due_on.isoformat() if due_on else None
        if not changed:
            raise Invalid("Nothing to change.", field="actionId")
        await change.record(
            _UPDATED[action.kind],
            {"action_id": action.id, "title": action.title, "changes": changed},
        )
        return action


async def open_work(session: AsyncSession, user: User, *, limit: int = 100) -> Sequence[Action]:
    """``user``'s open actions and follow-ups on incidents they can see, soonest due first."""
    query = (
        select(Action)
        .join(Incident, Incident.id == Action.incident_id)
        .where(
            Action.owner_id == user.id,
            Action.status == ActionStatus.OPEN,
            policy.visible_incidents(user),
        )
        .order_by(Action.due_on.is_(None), Action.due_on, Action.created_at, Action.id)
        .limit(limit)
    )
    return (await session.scalars(query)).all()


def _missing() -> NotFound:
    return NotFound("No action with that id.", field="actionId")


async def _find(session: AsyncSession, action_id: int, actor: User) -> Action:
    """The action, if the actor may see its incident: visibility is in the one statement's
    WHERE, so work on a hidden incident takes the very path of a missing one."""
    action = await session.scalar(
        select(Action)
        .join(Incident, Incident.id == Action.incident_id)
        .where(Action.id == action_id, policy.visible_incidents(actor))
    )
    if action is None:
        raise _missing()
    return action


async def _owner(change: Change, owner_id: int) -> User:
    owner = await get_user(change.session, owner_id, field="ownerId")
    if not policy.can_hold_role(owner):
        raise Invalid(f"{owner.name} is a viewer and cannot own work.", field="ownerId")
    await admit(change, owner)
    return owner

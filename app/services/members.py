"""Who is in an incident: inviting and removing members, and admins' break-glass access.

Members are what make a private incident visible. The reporter and anyone given a role or an
action are admitted automatically; every admission after the declaration is on the timeline.
"""

from __future__ import annotations

from sqlalchemy import false, select

from app import policy
from app.db import Database
from app.errors import Forbidden, Invalid, incident_not_found
from app.models import EventKind, Incident, Member, RoleAssignment, User
from app.services.changes import Change, changing
from app.services.incidents import reference_number
from app.services.users import get_user
from app.text import clean_text


async def admit(change: Change, user: User) -> None:
    """Make ``user`` a member of the incident being changed, recording it if they were not."""
    existing = await change.session.get(Member, (change.incident.id, user.id))
    if existing is not None:
        return
    change.session.add(
        Member(
            incident_id=change.incident.id,
            user_id=user.id,
            added_by_id=change.actor.id,
            added_at=change.now,
        )
    )
    if change.incident.private:
        await change.record(EventKind.MEMBER_INVITED, {"user": user.name, "user_id": user.id})


async def invite(
    db: Database,
    *,
    actor: User,
    incident_id: int,
    user_id: int,
    expected_version: int | None = None,
) -> Incident:
    """Let somebody into a private incident."""
    async with changing(
        db, actor, incident_id, allowed=policy.can_invite, expected_version=expected_version
    ) as change:
        session = change.session
        if not change.incident.private:
            raise Invalid("Everyone can already see this incident.", field="incidentId")
        user = await get_user(session, user_id)
        if await session.get(Member, (incident_id, user.id)) is not None:
            raise Invalid(f"{user.name} is already a member.", field="userId")
        await admit(change, user)
        return change.incident


async def remove_member(
    db: Database,
    *,
    actor: User,
    incident_id: int,
    user_id: int,
    expected_version: int | None = None,
) -> Incident:
    """Take somebody out of an incident; the roles they held there are unassigned."""
    async with changing(
        db, actor, incident_id, allowed=policy.can_manage_members, expected_version=expected_version
    ) as change:
        session = change.session
        user = await get_user(session, user_id)
        member = await session.get(Member, (incident_id, user.id))
        if member is None:
            raise Invalid(f"{user.name} is not a member.", field="userId")
        held = (
            await session.scalars(
                select(RoleAssignment).where(
                    RoleAssignment.incident_id == incident_id, RoleAssignment.user_id == user.id
                )
            )
        ).all()
        for assignment in held:
            await session.delete(assignment)
        await session.delete(member)
        await change.record(
            EventKind.MEMBER_REMOVED,
            {"user": user.name, "user_id": user.id, "roles_unassigned": len(held)},
        )
        return change.incident


async def break_glass(
    db: Database,
    *,
    actor: User,
    incident_id: int | None = None,
    reference: str | None = None,
    reason: str,
) -> Incident:
    """Give an admin access to a private incident (by id, or by its ``INC-<n>`` reference), with
    a reason every member will see."""
    reason = clean_text(reason, field="reason", limit=2000)
    field = "incidentId" if reference is None else "reference"
    if reference is None:
        which = Incident.id == incident_id
    else:
        number = reference_number(reference)
        which = Incident.number == number if number is not None else false()
    async with db.write() as session:
        incident = await session.scalar(select(Incident).where(which).with_for_update())
        if incident is None or not policy.is_admin(actor):
            raise incident_not_found(field)
        incident_id = incident.id
        change = Change(
            session=session,
            actor=actor,
            incident=incident,
            standing=policy.Standing(),
            now=db.now(),
        )
        if await session.get(Member, (incident_id, actor.id)) is not None:
            raise Invalid("You are already a member of this incident.", field="incidentId")
        if not policy.can_break_glass(actor, incident, change.standing):
            raise Forbidden("Break-glass is only for private incidents.")
        session.add(
            Member(
                incident_id=incident.id, user_id=actor.id, added_by_id=actor.id, added_at=change.now
            )
        )
        await change.record(EventKind.BREAK_GLASS, {"reason": reason})
        return incident

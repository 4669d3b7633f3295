"""Incident roles: assigning and unassigning who leads, communicates, and so on.

One holder per role per incident; assigning a held role hands it over. The reporter is set when
the incident is declared, and a required role (the incident lead) is handed over rather than
left empty.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app import policy
from app.db import Database
from app.errors import Invalid, NotFound
from app.models import EventKind, IncidentRole, RoleAssignment, User
from app.services import catalog
from app.services.changes import changing
from app.services.members import admit
from app.services.users import get_user


async def assign_role(
    db: Database,
    *,
    actor: User,
    incident_id: int,
    role_id: int,
    user_id: int,
    expected_version: int | None = None,
) -> RoleAssignment:
    """Give ``user`` the role, taking it from whoever held it; they become a member."""
    async with changing(db, actor, incident_id, expected_version=expected_version) as change:
        session = change.session
        role, user, assignment, previous = await hand_over(
            session, incident_id=incident_id, role_id=role_id, user_id=user_id, now=change.now
        )
        await admit(change, user)
        await change.record(
            EventKind.ROLE_ASSIGNED,
            {"role": role.name, "user": user.name, "user_id": user.id, "previous": previous},
        )
        await session.flush()
        return assignment


async def hand_over(
    session: AsyncSession, *, incident_id: int, role_id: int, user_id: int, now: datetime
) -> tuple[IncidentRole, User, RoleAssignment, str | None]:
    """Inside the caller's write transaction (the incident locked): give ``user`` the role,
    taking it from whoever held it, after the role rules' checks. Returns the role, the user,
    the assignment and the previous holder's name; the caller admits the user and records it."""
    role = await catalog.get_config(session, IncidentRole, role_id, "roleId")
    if not role.assignable:
        raise Invalid("The reporter is whoever declared the incident.", field="roleId")
    user = await get_user(session, user_id)
    if not policy.can_hold_role(user):
        raise Invalid(f"{user.name} is a viewer and cannot hold incident roles.", field="userId")
    assignment = await session.scalar(
        select(RoleAssignment).where(
            RoleAssignment.incident_id == incident_id, RoleAssignment.role_id == role.id
        )
    )
    previous = None
    if assignment is None:
        assignment = RoleAssignment(incident_id=incident_id, role_id=role.id, user_id=user.id)
        session.add(assignment)
    elif assignment.user_id == user.id:
        raise Invalid(f"{user.name} is already {role.name}.", field="userId")
    else:
        previous = (await session.get_one(User, assignment.user_id)).name
        assignment.user_id = user.id
    assignment.assigned_at = now
    return role, user, assignment, previous


async def unassign_role(
    db: Database,
    *,
    actor: User,
    incident_id: int,
    role_id: int,
    expected_version: int | None = None,
) -> None:
    """Leave a role empty (not the reporter, and not a required role: hand those over)."""
    async with changing(db, actor, incident_id, expected_version=expected_version) as change:
        session = change.session
        role = await catalog.get_config(session, IncidentRole, role_id, "roleId")
        if not role.may_be_empty:
            raise Invalid(
                f"{role.name} cannot be left empty; assign it to someone else instead.",
                field="roleId",
            )
        assignment = await session.scalar(
            select(RoleAssignment).where(
                RoleAssignment.incident_id == incident_id, RoleAssignment.role_id == role.id
            )
        )
        if assignment is None:
            raise NotFound(f"Nobody holds {role.name}.", field="roleId")
        holder = await session.get_one(User, assignment.user_id)
        await session.delete(assignment)
        await change.record(
            EventKind.ROLE_UNASSIGNED,
            {"role": role.name, "user": holder.name, "user_id": holder.id},
        )

"""Who may see and do what: the access rules of PRODUCT.md in one place.

Private incidents are visible only to their members; no organisation role sees them implicitly
(an admin gets in only through break-glass, which makes them a member and is recorded). For lists
the same rule is a SQL condition, so private rows never leave the database for outsiders.
"""

from __future__ import annotations

import dataclasses

from sqlalchemy import ColumnElement, and_, exists, false, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from app.models import Incident, Member, OrgRole, User


@dataclasses.dataclass(frozen=True)
class Standing:
    """A user's relation to one incident: listed member, and reporter or role holder."""

    member: bool = False
    party: bool = False


def visible_incidents(user: User) -> ColumnElement[bool]:
    """A WHERE condition selecting the incidents ``user`` may see."""
    if not user.active:
        return false()
    return visible_to(literal(user.id))


def visible_to(user_id: ColumnElement[int] | InstrumentedAttribute[int]) -> ColumnElement[bool]:
    """``visible_incidents`` for the person whose id ``user_id`` (a column) holds, who must be
    active (checked by the caller): many people's rows in one query, each against their own
    access."""
    is_member = exists(
        select(Member.user_id).where(Member.incident_id == Incident.id, Member.user_id == user_id)
    )
    return or_(Incident.private.is_(False), is_member)


@dataclasses.dataclass(frozen=True)
class Sight:
    """All that decides which incidents someone may see (``visible_incidents``): being active,
    and the private incidents they are a member of. Two people with the same ``Sight`` see the
    same incidents."""

    active: bool
    private: frozenset[int]


async def sight(session: AsyncSession, user: User) -> Sight:
    if not user.active:
        return Sight(False, frozenset())
    private = await session.scalars(
        select(Member.incident_id)
        .join(Incident, Incident.id == Member.incident_id)
        .where(Member.user_id == user.id, Incident.private.is_(True))
    )
    return Sight(True, frozenset(private))


def audience(incident: Incident) -> ColumnElement[bool]:
    """A WHERE condition on users selecting those who may see ``incident`` (``visible_incidents``
    turned around: whom a notification, email or live event about it may reach)."""
    active = User.active.is_(True)
    if not incident.private:
        return active
    is_member = exists(
        select(Member.user_id).where(Member.incident_id == incident.id, Member.user_id == User.id)
    )
    return and_(active, is_member)


def can_view(user: User, incident: Incident, standing: Standing) -> bool:
    if not user.active:
        return False
    return not incident.private or standing.member


def can_declare(user: User) -> bool:
    return user.active and user.role.at_least(OrgRole.MEMBER)


def can_edit(user: User, incident: Incident, standing: Standing) -> bool:
    """Change status, severity, roles, fields and work items; share updates."""
    if not can_view(user, incident, standing):
        return False
    if user.role.at_least(OrgRole.RESPONDER):
        return True
    return user.role is OrgRole.MEMBER and standing.party


def can_triage(user: User, incident: Incident, standing: Standing) -> bool:
    """Accept, decline or merge an incident waiting in triage: responders' work."""
    return can_view(user, incident, standing) and user.role.at_least(OrgRole.RESPONDER)


def can_add_note(user: User, incident: Incident, standing: Standing) -> bool:
    return can_view(user, incident, standing) and user.role.at_least(OrgRole.MEMBER)


def can_invite(user: User, incident: Incident, standing: Standing) -> bool:
    """Members of a private incident let others in (viewers only watch)."""
    return standing.member and can_add_note(user, incident, standing)


def can_hold_role(user: User) -> bool:
    """Hold an incident role or own work: anyone but a viewer (viewers only watch)."""
    return user.role is not OrgRole.VIEWER


def can_manage_members(user: User, incident: Incident, standing: Standing) -> bool:
    """Remove members from an incident: its editors."""
    return can_edit(user, incident, standing)


def can_work_on(user: User, incident: Incident, standing: Standing, owner_id: int | None) -> bool:
    """Update an action or follow-up: editors of the incident, and the work's owner."""
    if can_edit(user, incident, standing):
        return True
    return owner_id == user.id and can_add_note(user, incident, standing)


def is_admin(user: User) -> bool:
    """Admins may ask for break-glass access to any incident reference."""
    return user.active and user.role is OrgRole.ADMIN


def can_break_glass(user: User, incident: Incident, standing: Standing) -> bool:
    return user.active and user.role is OrgRole.ADMIN and incident.private and not standing.member


def can_configure(user: User) -> bool:
    """Change severities, statuses, types, roles and fields; manage users and tokens."""
    return user.active and user.role is OrgRole.ADMIN


def can_publish_status(
    user: User, incident: Incident | None, standing: Standing, holds_comms_lead: bool
) -> bool:
    """Tell customers on the status page: responders and admins who may see the linked incident,
    and whoever holds its Communications lead role; with no linked incident, responders and
    admins only."""
    if not user.active:
        return False
    responder = user.role.at_least(OrgRole.RESPONDER)
    if incident is None:
        return responder
    if not can_view(user, incident, standing):
        return False
    return responder or (holds_comms_lead and can_hold_role(user))

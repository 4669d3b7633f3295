"""Teams: named groups of people (Leadership, Support, Security...) that admins manage and
workflows address, optionally bound to an identity-provider group.

Admins (``policy.can_configure``) create teams, rename and describe them, bind them to a group
and add or remove members; anyone signed in may read them (who is in a team is no secret here).
A membership is either made by hand (``via_group`` false) or by the person's group at sign-in
(``sync_groups``, true). A sign-in adds people to the teams bound to the groups they are in and
takes them out of the bound teams whose group they have left, and never touches a hand-made
membership. An admin adding someone who is there through their group makes the membership a
hand-made one (it then outlives the group); removing someone takes either kind away, but one
who is still in the team's group is back at their next sign-in. Changing or removing a team's
group drops the memberships its old group made. ``member_ids`` is what workflows reach: the
active people in some teams.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app import policy
from app.db import Database
from app.errors import Conflict, Forbidden, Invalid, NotFound
from app.models import Team, TeamMember, User
from app.text import clean_text

NAME_LIMIT = 100
DESCRIPTION_LIMIT = 2000
GROUP_LIMIT = 200
MAX_IDS = 1000  # people added or removed in one call


def _require_admin(actor: User) -> None:
    if not policy.can_configure(actor):
        raise Forbidden("Only admins can change teams.")


# Reads ---------------------------------------------------------------------------------------


async def list_teams(session: AsyncSession) -> Sequence[Team]:
    """Every team, by name."""
    return (await session.scalars(select(Team).order_by(func.lower(Team.name), Team.id))).all()


async def find_team(session: AsyncSession, team_id: int) -> Team | None:
    return await session.get(Team, team_id)


async def get_team(session: AsyncSession, team_id: int, *, field: str = "teamId") -> Team:
    team = await session.get(Team, team_id)
    if team is None:
        raise NotFound("No team with that id.", field=field)
    return team


async def member_ids(session: AsyncSession, team_ids: Collection[int]) -> set[int]:
    """The active people in any of ``team_ids`` (the teams a workflow names)."""
    if not team_ids:
        return set()
    query = (
        select(TeamMember.user_id)
        .join(User, User.id == TeamMember.user_id)
        .where(TeamMember.team_id.in_(set(team_ids)), User.active.is_(True))
    )
    return set(await session.scalars(query))


async def members(
    session: AsyncSession, team_ids: Collection[int], *, first: int
) -> dict[int, list[User]]:
    """The first ``first`` active people of each team, by name: one statement for all teams."""
    if not team_ids:
        return {}
    position = func.row_number().over(
        partition_by=TeamMember.team_id, order_by=(func.lower(User.name), User.id)
    )
    numbered = (
        select(TeamMember.team_id, User.id.label("user_id"), position.label("position"))
        .join(User, User.id == TeamMember.user_id)
        .where(TeamMember.team_id.in_(set(team_ids)), User.active.is_(True))
        .subquery()
    )
    query = (
        select(numbered.c.team_id, User)
        .join(User, User.id == numbered.c.user_id)
        .where(numbered.c.position <= first)
        .order_by(numbered.c.team_id, numbered.c.position)
    )
    grouped: dict[int, list[User]] = defaultdict(list)
    for team_id, user in await session.execute(query):
        grouped[team_id].append(user)
    return grouped


async def member_counts(session: AsyncSession, team_ids: Collection[int]) -> dict[int, int]:
    """How many active people each team has."""
    if not team_ids:
        return {}
    query = (
        select(TeamMember.team_id, func.count())
        .join(User, User.id == TeamMember.user_id)
        .where(TeamMember.team_id.in_(set(team_ids)), User.active.is_(True))
        .group_by(TeamMember.team_id)
    )
    return {team_id: count for team_id, count in await session.execute(query)}


# Changes by admins -----------------------------------------------------------------------------


async def create_team(
    db: Database,
    *,
    actor: User,
    name: str,
    description: str = "",
    oidc_group: str | None = None,
    member_ids: Sequence[int] = (),
) -> Team:
    """A new team with the people named in ``member_ids`` (hand-made memberships)."""
    _require_admin(actor)
    chosen = _bounded(member_ids, "memberIds")
    async with db.write() as session:
        team = Team(created_at=db.now(), description="")
        await _describe(session, team, name, description, oidc_group)
        await _flush(session, team)
        await _add(session, team.id, await _people(session, chosen, "memberIds"), db.now())
        return team


async def update_team(
    db: Database,
    *,
    actor: User,
    team_id: int,
    name: str | None = None,
    description: str | None = None,
    oidc_group: str | None = None,
) -> Team:
    """Change what is given; an ``oidc_group`` of ``""`` unbinds the team from its group (and
    a changed group drops the memberships the old one made)."""
    _require_admin(actor)
    async with db.write() as session:
        team = await get_team(session, team_id)
        before = team.oidc_group
        await _describe(session, team, name, description, oidc_group)
        if team.oidc_group != before:
            await session.execute(
                delete(TeamMember).where(
                    TeamMember.team_id == team.id, TeamMember.via_group.is_(True)
                )
            )
        await _flush(session, team)
        return team


async def add_members(db: Database, *, actor: User, team_id: int, user_ids: Sequence[int]) -> Team:
    """Add people by hand; someone already in through their group stays, now by hand."""
    _require_admin(actor)
    chosen = _bounded(user_ids, "userIds")
    async with db.write() as session:
        team = await get_team(session, team_id)
        await _add(session, team.id, await _people(session, chosen, "userIds"), db.now())
        return team


async def remove_members(
    db: Database, *, actor: User, team_id: int, user_ids: Sequence[int]
) -> Team:
    """Take people out of a team, however they came in. Someone still in the team's group is
    added again at their next sign-in: to keep them out, take them out of the group."""
    _require_admin(actor)
    chosen = _bounded(user_ids, "userIds")
    async with db.write() as session:
        team = await get_team(session, team_id)
        if chosen:
            await session.execute(
                delete(TeamMember).where(
                    TeamMember.team_id == team.id, TeamMember.user_id.in_(chosen)
                )
            )
        return team


# Sign-in ---------------------------------------------------------------------------------------


async def sync_groups(
    session: AsyncSession, user: User, groups: Iterable[str], now: datetime
) -> None:
    """Refresh ``user``'s group-made memberships from the groups the provider says they are in:
    in every team bound to one of them, and in no other through a group. Hand-made memberships
    stay as they are."""
    have = {group for group in groups if isinstance(group, str)}
    bound = await session.execute(
        select(Team.id, Team.oidc_group).where(Team.oidc_group.is_not(None))
    )
    wanted = {team_id for team_id, group in bound if group in have}
    rows = await session.execute(
        select(TeamMember.team_id, TeamMember.via_group).where(TeamMember.user_id == user.id)
    )
    current: dict[int, bool] = {team_id: via for team_id, via in rows}
    stale = [team_id for team_id, via in current.items() if via and team_id not in wanted]
    if stale:
        await session.execute(
            delete(TeamMember).where(
                TeamMember.user_id == user.id,
                TeamMember.team_id.in_(stale),
                TeamMember.via_group.is_(True),
            )
        )
    for team_id in sorted(wanted - current.keys()):
        values = {"team_id": team_id, "user_id": user.id, "via_group": True, "added_at": now}
        await session.execute(_insert(session).values(**values).on_conflict_do_nothing())


# Helpers ---------------------------------------------------------------------------------------


def _insert(session: AsyncSession) -> Any:
    """An INSERT into team_members of the session's dialect, which can skip or update a row
    that is already there (a sign-in and an admin adding the same person at once)."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(TeamMember)


def _bounded(ids: Sequence[int], field: str) -> list[int]:
    unique = list(dict.fromkeys(ids))
    if len(unique) > MAX_IDS:
        raise Invalid(f"At most {MAX_IDS:,} people at a time.", field=field)
    return unique


async def _people(session: AsyncSession, user_ids: list[int], field: str) -> list[int]:
    """``user_ids``, each an active person's, or ``Invalid`` naming ``field``."""
    if not user_ids:
        return []
    query = select(User.id).where(User.id.in_(user_ids), User.active.is_(True))
    found = set(await session.scalars(query))
    if len(found) != len(user_ids):
        raise Invalid("No active person with one of those ids.", field=field)
    return user_ids


async def _add(session: AsyncSession, team_id: int, user_ids: list[int], now: datetime) -> None:
    for user_id in user_ids:
        values = {"team_id": team_id, "user_id": user_id, "via_group": False, "added_at": now}
        statement = _insert(session).values(**values)
        await session.execute(
            statement.on_conflict_do_update(
                index_elements=["team_id", "user_id"], set_={"via_group": False}
            )
        )


async def _describe(
    session: AsyncSession,
    team: Team,
    name: str | None,
    description: str | None,
    oidc_group: str | None,
) -> None:
    if name is not None:
        name = clean_text(name, field="name", limit=NAME_LIMIT)
        query = select(Team.id).where(func.lower(Team.name) == name.lower())
        if team.id is not None:
            query = query.where(Team.id != team.id)
        if await session.scalar(query) is not None:
            raise Invalid(f"There is already a team named {name!r}.", field="name")
        team.name = name
    elif team.id is None:
        raise Invalid("A team needs a name.", field="name")
    if description is not None:
        team.description = clean_text(
            description, field="description", limit=DESCRIPTION_LIMIT, empty=True
        )
    if oidc_group is not None:
        group = clean_text(oidc_group, field="oidcGroup", limit=GROUP_LIMIT, empty=True) or None
        if group is not None:
            bound = select(Team.name).where(Team.oidc_group == group)
            if team.id is not None:
                bound = bound.where(Team.id != team.id)
            holder = await session.scalar(bound)
            if holder is not None:
                raise Invalid(
                    f"The team {holder!r} is already bound to that group.", field="oidcGroup"
                )
        team.oidc_group = group


async def _flush(session: AsyncSession, team: Team) -> None:
    """Store the team; two admins naming teams alike at the same moment: one is told so."""
    try:
        async with session.begin_nested():
            session.add(team)
            await session.flush()
    except IntegrityError as error:
        raise Conflict("Another admin just named a team the same way; look again.") from error

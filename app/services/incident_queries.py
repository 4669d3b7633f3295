"""Lists of incidents as one person may see them: filters, full-text search, keyset pages, counts.

Visibility is part of every query's WHERE (``policy.visible_incidents``), so private incidents
never leave the database for people outside them, and counts agree with lists. Pages are keyset
pages over (declared_at, id), newest first: the 100th page costs what the first does.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, Select, exists, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from app import policy, search
from app.models import (
    CustomFieldValue,
    Follower,
    Incident,
    IncidentMode,
    IncidentRole,
    RoleAssignment,
    RoleKind,
    Status,
    StatusCategory,
    User,
)

MAX_PAGE = 100


@dataclasses.dataclass(frozen=True)
class IncidentFilter:
    """What to narrow a list of incidents to; every part left empty matches everything."""

    categories: Sequence[StatusCategory] = ()
    severity_ids: Sequence[int] = ()
    type_ids: Sequence[int] = ()
    modes: Sequence[IncidentMode] = ()
    private: bool | None = None
    lead_id: int | None = None
    reporter_id: int | None = None
    followed_by_id: int | None = None
    role_holder_id: int | None = None  # holds any role (reporter included)
    option_ids: Sequence[int] = ()  # has any of these custom field options (e.g. a team)
    search: str = ""


@dataclasses.dataclass(frozen=True)
class Position:
    """Where a page ends: the last incident's declaration time and id."""

    declared_at: datetime
    id: int


def _holds(kind: RoleKind, user_id: int) -> ColumnElement[bool]:
    return exists(
        select(RoleAssignment.id)
        .join(IncidentRole, IncidentRole.id == RoleAssignment.role_id)
        .where(
            RoleAssignment.incident_id == Incident.id,
            RoleAssignment.user_id == user_id,
            IncidentRole.kind == kind,
        )
    )


async def _filtered(session: AsyncSession, actor: User, wanted: IncidentFilter) -> Select[int]:
    """The ids of the incidents ``actor`` may see that match."""
    return await _narrowed(
        session, select(Incident.id).where(policy.visible_incidents(actor)), wanted
    )


async def matching_ids(
    session: AsyncSession, wanted: IncidentFilter, among: Collection[int] | None = None
) -> set[int]:
    """Which incidents (of ``among``, or all) match ``wanted``, whoever may see them: the list's
    own conditions, for live feeds, which check who may see each event themselves."""
    query = select(Incident.id)
    if among is not None:
        query = query.where(Incident.id.in_(among))
    return set(await session.scalars(await _narrowed(session, query, wanted)))


async def _narrowed(
    session: AsyncSession, query: Select[int], wanted: IncidentFilter
) -> Select[int]:
    """``query`` (of incident ids) narrowed to ``wanted``, with conditions that sit on
    ``incidents`` itself, so the database can walk an index and stop early (an ``id IN
    (subquery)`` made SQLite read and sort every visible incident for each page, and a status
    subquery hid from PostgreSQL how few incidents are ongoing)."""
    if wanted.categories:
        in_category = await session.scalars(
            select(Status.id).where(Status.category.in_(wanted.categories))
        )
        query = query.where(Incident.status_id.in_(list(in_category)))
    if wanted.severity_ids:
        query = query.where(Incident.severity_id.in_(wanted.severity_ids))
    if wanted.type_ids:
        query = query.where(Incident.type_id.in_(wanted.type_ids))
    if wanted.modes:
        query = query.where(Incident.mode.in_(wanted.modes))
    if wanted.private is not None:
        query = query.where(Incident.private.is_(wanted.private))
    if wanted.lead_id is not None:
        query = query.where(_holds(RoleKind.LEAD, wanted.lead_id))
    if wanted.reporter_id is not None:
        query = query.where(_holds(RoleKind.REPORTER, wanted.reporter_id))
    if wanted.role_holder_id is not None:
        query = query.where(
            exists().where(
                RoleAssignment.incident_id == Incident.id,
                RoleAssignment.user_id == wanted.role_holder_id,
            )
        )
    if wanted.option_ids:
        query = query.where(
            exists().where(
                CustomFieldValue.incident_id == Incident.id,
                CustomFieldValue.option_id.in_(wanted.option_ids),
            )
        )
    if wanted.followed_by_id is not None:
        query = query.where(
            exists().where(
                Follower.incident_id == Incident.id, Follower.user_id == wanted.followed_by_id
            )
        )
    matching = search.matching(session.get_bind().dialect.name, wanted.search)
    if matching is not None:
        query = query.where(matching)
    return query


async def list_incidents(
    session: AsyncSession,
    actor: User,
    wanted: IncidentFilter,
    *,
    first: int,
    after: Position | None = None,
) -> tuple[Sequence[Incident], bool]:
    """One page of incidents, newest first, and whether there are more after it."""
    first = max(1, min(first, MAX_PAGE))
    query = (await _filtered(session, actor, wanted)).with_only_columns(Incident)
    if after is not None:
        query = query.where(
            tuple_(Incident.declared_at, Incident.id) < tuple_(after.declared_at, after.id)
        )
    query = query.order_by(Incident.declared_at.desc(), Incident.id.desc()).limit(first + 1)
    rows = (await session.scalars(query)).all()
    return rows[:first], len(rows) > first


async def count_incidents(session: AsyncSession, actor: User, wanted: IncidentFilter) -> int:
    """How many incidents ``actor`` may see that match (never counting the hidden ones)."""
    query = select(func.count()).select_from((await _filtered(session, actor, wanted)).subquery())
    return int(await session.scalar(query) or 0)

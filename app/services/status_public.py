"""What the status page shows: the reads behind ``/status``, its JSON and its feed, and nothing
an anonymous visitor may not see. Every read here selects only the columns a visitor may read
(never a status incident's ``incident_id`` or ``created_by_id``, never anything of the internal
incident), and lists only public components unless the caller asks for the internal page
(``internal=True``, for signed-in people only; the schema checks that). A status incident that
affects only internal components is still listed publicly, with no components named. The overall
state is Statuspage's indicator (``none`` / ``minor`` / ``major`` / ``critical``) from the worst
listed component status and the open incidents; ``uptime`` is, per component and UTC day, the
fraction of the time the component was up (maintenance counts as up), drawn from its status
history, with no figure for the days before it existed. The settings row (id 1) answers with its
defaults while it is missing.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.status_page import (
    AffectedComponent,
    ComponentStatus,
    ComponentStatusChange,
    StatusComponent,
    StatusIncident,
    StatusIncidentKind,
    StatusIncidentState,
    StatusPageSettings,
    StatusUpdate,
)

MAX_DAYS = 90
MAX_HISTORY_PAGE = 50
OPEN_INCIDENT = (
    StatusIncidentState.INVESTIGATING,
    StatusIncidentState.IDENTIFIED,
    StatusIncidentState.MONITORING,
)
UPCOMING = (StatusIncidentState.SCHEDULED, StatusIncidentState.IN_PROGRESS)
CLOSED = (StatusIncidentState.RESOLVED, StatusIncidentState.COMPLETED)


class Indicator(enum.Enum):
    """Statuspage's overall indicator, worst last."""

    NONE = "none"
    MINOR = "minor"
    MAJOR = "major"
    CRITICAL = "critical"


_RANK = list(Indicator)
_OF_STATUS = {
    ComponentStatus.OPERATIONAL: Indicator.NONE,
    ComponentStatus.DEGRADED_PERFORMANCE: Indicator.MINOR,
    ComponentStatus.UNDER_MAINTENANCE: Indicator.MINOR,
    ComponentStatus.PARTIAL_OUTAGE: Indicator.MAJOR,
    ComponentStatus.MAJOR_OUTAGE: Indicator.CRITICAL,
}
_SENTENCES = {
    Indicator.NONE: "All systems operational.",
    Indicator.MINOR: "Some systems are degraded.",
    Indicator.MAJOR: "Partial system outage.",
    Indicator.CRITICAL: "Major system outage.",
}
UNDER_MAINTENANCE = "Some systems are under maintenance."
_INCIDENT_OPEN = "We are looking into an issue."


@dataclasses.dataclass(frozen=True)
class PageSettings:
    title: str
    intro: str
    support_url: str | None
    logo_url: str | None
    updated_at: datetime | None


@dataclasses.dataclass(frozen=True)
class Component:
    id: int
    name: str
    description: str
    group_name: str | None
    public: bool
    status: ComponentStatus
    position: int
    created_at: datetime
    updated_at: datetime


@dataclasses.dataclass(frozen=True)
class Group:
    name: str | None
    components: list[Component]


@dataclasses.dataclass(frozen=True)
class Update:
    id: int
    state: StatusIncidentState
    message: str
    created_at: datetime


@dataclasses.dataclass(frozen=True)
class Affected:
    component_id: int
    name: str
    status: ComponentStatus


@dataclasses.dataclass(frozen=True)
class Incident:
    """A status incident or maintenance window as a visitor reads it (updates newest first)."""

    id: int
    kind: StatusIncidentKind
    title: str
    state: StatusIncidentState
    starts_at: datetime | None
    ends_at: datetime | None
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    updates: list[Update]
    components: list[Affected]


@dataclasses.dataclass(frozen=True)
class Overall:
    indicator: Indicator
    description: str


@dataclasses.dataclass(frozen=True)
class UptimeDay:
    day: date
    fraction: float | None  # None: the component did not exist yet


async def page_settings(session: AsyncSession) -> PageSettings:
    """The page's title, intro, support link and logo (the defaults while row 1 is missing)."""
    row = (
        await session.execute(
            select(
                StatusPageSettings.title,
                StatusPageSettings.intro,
                StatusPageSettings.support_url,
                StatusPageSettings.logo_url,
                StatusPageSettings.updated_at,
            ).where(StatusPageSettings.id == 1)
        )
    ).one_or_none()
    if row is None:
        return PageSettings(
            title="Status", intro="", support_url=None, logo_url=None, updated_at=None
        )
    return PageSettings(*row)


_COMPONENT_COLUMNS = (
    StatusComponent.id,
    StatusComponent.name,
    StatusComponent.description,
    StatusComponent.group_name,
    StatusComponent.public,
    StatusComponent.status,
    StatusComponent.position,
    StatusComponent.created_at,
    StatusComponent.updated_at,
)


async def components(session: AsyncSession, *, internal: bool = False) -> list[Component]:
    """The components a visitor sees (with ``internal``, the internal-only ones too), by
    position then name."""
    query = select(*_COMPONENT_COLUMNS).order_by(StatusComponent.position, StatusComponent.name)
    if not internal:
        query = query.where(StatusComponent.public.is_(True))
    return [Component(*row) for row in await session.execute(query)]


def groups(listed: Sequence[Component]) -> list[Group]:
    """Components by group, each group where its first component stands (ungrouped: name None)."""
    found: dict[str | None, list[Component]] = {}
    for component in listed:
        found.setdefault(component.group_name, []).append(component)
    return [Group(name, members) for name, members in found.items()]


def overall(listed: Sequence[Component], open_incidents: Sequence[Incident]) -> Overall:
    """The indicator from the worst listed component status (an open incident is at least
    minor), and the page's one sentence about it."""
    worst = max((_OF_STATUS[c.status] for c in listed), key=_RANK.index, default=Indicator.NONE)
    if open_incidents and worst is Indicator.NONE:
        return Overall(Indicator.MINOR, _INCIDENT_OPEN)
    if worst is Indicator.MINOR and all(
        c.status.up for c in listed if _OF_STATUS[c.status] is Indicator.MINOR
    ):
        return Overall(worst, UNDER_MAINTENANCE)
    return Overall(worst, _SENTENCES[worst])


_INCIDENT_COLUMNS = (
    StatusIncident.id,
    StatusIncident.kind,
    StatusIncident.title,
    StatusIncident.state,
    StatusIncident.starts_at,
    StatusIncident.ends_at,
    StatusIncident.created_at,
    StatusIncident.updated_at,
    StatusIncident.resolved_at,
)


async def _incidents(
    session: AsyncSession, query: Select[*tuple[Any, ...]], *, internal: bool
) -> list[Incident]:
    rows = list(await session.execute(query))
    keys = [row.id for row in rows]
    updates: dict[int, list[Update]] = {key: [] for key in keys}
    affected: dict[int, list[Affected]] = {key: [] for key in keys}
    if keys:
        for incident_id, key, state, message, at in await session.execute(
            select(
                StatusUpdate.status_incident_id,
                StatusUpdate.id,
                StatusUpdate.state,
                StatusUpdate.message,
                StatusUpdate.created_at,
            )
            .where(StatusUpdate.status_incident_id.in_(keys))
            .order_by(StatusUpdate.id.desc())
        ):
            updates[incident_id].append(Update(key, state, message, at))
        components_of = (
            select(
                AffectedComponent.status_incident_id,
                StatusComponent.id,
                StatusComponent.name,
                AffectedComponent.status,
            )
            .join(StatusComponent, StatusComponent.id == AffectedComponent.component_id)
            .where(AffectedComponent.status_incident_id.in_(keys))
            .order_by(StatusComponent.position, StatusComponent.name)
        )
        if not internal:
            components_of = components_of.where(StatusComponent.public.is_(True))
        for incident_id, key, name, status in await session.execute(components_of):
            affected[incident_id].append(Affected(key, name, status))
    return [
        Incident(
            row.id,
            row.kind,
            row.title,
            row.state,
            row.starts_at,
            row.ends_at,
            row.created_at,
            row.updated_at,
            row.resolved_at,
            updates[row.id],
            affected[row.id],
        )
        for row in rows
    ]


async def open_incidents(session: AsyncSession, *, internal: bool = False) -> list[Incident]:
    """Status incidents not yet resolved, newest first."""
    query = (
        select(*_INCIDENT_COLUMNS)
        .where(
            StatusIncident.kind == StatusIncidentKind.INCIDENT,
            StatusIncident.state.in_(OPEN_INCIDENT),
        )
        .order_by(StatusIncident.id.desc())
        .limit(MAX_HISTORY_PAGE)
    )
    return await _incidents(session, query, internal=internal)


async def maintenance(session: AsyncSession, *, internal: bool = False) -> list[Incident]:
    """Maintenance scheduled or in progress, soonest first."""
    query = (
        select(*_INCIDENT_COLUMNS)
        .where(
            StatusIncident.kind == StatusIncidentKind.MAINTENANCE,
            StatusIncident.state.in_(UPCOMING),
        )
        .order_by(StatusIncident.starts_at, StatusIncident.id)
        .limit(MAX_HISTORY_PAGE)
    )
    return await _incidents(session, query, internal=internal)


async def history(
    session: AsyncSession, *, first: int, after: int | None = None, internal: bool = False
) -> tuple[list[Incident], bool]:
    """Resolved incidents and completed maintenance, newest first by id, from after the id
    ``after`` (the keyset cursor); and whether there are more."""
    first = max(1, min(first, MAX_HISTORY_PAGE))
    query = select(*_INCIDENT_COLUMNS).where(StatusIncident.state.in_(CLOSED))
    if after is not None:
        query = query.where(StatusIncident.id < after)
    query = query.order_by(StatusIncident.id.desc()).limit(first + 1)
    found = await _incidents(session, query, internal=internal)
    return found[:first], len(found) > first


async def incident(
    session: AsyncSession, status_incident_id: int, *, internal: bool = False
) -> Incident | None:
    """One status incident or maintenance window, or None."""
    query = select(*_INCIDENT_COLUMNS).where(StatusIncident.id == status_incident_id)
    found = await _incidents(session, query, internal=internal)
    return found[0] if found else None


async def uptime(
    session: AsyncSession, component_ids: Sequence[int], *, days: int = MAX_DAYS, now: datetime
) -> dict[int, list[UptimeDay]]:
    """For each component, its last ``days`` UTC days (oldest first, today last): the fraction
    of each day, up to ``now``, it spent operational or under maintenance. Before its first
    recorded change a component counts as operational from when it was made; a day before that
    (or after ``now``) has no figure."""
    days = max(1, min(days, MAX_DAYS))
    today = now.astimezone(UTC).date()
    first_day = today - timedelta(days=days - 1)
    window_start = datetime.combine(first_day, time(), UTC)
    wanted = list(dict.fromkeys(component_ids))
    if not wanted:
        return {}
    made = select(StatusComponent.id, StatusComponent.created_at).where(
        StatusComponent.id.in_(wanted)
    )
    created = {key: at for key, at in await session.execute(made)}
    changes: dict[int, list[tuple[datetime, ComponentStatus]]] = {key: [] for key in created}
    for component_id, changed_at, status in await session.execute(
        select(
            ComponentStatusChange.component_id,
            ComponentStatusChange.changed_at,
            ComponentStatusChange.status,
        )
        .where(
            ComponentStatusChange.component_id.in_(list(created)),
            ComponentStatusChange.changed_at < now,
        )
        .order_by(ComponentStatusChange.component_id, ComponentStatusChange.changed_at)
    ):
        changes[component_id].append((changed_at, status))
    return {
        key: _days(created[key], changes[key], first_day, days, window_start, now)
        for key in wanted
        if key in created
    }


def _days(
    created_at: datetime,
    changes: list[tuple[datetime, ComponentStatus]],
    first_day: date,
    days: int,
    window_start: datetime,
    now: datetime,
) -> list[UptimeDay]:
    start = min([created_at, *(at for at, _ in changes[:1])])
    # Intervals (from, to, up) covering [start, now).
    points = [(start, ComponentStatus.OPERATIONAL), *changes]
    up = [0.0] * days
    total = [0.0] * days
    for index, (begin, status) in enumerate(points):
        end = points[index + 1][0] if index + 1 < len(points) else now
        begin, end = max(begin, window_start), min(end, now)
        while begin < end:
            day = (begin - window_start).days
            day_end = min(end, window_start + timedelta(days=day + 1))
            seconds = (day_end - begin).total_seconds()
            total[day] += seconds
            if status.up:
                up[day] += seconds
            begin = day_end
    return [
        UptimeDay(first_day + timedelta(days=i), up[i] / total[i] if total[i] > 0 else None)
        for i in range(days)
    ]

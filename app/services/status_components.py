"""The status page's components: the services customers are told about, and how each one's status
follows the status incidents affecting it.

Admins configure components (``policy.can_configure``: name, description, group, whether the
public sees it, position); publishers (``policy.can_publish_status``) may also set a component's
status directly. Otherwise a component's status follows the status incidents affecting it: whenever
one is published, updated, resolved, started or completed, ``settle`` gives each component it
touches the worst status among the *active* ones still affecting it (``ACTIVE_STATES``: not
resolved, completed or merely scheduled), or ``OPERATIONAL`` when none does. Worst is by
``SEVERITY``: MAJOR_OUTAGE > PARTIAL_OUTAGE > DEGRADED_PERFORMANCE > UNDER_MAINTENANCE >
OPERATIONAL. Every change of a component's status appends a ``ComponentStatusChange`` (creation
appends the first, OPERATIONAL): the history ``app.services.status_public.uptime`` is drawn from
(``ComponentStatus.up``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Final

from sqlalchemy import exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app import policy
from app.db import Database
from app.errors import Forbidden, Invalid, NotFound
from app.models import (
    AffectedComponent,
    ComponentStatus,
    ComponentStatusChange,
    StatusComponent,
    StatusIncident,
    StatusIncidentState,
    User,
)
from app.text import clean_text

NAME_LENGTH = 100
DESCRIPTION_LENGTH = 1000
MOST_COMPONENTS = 200

SEVERITY: Final = {
    ComponentStatus.OPERATIONAL: 0,
    ComponentStatus.UNDER_MAINTENANCE: 1,
    ComponentStatus.DEGRADED_PERFORMANCE: 2,
    ComponentStatus.PARTIAL_OUTAGE: 3,
    ComponentStatus.MAJOR_OUTAGE: 4,
}
CLOSED: Final = frozenset({StatusIncidentState.RESOLVED, StatusIncidentState.COMPLETED})
# States in which a status incident sets its components' statuses (``settle``).
ACTIVE_STATES: Final = tuple(
    state
    for state in StatusIncidentState
    if state not in CLOSED and state is not StatusIncidentState.SCHEDULED
)


# Configuration ---------------------------------------------------------------------------------


def _admin(actor: User) -> None:
    if not policy.can_configure(actor):
        raise Forbidden("Only admins can configure status page components.")


def _group(value: str | None) -> str | None:
    if value is None:
        return None
    cleaned = clean_text(value, field="groupName", limit=NAME_LENGTH, empty=True)
    return cleaned or None


async def _unique_name(session: AsyncSession, name: str, component_id: int | None = None) -> None:
    taken = select(StatusComponent.id).where(func.lower(StatusComponent.name) == name.lower())
    if component_id is not None:
        taken = taken.where(StatusComponent.id != component_id)
    if await session.scalar(select(exists(taken))):
        raise Invalid(f"There is already a component called “{name}”.", field="name")


def _set_status(
    session: AsyncSession, component: StatusComponent, status: ComponentStatus, now: datetime
) -> None:
    """Move ``component`` to ``status``, recording the change in its history (if it is one)."""
    if component.status is status:
        return
    component.status = status
    component.updated_at = now
    session.add(ComponentStatusChange(component_id=component.id, status=status, changed_at=now))


async def create_component(
    db: Database,
    *,
    actor: User,
    name: str,
    description: str = "",
    group_name: str | None = None,
    public: bool = True,
) -> StatusComponent:
    """Admins: add a component (operational, last in its group)."""
    _admin(actor)
    name = clean_text(name, field="name", limit=NAME_LENGTH)
    description = clean_text(description, field="description", limit=DESCRIPTION_LENGTH, empty=True)
    group = _group(group_name)
    async with db.write() as session:
        now = db.now()
        count = await session.scalar(select(func.count()).select_from(StatusComponent))
        if (count or 0) >= MOST_COMPONENTS:
            raise Invalid(f"A status page has at most {MOST_COMPONENTS} components.", field="name")
        await _unique_name(session, name)
        last = await session.scalar(select(func.max(StatusComponent.position)))
        component = StatusComponent(
            name=name,
            description=description,
            group_name=group,
            public=public,
            status=ComponentStatus.OPERATIONAL,
            position=(last or 0) + 1,
            created_at=now,
            updated_at=now,
        )
        session.add(component)
        await session.flush()
        session.add(
            ComponentStatusChange(
                component_id=component.id, status=ComponentStatus.OPERATIONAL, changed_at=now
            )
        )
        return component


async def update_component(
    db: Database,
    *,
    actor: User,
    component_id: int,
    name: str | None = None,
    description: str | None = None,
    group_name: str | None = None,
    clear_group: bool = False,
    public: bool | None = None,
    status: ComponentStatus | None = None,
    position: int | None = None,
) -> StatusComponent:
    """Change a component: its settings (admins), its status (publishers: responders, admins).
    Left-out values stay; ``clear_group`` takes it out of its group."""
    configuring = any(
        value is not None for value in (name, description, group_name, public, position)
    )
    if configuring or clear_group or status is None:
        _admin(actor)
    if status is not None and not policy.can_publish_status(actor, None, policy.Standing(), False):
        raise Forbidden("Only responders and admins can set a component's status.")
    if position is not None and not 0 <= position <= 10_000:
        raise Invalid("Position must be between 0 and 10,000.", field="position")
    async with db.write() as session:
        now = db.now()
        component = await session.get(StatusComponent, component_id, with_for_update=True)
        if component is None:
            raise NotFound("No status component with that id.", field="componentId")
        if name is not None:
            name = clean_text(name, field="name", limit=NAME_LENGTH)
            await _unique_name(session, name, component.id)
            component.name = name
        if description is not None:
            component.description = clean_text(
                description, field="description", limit=DESCRIPTION_LENGTH, empty=True
            )
        if clear_group:
            component.group_name = None
        elif group_name is not None:
            component.group_name = _group(group_name)
        if public is not None:
            component.public = public
        if position is not None:
            component.position = position
        if status is not None:
            _set_status(session, component, status, now)
        component.updated_at = now
        return component


async def list_components(session: AsyncSession, *, public_only: bool) -> list[StatusComponent]:
    """Every component (or the public ones), in page order: by position, then id."""
    query = select(StatusComponent).order_by(StatusComponent.position, StatusComponent.id)
    if public_only:
        query = query.where(StatusComponent.public.is_(True))
    return list(await session.scalars(query))


# Following the status incidents ----------------------------------------------------------------


async def lock_components(
    session: AsyncSession, component_ids: Iterable[int], *, field: str
) -> dict[int, StatusComponent]:
    """The components with these ids, locked; ``NotFound`` (on ``field``) if one is missing."""
    wanted = set(component_ids)
    if not wanted:
        return {}
    found = {
        row.id: row
        for row in await session.scalars(
            select(StatusComponent)
            .where(StatusComponent.id.in_(wanted))
            .order_by(StatusComponent.id)  # one locking order: concurrent writers never deadlock
            .with_for_update(of=StatusComponent)
        )
    }
    if len(found) != len(wanted):
        raise NotFound("No status component with that id.", field=field)
    return found


async def settle(session: AsyncSession, component_ids: Iterable[int], now: datetime) -> None:
    """Give each component the worst status among the active status incidents affecting it
    (``OPERATIONAL`` when none does)."""
    wanted = set(component_ids)
    if not wanted:
        return
    await session.flush()
    components = await lock_components(session, wanted, field="affected")
    worst: dict[int, ComponentStatus] = {}
    rows = await session.execute(
        select(AffectedComponent.component_id, AffectedComponent.status)
        .join(StatusIncident, StatusIncident.id == AffectedComponent.status_incident_id)
        .where(AffectedComponent.component_id.in_(wanted), StatusIncident.state.in_(ACTIVE_STATES))
    )
    for component_id, status in rows:
        current = worst.get(component_id, ComponentStatus.OPERATIONAL)
        worst[component_id] = max(current, status, key=SEVERITY.__getitem__)
    for component_id, component in components.items():
        _set_status(session, component, worst.get(component_id, ComponentStatus.OPERATIONAL), now)

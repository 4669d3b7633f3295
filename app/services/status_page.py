"""The status page's domain: components and their status history, status incidents and scheduled
maintenance with their updates, and the reads the pages and the API draw from.

Admins configure components (``policy.can_configure``); publishers (``policy.can_publish_status``:
responders and admins who may see the linked incident, and its Communications lead) publish
status incidents, post their updates, schedule maintenance and set a component's status directly.
A linked incident is looked up with visibility in the WHERE, so a hidden one is the same
``NotFound`` as a missing one; nothing of it is ever copied onto the status incident (the title and
messages are the publisher's own words, and only its id is kept). The other way, the linked
incident's timeline gets each update customers read (``STATUS_PAGE_POSTED``).

A component's status follows the status incidents affecting it: whenever one is published,
updated, resolved, started or completed, each component it touches takes the worst status among
the *active* ones still affecting it (not resolved, completed or merely scheduled), or
``OPERATIONAL`` when none does. Worst is by ``SEVERITY``: MAJOR_OUTAGE > PARTIAL_OUTAGE >
DEGRADED_PERFORMANCE > UNDER_MAINTENANCE > OPERATIONAL. Every change of a component's status
appends a ``ComponentStatusChange`` (creation appends the first, OPERATIONAL): the history
``app.services.status_public.uptime`` is drawn from (``ComponentStatus.up``).

Maintenance is a window of at most ``MAINTENANCE_LONGEST`` (7 days) that ends in the future and
starts within ``MAINTENANCE_AHEAD`` (a year); it starts and ends by itself through two durable
jobs (``maintenance_start`` / ``maintenance_end``, run at its start and end), whose handlers do
nothing when run again. Every new ``StatusUpdate`` (``_post``) queues a ``status_news`` job in its
transaction, which emails it to the subscribers it concerns (``status_subscriptions``). Every
status incident is public; internal-only components are simply left
out of what the public reads (``public_only``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from sqlalchemy import and_, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app import jobs, policy
from app.db import Database, appending_events
from app.errors import Forbidden, Invalid, InvalidTransition, NotFound, incident_not_found
from app.models import (
    AffectedComponent,
    ComponentStatus,
    ComponentStatusChange,
    EventKind,
    Incident,
    IncidentRole,
    RoleAssignment,
    RoleKind,
    StatusComponent,
    StatusIncident,
    StatusIncidentKind,
    StatusIncidentState,
    StatusUpdate,
    TimelineEvent,
    User,
)
from app.services.changes import standing
from app.text import clean_text

NAME_LENGTH = 100
DESCRIPTION_LENGTH = 1000
TITLE_LENGTH = 200
MESSAGE_LENGTH = 5000
MOST_AFFECTED = 50
MOST_COMPONENTS = 200
MOST_SHOWN = 100  # the most status incidents one read answers
MAINTENANCE_LONGEST = timedelta(days=7)
MAINTENANCE_AHEAD = timedelta(days=365)
START_JOB: Final = "maintenance_start"
END_JOB: Final = "maintenance_end"
NEWS_JOB: Final = "status_news"  # an update to email its subscribers (status_subscriptions)
STARTED_MESSAGE: Final = "The scheduled maintenance has begun."
COMPLETED_MESSAGE: Final = "The scheduled maintenance is complete."

SEVERITY: Final = {
    ComponentStatus.OPERATIONAL: 0,
    ComponentStatus.UNDER_MAINTENANCE: 1,
    ComponentStatus.DEGRADED_PERFORMANCE: 2,
    ComponentStatus.PARTIAL_OUTAGE: 3,
    ComponentStatus.MAJOR_OUTAGE: 4,
}
INCIDENT_STATES: Final = (
    StatusIncidentState.INVESTIGATING,
    StatusIncidentState.IDENTIFIED,
    StatusIncidentState.MONITORING,
    StatusIncidentState.RESOLVED,
)
CLOSED: Final = frozenset({StatusIncidentState.RESOLVED, StatusIncidentState.COMPLETED})
# States in which a status incident sets its components' statuses.
ACTIVE_STATES: Final = tuple(
    state
    for state in StatusIncidentState
    if state not in CLOSED and state is not StatusIncidentState.SCHEDULED
)

Affected = Sequence[tuple[int, ComponentStatus]]


# Components ------------------------------------------------------------------------------------


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


async def _components(
    session: AsyncSession, component_ids: Iterable[int], *, field: str
) -> dict[int, StatusComponent]:
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


async def _settle(session: AsyncSession, component_ids: Iterable[int], now: datetime) -> None:
    """Give each component the worst status among the active status incidents affecting it
    (``OPERATIONAL`` when none does)."""
    wanted = set(component_ids)
    if not wanted:
        return
    await session.flush()
    components = await _components(session, wanted, field="affected")
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


# Publishing ------------------------------------------------------------------------------------


def _title(value: str) -> str:
    return clean_text(value, field="title", limit=TITLE_LENGTH)


def _message(value: str) -> str:
    return clean_text(value, field="message", limit=MESSAGE_LENGTH)


def _incident_state(state: StatusIncidentState) -> StatusIncidentState:
    if state not in INCIDENT_STATES:
        raise Invalid(
            "A status incident is INVESTIGATING, IDENTIFIED, MONITORING or RESOLVED.",
            field="status",
        )
    return state


def _affected(affected: Affected, *, field: str = "affected") -> dict[int, ComponentStatus]:
    if len(affected) > MOST_AFFECTED:
        raise Invalid(f"Name at most {MOST_AFFECTED} affected components.", field=field)
    chosen: dict[int, ComponentStatus] = {}
    for component_id, status in affected:
        if component_id in chosen:
            raise Invalid("Name each affected component once.", field=field)
        chosen[component_id] = status
    return chosen


async def _holds_comms_lead(session: AsyncSession, user: User, incident_id: int) -> bool:
    held = exists().where(
        RoleAssignment.incident_id == incident_id,
        RoleAssignment.user_id == user.id,
        RoleAssignment.role_id == IncidentRole.id,
        IncidentRole.kind == RoleKind.COMMUNICATIONS,
    )
    return bool(await session.scalar(select(held)))


async def _may_publish(
    session: AsyncSession, actor: User, incident_id: int | None, *, hidden_is_missing: bool
) -> None:
    """Refuse ``actor`` unless they may publish about ``incident_id`` (or in general, for None).

    Linking (``hidden_is_missing``): an incident the actor may not see is ``NotFound``, exactly
    as a missing one. Updating a status incident already linked to one: ``Forbidden``."""
    if incident_id is None:
        if not policy.can_publish_status(actor, None, policy.Standing(), False):
            raise Forbidden("Only responders and admins can publish to the status page.")
        return
    incident = await session.scalar(
        select(Incident).where(Incident.id == incident_id, policy.visible_incidents(actor))
    )
    if incident is None:
        if hidden_is_missing:
            raise incident_not_found()
        raise Forbidden("Only responders and the incident's communications lead can do that.")
    relation = await standing(session, actor, incident.id)
    comms = await _holds_comms_lead(session, actor, incident.id)
    if not policy.can_publish_status(actor, incident, relation, comms):
        raise Forbidden(
            "Only responders, admins and the incident's communications lead can publish about it."
        )


async def _replace_affected(
    session: AsyncSession,
    status_incident: StatusIncident,
    chosen: dict[int, ComponentStatus],
    *,
    field: str = "affected",
) -> set[int]:
    """Make ``chosen`` the components ``status_incident`` affects; every component touched."""
    await _components(session, chosen, field=field)
    old = {
        row.component_id: row
        for row in await session.scalars(
            select(AffectedComponent).where(
                AffectedComponent.status_incident_id == status_incident.id
            )
        )
    }
    for component_id, row in old.items():
        if component_id not in chosen:
            await session.delete(row)
    for component_id, status in chosen.items():
        if component_id in old:
            old[component_id].status = status
        else:
            session.add(
                AffectedComponent(
                    status_incident_id=status_incident.id, component_id=component_id, status=status
                )
            )
    return set(old) | set(chosen)


async def _post(
    session: AsyncSession,
    status_incident: StatusIncident,
    state: StatusIncidentState,
    message: str,
    actor_id: int | None,
) -> StatusUpdate:
    """Add an update to ``status_incident``, the job that emails it to its subscribers, and,
    when it is linked to an incident, a ``STATUS_PAGE_POSTED`` event on that incident's timeline
    (what customers were told; the incident's version stays, as nothing of it changed)."""
    update = StatusUpdate(
        status_incident_id=status_incident.id,
        state=state,
        message=message,
        created_by_id=actor_id,
        created_at=status_incident.updated_at,
    )
    session.add(update)
    await session.flush()
    if status_incident.incident_id is not None:  # its responders see what customers were told
        await appending_events(session)
        session.add(
            TimelineEvent(
                incident_id=status_incident.incident_id, kind=EventKind.STATUS_PAGE_POSTED,
                actor_id=actor_id, occurred_at=status_incident.updated_at,
                payload={"title": status_incident.title, "state": state.label, "message": message},
            )
        )  # fmt: skip
    await jobs.enqueue(
        session, NEWS_JOB, {"status_update_id": update.id, "after": 0},
        now=status_incident.updated_at, key=f"{NEWS_JOB}:{update.id}:0",
    )  # fmt: skip
    return update


async def publish_status_incident(
    db: Database,
    *,
    actor: User,
    incident_id: int | None = None,
    title: str,
    message: str,
    state: StatusIncidentState = StatusIncidentState.INVESTIGATING,
    affected: Affected = (),
) -> StatusIncident:
    """Tell customers about an incident: a status incident with its first update, its affected
    components taking their statuses."""
    title, message = _title(title), _message(message)
    state = _incident_state(state)
    chosen = _affected(affected)
    async with db.write() as session:
        now = db.now()
        await _may_publish(session, actor, incident_id, hidden_is_missing=True)
        row = StatusIncident(
            kind=StatusIncidentKind.INCIDENT,
            incident_id=incident_id,
            title=title,
            state=state,
            created_by_id=actor.id,
            created_at=now,
            updated_at=now,
            resolved_at=now if state is StatusIncidentState.RESOLVED else None,
        )
        session.add(row)
        await session.flush()
        await _post(session, row, state, message, actor.id)
        touched = await _replace_affected(session, row, chosen)
        await _settle(session, touched, now)
        return row


async def _status_incident(session: AsyncSession, status_incident_id: int) -> StatusIncident:
    row = await session.get(StatusIncident, status_incident_id, with_for_update=True)
    if row is None:
        raise NotFound("No status incident with that id.", field="statusIncidentId")
    return row


async def post_status_update(
    db: Database,
    *,
    actor: User,
    status_incident_id: int,
    state: StatusIncidentState,
    message: str,
    affected: Affected | None = None,
) -> StatusUpdate:
    """Tell customers more: an update moving the status incident to ``state`` (RESOLVED resolves
    it; on maintenance, RESOLVED completes it early and the other states only add the message),
    and, when ``affected`` is given, the affected components replaced by it."""
    message = _message(message)
    state = _incident_state(state)
    chosen = None if affected is None else _affected(affected)
    async with db.write() as session:
        now = db.now()
        row = await _status_incident(session, status_incident_id)
        await _may_publish(session, actor, row.incident_id, hidden_is_missing=False)
        if row.state in CLOSED and state is not StatusIncidentState.RESOLVED:
            raise InvalidTransition(
                "This status incident is over: its updates can only be RESOLVED.", field="status"
            )
        if row.kind is StatusIncidentKind.MAINTENANCE:
            if state is StatusIncidentState.RESOLVED:
                state = StatusIncidentState.COMPLETED
            else:
                state = row.state
        if state in CLOSED and row.resolved_at is None:
            row.resolved_at = now
        row.state = state
        row.updated_at = now
        update = await _post(session, row, state, message, actor.id)
        touched = set(await _affected_ids(session, row.id))
        if chosen is not None:
            touched |= await _replace_affected(session, row, chosen)
        await _settle(session, touched, now)
        return update


async def _affected_ids(session: AsyncSession, status_incident_id: int) -> list[int]:
    return list(
        await session.scalars(
            select(AffectedComponent.component_id).where(
                AffectedComponent.status_incident_id == status_incident_id
            )
        )
    )


# Maintenance -----------------------------------------------------------------------------------


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _job_key(status_incident_id: int, phase: str) -> str:
    return f"maintenance:{status_incident_id}:{phase}"


async def schedule_maintenance(
    db: Database,
    *,
    actor: User,
    title: str,
    message: str,
    starts_at: datetime,
    ends_at: datetime,
    component_ids: Sequence[int],
    incident_id: int | None = None,
) -> StatusIncident:
    """Announce maintenance ahead: SCHEDULED now, IN_PROGRESS at ``starts_at`` (its components
    UNDER_MAINTENANCE unless worse), COMPLETED at ``ends_at``, by itself. A time without a zone
    is taken as UTC."""
    title, message = _title(title), _message(message)
    starts_at, ends_at = _aware(starts_at), _aware(ends_at)
    chosen = _affected(
        [(component_id, ComponentStatus.UNDER_MAINTENANCE) for component_id in component_ids],
        field="componentIds",
    )
    if not chosen:
        raise Invalid("Choose the components the maintenance affects.", field="componentIds")
    now = db.now()
    if ends_at <= starts_at:
        raise Invalid("The maintenance must end after it starts.", field="endsAt")
    if ends_at <= now:
        raise Invalid("The maintenance must end in the future.", field="endsAt")
    if ends_at - starts_at > MAINTENANCE_LONGEST:
        raise Invalid("A maintenance window lasts at most 7 days.", field="endsAt")
    if starts_at - now > MAINTENANCE_AHEAD:
        raise Invalid("Schedule maintenance at most a year ahead.", field="startsAt")
    async with db.write() as session:
        now = db.now()
        await _may_publish(session, actor, incident_id, hidden_is_missing=True)
        row = StatusIncident(
            kind=StatusIncidentKind.MAINTENANCE,
            incident_id=incident_id,
            title=title,
            state=StatusIncidentState.SCHEDULED,
            starts_at=starts_at,
            ends_at=ends_at,
            created_by_id=actor.id,
            created_at=now,
            updated_at=now,
        )
        session.add(row)
        await session.flush()
        await _post(session, row, StatusIncidentState.SCHEDULED, message, actor.id)
        await _replace_affected(session, row, chosen, field="componentIds")
        for kind, phase, at in ((START_JOB, "start", starts_at), (END_JOB, "end", ends_at)):
            await jobs.enqueue(
                session,
                kind,
                {"status_incident_id": row.id},
                now=now,
                run_at=at,
                key=_job_key(row.id, phase),
            )
        return row


async def _maintenance_phase(
    db: Database, payload: dict[str, Any], *, to: StatusIncidentState, message: str
) -> None:
    status_incident_id = payload.get("status_incident_id")
    if not isinstance(status_incident_id, int):
        return
    async with db.write() as session:
        now = db.now()
        row = await session.get(StatusIncident, status_incident_id, with_for_update=True)
        if row is None or row.kind is not StatusIncidentKind.MAINTENANCE:
            return
        if to is StatusIncidentState.IN_PROGRESS and row.state is not StatusIncidentState.SCHEDULED:
            return  # started already, or ended (early, or by an end that ran first)
        if to is StatusIncidentState.COMPLETED and row.state in CLOSED:
            return
        row.state = to
        row.updated_at = now
        if to is StatusIncidentState.COMPLETED:
            row.resolved_at = now
        await _post(session, row, to, message, None)
        await _settle(session, await _affected_ids(session, row.id), now)


async def start_maintenance(db: Database, payload: dict[str, Any], outside: jobs.Outside) -> None:
    """The ``maintenance_start`` job: the window has begun (nothing, if it already did)."""
    await _maintenance_phase(
        db, payload, to=StatusIncidentState.IN_PROGRESS, message=STARTED_MESSAGE
    )


async def end_maintenance(db: Database, payload: dict[str, Any], outside: jobs.Outside) -> None:
    """The ``maintenance_end`` job: the window is over (nothing, if it already was)."""
    await _maintenance_phase(
        db, payload, to=StatusIncidentState.COMPLETED, message=COMPLETED_MESSAGE
    )


# Reads -----------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class AffectedView:
    component: StatusComponent
    status: ComponentStatus


@dataclasses.dataclass(frozen=True)
class StatusIncidentView:
    """A status incident with its updates (newest first) and the components it affects."""

    row: StatusIncident
    updates: list[StatusUpdate]
    affected: list[AffectedView]

    @property
    def latest(self) -> StatusUpdate | None:
        return self.updates[0] if self.updates else None


async def views(
    session: AsyncSession, rows: Sequence[StatusIncident], *, public_only: bool
) -> list[StatusIncidentView]:
    """``rows`` with their updates and affected components (public components only, for the
    public page), in two statements whatever their number."""
    keys = [row.id for row in rows]
    updates: dict[int, list[StatusUpdate]] = {key: [] for key in keys}
    affected: dict[int, list[AffectedView]] = {key: [] for key in keys}
    if keys:
        for update in await session.scalars(
            select(StatusUpdate)
            .where(StatusUpdate.status_incident_id.in_(keys))
            .order_by(StatusUpdate.id.desc())
        ):
            updates[update.status_incident_id].append(update)
        query = (
            select(AffectedComponent, StatusComponent)
            .join(StatusComponent, StatusComponent.id == AffectedComponent.component_id)
            .where(AffectedComponent.status_incident_id.in_(keys))
            .order_by(StatusComponent.position, StatusComponent.id)
        )
        if public_only:
            query = query.where(StatusComponent.public.is_(True))
        for link, component in await session.execute(query):
            affected[link.status_incident_id].append(AffectedView(component, link.status))
    return [StatusIncidentView(row, updates[row.id], affected[row.id]) for row in rows]


async def list_status_incidents(
    session: AsyncSession,
    *,
    public_only: bool,
    first: int = 20,
    before_id: int | None = None,
    open_only: bool = False,
    closed_only: bool = False,
    kind: StatusIncidentKind | None = None,
) -> list[StatusIncidentView]:
    """Status incidents newest first (paged by id: those before ``before_id``), at most
    ``MOST_SHOWN``; ``open_only``: not resolved or completed (scheduled maintenance included);
    ``closed_only``: the history."""
    query = select(StatusIncident).order_by(StatusIncident.id.desc())
    query = query.limit(max(1, min(first, MOST_SHOWN)))
    if before_id is not None:
        query = query.where(StatusIncident.id < before_id)
    if open_only:
        query = query.where(StatusIncident.state.not_in(CLOSED))
    if closed_only:
        query = query.where(StatusIncident.state.in_(CLOSED))
    if kind is not None:
        query = query.where(StatusIncident.kind == kind)
    return await views(session, list(await session.scalars(query)), public_only=public_only)


async def open_status_incidents(
    session: AsyncSession, *, public_only: bool
) -> list[StatusIncidentView]:
    """What is happening now: active status incidents and maintenance in progress, newest
    first."""
    query = (
        select(StatusIncident)
        .where(StatusIncident.state.in_(ACTIVE_STATES))
        .order_by(StatusIncident.id.desc())
        .limit(MOST_SHOWN)
    )
    return await views(session, list(await session.scalars(query)), public_only=public_only)


async def upcoming_maintenance(
    session: AsyncSession, *, public_only: bool
) -> list[StatusIncidentView]:
    """Maintenance announced and not yet begun, soonest first."""
    query = (
        select(StatusIncident)
        .where(StatusIncident.state == StatusIncidentState.SCHEDULED)
        .order_by(StatusIncident.starts_at, StatusIncident.id)
        .limit(MOST_SHOWN)
    )
    return await views(session, list(await session.scalars(query)), public_only=public_only)


async def get_status_incident(
    session: AsyncSession, status_incident_id: int, *, public_only: bool
) -> StatusIncidentView | None:
    row = await session.get(StatusIncident, status_incident_id)
    if row is None:
        return None
    [view] = await views(session, [row], public_only=public_only)
    return view


async def status_for_incidents(
    session: AsyncSession, incident_ids: Sequence[int]
) -> dict[int, StatusIncidentView]:
    """What customers read about each internal incident (the caller checked the viewer may see
    it): its open status incident, else its latest one; incidents never published are left out.
    Internal-only components are included: this is read inside."""
    if not incident_ids:
        return {}
    ranked = (
        select(
            StatusIncident.id,
            func.row_number()
            .over(
                partition_by=StatusIncident.incident_id,
                order_by=(StatusIncident.state.in_(CLOSED), StatusIncident.id.desc()),
            )
            .label("rank"),
        )
        .where(StatusIncident.incident_id.in_(set(incident_ids)))
        .subquery()
    )
    rows = list(
        await session.scalars(
            select(StatusIncident).join(
                ranked, and_(ranked.c.id == StatusIncident.id, ranked.c.rank == 1)
            )
        )
    )
    found = await views(session, rows, public_only=False)
    return {view.row.incident_id: view for view in found if view.row.incident_id is not None}


async def status_for_incident(session: AsyncSession, incident_id: int) -> StatusIncidentView | None:
    return (await status_for_incidents(session, [incident_id])).get(incident_id)

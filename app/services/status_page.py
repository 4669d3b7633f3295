"""The status page's status incidents: publishing them and their updates, and the reads the pages
and the API draw from.

Publishers (``policy.can_publish_status``: responders and admins who may see the linked incident,
and its Communications lead) publish status incidents and post their updates. A linked incident
is looked up with visibility in the WHERE, so a hidden one is the same ``NotFound`` as a missing
one; nothing of it is ever copied onto the status incident (the title and messages are the
publisher's own words, and only its id is kept). The other way, the linked incident's timeline
gets each update customers read (``STATUS_PAGE_POSTED``).

The components a status incident affects take their statuses from it
(``status_components.settle``); scheduled maintenance, a status incident of kind ``MAINTENANCE``,
is announced, begun and ended by ``status_maintenance``, through the same steps as here
(``check_publisher``, ``add_update``, ``replace_affected``). Every new ``StatusUpdate``
(``add_update``) queues a ``status_news`` job in its transaction, which emails it to the
subscribers it concerns (``status_subscriptions``). Every status incident is public;
internal-only components are simply left out of what the public reads (``public_only``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Final

from sqlalchemy import and_, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app import jobs, policy
from app.db import Database, appending_events
from app.errors import Conflict, Forbidden, Invalid, InvalidTransition, NotFound, incident_not_found
from app.models import (
    AffectedComponent,
    ComponentStatus,
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
from app.services.status_components import ACTIVE_STATES, CLOSED, lock_components, settle
from app.text import clean_text

TITLE_LENGTH = 200
MESSAGE_LENGTH = 5000
MOST_AFFECTED = 50
MOST_SHOWN = 100  # the most status incidents one read answers
NEWS_JOB: Final = "status_news"  # an update to email its subscribers (status_subscriptions)
INCIDENT_STATES: Final = (
    StatusIncidentState.INVESTIGATING,
    StatusIncidentState.IDENTIFIED,
    StatusIncidentState.MONITORING,
    StatusIncidentState.RESOLVED,
)

Affected = Sequence[tuple[int, ComponentStatus]]


# Publishing ------------------------------------------------------------------------------------


def clean_title(value: str) -> str:
    """A status incident's title as stored (``Invalid`` on ``title`` if it cannot be)."""
    return clean_text(value, field="title", limit=TITLE_LENGTH)


def clean_message(value: str) -> str:
    """An update's message as stored (``Invalid`` on ``message`` if it cannot be)."""
    return clean_text(value, field="message", limit=MESSAGE_LENGTH)


def _incident_state(state: StatusIncidentState) -> StatusIncidentState:
    if state not in INCIDENT_STATES:
        raise Invalid(
            "A status incident is INVESTIGATING, IDENTIFIED, MONITORING or RESOLVED.",
            field="status",
        )
    return state


def chosen_affected(affected: Affected, *, field: str = "affected") -> dict[int, ComponentStatus]:
    """The affected components named, by id (each once, at most ``MOST_AFFECTED``)."""
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


async def check_publisher(
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


async def replace_affected(
    session: AsyncSession,
    status_incident: StatusIncident,
    chosen: dict[int, ComponentStatus],
    *,
    field: str = "affected",
) -> set[int]:
    """Make ``chosen`` the components ``status_incident`` affects; every component touched."""
    await lock_components(session, chosen, field=field)
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


async def add_update(
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
    title, message = clean_title(title), clean_message(message)
    state = _incident_state(state)
    chosen = chosen_affected(affected)
    async with db.write() as session:
        now = db.now()
        await check_publisher(session, actor, incident_id, hidden_is_missing=True)
        if incident_id is not None and await _open_for(session, incident_id) is not None:
            raise Conflict(
                "Customers already read about this incident on the status page: post an "
                "update to what they read instead.",
                field="incidentId",
            )
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
        await add_update(session, row, state, message, actor.id)
        touched = await replace_affected(session, row, chosen)
        await settle(session, touched, now)
        return row


async def _open_for(session: AsyncSession, incident_id: int) -> int | None:
    """The status incident still open about ``incident_id``, if any (one at a time: the
    incident's row is locked until the write ends, so two publishing at once take turns)."""
    await session.execute(select(Incident.id).where(Incident.id == incident_id).with_for_update())
    found: int | None = await session.scalar(
        select(StatusIncident.id).where(
            StatusIncident.incident_id == incident_id, StatusIncident.state.not_in(CLOSED)
        )
    )
    return found


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
    state: StatusIncidentState | None,
    message: str,
    affected: Affected | None = None,
) -> StatusUpdate:
    """Tell customers more: an update moving the status incident to ``state`` (None: it stays
    where it is; RESOLVED resolves it; on maintenance, RESOLVED completes it early and the other
    states only add the message), and, when ``affected`` is given, the affected components
    replaced by it."""
    message = clean_message(message)
    wanted = None if state is None else _incident_state(state)
    chosen = None if affected is None else chosen_affected(affected)
    async with db.write() as session:
        now = db.now()
        row = await _status_incident(session, status_incident_id)
        await check_publisher(session, actor, row.incident_id, hidden_is_missing=False)
        if wanted is None:
            wanted = row.state
        elif row.state in CLOSED and wanted is not StatusIncidentState.RESOLVED:
            raise InvalidTransition(
                "This status incident is over: its updates can only be RESOLVED.", field="status"
            )
        elif row.kind is StatusIncidentKind.MAINTENANCE:
            if wanted is StatusIncidentState.RESOLVED:
                wanted = StatusIncidentState.COMPLETED
            else:
                wanted = row.state
        state = wanted
        if state in CLOSED and row.resolved_at is None:
            row.resolved_at = now
        row.state = state
        row.updated_at = now
        update = await add_update(session, row, state, message, actor.id)
        touched = set(await affected_ids(session, row.id))
        if chosen is not None:
            touched |= await replace_affected(session, row, chosen)
        await settle(session, touched, now)
        return update


async def affected_ids(session: AsyncSession, status_incident_id: int) -> list[int]:
    """The components a status incident affects."""
    return list(
        await session.scalars(
            select(AffectedComponent.component_id).where(
                AffectedComponent.status_incident_id == status_incident_id
            )
        )
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

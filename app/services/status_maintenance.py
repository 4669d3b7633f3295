"""Scheduled maintenance on the status page: announcing a window ahead, and the two jobs that begin
and end it by themselves.

Publishers (``policy.can_publish_status``, as for status incidents) schedule maintenance: a
status incident of kind ``MAINTENANCE``, SCHEDULED with its first update, naming the components
it affects (UNDER_MAINTENANCE while it runs, unless something worse affects them). A window lasts
at most ``MAINTENANCE_LONGEST`` (7 days), ends in the future and starts within
``MAINTENANCE_AHEAD`` (a year). It starts and ends through two durable jobs queued with it
(``maintenance_start`` / ``maintenance_end``, run at its start and end, registered in
``app.worker``), each posting its update (``STARTED_MESSAGE``, ``COMPLETED_MESSAGE``) and settling
the components; they do nothing when run again, or once the window was ended early (a RESOLVED
update, ``status_page.post_status_update``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from app import jobs
from app.db import Database
from app.errors import Invalid
from app.models import (
    ComponentStatus,
    StatusIncident,
    StatusIncidentKind,
    StatusIncidentState,
    User,
)
from app.services.status_components import CLOSED, settle
from app.services.status_page import (
    add_update,
    affected_ids,
    check_publisher,
    chosen_affected,
    clean_message,
    clean_title,
    replace_affected,
)

MAINTENANCE_LONGEST = timedelta(days=7)
MAINTENANCE_AHEAD = timedelta(days=365)
START_JOB: Final = "maintenance_start"
END_JOB: Final = "maintenance_end"
STARTED_MESSAGE: Final = "The scheduled maintenance has begun."
COMPLETED_MESSAGE: Final = "The scheduled maintenance is complete."


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
    title, message = clean_title(title), clean_message(message)
    starts_at, ends_at = _aware(starts_at), _aware(ends_at)
    chosen = chosen_affected(
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
        await check_publisher(session, actor, incident_id, hidden_is_missing=True)
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
        await add_update(session, row, StatusIncidentState.SCHEDULED, message, actor.id)
        await replace_affected(session, row, chosen, field="componentIds")
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
        await add_update(session, row, to, message, None)
        await settle(session, await affected_ids(session, row.id), now)


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

"""Moving incidents through their life: triage, status, severity, updates, details, visibility
and notes, and finding an incident by id or reference (``declarations.py`` declares them).

Every change here is one transaction that records what it did on the incident's timeline.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app import lifecycle, policy, search
from app.db import Database
from app.errors import (
    Invalid,
    InvalidTransition,
    NotFound,
    incident_not_found,
)
from app.models import (
    RESPONDING,
    EventKind,
    Incident,
    IncidentUpdate,
    Member,
    Severity,
    Status,
    StatusCategory,
    User,
)
from app.services import catalog
from app.services.changes import Change, changing, open_incident
from app.text import clean_text

NAME_LIMIT = 200
SUMMARY_LIMIT = 10_000
MESSAGE_LIMIT = 10_000
LONGEST_PROMISE = 7 * 24 * 60  # minutes: a week


async def accept(
    db: Database,
    *,
    actor: User,
    incident_id: int,
    status_id: int | None = None,
    expected_version: int | None = None,
) -> Incident:
    """Accept an incident out of triage into an active status (the first, unless named)."""
    async with db.write() as session:
        change = await _triage_change(session, db, actor, incident_id, expected_version)
        if status_id is None:
            target = await catalog.first_status(session, StatusCategory.ACTIVE)
        else:
            target = await catalog.get_config(session, Status, status_id, "statusId")
            if target.category is not StatusCategory.ACTIVE:
                raise InvalidTransition("Accept into an active status.", field="statusId")
        current = await session.get_one(Status, change.incident.status_id)
        lifecycle.enter(change.incident, current, target, change.now)
        await change.record(EventKind.ACCEPTED, {"status": target.name})
        return change.incident


async def decline(
    db: Database,
    *,
    actor: User,
    incident_id: int,
    reason: str = "",
    expected_version: int | None = None,
) -> Incident:
    """Decide in triage that it is not an incident."""
    reason = clean_text(reason, field="reason", limit=MESSAGE_LIMIT, empty=True)
    async with db.write() as session:
        change = await _triage_change(session, db, actor, incident_id, expected_version)
        target = await catalog.first_status(session, StatusCategory.DECLINED)
        current = await session.get_one(Status, change.incident.status_id)
        lifecycle.enter(change.incident, current, target, change.now)
        await change.record(EventKind.DECLINED, {"reason": reason})
        return change.incident


async def merge(
    db: Database,
    *,
    actor: User,
    incident_id: int,
    into_id: int,
    expected_version: int | None = None,
) -> Incident:
    """Fold a duplicate (in triage or active) into another incident, which records it too."""
    async with db.write() as session:
        now = db.now()
        change = await open_incident(
            session,
            actor,
            incident_id,
            now=now,
            allowed=policy.can_triage,
            expected_version=expected_version,
        )
        source = change.incident
        current = await session.get_one(Status, source.status_id)
        if current.category not in RESPONDING:
            raise InvalidTransition(
                "Only incidents in triage or active can be merged.", field="incidentId"
            )
        if into_id == source.id:
            raise Invalid("An incident cannot be merged into itself.", field="intoId")
        try:
            target = await open_incident(session, actor, into_id, now=now, allowed=policy.can_view)
        except NotFound as missing:
            raise incident_not_found("intoId") from missing
        target_status = await session.get_one(Status, target.incident.status_id)
        if target_status.category in (
            StatusCategory.DECLINED,
            StatusCategory.MERGED,
            StatusCategory.CANCELED,
        ):
            raise Invalid(
                f"{target.incident.reference} is {target_status.name}; merge into a live one.",
                field="intoId",
            )
        if source.private or target.incident.private:
            # Either timeline would name the other incident to people who may not see it.
            raise Invalid(
                "Private incidents are not merged: decline or cancel the duplicate instead.",
                field="intoId",
            )
        merged = await catalog.first_status(session, StatusCategory.MERGED)
        lifecycle.enter(source, current, merged, now)
        source.merged_into_id = target.incident.id
        await change.record(EventKind.MERGED, {"into": target.incident.reference})
        await target.record(EventKind.MERGED, {"from": source.reference, "name": source.name})
        return source


async def change_status(
    db: Database,
    *,
    actor: User,
    incident_id: int,
    status_id: int,
    expected_version: int | None = None,
) -> Incident:
    """Move an incident to another status, within the allowed transitions."""
    async with changing(db, actor, incident_id, expected_version=expected_version) as change:
        session = change.session
        target = await catalog.get_config(session, Status, status_id, "statusId")
        await _move(change, target)
        return change.incident


async def change_severity(
    db: Database,
    *,
    actor: User,
    incident_id: int,
    severity_id: int,
    expected_version: int | None = None,
) -> Incident:
    async with changing(db, actor, incident_id, expected_version=expected_version) as change:
        session = change.session
        target = await catalog.get_config(session, Severity, severity_id, "severityId")
        await _set_severity(change, target)
        return change.incident


async def share_update(
    db: Database,
    *,
    actor: User,
    incident_id: int,
    message: str,
    status_id: int | None = None,
    severity_id: int | None = None,
    next_update_in_minutes: int | None = None,
    expected_version: int | None = None,
) -> IncidentUpdate:
    """Share an update, optionally changing status and severity, and promise the next one.

    Without a promise the incident carries none; an incident that leaves the active stage
    carries none either, whatever was asked.
    """
    message = clean_text(message, field="message", limit=MESSAGE_LIMIT)
    promise = update_promise(next_update_in_minutes)
    async with changing(db, actor, incident_id, expected_version=expected_version) as change:
        session = change.session
        incident = change.incident
        status_change = severity_change = None
        if status_id is not None and status_id != incident.status_id:
            target = await catalog.get_config(session, Status, status_id, "statusId")
            status_change = await _move(change, target, record=False)
        if severity_id is not None and severity_id != incident.severity_id:
            severity = await catalog.get_config(session, Severity, severity_id, "severityId")
            severity_change = await _set_severity(change, severity, record=False)
        status = await session.get_one(Status, incident.status_id)
        ongoing = status.category in RESPONDING
        incident.next_update_due_at = change.now + promise if promise and ongoing else None
        update = IncidentUpdate(
            incident_id=incident.id,
            author_id=actor.id,
            message=message,
            status_id=status_id if status_change else None,
            severity_id=severity_id if severity_change else None,
            next_update_in_minutes=next_update_in_minutes if promise and ongoing else None,
            created_at=change.now,
        )
        session.add(update)
        await session.flush()
        await search.index(session, incident)
        await change.record(
            EventKind.UPDATE_SHARED,
            {
                "update_id": update.id,
                "message": message,
                "status": status_change,
                "severity": severity_change,
                "next_update_in_minutes": update.next_update_in_minutes,
            },
        )
        return update


async def change_details(
    db: Database,
    *,
    actor: User,
    incident_id: int,
    name: str | None = None,
    summary: str | None = None,
    expected_version: int | None = None,
) -> Incident:
    """Rename an incident or rewrite its summary."""
    async with changing(db, actor, incident_id, expected_version=expected_version) as change:
        session = change.session
        incident, payload = change.incident, {}
        if name is not None:
            name = clean_text(name, field="name", limit=NAME_LIMIT)
            if name != incident.name:
                payload["name"] = {"from": incident.name, "to": name}
                incident.name = name
        if summary is not None:
            summary = clean_text(summary, field="summary", limit=SUMMARY_LIMIT, empty=True)
            if summary != incident.summary:
                payload["summary"] = {"from": incident.summary, "to": summary}
                incident.summary = summary
        if not payload:
            raise Invalid("Nothing to change.", field="name")
        await search.index(session, incident)
        await change.record(EventKind.DETAILS_CHANGED, payload)
        return incident


async def change_visibility(
    db: Database,
    *,
    actor: User,
    incident_id: int,
    private: bool,
    expected_version: int | None = None,
) -> Incident:
    """Make an incident private (only its members see it) or public again."""
    async with changing(db, actor, incident_id, expected_version=expected_version) as change:
        session = change.session
        if change.incident.private == private:
            state = "private" if private else "public"
            raise Invalid(f"The incident is already {state}.", field="private")
        if private and not change.standing.member:
            session.add(
                Member(
                    incident_id=incident_id,
                    user_id=actor.id,
                    added_by_id=actor.id,
                    added_at=change.now,
                )
            )
        change.incident.private = private
        await change.record(EventKind.VISIBILITY_CHANGED, {"private": private})
        return change.incident


async def add_note(
    db: Database,
    *,
    actor: User,
    incident_id: int,
    message: str,
) -> Incident:
    """Add a note to the timeline: anyone who can see the incident and is at least a member."""
    message = clean_text(message, field="message", limit=MESSAGE_LIMIT)
    async with changing(db, actor, incident_id, allowed=policy.can_add_note) as change:
        await change.record(EventKind.NOTE_ADDED, {"message": message})
        return change.incident


# Reads -----------------------------------------------------------------------------------------


async def find_incident(session: AsyncSession, actor: User, incident_id: int) -> Incident | None:
    """The incident with that id if ``actor`` may see it, else None (the two are one answer).

    One statement with the access rule in its WHERE: a hidden incident costs exactly what a
    missing one does, so not even the time of the answer tells them apart.
    """
    query = select(Incident).where(Incident.id == incident_id, policy.visible_incidents(actor))
    return await session.scalar(query)


async def get_incident(session: AsyncSession, actor: User, incident_id: int) -> Incident:
    incident = await find_incident(session, actor, incident_id)
    if incident is None:
        raise incident_not_found()
    return incident


async def find_incident_by_reference(
    session: AsyncSession, actor: User, reference: str
) -> Incident | None:
    """Look up ``INC-<n>`` (any case, surrounding spaces ignored) as ``actor`` sees it."""
    number = reference_number(reference)
    if number is None:
        return None
    query = select(Incident).where(Incident.number == number, policy.visible_incidents(actor))
    return await session.scalar(query)


REFERENCE = re.compile(r"INC-([0-9]{1,12})")  # ASCII digits only: INC-٢١ is not INC-21


def reference_number(reference: str) -> int | None:
    """The number in ``INC-<n>`` (any case, surrounding spaces ignored); None if malformed."""
    matched = REFERENCE.fullmatch(reference.strip().upper())
    return None if matched is None else int(matched[1])


# Inside the transaction ------------------------------------------------------------------------


async def _move(change: Change, target: Status, *, record: bool = True) -> dict[str, Any]:
    current = await change.session.get_one(Status, change.incident.status_id)
    lifecycle.check_move(current, target)
    reopened = lifecycle.is_reopening(current, target)
    lifecycle.enter(change.incident, current, target, change.now)
    moved = {
        "from": current.name,
        "to": target.name,
        "reopened": reopened,
        "from_category": current.category.name,
        "to_category": target.category.name,
    }
    if record:
        await change.record(EventKind.STATUS_CHANGED, moved)
    return moved


async def _set_severity(change: Change, target: Severity, *, record: bool = True) -> dict[str, Any]:
    current = await change.session.get_one(Severity, change.incident.severity_id)
    if current.id == target.id:
        raise Invalid(f"The severity is already {current.name}.", field="severityId")
    change.incident.severity_id = target.id
    changed = {"from": current.name, "to": target.name}
    if record:
        await change.record(EventKind.SEVERITY_CHANGED, changed)
    return changed


async def _triage_change(
    session: AsyncSession,
    db: Database,
    actor: User,
    incident_id: int,
    expected_version: int | None,
) -> Change:
    change = await open_incident(
        session,
        actor,
        incident_id,
        now=db.now(),
        allowed=policy.can_triage,
        expected_version=expected_version,
    )
    status = await session.get_one(Status, change.incident.status_id)
    if status.category is not StatusCategory.TRIAGE:
        raise InvalidTransition(f"The incident is {status.name}, not in triage.")
    return change


def update_promise(minutes: int | None) -> timedelta | None:
    """How long until the next update is due, from the minutes someone promised (checked)."""
    if minutes is None:
        return None
    if isinstance(minutes, bool) or not 1 <= minutes <= LONGEST_PROMISE:
        raise Invalid(
            f"The next update must be promised within 1 to {LONGEST_PROMISE} minutes.",
            field="nextUpdateInMinutes",
        )
    return timedelta(minutes=minutes)


async def incident_id_by_reference(db: Database, actor: User, reference: str) -> int:
    """The id of the incident ``INC-<n>`` as ``actor`` sees it; ``NotFound`` on ``reference`` when
    it is missing or hidden from them (one answer for both, as ``find_incident`` gives)."""
    async with db.read() as session:
        incident = await find_incident_by_reference(session, actor, reference)
    if incident is None:
        raise incident_not_found("reference")
    return incident.id

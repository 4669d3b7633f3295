"""Who hears what by default, with no workflow: the notifications each timeline event causes.

Followers hear of updates, status and severity changes and resolution; the person given a role
hears it, with the role's instructions; the reporter hears that their incident was accepted,
declined or merged. Nobody hears of what they did themselves. ``react`` runs in the outbox
consumer's transaction (``app.dispatch``), once per event, and every notification it makes is
keyed by the event (``event:<id>``), so handling an event again makes none twice;
``notifications.send`` keeps out everyone who may not see the incident.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app import lifecycle
from app.models import (
    EventKind,
    Follower,
    Incident,
    IncidentRole,
    NotificationKind,
    RoleAssignment,
    RoleKind,
    TimelineEvent,
)
from app.services import notifications


async def react(
    session: AsyncSession,
    events: Sequence[TimelineEvent],
    incidents: Mapping[int, Incident],
    *,
    now: datetime,
    email: bool,
) -> None:
    """Store the default notifications for ``events`` (in the caller's transaction)."""
    for event in events:
        incident = incidents[event.incident_id]
        heard = await _heard(session, event, incident)
        if heard is None:
            continue
        kind, people, title, body = heard
        people.discard(event.actor_id or 0)
        await notifications.send(
            session,
            people,
            kind=kind,
            incident=incident,
            title=title,
            body=body,
            cause=f"event:{event.id}",
            now=now,
            email=email,
        )


async def _heard(
    session: AsyncSession, event: TimelineEvent, incident: Incident
) -> tuple[NotificationKind, set[int], str, str] | None:
    """What ``event`` tells whom: its kind, the people, a title and a body (None: nobody)."""
    p = event.payload
    named = f"{incident.reference} {incident.name}"
    if event.kind is EventKind.UPDATE_SHARED:
        followers = await _followers(session, incident)
        if p.get("status") and lifecycle.resolves(p["status"]):
            return NotificationKind.INCIDENT_RESOLVED, followers, f"Resolved: {named}", p["message"]
        return NotificationKind.UPDATE_SHARED, followers, f"Update on {named}", p["message"]
    if event.kind is EventKind.STATUS_CHANGED:
        followers = await _followers(session, incident)
        moved = f"Status: {p['from']} → {p['to']}."
        if lifecycle.resolves(p):
            return NotificationKind.INCIDENT_RESOLVED, followers, f"Resolved: {named}", moved
        return NotificationKind.STATUS_CHANGED, followers, f"{named} is now {p['to']}", moved
    if event.kind is EventKind.SEVERITY_CHANGED:
        return (
            NotificationKind.SEVERITY_CHANGED,
            await _followers(session, incident),
            f"{named} is now {p['to']}",
            f"Severity: {p['from']} → {p['to']}.",
        )
    if event.kind is EventKind.ROLE_ASSIGNED and p.get("user_id"):
        role = await session.scalar(select(IncidentRole).where(IncidentRole.name == p["role"]))
        instructions = role.instructions if role is not None else ""
        return (
            NotificationKind.ROLE_ASSIGNED,
            {int(p["user_id"])},
            f"You are now {p['role']} of {named}",
            instructions or f"You were made {p['role']}.",
        )
    reporter_hears = {
        EventKind.ACCEPTED: (NotificationKind.INCIDENT_ACCEPTED, "Accepted"),
        EventKind.DECLINED: (NotificationKind.INCIDENT_DECLINED, "Declined"),
    }
    if event.kind in reporter_hears:
        kind, verb = reporter_hears[event.kind]
        reason = p.get("reason") or ""
        body = f"Moved to {p['status']}." if event.kind is EventKind.ACCEPTED else reason
        return kind, await _reporter(session, incident), f"{verb}: {named}", body
    if event.kind is EventKind.MERGED and "into" in p:
        return (
            NotificationKind.INCIDENT_MERGED,
            await _reporter(session, incident),
            f"Merged: {named}",
            "It was merged into another incident; updates continue there.",
        )
    return None


async def _followers(session: AsyncSession, incident: Incident) -> set[int]:
    return set(
        await session.scalars(select(Follower.user_id).where(Follower.incident_id == incident.id))
    )


async def _reporter(session: AsyncSession, incident: Incident) -> set[int]:
    holder = await session.scalar(
        select(RoleAssignment.user_id)
        .join(IncidentRole, IncidentRole.id == RoleAssignment.role_id)
        .where(RoleAssignment.incident_id == incident.id, IncidentRole.kind == RoleKind.REPORTER)
    )
    return set() if holder is None else {holder}

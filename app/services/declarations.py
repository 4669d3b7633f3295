"""Declaring incidents: the checks of what someone declares, the incident number, the first
status, role, member and timeline event, and idempotency keys (a repeated declare answers the
first one, as its declarer may see it now; keys expire after ``KEY_LIFETIME``).

``declare`` is one transaction, like every incident write in ``app/services/``; what it only
reads is checked before the transaction starts, so concurrent declares hold the write lock briefly.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app import policy, search
from app.db import Database
from app.errors import Forbidden, IdempotencyMismatch, Invalid, incident_not_found
from app.models import (
    Counter,
    EventKind,
    IdempotencyKey,
    Incident,
    IncidentMode,
    IncidentRole,
    IncidentType,
    Member,
    RoleAssignment,
    RoleKind,
    Severity,
    StatusCategory,
    User,
)
from app.services import catalog
from app.services.changes import Change
from app.services.fields import FieldValue, prepare_values
from app.services.incidents import NAME_LIMIT, SUMMARY_LIMIT, find_incident, update_promise
from app.text import clean_text

KEY_LIFETIME = timedelta(hours=24)  # how long an idempotency key replays its declare
PURGE_BATCH = 100  # expired idempotency keys deleted by one declare, at most


async def declare(
    db: Database,
    *,
    actor: User,
    name: str,
    summary: str = "",
    severity_id: int | None = None,
    type_id: int | None = None,
    mode: IncidentMode | None = None,
    private: bool | None = None,
    triage: bool = False,
    custom_fields: Mapping[int, FieldValue] | None = None,
    next_update_in_minutes: int | None = None,
    declared_at: datetime | None = None,
    resolved_at: datetime | None = None,
    idempotency_key: str | None = None,
) -> Incident:
    """Declare an incident; the actor becomes its reporter and first member.

    ``triage`` starts it in triage for a responder to accept. A ``RETROSPECTIVE`` incident is
    recorded after the fact: ``declared_at`` (required) and ``resolved_at`` are backdated and it
    starts in the post-incident stage. With an ``idempotency_key``, declaring again with the same
    key and input within ``KEY_LIFETIME`` returns the first incident as the actor may see it now
    (if they may not, ``NotFound`` on ``idempotencyKey``, exactly as for an incident that no
    longer exists); the same key with other input is refused; after ``KEY_LIFETIME`` the key is
    forgotten and declaring with it declares anew.
    """
    if not policy.can_declare(actor):
        raise Forbidden("Viewers can follow incidents but not declare them.")
    name = clean_text(name, field="name", limit=NAME_LIMIT)
    summary = clean_text(summary, field="summary", limit=SUMMARY_LIMIT, empty=True)
    fields = dict(custom_fields or {})
    fingerprint = _fingerprint(
        name, summary, severity_id, type_id, mode, private, triage, fields,
        next_update_in_minutes, declared_at, resolved_at,
    )  # fmt: skip
    if idempotency_key is not None:
        idempotency_key = clean_text(idempotency_key, field="idempotencyKey", limit=200)
    promise = update_promise(next_update_in_minutes)
    now = db.now()
    # Everything that only reads is checked first, outside the write transaction, so that
    # concurrent declares hold the write lock (SQLite) or the counter row (PostgreSQL) briefly.
    async with db.read() as session:
        kind = await _incident_type(session, type_id)
        severity = await _severity(session, severity_id, kind)
        mode = mode or (IncidentMode.TEST if kind.practice else IncidentMode.STANDARD)
        if mode is IncidentMode.RETROSPECTIVE:
            if triage:
                raise Invalid("A retrospective incident does not go through triage.", field="mode")
            if promise is not None:
                raise Invalid(
                    "A retrospective incident needs no update promise.",
                    field="nextUpdateInMinutes",
                )
            declared_at, resolved_at = _backdated(declared_at, resolved_at, now)
            status = await catalog.first_status(session, StatusCategory.POST_INCIDENT)
        else:
            if declared_at is not None or resolved_at is not None:
                raise Invalid("Only retrospective incidents are backdated.", field="declaredAt")
            declared_at = now
            category = StatusCategory.TRIAGE if triage else StatusCategory.ACTIVE
            status = await catalog.first_status(session, category)
        reporter = await session.scalar(
            select(IncidentRole.id).where(IncidentRole.kind == RoleKind.REPORTER).limit(1)
        )
        value_rows, shown = await prepare_values(session, fields)
    async with db.write() as session:
        if idempotency_key is not None:
            # Declares with a key queue on the counter row before looking for the key, so a
            # concurrent declare's key is committed and visible by the time this one checks.
            await session.execute(
                select(Counter.value)
                .where(Counter.name == catalog.INCIDENT_COUNTER)
                .with_for_update()
            )
            earlier = await _replay(session, actor, idempotency_key, fingerprint, now)
            if earlier is not None:
                return earlier
            await _purge_expired_keys(session, now)
        incident = Incident(
            number=await _next_number(session),
            name=name,
            summary=summary,
            status_id=status.id,
            severity_id=severity.id,
            type_id=kind.id,
            mode=mode,
            private=kind.private_by_default if private is None else private,
            declared_at=declared_at,
            accepted_at=declared_at if status.category is StatusCategory.ACTIVE else None,
            resolved_at=resolved_at,
            updated_at=now,
            next_update_due_at=now + promise if promise else None,
            version=1,
        )
        session.add(incident)
        await session.flush()
        await search.index(session, incident, updates=())
        if reporter is not None:
            session.add(
                RoleAssignment(
                    incident_id=incident.id, role_id=reporter, user_id=actor.id, assigned_at=now
                )
            )
        session.add(Member(incident_id=incident.id, user_id=actor.id, added_at=now))
        for row in value_rows:
            row.incident_id = incident.id
        session.add_all(value_rows)
        change = Change(session, actor, incident, policy.Standing(True, True), now, _touched=True)
        await change.record(
            EventKind.DECLARED,
            {
                "name": name,
                "status": status.name,
                "severity": severity.name,
                "type": kind.name,
                "mode": mode.name,
                "private": incident.private,
                "fields": shown,
                **({"began_at": declared_at.isoformat()} if resolved_at else {}),
            },
        )
        if idempotency_key is not None:
            session.add(
                IdempotencyKey(
                    user_id=actor.id,
                    key=idempotency_key,
                    request_hash=fingerprint,
                    incident_id=incident.id,
                    created_at=now,
                )
            )
        return incident


async def _incident_type(session: AsyncSession, type_id: int | None) -> IncidentType:
    if type_id is not None:
        return await catalog.get_config(session, IncidentType, type_id, "typeId")
    query = select(IncidentType).order_by(IncidentType.position, IncidentType.id).limit(1)
    kind = await session.scalar(query)
    if kind is None:
        raise Invalid("No incident type is configured.", field="typeId")
    return kind


async def _severity(session: AsyncSession, severity_id: int | None, kind: IncidentType) -> Severity:
    chosen = severity_id if severity_id is not None else kind.default_severity_id
    if chosen is not None:
        return await catalog.get_config(session, Severity, chosen, "severityId")
    lowest = await session.scalar(select(Severity).order_by(Severity.rank).limit(1))
    if lowest is None:
        raise Invalid("No severity is configured.", field="severityId")
    return lowest


async def _next_number(session: AsyncSession) -> int:
    """Take the next incident number; the row stays locked until the transaction ends."""
    taken = await session.scalar(
        update(Counter)
        .where(Counter.name == catalog.INCIDENT_COUNTER)
        .values(value=Counter.value + 1)
        .returning(Counter.value)
    )
    if taken is None:  # a database whose catalog was never installed
        session.add(Counter(name=catalog.INCIDENT_COUNTER, value=1))
        return 1
    return int(taken)


async def _replay(
    session: AsyncSession, actor: User, key: str, fingerprint: str, now: datetime
) -> Incident | None:
    """The incident an unexpired ``key`` declared, as ``actor`` sees it now; None if the key is
    new (or expired: then it is forgotten here)."""
    earlier = await session.scalar(
        select(IdempotencyKey).where(IdempotencyKey.user_id == actor.id, IdempotencyKey.key == key)
    )
    if earlier is None:
        return None
    if earlier.created_at <= now - KEY_LIFETIME:
        await session.delete(earlier)
        await session.flush()
        return None
    if earlier.request_hash != fingerprint:
        raise IdempotencyMismatch(
            "This idempotency key was already used to declare a different incident.",
            field="idempotencyKey",
        )
    # Whether it is gone or hidden from them now, the one answer for an incident they may not see.
    incident = await find_incident(session, actor, earlier.incident_id)
    if incident is None:
        raise incident_not_found("idempotencyKey")
    return incident


async def _purge_expired_keys(session: AsyncSession, now: datetime) -> None:
    """Delete up to ``PURGE_BATCH`` expired keys, oldest first. Each declare with a key adds one
    and purges up to that many, so expired keys never pile up, and no declare waits long."""
    expired = (
        select(IdempotencyKey.id)
        .where(IdempotencyKey.created_at <= now - KEY_LIFETIME)
        .order_by(IdempotencyKey.created_at)
        .limit(PURGE_BATCH)
    )
    await session.execute(delete(IdempotencyKey).where(IdempotencyKey.id.in_(expired)))


def _backdated(
    declared_at: datetime | None, resolved_at: datetime | None, now: datetime
) -> tuple[datetime, datetime]:
    if declared_at is None:
        raise Invalid("A retrospective incident needs the time it began.", field="declaredAt")
    if declared_at.tzinfo is None or declared_at > now:
        raise Invalid("The time it began must be a past, timezone-aware time.", field="declaredAt")
    resolved_at = resolved_at or now
    if resolved_at.tzinfo is None or not declared_at <= resolved_at <= now:
        raise Invalid(
            "The time it was resolved must be between when it began and now.", field="resolvedAt"
        )
    return declared_at, resolved_at


def _fingerprint(*parts: Any) -> str:
    def plain(value: Any) -> Any:
        if isinstance(value, datetime):
            return value.isoformat()
        if hasattr(value, "name") and hasattr(value, "value"):
            return value.name
        if isinstance(value, dict):
            return {str(k): plain(v) for k, v in sorted(value.items())}
        if isinstance(value, list | tuple):
            return [plain(v) for v in value]
        return value

    encoded = json.dumps([plain(p) for p in parts], separators=(",", ":"), sort_keys=True)
    return hashlib.sha256(encoded.encode()).hexdigest()

"""Webhook deliveries: the ones the timeline and workflows cause, and the ``webhook`` job that
sends each.

``react`` is the outbox consumer: for the timeline events of a batch it stores one
``WebhookDelivery`` per event type per endpoint that wants it, with a ``message_id`` that never
changes (receivers deduplicate by it: delivery is at least once), and a ``webhook`` job naming it,
in the dispatcher's transaction. A private incident goes only to endpoints that opted in
(``include_private``), with its details; test-mode incidents are delivered, with ``mode`` in the
data, so receivers can tell practice from real. ``send_to`` queues one delivery for a workflow's
``sendWebhook`` step, under the same rule.

``deliver`` is the job: it sends one delivery (through ``app.outbound``, which refuses inside
addresses) and records the attempt. An answer in 2xx delivers it; anything else is retried after
``RETRY_DELAYS`` (5 s, 30 s, 2 min, 10 min, 30 min, then hourly) until ``GIVE_UP_AFTER`` (24 h
after the delivery was made), when it fails. An endpoint whose ``DISABLE_AFTER`` (5) deliveries in
a row have each failed that way is turned off with the reason, and every active admin is told
(``WEBHOOK_DISABLED``); a delivery succeeding resets the count.

What a delivery's request looks like (shape and signature) is ``app.services.webhook_messages``;
the endpoints themselves are ``app.services.webhook_endpoints``.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app import jobs, lifecycle, outbound
from app.db import Database
from app.errors import Invalid
from app.models import (
    DeliveryState,
    EventKind,
    Incident,
    IncidentType,
    NotificationKind,
    OrgRole,
    Severity,
    Status,
    TimelineEvent,
    User,
    WebhookDelivery,
    WebhookEndpoint,
)
from app.services import notifications
from app.services.webhook_endpoints import TEST, locked_endpoint, require_admin
from app.services.webhook_messages import request_for

JOB = "webhook"
TYPE_LENGTH = 60  # a delivery's event_type column
RETRY_DELAYS = (
    timedelta(seconds=5),
    timedelta(seconds=30),
    timedelta(minutes=2),
    timedelta(minutes=10),
    timedelta(minutes=30),
    timedelta(hours=1),
)  # then hourly
GIVE_UP_AFTER = timedelta(hours=24)
DISABLE_AFTER = 5  # deliveries in a row that gave up
ERROR_LENGTH = 500


# Queueing --------------------------------------------------------------------------------------


async def send_test(db: Database, *, actor: User, endpoint_id: int) -> WebhookDelivery:
    """Queue a ``webhook.test`` delivery to an endpoint that is on."""
    require_admin(actor)
    async with db.write() as session:
        row = await locked_endpoint(session, endpoint_id, "endpointId")
        if not row.enabled:
            raise Invalid("Turn the endpoint on before sending a test.", field="endpointId")
        now = db.now()
        data = {"message": "A test message from Muster: this endpoint receives its messages."}
        return await _queue(session, row, TEST, None, data, now=now, occurred_at=now)


def event_types(event: TimelineEvent) -> list[tuple[str, dict[str, Any]]]:
    """The webhook event types ``event`` is, each with its own details."""
    p = event.payload
    kind = event.kind
    if kind is EventKind.DECLARED:
        return [("incident.declared", {})]
    if kind is EventKind.ACCEPTED:
        return [("incident.accepted", {"status": p.get("status")})]
    if kind is EventKind.SEVERITY_CHANGED:
        return [("incident.severity_changed", {"from": p.get("from"), "to": p.get("to")})]
    if kind is EventKind.ROLE_ASSIGNED:
        return [("incident.role_assigned", {"role": p.get("role"), "user": p.get("user")})]
    if kind is EventKind.STATUS_CHANGED:
        return _status_types(p)
    if kind is EventKind.UPDATE_SHARED:
        status, severity = p.get("status"), p.get("severity")
        update = {
            "message": p.get("message", ""),
            "status": None if not status else {"from": status["from"], "to": status["to"]},
            "severity": severity or None,
            "nextUpdateInMinutes": p.get("next_update_in_minutes"),
        }
        found = [("incident.updated", update)]
        if status:
            found += _status_types(status)
        if severity:
            found.append(
                ("incident.severity_changed", {"from": severity["from"], "to": severity["to"]})
            )
        return found
    return []


def _status_types(moved: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    details = {"from": moved.get("from"), "to": moved.get("to")}
    found = [("incident.status_changed", details)]
    if lifecycle.resolves(moved):
        found.append(("incident.resolved", details))
    if lifecycle.closes(moved):
        found.append(("incident.closed", details))
    return found


async def react(
    session: AsyncSession,
    events: Sequence[TimelineEvent],
    incidents: Mapping[int, Incident],
    *,
    now: datetime,
) -> None:
    """Queue the deliveries a batch of committed timeline events causes (in the caller's
    transaction)."""
    wanted = [(event, event_types(event)) for event in events]
    if not any(types for _, types in wanted):
        return
    endpoints = list(
        (
            await session.scalars(
                select(WebhookEndpoint)
                .where(WebhookEndpoint.enabled.is_(True))
                .order_by(WebhookEndpoint.id)
            )
        ).all()
    )
    if not endpoints:
        return
    described = await _incidents(session, [incidents[e.incident_id] for e, t in wanted if t])
    for event, types in wanted:
        incident = incidents[event.incident_id]
        for kind, details in types:
            for endpoint in endpoints:
                if not _wants(endpoint, kind, incident):
                    continue
                data = {"incident": described[incident.id], **details}
                await _queue(
                    session, endpoint, kind, incident, data, now=now, occurred_at=event.occurred_at
                )


async def send_to(
    session: AsyncSession,
    *,
    endpoint_id: int,
    event_type: str,
    incident: Incident,
    data: Mapping[str, Any],
    now: datetime,
) -> WebhookDelivery | None:
    """Queue one delivery of ``incident`` to one endpoint (a workflow's step); None when the
    endpoint is gone or off, or the incident is private and the endpoint did not opt in."""
    if not 0 < len(event_type) <= TYPE_LENGTH:
        raise ValueError(f"a webhook event type has 1 to {TYPE_LENGTH} characters")
    endpoint = await session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None or not endpoint.enabled:
        return None
    if incident.private and not endpoint.include_private:
        return None
    described = await _incidents(session, [incident])
    payload = {"incident": described[incident.id], **data}
    return await _queue(session, endpoint, event_type, incident, payload, now=now, occurred_at=now)


def _wants(endpoint: WebhookEndpoint, kind: str, incident: Incident) -> bool:
    if endpoint.event_types is not None and kind not in endpoint.event_types:
        return False
    return endpoint.include_private or not incident.private


def incident_path(incident: Incident) -> str:
    return f"/incidents/{incident.reference}"


async def _incidents(
    session: AsyncSession, incidents: Iterable[Incident]
) -> dict[int, dict[str, Any]]:
    """What a message says about each incident, with its current status, severity and type."""
    chosen = {incident.id: incident for incident in incidents}
    if not chosen:
        return {}
    names: dict[tuple[type, int], str] = {}
    for model, ids in (
        (Status, {i.status_id for i in chosen.values()}),
        (Severity, {i.severity_id for i in chosen.values()}),
        (IncidentType, {i.type_id for i in chosen.values()}),
    ):
        rows = await session.execute(select(model.id, model.name).where(model.id.in_(ids)))
        names.update({(model, key): name for key, name in rows.all()})
    return {
        incident.id: {
            "reference": incident.reference,
            "name": incident.name,
            "url": incident_path(incident),
            "status": names.get((Status, incident.status_id)),
            "severity": names.get((Severity, incident.severity_id)),
            "type": names.get((IncidentType, incident.type_id)),
            "mode": incident.mode.name,
            "private": incident.private,
        }
        for incident in chosen.values()
    }


async def _queue(
    session: AsyncSession,
    endpoint: WebhookEndpoint,
    kind: str,
    incident: Incident | None,
    data: Mapping[str, Any],
    *,
    now: datetime,
    occurred_at: datetime,
) -> WebhookDelivery:
    delivery = WebhookDelivery(
        endpoint_id=endpoint.id,
        message_id="msg_" + secrets.token_urlsafe(18),
        event_type=kind,
        incident_id=None if incident is None else incident.id,
        payload={"type": kind, "timestamp": _iso(occurred_at), "data": dict(data)},
        state=DeliveryState.PENDING,
        attempts=0,
        created_at=now,
    )
    session.add(delivery)
    await session.flush()
    await jobs.enqueue(
        session, JOB, {"delivery_id": delivery.id}, now=now, key=f"{JOB}:{delivery.id}"
    )
    return delivery


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


# Sending ---------------------------------------------------------------------------------------


def retry_delay(attempts: int) -> timedelta:
    """The wait after failed attempt number ``attempts`` (1 for the first)."""
    return RETRY_DELAYS[min(max(attempts, 1), len(RETRY_DELAYS)) - 1]


async def deliver(db: Database, payload: dict[str, Any], outside: jobs.Outside) -> None:
    """The ``webhook`` job: send one delivery and record the attempt; ``jobs.RetryLater`` when
    it is to be tried again. Safe to run twice (a delivery no longer pending is left alone)."""
    delivery_id = int(payload["delivery_id"])
    async with db.read() as session:
        delivery = await session.get(WebhookDelivery, delivery_id)
        endpoint = (
            None if delivery is None else await session.get(WebhookEndpoint, delivery.endpoint_id)
        )
    if delivery is None or delivery.state is not DeliveryState.PENDING:
        return
    if endpoint is None or not endpoint.enabled:
        async with db.write() as session:
            row = await session.get(WebhookDelivery, delivery_id, with_for_update=True)
            if row is not None and row.state is DeliveryState.PENDING:
                row.state = DeliveryState.FAILED
                row.last_error = "Not sent: the endpoint is turned off."
        return
    answer: outbound.Answer | None = None
    error: str | None = None
    try:
        content, headers = request_for(endpoint, delivery, outside)
        answer = await outbound.send(
            outside.http,
            endpoint.url,
            content=content,
            headers=headers,
            allow_private=outside.webhook_allow_private,
        )
    except (outbound.Refused, outbound.Failed, ValueError) as problem:
        error = str(problem)
    delay = await _record(db, delivery_id, answer, error, outside)
    if delay is not None:
        raise jobs.RetryLater(error or f"answered {answer and answer.status_code}", delay)


async def _record(
    db: Database,
    delivery_id: int,
    answer: outbound.Answer | None,
    error: str | None,
    outside: jobs.Outside,
) -> timedelta | None:
    """Store an attempt's outcome; the wait before the next attempt, or None if there is none."""
    async with db.write() as session:
        row = await session.get(WebhookDelivery, delivery_id, with_for_update=True)
        if row is None or row.state is not DeliveryState.PENDING:
            return None
        endpoint = await session.get(WebhookEndpoint, row.endpoint_id, with_for_update=True)
        now = db.now()
        row.attempts += 1
        row.last_attempt_at = now
        row.last_status_code = None if answer is None else answer.status_code
        if answer is not None and answer.ok:
            row.state, row.delivered_at, row.last_error = DeliveryState.DELIVERED, now, None
            if endpoint is not None:
                endpoint.consecutive_failures = 0
            return None
        if error is None and answer is not None:
            said = answer.body[:200].decode("utf-8", "replace").strip()
            error = f"Answered {answer.status_code}" + (f": {said}" if said else ".")
        row.last_error = (error or "Failed.")[:ERROR_LENGTH]
        deadline = row.created_at + GIVE_UP_AFTER
        if now < deadline:
            return max(min(retry_delay(row.attempts), deadline - now), timedelta(seconds=1))
        row.state = DeliveryState.FAILED
        if endpoint is not None and endpoint.enabled:
            endpoint.consecutive_failures += 1
            if endpoint.consecutive_failures >= DISABLE_AFTER:
                await _disable(session, endpoint, row, now=now, email=outside.mail is not None)
        return None


async def _disable(
    session: AsyncSession,
    endpoint: WebhookEndpoint,
    delivery: WebhookDelivery,
    *,
    now: datetime,
    email: bool,
) -> None:
    count = endpoint.consecutive_failures
    endpoint.enabled = False
    endpoint.disabled_reason = (
        f"Turned off after {count} deliveries in a row failed for "
        f"{GIVE_UP_AFTER.total_seconds() / 3600:g} hours each; the last: {delivery.last_error}"
    )[:ERROR_LENGTH]
    admins = await session.scalars(
        select(User.id).where(User.role == OrgRole.ADMIN, User.active.is_(True))
    )
    where = endpoint.description or outbound.check_url(endpoint.url).hostname or "an endpoint"
    await notifications.send(
        session,
        list(admins),
        kind=NotificationKind.WEBHOOK_DISABLED,
        incident=None,
        title=f"Webhook to {where} turned off"[: notifications.TITLE_LENGTH],
        body=endpoint.disabled_reason + " Turn it back on in Settings, Webhooks, once it is fixed.",
        cause=f"webhook-disabled:{endpoint.id}:{delivery.id}",
        now=now,
        email=email,
    )

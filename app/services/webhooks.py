"""Webhooks and chat: endpoints admins configure, the deliveries incidents cause, and sending them.

An endpoint is a URL that gets events of the types it chose (all when ``event_types`` is null) in
one of three shapes: ``STANDARD`` (the Standard Webhooks specification: JSON ``{type, timestamp,
data}`` signed with the endpoint's secret, ``webhook-id`` / ``webhook-timestamp`` /
``webhook-signature`` headers), ``SLACK`` (an incoming-webhook message, which Mattermost and
Rocket.Chat take too) or ``TEAMS`` (an Adaptive Card). Its secret (``whsec_`` and 24 random bytes
in base64) is shown once, when made or rotated, and stored sealed with AES-GCM under a key derived
with HKDF from ``MUSTER_SECRET_KEY``. Only admins (``policy.can_configure``) see or change
endpoints.

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
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from standardwebhooks import Webhook

from app import jobs, lifecycle, outbound, policy
from app.db import Database
from app.errors import Forbidden, Invalid, NotFound
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
    WebhookFormat,
)
from app.services import notifications
from app.text import clean_text

JOB = "webhook"
TEST = "webhook.test"
EVENT_TYPES: Final = (
    "incident.declared",
    "incident.accepted",
    "incident.updated",
    "incident.status_changed",
    "incident.severity_changed",
    "incident.role_assigned",
    "incident.resolved",
    "incident.closed",
)
TYPES: Final = (*EVENT_TYPES, TEST)  # every type a delivery may have
TYPE_LENGTH = 60  # a delivery's event_type column
SECRET_PREFIX = "whsec_"  # noqa: S105 (the prefix, not a secret)
MAX_ENDPOINTS = 50
DESCRIPTION_LENGTH = 500
DELIVERIES_SHOWN = 100  # the most ``deliveries`` answers at once
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
TEXT_LENGTH = 2900  # Slack's section text takes 3,000 characters
_HKDF_INFO = b"muster: webhook signing secrets v1"


# Secrets ---------------------------------------------------------------------------------------


def new_secret() -> str:
    """A signing secret in the Standard Webhooks form: ``whsec_`` and base64 of 24 bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def _key(secret_key: str) -> AESGCM:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_HKDF_INFO).derive(
        secret_key.encode()
    )
    return AESGCM(derived)


def seal(secret: str, secret_key: str) -> str:
    """``secret`` encrypted under a key derived from ``secret_key`` (a random nonce first)."""
    nonce = secrets.token_bytes(12)
    sealed = _key(secret_key).encrypt(nonce, secret.encode(), _HKDF_INFO)
    return base64.urlsafe_b64encode(nonce + sealed).decode()


def unseal(sealed: str, secret_key: str) -> str:
    """The secret ``seal`` sealed; ``ValueError`` if it was sealed under another key."""
    raw = base64.urlsafe_b64decode(sealed)
    try:
        return _key(secret_key).decrypt(raw[:12], raw[12:], _HKDF_INFO).decode()
    except InvalidTag:
        raise ValueError("The webhook secret was sealed under another secret key.") from None


# Configuration (admins) ------------------------------------------------------------------------


def _admin(actor: User) -> None:
    if not policy.can_configure(actor):
        raise Forbidden("Only admins can manage webhooks.")


def _url(url: str) -> str:
    url = url.strip()
    if not url:
        raise Invalid("The URL cannot be empty.", field="url")
    try:
        outbound.check_url(url)
    except outbound.Refused as refused:
        raise Invalid(str(refused), field="url") from None
    return url


def _event_types(values: Sequence[str] | None) -> list[str] | None:
    if values is None:
        return None
    if len(values) > len(EVENT_TYPES):
        raise Invalid("Name each event type at most once.", field="eventTypes")
    unknown = [value for value in values if value not in EVENT_TYPES]
    if unknown:
        raise Invalid(
            f"Unknown event type “{unknown[0][:60]}”: choose from {', '.join(EVENT_TYPES)}.",
            field="eventTypes",
        )
    if not values:
        raise Invalid(
            "Choose at least one event type, or leave them out for all.", field="eventTypes"
        )
    return [kind for kind in EVENT_TYPES if kind in values]


async def _endpoint(session: AsyncSession, endpoint_id: int, field: str) -> WebhookEndpoint:
    endpoint = await session.get(WebhookEndpoint, endpoint_id, with_for_update=True)
    if endpoint is None:
        raise NotFound("No webhook endpoint with that id.", field=field)
    return endpoint


async def create_endpoint(
    db: Database,
    *,
    actor: User,
    secret_key: str,
    url: str,
    description: str = "",
    format: WebhookFormat = WebhookFormat.STANDARD,
    event_types: Sequence[str] | None = None,
    include_private: bool = False,
) -> tuple[WebhookEndpoint, str]:
    """Add an endpoint; returns it with its signing secret, which is never shown again."""
    _admin(actor)
    row = WebhookEndpoint(
        url=_url(url),
        description=clean_text(
            description, field="description", limit=DESCRIPTION_LENGTH, empty=True
        ),
        format=format,
        event_types=_event_types(event_types),
        include_private=include_private,
        enabled=True,
        consecutive_failures=0,
        created_by_id=actor.id,
    )
    secret = new_secret()
    row.sealed_secret = seal(secret, secret_key)
    async with db.write() as session:
        count = await session.scalar(select(func.count()).select_from(WebhookEndpoint))
        if (count or 0) >= MAX_ENDPOINTS:
            raise Invalid(f"There can be at most {MAX_ENDPOINTS} webhook endpoints.", field="url")
        row.created_at = db.now()
        session.add(row)
        await session.flush()
        return row, secret


class Keep:
    """The event types are left as they are (``None`` means every type)."""


KEEP: Final = Keep()


async def update_endpoint(
    db: Database,
    *,
    actor: User,
    endpoint_id: int,
    url: str | None = None,
    description: str | None = None,
    format: WebhookFormat | None = None,
    event_types: Sequence[str] | Keep | None = KEEP,
    enabled: bool | None = None,
    include_private: bool | None = None,
) -> WebhookEndpoint:
    """Change what is given; turning an endpoint back on clears its failures."""
    _admin(actor)
    async with db.write() as session:
        row = await _endpoint(session, endpoint_id, "endpointId")
        if url is not None:
            row.url = _url(url)
        if description is not None:
            row.description = clean_text(
                description, field="description", limit=DESCRIPTION_LENGTH, empty=True
            )
        if format is not None:
            row.format = format
        if not isinstance(event_types, Keep):
            row.event_types = _event_types(event_types)
        if include_private is not None:
            row.include_private = include_private
        if enabled is True and not row.enabled:
            row.enabled, row.disabled_reason, row.consecutive_failures = True, None, 0
        elif enabled is False and row.enabled:
            row.enabled, row.disabled_reason = False, f"Turned off by {actor.name}."
        return row


async def delete_endpoint(db: Database, *, actor: User, endpoint_id: int) -> WebhookEndpoint:
    """Remove an endpoint and its delivery log; its queued deliveries are dropped."""
    _admin(actor)
    async with db.write() as session:
        row = await _endpoint(session, endpoint_id, "endpointId")
        await session.execute(
            delete(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint_id)
        )
        await session.delete(row)
        return row


async def rotate_secret(
    db: Database, *, actor: User, secret_key: str, endpoint_id: int
) -> tuple[WebhookEndpoint, str]:
    """Give an endpoint a new signing secret (shown once); the old one stops at once."""
    _admin(actor)
    secret = new_secret()
    async with db.write() as session:
        row = await _endpoint(session, endpoint_id, "endpointId")
        row.sealed_secret = seal(secret, secret_key)
        return row, secret


async def send_test(db: Database, *, actor: User, endpoint_id: int) -> WebhookDelivery:
    """Queue a ``webhook.test`` delivery to an endpoint that is on."""
    _admin(actor)
    async with db.write() as session:
        row = await _endpoint(session, endpoint_id, "endpointId")
        if not row.enabled:
            raise Invalid("Turn the endpoint on before sending a test.", field="endpointId")
        now = db.now()
        data = {"message": "A test message from Muster: this endpoint receives its messages."}
        return await _queue(session, row, TEST, None, data, now=now, occurred_at=now)


async def list_endpoints(session: AsyncSession, *, actor: User) -> list[WebhookEndpoint]:
    """Every endpoint, oldest first (admins only)."""
    _admin(actor)
    rows = await session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.id))
    return list(rows.all())


async def get_endpoint(
    session: AsyncSession, *, actor: User, endpoint_id: int
) -> WebhookEndpoint | None:
    """One endpoint (admins only), or None."""
    _admin(actor)
    return await session.get(WebhookEndpoint, endpoint_id)


async def deliveries(
    session: AsyncSession, *, endpoint_ids: Sequence[int], first: int
) -> dict[int, list[WebhookDelivery]]:
    """Each endpoint's latest ``first`` deliveries, newest first (for endpoints already shown
    to an admin)."""
    first = max(0, min(first, DELIVERIES_SHOWN))
    found: dict[int, list[WebhookDelivery]] = {endpoint_id: [] for endpoint_id in endpoint_ids}
    if not first:
        return found
    for endpoint_id in endpoint_ids:
        query = (
            select(WebhookDelivery)
            .where(WebhookDelivery.endpoint_id == endpoint_id)
            .order_by(WebhookDelivery.id.desc())
            .limit(first)
        )
        found[endpoint_id] = list((await session.scalars(query)).all())
    return found


# Reacting to the timeline ----------------------------------------------------------------------


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


# The messages ----------------------------------------------------------------------------------


def request_for(
    endpoint: WebhookEndpoint, delivery: WebhookDelivery, outside: jobs.Outside
) -> tuple[bytes, dict[str, str]]:
    """The body and headers of a delivery's request, in the endpoint's format."""
    message = _absolute(delivery.payload, outside.base_url)
    headers = {"Content-Type": "application/json", "User-Agent": "Muster-Webhooks/1"}
    if endpoint.format is WebhookFormat.SLACK:
        body: dict[str, Any] = slack_message(message)
    elif endpoint.format is WebhookFormat.TEAMS:
        body = teams_message(message)
    else:
        body = message
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    signed_at = datetime.now(UTC)  # the receiver compares it with its own clock
    secret = unseal(endpoint.sealed_secret, outside.secret_key)
    headers |= {
        "webhook-id": delivery.message_id,
        "webhook-timestamp": str(int(signed_at.timestamp())),
        "webhook-signature": Webhook(secret).sign(delivery.message_id, signed_at, text),
    }
    return text.encode(), headers


def _absolute(message: Mapping[str, Any], base_url: str) -> dict[str, Any]:
    data = dict(message.get("data") or {})
    incident = data.get("incident")
    if isinstance(incident, dict) and isinstance(incident.get("url"), str):
        data["incident"] = {**incident, "url": base_url.rstrip("/") + incident["url"]}
    return {**message, "data": data}


def _escape(text: Any) -> str:
    """Text for Slack's mrkdwn: no mention (``<!channel>``) or link can be smuggled in."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def headline(message: Mapping[str, Any], escape: Callable[[Any], str] = str) -> str:
    """One line saying what happened, for chat."""
    data = message.get("data") or {}
    kind = message.get("type")
    incident = data.get("incident")
    if kind == TEST or not isinstance(incident, dict):
        return escape(data.get("message", "A message from Muster."))
    ref, name = incident["reference"], escape(incident["name"])
    moved = f"{escape(data.get('from'))} → {escape(data.get('to'))}"
    sentences = {
        "incident.declared": f"{ref} declared: {name}",
        "incident.accepted": f"{ref} accepted into {escape(data.get('status'))}: {name}",
        "incident.updated": f"Update on {ref} {name}: {escape(data.get('message', ''))}",
        "incident.status_changed": f"{ref} {name}: status {moved}",
        "incident.severity_changed": f"{ref} {name}: severity {moved}",
        "incident.role_assigned": (
            f"{ref} {name}: {escape(data.get('user'))} is now {escape(data.get('role'))}"
        ),
        "incident.resolved": f"{ref} resolved: {name}",
        "incident.closed": f"{ref} closed: {name}",
        "workflow.step": f"{ref} {name}: from the workflow “{escape(data.get('workflow'))}”",
    }
    return sentences.get(str(kind), f"{ref} {name}: {escape(kind)}")


def _facts(incident: Mapping[str, Any]) -> list[tuple[str, str]]:
    facts = [
        ("Severity", incident.get("severity")),
        ("Status", incident.get("status")),
        ("Type", incident.get("type")),
    ]
    if incident.get("mode") == "TEST":
        facts.append(("Mode", "Test"))
    if incident.get("private"):
        facts.append(("Visibility", "Private"))
    return [(title, str(value)) for title, value in facts if value]


def slack_message(message: Mapping[str, Any]) -> dict[str, Any]:
    """A Slack incoming-webhook message (``text`` for Mattermost and Rocket.Chat, ``blocks``
    for Slack): the headline, the incident's facts and a button to it."""
    line = headline(message, _escape)[:TEXT_LENGTH]
    incident = (message.get("data") or {}).get("incident")
    blocks: list[dict[str, Any]] = [{"type": "section", "text": {"type": "mrkdwn", "text": line}}]
    if isinstance(incident, dict):
        facts = " · ".join(f"{title}: {_escape(value)}" for title, value in _facts(incident))
        if facts:
            blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": facts}]})
        blocks.append(
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": f"Open {incident['reference']}"},
                        "url": incident["url"],
                    }
                ],
            }
        )
    return {"text": line, "blocks": blocks}


def teams_message(message: Mapping[str, Any]) -> dict[str, Any]:
    """A Microsoft Teams message with an Adaptive Card (1.4): the headline, the incident's facts
    and a button to it."""
    incident = (message.get("data") or {}).get("incident")
    body: list[dict[str, Any]] = [
        {
            "type": "TextBlock",
            "text": headline(message)[:TEXT_LENGTH],
            "weight": "Bolder",
            "size": "Medium",
            "wrap": True,
        }
    ]
    actions: list[dict[str, Any]] = []
    if isinstance(incident, dict):
        body.append(
            {
                "type": "FactSet",
                "facts": [{"title": t, "value": v} for t, v in _facts(incident)],
            }
        )
        actions.append(
            {
                "type": "Action.OpenUrl",
                "title": f"Open {incident['reference']}",
                "url": incident["url"],
            }
        )
    card = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": body,
        "actions": actions,
    }
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": card,
            }
        ],
    }

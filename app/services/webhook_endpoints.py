"""Webhook endpoints: the URLs admins configure to receive Muster's events, and their signing
secrets.

An endpoint is a URL that gets events of the types it chose (``EVENT_TYPES``; all when
``event_types`` is null) in one of three shapes: ``STANDARD`` (the Standard Webhooks
specification), ``SLACK`` (an incoming-webhook message, which Mattermost and Rocket.Chat take too)
or ``TEAMS`` (an Adaptive Card); private incidents reach it only if it opted in
(``include_private``). Its secret (``whsec_`` and 24 random bytes in base64) is shown once, when
made or rotated, and stored sealed with AES-GCM under a key derived with HKDF from
``MUSTER_SECRET_KEY``. Only admins (``policy.can_configure``) see or change endpoints and read
their delivery log; what is sent to them, and when, is ``app.services.webhooks``.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Sequence
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app import outbound, policy
from app.db import Database
from app.errors import Forbidden, Invalid, NotFound
from app.models import User, WebhookDelivery, WebhookEndpoint, WebhookFormat
from app.text import clean_text

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
SECRET_PREFIX = "whsec_"  # noqa: S105 (the prefix, not a secret)
MAX_ENDPOINTS = 50
DESCRIPTION_LENGTH = 500
DELIVERIES_SHOWN = 100  # the most ``deliveries`` answers at once
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


def require_admin(actor: User) -> None:
    """Refuse anyone but an admin (``Forbidden``)."""
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


async def locked_endpoint(session: AsyncSession, endpoint_id: int, field: str) -> WebhookEndpoint:
    """The endpoint, locked for the transaction; ``NotFound`` (on ``field``) if there is none."""
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
    require_admin(actor)
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
    require_admin(actor)
    async with db.write() as session:
        row = await locked_endpoint(session, endpoint_id, "endpointId")
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
    require_admin(actor)
    async with db.write() as session:
        row = await locked_endpoint(session, endpoint_id, "endpointId")
        await session.execute(
            delete(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint_id)
        )
        await session.delete(row)
        return row


async def rotate_secret(
    db: Database, *, actor: User, secret_key: str, endpoint_id: int
) -> tuple[WebhookEndpoint, str]:
    """Give an endpoint a new signing secret (shown once); the old one stops at once."""
    require_admin(actor)
    secret = new_secret()
    async with db.write() as session:
        row = await locked_endpoint(session, endpoint_id, "endpointId")
        row.sealed_secret = seal(secret, secret_key)
        return row, secret


async def list_endpoints(session: AsyncSession, *, actor: User) -> list[WebhookEndpoint]:
    """Every endpoint, oldest first (admins only)."""
    require_admin(actor)
    rows = await session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.id))
    return list(rows.all())


async def get_endpoint(
    session: AsyncSession, *, actor: User, endpoint_id: int
) -> WebhookEndpoint | None:
    """One endpoint (admins only), or None."""
    require_admin(actor)
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

"""Webhooks in the API (admins only): ``WebhookEndpoint`` with its delivery log, the
``webhookEndpoints`` and ``webhookEndpoint(id)`` reads, and ``createWebhookEndpoint``,
``updateWebhookEndpoint``, ``deleteWebhookEndpoint``, ``rotateWebhookSecret`` and
``sendTestWebhook``.

Anyone else reading an endpoint gets the FORBIDDEN error (as for someone else's API tokens), and
their mutations answer FORBIDDEN in ``userErrors``. A signing secret is in the answer to the
mutation that made it (create, rotate) and nowhere else, ever. The secrets are sealed under a
key derived from ``MUSTER_SECRET_KEY``, which ``build_schema`` hands ``schema.process``.
The two enums, ``WebhookFormat`` and ``WebhookDeliveryState``, are registered here with the
types that use them.
"""

from __future__ import annotations

from datetime import datetime

import strawberry

from app import models
from app.models import DeliveryState, User, WebhookFormat
from app.services import webhook_endpoints, webhooks
from schema import ids, process
from schema.context import Info
from schema.errors import UserError
from schema.payloads import mutation
from schema.viewers import per_viewer


@strawberry.type(description="One message to one endpoint, retried until delivered or given up.")
class WebhookDelivery:
    id: strawberry.ID
    message_id: str = strawberry.field(
        description="The `webhook-id` header: the same on every retry, for receivers to "
        "deduplicate by."
    )
    event_type: str
    state: DeliveryState
    attempts: int
    last_status_code: int | None = strawberry.field(
        description="What the receiver answered last (none: it could not be reached)."
    )
    last_error: str | None
    last_attempt_at: datetime | None
    delivered_at: datetime | None
    created_at: datetime

    @classmethod
    def from_model(cls, row: models.WebhookDelivery) -> WebhookDelivery:
        return cls(
            id=ids.encode("WebhookDelivery", row.id),
            message_id=row.message_id,
            event_type=row.event_type,
            state=row.state,
            attempts=row.attempts,
            last_status_code=row.last_status_code,
            last_error=row.last_error,
            last_attempt_at=row.last_attempt_at,
            delivered_at=row.delivered_at,
            created_at=row.created_at,
        )


@strawberry.type(description="An outside URL that receives incident events (admins only).")
class WebhookEndpoint:
    id: strawberry.ID
    url: str
    description: str
    format: WebhookFormat
    event_types: list[str] | None = strawberry.field(
        description="The event types it receives; null: every type."
    )
    include_private: bool = strawberry.field(
        description="Whether it receives private incidents (with their details)."
    )
    enabled: bool
    disabled_reason: str | None = strawberry.field(
        description="Why it was turned off, when it is off."
    )
    created_at: datetime
    key: strawberry.Private[int]

    @classmethod
    def from_model(cls, row: models.WebhookEndpoint) -> WebhookEndpoint:
        return cls(
            id=ids.encode("WebhookEndpoint", row.id),
            url=row.url,
            description=row.description,
            format=row.format,
            event_types=row.event_types,
            include_private=row.include_private,
            enabled=row.enabled,
            disabled_reason=row.disabled_reason,
            created_at=row.created_at,
            key=row.id,
        )

    @strawberry.field(description="Its latest deliveries, newest first (at most 100).")
    async def deliveries(self, info: Info, first: int = 20) -> list[WebhookDelivery]:
        async with info.context.reading() as session:
            found = await webhook_endpoints.deliveries(
                session, endpoint_ids=[self.key], first=first
            )
        return [WebhookDelivery.from_model(row) for row in found[self.key]]


@strawberry.type
class WebhookQueries:
    @per_viewer(description="Admins: every webhook endpoint, oldest first.")
    async def webhook_endpoints(self, info: Info) -> list[WebhookEndpoint]:
        async with info.context.reading() as session:
            rows = await webhook_endpoints.list_endpoints(session, actor=info.context.viewer)
        return [WebhookEndpoint.from_model(row) for row in rows]

    @per_viewer(description="Admins: one webhook endpoint (null: there is none).")
    async def webhook_endpoint(self, info: Info, id: strawberry.ID) -> WebhookEndpoint | None:
        endpoint_id = ids.decode("WebhookEndpoint", id, field="id")
        async with info.context.reading() as session:
            row = await webhook_endpoints.get_endpoint(
                session, actor=info.context.viewer, endpoint_id=endpoint_id
            )
        return None if row is None else WebhookEndpoint.from_model(row)


@strawberry.input
class CreateWebhookEndpointInput:
    url: str
    description: str = ""
    format: WebhookFormat = WebhookFormat.STANDARD
    event_types: list[str] | None = strawberry.field(
        default=None, description="Left out: every event type."
    )
    include_private: bool = strawberry.field(
        default=False, description="Also send private incidents, with their details."
    )


@strawberry.input
class UpdateWebhookEndpointInput:
    endpoint_id: strawberry.ID
    url: str | None = None
    description: str | None = None
    format: WebhookFormat | None = None
    event_types: list[str] | None = strawberry.field(
        default=strawberry.UNSET, description="Left out: unchanged; null: every event type."
    )
    enabled: bool | None = strawberry.field(
        default=None, description="Turning an endpoint back on clears its failures."
    )
    include_private: bool | None = None

    def endpoint(self) -> int:
        return ids.decode("WebhookEndpoint", self.endpoint_id, field="endpointId")


@strawberry.input
class WebhookEndpointIdInput:
    endpoint_id: strawberry.ID

    def endpoint(self) -> int:
        return ids.decode("WebhookEndpoint", self.endpoint_id, field="endpointId")


@strawberry.type
class WebhookEndpointPayload:
    endpoint: WebhookEndpoint | None = None
    secret: str | None = strawberry.field(
        default=None, description="The signing secret, shown only when it is made."
    )
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class WebhookDeliveryPayload:
    delivery: WebhookDelivery | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class WebhookMutations:
    @mutation(
        WebhookEndpointPayload,
        description="Admins: add a webhook endpoint; its signing secret is shown once.",
    )
    async def create_webhook_endpoint(
        info: Info, input: CreateWebhookEndpointInput, actor: User
    ) -> WebhookEndpointPayload:
        row, secret = await webhook_endpoints.create_endpoint(
            info.context.db,
            actor=actor,
            secret_key=process.secret_key(),
            url=input.url,
            description=input.description,
            format=input.format,
            event_types=input.event_types,
            include_private=input.include_private,
        )
        return WebhookEndpointPayload(endpoint=WebhookEndpoint.from_model(row), secret=secret)

    @mutation(
        WebhookEndpointPayload,
        description="Admins: change a webhook endpoint, or turn it off or back on.",
    )
    async def update_webhook_endpoint(
        info: Info, input: UpdateWebhookEndpointInput, actor: User
    ) -> WebhookEndpointPayload:
        event_types: list[str] | webhook_endpoints.Keep | None = webhook_endpoints.KEEP
        if input.event_types is not strawberry.UNSET:
            event_types = input.event_types
        row = await webhook_endpoints.update_endpoint(
            info.context.db,
            actor=actor,
            endpoint_id=input.endpoint(),
            url=input.url,
            description=input.description,
            format=input.format,
            event_types=event_types,
            enabled=input.enabled,
            include_private=input.include_private,
        )
        return WebhookEndpointPayload(endpoint=WebhookEndpoint.from_model(row))

    @mutation(
        WebhookEndpointPayload,
        description="Admins: remove a webhook endpoint and its delivery log.",
    )
    async def delete_webhook_endpoint(
        info: Info, input: WebhookEndpointIdInput, actor: User
    ) -> WebhookEndpointPayload:
        row = await webhook_endpoints.delete_endpoint(
            info.context.db, actor=actor, endpoint_id=input.endpoint()
        )
        return WebhookEndpointPayload(endpoint=WebhookEndpoint.from_model(row))

    @mutation(
        WebhookEndpointPayload,
        description="Admins: give an endpoint a new signing secret (shown once); the old one "
        "stops working at once.",
    )
    async def rotate_webhook_secret(
        info: Info, input: WebhookEndpointIdInput, actor: User
    ) -> WebhookEndpointPayload:
        row, secret = await webhook_endpoints.rotate_secret(
            info.context.db,
            actor=actor,
            secret_key=process.secret_key(),
            endpoint_id=input.endpoint(),
        )
        return WebhookEndpointPayload(endpoint=WebhookEndpoint.from_model(row), secret=secret)

    @mutation(
        WebhookDeliveryPayload,
        description="Admins: send a `webhook.test` message to an endpoint that is on.",
    )
    async def send_test_webhook(
        info: Info, input: WebhookEndpointIdInput, actor: User
    ) -> WebhookDeliveryPayload:
        row = await webhooks.send_test(info.context.db, actor=actor, endpoint_id=input.endpoint())
        return WebhookDeliveryPayload(delivery=WebhookDelivery.from_model(row))

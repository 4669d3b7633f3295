"""Webhook endpoints (outside URLs that receive signed events, in the Standard Webhooks, Slack or
Teams shape) and their deliveries: one row per message per endpoint, with a stable ``message_id``
(the ``webhook-id`` a receiver deduplicates by) and the outcome of its latest attempt, which the
delivery log shows. The sending itself is a job (``app.models.jobs.Job``) naming the delivery."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, BigId


class WebhookFormat(enum.Enum):
    """The shape of the requests an endpoint receives."""

    STANDARD = "STANDARD"
    SLACK = "SLACK"
    TEAMS = "TEAMS"


class WebhookEndpoint(Base):
    """An outside URL that receives events of the types it asked for (all when ``event_types``
    is null); private incidents only when ``include_private``."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    description: Mapped[str] = mapped_column(Text, default="")
    format: Mapped[WebhookFormat]
    event_types: Mapped[list[str] | None] = mapped_column(JSON)
    # The signing secret, encrypted under a key derived from MUSTER_SECRET_KEY.
    sealed_secret: Mapped[str] = mapped_column(Text)
    include_private: Mapped[bool] = mapped_column(default=False)
    enabled: Mapped[bool] = mapped_column(default=True)
    disabled_reason: Mapped[str | None] = mapped_column(Text)
    consecutive_failures: Mapped[int] = mapped_column(default=0)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]


class DeliveryState(enum.Enum):
    """Where a delivery stands."""

    PENDING = "PENDING"
    DELIVERED = "DELIVERED"
    FAILED = "FAILED"


class WebhookDelivery(Base):
    """One message to one endpoint, retried until delivered or given up."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (Index(None, "endpoint_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    message_id: Mapped[str] = mapped_column(String(64), unique=True)
    event_type: Mapped[str] = mapped_column(String(60))
    incident_id: Mapped[int | None] = mapped_column(
        ForeignKey("incidents.id", ondelete="SET NULL"), index=True
    )
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    state: Mapped[DeliveryState] = mapped_column(default=DeliveryState.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    last_status_code: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    last_attempt_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    created_at: Mapped[datetime]

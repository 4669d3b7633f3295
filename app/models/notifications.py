"""Notifications: one message to one person about one thing that happened, and each person's
choice of channels per kind. ``Notification.cause`` names what caused it (an event, a nudge's
round, a workflow run); it is unique per person, so a cause replayed after a crash makes no
second notification."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, BigId


class NotificationKind(enum.Enum):
    """What a notification is about."""

    UPDATE_SHARED = "UPDATE_SHARED"
    STATUS_CHANGED = "STATUS_CHANGED"
    SEVERITY_CHANGED = "SEVERITY_CHANGED"
    ROLE_ASSIGNED = "ROLE_ASSIGNED"
    INCIDENT_ACCEPTED = "INCIDENT_ACCEPTED"
    INCIDENT_DECLINED = "INCIDENT_DECLINED"
    INCIDENT_MERGED = "INCIDENT_MERGED"
    INCIDENT_RESOLVED = "INCIDENT_RESOLVED"
    WORKFLOW = "WORKFLOW"
    UPDATE_OVERDUE = "UPDATE_OVERDUE"
    NO_LEAD = "NO_LEAD"
    FOLLOW_UP_DUE = "FOLLOW_UP_DUE"
    WEBHOOK_DISABLED = "WEBHOOK_DISABLED"


class Notification(Base):
    """One message to one person; ``incident_id`` set when it is about an incident."""

    __tablename__ = "notifications"
    __table_args__ = (UniqueConstraint("user_id", "cause"), Index(None, "user_id", "id"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[NotificationKind]
    incident_id: Mapped[int | None] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text, default="")
    cause: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    read_at: Mapped[datetime | None]


class NotificationPreference(Base):
    """A person's choice for one kind; without a row, every channel is on."""

    __tablename__ = "notification_preferences"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[NotificationKind] = mapped_column(primary_key=True)
    email: Mapped[bool] = mapped_column(default=True)

"""Incidents and everything that hangs off one: roles held, updates, the timeline, actions,
custom field values, followers and members, plus the counters and idempotency keys that keep
declaring safe under concurrency.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, BigId


class IncidentMode(enum.Enum):
    """Real, practice (kept out of insights), or recorded after the fact."""

    STANDARD = "STANDARD"
    TEST = "TEST"
    RETROSPECTIVE = "RETROSPECTIVE"


class Incident(Base):
    """Anything that takes people away from planned work with a degree of urgency."""

    __tablename__ = "incidents"
    __table_args__ = (Index(None, "declared_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int] = mapped_column(unique=True)
    name: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    status_id: Mapped[int] = mapped_column(ForeignKey("statuses.id"), index=True)
    severity_id: Mapped[int] = mapped_column(ForeignKey("severities.id"), index=True)
    type_id: Mapped[int] = mapped_column(ForeignKey("incident_types.id"), index=True)
    mode: Mapped[IncidentMode]
    private: Mapped[bool] = mapped_column(default=False)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"))
    declared_at: Mapped[datetime]
    accepted_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]
    next_update_due_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(default=1)

    @property
    def reference(self) -> str:
        return f"INC-{self.number}"


class RoleAssignment(Base):
    """Who holds which incident role; one holder per role per incident."""

    __tablename__ = "role_assignments"
    __table_args__ = (UniqueConstraint("incident_id", "role_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    role_id: Mapped[int] = mapped_column(ForeignKey("incident_roles.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    assigned_at: Mapped[datetime]


class IncidentUpdate(Base):
    """A message shared with everyone following an incident, with an optional promise."""

    __tablename__ = "incident_updates"
    __table_args__ = (Index(None, "incident_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    message: Mapped[str] = mapped_column(Text)
    status_id: Mapped[int | None] = mapped_column(ForeignKey("statuses.id"))
    severity_id: Mapped[int | None] = mapped_column(ForeignKey("severities.id"))
    next_update_in_minutes: Mapped[int | None]
    created_at: Mapped[datetime]


class EventKind(enum.Enum):
    """Everything that can happen to an incident, as recorded on its timeline."""

    DECLARED = "DECLARED"
    ACCEPTED = "ACCEPTED"
    DECLINED = "DECLINED"
    MERGED = "MERGED"
    STATUS_CHANGED = "STATUS_CHANGED"
    SEVERITY_CHANGED = "SEVERITY_CHANGED"
    UPDATE_SHARED = "UPDATE_SHARED"
    ROLE_ASSIGNED = "ROLE_ASSIGNED"
    ROLE_UNASSIGNED = "ROLE_UNASSIGNED"
    ACTION_ADDED = "ACTION_ADDED"
    ACTION_UPDATED = "ACTION_UPDATED"
    FOLLOW_UP_ADDED = "FOLLOW_UP_ADDED"
    FOLLOW_UP_UPDATED = "FOLLOW_UP_UPDATED"
    FIELD_CHANGED = "FIELD_CHANGED"
    NOTE_ADDED = "NOTE_ADDED"
    MEMBER_INVITED = "MEMBER_INVITED"
    MEMBER_REMOVED = "MEMBER_REMOVED"
    VISIBILITY_CHANGED = "VISIBILITY_CHANGED"
    DETAILS_CHANGED = "DETAILS_CHANGED"
    BREAK_GLASS = "BREAK_GLASS"
    UPDATE_OVERDUE = "UPDATE_OVERDUE"
    WORKFLOW_RAN = "WORKFLOW_RAN"
    STATUS_PAGE_POSTED = "STATUS_PAGE_POSTED"


class TimelineEvent(Base):
    """One entry of the append-only history; ``id`` increases across all incidents.

    The payload carries what the event needs to be described later (names as they were then),
    so a timeline reads right even after statuses or severities are renamed.
    """

    __tablename__ = "timeline_events"
    __table_args__ = (Index(None, "incident_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    kind: Mapped[EventKind]
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    occurred_at: Mapped[datetime]
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class ActionKind(enum.Enum):
    """Actions are done during an incident; follow-ups after it."""

    ACTION = "ACTION"
    FOLLOW_UP = "FOLLOW_UP"


class ActionStatus(enum.Enum):
    """Where a piece of work stands."""

    OPEN = "OPEN"
    DONE = "DONE"
    NOT_DOING = "NOT_DOING"


class Action(Base):
    """A piece of work tied to an incident: an action or a follow-up."""

    __tablename__ = "actions"
    __table_args__ = (Index(None, "incident_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    kind: Mapped[ActionKind]
    title: Mapped[str] = mapped_column(String(300))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[ActionStatus] = mapped_column(default=ActionStatus.OPEN)
    due_on: Mapped[date | None]
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]
    completed_at: Mapped[datetime | None]


class CustomFieldValue(Base):
    """One value of a custom field on an incident (a multi-select holds one row per choice)."""

    __tablename__ = "custom_field_values"
    __table_args__ = (Index(None, "incident_id", "field_id"), Index(None, "option_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    field_id: Mapped[int] = mapped_column(ForeignKey("custom_fields.id", ondelete="CASCADE"))
    option_id: Mapped[int | None] = mapped_column(
        ForeignKey("custom_field_options.id", ondelete="CASCADE")
    )
    text_value: Mapped[str | None] = mapped_column(Text)
    number_value: Mapped[float | None]


class Follower(Base):
    """Somebody who wants to hear about an incident's updates."""

    __tablename__ = "followers"

    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True, index=True)
    followed_at: Mapped[datetime]


class Member(Base):
    """Somebody let into an incident: its reporter, a role holder, or an invited person.

    Membership is what makes a private incident visible; public incidents keep the list too, so
    that making one private never shuts out the people already working on it.
    """

    __tablename__ = "members"

    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True, index=True)
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    added_at: Mapped[datetime]


class Counter(Base):
    """A named, gapless sequence (incident numbers), advanced inside the declaring transaction."""

    __tablename__ = "counters"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int] = mapped_column(default=0)


class IdempotencyKey(Base):
    """Remembers which incident a client's idempotency key declared, and with what input.

    A key holds for ``services.declarations.KEY_LIFETIME`` after ``created_at``; expired keys are
    purged by later declares (the index on ``created_at`` finds them).
    """

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("user_id", "key"), Index(None, "created_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    created_at: Mapped[datetime]

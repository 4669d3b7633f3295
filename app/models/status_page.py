"""The public status page: components customers depend on (each with its status and the history
of it, for uptime), status incidents (customer-facing, with their own words, usually linked to an
internal incident) and scheduled maintenance, their updates and the components they affect, and
the page's own settings. Nothing here names anything internal: an internal incident is linked by
id only, and the public page never follows that link. Any write to the rows the page shows marks
its transaction ``touching`` the status page (a flush listener), which drops the page's stored
renderings once it commits."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, ORMExecuteState, Session, mapped_column

from app.db import Touched, touching
from app.models.base import Base, BigId


class ComponentStatus(enum.Enum):
    """How a component is doing, as customers read it (Statuspage's component statuses)."""

    OPERATIONAL = "OPERATIONAL"
    DEGRADED_PERFORMANCE = "DEGRADED_PERFORMANCE"
    PARTIAL_OUTAGE = "PARTIAL_OUTAGE"
    MAJOR_OUTAGE = "MAJOR_OUTAGE"
    UNDER_MAINTENANCE = "UNDER_MAINTENANCE"

    @property
    def label(self) -> str:
        """How pages and mail name it ("Partial outage")."""
        return self.name.capitalize().replace("_", " ")

    @property
    def up(self) -> bool:
        """Whether the component counts as up (for uptime): operational or under maintenance."""
        return self in (ComponentStatus.OPERATIONAL, ComponentStatus.UNDER_MAINTENANCE)


class StatusComponent(Base):
    """Something customers depend on ("API", "Dashboard"), optionally in a group ("Checkout");
    internal-only components appear on the internal status page alone."""

    __tablename__ = "status_components"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    group_name: Mapped[str | None] = mapped_column(String(100))
    public: Mapped[bool] = mapped_column(default=True)
    status: Mapped[ComponentStatus] = mapped_column(default=ComponentStatus.OPERATIONAL)
    position: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class ComponentStatusChange(Base):
    """A component entering a status at a moment: its history, from which uptime is drawn."""

    __tablename__ = "component_status_changes"
    __table_args__ = (Index(None, "component_id", "changed_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    component_id: Mapped[int] = mapped_column(
        ForeignKey("status_components.id", ondelete="CASCADE")
    )
    status: Mapped[ComponentStatus]
    changed_at: Mapped[datetime]


class StatusIncidentKind(enum.Enum):
    """An incident customers are told about, or maintenance planned ahead."""

    INCIDENT = "INCIDENT"
    MAINTENANCE = "MAINTENANCE"


class StatusIncidentState(enum.Enum):
    """Where a status incident stands (incidents: the first four; maintenance: the last three)."""

    INVESTIGATING = "INVESTIGATING"
    IDENTIFIED = "IDENTIFIED"
    MONITORING = "MONITORING"
    RESOLVED = "RESOLVED"
    SCHEDULED = "SCHEDULED"
    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"

    @property
    def label(self) -> str:
        """How pages and mail name it ("In progress")."""
        return self.name.capitalize().replace("_", " ")


class StatusIncident(Base):
    """What customers read about an incident or a maintenance window, in its own words.

    ``incident_id`` links the internal incident it is about; the public page never shows it.
    Maintenance has its window (``starts_at`` to ``ends_at``) and starts and ends by itself.
    """

    __tablename__ = "status_incidents"
    __table_args__ = (Index(None, "state", "id"), Index(None, "created_at", "id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[StatusIncidentKind]
    incident_id: Mapped[int | None] = mapped_column(
        ForeignKey("incidents.id", ondelete="SET NULL"), index=True
    )
    title: Mapped[str] = mapped_column(String(200))
    state: Mapped[StatusIncidentState]
    starts_at: Mapped[datetime | None]
    ends_at: Mapped[datetime | None]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]


class StatusUpdate(Base):
    """One message customers read on a status incident, with the state it moved to."""

    __tablename__ = "status_updates"
    __table_args__ = (Index(None, "status_incident_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    status_incident_id: Mapped[int] = mapped_column(
        ForeignKey("status_incidents.id", ondelete="CASCADE")
    )
    state: Mapped[StatusIncidentState]
    message: Mapped[str] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]


class AffectedComponent(Base):
    """A component a status incident affects, and how (for maintenance: UNDER_MAINTENANCE)."""

    __tablename__ = "affected_components"

    status_incident_id: Mapped[int] = mapped_column(
        ForeignKey("status_incidents.id", ondelete="CASCADE"), primary_key=True
    )
    component_id: Mapped[int] = mapped_column(
        ForeignKey("status_components.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    status: Mapped[ComponentStatus]


class StatusPageSettings(Base):
    """The page's title, introduction, support link and logo (one row, ``id`` 1)."""

    __tablename__ = "status_page_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(120), default="Status")
    intro: Mapped[str] = mapped_column(Text, default="")
    support_url: Mapped[str | None] = mapped_column(String(2000))
    logo_url: Mapped[str | None] = mapped_column(String(2000))
    updated_at: Mapped[datetime]


class StatusSubscriber(Base):
    """Someone who asked for email about the status page (all of it, or some components).

    ``link_key`` is random and names the subscriber in the links of their mail; a link holds it
    with a MAC under ``MUSTER_SECRET_KEY`` (``app.services.status_subscriptions``), so the table
    alone opens no subscription. Until ``confirmed_at`` (double opt-in) they are sent nothing but
    the confirmation, at most once per ``RESEND_AFTER``; unconfirmed, they go after a week.
    """

    __tablename__ = "status_subscribers"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    component_ids: Mapped[list[int] | None] = mapped_column(JSON)  # None: every component
    link_key: Mapped[str] = mapped_column(String(32), unique=True)
    confirmed_at: Mapped[datetime | None]
    confirmation_sent_at: Mapped[datetime | None]
    created_at: Mapped[datetime]


class StatusDelivery(Base):
    """One status update's email to one subscriber: made once (unique), sent by its job, so
    a fan-out run twice never mails anyone twice."""

    __tablename__ = "status_deliveries"
    __table_args__ = (UniqueConstraint("subscriber_id", "status_update_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    subscriber_id: Mapped[int] = mapped_column(
        ForeignKey("status_subscribers.id", ondelete="CASCADE")
    )
    status_update_id: Mapped[int] = mapped_column(
        ForeignKey("status_updates.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]


# The rows the public page is drawn from (subscribers and their deliveries are not shown on it).
_SHOWN = (
    StatusComponent,
    ComponentStatusChange,
    StatusIncident,
    StatusUpdate,
    AffectedComponent,
    StatusPageSettings,
)


_SHOWN_TABLES = frozenset(model.__table__ for model in _SHOWN)


@event.listens_for(Session, "before_flush")
def _mark_public_changes(session: Session, _context: object, _instances: object) -> None:
    """A flush that adds, changes or removes a row the public page shows marks its transaction
    ``touching`` the status page, so no write can forget to drop the stored renderings."""
    if any(isinstance(row, _SHOWN) for row in (*session.new, *session.dirty, *session.deleted)):
        touching(session, Touched.STATUS_PAGE)


@event.listens_for(Session, "do_orm_execute")
def _mark_public_statements(state: ORMExecuteState) -> None:
    """So does an UPDATE, DELETE or INSERT statement run on one of those tables."""
    if (state.is_update or state.is_delete or state.is_insert) and getattr(
        state.statement, "table", None
    ) in _SHOWN_TABLES:
        touching(state.session, Touched.STATUS_PAGE)

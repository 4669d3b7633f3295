"""What admins configure: severities, statuses, incident types, incident roles, custom fields.

These rows describe the shape of incidents in one organisation. Defaults are installed by
``app.services.catalog.install_defaults``; admins change them afterwards.
"""

from __future__ import annotations

import enum

from sqlalchemy import Column, ForeignKey, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base


class StatusCategory(enum.Enum):
    """The fixed groups every configurable status belongs to."""

    TRIAGE = "TRIAGE"
    ACTIVE = "ACTIVE"
    POST_INCIDENT = "POST_INCIDENT"
    CLOSED = "CLOSED"
    DECLINED = "DECLINED"
    MERGED = "MERGED"
    CANCELED = "CANCELED"


# The names for groups of categories, used everywhere (services, API, pages and templates):
RESPONDING = (StatusCategory.TRIAGE, StatusCategory.ACTIVE)
"""Being responded to now: a lead is wanted and promised updates fall due."""
ONGOING = (*RESPONDING, StatusCategory.POST_INCIDENT)
"""Not over: being responded to, or being learned from (post-incident)."""
FINISHED = (
    StatusCategory.CLOSED,
    StatusCategory.DECLINED,
    StatusCategory.MERGED,
    StatusCategory.CANCELED,
)
"""Over: closed, declined, merged or canceled."""


class Severity(Base):
    """How bad an incident is; ``rank`` orders severities (higher is worse)."""

    __tablename__ = "severities"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    rank: Mapped[int]


class Status(Base):
    """A named step of an incident's life, within one fixed category."""

    __tablename__ = "statuses"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[StatusCategory]
    position: Mapped[int]


class FieldKind(enum.Enum):
    """The kinds of value a custom field holds."""

    SINGLE_SELECT = "SINGLE_SELECT"
    MULTI_SELECT = "MULTI_SELECT"
    TEXT = "TEXT"
    NUMBER = "NUMBER"
    LINK = "LINK"


class CustomField(Base):
    """An admin-defined field incidents can carry, such as *Affected teams*."""

    __tablename__ = "custom_fields"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[FieldKind]
    position: Mapped[int]
    options: Mapped[list[CustomFieldOption]] = relationship(
        order_by="CustomFieldOption.position", lazy="raise", cascade="all, delete-orphan"
    )


class CustomFieldOption(Base):
    """One choice of a single- or multi-select custom field."""

    __tablename__ = "custom_field_options"
    __table_args__ = (UniqueConstraint("field_id", "value"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    field_id: Mapped[int] = mapped_column(ForeignKey("custom_fields.id", ondelete="CASCADE"))
    value: Mapped[str] = mapped_column(String(100))
    position: Mapped[int]


incident_type_fields = Table(
    "incident_type_fields",
    Base.metadata,
    Column("type_id", ForeignKey("incident_types.id", ondelete="CASCADE"), primary_key=True),
    Column("field_id", ForeignKey("custom_fields.id", ondelete="CASCADE"), primary_key=True),
)


class IncidentType(Base):
    """A kind of incident, with the defaults it brings (privacy, practice, severity, fields)."""

    __tablename__ = "incident_types"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    private_by_default: Mapped[bool] = mapped_column(default=False)
    practice: Mapped[bool] = mapped_column(default=False)
    default_severity_id: Mapped[int | None] = mapped_column(
        ForeignKey("severities.id", ondelete="SET NULL")
    )
    position: Mapped[int]
    fields: Mapped[list[CustomField]] = relationship(
        secondary=incident_type_fields, order_by="CustomField.position", lazy="raise"
    )


class RoleKind(enum.Enum):
    """What the system knows about an incident role beyond its name."""

    REPORTER = "REPORTER"
    LEAD = "LEAD"
    COMMUNICATIONS = "COMMUNICATIONS"
    CUSTOM = "CUSTOM"


class IncidentRole(Base):
    """A role people take in an incident, with instructions for whoever takes it."""

    __tablename__ = "incident_roles"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)
    kind: Mapped[RoleKind]
    required: Mapped[bool] = mapped_column(default=False)
    description: Mapped[str] = mapped_column(Text, default="")
    instructions: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int]

    @property
    def assignable(self) -> bool:
        """Whether someone can be given it: every role but the reporter (whoever declared)."""
        return self.kind is not RoleKind.REPORTER

    @property
    def may_be_empty(self) -> bool:
        """Whether it can be left empty: not the reporter, and not a required role."""
        return self.assignable and not self.required

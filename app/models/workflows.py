"""Workflows: "when *trigger*, if *conditions*, then *steps*", configured by admins, and their
runs. Conditions and steps are stored as JSON in the shapes ``app.services.workflows`` checks
and reads; a run records the incident, the event that caused it, its outcome in plain words and
any error. ``WorkflowRun.cause`` is unique per workflow, so an event handled twice after a crash
starts no second run."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, BigId


class WorkflowTrigger(enum.Enum):
    """What starts a workflow."""

    INCIDENT_DECLARED = "INCIDENT_DECLARED"
    INCIDENT_ACCEPTED = "INCIDENT_ACCEPTED"
    STATUS_CHANGED = "STATUS_CHANGED"
    SEVERITY_CHANGED = "SEVERITY_CHANGED"
    UPDATE_SHARED = "UPDATE_SHARED"
    ROLE_ASSIGNED = "ROLE_ASSIGNED"
    CUSTOM_FIELD_CHANGED = "CUSTOM_FIELD_CHANGED"
    UPDATE_OVERDUE = "UPDATE_OVERDUE"
    INCIDENT_RESOLVED = "INCIDENT_RESOLVED"
    INCIDENT_CLOSED = "INCIDENT_CLOSED"


class Workflow(Base):
    """An admin's rule: when ``trigger`` happens to an incident matching ``conditions``, run
    ``steps`` in order (after ``delay_minutes``, re-checking the conditions then)."""

    __tablename__ = "workflows"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    trigger: Mapped[WorkflowTrigger]
    conditions: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    steps: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    once: Mapped[bool] = mapped_column(default=True)
    delay_minutes: Mapped[int] = mapped_column(default=0)
    include_private: Mapped[bool] = mapped_column(default=False)
    include_test: Mapped[bool] = mapped_column(default=False)
    enabled: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class RunState(enum.Enum):
    """Where a workflow run stands."""

    PENDING = "PENDING"
    DONE = "DONE"
    SKIPPED = "SKIPPED"
    FAILED = "FAILED"


class WorkflowRun(Base):
    """One run of a workflow for one incident, caused by one event."""

    __tablename__ = "workflow_runs"
    __table_args__ = (
        UniqueConstraint("workflow_id", "cause"),
        Index(None, "workflow_id", "id"),
        Index(None, "incident_id", "workflow_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    workflow_id: Mapped[int] = mapped_column(ForeignKey("workflows.id", ondelete="CASCADE"))
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    cause: Mapped[str] = mapped_column(String(200))
    state: Mapped[RunState] = mapped_column(default=RunState.PENDING)
    outcome: Mapped[str] = mapped_column(Text, default="")
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    run_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]

"""Durable work: jobs that outlive the process that queued them (emails, webhook deliveries,
workflow runs), the stored positions of the consumers that follow the event outbox, and the
nudges already sent. A job is taken under a lease (``leased_until``); a process killed while
holding one leaves it to be taken again when the lease runs out. ``key`` keeps a job from being
queued twice for one cause."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, BigId


class Job(Base):
    """One piece of work to do at ``run_at`` or later, by whichever process takes it first."""

    __tablename__ = "jobs"
    __table_args__ = (Index(None, "run_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    key: Mapped[str | None] = mapped_column(String(200), unique=True)
    run_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(default=0)
    leased_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]


class OutboxPosition(Base):
    """How far a consumer of the timeline (the outbox) has got: the last event id it handled."""

    __tablename__ = "outbox_positions"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    position: Mapped[int] = mapped_column(BigInteger, default=0)


class Nudge(Base):
    """A reminder already sent (an overdue update's round, a lead missing, a follow-up late),
    by its key, so each is sent once however many processes look."""

    __tablename__ = "nudges"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime]

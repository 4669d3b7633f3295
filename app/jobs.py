"""The durable job queue: work that must happen even if the process that queued it dies.

``enqueue`` writes a job inside the caller's transaction, so a job exists exactly when the change
that caused it committed; a ``key`` makes queueing the same cause twice a no-op. ``claim`` takes
due jobs under a lease (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so processes never take the
same job; SQLite has one writer), and the worker then ``finish``es a job (deleting it) or
``retry``s it later. A process killed mid-job leaves its lease to run out, and the job is taken
again: handlers make their effect idempotent (a unique key per notification, a stable
``webhook-id``), so doing a job twice never doubles what people receive.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

import httpx2
from sqlalchemy import case, delete, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import MailSettings
from app.db import Database
from app.models import Job

ERROR_LENGTH = 2000


@dataclasses.dataclass
class Outside:
    """What job handlers reach the outside world with: where Muster's pages are (for links),
    the mail server, the HTTP client for webhooks, and the key webhook secrets are sealed with."""

    base_url: str
    secret_key: str
    mail: MailSettings | None
    http: httpx2.AsyncClient
    webhook_allow_private: bool = False


class RetryLater(Exception):
    """Raised by a handler to run its job again after ``delay`` (by default ``backoff`` of the
    job's attempts so far), recording ``reason``."""

    def __init__(self, reason: str, delay: timedelta | None = None) -> None:
        super().__init__(reason)
        self.delay = delay


Handler = Callable[[Database, dict[str, Any], Outside], Awaitable[None]]


async def enqueue(
    session: AsyncSession,
    kind: str,
    payload: dict[str, Any],
    *,
    now: datetime,
    run_at: datetime | None = None,
    key: str | None = None,
) -> None:
    """Queue a job in the caller's transaction (nothing, if one with ``key`` is queued)."""
    if key is not None and await session.scalar(select(exists().where(Job.key == key))):
        return
    session.add(
        Job(kind=kind, payload=payload, key=key, run_at=run_at or now, attempts=0, created_at=now)
    )


async def claim(
    db: Database, *, limit: int, lease: timedelta, kinds: Sequence[str] | None = None
) -> list[Job]:
    """Lease up to ``limit`` due jobs (oldest first) to this process for ``lease``: longer than
    any job takes (its HTTP and SMTP time limits), since another process takes it after."""
    now = db.now()
    query = (
        select(Job)
        .where(Job.run_at <= now, or_(Job.leased_until.is_(None), Job.leased_until < now))
        .order_by(Job.run_at, Job.id)
        .limit(limit)
    )
    if kinds is not None:
        query = query.where(Job.kind.in_(kinds))
    async with db.read() as session:  # most looks find nothing: take no write lock for them
        if await session.scalar(query.with_only_columns(Job.id)) is None:
            return []
    async with db.write() as session:
        if not db.is_sqlite:
            query = query.with_for_update(skip_locked=True)
        jobs = list((await session.scalars(query)).all())
        for job in jobs:
            job.leased_until = now + lease
            job.attempts += 1
        return jobs


async def finish(db: Database, done: Sequence[Job]) -> None:
    """These jobs are done: they go (one statement for a round's worth)."""
    if done:
        async with db.write() as session:
            await session.execute(delete(Job).where(Job.id.in_([job.id for job in done])))


async def retry(db: Database, job: Job, *, error: str, delay: timedelta) -> None:
    """Run the job again after ``delay``, keeping why the last try failed."""
    async with db.write() as session:
        await session.execute(
            update(Job)
            .where(Job.id == job.id)
            .values(run_at=db.now() + delay, leased_until=None, last_error=error[:ERROR_LENGTH])
        )


def backoff(attempts: int, *, first: timedelta = timedelta(seconds=10)) -> timedelta:
    """The wait before try number ``attempts + 1``: ``first``, doubling, at most an hour."""
    wait: timedelta = first * 2 ** max(attempts - 1, 0)
    return min(wait, timedelta(hours=1))


async def next_due(db: Database) -> datetime | None:
    """When the soonest job falls due (None: the queue is empty)."""
    async with db.read() as session:
        return await session.scalar(select(Job.run_at).order_by(Job.run_at).limit(1))


@dataclasses.dataclass(frozen=True)
class Depth:
    """How much work waits: every queued job, those due now, and when the oldest fell due."""

    queued: int
    due: int
    oldest_due: datetime | None  # None: nothing is due


async def depth(db: Database) -> Depth:
    """The queue's ``Depth`` now, in one statement (for monitoring, ``views.metrics``)."""
    now = db.now()
    async with db.read() as session:
        queued, due, oldest = (
            await session.execute(
                select(
                    func.count(Job.id),
                    func.coalesce(func.sum(case((Job.run_at <= now, 1), else_=0)), 0),
                    func.min(Job.run_at),
                )
            )
        ).one()
    # The soonest run_at is the oldest due job's, when it is due at all.
    return Depth(queued, int(due), oldest if oldest is not None and oldest <= now else None)

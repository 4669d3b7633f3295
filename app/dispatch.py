"""The outbox consumer: what Muster does by itself when something happens.

``Dispatcher`` follows the timeline (the outbox) by id from a stored position
(``OutboxPosition`` named ``reactions``) and hands each batch of committed events to the
reactions (the default notifications, workflows, webhooks), all in ONE transaction that also moves
the position: an event's notifications, workflow runs and deliveries commit together with the
fact that it was handled, so a crash handles it again from the start and nothing is lost or made
twice. On PostgreSQL the position row is taken ``FOR UPDATE SKIP LOCKED``: one process dispatches
at a time and the others skip the round. An event a reaction keeps failing on is handled alone
and, if it still fails, skipped with the error logged, so one bad event never stops the rest.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Mapping, Sequence
from datetime import datetime
from typing import Protocol

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import Database
from app.models import Incident, OutboxPosition, TimelineEvent

log = logging.getLogger("muster.dispatch")

NAME = "reactions"
BATCH = 200


class Reaction(Protocol):
    """What one part of Muster does about a batch of events, in the dispatcher's transaction."""

    def __call__(
        self,
        session: AsyncSession,
        events: Sequence[TimelineEvent],
        incidents: Mapping[int, Incident],
        *,
        now: datetime,
    ) -> Awaitable[None]: ...


class Dispatcher:
    """Hands committed events to ``reactions``, each event once."""

    def __init__(self, db: Database, reactions: Sequence[Reaction]) -> None:
        self.db = db
        self.reactions = reactions

    async def run(self) -> bool:
        """Handle the next batch; whether there may be more (False: caught up, or another
        process is dispatching)."""
        try:
            return await self._handle(None)
        except Exception:
            log.exception("reacting to a batch of events failed; handling them one by one")
        while True:  # the batch again, one event per transaction, skipping what still fails
            try:
                if not await self._handle(1):
                    return False
            except Exception:
                skipped = await self._skip_one()
                log.exception("reacting to event %s failed; it was skipped", skipped)

    async def _pending(self) -> bool:
        """Whether events wait to be handled (a read: no write lock taken for nothing)."""
        async with self.db.read() as session:
            position = await session.get(OutboxPosition, NAME)
            after = 0 if position is None else position.position
            newer = select(TimelineEvent.id).where(TimelineEvent.id > after).limit(1)
            return position is None or await session.scalar(newer) is not None

    async def _handle(self, limit: int | None) -> bool:
        if not await self._pending():
            return False
        async with self.db.write() as session:
            position = await self._position(session)
            if position is None:
                return False
            events = (
                await session.scalars(
                    select(TimelineEvent)
                    .where(TimelineEvent.id > position.position)
                    .order_by(TimelineEvent.id)
                    .limit(limit or BATCH)
                )
            ).all()
            if not events:
                return False
            incident_ids = {event.incident_id for event in events}
            incidents = {
                row.id: row
                for row in await session.scalars(
                    select(Incident).where(Incident.id.in_(incident_ids))
                )
            }
            now = self.db.now()
            for reaction in self.reactions:
                await reaction(session, events, incidents, now=now)
            position.position = events[-1].id
            return len(events) == (limit or BATCH)

    async def _skip_one(self) -> int | None:
        async with self.db.write() as session:
            position = await self._position(session)
            if position is None:
                return None
            following = await session.scalar(
                select(func.min(TimelineEvent.id)).where(TimelineEvent.id > position.position)
            )
            if following is not None:
                position.position = following
            return following

    async def _position(self, session: AsyncSession) -> OutboxPosition | None:
        """The stored position, locked for this transaction (None: another process has it)."""
        query = select(OutboxPosition).where(OutboxPosition.name == NAME)
        if not self.db.is_sqlite:
            query = query.with_for_update(skip_locked=True)
        position = await session.scalar(query)
        if position is None and await session.get(OutboxPosition, NAME) is None:
            # Migration 0006 makes the row; without it, nothing is skipped: from the start.
            position = OutboxPosition(name=NAME, position=0)
            session.add(position)
            await session.flush()
        return position


async def handled_so_far(db: Database) -> None:
    """Treat every event committed so far as handled (the demo's made-up history)."""
    async with db.write() as session:
        newest = await session.scalar(select(func.max(TimelineEvent.id)))
        position = await session.get(OutboxPosition, NAME)
        if position is None:
            session.add(OutboxPosition(name=NAME, position=newest or 0))
        else:
            position.position = newest or 0

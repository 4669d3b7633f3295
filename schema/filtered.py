"""Live feeds narrowed by an ``IncidentFilter``: which events each one delivers, decided here.

A feed with a filter gets the events of incidents that match it after the event, and also the
event through which a matching incident stopped matching (closed, another severity), marked
``matches=False`` so a page can take its row away. The rules are the incident list's own
(``incident_queries.matching_ids``, its SQL conditions): there is no second copy of them.

Feeds with the same filter (in one process, on one database) share a ``FilterGroup``. It knows
which incidents matched as of the last event it decided, and decides events in id order, a range
at a time: one read of the events since then and one of which of their incidents match now, so
a batch of events costs two statements per filter, whoever and however many are watching. An
event older than what the group decided (a replay after a cursor) is decided by whether its
incident matches now; of an incident that does not, the last event is delivered as leaving
(unless it was declared meanwhile), which at worst takes away a row that was not there. Who
may see each event is the event hub's check, not this one's.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections import OrderedDict
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import Row, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import Database
from app.models import EventKind, TimelineEvent
from app.services.incident_queries import IncidentFilter, matching_ids

BATCH = 500  # events read at once
DECIDED = 4096  # recent decisions kept, for the group's other feeds


class FilterGroup:
    """The decisions for every feed of one filter: deliver an event (``True``), deliver it as
    its incident's leaving (``False``), or not at all (``None``)."""

    def __init__(self, db: Database, wanted: IncidentFilter) -> None:
        self.db = db
        self.wanted = wanted
        self.feeds = 0
        self.position = -1  # the newest event decided in order; -1 until ``start``
        self.members: set[int] = set()  # the incidents matching as of ``position``
        self.decided: OrderedDict[int, bool | None] = OrderedDict()
        self.lock = asyncio.Lock()

    async def start(self) -> None:
        """Know which incidents match now, if the group does not yet: before a feed starts."""
        async with self.lock:
            if self.position < 0:
                async with self.db.read() as session:
                    newest = await session.scalar(select(func.max(TimelineEvent.id)))
                    self.members = await matching_ids(session, self.wanted)
                self.position = int(newest or 0)

    async def decide(self, event: TimelineEvent) -> bool | None:
        async with self.lock:
            if event.id not in self.decided:
                if event.id > self.position:
                    await self._read_on(event.id)
                else:
                    await self._read_past(event.id)
            return self.decided.get(event.id)

    async def _read_on(self, until: int) -> None:
        """Decide every event after ``position`` up to ``until``, in order."""
        while self.position < until:
            async with self.db.read() as session:
                rows = await self._events(session, self.position, until)
                if not rows:
                    self.position = until
                    return
                matching = await matching_ids(
                    session, self.wanted, {row.incident_id for row in rows}
                )
            for row in rows:
                if row.incident_id in matching:
                    self._keep(row.id, True)
                else:
                    self._keep(row.id, False if row.incident_id in self.members else None)
            self.members = (self.members - {row.incident_id for row in rows}) | matching
            self.position = rows[-1].id if len(rows) == BATCH else until

    async def _read_past(self, since: int) -> None:
        """Decide events from ``since`` on that are no longer (or never were) in order: those of
        incidents matching now; of the others, only each one's last, as its leaving, unless it
        was declared meanwhile (then whoever missed these events never had it)."""
        async with self.db.read() as session:
            rows = await self._events(session, since - 1, self.position)
            matching = await matching_ids(session, self.wanted, {row.incident_id for row in rows})
        new = {row.incident_id for row in rows if row.kind is EventKind.DECLARED}
        last = {row.incident_id: row.id for row in rows}
        for row in rows:
            if row.incident_id in matching:
                self._keep(row.id, True)
            elif row.incident_id not in new and last[row.incident_id] == row.id:
                self._keep(row.id, False)
            else:
                self._keep(row.id, None)

    @staticmethod
    async def _events(
        session: AsyncSession, after: int, until: int
    ) -> Sequence[Row[int, int, EventKind]]:
        query = (
            select(TimelineEvent.id, TimelineEvent.incident_id, TimelineEvent.kind)
            .where(TimelineEvent.id > after, TimelineEvent.id <= until)
            .order_by(TimelineEvent.id)
            .limit(BATCH)
        )
        return (await session.execute(query)).all()

    def _keep(self, event_id: int, decision: bool | None) -> None:
        self.decided[event_id] = decision
        while len(self.decided) > DECIDED:
            self.decided.popitem(last=False)


_groups: dict[tuple[int, str], FilterGroup] = {}


@asynccontextmanager
async def group(db: Database, wanted: IncidentFilter) -> AsyncIterator[FilterGroup]:
    """The group of feeds with this filter on ``db``, for as long as a feed is in it."""
    key = (id(db), repr(_normal(wanted)))
    found = _groups.setdefault(key, FilterGroup(db, wanted))
    found.feeds += 1
    try:
        await found.start()
        yield found
    finally:
        found.feeds -= 1
        if found.feeds == 0 and _groups.get(key) is found:
            del _groups[key]


def _normal(wanted: IncidentFilter) -> tuple[Any, ...]:
    """A filter's parts, lists as sorted tuples: filters that match alike compare alike."""
    return tuple(
        tuple(sorted(value, key=str)) if isinstance(value, list | tuple) else value
        for value in (getattr(wanted, f.name) for f in dataclasses.fields(wanted))
    )

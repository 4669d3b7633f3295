"""The catalog (severities, statuses, incident types, incident roles, custom fields) kept in
process: every incident a request shows names its status, severity and type, and the catalog is
the same for everyone and changes only when admins configure it, so a process reads it whole
once and answers from memory after.

``kept(db)`` is the one copy for a database, made on first ask with its ``forget`` hung on
``db.on_touched[Touched.CATALOG]``: every write ``app.services.catalog`` makes is marked so,
and the copy is dropped at its commit here and, through the event hub's ``NOTIFY`` listener,
in every other process. Anything held longer than ``FRESH_FOR`` seconds is read again, for writes
no process hears of (another process writing the same SQLite file). ``current(session)`` reads
the catalog when none is held, in the asking request's own transaction (its snapshot, and the
connection it already holds: a cold copy never waits for one that requests hold), into a
session of its own, so the rows it keeps belong to no request; a reading that a forgetting
overtook serves its request but is not kept. Requests reading together while none is held each
read it, as every request did before. The same rows serve every request and viewer, which the
catalog allows: everyone sees all of it, and nothing writes to the rows kept.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Mapping, Sequence
from typing import TypeVar, cast

from sqlalchemy.ext.asyncio import AsyncSession

from app.db import Database, Touched
from app.models import Base, CustomField, IncidentRole, IncidentType, Severity, Status
from app.services import catalog

FRESH_FOR = 15.0  # seconds: held longer, the catalog is read again

M = TypeVar("M", bound=Base)


class Catalog:
    """The whole catalog as one transaction saw it, in the orders ``app.services.catalog``
    lists it, and each kind by id; incident types come with their fields, custom fields with
    their options."""

    def __init__(
        self,
        *,
        severities: Sequence[Severity],
        statuses: Sequence[Status],
        incident_types: Sequence[IncidentType],
        incident_roles: Sequence[IncidentRole],
        custom_fields: Sequence[CustomField],
    ) -> None:
        self.severities = severities
        self.statuses = statuses
        self.incident_types = incident_types
        self.incident_roles = incident_roles
        self.custom_fields = custom_fields
        self._by_id: dict[type[Base], Mapping[int, Base]] = {
            Severity: {row.id: row for row in severities},
            Status: {row.id: row for row in statuses},
            IncidentType: {row.id: row for row in incident_types},
            IncidentRole: {row.id: row for row in incident_roles},
            CustomField: {row.id: row for row in custom_fields},
        }

    def by_id(self, model: type[M]) -> Mapping[int, M]:
        """The rows of one kind (``Severity``, ``Status``, ...) by id."""
        return cast(Mapping[int, M], self._by_id[model])

    @classmethod
    async def read(cls, session: AsyncSession) -> Catalog:
        """The catalog as ``session``'s transaction sees it, in rows no session holds."""
        connection = await session.connection()
        async with AsyncSession(bind=connection, expire_on_commit=False) as own:
            return cls(
                severities=await catalog.list_severities(own),
                statuses=await catalog.list_statuses(own),
                incident_types=await catalog.list_incident_types(own),
                incident_roles=await catalog.list_incident_roles(own),
                custom_fields=await catalog.list_custom_fields(own),
            )


class CatalogCache:
    """One process's copy of the catalog, dropped by ``forget``."""

    def __init__(self) -> None:
        self._held: Catalog | None = None
        self._read_at = 0.0  # time.monotonic() when the held copy began to be read
        self._generation = 0  # moved on by ``forget``

    def forget(self, _reach: object = None) -> None:
        """Drop the copy: the catalog has changed (whoever the change concerns: everyone)."""
        self._generation += 1
        self._held = None

    async def current(self, session: AsyncSession) -> Catalog:
        """The catalog: the copy held, or read now in ``session``'s transaction."""
        held = self._held
        if held is not None and time.monotonic() - self._read_at <= FRESH_FOR:
            return held
        generation, started = self._generation, time.monotonic()
        read = await Catalog.read(session)
        if generation == self._generation:
            self._held, self._read_at = read, started
        return read


_kept: weakref.WeakKeyDictionary[Database, CatalogCache] = weakref.WeakKeyDictionary()


def kept(db: Database) -> CatalogCache:
    """The copy of the catalog kept for ``db`` in this process (made, and hung on
    ``db.on_touched[Touched.CATALOG]``, on first ask)."""
    cache = _kept.get(db)
    if cache is None:
        cache = _kept[db] = CatalogCache()
        db.on_touched[Touched.CATALOG].append(cache.forget)
    return cache

"""Data loaders: one query per relation per request, never one per row.

Each loader collects the keys asked for in one tick of the event loop and fetches them with a
single query in the request's read session. A request's ``Loaders`` also carry the viewer, so
the viewer-dependent ones (standing, following, visible incidents) answer for them. The
catalog's (severities, statuses, incident types and roles, custom fields) answer from the
process's copy of it (``app.catalog_cache``), which needs no query while it holds; a row added
since the copy was read is read as any other.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable, Hashable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased, selectinload
from strawberry.dataloader import DataLoader

from app import policy
from app.catalog_cache import CatalogCache
from app.models import (
    Action,
    ActionKind,
    CustomField,
    CustomFieldValue,
    Follower,
    Incident,
    IncidentRole,
    IncidentType,
    IncidentUpdate,
    Member,
    RoleAssignment,
    RoleKind,
    Severity,
    Status,
    TimelineEvent,
    User,
)
from app.services.incidents import reference_number

K = TypeVar("K", bound=Hashable)


class TimelineKey(NamedTuple):
    """One page of one incident's timeline: up to ``size`` events after event id ``after``
    (before it, newest first, when ``newest_first``)."""

    incident_id: int
    size: int
    after: int | None
    newest_first: bool = False


class TimelinePage(NamedTuple):
    events: list[TimelineEvent]
    has_more: bool
    total: int


T = TypeVar("T")
Fetch = Callable[[AsyncSession, list[K]], Awaitable[Mapping[K, T]]]
Reading = Callable[[], AbstractAsyncContextManager[AsyncSession]]


class Loaders:
    """The loaders of one request, made for one viewer, with the process's copy of the catalog
    (``catalog_cache.kept``; without one, a copy of the request's own)."""

    def __init__(self, reading: Reading, viewer: User, catalog: CatalogCache | None = None) -> None:
        self.reading = reading
        self.viewer = viewer
        self.catalog = catalog or CatalogCache()
        self.user: DataLoader[int, User | None] = self._by_id(User)
        self.severity: DataLoader[int, Severity] = self._cataloged(Severity)
        self.status: DataLoader[int, Status] = self._cataloged(Status)
        self.incident_type: DataLoader[int, IncidentType] = self._cataloged(
            IncidentType, selectinload(IncidentType.fields)
        )
        self.role: DataLoader[int, IncidentRole] = self._cataloged(IncidentRole)
        self.incident: DataLoader[int, Incident | None] = self._loader(
            self._visible_incidents, lambda: None
        )
        self.visible_reference: DataLoader[str, bool] = self._loader(
            self._visible_references, lambda: False
        )
        self.assignments: DataLoader[int, list[RoleAssignment]] = self._loader(
            self._assignments, list
        )
        self.holder: DataLoader[tuple[int, RoleKind], int | None] = self._loader(
            self._holders, lambda: None
        )
        self.latest_update: DataLoader[int, IncidentUpdate | None] = self._loader(
            self._latest_updates, lambda: None
        )
        self.updates: DataLoader[int, list[IncidentUpdate]] = self._loader(self._updates, list)
        self.work: DataLoader[tuple[int, ActionKind], list[Action]] = self._loader(self._work, list)
        self.field_values: DataLoader[int, list[CustomFieldValue]] = self._loader(
            self._field_values, list
        )
        self.custom_field: DataLoader[int, CustomField | None] = self._cataloged(
            CustomField, selectinload(CustomField.options)
        )
        self.standing: DataLoader[int, policy.Standing] = self._loader(
            self._standings, policy.Standing
        )
        self.members: DataLoader[int, list[User]] = self._loader(self._members, list)
        self.followed: DataLoader[int, bool] = self._loader(self._followed, lambda: False)
        self.follower_count: DataLoader[int, int] = self._loader(self._follower_counts, int)
        self.timeline: DataLoader[TimelineKey, TimelinePage] = self._loader(
            self._timelines, lambda: TimelinePage([], False, 0)
        )
        # The whole catalog of statuses, in lifecycle order, however many incidents ask.
        self.statuses: DataLoader[None, Sequence[Status]] = self._loader(self._statuses, list)

    def _loader(self, fetch: Fetch[K, T], default: Callable[[], T]) -> DataLoader[K, T]:
        async def load(keys: list[K]) -> list[T]:
            async with self.reading() as session:
                found = await fetch(session, keys)
            return [found[key] if key in found else default() for key in keys]

        return DataLoader(load_fn=load)

    def _by_id(self, model: Any, *options: Any) -> DataLoader[int, Any]:
        async def fetch(session: AsyncSession, keys: list[int]) -> dict[int, Any]:
            rows = await session.scalars(select(model).where(model.id.in_(keys)).options(*options))
            return {row.id: row for row in rows}

        return self._loader(fetch, lambda: None)

    def _cataloged(self, model: Any, *options: Any) -> DataLoader[int, Any]:
        """Catalog rows by id, from the catalog's copy; any it lacks (added since it was read,
        or missing) as ``_by_id`` reads them."""

        async def fetch(session: AsyncSession, keys: list[int]) -> dict[int, Any]:
            held = (await self.catalog.current(session)).by_id(model)
            found = {key: held[key] for key in keys if key in held}
            if len(found) < len(keys):
                missing = [key for key in keys if key not in found]
                query = select(model).where(model.id.in_(missing)).options(*options)
                found.update((row.id, row) for row in await session.scalars(query))
            return found

        return self._loader(fetch, lambda: None)

    async def _visible_incidents(
        self, session: AsyncSession, keys: list[int]
    ) -> dict[int, Incident]:
        query = select(Incident).where(Incident.id.in_(keys), policy.visible_incidents(self.viewer))
        return {row.id: row for row in await session.scalars(query)}

    async def _visible_references(self, session: AsyncSession, keys: list[str]) -> dict[str, bool]:
        """Whether the viewer may see the incident each ``INC-<n>`` names (events name them)."""
        numbers = {key: reference_number(key) for key in keys}
        query = select(Incident.number).where(
            Incident.number.in_({n for n in numbers.values() if n is not None}),
            policy.visible_incidents(self.viewer),
        )
        seen = set(await session.scalars(query))
        return {key: number in seen for key, number in numbers.items()}

    async def _assignments(
        self, session: AsyncSession, keys: list[int]
    ) -> dict[int, list[RoleAssignment]]:
        query = (
            select(RoleAssignment)
            .join(IncidentRole, IncidentRole.id == RoleAssignment.role_id)
            .where(RoleAssignment.incident_id.in_(keys))
            .order_by(IncidentRole.position, IncidentRole.id)
        )
        return _grouped(await session.scalars(query), lambda row: row.incident_id)

    async def _holders(
        self, session: AsyncSession, keys: list[tuple[int, RoleKind]]
    ) -> dict[tuple[int, RoleKind], int]:
        """Who holds a role of a kind (the lead, the reporter) on each incident, by user id;
        the people themselves are read along and handed to ``user``, which is asked next."""
        query = (
            select(RoleAssignment.incident_id, IncidentRole.kind, User)
            .join(IncidentRole, IncidentRole.id == RoleAssignment.role_id)
            .join(User, User.id == RoleAssignment.user_id)
            .where(
                RoleAssignment.incident_id.in_({incident for incident, _ in keys}),
                IncidentRole.kind.in_({kind for _, kind in keys}),
            )
        )
        holders: dict[tuple[int, RoleKind], int] = {}
        for incident, kind, user in await session.execute(query):
            self.user.prime(user.id, user)
            holders[(incident, kind)] = user.id
        return holders

    async def _latest_updates(
        self, session: AsyncSession, keys: list[int]
    ) -> dict[int, IncidentUpdate]:
        newest = (
            select(func.max(IncidentUpdate.id))
            .where(IncidentUpdate.incident_id.in_(keys))
            .group_by(IncidentUpdate.incident_id)
        )
        rows = await session.scalars(select(IncidentUpdate).where(IncidentUpdate.id.in_(newest)))
        return {row.incident_id: row for row in rows}

    async def _updates(
        self, session: AsyncSession, keys: list[int]
    ) -> dict[int, list[IncidentUpdate]]:
        query = (
            select(IncidentUpdate)
            .where(IncidentUpdate.incident_id.in_(keys))
            .order_by(IncidentUpdate.id.desc())
        )
        return _grouped(await session.scalars(query), lambda row: row.incident_id)

    async def _work(
        self, session: AsyncSession, keys: list[tuple[int, ActionKind]]
    ) -> dict[tuple[int, ActionKind], list[Action]]:
        query = (
            select(Action)
            .where(Action.incident_id.in_({incident for incident, _ in keys}))
            .order_by(Action.id)
        )
        return _grouped(await session.scalars(query), lambda row: (row.incident_id, row.kind))

    async def _field_values(
        self, session: AsyncSession, keys: list[int]
    ) -> dict[int, list[CustomFieldValue]]:
        query = (
            select(CustomFieldValue)
            .where(CustomFieldValue.incident_id.in_(keys))
            .order_by(CustomFieldValue.id)
        )
        return _grouped(await session.scalars(query), lambda row: row.incident_id)

    async def _standings(
        self, session: AsyncSession, keys: list[int]
    ) -> dict[int, policy.Standing]:
        me = self.viewer.id
        member_of = set(
            await session.scalars(
                select(Member.incident_id).where(Member.incident_id.in_(keys), Member.user_id == me)
            )
        )
        party_to = set(
            await session.scalars(
                select(RoleAssignment.incident_id).where(
                    RoleAssignment.incident_id.in_(keys), RoleAssignment.user_id == me
                )
            )
        )
        return {k: policy.Standing(member=k in member_of, party=k in party_to) for k in keys}

    async def _statuses(
        self, session: AsyncSession, keys: list[None]
    ) -> dict[None, Sequence[Status]]:
        return {None: (await self.catalog.current(session)).statuses}

    async def _members(self, session: AsyncSession, keys: list[int]) -> dict[int, list[User]]:
        query = (
            select(Member.incident_id, User)
            .join(User, User.id == Member.user_id)
            .where(Member.incident_id.in_(keys))
            .order_by(Member.added_at, User.id)
        )
        grouped: dict[int, list[User]] = defaultdict(list)
        for incident_id, user in await session.execute(query):
            grouped[incident_id].append(user)
        return grouped

    async def _timelines(
        self, session: AsyncSession, keys: list[TimelineKey]
    ) -> dict[TimelineKey, TimelinePage]:
        """A page of each incident's timeline: two statements per page shape, not per incident."""
        pages: dict[TimelineKey, TimelinePage] = {}
        shapes: dict[tuple[int, int | None, bool], list[TimelineKey]] = _grouped(
            keys, lambda key: (key.size, key.after, key.newest_first)
        )
        for (size, after, newest_first), group in shapes.items():
            incident_ids = [key.incident_id for key in group]
            counted = (
                select(TimelineEvent.incident_id, func.count())
                .where(TimelineEvent.incident_id.in_(incident_ids))
                .group_by(TimelineEvent.incident_id)
            )
            totals = {incident: total for incident, total in await session.execute(counted)}
            order = TimelineEvent.id.desc() if newest_first else TimelineEvent.id
            position = func.row_number().over(
                partition_by=TimelineEvent.incident_id, order_by=order
            )
            numbered = select(TimelineEvent, position.label("position")).where(
                TimelineEvent.incident_id.in_(incident_ids)
            )
            if after is not None:
                beyond = TimelineEvent.id < after if newest_first else TimelineEvent.id > after
                numbered = numbered.where(beyond)
            window = numbered.subquery()
            event = aliased(TimelineEvent, window)
            query = (
                select(event)
                .where(window.c.position <= size + 1)
                .order_by(window.c.id.desc() if newest_first else window.c.id)
            )
            events: dict[int, list[TimelineEvent]] = _grouped(
                await session.scalars(query), lambda row: row.incident_id
            )
            for key in group:
                found = events.get(key.incident_id, [])
                pages[key] = TimelinePage(
                    found[:size], len(found) > size, totals.get(key.incident_id, 0)
                )
        return pages

    async def _followed(self, session: AsyncSession, keys: list[int]) -> dict[int, bool]:
        query = select(Follower.incident_id).where(
            Follower.incident_id.in_(keys), Follower.user_id == self.viewer.id
        )
        return dict.fromkeys(await session.scalars(query), True)

    async def _follower_counts(self, session: AsyncSession, keys: list[int]) -> dict[int, int]:
        query = (
            select(Follower.incident_id, func.count())
            .where(Follower.incident_id.in_(keys))
            .group_by(Follower.incident_id)
        )
        return {incident: count for incident, count in await session.execute(query)}


def _grouped(rows: Sequence[T] | Any, key: Callable[[T], K]) -> dict[K, list[T]]:
    grouped: dict[K, list[T]] = defaultdict(list)
    for row in rows:
        grouped[key(row)].append(row)
    return grouped

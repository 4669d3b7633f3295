"""The public status page in the API: ``publicStatus``, what anyone may read without signing in
(the page's settings, the overall indicator and its sentence, public components by group with
their uptime, open incidents, upcoming maintenance, the paged history and one incident), drawn
from ``app.services.status_public``. The web layer runs it in process for the status pages, their
Statuspage-format JSON and the Atom feed, as a viewer who may see nothing. ``internal: true``
adds the internal-only components, for an active signed-in person only (anyone else is refused).
Its types are the page's own (``PublicStatus…``, with their own enums), so nothing of the signed-in
status API, and nothing of any internal incident, can be selected through it; ids are opaque
(kind ``StatusIncident`` and ``StatusComponent``), the history's cursor too.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

import strawberry
from strawberry.dataloader import DataLoader

from app.errors import Forbidden, Invalid, NotFound
from app.models import ComponentStatus, StatusIncidentKind, StatusIncidentState
from app.services import status_public
from schema import ids
from schema.context import Info
from schema.viewers import per_viewer

_HISTORY_CURSOR = "StatusHistory"


@strawberry.enum(description="Statuspage's overall indicator: how bad things are right now.")
class StatusIndicator(enum.Enum):
    NONE = "NONE"
    MINOR = "MINOR"
    MAJOR = "MAJOR"
    CRITICAL = "CRITICAL"


@strawberry.type(description="One UTC day of a component's uptime.")
class PublicUptimeDay:
    day: date
    fraction: float | None = strawberry.field(
        description="The share of the day it was up (maintenance counts as up); null before "
        "the component existed."
    )


UptimeKey = tuple[int, int]  # (component, days)


@strawberry.type(description="A component on the status page.")
class PublicStatusComponent:
    id: strawberry.ID
    name: str
    description: str
    status: ComponentStatus
    position: int
    group_name: str | None
    internal: bool = strawberry.field(description="Shown on the internal status page only.")
    created_at: datetime
    updated_at: datetime
    key: strawberry.Private[int]
    uptimes: strawberry.Private[DataLoader[UptimeKey, list[status_public.UptimeDay]]]

    @strawberry.field(description="Per UTC day, oldest first, today last (1 to 90 days).")
    async def uptime(self, days: int = status_public.MAX_DAYS) -> list[PublicUptimeDay]:
        if not 1 <= days <= status_public.MAX_DAYS:
            raise Invalid(f"days must be between 1 and {status_public.MAX_DAYS}.", field="days")
        found = await self.uptimes.load((self.key, days))
        return [PublicUptimeDay(day=d.day, fraction=d.fraction) for d in found]


@strawberry.type(description="Components of one group (name null: those in no group).")
class PublicStatusGroup:
    name: str | None
    components: list[PublicStatusComponent]


@strawberry.type(description="One message customers read on a status incident.")
class PublicStatusUpdate:
    id: strawberry.ID
    status: StatusIncidentState
    message: str
    created_at: datetime


@strawberry.type(description="A component a status incident affects, and how.")
class PublicAffectedComponent:
    id: strawberry.ID
    name: str
    status: ComponentStatus


@strawberry.type(description="A status incident or maintenance window as customers read it.")
class PublicStatusIncident:
    id: strawberry.ID
    kind: StatusIncidentKind
    title: str
    status: StatusIncidentState
    starts_at: datetime | None
    ends_at: datetime | None
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    updates: list[PublicStatusUpdate] = strawberry.field(description="Newest first.")
    components: list[PublicAffectedComponent]

    @classmethod
    def of(cls, row: status_public.Incident) -> PublicStatusIncident:
        return cls(
            id=ids.encode("StatusIncident", row.id),
            kind=row.kind,
            title=row.title,
            status=row.state,
            starts_at=row.starts_at,
            ends_at=row.ends_at,
            created_at=row.created_at,
            updated_at=row.updated_at,
            resolved_at=row.resolved_at,
            updates=[
                PublicStatusUpdate(
                    id=ids.encode("StatusUpdate", u.id),
                    status=u.state,
                    message=u.message,
                    created_at=u.created_at,
                )
                for u in row.updates
            ],
            components=[
                PublicAffectedComponent(
                    id=ids.encode("StatusComponent", a.component_id),
                    name=a.name,
                    status=a.status,
                )
                for a in row.components
            ],
        )


@strawberry.type(description="A page of past incidents and maintenance, newest first.")
class PublicStatusHistory:
    nodes: list[PublicStatusIncident]
    end_cursor: str | None = strawberry.field(description="Pass as `after` for the next page.")
    has_next_page: bool


@strawberry.type(description="The status page as a visitor reads it.")
class PublicStatusPage:
    title: str
    intro: str
    support_url: str | None
    logo_url: str | None
    indicator: StatusIndicator
    description: str = strawberry.field(description="The overall state in one sentence.")
    updated_at: datetime | None = strawberry.field(
        description="When anything on the page last changed."
    )
    groups: list[PublicStatusGroup]
    incidents: list[PublicStatusIncident] = strawberry.field(description="Open, newest first.")
    maintenance: list[PublicStatusIncident] = strawberry.field(
        description="Scheduled or in progress, soonest first."
    )
    internal_page: strawberry.Private[bool]

    @strawberry.field(description="Resolved incidents and completed maintenance, newest first.")
    async def history(
        self, info: Info, first: int = 20, after: str | None = None
    ) -> PublicStatusHistory:
        if not 1 <= first <= status_public.MAX_HISTORY_PAGE:
            raise Invalid(
                f"first must be between 1 and {status_public.MAX_HISTORY_PAGE}.", field="first"
            )
        before = None
        if after is not None:
            opened = ids.sealer().open(_HISTORY_CURSOR, after, 1)
            if opened is None:
                raise Invalid("That cursor is not one this server gave out.", field="after")
            before = opened[0]
        async with info.context.reading() as session:
            found, more = await status_public.history(
                session, first=first, after=before, internal=self.internal_page
            )
        return PublicStatusHistory(
            nodes=[PublicStatusIncident.of(row) for row in found],
            end_cursor=ids.sealer().seal(_HISTORY_CURSOR, (found[-1].id,)) if found else None,
            has_next_page=more,
        )

    @strawberry.field(description="One status incident or maintenance window, or null.")
    async def incident(self, info: Info, id: strawberry.ID) -> PublicStatusIncident | None:
        try:
            key = ids.decode("StatusIncident", id, field="id")
        except NotFound:
            return None
        async with info.context.reading() as session:
            found = await status_public.incident(session, key, internal=self.internal_page)
        return PublicStatusIncident.of(found) if found else None


def _latest(*moments: datetime | None) -> datetime | None:
    return max((m for m in moments if m is not None), default=None)


@strawberry.type
class PublicStatusQueries:
    @per_viewer(
        description="The status page, for anyone (no sign-in). `internal: true` adds the "
        "internal-only components, for signed-in people only."
    )
    async def public_status(self, info: Info, internal: bool = False) -> PublicStatusPage:
        viewer = info.context.viewer
        if internal and not (viewer.active and viewer.id):
            raise Forbidden("Sign in to see the internal status page.")
        reading = info.context.reading
        now = info.context.db.now()
        async with reading() as session:
            settings = await status_public.page_settings(session)
            listed = await status_public.components(session, internal=internal)
            open_incidents = await status_public.open_incidents(session, internal=internal)
            upcoming = await status_public.maintenance(session, internal=internal)

        async def uptimes(keys: list[UptimeKey]) -> list[list[status_public.UptimeDay]]:
            found: dict[UptimeKey, list[status_public.UptimeDay]] = {}
            async with reading() as session:
                for days in {d for _, d in keys}:
                    wanted = [key for key, d in keys if d == days]
                    got = await status_public.uptime(session, wanted, days=days, now=now)
                    found |= {(key, days): got.get(key, []) for key in wanted}
            return [found[key] for key in keys]

        loader: DataLoader[UptimeKey, list[status_public.UptimeDay]] = DataLoader(uptimes)
        overall = status_public.overall(listed, open_incidents)
        return PublicStatusPage(
            title=settings.title,
            intro=settings.intro,
            support_url=settings.support_url,
            logo_url=settings.logo_url,
            indicator=StatusIndicator[overall.indicator.name],
            description=overall.description,
            updated_at=_latest(
                settings.updated_at,
                *(c.updated_at for c in listed),
                *(i.updated_at for i in [*open_incidents, *upcoming]),
            ),
            groups=[
                PublicStatusGroup(
                    name=group.name,
                    components=[
                        PublicStatusComponent(
                            id=ids.encode("StatusComponent", c.id),
                            name=c.name,
                            description=c.description,
                            status=c.status,
                            position=c.position,
                            group_name=c.group_name,
                            internal=not c.public,
                            created_at=c.created_at,
                            updated_at=c.updated_at,
                            key=c.id,
                            uptimes=loader,
                        )
                        for c in group.components
                    ],
                )
                for group in status_public.groups(listed)
            ],
            incidents=[PublicStatusIncident.of(row) for row in open_incidents],
            maintenance=[PublicStatusIncident.of(row) for row in upcoming],
            internal_page=internal,
        )

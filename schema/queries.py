"""The Query root: the viewer, incidents one by one and as a filtered, paged list, the
organisation's configuration, people for pickers, and the viewer's API tokens.

A private incident the viewer may not see is absent everywhere here, exactly as if it had never
been declared: ``incident`` answers null, lists skip it and counts leave it out.
"""

from __future__ import annotations

import strawberry

from app.errors import NotFound
from app.models import IncidentMode, StatusCategory
from app.services import actions, catalog, incident_queries, incidents, tokens, users
from schema import ids
from schema.catalog import CustomField, IncidentRole, IncidentType, Severity, Status
from schema.context import Info
from schema.pagination import Edge, PageInfo, incident_cursor, incident_position, page_size
from schema.people import ApiToken, User
from schema.permissions import ViewerPermissions
from schema.types import Action, Incident
from schema.viewers import per_viewer, shared_by_audience


@strawberry.input(description="Narrow a list of incidents; every part left out matches all.")
class IncidentFilter:
    status_categories: list[StatusCategory] | None = None
    severity_ids: list[strawberry.ID] | None = None
    type_ids: list[strawberry.ID] | None = None
    modes: list[IncidentMode] | None = None
    private: bool | None = None
    lead_id: strawberry.ID | None = None
    reporter_id: strawberry.ID | None = None
    followed_by_me: bool = False
    held_by_me: bool = strawberry.field(
        default=False, description="Only incidents where you hold a role (reporter included)."
    )
    custom_field_option_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Only incidents with any of these custom field options."
    )
    search: str | None = strawberry.field(
        default=None, description="Words to find in names, summaries and updates."
    )

    def to_app(self, viewer_id: int) -> incident_queries.IncidentFilter:
        return incident_queries.IncidentFilter(
            categories=list(self.status_categories or []),
            severity_ids=ids.decode_all("Severity", self.severity_ids, field="severityIds"),
            type_ids=ids.decode_all("IncidentType", self.type_ids, field="typeIds"),
            modes=list(self.modes or []),
            private=self.private,
            lead_id=ids.decode_optional("User", self.lead_id, field="leadId"),
            reporter_id=ids.decode_optional("User", self.reporter_id, field="reporterId"),
            followed_by_id=viewer_id if self.followed_by_me else None,
            role_holder_id=viewer_id if self.held_by_me else None,
            option_ids=ids.decode_all(
                "CustomFieldOption", self.custom_field_option_ids, field="customFieldOptionIds"
            ),
            search=(self.search or "")[:500],
        )


@strawberry.type
class IncidentConnection:
    edges: list[Edge[Incident]]
    page_info: PageInfo
    filter: strawberry.Private[incident_queries.IncidentFilter]

    @shared_by_audience(
        "counts the incidents the viewer may see: the same for the same sight; a filter's "
        "followedByMe and heldByMe name the viewer (views.page_cache keys those per viewer)",
        description="How many incidents match, across all pages.",
    )
    async def total_count(self, info: Info) -> int:
        async with info.context.reading() as session:
            return await incident_queries.count_incidents(session, info.context.viewer, self.filter)


@strawberry.type
class Queries:
    @per_viewer(description="Who is asking.")
    def viewer(self, info: Info) -> User:
        return User.from_model(info.context.viewer)

    @per_viewer(
        description="What the viewer may do across the organisation: declare, configure, "
        "break glass (on one incident: Incident.viewerCan)."
    )
    def viewer_can(self, info: Info) -> ViewerPermissions:
        return ViewerPermissions.of(info.context.viewer)

    @shared_by_audience(
        "the incidents the viewer may see: the same for the same sight (policy.Sight)",
        description="One incident by id or by reference (INC-42); null if absent.",
    )
    async def incident(
        self, info: Info, id: strawberry.ID | None = None, reference: str | None = None
    ) -> Incident | None:
        viewer = info.context.viewer
        async with info.context.reading() as session:
            if id is not None:
                try:
                    key = ids.decode("Incident", id, field="id")
                except NotFound:
                    return None
                row = await incidents.find_incident(session, viewer, key)
            elif reference is not None:
                row = await incidents.find_incident_by_reference(session, viewer, reference)
            else:
                return None
        return None if row is None else Incident.from_model(row)

    @shared_by_audience(
        "the incidents the viewer may see: the same for the same sight; a filter's "
        "followedByMe and heldByMe name the viewer (views.page_cache keys those per viewer)",
        description="Incidents the viewer may see, newest first, in keyset pages.",
    )
    async def incidents(
        self,
        info: Info,
        first: int = 20,
        after: str | None = None,
        filter: IncidentFilter | None = None,
    ) -> IncidentConnection:
        size = page_size(first)
        position = incident_position(after)
        wanted = (filter or IncidentFilter()).to_app(info.context.viewer.id)
        async with info.context.reading() as session:
            rows, more = await incident_queries.list_incidents(
                session, info.context.viewer, wanted, first=size, after=position
            )
        edges = [
            Edge(cursor=incident_cursor(r.declared_at, r.id), node=Incident(row=r)) for r in rows
        ]
        return IncidentConnection(
            edges=edges,
            page_info=PageInfo(has_next_page=more, end_cursor=edges[-1].cursor if edges else None),
            filter=wanted,
        )

    @strawberry.field(description="Least severe first.")
    async def severities(self, info: Info) -> list[Severity]:
        async with info.context.reading() as session:
            return [Severity.from_model(row) for row in await catalog.list_severities(session)]

    @strawberry.field(
        description="In lifecycle order: triage, active, post-incident, closed, exits."
    )
    async def statuses(self, info: Info) -> list[Status]:
        async with info.context.reading() as session:
            return [Status.from_model(row) for row in await catalog.list_statuses(session)]

    @strawberry.field
    async def incident_types(self, info: Info) -> list[IncidentType]:
        async with info.context.reading() as session:
            return [IncidentType(row=row) for row in await catalog.list_incident_types(session)]

    @strawberry.field
    async def incident_roles(self, info: Info) -> list[IncidentRole]:
        async with info.context.reading() as session:
            return [
                IncidentRole.from_model(row) for row in await catalog.list_incident_roles(session)
            ]

    @strawberry.field
    async def custom_fields(self, info: Info) -> list[CustomField]:
        async with info.context.reading() as session:
            return [
                CustomField.from_model(row) for row in await catalog.list_custom_fields(session)
            ]

    @strawberry.field(description="People whose name or email contains the search, for pickers.")
    async def users(self, info: Info, search: str = "", first: int = 20) -> list[User]:
        async with info.context.reading() as session:
            rows = await users.list_users(session, search=search[:200], limit=page_size(first))
        return [User.from_model(row) for row in rows]

    @per_viewer(description="Your open actions and follow-ups, soonest due first (at most 100).")
    async def my_open_actions(self, info: Info) -> list[Action]:
        async with info.context.reading() as session:
            rows = await actions.open_work(session, info.context.viewer)
        return [Action(row=row) for row in rows]

    @per_viewer(
        description="API tokens, newest first: your own, or (admins only) another person's."
    )
    async def api_tokens(self, info: Info, user_id: strawberry.ID | None = None) -> list[ApiToken]:
        owner = ids.decode_optional("User", user_id, field="userId")
        async with info.context.reading() as session:
            rows = await tokens.list_tokens(session, actor=info.context.viewer, user_id=owner)
        return [ApiToken.from_model(row) for row in rows]

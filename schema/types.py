"""The GraphQL types of incidents and what belongs to them: role assignments, updates, actions,
custom field values and the timeline, each built from its model with ``from_model``.

Fields that reach other rows go through the request's loaders, so a page of incidents costs a
fixed number of queries whatever its size. Viewer-dependent fields are declared with
``schema.viewers.per_viewer`` (``followedByMe``, ``viewerCanEdit``, ``viewerCan``,
``nextStatuses``, ``mergedInto``, whose target the viewer may not see): a live feed selecting one
is executed per viewer. So is every event that names another incident
(``TimelineEvent.audience``): its ``summary`` names that incident only to viewers who may see it.
Ids and cursors are sealed (``schema.ids``). The catalog's types are in ``schema/catalog.py``,
people's in ``schema/people.py``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from app import lifecycle, models, policy, timeline
from app.models import ActionKind, ActionStatus, EventKind, IncidentMode, RoleKind
from schema import ids
from schema.catalog import (
    CustomField,
    CustomFieldOption,
    IncidentRole,
    IncidentType,
    Severity,
    Status,
)
from schema.context import Info
from schema.loaders import TimelineKey
from schema.pagination import Edge, PageInfo, event_cursor, event_position, page_size
from schema.people import User
from schema.permissions import IncidentPermissions
from schema.viewers import by_sight, per_viewer, shared_by_audience

if TYPE_CHECKING:
    from schema.status_page import StatusIncidentType


async def _user(info: Info, user_id: int | None) -> User | None:
    if user_id is None:
        return None
    row = await info.context.loaders.user.load(user_id)
    return None if row is None else User.from_model(row)


@strawberry.type
class RoleAssignment:
    row: strawberry.Private[models.RoleAssignment]

    @strawberry.field
    async def role(self, info: Info) -> IncidentRole:
        return IncidentRole.from_model(await info.context.loaders.role.load(self.row.role_id))

    @strawberry.field
    async def user(self, info: Info) -> User:
        user = await _user(info, self.row.user_id)
        assert user is not None
        return user

    @strawberry.field
    def assigned_at(self) -> datetime:
        return self.row.assigned_at


@strawberry.type
class IncidentUpdate:
    row: strawberry.Private[models.IncidentUpdate]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return ids.encode("IncidentUpdate", self.row.id)

    @strawberry.field
    def message(self) -> str:
        return self.row.message

    @strawberry.field
    async def author(self, info: Info) -> User | None:
        return await _user(info, self.row.author_id)

    @strawberry.field(description="The status this update moved the incident to, if it did.")
    async def status(self, info: Info) -> Status | None:
        if self.row.status_id is None:
            return None
        return Status.from_model(await info.context.loaders.status.load(self.row.status_id))

    @strawberry.field(description="The severity this update set, if it changed it.")
    async def severity(self, info: Info) -> Severity | None:
        if self.row.severity_id is None:
            return None
        return Severity.from_model(await info.context.loaders.severity.load(self.row.severity_id))

    @strawberry.field
    def next_update_in_minutes(self) -> int | None:
        return self.row.next_update_in_minutes

    @strawberry.field
    def created_at(self) -> datetime:
        return self.row.created_at


@strawberry.type
class Action:
    """An action (during the incident) or a follow-up (after it)."""

    row: strawberry.Private[models.Action]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return ids.encode("Action", self.row.id)

    @strawberry.field
    def title(self) -> str:
        return self.row.title

    @strawberry.field
    def status(self) -> ActionStatus:
        return self.row.status

    @strawberry.field
    def follow_up(self) -> bool:
        return self.row.kind is ActionKind.FOLLOW_UP

    @strawberry.field
    async def owner(self, info: Info) -> User | None:
        return await _user(info, self.row.owner_id)

    @strawberry.field
    def due_on(self) -> date | None:
        return self.row.due_on

    @strawberry.field
    def created_at(self) -> datetime:
        return self.row.created_at

    @strawberry.field
    def completed_at(self) -> datetime | None:
        return self.row.completed_at

    @shared_by_audience("its own incident: a feed reaches an action only through it")
    async def incident(self, info: Info) -> Incident | None:
        row = await info.context.loaders.incident.load(self.row.incident_id)
        return None if row is None else Incident(row=row)


@strawberry.type
class CustomFieldValue:
    """A custom field's value on one incident; which of the value fields is set follows the kind."""

    field: CustomField
    options: list[CustomFieldOption]
    text: str | None
    number: float | None


@strawberry.type
class TimelineEvent:
    row: strawberry.Private[models.TimelineEvent]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return ids.encode("TimelineEvent", self.row.id)

    def audience(self, viewer: models.User) -> int | None:
        """Whose live feeds may share this event's execution: anyone's (None), or only this
        viewer's when the event names another incident, since who may see that one differs."""
        return None if timeline.names_incident(self.row) is None else viewer.id

    def live_key(self, viewer: models.User) -> tuple[Any, ...]:
        """What tells this event's live results apart (``schema.live``): the event, and whom
        its execution may be shared with."""
        return (self.row.id, self.audience(viewer))

    def live_extensions(self) -> dict[str, Any]:
        """The extensions of this event's live result: its cursor, to resume after it."""
        return {"cursor": event_cursor(self.row.id)}

    @strawberry.field(description="Resume a timeline or a live feed after this event.")
    def cursor(self) -> str:
        return event_cursor(self.row.id)

    @strawberry.field
    def kind(self) -> EventKind:
        return self.row.kind

    @strawberry.field
    def occurred_at(self) -> datetime:
        return self.row.occurred_at

    @strawberry.field
    async def actor(self, info: Info) -> User | None:
        return await _user(info, self.row.actor_id)

    @shared_by_audience(
        "an event naming another incident is executed per viewer (TimelineEvent.audience)",
        description="What happened, in one plain sentence. Depends on the viewer when the "
        "event names another incident (a merge): one they may not see is not named.",
    )
    async def summary(self, info: Info) -> str:
        named = timeline.names_incident(self.row)
        visible = named is None or await info.context.loaders.visible_reference.load(named)
        return timeline.describe(self.row, named_visible=visible)

    @shared_by_audience("the event's own incident: the hub delivers it only to who may see it")
    async def incident(self, info: Info) -> Incident | None:
        row = await info.context.loaders.incident.load(self.row.incident_id)
        return None if row is None else Incident(row=row)


@strawberry.type
class TimelineConnection:
    edges: list[Edge[TimelineEvent]]
    page_info: PageInfo
    total_count: int


@strawberry.type
class Incident:
    row: strawberry.Private[models.Incident]

    @classmethod
    def from_model(cls, row: models.Incident) -> Incident:
        return cls(row=row)

    @strawberry.field
    def id(self) -> strawberry.ID:
        return ids.encode("Incident", self.row.id)

    @strawberry.field(description="INC-<n>: the number people use to talk about it.")
    def reference(self) -> str:
        return self.row.reference

    @strawberry.field
    def name(self) -> str:
        return self.row.name

    @strawberry.field
    def summary(self) -> str:
        return self.row.summary

    @strawberry.field
    async def status(self, info: Info) -> Status:
        return Status.from_model(await info.context.loaders.status.load(self.row.status_id))

    @strawberry.field
    async def severity(self, info: Info) -> Severity:
        return Severity.from_model(await info.context.loaders.severity.load(self.row.severity_id))

    @strawberry.field
    async def type(self, info: Info) -> IncidentType:
        row = await info.context.loaders.incident_type.load(self.row.type_id)
        return IncidentType(row=row)

    @strawberry.field
    def mode(self) -> IncidentMode:
        return self.row.mode

    @strawberry.field
    def private(self) -> bool:
        return self.row.private

    @strawberry.field(description="Pass it back as expectedVersion to refuse stale edits.")
    def version(self) -> int:
        return self.row.version

    @strawberry.field
    def declared_at(self) -> datetime:
        return self.row.declared_at

    @strawberry.field
    def accepted_at(self) -> datetime | None:
        return self.row.accepted_at

    @strawberry.field
    def updated_at(self) -> datetime:
        return self.row.updated_at

    @strawberry.field
    def resolved_at(self) -> datetime | None:
        return self.row.resolved_at

    @strawberry.field
    def closed_at(self) -> datetime | None:
        return self.row.closed_at

    @strawberry.field(description="When the next update was promised; in the past if overdue.")
    def next_update_due_at(self) -> datetime | None:
        return self.row.next_update_due_at

    @by_sight(description="Null when the viewer may not see the incident it was merged into.")
    async def merged_into(self, info: Info) -> Incident | None:
        if self.row.merged_into_id is None:
            return None
        row = await info.context.loaders.incident.load(self.row.merged_into_id)
        return None if row is None else Incident(row=row)

    async def _holder(self, info: Info, kind: RoleKind) -> User | None:
        user_id = await info.context.loaders.holder.load((self.row.id, kind))
        return await _user(info, user_id)

    @strawberry.field
    async def reporter(self, info: Info) -> User | None:
        return await self._holder(info, RoleKind.REPORTER)

    @strawberry.field
    async def lead(self, info: Info) -> User | None:
        return await self._holder(info, RoleKind.LEAD)

    @strawberry.field
    async def role_assignments(self, info: Info) -> list[RoleAssignment]:
        rows = await info.context.loaders.assignments.load(self.row.id)
        return [RoleAssignment(row=row) for row in rows]

    @strawberry.field
    async def latest_update(self, info: Info) -> IncidentUpdate | None:
        row = await info.context.loaders.latest_update.load(self.row.id)
        return None if row is None else IncidentUpdate(row=row)

    @strawberry.field(description="Newest first.")
    async def updates(self, info: Info) -> list[IncidentUpdate]:
        rows = await info.context.loaders.updates.load(self.row.id)
        return [IncidentUpdate(row=row) for row in rows]

    @strawberry.field(
        description="Oldest first: the incident's history as it happened. With `newestFirst`, "
        "newest first, and `after` a cursor pages to older events."
    )
    async def timeline(
        self, info: Info, first: int = 50, after: str | None = None, newest_first: bool = False
    ) -> TimelineConnection:
        key = TimelineKey(self.row.id, page_size(first), event_position(after), newest_first)
        page = await info.context.loaders.timeline.load(key)
        edges = [Edge(cursor=event_cursor(e.id), node=TimelineEvent(row=e)) for e in page.events]
        return TimelineConnection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=page.has_more, end_cursor=edges[-1].cursor if edges else None
            ),
            total_count=page.total,
        )

    @strawberry.field
    async def actions(self, info: Info) -> list[Action]:
        rows = await info.context.loaders.work.load((self.row.id, ActionKind.ACTION))
        return [Action(row=row) for row in rows]

    @strawberry.field
    async def follow_ups(self, info: Info) -> list[Action]:
        rows = await info.context.loaders.work.load((self.row.id, ActionKind.FOLLOW_UP))
        return [Action(row=row) for row in rows]

    @strawberry.field
    async def custom_field_values(self, info: Info) -> list[CustomFieldValue]:
        rows = await info.context.loaders.field_values.load(self.row.id)
        by_field: dict[int, list[models.CustomFieldValue]] = {}
        for row in rows:
            by_field.setdefault(row.field_id, []).append(row)
        loaded = await info.context.loaders.custom_field.load_many(list(by_field))
        values = []
        for field in sorted((f for f in loaded if f is not None), key=lambda f: f.position):
            chosen = by_field[field.id]
            options = {option.id: option for option in field.options}
            values.append(
                CustomFieldValue(
                    field=CustomField.from_model(field),
                    options=[
                        CustomFieldOption.from_model(options[row.option_id])
                        for row in chosen
                        if row.option_id in options
                    ],
                    text=chosen[0].text_value,
                    number=chosen[0].number_value,
                )
            )
        return values

    @per_viewer(description="Depends on the viewer.")
    async def followed_by_me(self, info: Info) -> bool:
        return await info.context.loaders.followed.load(self.row.id)

    @strawberry.field(description="How many people follow this incident.")
    async def follower_count(self, info: Info) -> int:
        return await info.context.loaders.follower_count.load(self.row.id)

    @per_viewer(description="Depends on the viewer.")
    async def viewer_can_edit(self, info: Info) -> bool:
        standing = await info.context.loaders.standing.load(self.row.id)
        return policy.can_edit(info.context.viewer, self.row, standing)

    @per_viewer(description="What the viewer may do on this incident.")
    async def viewer_can(self, info: Info) -> IncidentPermissions:
        standing = await info.context.loaders.standing.load(self.row.id)
        status = await info.context.loaders.status.load(self.row.status_id)
        triage = status.category is models.StatusCategory.TRIAGE
        comms = await info.context.loaders.holder.load((self.row.id, RoleKind.COMMUNICATIONS))
        held = comms is not None and comms == info.context.viewer.id
        return IncidentPermissions.of(info.context.viewer, self.row, standing, triage, held)

    @per_viewer(
        description="The statuses the viewer may move it to now: the state machine's answer "
        "for those who may edit it, none for everyone else."
    )
    async def next_statuses(self, info: Info) -> list[Status]:
        standing = await info.context.loaders.standing.load(self.row.id)
        if not policy.can_edit(info.context.viewer, self.row, standing):
            return []
        current = await info.context.loaders.status.load(self.row.status_id)
        statuses = await info.context.loaders.statuses.load(None)
        return [Status.from_model(s) for s in lifecycle.next_statuses(current, statuses)]

    @strawberry.field(description="What customers read about it on the status page now.")
    async def status_incident(
        self, info: Info
    ) -> Annotated[StatusIncidentType, strawberry.lazy("schema.status_page")] | None:
        from schema.status_page import for_incident

        return await for_incident(info, self.row.id)

    @strawberry.field(description="Who is let into this incident (for private incidents).")
    async def members(self, info: Info) -> list[User]:
        rows = await info.context.loaders.members.load(self.row.id)
        return [User.from_model(row) for row in rows]

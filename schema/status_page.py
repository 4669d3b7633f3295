"""The status page in the signed-in API: ``StatusComponent`` and ``StatusIncident`` (with its
updates and affected components), the ``statusComponents``, ``statusIncidents`` and
``statusIncident(id)`` reads, ``Incident.statusIncident`` (what customers read about an incident
now), and the mutations ``createStatusComponent`` / ``updateStatusComponent`` (admins; a status
alone, publishers), ``publishStatusIncident``, ``postStatusUpdate`` and ``scheduleMaintenance``
(publishers: ``policy.can_publish_status``), all over ``app.services.status_page`` (and its
``status_components`` and ``status_maintenance``).

Signed-in people read every component, internal-only ones too (anyone else only the public
ones). ``StatusIncident.incident``, the link to the internal incident, goes through the viewer's
incident loader, so it is null for a viewer who may not see that incident (``per_viewer``). The
enums ``ComponentStatus``, ``StatusIncidentState`` and ``StatusIncidentKind`` are registered here
with the types that use them; ``StatusIncidentStatus`` is the four states a publisher may choose.
Ids are opaque, of kinds ``StatusComponent``, ``StatusIncident`` and ``StatusUpdate``.
"""

from __future__ import annotations

import enum
import weakref
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.dataloader import DataLoader

from app import models
from app.models import ComponentStatus, StatusIncidentKind, StatusIncidentState, User
from app.services import status_components, status_maintenance, status_page
from schema import ids
from schema.context import Info
from schema.errors import UserError
from schema.loaders import Loaders
from schema.payloads import mutation
from schema.viewers import per_viewer, shared_by_audience

if TYPE_CHECKING:
    from schema.types import Incident


@strawberry.enum(description="The states a publisher moves a status incident to.")
class StatusIncidentStatus(enum.Enum):
    INVESTIGATING = "INVESTIGATING"
    IDENTIFIED = "IDENTIFIED"
    MONITORING = "MONITORING"
    RESOLVED = "RESOLVED"

    @property
    def state(self) -> StatusIncidentState:
        return StatusIncidentState[self.name]


@strawberry.type(
    name="StatusComponent",
    description="Something customers depend on, with its status on the status page.",
)
class StatusComponentType:
    id: strawberry.ID
    name: str
    description: str
    group_name: str | None
    public: bool = strawberry.field(description="False: shown on the internal status page only.")
    status: ComponentStatus
    position: int

    @classmethod
    def from_model(cls, row: models.StatusComponent) -> StatusComponentType:
        return cls(
            id=ids.encode("StatusComponent", row.id),
            name=row.name,
            description=row.description,
            group_name=row.group_name,
            public=row.public,
            status=row.status,
            position=row.position,
        )


@strawberry.type(name="StatusUpdate", description="One message customers read.")
class StatusUpdateType:
    id: strawberry.ID
    state: StatusIncidentState
    message: str
    created_at: datetime

    @classmethod
    def from_model(cls, row: models.StatusUpdate) -> StatusUpdateType:
        return cls(
            id=ids.encode("StatusUpdate", row.id),
            state=row.state,
            message=row.message,
            created_at=row.created_at,
        )


@strawberry.type(description="A component a status incident affects, and how.")
class StatusAffectedComponent:
    component: StatusComponentType
    status: ComponentStatus


@strawberry.type(
    name="StatusIncident",
    description="What customers read about an incident or a maintenance window.",
)
class StatusIncidentType:
    view: strawberry.Private[status_page.StatusIncidentView]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return ids.encode("StatusIncident", self.view.row.id)

    @strawberry.field
    def title(self) -> str:
        return self.view.row.title

    @strawberry.field
    def state(self) -> StatusIncidentState:
        return self.view.row.state

    @strawberry.field
    def kind(self) -> StatusIncidentKind:
        return self.view.row.kind

    @strawberry.field(description="Maintenance: when the window starts.")
    def starts_at(self) -> datetime | None:
        return self.view.row.starts_at

    @strawberry.field(description="Maintenance: when the window ends.")
    def ends_at(self) -> datetime | None:
        return self.view.row.ends_at

    @strawberry.field
    def created_at(self) -> datetime:
        return self.view.row.created_at

    @strawberry.field(description="When it was resolved (maintenance: completed).")
    def resolved_at(self) -> datetime | None:
        return self.view.row.resolved_at

    @strawberry.field(description="Its updates, newest first.")
    def updates(self) -> list[StatusUpdateType]:
        return [StatusUpdateType.from_model(row) for row in self.view.updates]

    @strawberry.field
    def affected(self) -> list[StatusAffectedComponent]:
        return [
            StatusAffectedComponent(
                component=StatusComponentType.from_model(link.component), status=link.status
            )
            for link in self.view.affected
        ]

    @per_viewer(
        description="The internal incident it is about: null for viewers who may not see it."
    )
    async def incident(
        self, info: Info
    ) -> Annotated[Incident, strawberry.lazy("schema.types")] | None:
        from schema.types import Incident

        if self.view.row.incident_id is None:
            return None
        row = await info.context.loaders.incident.load(self.view.row.incident_id)
        return None if row is None else Incident.from_model(row)


# What customers read about each incident: one loader per request's loaders.
_for_incident: weakref.WeakKeyDictionary[
    Loaders, DataLoader[int, status_page.StatusIncidentView | None]
] = weakref.WeakKeyDictionary()


async def for_incident(info: Info, incident_id: int) -> StatusIncidentType | None:
    """What customers read about the incident (which the viewer sees), batched per request."""
    loaders = info.context.loaders
    loader = _for_incident.get(loaders)
    if loader is None:

        async def load(keys: list[int]) -> list[status_page.StatusIncidentView | None]:
            async with info.context.reading() as session:
                found = await status_page.status_for_incidents(session, keys)
            return [found.get(key) for key in keys]

        loader = _for_incident[loaders] = DataLoader(load_fn=load)
    view = await loader.load(incident_id)
    return None if view is None else StatusIncidentType(view=view)


def _public_only(viewer: User) -> bool:
    return not viewer.active


ACTIVE_ONLY = "answers by whether the viewer is active, which is part of the sight (policy.Sight)"


@strawberry.type
class StatusPageQueries:
    @shared_by_audience(
        ACTIVE_ONLY,
        description="Every status page component in page order (internal-only ones too, for "
        "signed-in people).",
    )
    async def status_components(self, info: Info) -> list[StatusComponentType]:
        async with info.context.reading() as session:
            rows = await status_components.list_components(
                session, public_only=_public_only(info.context.viewer)
            )
        return [StatusComponentType.from_model(row) for row in rows]

    @shared_by_audience(
        ACTIVE_ONLY,
        description="Status incidents and maintenance, newest first (at most 100); openOnly: "
        "those not resolved or completed.",
    )
    async def status_incidents(
        self, info: Info, first: int = 20, open_only: bool = False
    ) -> list[StatusIncidentType]:
        async with info.context.reading() as session:
            found = await status_page.list_status_incidents(
                session,
                public_only=_public_only(info.context.viewer),
                first=first,
                open_only=open_only,
            )
        return [StatusIncidentType(view=view) for view in found]

    @shared_by_audience(ACTIVE_ONLY, description="One status incident (null: there is none).")
    async def status_incident(self, info: Info, id: strawberry.ID) -> StatusIncidentType | None:
        key = ids.decode("StatusIncident", id, field="id")
        async with info.context.reading() as session:
            view = await status_page.get_status_incident(
                session, key, public_only=_public_only(info.context.viewer)
            )
        return None if view is None else StatusIncidentType(view=view)


@strawberry.input
class CreateStatusComponentInput:
    name: str
    description: str = ""
    group_name: str | None = None
    public: bool = True


@strawberry.input
class UpdateStatusComponentInput:
    component_id: strawberry.ID
    name: str | None = None
    description: str | None = None
    group_name: str | None = strawberry.field(
        default=strawberry.UNSET, description="Left out: unchanged; null: in no group."
    )
    public: bool | None = None
    status: ComponentStatus | None = strawberry.field(
        default=None, description="Set directly (responders and admins)."
    )
    position: int | None = None

    def component(self) -> int:
        return ids.decode("StatusComponent", self.component_id, field="componentId")


@strawberry.input
class StatusAffectedInput:
    component_id: strawberry.ID
    status: ComponentStatus

    def component(self) -> int:
        # a bad id is put down to the list it stands in (``affected``, in both inputs)
        return ids.decode("StatusComponent", self.component_id, field="affected")


def _affected(values: list[StatusAffectedInput]) -> list[tuple[int, ComponentStatus]]:
    if len(values) > status_page.MOST_AFFECTED:
        values = values[: status_page.MOST_AFFECTED + 1]  # the service refuses it, by name
    return [(given.component(), given.status) for given in values]


@strawberry.input
class PublishStatusIncidentInput:
    incident_id: strawberry.ID | None = strawberry.field(
        default=None, description="The internal incident it is about (customers never see it)."
    )
    title: str
    message: str
    status: StatusIncidentStatus = StatusIncidentStatus.INVESTIGATING
    affected: list[StatusAffectedInput] = strawberry.field(default_factory=list)

    def incident(self) -> int | None:
        return ids.decode_optional("Incident", self.incident_id, field="incidentId")

    def affected_components(self) -> list[tuple[int, ComponentStatus]]:
        return _affected(self.affected)


@strawberry.input
class PostStatusUpdateInput:
    status_incident_id: strawberry.ID
    status: StatusIncidentStatus | None = strawberry.field(
        default=None, description="Left out: the status incident stays in its state."
    )
    message: str
    affected: list[StatusAffectedInput] | None = strawberry.field(
        default=None, description="Left out: unchanged; given: replaces the affected components."
    )

    def status_incident(self) -> int:
        return ids.decode("StatusIncident", self.status_incident_id, field="statusIncidentId")

    def affected_components(self) -> list[tuple[int, ComponentStatus]] | None:
        """The components it now affects, or None when ``affected`` was left out."""
        return None if self.affected is None else _affected(self.affected)


@strawberry.input
class ScheduleMaintenanceInput:
    title: str
    message: str
    starts_at: datetime
    ends_at: datetime
    component_ids: list[strawberry.ID]
    incident_id: strawberry.ID | None = None

    def components(self) -> list[int]:
        values = self.component_ids[: status_page.MOST_AFFECTED + 1]  # more: refused, by name
        return ids.decode_all("StatusComponent", values, field="componentIds")

    def incident(self) -> int | None:
        return ids.decode_optional("Incident", self.incident_id, field="incidentId")


@strawberry.type
class StatusComponentPayload:
    component: StatusComponentType | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class StatusIncidentPayload:
    status_incident: StatusIncidentType | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class StatusUpdatePayload:
    update: StatusUpdateType | None = None
    status_incident: StatusIncidentType | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


async def _read(info: Info, status_incident_id: int) -> StatusIncidentType:
    async with info.context.reading() as session:
        view = await status_page.get_status_incident(session, status_incident_id, public_only=False)
    assert view is not None
    return StatusIncidentType(view=view)


@strawberry.type
class StatusPageMutations:
    @mutation(StatusComponentPayload, description="Admins: add a status page component.")
    async def create_status_component(
        info: Info, input: CreateStatusComponentInput, actor: User
    ) -> StatusComponentPayload:
        row = await status_components.create_component(
            info.context.db,
            actor=actor,
            name=input.name,
            description=input.description,
            group_name=input.group_name,
            public=input.public,
        )
        return StatusComponentPayload(component=StatusComponentType.from_model(row))

    @mutation(
        StatusComponentPayload,
        description="Change a component: its settings (admins) or its status (responders too).",
    )
    async def update_status_component(
        info: Info, input: UpdateStatusComponentInput, actor: User
    ) -> StatusComponentPayload:
        group = input.group_name
        row = await status_components.update_component(
            info.context.db,
            actor=actor,
            component_id=input.component(),
            name=input.name,
            description=input.description,
            group_name=None if group is strawberry.UNSET else group,
            clear_group=group is None,
            public=input.public,
            status=input.status,
            position=input.position,
        )
        return StatusComponentPayload(component=StatusComponentType.from_model(row))

    @mutation(
        StatusIncidentPayload,
        description="Tell customers about an incident, in your own words, on the status page.",
    )
    async def publish_status_incident(
        info: Info, input: PublishStatusIncidentInput, actor: User
    ) -> StatusIncidentPayload:
        row = await status_page.publish_status_incident(
            info.context.db,
            actor=actor,
            incident_id=input.incident(),
            title=input.title,
            message=input.message,
            state=input.status.state,
            affected=input.affected_components(),
        )
        return StatusIncidentPayload(status_incident=await _read(info, row.id))

    @mutation(
        StatusUpdatePayload,
        description="Post an update customers read; RESOLVED resolves it (maintenance: "
        "completes it early).",
    )
    async def post_status_update(
        info: Info, input: PostStatusUpdateInput, actor: User
    ) -> StatusUpdatePayload:
        update = await status_page.post_status_update(
            info.context.db,
            actor=actor,
            status_incident_id=input.status_incident(),
            state=None if input.status is None else input.status.state,
            message=input.message,
            affected=input.affected_components(),
        )
        return StatusUpdatePayload(
            update=StatusUpdateType.from_model(update),
            status_incident=await _read(info, update.status_incident_id),
        )

    @mutation(
        StatusIncidentPayload,
        description="Announce maintenance; it starts and ends on time by itself.",
    )
    async def schedule_maintenance(
        info: Info, input: ScheduleMaintenanceInput, actor: User
    ) -> StatusIncidentPayload:
        row = await status_maintenance.schedule_maintenance(
            info.context.db,
            actor=actor,
            title=input.title,
            message=input.message,
            starts_at=input.starts_at,
            ends_at=input.ends_at,
            component_ids=input.components(),
            incident_id=input.incident(),
        )
        return StatusIncidentPayload(status_incident=await _read(info, row.id))

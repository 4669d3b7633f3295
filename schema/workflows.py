"""Workflows in the API, read: the ``Workflow`` type (its trigger, conditions, steps and recent
runs), and ``workflows`` and ``workflow(id)``, for admins only (anyone else is refused, as for
webhook endpoints). Each step is read back as one member of the ``WorkflowStep`` union. A
workflow's ``recentRuns`` list only runs on incidents the viewer may see: a run on a private
incident the admin is not in is left out (not counted, not named), so the field depends on the
viewer. Making, changing and deleting workflows is ``schema/workflow_mutations.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any

import strawberry
from sqlalchemy import select

from app import models
from app.errors import NotFound
from app.models import IncidentMode, RunState, StatusCategory, WorkflowTrigger
from app.services import workflows
from schema import ids
from schema.catalog import CustomFieldOption, IncidentRole, IncidentType, Severity
from schema.context import Info
from schema.people import User
from schema.teams import Team
from schema.types import Incident
from schema.viewers import per_viewer
from schema.webhooks import WebhookEndpoint


async def _users(info: Info, keys: Sequence[int]) -> list[User]:
    found = await info.context.loaders.user.load_many(list(keys))
    return [User.from_model(row) for row in found if row is not None]


async def _teams(info: Info, keys: Sequence[int]) -> list[Team]:
    if not keys:
        return []
    async with info.context.reading() as session:
        rows = (await session.scalars(select(models.Team).where(models.Team.id.in_(keys)))).all()
    order = {key: place for place, key in enumerate(keys)}
    return Team.all_of(sorted(rows, key=lambda row: order[row.id]), info)


@strawberry.type(description="Add people as followers: those named and every team's members.")
class AddFollowersStep:
    user_keys: strawberry.Private[list[int]]
    team_keys: strawberry.Private[list[int]]

    @strawberry.field
    async def users(self, info: Info) -> list[User]:
        return await _users(info, self.user_keys)

    @strawberry.field
    async def teams(self, info: Info) -> list[Team]:
        return await _teams(info, self.team_keys)


@strawberry.type(description="Notify people (in the app, and by email when it is on).")
class NotifyStep:
    user_keys: strawberry.Private[list[int]]
    team_keys: strawberry.Private[list[int]]
    message: str

    @strawberry.field
    async def users(self, info: Info) -> list[User]:
        return await _users(info, self.user_keys)

    @strawberry.field
    async def teams(self, info: Info) -> list[Team]:
        return await _teams(info, self.team_keys)


@strawberry.type(description="Give someone an incident role.")
class AssignRoleStep:
    role_key: strawberry.Private[int]
    user_key: strawberry.Private[int]

    @strawberry.field(description="Null if the role no longer exists.")
    async def role(self, info: Info) -> IncidentRole | None:
        row = await info.context.loaders.role.load(self.role_key)
        return None if row is None else IncidentRole.from_model(row)

    @strawberry.field(description="Null if the person no longer exists.")
    async def user(self, info: Info) -> User | None:
        row = await info.context.loaders.user.load(self.user_key)
        return None if row is None else User.from_model(row)


@strawberry.type(description="Ask for the next update within so many minutes.")
class SetUpdateCadenceStep:
    minutes: int


@strawberry.type(description="Add actions to the incident.")
class AddActionsStep:
    titles: list[str]


@strawberry.type(description="Send the incident to a webhook endpoint.")
class SendWebhookStep:
    endpoint_key: strawberry.Private[int]

    @strawberry.field(description="Null if the endpoint no longer exists.")
    async def endpoint(self, info: Info) -> WebhookEndpoint | None:
        async with info.context.reading() as session:
            row = await session.get(models.WebhookEndpoint, self.endpoint_key)
        return None if row is None else WebhookEndpoint.from_model(row)


WorkflowStep = Annotated[
    AddFollowersStep
    | NotifyStep
    | AssignRoleStep
    | SetUpdateCadenceStep
    | AddActionsStep
    | SendWebhookStep,
    strawberry.union("WorkflowStep", description="One step of a workflow, done in order."),
]


def _step(stored: dict[str, dict[str, Any]]) -> Any:
    kind, spec = next(iter(stored.items()))
    if kind == "add_followers":
        return AddFollowersStep(user_keys=spec["user_ids"], team_keys=spec["team_ids"])
    if kind == "notify":
        return NotifyStep(
            user_keys=spec["user_ids"], team_keys=spec["team_ids"], message=spec["message"]
        )
    if kind == "assign_role":
        return AssignRoleStep(role_key=spec["role_id"], user_key=spec["user_id"])
    if kind == "set_update_cadence":
        return SetUpdateCadenceStep(minutes=spec["minutes"])
    if kind == "add_actions":
        return AddActionsStep(titles=list(spec["titles"]))
    return SendWebhookStep(endpoint_key=spec["endpoint_id"])


@strawberry.type(description="What must hold of an incident; an empty part holds always.")
class WorkflowConditions:
    stored: strawberry.Private[workflows.Conditions]

    @strawberry.field(description="The incident is at least this severe.")
    async def severity_at_least(self, info: Info) -> Severity | None:
        if self.stored.severity_at_least_id is None:
            return None
        row = await info.context.loaders.severity.load(self.stored.severity_at_least_id)
        return None if row is None else Severity.from_model(row)

    @strawberry.field(description="The incident is of one of these types.")
    async def types(self, info: Info) -> list[IncidentType]:
        rows = await info.context.loaders.incident_type.load_many(list(self.stored.type_ids))
        return [IncidentType(row=row) for row in rows if row is not None]

    @strawberry.field(description="The incident has one of these custom field options.")
    async def custom_field_options(self, info: Info) -> list[CustomFieldOption]:
        keys = list(self.stored.custom_field_option_ids)
        if not keys:
            return []
        async with info.context.reading() as session:
            query = select(models.CustomFieldOption).where(models.CustomFieldOption.id.in_(keys))
            rows = (await session.scalars(query)).all()
        return [CustomFieldOption.from_model(row) for row in sorted(rows, key=lambda r: r.id)]

    @strawberry.field(description="The incident is in one of these modes.")
    def modes(self) -> list[IncidentMode]:
        return list(self.stored.modes)

    @strawberry.field(description="The incident's status is in one of these categories.")
    def status_categories(self) -> list[StatusCategory]:
        return list(self.stored.status_categories)


@strawberry.type(description="One run of a workflow on one incident.")
class WorkflowRun:
    row: strawberry.Private[models.WorkflowRun]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return ids.encode("WorkflowRun", self.row.id)

    @per_viewer(description="The incident it ran on (null if the viewer may not see it).")
    async def incident(self, info: Info) -> Incident | None:
        row = await info.context.loaders.incident.load(self.row.incident_id)
        return None if row is None else Incident.from_model(row)

    @strawberry.field
    def state(self) -> RunState:
        return self.row.state

    @strawberry.field(description="What it did, in plain words (empty while pending).")
    def outcome(self) -> str:
        return self.row.outcome

    @strawberry.field(description="Why it failed, if it did.")
    def error(self) -> str | None:
        return self.row.error

    @strawberry.field
    def created_at(self) -> datetime:
        return self.row.created_at

    @strawberry.field(description="When it is (or was) due: after the workflow's delay.")
    def run_at(self) -> datetime:
        return self.row.run_at

    @strawberry.field
    def finished_at(self) -> datetime | None:
        return self.row.finished_at


@strawberry.type(description="When something happens to an incident that matches, do the steps.")
class Workflow:
    row: strawberry.Private[models.Workflow]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return ids.encode("Workflow", self.row.id)

    @strawberry.field
    def name(self) -> str:
        return self.row.name

    @strawberry.field
    def trigger(self) -> WorkflowTrigger:
        return self.row.trigger

    @strawberry.field
    def conditions(self) -> WorkflowConditions:
        return WorkflowConditions(stored=workflows.Conditions.of(self.row.conditions))

    @strawberry.field(description="The steps, in the order they are done.")
    def steps(self) -> list[WorkflowStep]:
        return [_step(step) for step in self.row.steps]

    @strawberry.field(description="At most one run per incident.")
    def once(self) -> bool:
        return self.row.once

    @strawberry.field(description="Minutes to wait before running (then re-checking).")
    def delay_minutes(self) -> int:
        return self.row.delay_minutes

    @strawberry.field
    def include_private(self) -> bool:
        return self.row.include_private

    @strawberry.field
    def include_test(self) -> bool:
        return self.row.include_test

    @strawberry.field
    def enabled(self) -> bool:
        return self.row.enabled

    @strawberry.field
    def created_at(self) -> datetime:
        return self.row.created_at

    @strawberry.field
    def updated_at(self) -> datetime:
        return self.row.updated_at

    @per_viewer(
        description="Its latest runs, newest first (at most 50), on incidents the viewer may see."
    )
    async def recent_runs(self, info: Info, first: int = 10) -> list[WorkflowRun]:
        async with info.context.reading() as session:
            found = await workflows.recent_runs(
                session, info.context.viewer, [self.row.id], first=first
            )
        return [WorkflowRun(row=row) for row in found[self.row.id]]


@strawberry.type
class WorkflowQueries:
    @per_viewer(description="Admins: every workflow, by name.")
    async def workflows(self, info: Info) -> list[Workflow]:
        async with info.context.reading() as session:
            rows = await workflows.list_workflows(session, info.context.viewer)
        return [Workflow(row=row) for row in rows]

    @per_viewer(description="Admins: one workflow (null: there is none).")
    async def workflow(self, info: Info, id: strawberry.ID) -> Workflow | None:
        async with info.context.reading() as session:
            try:
                key = ids.decode("Workflow", id, field="id")
                row = await workflows.get_workflow(session, info.context.viewer, key)
            except NotFound:
                return None
        return Workflow(row=row)

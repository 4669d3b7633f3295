"""Workflows in the API: the ``Workflow`` type (its trigger, conditions, steps and recent runs),
``workflows`` and ``workflow(id)``, and ``createWorkflow``, ``updateWorkflow`` and
``deleteWorkflow``, all for admins only (anyone else is refused, as for webhook endpoints).

Each step is given as a ``WorkflowStepInput``, a one-of input object (exactly one of its fields
set, which GraphQL's validation enforces) and read back as one member of the ``WorkflowStep``
union. A workflow's ``recentRuns`` list only runs on incidents the viewer may see: a run on a
private incident the admin is not in is left out (not counted, not named), so the field depends
on the viewer.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any

import strawberry
from sqlalchemy import select

from app import models
from app.errors import Invalid, NotFound
from app.models import IncidentMode, RunState, StatusCategory, WorkflowTrigger
from app.models import User as UserModel
from app.services import workflows
from schema import ids
from schema.catalog import CustomFieldOption, IncidentRole, IncidentType, Severity
from schema.context import Info
from schema.errors import UserError
from schema.payloads import mutation
from schema.people import User
from schema.teams import Team
from schema.types import Incident
from schema.viewers import per_viewer
from schema.webhooks import WebhookEndpoint

# Reading ---------------------------------------------------------------------------------------


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
    @strawberry.field(description="Admins: every workflow, by name.")
    async def workflows(self, info: Info) -> list[Workflow]:
        async with info.context.reading() as session:
            rows = await workflows.list_workflows(session, info.context.viewer)
        return [Workflow(row=row) for row in rows]

    @strawberry.field(description="Admins: one workflow (null: there is none).")
    async def workflow(self, info: Info, id: strawberry.ID) -> Workflow | None:
        async with info.context.reading() as session:
            try:
                key = ids.decode("Workflow", id, field="id")
                row = await workflows.get_workflow(session, info.context.viewer, key)
            except NotFound:
                return None
        return Workflow(row=row)


# Changing --------------------------------------------------------------------------------------


@strawberry.input(description="Every part is optional; all given must hold.")
class WorkflowConditionsInput:
    severity_at_least_id: strawberry.ID | None = None
    type_ids: list[strawberry.ID] | None = None
    custom_field_option_ids: list[strawberry.ID] | None = None
    modes: list[IncidentMode] | None = None
    status_categories: list[StatusCategory] | None = None

    def to_app(self) -> workflows.Conditions:
        return workflows.Conditions(
            severity_at_least_id=ids.decode_optional(
                "Severity", self.severity_at_least_id, field="conditions.severityAtLeastId"
            ),
            type_ids=_decode("IncidentType", self.type_ids, "conditions.typeIds"),
            custom_field_option_ids=_decode(
                "CustomFieldOption", self.custom_field_option_ids, "conditions.customFieldOptionIds"
            ),
            modes=_bounded(self.modes, "conditions.modes"),
            status_categories=_bounded(self.status_categories, "conditions.statusCategories"),
        )


@strawberry.input
class AddFollowersStepInput:
    user_ids: list[strawberry.ID] = strawberry.field(default_factory=list)
    team_ids: list[strawberry.ID] = strawberry.field(default_factory=list)


@strawberry.input
class NotifyStepInput:
    message: str
    user_ids: list[strawberry.ID] = strawberry.field(default_factory=list)
    team_ids: list[strawberry.ID] = strawberry.field(default_factory=list)


@strawberry.input
class AssignRoleStepInput:
    role_id: strawberry.ID
    user_id: strawberry.ID


@strawberry.input
class SetUpdateCadenceStepInput:
    minutes: int


@strawberry.input
class AddActionsStepInput:
    titles: list[str]


@strawberry.input
class SendWebhookStepInput:
    endpoint_id: strawberry.ID


@strawberry.input(one_of=True, description="One step: exactly one of its fields.")
class WorkflowStepInput:
    add_followers: AddFollowersStepInput | None = strawberry.UNSET
    notify: NotifyStepInput | None = strawberry.UNSET
    assign_role: AssignRoleStepInput | None = strawberry.UNSET
    set_update_cadence: SetUpdateCadenceStepInput | None = strawberry.UNSET
    add_actions: AddActionsStepInput | None = strawberry.UNSET
    send_webhook: SendWebhookStepInput | None = strawberry.UNSET

    def to_app(self, at: str) -> dict[str, dict[str, Any]]:
        if self.add_followers:
            given = self.add_followers
            where = f"{at}.addFollowers"
            return {
                "add_followers": {
                    "user_ids": _decode("User", given.user_ids, f"{where}.userIds"),
                    "team_ids": _decode("Team", given.team_ids, f"{where}.teamIds"),
                }
            }
        if self.notify:
            told = self.notify
            where = f"{at}.notify"
            return {
                "notify": {
                    "user_ids": _decode("User", told.user_ids, f"{where}.userIds"),
                    "team_ids": _decode("Team", told.team_ids, f"{where}.teamIds"),
                    "message": told.message,
                }
            }
        if self.assign_role:
            where = f"{at}.assignRole"
            return {
                "assign_role": {
                    "role_id": ids.decode(
                        "IncidentRole", self.assign_role.role_id, field=f"{where}.roleId"
                    ),
                    "user_id": ids.decode(
                        "User", self.assign_role.user_id, field=f"{where}.userId"
                    ),
                }
            }
        if self.set_update_cadence:
            return {"set_update_cadence": {"minutes": self.set_update_cadence.minutes}}
        if self.add_actions:
            titles = self.add_actions.titles
            if len(titles) > workflows.MAX_TITLES:
                raise Invalid(
                    f"From 1 to {workflows.MAX_TITLES} actions.", field=f"{at}.addActions.titles"
                )
            return {"add_actions": {"titles": list(titles)}}
        if self.send_webhook:
            endpoint = ids.decode(
                "WebhookEndpoint",
                self.send_webhook.endpoint_id,
                field=f"{at}.sendWebhook.endpointId",
            )
            return {"send_webhook": {"endpoint_id": endpoint}}
        raise Invalid("Each step is exactly one kind of step.", field=at)


def _bounded(values: list[Any] | None, field: str) -> list[Any]:
    if values is not None and len(values) > workflows.MAX_IDS:
        raise Invalid(f"At most {workflows.MAX_IDS} values.", field=field)
    return list(values or [])


def _decode(kind: str, values: list[strawberry.ID] | None, field: str) -> list[int]:
    return ids.decode_all(kind, _bounded(values, field), field=field)


def _steps(given: list[WorkflowStepInput]) -> list[dict[str, dict[str, Any]]]:
    if len(given) > workflows.MAX_STEPS:
        raise Invalid(f"A workflow has at most {workflows.MAX_STEPS} steps.", field="steps")
    return [step.to_app(f"steps[{i}]") for i, step in enumerate(given)]


@strawberry.input
class CreateWorkflowInput:
    name: str
    trigger: WorkflowTrigger
    steps: list[WorkflowStepInput]
    conditions: WorkflowConditionsInput | None = None
    once: bool = strawberry.field(default=True, description="At most one run per incident.")
    delay_minutes: int = strawberry.field(
        default=0, description="Wait this long (up to a week), then check the conditions again."
    )
    include_private: bool = False
    include_test: bool = False
    enabled: bool = True


@strawberry.input(description="What is given is changed; what is left out stays.")
class UpdateWorkflowInput:
    workflow_id: strawberry.ID
    name: str | None = None
    trigger: WorkflowTrigger | None = None
    steps: list[WorkflowStepInput] | None = None
    conditions: WorkflowConditionsInput | None = None
    once: bool | None = None
    delay_minutes: int | None = None
    include_private: bool | None = None
    include_test: bool | None = None
    enabled: bool | None = None


@strawberry.input
class DeleteWorkflowInput:
    workflow_id: strawberry.ID


@strawberry.type
class WorkflowPayload:
    workflow: Workflow | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


def _workflow_id(value: strawberry.ID) -> int:
    return ids.decode("Workflow", value, field="workflowId")


@strawberry.type
class WorkflowMutations:
    @mutation(WorkflowPayload, description="Admins: add a workflow.")
    async def create_workflow(
        info: Info, input: CreateWorkflowInput, actor: UserModel
    ) -> WorkflowPayload:
        row = await workflows.create_workflow(
            info.context.db,
            actor=actor,
            name=input.name,
            trigger=input.trigger,
            conditions=None if input.conditions is None else input.conditions.to_app(),
            steps=_steps(input.steps),
            once=input.once,
            delay_minutes=input.delay_minutes,
            include_private=input.include_private,
            include_test=input.include_test,
            enabled=input.enabled,
        )
        return WorkflowPayload(workflow=Workflow(row=row))

    @mutation(WorkflowPayload, description="Admins: change a workflow (or turn it off or on).")
    async def update_workflow(
        info: Info, input: UpdateWorkflowInput, actor: UserModel
    ) -> WorkflowPayload:
        row = await workflows.update_workflow(
            info.context.db,
            actor=actor,
            workflow_id=_workflow_id(input.workflow_id),
            name=input.name,
            trigger=input.trigger,
            conditions=None if input.conditions is None else input.conditions.to_app(),
            steps=None if input.steps is None else _steps(input.steps),
            once=input.once,
            delay_minutes=input.delay_minutes,
            include_private=input.include_private,
            include_test=input.include_test,
            enabled=input.enabled,
        )
        return WorkflowPayload(workflow=Workflow(row=row))

    @mutation(WorkflowPayload, description="Admins: remove a workflow and its runs.")
    async def delete_workflow(
        info: Info, input: DeleteWorkflowInput, actor: UserModel
    ) -> WorkflowPayload:
        row = await workflows.delete_workflow(
            info.context.db, actor=actor, workflow_id=_workflow_id(input.workflow_id)
        )
        return WorkflowPayload(workflow=Workflow(row=row))

"""Workflows in the API, changed: ``createWorkflow``, ``updateWorkflow`` and ``deleteWorkflow``
with their inputs, for admins only (the service refuses anyone else). Each step is given as a
``WorkflowStepInput``, a one-of input object (exactly one of its fields set, which GraphQL's
validation enforces); the inputs decode their own ids and bound the sizes of their lists before
``app.services.workflows`` checks the rest. Every payload holds the ``Workflow`` as
``schema/workflows.py`` reads it.
"""

from __future__ import annotations

from typing import Any

import strawberry

from app.errors import Invalid
from app.models import IncidentMode, StatusCategory, WorkflowTrigger
from app.models import User as UserModel
from app.services import workflows
from schema import ids
from schema.context import Info
from schema.errors import UserError
from schema.payloads import mutation
from schema.workflows import Workflow


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


def _conditions(given: WorkflowConditionsInput | None) -> workflows.Conditions | None:
    return None if given is None else given.to_app()


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

    def conditions_to_app(self) -> workflows.Conditions | None:
        return _conditions(self.conditions)

    def steps_to_app(self) -> list[dict[str, dict[str, Any]]]:
        return _steps(self.steps)


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

    def workflow(self) -> int:
        return ids.decode("Workflow", self.workflow_id, field="workflowId")

    def conditions_to_app(self) -> workflows.Conditions | None:
        return _conditions(self.conditions)

    def steps_to_app(self) -> list[dict[str, dict[str, Any]]] | None:
        """The new steps, or None when ``steps`` was left out."""
        return None if self.steps is None else _steps(self.steps)


@strawberry.input
class DeleteWorkflowInput:
    workflow_id: strawberry.ID

    def workflow(self) -> int:
        return ids.decode("Workflow", self.workflow_id, field="workflowId")


@strawberry.type
class WorkflowPayload:
    workflow: Workflow | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


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
            conditions=input.conditions_to_app(),
            steps=input.steps_to_app(),
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
            workflow_id=input.workflow(),
            name=input.name,
            trigger=input.trigger,
            conditions=input.conditions_to_app(),
            steps=input.steps_to_app(),
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
            info.context.db, actor=actor, workflow_id=input.workflow()
        )
        return WorkflowPayload(workflow=Workflow(row=row))

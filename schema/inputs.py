"""The inputs of the incident mutations, each decoding its own ids.

An input about one incident names it by ``incidentId`` or by its ``reference`` (``INC-42``), one of
the two (``IncidentInput``); a reference the viewer may not see is ``NOT_FOUND`` on ``reference``,
exactly as a missing one.
"""

from __future__ import annotations

from datetime import date, datetime

import strawberry

from app.errors import Invalid
from app.models import ActionStatus, IncidentMode, User
from app.services import fields, incidents
from app.services.actions import KEEP, Keep
from schema import ids
from schema.context import Info


@strawberry.input(
    description="A custom field's value: option ids for selects, else text or number."
)
class CustomFieldValueInput:
    field_id: strawberry.ID
    option_ids: list[strawberry.ID] | None = None
    text: str | None = None
    number: float | None = None

    def field(self) -> int:
        return ids.decode("CustomField", self.field_id, field="fieldId")

    def value(self) -> fields.FieldValue:
        if self.option_ids is not None:
            return ids.decode_all("CustomFieldOption", self.option_ids, field="optionIds")
        if self.text is not None:
            return self.text
        return self.number


@strawberry.input(description="The incident by id or by its reference (INC-42): one of the two.")
class IncidentInput:
    incident_id: strawberry.ID | None = None
    reference: str | None = None

    async def incident(self, info: Info, actor: User) -> int:
        """The incident's key, from its id or its reference as ``actor`` may see it."""
        if self.incident_id is not None and self.reference is None:
            return ids.decode("Incident", self.incident_id, field="incidentId")
        if self.reference is not None and self.incident_id is None:
            return await incidents.incident_id_by_reference(info.context.db, actor, self.reference)
        raise Invalid("Give the incident's id or its reference.", field="incidentId")


@strawberry.input
class DeclareIncidentInput:
    name: str
    summary: str = ""
    severity_id: strawberry.ID | None = None
    type_id: strawberry.ID | None = None
    mode: IncidentMode | None = None
    private: bool | None = strawberry.field(
        default=None, description="Left out: the incident type decides."
    )
    triage: bool = strawberry.field(
        default=False, description="Start in triage, for a responder to accept or decline."
    )
    custom_fields: list[CustomFieldValueInput] | None = None
    next_update_in_minutes: int | None = None
    declared_at: datetime | None = strawberry.field(
        default=None, description="When it began, for RETROSPECTIVE incidents only."
    )
    resolved_at: datetime | None = strawberry.field(
        default=None, description="When it ended, for RETROSPECTIVE incidents only."
    )
    idempotency_key: str | None = strawberry.field(
        default=None, description="Declaring again with the same key returns the same incident."
    )

    def severity(self) -> int | None:
        return ids.decode_optional("Severity", self.severity_id, field="severityId")

    def incident_type(self) -> int | None:
        return ids.decode_optional("IncidentType", self.type_id, field="typeId")

    def values(self) -> dict[int, fields.FieldValue]:
        return {given.field(): given.value() for given in self.custom_fields or []}


@strawberry.input
class ShareUpdateInput(IncidentInput):
    message: str
    status_id: strawberry.ID | None = None
    severity_id: strawberry.ID | None = None
    next_update_in_minutes: int | None = None
    expected_version: int | None = None

    def status(self) -> int | None:
        return ids.decode_optional("Status", self.status_id, field="statusId")

    def severity(self) -> int | None:
        return ids.decode_optional("Severity", self.severity_id, field="severityId")


@strawberry.input
class ChangeIncidentStatusInput(IncidentInput):
    status_id: strawberry.ID
    expected_version: int | None = None

    def status(self) -> int:
        return ids.decode("Status", self.status_id, field="statusId")


@strawberry.input
class ChangeIncidentSeverityInput(IncidentInput):
    severity_id: strawberry.ID
    expected_version: int | None = None

    def severity(self) -> int:
        return ids.decode("Severity", self.severity_id, field="severityId")


@strawberry.input
class ChangeIncidentDetailsInput(IncidentInput):
    name: str | None = None
    summary: str | None = None
    expected_version: int | None = None


@strawberry.input
class ChangeIncidentVisibilityInput(IncidentInput):
    private: bool
    expected_version: int | None = None


@strawberry.input
class AssignIncidentRoleInput(IncidentInput):
    role_id: strawberry.ID
    user_id: strawberry.ID
    expected_version: int | None = None

    def role(self) -> int:
        return ids.decode("IncidentRole", self.role_id, field="roleId")

    def user(self) -> int:
        return ids.decode("User", self.user_id, field="userId")


@strawberry.input
class UnassignIncidentRoleInput(IncidentInput):
    role_id: strawberry.ID
    expected_version: int | None = None

    def role(self) -> int:
        return ids.decode("IncidentRole", self.role_id, field="roleId")


@strawberry.input
class AcceptIncidentInput(IncidentInput):
    status_id: strawberry.ID | None = None
    expected_version: int | None = None

    def status(self) -> int | None:
        return ids.decode_optional("Status", self.status_id, field="statusId")


@strawberry.input
class DeclineIncidentInput(IncidentInput):
    reason: str = ""
    expected_version: int | None = None


@strawberry.input
class MergeIncidentInput(IncidentInput):
    into_id: strawberry.ID
    expected_version: int | None = None

    def into(self) -> int:
        return ids.decode("Incident", self.into_id, field="intoId")


@strawberry.input
class AddActionInput(IncidentInput):
    title: str
    owner_id: strawberry.ID | None = None
    due_on: date | None = None
    expected_version: int | None = None

    def owner(self) -> int | None:
        return ids.decode_optional("User", self.owner_id, field="ownerId")


@strawberry.input
class AddFollowUpInput(AddActionInput):
    pass


@strawberry.input(description="Fields left out stay as they are; ownerId or dueOn null clears.")
class UpdateActionInput:
    action_id: strawberry.ID
    title: str | None = None
    status: ActionStatus | None = None
    owner_id: strawberry.ID | None = strawberry.UNSET
    due_on: date | None = strawberry.UNSET
    expected_version: int | None = None

    def action(self) -> int:
        return ids.decode("Action", self.action_id, field="actionId")

    def owner(self) -> int | Keep | None:
        """The new owner, None to clear it, or ``KEEP`` when ``ownerId`` was left out."""
        if self.owner_id is strawberry.UNSET:
            return KEEP
        return ids.decode_optional("User", self.owner_id, field="ownerId")

    def due(self) -> date | Keep | None:
        """The new due date, None to clear it, or ``KEEP`` when ``dueOn`` was left out."""
        return KEEP if self.due_on is strawberry.UNSET else self.due_on


@strawberry.input
class UpdateFollowUpInput(UpdateActionInput):
    pass


@strawberry.input
class SetCustomFieldValueInput(IncidentInput):
    value: CustomFieldValueInput = strawberry.field(
        description="Give no options, text or number to clear the field."
    )
    expected_version: int | None = None


@strawberry.input
class FollowIncidentInput(IncidentInput):
    pass


@strawberry.input
class UnfollowIncidentInput(IncidentInput):
    pass


@strawberry.input
class InviteToIncidentInput(IncidentInput):
    user_id: strawberry.ID
    expected_version: int | None = None

    def user(self) -> int:
        return ids.decode("User", self.user_id, field="userId")


@strawberry.input
class RemoveFromIncidentInput(InviteToIncidentInput):
    pass


@strawberry.input
class AddNoteInput(IncidentInput):
    message: str


@strawberry.input(description="The incident by id or by its reference (INC-42): one of the two.")
class BreakGlassInput:
    incident_id: strawberry.ID | None = None
    reason: str
    reference: str | None = None

    def incident(self) -> tuple[int | None, str | None]:
        """The incident's key or its reference: an admin breaking glass may not see it yet, so
        the reference is looked up by ``members.break_glass`` itself."""
        if (self.incident_id is None) == (self.reference is None):
            raise Invalid("Give the incident's id or its reference.", field="incidentId")
        return ids.decode_optional("Incident", self.incident_id, field="incidentId"), self.reference

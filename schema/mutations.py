"""Mutations on incidents: each takes one ``input`` named after it and calls one service.

Every mutation needs credentials that may write (a read-only token gets a ``FORBIDDEN`` user
error). An incident the viewer may not see is ``NOT_FOUND``, exactly as a missing one.
"""

from __future__ import annotations

from datetime import date, datetime

import strawberry

from app.errors import Invalid
from app.models import ActionKind, ActionStatus, IncidentMode
from app.models import Incident as IncidentRow
from app.services import actions, declarations, fields, followers, incidents, members, roles
from app.services.actions import KEEP, Keep
from schema import ids
from schema.context import Info
from schema.payloads import ActionPayload, IncidentPayload, ShareUpdatePayload, attempt
from schema.types import Action, Incident, IncidentUpdate


@strawberry.input(
    description="A custom field's value: option ids for selects, else text or number."
)
class CustomFieldValueInput:
    field_id: strawberry.ID
    option_ids: list[strawberry.ID] | None = None
    text: str | None = None
    number: float | None = None


def _value(given: CustomFieldValueInput) -> fields.FieldValue:
    if given.option_ids is not None:
        return ids.decode_all("CustomFieldOption", given.option_ids, field="optionIds")
    if given.text is not None:
        return given.text
    return given.number


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


@strawberry.input
class ShareUpdateInput:
    incident_id: strawberry.ID
    message: str
    status_id: strawberry.ID | None = None
    severity_id: strawberry.ID | None = None
    next_update_in_minutes: int | None = None
    expected_version: int | None = None


@strawberry.input
class ChangeIncidentStatusInput:
    incident_id: strawberry.ID
    status_id: strawberry.ID
    expected_version: int | None = None


@strawberry.input
class ChangeIncidentSeverityInput:
    incident_id: strawberry.ID
    severity_id: strawberry.ID
    expected_version: int | None = None


@strawberry.input
class ChangeIncidentDetailsInput:
    incident_id: strawberry.ID
    name: str | None = None
    summary: str | None = None
    expected_version: int | None = None


@strawberry.input
class ChangeIncidentVisibilityInput:
    incident_id: strawberry.ID
    private: bool
    expected_version: int | None = None


@strawberry.input
class AssignIncidentRoleInput:
    incident_id: strawberry.ID
    role_id: strawberry.ID
    user_id: strawberry.ID
    expected_version: int | None = None


@strawberry.input
class UnassignIncidentRoleInput:
    incident_id: strawberry.ID
    role_id: strawberry.ID
    expected_version: int | None = None


@strawberry.input
class AcceptIncidentInput:
    incident_id: strawberry.ID
    status_id: strawberry.ID | None = None
    expected_version: int | None = None


@strawberry.input
class DeclineIncidentInput:
    incident_id: strawberry.ID
    reason: str = ""
    expected_version: int | None = None


@strawberry.input
class MergeIncidentInput:
    incident_id: strawberry.ID
    into_id: strawberry.ID
    expected_version: int | None = None


@strawberry.input
class AddActionInput:
    incident_id: strawberry.ID
    title: str
    owner_id: strawberry.ID | None = None
    due_on: date | None = None
    expected_version: int | None = None


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


@strawberry.input
class UpdateFollowUpInput(UpdateActionInput):
    pass


@strawberry.input
class SetCustomFieldValueInput:
    incident_id: strawberry.ID
    value: CustomFieldValueInput = strawberry.field(
        description="Give no options, text or number to clear the field."
    )
    expected_version: int | None = None


@strawberry.input
class FollowIncidentInput:
    incident_id: strawberry.ID


@strawberry.input
class UnfollowIncidentInput(FollowIncidentInput):
    pass


@strawberry.input
class InviteToIncidentInput:
    incident_id: strawberry.ID
    user_id: strawberry.ID
    expected_version: int | None = None


@strawberry.input
class RemoveFromIncidentInput(InviteToIncidentInput):
    pass


@strawberry.input
class AddNoteInput:
    incident_id: strawberry.ID
    message: str


@strawberry.input(description="The incident by id or by its reference (INC-42): one of the two.")
class BreakGlassInput:
    incident_id: strawberry.ID | None = None
    reason: str
    reference: str | None = None


def _incident_id(value: strawberry.ID, field: str = "incidentId") -> int:
    return ids.decode("Incident", value, field=field)


def _user_id(value: strawberry.ID, field: str = "userId") -> int:
    return ids.decode("User", value, field=field)


async def _current(info: Info, incident_id: int) -> Incident | None:
    row = await info.context.loaders.incident.load(incident_id)
    return None if row is None else Incident(row=row)


def _done(row: IncidentRow) -> IncidentPayload:
    return IncidentPayload(incident=Incident.from_model(row))


@strawberry.type
class IncidentMutations:
    @strawberry.mutation(description="Declare an incident: anyone but viewers may.")
    async def declare_incident(self, info: Info, input: DeclareIncidentInput) -> IncidentPayload:
        async def work() -> IncidentPayload:
            values = {
                ids.decode("CustomField", v.field_id, field="fieldId"): _value(v)
                for v in input.custom_fields or []
            }
            return _done(
                await declarations.declare(
                    info.context.db,
                    actor=info.context.writer(),
                    name=input.name,
                    summary=input.summary,
                    severity_id=ids.decode_optional(
                        "Severity", input.severity_id, field="severityId"
                    ),
                    type_id=ids.decode_optional("IncidentType", input.type_id, field="typeId"),
                    mode=input.mode,
                    private=input.private,
                    triage=input.triage,
                    custom_fields=values,
                    next_update_in_minutes=input.next_update_in_minutes,
                    declared_at=input.declared_at,
                    resolved_at=input.resolved_at,
                    idempotency_key=input.idempotency_key,
                )
            )

        return await attempt(IncidentPayload, work)

    @strawberry.mutation(description="Share an update; optionally change status and severity.")
    async def share_update(self, info: Info, input: ShareUpdateInput) -> ShareUpdatePayload:
        async def work() -> ShareUpdatePayload:
            update = await incidents.share_update(
                info.context.db,
                actor=info.context.writer(),
                incident_id=_incident_id(input.incident_id),
                message=input.message,
                status_id=ids.decode_optional("Status", input.status_id, field="statusId"),
                severity_id=ids.decode_optional("Severity", input.severity_id, field="severityId"),
                next_update_in_minutes=input.next_update_in_minutes,
                expected_version=input.expected_version,
            )
            incident = await _current(info, update.incident_id)
            return ShareUpdatePayload(update=IncidentUpdate(row=update), incident=incident)

        return await attempt(ShareUpdatePayload, work)

    @strawberry.mutation
    async def change_incident_status(
        self, info: Info, input: ChangeIncidentStatusInput
    ) -> IncidentPayload:
        async def work() -> IncidentPayload:
            return _done(
                await incidents.change_status(
                    info.context.db,
                    actor=info.context.writer(),
                    incident_id=_incident_id(input.incident_id),
                    status_id=ids.decode("Status", input.status_id, field="statusId"),
                    expected_version=input.expected_version,
                )
            )

        return await attempt(IncidentPayload, work)

    @strawberry.mutation
    async def change_incident_severity(
        self, info: Info, input: ChangeIncidentSeverityInput
    ) -> IncidentPayload:
        async def work() -> IncidentPayload:
            return _done(
                await incidents.change_severity(
                    info.context.db,
                    actor=info.context.writer(),
                    incident_id=_incident_id(input.incident_id),
                    severity_id=ids.decode("Severity", input.severity_id, field="severityId"),
                    expected_version=input.expected_version,
                )
            )

        return await attempt(IncidentPayload, work)

    @strawberry.mutation(description="Rename an incident or rewrite its summary.")
    async def change_incident_details(
        self, info: Info, input: ChangeIncidentDetailsInput
    ) -> IncidentPayload:
        async def work() -> IncidentPayload:
            return _done(
                await incidents.change_details(
                    info.context.db,
                    actor=info.context.writer(),
                    incident_id=_incident_id(input.incident_id),
                    name=input.name,
                    summary=input.summary,
                    expected_version=input.expected_version,
                )
            )

        return await attempt(IncidentPayload, work)

    @strawberry.mutation(description="Make an incident private (members only) or public.")
    async def change_incident_visibility(
        self, info: Info, input: ChangeIncidentVisibilityInput
    ) -> IncidentPayload:
        async def work() -> IncidentPayload:
            return _done(
                await incidents.change_visibility(
                    info.context.db,
                    actor=info.context.writer(),
                    incident_id=_incident_id(input.incident_id),
                    private=input.private,
                    expected_version=input.expected_version,
                )
            )

        return await attempt(IncidentPayload, work)

    @strawberry.mutation(description="Give someone a role, handing it over from its holder.")
    async def assign_incident_role(
        self, info: Info, input: AssignIncidentRoleInput
    ) -> IncidentPayload:
        async def work() -> IncidentPayload:
            assignment = await roles.assign_role(
                info.context.db,
                actor=info.context.writer(),
                incident_id=_incident_id(input.incident_id),
                role_id=ids.decode("IncidentRole", input.role_id, field="roleId"),
                user_id=_user_id(input.user_id),
                expected_version=input.expected_version,
            )
            incident = await _current(info, assignment.incident_id)
            return IncidentPayload(incident=incident)

        return await attempt(IncidentPayload, work)

    @strawberry.mutation
    async def unassign_incident_role(
        self, info: Info, input: UnassignIncidentRoleInput
    ) -> IncidentPayload:
        async def work() -> IncidentPayload:
            incident_id = _incident_id(input.incident_id)
            await roles.unassign_role(
                info.context.db,
                actor=info.context.writer(),
                incident_id=incident_id,
                role_id=ids.decode("IncidentRole", input.role_id, field="roleId"),
                expected_version=input.expected_version,
            )
            incident = await _current(info, incident_id)
            return IncidentPayload(incident=incident)

        return await attempt(IncidentPayload, work)

    @strawberry.mutation(description="Accept an incident out of triage.")
    async def accept_incident(self, info: Info, input: AcceptIncidentInput) -> IncidentPayload:
        async def work() -> IncidentPayload:
            return _done(
                await incidents.accept(
                    info.context.db,
                    actor=info.context.writer(),
                    incident_id=_incident_id(input.incident_id),
                    status_id=ids.decode_optional("Status", input.status_id, field="statusId"),
                    expected_version=input.expected_version,
                )
            )

        return await attempt(IncidentPayload, work)

    @strawberry.mutation(description="Decide in triage that it is not an incident.")
    async def decline_incident(self, info: Info, input: DeclineIncidentInput) -> IncidentPayload:
        async def work() -> IncidentPayload:
            return _done(
                await incidents.decline(
                    info.context.db,
                    actor=info.context.writer(),
                    incident_id=_incident_id(input.incident_id),
                    reason=input.reason,
                    expected_version=input.expected_version,
                )
            )

        return await attempt(IncidentPayload, work)

    @strawberry.mutation(description="Fold a duplicate into another incident.")
    async def merge_incident(self, info: Info, input: MergeIncidentInput) -> IncidentPayload:
        async def work() -> IncidentPayload:
            return _done(
                await incidents.merge(
                    info.context.db,
                    actor=info.context.writer(),
                    incident_id=_incident_id(input.incident_id),
                    into_id=_incident_id(input.into_id, "intoId"),
                    expected_version=input.expected_version,
                )
            )

        return await attempt(IncidentPayload, work)

    @strawberry.mutation
    async def add_action(self, info: Info, input: AddActionInput) -> ActionPayload:
        return await _add_work(info, input, ActionKind.ACTION)

    @strawberry.mutation
    async def add_follow_up(self, info: Info, input: AddFollowUpInput) -> ActionPayload:
        return await _add_work(info, input, ActionKind.FOLLOW_UP)

    @strawberry.mutation
    async def update_action(self, info: Info, input: UpdateActionInput) -> ActionPayload:
        return await _update_work(info, input)

    @strawberry.mutation
    async def update_follow_up(self, info: Info, input: UpdateFollowUpInput) -> ActionPayload:
        return await _update_work(info, input)

    @strawberry.mutation
    async def set_custom_field_value(
        self, info: Info, input: SetCustomFieldValueInput
    ) -> IncidentPayload:
        async def work() -> IncidentPayload:
            return _done(
                await fields.set_custom_field_value(
                    info.context.db,
                    actor=info.context.writer(),
                    incident_id=_incident_id(input.incident_id),
                    field_id=ids.decode("CustomField", input.value.field_id, field="fieldId"),
                    value=_value(input.value),
                    expected_version=input.expected_version,
                )
            )

        return await attempt(IncidentPayload, work)

    @strawberry.mutation(description="Hear about this incident's updates.")
    async def follow_incident(self, info: Info, input: FollowIncidentInput) -> IncidentPayload:
        async def work() -> IncidentPayload:
            return _done(
                await followers.follow(
                    info.context.db,
                    actor=info.context.writer(),
                    incident_id=_incident_id(input.incident_id),
                )
            )

        return await attempt(IncidentPayload, work)

    @strawberry.mutation
    async def unfollow_incident(self, info: Info, input: UnfollowIncidentInput) -> IncidentPayload:
        async def work() -> IncidentPayload:
            return _done(
                await followers.unfollow(
                    info.context.db,
                    actor=info.context.writer(),
                    incident_id=_incident_id(input.incident_id),
                )
            )

        return await attempt(IncidentPayload, work)

    @strawberry.mutation(description="Let someone into a private incident.")
    async def invite_to_incident(self, info: Info, input: InviteToIncidentInput) -> IncidentPayload:
        async def work() -> IncidentPayload:
            return _done(
                await members.invite(
                    info.context.db,
                    actor=info.context.writer(),
                    incident_id=_incident_id(input.incident_id),
                    user_id=_user_id(input.user_id),
                    expected_version=input.expected_version,
                )
            )

        return await attempt(IncidentPayload, work)

    @strawberry.mutation(description="Take someone out of an incident; their roles there end.")
    async def remove_from_incident(
        self, info: Info, input: RemoveFromIncidentInput
    ) -> IncidentPayload:
        async def work() -> IncidentPayload:
            return _done(
                await members.remove_member(
                    info.context.db,
                    actor=info.context.writer(),
                    incident_id=_incident_id(input.incident_id),
                    user_id=_user_id(input.user_id),
                    expected_version=input.expected_version,
                )
            )

        return await attempt(IncidentPayload, work)

    @strawberry.mutation(description="Add a note to the timeline.")
    async def add_note(self, info: Info, input: AddNoteInput) -> IncidentPayload:
        async def work() -> IncidentPayload:
            return _done(
                await incidents.add_note(
                    info.context.db,
                    actor=info.context.writer(),
                    incident_id=_incident_id(input.incident_id),
                    message=input.message,
                )
            )

        return await attempt(IncidentPayload, work)

    @strawberry.mutation(description="Admins: enter a private incident, with a recorded reason.")
    async def break_glass(self, info: Info, input: BreakGlassInput) -> IncidentPayload:
        async def work() -> IncidentPayload:
            if (input.incident_id is None) == (input.reference is None):
                raise Invalid("Give the incident's id or its reference.", field="incidentId")
            return _done(
                await members.break_glass(
                    info.context.db,
                    actor=info.context.writer(),
                    incident_id=ids.decode_optional(
                        "Incident", input.incident_id, field="incidentId"
                    ),
                    reference=input.reference,
                    reason=input.reason,
                )
            )

        return await attempt(IncidentPayload, work)


async def _add_work(info: Info, input: AddActionInput, kind: ActionKind) -> ActionPayload:
    async def work() -> ActionPayload:
        action = await actions.add_action(
            info.context.db,
            actor=info.context.writer(),
            incident_id=_incident_id(input.incident_id),
            title=input.title,
            owner_id=ids.decode_optional("User", input.owner_id, field="ownerId"),
            due_on=input.due_on,
            kind=kind,
            expected_version=input.expected_version,
        )
        incident = await _current(info, action.incident_id)
        return ActionPayload(action=Action(row=action), incident=incident)

    return await attempt(ActionPayload, work)


async def _update_work(info: Info, input: UpdateActionInput) -> ActionPayload:
    async def work() -> ActionPayload:
        owner: int | Keep | None = KEEP
        if input.owner_id is not strawberry.UNSET:
            owner = ids.decode_optional("User", input.owner_id, field="ownerId")
        due: date | Keep | None = KEEP if input.due_on is strawberry.UNSET else input.due_on
        action = await actions.update_action(
            info.context.db,
            actor=info.context.writer(),
            action_id=ids.decode("Action", input.action_id, field="actionId"),
            title=input.title,
            status=input.status,
            owner_id=owner,
            due_on=due,
            expected_version=input.expected_version,
        )
        incident = await _current(info, action.incident_id)
        return ActionPayload(action=Action(row=action), incident=incident)

    return await attempt(ActionPayload, work)

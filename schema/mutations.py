"""Mutations on incidents: each takes one ``input`` named after it and calls one service.

Each runs in ``schema.payloads.mutation``: credentials that may not write (a read-only token) get
a ``FORBIDDEN`` user error, and a refusal from the services becomes ``userErrors``. An incident the
viewer may not see is ``NOT_FOUND``, exactly as a missing one, by id and by reference alike.
"""

from __future__ import annotations

import strawberry

from app.models import Action as ActionRow
from app.models import ActionKind, User
from app.models import Incident as IncidentRow
from app.services import actions, declarations, fields, followers, incidents, members, roles
from schema.context import Info
from schema.inputs import (
    AcceptIncidentInput,
    AddActionInput,
    AddFollowUpInput,
    AddNoteInput,
    AssignIncidentRoleInput,
    BreakGlassInput,
    ChangeIncidentDetailsInput,
    ChangeIncidentSeverityInput,
    ChangeIncidentStatusInput,
    ChangeIncidentVisibilityInput,
    DeclareIncidentInput,
    DeclineIncidentInput,
    FollowIncidentInput,
    InviteToIncidentInput,
    MergeIncidentInput,
    RemoveFromIncidentInput,
    SetCustomFieldValueInput,
    ShareUpdateInput,
    UnassignIncidentRoleInput,
    UnfollowIncidentInput,
    UpdateActionInput,
    UpdateFollowUpInput,
)
from schema.payloads import ActionPayload, IncidentPayload, ShareUpdatePayload, mutation
from schema.types import Action, Incident, IncidentUpdate


async def _current(info: Info, incident_id: int) -> Incident | None:
    row = await info.context.loaders.incident.load(incident_id)
    return None if row is None else Incident(row=row)


def _done(row: IncidentRow) -> IncidentPayload:
    return IncidentPayload(incident=Incident.from_model(row))


async def _with_incident(info: Info, action: ActionRow) -> ActionPayload:
    return ActionPayload(
        action=Action(row=action), incident=await _current(info, action.incident_id)
    )


@strawberry.type
class IncidentMutations:
    @mutation(IncidentPayload, description="Declare an incident: anyone but viewers may.")
    async def declare_incident(
        info: Info, input: DeclareIncidentInput, actor: User
    ) -> IncidentPayload:
        declared = await declarations.declare(
            info.context.db,
            actor=actor,
            name=input.name,
            summary=input.summary,
            severity_id=input.severity(),
            type_id=input.incident_type(),
            mode=input.mode,
            private=input.private,
            triage=input.triage,
            custom_fields=input.values(),
            next_update_in_minutes=input.next_update_in_minutes,
            declared_at=input.declared_at,
            resolved_at=input.resolved_at,
            idempotency_key=input.idempotency_key,
        )
        return _done(declared)

    @mutation(
        ShareUpdatePayload, description="Share an update; optionally change status and severity."
    )
    async def share_update(info: Info, input: ShareUpdateInput, actor: User) -> ShareUpdatePayload:
        update = await incidents.share_update(
            info.context.db,
            actor=actor,
            incident_id=await input.incident(info, actor),
            message=input.message,
            status_id=input.status(),
            severity_id=input.severity(),
            next_update_in_minutes=input.next_update_in_minutes,
            expected_version=input.expected_version,
        )
        incident = await _current(info, update.incident_id)
        return ShareUpdatePayload(update=IncidentUpdate(row=update), incident=incident)

    @mutation(IncidentPayload)
    async def change_incident_status(
        info: Info, input: ChangeIncidentStatusInput, actor: User
    ) -> IncidentPayload:
        changed = await incidents.change_status(
            info.context.db,
            actor=actor,
            incident_id=await input.incident(info, actor),
            status_id=input.status(),
            expected_version=input.expected_version,
        )
        return _done(changed)

    @mutation(IncidentPayload)
    async def change_incident_severity(
        info: Info, input: ChangeIncidentSeverityInput, actor: User
    ) -> IncidentPayload:
        changed = await incidents.change_severity(
            info.context.db,
            actor=actor,
            incident_id=await input.incident(info, actor),
            severity_id=input.severity(),
            expected_version=input.expected_version,
        )
        return _done(changed)

    @mutation(IncidentPayload, description="Rename an incident or rewrite its summary.")
    async def change_incident_details(
        info: Info, input: ChangeIncidentDetailsInput, actor: User
    ) -> IncidentPayload:
        changed = await incidents.change_details(
            info.context.db,
            actor=actor,
            incident_id=await input.incident(info, actor),
            name=input.name,
            summary=input.summary,
            expected_version=input.expected_version,
        )
        return _done(changed)

    @mutation(IncidentPayload, description="Make an incident private (members only) or public.")
    async def change_incident_visibility(
        info: Info, input: ChangeIncidentVisibilityInput, actor: User
    ) -> IncidentPayload:
        changed = await incidents.change_visibility(
            info.context.db,
            actor=actor,
            incident_id=await input.incident(info, actor),
            private=input.private,
            expected_version=input.expected_version,
        )
        return _done(changed)

    @mutation(IncidentPayload, description="Give someone a role, handing it over from its holder.")
    async def assign_incident_role(
        info: Info, input: AssignIncidentRoleInput, actor: User
    ) -> IncidentPayload:
        assignment = await roles.assign_role(
            info.context.db,
            actor=actor,
            incident_id=await input.incident(info, actor),
            role_id=input.role(),
            user_id=input.user(),
            expected_version=input.expected_version,
        )
        return IncidentPayload(incident=await _current(info, assignment.incident_id))

    @mutation(IncidentPayload)
    async def unassign_incident_role(
        info: Info, input: UnassignIncidentRoleInput, actor: User
    ) -> IncidentPayload:
        incident_id = await input.incident(info, actor)
        await roles.unassign_role(
            info.context.db,
            actor=actor,
            incident_id=incident_id,
            role_id=input.role(),
            expected_version=input.expected_version,
        )
        return IncidentPayload(incident=await _current(info, incident_id))

    @mutation(IncidentPayload, description="Accept an incident out of triage.")
    async def accept_incident(
        info: Info, input: AcceptIncidentInput, actor: User
    ) -> IncidentPayload:
        accepted = await incidents.accept(
            info.context.db,
            actor=actor,
            incident_id=await input.incident(info, actor),
            status_id=input.status(),
            expected_version=input.expected_version,
        )
        return _done(accepted)

    @mutation(IncidentPayload, description="Decide in triage that it is not an incident.")
    async def decline_incident(
        info: Info, input: DeclineIncidentInput, actor: User
    ) -> IncidentPayload:
        declined = await incidents.decline(
            info.context.db,
            actor=actor,
            incident_id=await input.incident(info, actor),
            reason=input.reason,
            expected_version=input.expected_version,
        )
        return _done(declined)

    @mutation(IncidentPayload, description="Fold a duplicate into another incident.")
    async def merge_incident(info: Info, input: MergeIncidentInput, actor: User) -> IncidentPayload:
        merged = await incidents.merge(
            info.context.db,
            actor=actor,
            incident_id=await input.incident(info, actor),
            into_id=input.into(),
            expected_version=input.expected_version,
        )
        return _done(merged)

    @mutation(ActionPayload)
    async def add_action(info: Info, input: AddActionInput, actor: User) -> ActionPayload:
        return await _add_work(info, input, actor, ActionKind.ACTION)

    @mutation(ActionPayload)
    async def add_follow_up(info: Info, input: AddFollowUpInput, actor: User) -> ActionPayload:
        return await _add_work(info, input, actor, ActionKind.FOLLOW_UP)

    @mutation(ActionPayload)
    async def update_action(info: Info, input: UpdateActionInput, actor: User) -> ActionPayload:
        return await _update_work(info, input, actor)

    @mutation(ActionPayload)
    async def update_follow_up(
        info: Info, input: UpdateFollowUpInput, actor: User
    ) -> ActionPayload:
        return await _update_work(info, input, actor)

    @mutation(IncidentPayload)
    async def set_custom_field_value(
        info: Info, input: SetCustomFieldValueInput, actor: User
    ) -> IncidentPayload:
        changed = await fields.set_custom_field_value(
            info.context.db,
            actor=actor,
            incident_id=await input.incident(info, actor),
            field_id=input.value.field(),
            value=input.value.value(),
            expected_version=input.expected_version,
        )
        return _done(changed)

    @mutation(IncidentPayload, description="Hear about this incident's updates.")
    async def follow_incident(
        info: Info, input: FollowIncidentInput, actor: User
    ) -> IncidentPayload:
        incident_id = await input.incident(info, actor)
        return _done(await followers.follow(info.context.db, actor=actor, incident_id=incident_id))

    @mutation(IncidentPayload)
    async def unfollow_incident(
        info: Info, input: UnfollowIncidentInput, actor: User
    ) -> IncidentPayload:
        incident_id = await input.incident(info, actor)
        return _done(
            await followers.unfollow(info.context.db, actor=actor, incident_id=incident_id)
        )

    @mutation(IncidentPayload, description="Let someone into a private incident.")
    async def invite_to_incident(
        info: Info, input: InviteToIncidentInput, actor: User
    ) -> IncidentPayload:
        invited = await members.invite(
            info.context.db,
            actor=actor,
            incident_id=await input.incident(info, actor),
            user_id=input.user(),
            expected_version=input.expected_version,
        )
        return _done(invited)

    @mutation(
        IncidentPayload, description="Take someone out of an incident; their roles there end."
    )
    async def remove_from_incident(
        info: Info, input: RemoveFromIncidentInput, actor: User
    ) -> IncidentPayload:
        removed = await members.remove_member(
            info.context.db,
            actor=actor,
            incident_id=await input.incident(info, actor),
            user_id=input.user(),
            expected_version=input.expected_version,
        )
        return _done(removed)

    @mutation(IncidentPayload, description="Add a note to the timeline.")
    async def add_note(info: Info, input: AddNoteInput, actor: User) -> IncidentPayload:
        noted = await incidents.add_note(
            info.context.db,
            actor=actor,
            incident_id=await input.incident(info, actor),
            message=input.message,
        )
        return _done(noted)

    @mutation(
        IncidentPayload, description="Admins: enter a private incident, with a recorded reason."
    )
    async def break_glass(info: Info, input: BreakGlassInput, actor: User) -> IncidentPayload:
        incident_id, reference = input.incident()
        entered = await members.break_glass(
            info.context.db,
            actor=actor,
            incident_id=incident_id,
            reference=reference,
            reason=input.reason,
        )
        return _done(entered)


async def _add_work(
    info: Info, input: AddActionInput, actor: User, kind: ActionKind
) -> ActionPayload:
    action = await actions.add_action(
        info.context.db,
        actor=actor,
        incident_id=await input.incident(info, actor),
        title=input.title,
        owner_id=input.owner(),
        due_on=input.due_on,
        kind=kind,
        expected_version=input.expected_version,
    )
    return await _with_incident(info, action)


async def _update_work(info: Info, input: UpdateActionInput, actor: User) -> ActionPayload:
    owner = input.owner()
    action = await actions.update_action(
        info.context.db,
        actor=actor,
        action_id=input.action(),
        title=input.title,
        status=input.status,
        owner_id=owner,
        due_on=input.due(),
        expected_version=input.expected_version,
    )
    return await _with_incident(info, action)

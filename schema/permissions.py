"""What the viewer may do on one incident, answered from ``app/policy.py``.

Pages draw their forms from these answers instead of re-deriving rights from role and status
strings; the services check the same rules again on every change.
"""

from __future__ import annotations

import strawberry

from app import models, policy


@strawberry.type(description="What the viewer may do on this incident (checked again on change).")
class IncidentPermissions:
    edit: bool = strawberry.field(
        description="Change status, severity, roles, fields and work; share updates."
    )
    triage: bool = strawberry.field(description="Accept or decline it (only while in triage).")
    share_update: bool = strawberry.field(description="Share an update.")
    add_note: bool = strawberry.field(description="Add a note to the timeline.")
    invite: bool = strawberry.field(description="Let someone into this private incident.")
    hold_role: bool = strawberry.field(description="Hold an incident role or own work.")
    manage_members: bool = strawberry.field(description="Remove members.")
    work_on_own: bool = strawberry.field(
        description="Tick off work one owns (editors may work on all of it)."
    )

    @classmethod
    def of(
        cls, user: models.User, incident: models.Incident, standing: policy.Standing, triage: bool
    ) -> IncidentPermissions:
        """``triage``: whether the incident is waiting in triage now."""
        edit = policy.can_edit(user, incident, standing)
        note = policy.can_add_note(user, incident, standing)
        return cls(
            edit=edit,
            triage=triage and policy.can_triage(user, incident, standing),
            share_update=edit,
            add_note=note,
            invite=incident.private and policy.can_invite(user, incident, standing),
            hold_role=policy.can_view(user, incident, standing) and policy.can_hold_role(user),
            manage_members=policy.can_manage_members(user, incident, standing),
            work_on_own=note,
        )

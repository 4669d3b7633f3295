"""What the viewer may do, answered from ``app/policy.py``: on one incident
(``Incident.viewerCan``) and across the organisation (``Query.viewerCan``).

Pages draw their forms and links from these answers instead of re-deriving rights from role and
status strings; the services check the same rules again on every change.
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
    publish_status: bool = strawberry.field(
        description="Tell customers about it on the status page (publishStatusIncident, "
        "postStatusUpdate): responders, admins and its Communications lead."
    )

    @classmethod
    def of(
        cls,
        user: models.User,
        incident: models.Incident,
        standing: policy.Standing,
        triage: bool,
        holds_comms_lead: bool = False,
    ) -> IncidentPermissions:
        """``triage``: whether the incident is waiting in triage now; ``holds_comms_lead``:
        whether ``user`` holds its Communications lead role."""
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
            publish_status=policy.can_publish_status(user, incident, standing, holds_comms_lead),
        )


@strawberry.type(
    description="What the viewer may do across the organisation, whatever the incident "
    "(checked again on change); what they may do on one incident is Incident.viewerCan."
)
class ViewerPermissions:
    declare: bool = strawberry.field(description="Declare an incident (anyone but viewers).")
    configure: bool = strawberry.field(
        description="Change the configuration (severities, statuses, incident types, roles and "
        "custom fields) and see and revoke anyone's API tokens: admins."
    )
    break_glass: bool = strawberry.field(
        description="Ask to enter any private incident by its reference, with a reason its "
        "members read on the timeline (breakGlass): admins."
    )
    publish_status: bool = strawberry.field(
        description="Publish to the status page and schedule maintenance without a linked "
        "incident: responders and admins (an incident's communications lead may for it: "
        "Incident.viewerCan.publishStatus)."
    )

    @classmethod
    def of(cls, user: models.User) -> ViewerPermissions:
        return cls(
            declare=policy.can_declare(user),
            configure=policy.can_configure(user),
            break_glass=policy.is_admin(user),
            publish_status=policy.can_publish_status(user, None, policy.Standing(), False),
        )

"""The access policy: who may see and change what, private incidents above all."""

import pytest
from sqlalchemy import func, select

from app import policy
from app.errors import Forbidden, Invalid, NotFound
from app.models import EventKind, Incident, IncidentType, RoleAssignment, Severity, TimelineEvent
from app.services import declarations, incidents, members, roles
from app.services.catalog import list_incident_roles


async def lead_role(db):
    async with db.read() as session:
        return next(r for r in await list_incident_roles(session) if r.name == "Incident lead")


async def security_type(db):
    async with db.read() as session:
        return (
            await session.scalars(select(IncidentType).where(IncidentType.name == "Security"))
        ).one()


async def severity(db, name):
    async with db.read() as session:
        return (await session.scalars(select(Severity).where(Severity.name == name))).one()


async def visible_ids(db, user):
    async with db.read() as session:
        query = select(Incident.id).where(policy.visible_incidents(user)).order_by(Incident.id)
        return list(await session.scalars(query))


async def test_who_may_change_a_public_incident(db, people):
    incident = await declarations.declare(db, actor=people.member, name="Public one")
    major = await severity(db, "Major")
    # Bystanders see it but may not change it.
    for bystander in (people.viewer, people.other_member):
        with pytest.raises(Forbidden):
            await incidents.change_severity(
                db, actor=bystander, incident_id=incident.id, severity_id=major.id
            )
    # The reporter and any responder may.
    await incidents.change_severity(
        db, actor=people.member, incident_id=incident.id, severity_id=major.id
    )
    critical = await severity(db, "Critical")
    await incidents.change_severity(
        db, actor=people.other_responder, incident_id=incident.id, severity_id=critical.id
    )
    # Members add notes anywhere they can see; viewers only watch.
    await incidents.add_note(db, actor=people.other_member, incident_id=incident.id, message="+1")
    with pytest.raises(Forbidden):
        await incidents.add_note(db, actor=people.viewer, incident_id=incident.id, message="hi")


async def test_role_holders_may_act(db, people):
    incident = await declarations.declare(db, actor=people.member, name="Needs a lead")
    lead = await lead_role(db)
    await roles.assign_role(
        db, actor=people.member, incident_id=incident.id, role_id=lead.id,
        user_id=people.other_member.id,
    )  # fmt: skip
    major = await severity(db, "Major")
    changed = await incidents.change_severity(
        db, actor=people.other_member, incident_id=incident.id, severity_id=major.id
    )
    assert changed.severity_id == major.id


async def test_private_incident_is_invisible_to_outsiders_even_admins(db, people):
    kind = await security_type(db)
    secret = await declarations.declare(
        db, actor=people.member, name="Laptop lost", type_id=kind.id
    )
    public = await declarations.declare(db, actor=people.other_member, name="Search slow")
    assert secret.private
    for outsider in (people.viewer, people.other_member, people.responder, people.admin):
        assert await visible_ids(db, outsider) == [public.id]
        async with db.read() as session:
            assert await incidents.find_incident(session, outsider, secret.id) is None
            assert await incidents.find_incident(session, outsider, 10_000) is None
            assert await incidents.find_incident_by_reference(session, outsider, "INC-1") is None
        # Writes answer exactly as for an incident that was never created.
        for incident_id in (secret.id, 10_000):
            with pytest.raises(NotFound) as refused:
                await incidents.add_note(
                    db, actor=outsider, incident_id=incident_id, message="peek"
                )
            assert (refused.value.message, refused.value.field) == (
                "No incident with that id.",
                "incidentId",
            )
    assert await visible_ids(db, people.member) == [secret.id, public.id]


async def test_members_invite_and_removed_members_lose_access(db, people):
    kind = await security_type(db)
    secret = await declarations.declare(db, actor=people.member, name="Phishing", type_id=kind.id)
    with pytest.raises(NotFound):
        await members.invite(
            db, actor=people.responder, incident_id=secret.id, user_id=people.responder.id
        )
    await members.invite(
        db, actor=people.member, incident_id=secret.id, user_id=people.responder.id
    )
    assert await visible_ids(db, people.responder) == [secret.id]
    # The invited responder may now manage it, and invite others.
    lead = await lead_role(db)
    await roles.assign_role(
        db, actor=people.responder, incident_id=secret.id, role_id=lead.id,
        user_id=people.other_responder.id,
    )  # fmt: skip
    assert await visible_ids(db, people.other_responder) == [secret.id]
    await members.remove_member(
        db, actor=people.member, incident_id=secret.id, user_id=people.other_responder.id
    )
    assert await visible_ids(db, people.other_responder) == []
    async with db.read() as session:
        held = await session.scalar(
            select(func.count())
            .select_from(RoleAssignment)
            .where(RoleAssignment.user_id == people.other_responder.id)
        )
    assert held == 0
    public = await declarations.declare(db, actor=people.member, name="Public")
    with pytest.raises(Invalid):  # inviting only makes sense for private incidents
        await members.invite(
            db, actor=people.member, incident_id=public.id, user_id=people.viewer.id
        )


async def test_break_glass_is_for_admins_with_a_reason_and_is_recorded(db, people):
    kind = await security_type(db)
    secret = await declarations.declare(db, actor=people.member, name="Breach", type_id=kind.id)
    for not_admin in (people.responder, people.viewer):
        with pytest.raises(NotFound):
            await members.break_glass(db, actor=not_admin, incident_id=secret.id, reason="curious")
    with pytest.raises(Invalid):
        await members.break_glass(db, actor=people.admin, incident_id=secret.id, reason="  ")
    assert await visible_ids(db, people.admin) == []
    await members.break_glass(
        db, actor=people.admin, incident_id=secret.id, reason="Legal hold request #42"
    )
    assert await visible_ids(db, people.admin) == [secret.id]
    async with db.read() as session:
        last = await session.scalar(
            select(TimelineEvent).where(TimelineEvent.incident_id == secret.id)
            .order_by(TimelineEvent.id.desc()).limit(1)
        )  # fmt: skip
    assert last.kind is EventKind.BREAK_GLASS
    assert last.actor_id == people.admin.id
    assert last.payload == {"reason": "Legal hold request #42"}


async def test_deactivated_users_see_nothing(db, people):
    await declarations.declare(db, actor=people.member, name="Anything")
    people.member.active = False
    assert await visible_ids(db, people.member) == []
    with pytest.raises(Forbidden):
        await declarations.declare(db, actor=people.member, name="Not any more")


async def test_private_incidents_are_never_merged(db, people):
    """Either timeline would name the other incident to people who may not see it."""
    kind = await security_type(db)
    secret = await declarations.declare(db, actor=people.responder, name="Leak", type_id=kind.id)
    public = await declarations.declare(db, actor=people.responder, name="Outage")
    for source, target in ((public, secret), (secret, public)):
        with pytest.raises(Invalid):
            await incidents.merge(
                db, actor=people.responder, incident_id=source.id, into_id=target.id
            )
    async with db.read() as session:
        events = await session.scalar(select(func.count()).select_from(TimelineEvent))
    assert events == 2

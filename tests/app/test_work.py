"""Roles, actions and follow-ups, custom fields and followers on an incident."""

from datetime import date

import pytest
from sqlalchemy import select

from app.errors import Forbidden, Invalid, NotFound
from app.models import (
    ActionKind,
    ActionStatus,
    CustomFieldValue,
    EventKind,
    Follower,
    Incident,
    TimelineEvent,
)
from app.services import actions, catalog, declarations, fields, followers, incidents, roles


async def role(db, name):
    async with db.read() as session:
        return next(r for r in await catalog.list_incident_roles(session) if r.name == name)


async def field(db, name):
    async with db.read() as session:
        return next(f for f in await catalog.list_custom_fields(session) if f.name == name)


async def last_event(db, incident):
    async with db.read() as session:
        return await session.scalar(
            select(TimelineEvent).where(TimelineEvent.incident_id == incident.id)
            .order_by(TimelineEvent.id.desc()).limit(1)
        )  # fmt: skip


async def test_lead_is_handed_over_and_never_left_empty(db, people):
    incident = await declarations.declare(db, actor=people.member, name="Handover")
    lead = await role(db, "Incident lead")
    taken = await roles.assign_role(
        db, actor=people.responder, incident_id=incident.id, role_id=lead.id,
        user_id=people.responder.id,
    )  # fmt: skip
    assert taken.user_id == people.responder.id
    await roles.assign_role(
        db, actor=people.responder, incident_id=incident.id, role_id=lead.id,
        user_id=people.other_responder.id,
    )  # fmt: skip
    event = await last_event(db, incident)
    assert event.kind is EventKind.ROLE_ASSIGNED
    assert event.payload["previous"] == "Rita Responder"
    assert event.payload["user"] == "Ravi Responder"
    with pytest.raises(Invalid):
        await roles.unassign_role(
            db, actor=people.responder, incident_id=incident.id, role_id=lead.id
        )
    with pytest.raises(Invalid):
        await roles.assign_role(
            db, actor=people.responder, incident_id=incident.id,
            role_id=(await role(db, "Reporter")).id, user_id=people.responder.id,
        )  # fmt: skip
    with pytest.raises(Invalid):  # viewers watch; they do not hold roles
        await roles.assign_role(
            db, actor=people.responder, incident_id=incident.id, role_id=lead.id,
            user_id=people.viewer.id,
        )  # fmt: skip


async def test_optional_roles_can_be_unassigned(db, people):
    incident = await declarations.declare(db, actor=people.member, name="Comms")
    comms = await role(db, "Communications lead")
    await roles.assign_role(
        db, actor=people.member, incident_id=incident.id, role_id=comms.id,
        user_id=people.other_member.id,
    )  # fmt: skip
    await roles.unassign_role(db, actor=people.member, incident_id=incident.id, role_id=comms.id)
    assert (await last_event(db, incident)).kind is EventKind.ROLE_UNASSIGNED
    with pytest.raises(NotFound):
        await roles.unassign_role(
            db, actor=people.member, incident_id=incident.id, role_id=comms.id
        )


async def test_actions_and_follow_ups(db, people):
    incident = await declarations.declare(db, actor=people.member, name="Work to do")
    action = await actions.add_action(
        db, actor=people.responder, incident_id=incident.id, title="Roll back deploy 4411",
        owner_id=people.other_member.id, due_on=date(2030, 1, 1),
    )  # fmt: skip
    assert action.kind is ActionKind.ACTION and action.status is ActionStatus.OPEN
    # The owner works on their own action though they hold no role.
    done = await actions.update_action(
        db, actor=people.other_member, action_id=action.id, status=ActionStatus.DONE
    )
    assert done.status is ActionStatus.DONE and done.completed_at is not None
    event = await last_event(db, incident)
    assert event.kind is EventKind.ACTION_UPDATED
    assert event.payload["changes"] == {"status": "DONE"}
    # Somebody else's action is not theirs to change.
    with pytest.raises(Forbidden):
        await actions.update_action(
            db, actor=people.viewer, action_id=action.id, status=ActionStatus.OPEN
        )
    cleared = await actions.update_action(
        db, actor=people.responder, action_id=action.id, owner_id=None, due_on=None
    )
    assert cleared.owner_id is None and cleared.due_on is None
    with pytest.raises(Invalid):
        await actions.update_action(db, actor=people.responder, action_id=action.id)

    follow_up = await actions.add_action(
        db, actor=people.member, incident_id=incident.id, title="Alert on error rate",
        kind=ActionKind.FOLLOW_UP,
    )  # fmt: skip
    assert follow_up.kind is ActionKind.FOLLOW_UP
    assert (await last_event(db, incident)).kind is EventKind.FOLLOW_UP_ADDED
    await actions.update_action(
        db, actor=people.member, action_id=follow_up.id, status=ActionStatus.NOT_DOING
    )
    assert (await last_event(db, incident)).kind is EventKind.FOLLOW_UP_UPDATED
    with pytest.raises(NotFound):
        await actions.update_action(db, actor=people.member, action_id=999, title="x")


async def test_owning_work_on_a_private_incident_admits_the_owner(db, people):
    async with db.read() as session:
        security = next(
            t for t in await catalog.list_incident_types(session) if t.name == "Security"
        )
    secret = await declarations.declare(
        db, actor=people.member, name="Token leak", type_id=security.id
    )
    await actions.add_action(
        db, actor=people.member, incident_id=secret.id, title="Rotate the key",
        owner_id=people.responder.id,
    )  # fmt: skip
    async with db.read() as session:
        assert await incidents.find_incident(session, people.responder, secret.id) is not None
        kinds = list(
            await session.scalars(
                select(TimelineEvent.kind).where(TimelineEvent.incident_id == secret.id)
                .order_by(TimelineEvent.id)
            )
        )  # fmt: skip
    assert kinds == [EventKind.DECLARED, EventKind.MEMBER_INVITED, EventKind.ACTION_ADDED]


async def test_custom_field_values_are_checked_and_recorded(db, people):
    teams = await field(db, "Affected teams")
    customers = await field(db, "Customers affected")
    page = await field(db, "Status page")
    payments, support = teams.options[1].id, teams.options[0].id
    incident = await declarations.declare(
        db, actor=people.member, name="Fields", custom_fields={teams.id: [payments, support]}
    )
    await fields.set_custom_field_value(
        db, actor=people.member, incident_id=incident.id, field_id=customers.id, value=34
    )
    event = await last_event(db, incident)
    assert event.payload == {"field": "Customers affected", "from": None, "to": 34.0}
    await fields.set_custom_field_value(
        db, actor=people.member, incident_id=incident.id, field_id=teams.id, value=[payments]
    )
    assert (await last_event(db, incident)).payload["to"] == ["Payments"]
    async with db.read() as session:
        rows = (
            await session.scalars(
                select(CustomFieldValue).where(CustomFieldValue.field_id == teams.id)
            )
        ).all()
    assert [r.option_id for r in rows] == [payments]
    for target, value in [
        (teams, [999]),
        (teams, "Payments"),
        (customers, "many"),
        (customers, float("nan")),
        (page, "javascript:alert(1)"),
        (page, 5),
    ]:
        with pytest.raises(Invalid):
            await fields.set_custom_field_value(
                db, actor=people.member, incident_id=incident.id, field_id=target.id, value=value
            )
    await fields.set_custom_field_value(
        db, actor=people.member, incident_id=incident.id, field_id=page.id,
        value="https://status.example.com/incidents/1",
    )  # fmt: skip
    await fields.set_custom_field_value(
        db, actor=people.member, incident_id=incident.id, field_id=teams.id, value=None
    )
    assert (await last_event(db, incident)).payload == {
        "field": "Affected teams", "from": ["Payments"], "to": None,
    }  # fmt: skip
    async with db.read() as session:
        assert (await session.get_one(Incident, incident.id)).version == 5


async def test_follow_and_unfollow(db, people):
    incident = await declarations.declare(db, actor=people.member, name="Watch me")
    await followers.follow(db, actor=people.viewer, incident_id=incident.id)
    with pytest.raises(Invalid):
        await followers.follow(db, actor=people.viewer, incident_id=incident.id)
    async with db.read() as session:
        assert await session.get(Follower, (incident.id, people.viewer.id)) is not None
        assert (await session.get_one(Incident, incident.id)).version == 1
    await followers.unfollow(db, actor=people.viewer, incident_id=incident.id)
    with pytest.raises(Invalid):
        await followers.unfollow(db, actor=people.viewer, incident_id=incident.id)

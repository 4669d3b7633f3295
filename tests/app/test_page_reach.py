"""Whom a write's change to signed-in pages reaches (``app.models.touching``, ``app.db.Reach``):
a write confined to a private incident reaches only its members and the people its rows name,
so nobody outside it has a page drawn again (or answered more slowly) because of it; anything
else, including making an incident private or public, reaches everyone. The reach crosses to
other processes in the NOTIFY payload and reads back the same."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from app.db import EVERYONE, MAX_NAMED, Database, Reach, Touched
from app.events import EventHub
from app.models import CustomField, IncidentRole, IncidentType
from app.services import (
    actions,
    declarations,
    fields,
    followers,
    incidents,
    members,
    roles,
)


@pytest.fixture
def heard(db) -> list[Reach]:
    reaches: list[Reach] = []
    db.on_touched[Touched.PAGES].append(reaches.append)
    return reaches


async def named(db, model, name):
    async with db.read() as session:
        return await session.scalar(select(model).where(model.name == name))


async def declared(db, people, *, private: bool):
    kind = await named(db, IncidentType, "Security" if private else "Default")
    incident = await declarations.declare(db, actor=people.member, name="Leak", type_id=kind.id)
    assert incident.private is private
    return incident


def writes(db, people, incident_id: int, lead_id: int, field_id: int):
    """Each write someone may make inside an incident, with the people it concerns."""
    return [
        (incidents.share_update(db, actor=people.member, incident_id=incident_id, message="u"), set()),
        (incidents.add_note(db, actor=people.member, incident_id=incident_id, message="n"), set()),
        (
            roles.assign_role(
                db, actor=people.member, incident_id=incident_id, role_id=lead_id,
                user_id=people.member.id,
            ),
            {people.member.id},
        ),
        (
            actions.add_action(
                db, actor=people.member, incident_id=incident_id, title="Look",
                owner_id=people.member.id,
            ),
            {people.member.id},
        ),
        (followers.follow(db, actor=people.other_member, incident_id=incident_id), {people.other_member.id}),
        (
            fields.set_custom_field_value(
                db, actor=people.member, incident_id=incident_id, field_id=field_id, value=3
            ),
            set(),
        ),
        (
            fields.set_custom_field_value(
                db, actor=people.member, incident_id=incident_id, field_id=field_id, value=4
            ),
            set(),
        ),
    ]  # fmt: skip


async def test_writes_inside_a_private_incident_reach_only_its_members(db, people, heard):
    incident = await declared(db, people, private=True)
    [declaring] = heard
    assert not declaring.everyone
    assert declaring.incidents == {incident.id}
    assert people.member.id in declaring.people  # the declarer: member, follower, notified
    # Letting someone in reaches them too: what they may see changes.
    heard.clear()
    await members.invite(
        db, actor=people.member, incident_id=incident.id, user_id=people.other_member.id
    )
    [letting_in] = heard
    assert not letting_in.everyone and people.other_member.id in letting_in.people
    lead = await named(db, IncidentRole, "Incident lead")
    customers = await named(db, CustomField, "Customers affected")
    for write, concerned in writes(db, people, incident.id, lead.id, customers.id):
        heard.clear()
        await write
        [reach] = heard
        assert (reach.everyone, reach.incidents) == (False, {incident.id}), write
        assert concerned <= reach.people, write


async def test_writes_to_a_public_incident_and_changes_of_visibility_reach_everyone(
    db, people, heard
):
    incident = await declared(db, people, private=False)
    lead = await named(db, IncidentRole, "Incident lead")
    customers = await named(db, CustomField, "Customers affected")
    for write, _ in writes(db, people, incident.id, lead.id, customers.id):
        heard.clear()
        await write
        assert heard == [EVERYONE], write

    secret = await declared(db, people, private=True)
    for private in (False, True):  # made public (everyone may now see it), then private again
        heard.clear()
        await incidents.change_visibility(
            db, actor=people.member, incident_id=secret.id, private=private
        )
        assert heard == [EVERYONE]


def test_a_reach_reads_back_from_its_notify_payload():
    reach = Reach(False, frozenset({3, 41}), frozenset({7}))
    assert Reach.from_named(reach.named()) == reach
    assert Reach.from_named(Reach().named()) == Reach()
    assert EVERYONE.named() == ""
    for unreadable in ("", "1,x;2", "nothing"):
        assert Reach.from_named(unreadable) == EVERYONE
    # Too many to name in one notice: everyone, never a reach that leaves someone out.
    crowded = Reach(False, frozenset(range(MAX_NAMED)), frozenset())
    assert crowded.named() == "" and Reach.from_named(crowded.named()) == EVERYONE


async def test_another_process_hears_the_same_reach(db, database_url, people):
    if db.is_sqlite:
        pytest.skip("NOTIFY is PostgreSQL's; one process writes a SQLite database")
    incident = await declared(db, people, private=True)
    heard: asyncio.Queue[Reach] = asyncio.Queue()
    hub = EventHub(db, poll_interval=0.05)
    db.on_touched[Touched.PAGES].append(heard.put_nowait)
    await hub.start()
    elsewhere = Database(database_url, clock=db.now)
    try:
        while (await asyncio.wait_for(heard.get(), 10)) != EVERYONE:
            pass  # the listener is connected: it reports everything once, for everyone
        await incidents.add_note(
            elsewhere, actor=people.member, incident_id=incident.id, message="x"
        )
        reach = await asyncio.wait_for(heard.get(), 10)
        assert (reach.everyone, reach.incidents) == (False, {incident.id})
    finally:
        await hub.stop()
        await elsewhere.dispose()

"""Notifications: who hears what by default, once per cause, never about what they may not see;
the inbox, its unread count and marking read; the outbox consumer that makes them (its stored
position, replays, and two processes at once on PostgreSQL)."""

from __future__ import annotations

import asyncio
import functools

import pytest
from sqlalchemy import func, select

from app.db import Database
from app.dispatch import Dispatcher
from app.errors import Invalid
from app.models import Job, Notification, NotificationKind, OutboxPosition, StatusCategory
from app.services import (
    declarations,
    followers,
    incidents,
    members,
    notifications,
    roles,
    who_hears,
)
from tests.support.factories import lead_role, status_in


def dispatcher(db: Database, *, email: bool = False) -> Dispatcher:
    return Dispatcher(db, [functools.partial(who_hears.react, email=email)])


async def caught_up(dispatching: Dispatcher) -> None:
    while await dispatching.run():
        pass


async def inbox(db, person, **options):
    async with db.read() as session:
        rows = await notifications.list_notifications(session, person, first=50, **options)
        count = await notifications.unread_count(session, person)
    return [(n.kind, n.title) for n in rows], count


async def test_followers_hear_updates_and_resolution_but_not_their_own(db, people):
    dispatching = dispatcher(db)
    await caught_up(dispatching)  # what happened before the test began
    incident = await declarations.declare(db, actor=people.member, name="Checkout is slow")
    for person in (people.viewer, people.responder):
        await followers.follow(db, actor=person, incident_id=incident.id)
    await incidents.share_update(
        db, actor=people.responder, incident_id=incident.id, message="Rolled back the CDN."
    )
    post = await status_in(db, StatusCategory.POST_INCIDENT)
    await incidents.change_status(
        db, actor=people.responder, incident_id=incident.id, status_id=post.id
    )
    await caught_up(dispatching)

    heard, unread = await inbox(db, people.viewer)
    assert heard == [
        (NotificationKind.INCIDENT_RESOLVED, f"Resolved: {incident.reference} Checkout is slow"),
        (NotificationKind.UPDATE_SHARED, f"Update on {incident.reference} Checkout is slow"),
    ]
    assert unread == 2
    assert await inbox(db, people.responder) == ([], 0)  # they did it themselves


async def test_the_role_holder_and_the_reporter_hear_what_concerns_them(db, people):
    dispatching = dispatcher(db)
    await caught_up(dispatching)
    incident = await declarations.declare(db, actor=people.member, name="Refunds fail", triage=True)
    lead = await lead_role(db)
    await roles.assign_role(
        db, actor=people.responder, incident_id=incident.id, role_id=lead.id,
        user_id=people.other_responder.id,
    )  # fmt: skip
    await incidents.decline(db, actor=people.responder, incident_id=incident.id, reason="Dupe")
    await caught_up(dispatching)

    heard, _ = await inbox(db, people.other_responder)
    assert heard == [
        (NotificationKind.ROLE_ASSIGNED, f"You are now {lead.name} of {incident.reference} "
         "Refunds fail"),
    ]  # fmt: skip
    reporter_heard, _ = await inbox(db, people.member)
    assert reporter_heard == [
        (NotificationKind.INCIDENT_DECLINED, f"Declined: {incident.reference} Refunds fail")
    ]


async def test_an_event_handled_twice_notifies_once(db, people):
    dispatching = dispatcher(db)
    await caught_up(dispatching)
    incident = await declarations.declare(db, actor=people.member, name="Login loops")
    await followers.follow(db, actor=people.viewer, incident_id=incident.id)
    await incidents.share_update(db, actor=people.member, incident_id=incident.id, message="Hi")
    async with db.read() as session:
        start = (await session.get(OutboxPosition, "reactions")).position
    await caught_up(dispatching)
    async with db.write() as session:  # as if the process died before its commit was known
        (await session.get(OutboxPosition, "reactions")).position = start
    await caught_up(dispatching)
    assert (await inbox(db, people.viewer))[1] == 1


async def test_nobody_hears_of_a_private_incident_they_are_not_in(db, people):
    dispatching = dispatcher(db)
    await caught_up(dispatching)
    incident = await declarations.declare(db, actor=people.responder, name="Laptop lost")
    await followers.follow(db, actor=people.viewer, incident_id=incident.id)
    await followers.follow(db, actor=people.member, incident_id=incident.id)
    await incidents.change_visibility(
        db, actor=people.responder, incident_id=incident.id, private=True
    )
    await members.invite(
        db, actor=people.responder, incident_id=incident.id, user_id=people.member.id
    )
    await incidents.share_update(
        db, actor=people.responder, incident_id=incident.id, message="Wiped remotely."
    )
    await caught_up(dispatching)
    assert await inbox(db, people.viewer) == ([], 0)  # follows it, but may not see it now
    assert (await inbox(db, people.member))[1] == 1

    # Removed from it, the member's notification about it is gone from their inbox and count.
    await members.remove_member(
        db, actor=people.responder, incident_id=incident.id, user_id=people.member.id
    )
    assert await inbox(db, people.member) == ([], 0)


async def test_marking_read_counts_only_your_own(db, people):
    incident = await declarations.declare(db, actor=people.member, name="Search is stale")
    async with db.write() as session:
        for n in range(3):
            await notifications.send(
                session, [people.viewer.id, people.member.id],
                kind=NotificationKind.UPDATE_SHARED, incident=incident, title=f"Update {n}",
                cause=f"test:{n}", now=db.now(), email=False,
            )  # fmt: skip
    async with db.read() as session:
        viewers = await notifications.list_notifications(session, people.viewer, first=10)
        members_ = await notifications.list_notifications(session, people.member, first=10)
    assert [n.title for n in viewers] == ["Update 2", "Update 1", "Update 0"]  # newest first

    # Someone else's id changes nothing.
    assert await notifications.mark_read(db, actor=people.viewer, ids=[members_[0].id]) == 0
    assert await notifications.mark_read(db, actor=people.viewer, ids=[viewers[0].id]) == 1
    assert (await inbox(db, people.viewer))[1] == 2
    assert (await inbox(db, people.viewer, unread_only=True))[0] == [
        (NotificationKind.UPDATE_SHARED, "Update 1"),
        (NotificationKind.UPDATE_SHARED, "Update 0"),
    ]
    assert await notifications.mark_read(db, actor=people.viewer, everything=True) == 2
    assert (await inbox(db, people.viewer))[1] == 0
    assert (await inbox(db, people.member))[1] == 3
    with pytest.raises(Invalid):
        await notifications.mark_read(db, actor=people.viewer)


async def test_email_jobs_follow_each_persons_preferences(db, people):
    incident = await declarations.declare(db, actor=people.member, name="Exports fail")
    await notifications.update_preferences(
        db, actor=people.viewer,
        choices=[notifications.Preference(NotificationKind.UPDATE_SHARED, email=False)],
    )  # fmt: skip
    async with db.write() as session:
        made = await notifications.send(
            session, [people.viewer.id, people.member.id], kind=NotificationKind.UPDATE_SHARED,
            incident=incident, title="Update", cause="test:email", now=db.now(), email=True,
        )  # fmt: skip
    async with db.read() as session:
        queued = (await session.scalars(select(Job).where(Job.kind == "email"))).all()
        preferences = await notifications.preferences(session, people.viewer)
    member_notification = next(n for n in made if n.user_id == people.member.id)
    assert [job.payload for job in queued] == [{"notification_id": member_notification.id}]
    assert notifications.Preference(NotificationKind.UPDATE_SHARED, email=False) in preferences
    assert notifications.Preference(NotificationKind.STATUS_CHANGED, email=True) in preferences


async def test_two_processes_dispatch_each_event_once(db, database_url, people, clock):
    if db.is_sqlite:
        pytest.skip("one process writes a SQLite database; two dispatchers need PostgreSQL")
    first, second = dispatcher(db), dispatcher(Database(database_url, clock=clock))
    try:
        await caught_up(first)
        incident = await declarations.declare(db, actor=people.member, name="Billing is down")
        await followers.follow(db, actor=people.viewer, incident_id=incident.id)
        for n in range(30):
            await incidents.add_note(
                db, actor=people.member, incident_id=incident.id, message=f"n{n}"
            )
            await incidents.share_update(
                db, actor=people.member, incident_id=incident.id, message=f"Update {n}"
            )
        await asyncio.gather(caught_up(first), caught_up(second), caught_up(first))
        async with db.read() as session:
            count = await session.scalar(
                select(func.count())
                .select_from(Notification)
                .where(Notification.user_id == people.viewer.id)
            )
        assert count == 30
    finally:
        await second.db.dispose()


async def test_many_inboxes_read_at_once_match_each_read_alone(db, people):
    public = await declarations.declare(db, actor=people.responder, name="Slow search")
    secret = await declarations.declare(db, actor=people.responder, name="Leak", private=True)
    await members.invite(
        db, actor=people.responder, incident_id=secret.id, user_id=people.member.id
    )
    everyone = [people.viewer, people.member, people.other_member]
    async with db.write() as session:
        for n, incident in enumerate([public, secret, None]):
            await notifications.send(
                session, [p.id for p in everyone], kind=NotificationKind.UPDATE_SHARED,
                incident=incident, title=f"About {n}", cause=f"test:{n}", now=db.now(),
                email=False,
            )  # fmt: skip
    await notifications.mark_read(db, actor=people.other_member, everything=True)
    async with db.read() as session:
        states = await notifications.inbox_states(session, [p.id for p in everyone])
        for person in everyone:
            alone = await notifications.list_notifications(session, person, first=1)
            assert states[person.id] == notifications.InboxState(
                await notifications.unread_count(session, person), alone[0]
            )
    assert [states[p.id].unread for p in everyone] == [2, 3, 0]

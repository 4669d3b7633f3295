"""Nudges: an overdue update reminds the communications lead (else the lead, else the reporter)
once per round until someone shares an update, with one timeline event per promised time; an
active incident without a lead reminds its reporter once; a late follow-up reminds its owner once
per due date; several sweeps at once send each nudge once; nobody is reminded about an incident
they may no longer see."""

import asyncio
from datetime import timedelta

from sqlalchemy import select

from app.config import NudgeSettings
from app.db import Database
from app.models import (
    ActionKind,
    ActionStatus,
    EventKind,
    Incident,
    Job,
    Notification,
    NotificationKind,
    RoleKind,
    TimelineEvent,
    User,
)
from app.services import actions, catalog, declarations, incidents, members, nudges, roles

SETTINGS = NudgeSettings()  # every 15 min again; no lead after 10 min


async def role(db, kind):
    async with db.read() as session:
        return next(r for r in await catalog.list_incident_roles(session) if r.kind is kind)


async def give(db, actor, incident, kind, user):
    role_row = await role(db, kind)
    await roles.assign_role(
        db, actor=actor, incident_id=incident.id, role_id=role_row.id, user_id=user.id
    )


async def inbox(db, user, kind=None):
    async with db.read() as session:
        query = select(Notification).where(Notification.user_id == user.id)
        if kind is not None:
            query = query.where(Notification.kind == kind)
        return list(await session.scalars(query.order_by(Notification.id)))


async def all_notifications(db, kind):
    async with db.read() as session:
        return list(
            await session.scalars(
                select(Notification).where(Notification.kind == kind).order_by(Notification.id)
            )
        )


async def overdue_events(db, incident):
    async with db.read() as session:
        return list(
            await session.scalars(
                select(TimelineEvent)
                .where(
                    TimelineEvent.incident_id == incident.id,
                    TimelineEvent.kind == EventKind.UPDATE_OVERDUE,
                )
                .order_by(TimelineEvent.id)
            )
        )


async def version(db, incident):
    async with db.read() as session:
        return (await session.get_one(Incident, incident.id)).version


async def sweep(db, settings=SETTINGS, email=False):
    await nudges.sweep(db, settings, email=email)


async def test_overdue_update_reminds_the_comms_lead_else_the_lead_else_the_reporter(
    db, people, clock
):
    alone = await declarations.declare(
        db, actor=people.member, name="Search is slow", next_update_in_minutes=30
    )
    led = await declarations.declare(
        db, actor=people.member, name="Checkout is slow", next_update_in_minutes=30
    )
    await give(db, people.responder, led, RoleKind.LEAD, people.responder)
    told = await declarations.declare(
        db, actor=people.member, name="Login fails", next_update_in_minutes=30
    )
    await give(db, people.responder, told, RoleKind.LEAD, people.responder)
    await give(db, people.responder, told, RoleKind.COMMUNICATIONS, people.other_responder)

    clock.advance(minutes=29)
    await sweep(db)
    assert await all_notifications(db, NotificationKind.UPDATE_OVERDUE) == []

    clock.advance(minutes=1)
    await sweep(db)
    sent = await all_notifications(db, NotificationKind.UPDATE_OVERDUE)
    by_incident = {n.incident_id: n for n in sent}
    assert len(sent) == 3
    assert by_incident[alone.id].user_id == people.member.id
    assert by_incident[led.id].user_id == people.responder.id
    assert by_incident[told.id].user_id == people.other_responder.id
    notice = by_incident[told.id]
    assert notice.title == f"Update overdue: {told.reference} Login fails"
    due = told.next_update_due_at
    assert notice.body == (
        f"You promised an update by {due:%H:%M} UTC. "
        "Share one to let everyone know where things stand."
    )
    [event] = await overdue_events(db, told)
    assert event.actor_id is None
    assert event.payload == {"reminded": "Ravi Responder", "due_at": due.isoformat()}
    assert [e.payload["reminded"] for e in await overdue_events(db, alone)] == ["Mo Member"]


async def test_overdue_repeats_every_interval_with_one_event_per_promise(db, people, clock):
    incident = await declarations.declare(
        db, actor=people.member, name="Checkout is slow", next_update_in_minutes=30
    )
    before = await version(db, incident)
    for minutes, expected in [(30, 1), (1, 1), (5, 1), (9, 2), (1, 2), (14, 3), (30, 4)]:
        clock.advance(minutes=minutes)
        await sweep(db)
        await sweep(db)
        assert len(await inbox(db, people.member, NotificationKind.UPDATE_OVERDUE)) == expected
    # Rounds skipped while no process swept are not made up (one per sweep at most).
    assert len(await overdue_events(db, incident)) == 1
    assert await version(db, incident) == before  # nobody's open form goes stale


async def test_sharing_an_update_stops_the_nudges_and_a_new_promise_starts_anew(db, people, clock):
    incident = await declarations.declare(
        db, actor=people.member, name="Checkout is slow", next_update_in_minutes=30
    )
    clock.advance(minutes=31)
    await sweep(db)
    await incidents.share_update(
        db, actor=people.member, incident_id=incident.id, message="Rolling back.",
        next_update_in_minutes=30,
    )  # fmt: skip
    clock.advance(minutes=15)
    await sweep(db)
    assert len(await inbox(db, people.member, NotificationKind.UPDATE_OVERDUE)) == 1

    clock.advance(minutes=15)
    await sweep(db)
    assert len(await inbox(db, people.member, NotificationKind.UPDATE_OVERDUE)) == 2
    assert len(await overdue_events(db, incident)) == 2  # one per promised time

    await incidents.share_update(
        db, actor=people.member, incident_id=incident.id, message="Fixed, watching."
    )
    clock.advance(hours=2)
    await sweep(db)
    assert len(await inbox(db, people.member, NotificationKind.UPDATE_OVERDUE)) == 2


async def test_sweeps_at_once_send_each_nudge_once(db, people, clock):
    incident = await declarations.declare(
        db, actor=people.member, name="Checkout is slow", next_update_in_minutes=30
    )
    await actions.add_action(
        db, actor=people.member, incident_id=incident.id, title="Write it up",
        kind=ActionKind.FOLLOW_UP, owner_id=people.responder.id, due_on=clock().date(),
    )  # fmt: skip
    clock.advance(days=1)
    others = [Database(db.url, clock=clock) for _ in range(3)]
    try:
        await asyncio.gather(sweep(db), *(sweep(other) for other in others))
    finally:
        for other in others:
            await other.dispose()
    assert len(await inbox(db, people.member, NotificationKind.UPDATE_OVERDUE)) == 1
    assert len(await inbox(db, people.member, NotificationKind.NO_LEAD)) == 1
    assert len(await inbox(db, people.responder, NotificationKind.FOLLOW_UP_DUE)) == 1
    assert len(await overdue_events(db, incident)) == 1


async def test_nobody_is_reminded_about_a_private_incident_they_were_removed_from(
    db, people, clock
):
    incident = await declarations.declare(
        db, actor=people.responder, name="Payroll leak", private=True, next_update_in_minutes=30
    )
    await members.invite(
        db, actor=people.responder, incident_id=incident.id, user_id=people.other_responder.id
    )
    await members.remove_member(
        db, actor=people.other_responder, incident_id=incident.id, user_id=people.responder.id
    )
    clock.advance(minutes=31)
    await sweep(db)
    assert await all_notifications(db, NotificationKind.UPDATE_OVERDUE) == []
    assert await all_notifications(db, NotificationKind.NO_LEAD) == []
    [event] = await overdue_events(db, incident)
    assert event.payload["reminded"] is None


async def test_a_private_incident_is_not_named_in_its_nudge(db, people, clock):
    incident = await declarations.declare(
        db, actor=people.responder, name="Payroll leak", private=True, next_update_in_minutes=30
    )
    clock.advance(minutes=31)
    await sweep(db, email=True)
    [notice] = await inbox(db, people.responder, NotificationKind.UPDATE_OVERDUE)
    assert notice.title == "A private incident you are in has an overdue update"
    [no_lead] = await inbox(db, people.responder, NotificationKind.NO_LEAD)
    assert "Payroll" not in no_lead.title + no_lead.body
    async with db.read() as session:
        emailed = {
            job.payload["notification_id"]
            for job in await session.scalars(select(Job).where(Job.kind == "email"))
        }
    assert emailed == {notice.id, no_lead.id}
    assert incident.private


async def test_an_active_incident_without_a_lead_reminds_its_reporter_once(db, people, clock):
    lost = await declarations.declare(db, actor=people.member, name="Checkout is slow")
    led = await declarations.declare(db, actor=people.other_member, name="Search is slow")
    await give(db, people.responder, led, RoleKind.LEAD, people.responder)
    waiting = await declarations.declare(
        db, actor=people.other_member, name="Odd graph", triage=True
    )
    clock.advance(minutes=9)
    await sweep(db)
    assert await all_notifications(db, NotificationKind.NO_LEAD) == []

    clock.advance(minutes=2)
    await sweep(db)
    [notice] = await all_notifications(db, NotificationKind.NO_LEAD)
    assert (notice.user_id, notice.incident_id) == (people.member.id, lost.id)
    assert notice.title == f"No lead yet: {lost.reference} Checkout is slow"

    clock.advance(minutes=30)
    await sweep(db)
    assert len(await all_notifications(db, NotificationKind.NO_LEAD)) == 1

    # Accepted out of triage: ten minutes from then, not from the declare.
    await incidents.accept(db, actor=people.responder, incident_id=waiting.id)
    clock.advance(minutes=9)
    await sweep(db)
    assert len(await all_notifications(db, NotificationKind.NO_LEAD)) == 1
    clock.advance(minutes=2)
    await sweep(db)
    later = await inbox(db, people.other_member, NotificationKind.NO_LEAD)
    assert [n.incident_id for n in later] == [waiting.id]


async def test_a_late_follow_up_reminds_its_owner_once_per_due_date(db, people, clock):
    incident = await declarations.declare(db, actor=people.member, name="Checkout is slow")
    today = clock().date()
    follow_up = await actions.add_action(
        db, actor=people.member, incident_id=incident.id, title="Write it up",
        kind=ActionKind.FOLLOW_UP, owner_id=people.responder.id, due_on=today,
    )  # fmt: skip
    await actions.add_action(
        db, actor=people.member, incident_id=incident.id, title="Tell finance",
        kind=ActionKind.FOLLOW_UP, due_on=today,
    )  # fmt: skip
    await actions.add_action(
        db, actor=people.member, incident_id=incident.id, title="Roll back",
        owner_id=people.other_responder.id, due_on=today,
    )  # fmt: skip
    await sweep(db)
    assert await all_notifications(db, NotificationKind.FOLLOW_UP_DUE) == []

    clock.advance(days=1)
    await sweep(db)
    await sweep(db)
    [notice] = await all_notifications(db, NotificationKind.FOLLOW_UP_DUE)
    assert notice.user_id == people.responder.id
    assert notice.title == f"Follow-up overdue: “Write it up” ({incident.reference})"

    # A new due date is a new promise: reminded again once it too has passed.
    await actions.update_action(
        db, actor=people.responder, action_id=follow_up.id, due_on=today + timedelta(days=1)
    )
    await sweep(db)
    assert len(await all_notifications(db, NotificationKind.FOLLOW_UP_DUE)) == 1
    clock.advance(days=1)
    await sweep(db)
    assert len(await all_notifications(db, NotificationKind.FOLLOW_UP_DUE)) == 2

    # Done: no more reminders, whatever its date says.
    await actions.update_action(
        db, actor=people.responder, action_id=follow_up.id, status=ActionStatus.DONE,
        due_on=today + timedelta(days=2),
    )  # fmt: skip
    clock.advance(days=2)
    await sweep(db)
    assert len(await all_notifications(db, NotificationKind.FOLLOW_UP_DUE)) == 2


async def test_a_follow_up_owner_who_may_no_longer_see_the_incident_is_not_reminded(
    db, people, clock
):
    incident = await declarations.declare(
        db, actor=people.responder, name="Payroll leak", private=True
    )
    await actions.add_action(
        db, actor=people.responder, incident_id=incident.id, title="Rotate keys",
        kind=ActionKind.FOLLOW_UP, owner_id=people.other_responder.id, due_on=clock().date(),
    )  # fmt: skip
    await members.remove_member(
        db, actor=people.responder, incident_id=incident.id, user_id=people.other_responder.id
    )
    clock.advance(days=1)
    await sweep(db)
    assert await inbox(db, people.other_responder) == []


async def test_a_comms_lead_who_left_the_organisation_is_passed_over_for_the_lead(
    db, people, clock
):
    incident = await declarations.declare(
        db, actor=people.member, name="Checkout is slow", next_update_in_minutes=30
    )
    await give(db, people.responder, incident, RoleKind.LEAD, people.responder)
    await give(db, people.responder, incident, RoleKind.COMMUNICATIONS, people.other_responder)
    async with db.write() as session:
        (await session.get_one(User, people.other_responder.id)).active = False
    clock.advance(minutes=30)
    await sweep(db)
    [notice] = await all_notifications(db, NotificationKind.UPDATE_OVERDUE)
    assert notice.user_id == people.responder.id
    [event] = await overdue_events(db, incident)
    assert event.payload["reminded"] == "Rita Responder"


async def test_a_sweep_sends_a_bounded_batch_oldest_due_first(db, people, clock, monkeypatch):
    monkeypatch.setattr(nudges, "BATCH", 2)
    made = []
    for minutes in (34, 33, 32, 31, 30):
        made.append(
            await declarations.declare(
                db, actor=people.member, name=f"Due in {minutes}", next_update_in_minutes=minutes
            )
        )
    clock.advance(minutes=35)
    sent_for = []
    for expected in (2, 4, 5, 5):
        await sweep(db)
        sent = await all_notifications(db, NotificationKind.UPDATE_OVERDUE)
        assert len(sent) == expected
        sent_for = [n.incident_id for n in sent]
    assert sent_for == [i.id for i in reversed(made)]  # the oldest promise first

"""Declaring incidents and moving them through their life, on SQLite and PostgreSQL."""

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.errors import (
    Conflict,
    ErrorCode,
    Forbidden,
    IdempotencyMismatch,
    Invalid,
    InvalidTransition,
)
from app.models import (
    EventKind,
    Incident,
    IncidentMode,
    IncidentUpdate,
    Member,
    RoleAssignment,
    Severity,
    Status,
    TimelineEvent,
)
from app.services import catalog, declarations, incidents


async def by_name(db, model, name):
    async with db.read() as session:
        return (await session.scalars(select(model).where(model.name == name))).one()


async def reload(db, incident):
    async with db.read() as session:
        return await session.get_one(Incident, incident.id)


async def timeline(db, incident):
    async with db.read() as session:
        query = select(TimelineEvent).where(TimelineEvent.incident_id == incident.id)
        return (await session.scalars(query.order_by(TimelineEvent.id))).all()


async def count(db, model):
    async with db.read() as session:
        return await session.scalar(select(func.count()).select_from(model))


async def test_declare_applies_defaults_and_records_the_reporter(db, people):
    incident = await declarations.declare(
        db, actor=people.member, name="  34 customers can't log in  ", summary="Since 09:10"
    )
    assert incident.reference == "INC-1"
    assert incident.name == "34 customers can't log in"
    assert (await by_name(db, Status, "Investigating")).id == incident.status_id
    assert (await by_name(db, Severity, "Minor")).id == incident.severity_id
    assert incident.mode is IncidentMode.STANDARD
    assert not incident.private
    assert incident.version == 1
    assert incident.declared_at == incident.accepted_at == incident.updated_at
    async with db.read() as session:
        reporter = await session.scalar(
            select(RoleAssignment).where(RoleAssignment.incident_id == incident.id)
        )
        assert reporter.user_id == people.member.id
        assert await session.get(Member, (incident.id, people.member.id)) is not None
    [declared] = await timeline(db, incident)
    assert declared.kind is EventKind.DECLARED
    assert declared.actor_id == people.member.id
    assert declared.payload["name"] == "34 customers can't log in"


async def test_types_bring_their_defaults(db, people):
    security = await by_name(db, catalog.IncidentType, "Security")
    game_day = await by_name(db, catalog.IncidentType, "Game day")
    leak = await declarations.declare(
        db, actor=people.member, name="Key leaked", type_id=security.id
    )
    assert leak.private
    assert leak.severity_id == (await by_name(db, Severity, "Major")).id
    drill = await declarations.declare(db, actor=people.member, name="Drill", type_id=game_day.id)
    assert drill.mode is IncidentMode.TEST
    public_security = await declarations.declare(
        db, actor=people.member, name="Phishing mail", type_id=security.id, private=False
    )
    assert not public_security.private


async def test_viewers_cannot_declare(db, people):
    with pytest.raises(Forbidden):
        await declarations.declare(db, actor=people.viewer, name="Nope")
    assert await count(db, Incident) == 0


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"name": "   "}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"name": "bad\x00name"}, "name"),
        ({"name": "ok", "summary": "s" * 10_001}, "summary"),
        ({"name": "ok", "severity_id": 999}, "severityId"),
        ({"name": "ok", "type_id": 999}, "typeId"),
        ({"name": "ok", "next_update_in_minutes": 0}, "nextUpdateInMinutes"),
        ({"name": "ok", "next_update_in_minutes": 100_000}, "nextUpdateInMinutes"),
        ({"name": "ok", "custom_fields": {999: "x"}}, "fieldId"),
    ],
)
async def test_bad_input_is_refused_and_changes_nothing(db, people, arguments, field):
    with pytest.raises((Invalid, catalog.NotFound)) as refused:
        await declarations.declare(db, actor=people.member, **arguments)
    assert refused.value.field == field
    assert await count(db, Incident) == 0
    assert await count(db, TimelineEvent) == 0
    # The failed attempt used no reference number.
    incident = await declarations.declare(db, actor=people.member, name="Real one")
    assert incident.reference == "INC-1"


async def test_references_are_unique_and_gapless_under_concurrent_declares(db, people):
    declared = await asyncio.gather(
        *(declarations.declare(db, actor=people.member, name=f"Outage {i}") for i in range(8))
    )
    assert sorted(i.number for i in declared) == list(range(1, 9))


async def test_eight_concurrent_writers_never_hit_a_locked_database(db, people):
    incident = await declarations.declare(db, actor=people.responder, name="Busy incident")

    async def writer(n):
        for i in range(5):
            await incidents.add_note(
                db, actor=people.responder, incident_id=incident.id, message=f"{n}.{i}"
            )
            await declarations.declare(db, actor=people.member, name=f"writer {n} #{i}")

    await asyncio.gather(*(writer(n) for n in range(8)))
    assert await count(db, Incident) == 41
    assert len(await timeline(db, incident)) == 41
    assert (await reload(db, incident)).version == 41


async def test_idempotency_key_declares_once(db, people):
    first = await declarations.declare(
        db, actor=people.member, name="Login broken", idempotency_key="k1"
    )
    again = await declarations.declare(
        db, actor=people.member, name="Login broken", idempotency_key="k1"
    )
    assert again.id == first.id
    with pytest.raises(IdempotencyMismatch):
        await declarations.declare(db, actor=people.member, name="Other", idempotency_key="k1")
    # Keys belong to their user: someone else's identical key is a new declaration.
    theirs = await declarations.declare(
        db, actor=people.other_member, name="Login broken", idempotency_key="k1"
    )
    assert theirs.id != first.id
    assert await count(db, Incident) == 2


async def test_concurrent_declares_with_one_key_make_one_incident(db, people):
    results = await asyncio.gather(
        *(
            declarations.declare(
                db, actor=people.member, name="Double click", idempotency_key="same"
            )
            for _ in range(20)
        )
    )
    assert len({r.id for r in results}) == 1
    assert await count(db, Incident) == 1


async def test_triage_accept_decline_and_merge(db, people):
    waiting = await declarations.declare(db, actor=people.member, name="Maybe", triage=True)
    assert waiting.status_id == (await by_name(db, Status, "Triage")).id
    assert waiting.accepted_at is None
    with pytest.raises(Forbidden):  # the reporter may not wave their own report through
        await incidents.accept(db, actor=people.member, incident_id=waiting.id)
    accepted = await incidents.accept(db, actor=people.responder, incident_id=waiting.id)
    assert accepted.status_id == (await by_name(db, Status, "Investigating")).id
    assert accepted.accepted_at is not None
    with pytest.raises(InvalidTransition):
        await incidents.accept(db, actor=people.responder, incident_id=waiting.id)

    noise = await declarations.declare(db, actor=people.member, name="Noise", triage=True)
    declined = await incidents.decline(
        db, actor=people.responder, incident_id=noise.id, reason="Expected maintenance"
    )
    assert declined.status_id == (await by_name(db, Status, "Declined")).id
    with pytest.raises(InvalidTransition):
        await incidents.change_status(
            db,
            actor=people.responder,
            incident_id=noise.id,
            status_id=(await by_name(db, Status, "Fixing")).id,
        )

    duplicate = await declarations.declare(db, actor=people.other_member, name="Same", triage=True)
    merged = await incidents.merge(
        db, actor=people.responder, incident_id=duplicate.id, into_id=accepted.id
    )
    assert merged.merged_into_id == accepted.id
    assert merged.status_id == (await by_name(db, Status, "Merged")).id
    target_events = await timeline(db, accepted)
    assert target_events[-1].kind is EventKind.MERGED
    assert target_events[-1].payload["from"] == duplicate.reference
    with pytest.raises(Invalid):
        await incidents.merge(
            db, actor=people.responder, incident_id=accepted.id, into_id=accepted.id
        )
    with pytest.raises(Invalid):  # nothing merges into a declined incident
        await incidents.merge(db, actor=people.responder, incident_id=accepted.id, into_id=noise.id)


async def test_status_transitions_set_lifecycle_timestamps(db, people, clock):
    incident = await declarations.declare(db, actor=people.member, name="Slow search")
    fixing = await by_name(db, Status, "Fixing")
    documenting = await by_name(db, Status, "Documenting")
    closed = await by_name(db, Status, "Closed")
    investigating = await by_name(db, Status, "Investigating")
    triage = await by_name(db, Status, "Triage")
    declined = await by_name(db, Status, "Declined")

    async def move(status):
        clock.advance(minutes=10)
        return await incidents.change_status(
            db, actor=people.responder, incident_id=incident.id, status_id=status.id
        )

    assert (await move(fixing)).resolved_at is None
    resolved = await move(documenting)
    assert resolved.resolved_at is not None and resolved.closed_at is None
    done = await move(closed)
    assert done.closed_at is not None and done.resolved_at == resolved.resolved_at
    for impossible in (triage, declined, closed):
        with pytest.raises(InvalidTransition):
            await move(impossible)
    reopened = await move(investigating)
    assert reopened.resolved_at is None and reopened.closed_at is None
    events = await timeline(db, incident)
    assert [e.kind for e in events[1:]] == [EventKind.STATUS_CHANGED] * 4
    assert events[-1].payload == {
        "from": "Closed",
        "to": "Investigating",
        "reopened": True,
        "from_category": "CLOSED",
        "to_category": "ACTIVE",
    }
    assert (await reload(db, incident)).version == 5


async def test_sharing_an_update_changes_status_severity_and_promise(db, people, clock):
    incident = await declarations.declare(db, actor=people.member, name="Checkout errors")
    critical = await by_name(db, Severity, "Critical")
    fixing = await by_name(db, Status, "Fixing")
    update = await incidents.share_update(
        db,
        actor=people.responder,
        incident_id=incident.id,
        message="Payments provider is failing; switching to the backup.",
        status_id=fixing.id,
        severity_id=critical.id,
        next_update_in_minutes=15,
    )
    current = await reload(db, incident)
    assert current.status_id == fixing.id
    assert current.severity_id == critical.id
    assert current.next_update_due_at == update.created_at + timedelta(minutes=15)
    assert current.version == 2  # one change, however much it did
    [_, shared] = await timeline(db, incident)
    assert shared.kind is EventKind.UPDATE_SHARED
    assert shared.payload["status"] == {
        "from": "Investigating",
        "to": "Fixing",
        "reopened": False,
        "from_category": "ACTIVE",
        "to_category": "ACTIVE",
    }
    assert shared.payload["severity"] == {"from": "Minor", "to": "Critical"}

    # An update that resolves the incident promises nothing more.
    clock.advance(minutes=5)
    documenting = await by_name(db, Status, "Documenting")
    await incidents.share_update(
        db,
        actor=people.responder,
        incident_id=incident.id,
        message="Fixed.",
        status_id=documenting.id,
        next_update_in_minutes=30,
    )
    current = await reload(db, incident)
    assert current.next_update_due_at is None
    assert current.resolved_at is not None
    async with db.read() as session:
        assert await session.scalar(select(func.count()).select_from(IncidentUpdate)) == 2


async def test_bad_update_changes_nothing(db, people):
    incident = await declarations.declare(db, actor=people.member, name="Flaky")
    triage = await by_name(db, Status, "Triage")
    with pytest.raises(InvalidTransition):
        await incidents.share_update(
            db,
            actor=people.responder,
            incident_id=incident.id,
            message="Back to triage?",
            status_id=triage.id,
            severity_id=(await by_name(db, Severity, "Major")).id,
        )
    current = await reload(db, incident)
    assert current.version == 1
    assert current.severity_id == incident.severity_id
    assert len(await timeline(db, incident)) == 1


async def test_stale_version_is_a_conflict_and_overwrites_nothing(db, people):
    incident = await declarations.declare(db, actor=people.member, name="Race")
    major = await by_name(db, Severity, "Major")
    critical = await by_name(db, Severity, "Critical")
    await incidents.change_severity(
        db, actor=people.responder, incident_id=incident.id, severity_id=major.id,
        expected_version=1,
    )  # fmt: skip
    with pytest.raises(Conflict) as conflict:
        await incidents.change_severity(
            db, actor=people.other_responder, incident_id=incident.id,
            severity_id=critical.id, expected_version=1,
        )  # fmt: skip
    assert conflict.value.code is ErrorCode.CONFLICT
    assert (await reload(db, incident)).severity_id == major.id


async def test_two_concurrent_edits_from_one_version_one_wins(db, people):
    incident = await declarations.declare(db, actor=people.member, name="Race again")
    major = await by_name(db, Severity, "Major")
    critical = await by_name(db, Severity, "Critical")
    results = await asyncio.gather(
        *(
            incidents.change_severity(
                db,
                actor=people.responder,
                incident_id=incident.id,
                severity_id=severity.id,
                expected_version=1,
            )
            for severity in (major, critical)
        ),
        return_exceptions=True,
    )
    assert sum(isinstance(r, Conflict) for r in results) == 1
    winner = next(r for r in results if not isinstance(r, Exception))
    assert (await reload(db, incident)).severity_id == winner.severity_id


async def test_retrospective_incidents_are_backdated(db, people, clock):
    began = clock() - timedelta(days=3)
    ended = began + timedelta(hours=2)
    incident = await declarations.declare(
        db,
        actor=people.member,
        name="Weekend data export failed",
        mode=IncidentMode.RETROSPECTIVE,
        declared_at=began,
        resolved_at=ended,
    )
    assert incident.declared_at == began
    assert incident.resolved_at == ended
    status = await by_name(db, Status, "Documenting")
    assert incident.status_id == status.id
    with pytest.raises(Invalid):
        await declarations.declare(
            db, actor=people.member, name="Future", mode=IncidentMode.RETROSPECTIVE,
            declared_at=clock() + timedelta(hours=1),
        )  # fmt: skip
    with pytest.raises(Invalid):
        await declarations.declare(db, actor=people.member, name="Backdated", declared_at=began)


async def test_details_visibility_and_notes(db, people):
    incident = await declarations.declare(db, actor=people.member, name="Typo")
    renamed = await incidents.change_details(
        db, actor=people.member, incident_id=incident.id, name="Search is slow"
    )
    assert renamed.name == "Search is slow"
    with pytest.raises(Invalid):
        await incidents.change_details(
            db, actor=people.member, incident_id=incident.id, name="Search is slow"
        )
    hidden = await incidents.change_visibility(
        db, actor=people.responder, incident_id=incident.id, private=True
    )
    assert hidden.private
    # The responder who hid it stays in; another responder no longer sees it.
    await incidents.add_note(db, actor=people.responder, incident_id=incident.id, message="ok")
    async with db.read() as session:
        found = await incidents.find_incident_by_reference(session, people.other_responder, "inc-1")
        assert found is None
        assert await incidents.find_incident_by_reference(session, people.responder, " inc-1 ")
    kinds = [e.kind for e in await timeline(db, incident)]
    assert kinds == [
        EventKind.DECLARED,
        EventKind.DETAILS_CHANGED,
        EventKind.VISIBILITY_CHANGED,
        EventKind.NOTE_ADDED,
    ]

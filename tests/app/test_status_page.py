"""The status page's domain on both databases: components and their history, publishing and
updating status incidents (components following them, and returning to operational on resolve
unless another open one still affects them), maintenance starting and ending by its own jobs
(run twice, they do nothing more), who may publish."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app import jobs
from app.errors import Conflict, Forbidden, Invalid, InvalidTransition, NotFound
from app.models import (
    ComponentStatus,
    ComponentStatusChange,
    EventKind,
    Incident,
    Job,
    RoleKind,
    StatusIncidentKind,
    StatusIncidentState,
    TimelineEvent,
)
from app.services import catalog, declarations, roles, status_components, status_maintenance
from app.services import status_page as sp
from app.timeline import describe
from app.worker import HANDLERS

OUT = ComponentStatus.MAJOR_OUTAGE
PARTIAL = ComponentStatus.PARTIAL_OUTAGE
OK = ComponentStatus.OPERATIONAL
MAINT = ComponentStatus.UNDER_MAINTENANCE
S = StatusIncidentState


async def component(db, people, name, **kw):
    return await status_components.create_component(db, actor=people.admin, name=name, **kw)


async def statuses(db):
    async with db.read() as session:
        return {
            c.name: c.status
            for c in await status_components.list_components(session, public_only=False)
        }


async def history(db, component_id):
    async with db.read() as session:
        rows = await session.scalars(
            select(ComponentStatusChange)
            .where(ComponentStatusChange.component_id == component_id)
            .order_by(ComponentStatusChange.id)
        )
        return [row.status for row in rows]


async def comms_role(db):
    async with db.read() as session:
        return next(
            r
            for r in await catalog.list_incident_roles(session)
            if r.kind is RoleKind.COMMUNICATIONS
        )


async def test_admins_configure_components_and_every_status_change_is_history(db, people):
    api = await component(db, people, "API", description="The REST API", group_name="Core")
    await component(db, people, "Billing internals", public=False)
    assert api.status is OK and api.group_name == "Core"
    with pytest.raises(Forbidden):
        await status_components.create_component(db, actor=people.responder, name="Dashboard")
    with pytest.raises(Invalid) as taken:
        await component(db, people, "api")
    assert taken.value.field == "name"
    with pytest.raises(Invalid) as long:
        await component(db, people, "x" * 101)
    assert long.value.field == "name"

    # Responders set a status directly; only admins change the settings.
    await status_components.update_component(
        db, actor=people.responder, component_id=api.id, status=PARTIAL
    )
    with pytest.raises(Forbidden):
        await status_components.update_component(
            db, actor=people.responder, component_id=api.id, name="Core"
        )
    with pytest.raises(Forbidden):
        await status_components.update_component(
            db, actor=people.member, component_id=api.id, status=OUT
        )
    await status_components.update_component(
        db, actor=people.admin, component_id=api.id, name="Public API", status=PARTIAL
    )
    with pytest.raises(NotFound):
        await status_components.update_component(
            db, actor=people.admin, component_id=9999, status=OK
        )

    assert await history(db, api.id) == [OK, PARTIAL]
    async with db.read() as session:
        public = await status_components.list_components(session, public_only=True)
        everything = await status_components.list_components(session, public_only=False)
    assert [c.name for c in public] == ["Public API"]
    assert [c.name for c in everything] == ["Public API", "Billing internals"]


async def test_publishing_and_updates_move_the_components(db, people):
    api = await component(db, people, "API")
    web = await component(db, people, "Dashboard")
    incident = await declarations.declare(db, actor=people.responder, name="Checkout 500s")
    published = await sp.publish_status_incident(
        db,
        actor=people.responder,
        incident_id=incident.id,
        title="Errors at checkout",
        message="We are looking into failed payments.",
        state=S.INVESTIGATING,
        affected=[(api.id, OUT)],
    )
    assert published.kind is StatusIncidentKind.INCIDENT
    assert await statuses(db) == {"API": OUT, "Dashboard": OK}

    await sp.post_status_update(
        db,
        actor=people.responder,
        status_incident_id=published.id,
        state=S.IDENTIFIED,
        message="A bad deploy; rolling back.",
        affected=[(api.id, PARTIAL), (web.id, PARTIAL)],
    )
    assert await statuses(db) == {"API": PARTIAL, "Dashboard": PARTIAL}
    async with db.read() as session:
        view = await sp.status_for_incident(session, incident.id)
    assert view is not None and view.row.id == published.id
    assert [u.message for u in view.updates] == [
        "A bad deploy; rolling back.",
        "We are looking into failed payments.",
    ]
    assert {(a.component.name, a.status) for a in view.affected} == {
        ("API", PARTIAL),
        ("Dashboard", PARTIAL),
    }
    told = await sp.post_status_update(
        db, actor=people.responder, status_incident_id=published.id, state=None,
        message="The rollback is halfway.",
    )  # fmt: skip
    assert told.state is S.IDENTIFIED  # no state given: it stays where it is
    assert await statuses(db) == {"API": PARTIAL, "Dashboard": PARTIAL}
    with pytest.raises(Conflict) as twice:  # customers read one story per incident at a time
        await sp.publish_status_incident(
            db, actor=people.responder, incident_id=incident.id, title="Again", message="m"
        )
    assert twice.value.field == "incidentId"

    with pytest.raises(Invalid) as bad_state:
        await sp.post_status_update(
            db,
            actor=people.responder,
            status_incident_id=published.id,
            state=S.SCHEDULED,
            message="x",
        )
    assert bad_state.value.field == "status"
    with pytest.raises(Invalid) as too_many:
        await sp.publish_status_incident(
            db,
            actor=people.responder,
            title="t",
            message="m",
            affected=[(i, OUT) for i in range(51)],
        )
    assert too_many.value.field == "affected"
    with pytest.raises(NotFound) as unknown:
        await sp.publish_status_incident(
            db, actor=people.responder, title="t", message="m", affected=[(9999, OUT)]
        )
    assert unknown.value.field == "affected"
    with pytest.raises(Invalid) as long:
        await sp.publish_status_incident(db, actor=people.responder, title="t" * 201, message="m")
    assert long.value.field == "title"


async def test_resolving_returns_components_unless_another_open_incident_affects_them(db, people):
    api = await component(db, people, "API")
    web = await component(db, people, "Dashboard")
    first = await sp.publish_status_incident(
        db,
        actor=people.responder,
        title="API down",
        message="Down.",
        affected=[(api.id, OUT), (web.id, PARTIAL)],
    )
    await sp.publish_status_incident(
        db,
        actor=people.responder,
        title="Dashboard slow",
        message="Slow.",
        affected=[(web.id, ComponentStatus.DEGRADED_PERFORMANCE)],
    )
    assert await statuses(db) == {"API": OUT, "Dashboard": PARTIAL}  # the worst of the two
    await sp.post_status_update(
        db, actor=people.responder, status_incident_id=first.id, state=S.RESOLVED, message="Ok."
    )
    assert await statuses(db) == {"API": OK, "Dashboard": ComponentStatus.DEGRADED_PERFORMANCE}
    async with db.read() as session:
        view = await sp.get_status_incident(session, first.id, public_only=True)
        closed = await sp.list_status_incidents(session, public_only=True, closed_only=True)
    assert view is not None and view.row.resolved_at is not None
    assert [v.row.id for v in closed] == [first.id]
    with pytest.raises(InvalidTransition):
        await sp.post_status_update(
            db,
            actor=people.responder,
            status_incident_id=first.id,
            state=S.MONITORING,
            message="Again?",
        )
    assert await history(db, api.id) == [OK, OUT, OK]


async def test_maintenance_starts_and_ends_by_its_jobs_once(db, people, clock):
    api = await component(db, people, "Database")
    now = db.now()
    row = await status_maintenance.schedule_maintenance(
        db,
        actor=people.responder,
        title="Database upgrade",
        message="PostgreSQL 17.",
        starts_at=now + timedelta(hours=1),
        ends_at=now + timedelta(hours=3),
        component_ids=[api.id],
    )
    assert row.state is S.SCHEDULED
    async with db.read() as session:
        queued = {
            job.kind: job.run_at
            for job in await session.scalars(select(Job).where(Job.kind.like("maintenance_%")))
        }
        upcoming = await sp.upcoming_maintenance(session, public_only=True)
    assert queued == {
        status_maintenance.START_JOB: now + timedelta(hours=1),
        status_maintenance.END_JOB: now + timedelta(hours=3),
    }
    assert [v.row.title for v in upcoming] == ["Database upgrade"]
    assert await statuses(db) == {"Database": OK}  # not before it starts

    payload = {"status_incident_id": row.id}
    clock.advance(hours=1)
    await status_maintenance.start_maintenance(db, payload, None)
    await status_maintenance.start_maintenance(db, payload, None)  # a job taken twice
    assert await statuses(db) == {"Database": MAINT}
    clock.advance(hours=2)
    await status_maintenance.end_maintenance(db, payload, None)
    await status_maintenance.end_maintenance(db, payload, None)
    await status_maintenance.start_maintenance(db, payload, None)  # late: nothing
    assert await statuses(db) == {"Database": OK}
    async with db.read() as session:
        view = await sp.get_status_incident(session, row.id, public_only=True)
    assert view is not None and view.row.state is S.COMPLETED
    assert [u.message for u in view.updates] == [
        status_maintenance.COMPLETED_MESSAGE,
        status_maintenance.STARTED_MESSAGE,
        "PostgreSQL 17.",
    ]
    assert await history(db, api.id) == [OK, MAINT, OK]


async def test_maintenance_never_hides_a_worse_outage(db, people, clock):
    api = await component(db, people, "API")
    now = db.now()
    row = await status_maintenance.schedule_maintenance(
        db,
        actor=people.admin,
        title="Upgrade",
        message="m",
        starts_at=now,
        ends_at=now + timedelta(hours=1),
        component_ids=[api.id],
    )
    await sp.publish_status_incident(
        db, actor=people.admin, title="Down", message="m", affected=[(api.id, OUT)]
    )
    await status_maintenance.start_maintenance(db, {"status_incident_id": row.id}, None)
    assert await statuses(db) == {"API": OUT}
    await status_maintenance.end_maintenance(db, {"status_incident_id": row.id}, None)
    assert await statuses(db) == {"API": OUT}


async def test_maintenance_completed_early_is_left_alone_by_its_jobs(db, people, clock):
    api = await component(db, people, "API")
    now = db.now()
    row = await status_maintenance.schedule_maintenance(
        db,
        actor=people.responder,
        title="Upgrade",
        message="m",
        starts_at=now + timedelta(minutes=5),
        ends_at=now + timedelta(hours=1),
        component_ids=[api.id],
    )
    payload = {"status_incident_id": row.id}
    clock.advance(minutes=5)
    await status_maintenance.start_maintenance(db, payload, None)
    done = await sp.post_status_update(
        db, actor=people.responder, status_incident_id=row.id, state=S.RESOLVED, message="Done."
    )
    assert done.state is S.COMPLETED
    assert await statuses(db) == {"API": OK}
    clock.advance(hours=1)
    await status_maintenance.end_maintenance(db, payload, None)
    async with db.read() as session:
        view = await sp.get_status_incident(session, row.id, public_only=False)
    assert view is not None
    assert [u.message for u in view.updates] == ["Done.", status_maintenance.STARTED_MESSAGE, "m"]


async def test_maintenance_windows_are_checked(db, people):
    api = await component(db, people, "API")
    now = db.now()

    async def schedule(starts, ends, ids=(api.id,)):
        with pytest.raises(Invalid) as refused:
            await status_maintenance.schedule_maintenance(
                db,
                actor=people.responder,
                title="t",
                message="m",
                starts_at=starts,
                ends_at=ends,
                component_ids=list(ids),
            )
        return refused.value.field

    hour = timedelta(hours=1)
    assert await schedule(now + 2 * hour, now + hour) == "endsAt"
    assert await schedule(now - 3 * hour, now - hour) == "endsAt"
    assert await schedule(now, now + timedelta(days=8)) == "endsAt"
    assert await schedule(now + timedelta(days=400), now + timedelta(days=400, hours=1)) == (
        "startsAt"
    )
    assert await schedule(now, now + hour, ids=()) == "componentIds"
    with pytest.raises(Forbidden):
        await status_maintenance.schedule_maintenance(
            db,
            actor=people.member,
            title="t",
            message="m",
            starts_at=now,
            ends_at=now + hour,
            component_ids=[api.id],
        )


async def test_who_may_publish(db, people):
    incident = await declarations.declare(db, actor=people.responder, name="Search slow")

    async def publish(actor, incident_id=incident.id, state=S.INVESTIGATING):
        return await sp.publish_status_incident(
            db, actor=actor, incident_id=incident_id, title="Search slow", message="Looking.",
            state=state,
        )  # fmt: skip

    assert await publish(people.responder, state=S.RESOLVED)  # over at once: the next may tell
    assert await publish(people.admin, state=S.RESOLVED)
    with pytest.raises(Forbidden):
        await publish(people.member)
    with pytest.raises(Forbidden):
        await publish(people.member, incident_id=None)  # general: responders and admins only
    role = await comms_role(db)
    await roles.assign_role(
        db,
        actor=people.responder,
        incident_id=incident.id,
        role_id=role.id,
        user_id=people.member.id,
    )
    published = await publish(people.member)
    update = await sp.post_status_update(
        db, actor=people.member, status_incident_id=published.id, state=S.MONITORING, message="Ok"
    )
    assert update.state is S.MONITORING
    with pytest.raises(Forbidden):
        await sp.post_status_update(
            db,
            actor=people.other_member,
            status_incident_id=published.id,
            state=S.RESOLVED,
            message="No",
        )


async def test_a_hidden_incident_is_not_found_as_a_missing_one(db, people):
    secret = await declarations.declare(
        db, actor=people.responder, name="Payroll leak", private=True
    )

    async def refusal(incident_id):
        with pytest.raises(NotFound) as refused:
            await sp.publish_status_incident(
                db,
                actor=people.other_responder,
                incident_id=incident_id,
                title="Payroll",
                message="m",
            )
        return refused.value.code, refused.value.field, refused.value.message

    assert await refusal(secret.id) == await refusal(secret.id + 1000)
    # Its member may link it; nothing of it is copied onto what customers read.
    row = await sp.publish_status_incident(
        db, actor=people.responder, incident_id=secret.id, title="Slow logins", message="Hm."
    )
    assert row.title == "Slow logins" and row.incident_id == secret.id
    # Updating it takes someone who may see it.
    with pytest.raises(Forbidden):
        await sp.post_status_update(
            db,
            actor=people.other_responder,
            status_incident_id=row.id,
            state=S.RESOLVED,
            message="Done",
        )


async def test_the_worker_runs_maintenance_jobs_when_due(db, people, clock):
    api = await component(db, people, "API")
    now = db.now()
    await status_maintenance.schedule_maintenance(
        db,
        actor=people.admin,
        title="Upgrade",
        message="m",
        starts_at=now + timedelta(hours=1),
        ends_at=now + timedelta(hours=2),
        component_ids=[api.id],
    )

    async def run_due():
        taken = await jobs.claim(db, limit=10, lease=timedelta(minutes=1), kinds=list(HANDLERS))
        for job in taken:
            await HANDLERS[job.kind](db, job.payload, None)
        await jobs.finish(db, taken)
        return sorted(job.kind for job in taken)

    assert await run_due() == [sp.NEWS_JOB]  # the announcement, to its subscribers
    assert await run_due() == []
    clock.advance(hours=1)
    assert await run_due() == [status_maintenance.START_JOB]
    assert await statuses(db) == {"API": MAINT}
    assert await run_due() == [sp.NEWS_JOB]  # "it has begun", to its subscribers
    clock.advance(hours=1)
    assert await run_due() == [status_maintenance.END_JOB]
    assert await statuses(db) == {"API": OK}


async def test_the_linked_incident_timeline_says_what_customers_were_told(db, people):
    incident = await declarations.declare(db, actor=people.responder, name="Checkout 500s")
    version = incident.version
    published = await sp.publish_status_incident(
        db, actor=people.responder, incident_id=incident.id, title="Errors at checkout",
        message="We are looking into failed payments.",
    )  # fmt: skip
    await sp.post_status_update(
        db, actor=people.responder, status_incident_id=published.id, state=S.RESOLVED,
        message="Payments work again.",
    )  # fmt: skip
    await sp.publish_status_incident(db, actor=people.responder, title="Unlinked", message="m")
    async with db.read() as session:
        told = list(
            await session.scalars(
                select(TimelineEvent)
                .where(TimelineEvent.kind == EventKind.STATUS_PAGE_POSTED)
                .order_by(TimelineEvent.id)
            )
        )
        now = await session.get(Incident, incident.id)
    assert [(e.incident_id, e.actor_id) for e in told] == [(incident.id, people.responder.id)] * 2
    assert [describe(e, named_visible=True) for e in told] == [
        "Customers were told on the status page, “Errors at checkout” (Investigating): "
        "We are looking into failed payments.",
        "Customers were told on the status page, “Errors at checkout” (Resolved): "
        "Payments work again.",
    ]
    assert now.version == version  # nothing of the incident itself changed

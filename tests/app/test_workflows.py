"""Workflows: what admins may save, which events start a run (once per cause, once per incident,
only where the conditions hold, private and test incidents only when included), and what a run
does: every kind of step, one timeline entry in plain words, nothing twice."""

from __future__ import annotations

import httpx2
import pytest
from sqlalchemy import func, select

from app import jobs
from app.errors import Forbidden, Invalid, NotFound
from app.models import (
    Action,
    CustomField,
    EventKind,
    Follower,
    Incident,
    IncidentMode,
    IncidentRole,
    IncidentType,
    Job,
    Member,
    Notification,
    NotificationKind,
    OrgRole,
    RoleAssignment,
    RunState,
    Severity,
    StatusCategory,
    Team,
    TeamMember,
    TimelineEvent,
    WorkflowRun,
    WorkflowTrigger,
)
from app.services import declarations, fields, incidents, users, workflow_runs, workflows
from app.services.workflows import Conditions
from tests.support.factories import named, status_in


async def team(db, name, *members):
    async with db.write() as session:
        row = Team(name=name, description="", created_at=db.now())
        session.add(row)
        await session.flush()
        session.add_all(
            TeamMember(team_id=row.id, user_id=m.id, via_group=False, added_at=db.now())
            for m in members
        )
        return row


async def option(db, field_name, value):
    async with db.read() as session:
        field = (
            await session.scalars(select(CustomField).where(CustomField.name == field_name))
        ).one()
        from app.models import CustomFieldOption

        return (
            await session.scalars(
                select(CustomFieldOption).where(
                    CustomFieldOption.field_id == field.id, CustomFieldOption.value == value
                )
            )
        ).one()


async def react(db, after=0):
    """Hand every event after ``after`` to ``workflow_runs.react`` as the dispatcher would; returns
    the last event id."""
    async with db.write() as session:
        events = (
            await session.scalars(
                select(TimelineEvent).where(TimelineEvent.id > after).order_by(TimelineEvent.id)
            )
        ).all()
        ids = {event.incident_id for event in events}
        loaded = (await session.scalars(select(Incident).where(Incident.id.in_(ids)))).all()
        await workflow_runs.react(session, events, {i.id: i for i in loaded}, now=db.now())
        return events[-1].id if events else after


@pytest.fixture
async def outside():
    async with httpx2.AsyncClient() as http:
        yield jobs.Outside(base_url="http://muster.test", secret_key="k" * 32, mail=None, http=http)


async def run_due(db, outside):
    """Run every due workflow job (as the worker would); returns how many ran."""
    async with db.read() as session:
        due = (
            await session.scalars(
                select(Job).where(Job.kind == "workflow", Job.run_at <= db.now()).order_by(Job.id)
            )
        ).all()
    for job in due:
        await workflow_runs.run(db, job.payload, outside)
    return len(due)


async def runs(db):
    async with db.read() as session:
        return (await session.scalars(select(WorkflowRun).order_by(WorkflowRun.id))).all()


async def ran_events(db, incident):
    async with db.read() as session:
        return (
            await session.scalars(
                select(TimelineEvent).where(
                    TimelineEvent.incident_id == incident.id,
                    TimelineEvent.kind == EventKind.WORKFLOW_RAN,
                )
            )
        ).all()


async def simple(db, people, **given):
    spec = {
        "name": "Loop in leadership",
        "trigger": WorkflowTrigger.INCIDENT_DECLARED,
        "steps": [{"add_followers": {"user_ids": [people.admin.id], "team_ids": []}}],
    }
    spec.update(given)
    return await workflows.create_workflow(db, actor=people.admin, **spec)


# Saving ----------------------------------------------------------------------------------------


async def test_only_admins_configure_workflows(db, people):
    with pytest.raises(Forbidden):
        await workflows.create_workflow(
            db,
            actor=people.responder,
            name="Nope",
            trigger=WorkflowTrigger.INCIDENT_DECLARED,
            steps=[{"add_followers": {"user_ids": [people.admin.id]}}],
        )
    made = await simple(db, people)
    async with db.read() as session:
        with pytest.raises(Forbidden):
            await workflows.list_workflows(session, people.member)
        assert [w.name for w in await workflows.list_workflows(session, people.admin)] == [
            "Loop in leadership"
        ]
    with pytest.raises(Forbidden):
        await workflows.delete_workflow(db, actor=people.responder, workflow_id=made.id)


async def test_saving_checks_every_part_naming_the_field(db, people):
    async def refused(error, field, **given):
        with pytest.raises(error) as caught:
            await simple(db, people, **given)
        assert caught.value.field == field, caught.value.message

    await refused(Invalid, "name", name=" ")
    await refused(Invalid, "name", name="x" * 201)
    await refused(NotFound, "conditions.typeIds", conditions=Conditions(type_ids=[999]))
    await refused(
        NotFound, "conditions.severityAtLeastId", conditions=Conditions(severity_at_least_id=999)
    )
    await refused(
        NotFound,
        "conditions.customFieldOptionIds",
        conditions=Conditions(custom_field_option_ids=[999]),
    )
    await refused(Invalid, "conditions.typeIds", conditions=Conditions(type_ids=list(range(201))))
    await refused(Invalid, "steps", steps=[])
    await refused(Invalid, "steps", steps=[{"set_update_cadence": {"minutes": 5}}] * 21)
    both = {"set_update_cadence": {"minutes": 5}, "add_actions": {"titles": ["x"]}}
    await refused(Invalid, "steps[0]", steps=[both])
    await refused(Invalid, "steps[0]", steps=[{}])
    await refused(
        NotFound, "steps[0].addFollowers.userIds", steps=[{"add_followers": {"user_ids": [999]}}]
    )
    await refused(
        NotFound, "steps[0].notify.teamIds", steps=[{"notify": {"team_ids": [999], "message": "m"}}]
    )
    await refused(
        Invalid,
        "steps[0].notify.message",
        steps=[{"notify": {"user_ids": [people.admin.id], "message": " "}}],
    )
    await refused(
        Invalid, "steps[1].setUpdateCadence.minutes",
        steps=[{"set_update_cadence": {"minutes": 5}}, {"set_update_cadence": {"minutes": 1441}}],
    )  # fmt: skip
    await refused(Invalid, "steps[0].addActions.titles", steps=[{"add_actions": {"titles": []}}])
    await refused(
        Invalid, "steps[0].addActions.titles", steps=[{"add_actions": {"titles": ["x" * 301]}}]
    )
    await refused(
        Invalid,
        "steps[0].addActions.titles",
        steps=[{"add_actions": {"titles": ["x"] * 21}}],
    )
    lead = await named(db, IncidentRole, "Incident lead")
    reporter = await named(db, IncidentRole, "Reporter")
    await refused(
        NotFound, "steps[0].assignRole.roleId",
        steps=[{"assign_role": {"role_id": 999, "user_id": people.responder.id}}],
    )  # fmt: skip
    await refused(
        Invalid, "steps[0].assignRole.roleId",
        steps=[{"assign_role": {"role_id": reporter.id, "user_id": people.responder.id}}],
    )  # fmt: skip
    await refused(
        Invalid, "steps[0].assignRole.userId",
        steps=[{"assign_role": {"role_id": lead.id, "user_id": people.viewer.id}}],
    )  # fmt: skip
    await refused(
        NotFound, "steps[0].sendWebhook.endpointId", steps=[{"send_webhook": {"endpoint_id": 999}}]
    )
    await refused(Invalid, "delayMinutes", delay_minutes=10081)
    await refused(Invalid, "delayMinutes", delay_minutes=-1)
    await simple(db, people)
    await refused(Invalid, "name", name="LOOP IN LEADERSHIP")


async def test_update_and_delete(db, people):
    made = await simple(db, people)
    other = await simple(db, people, name="Other")
    changed = await workflows.update_workflow(
        db, actor=people.admin, workflow_id=made.id, name="Renamed", enabled=False,
        trigger=WorkflowTrigger.INCIDENT_RESOLVED,
    )  # fmt: skip
    assert (changed.name, changed.enabled, changed.trigger.name) == (
        "Renamed",
        False,
        "INCIDENT_RESOLVED",
    )
    assert changed.steps == made.steps
    with pytest.raises(Invalid):
        await workflows.update_workflow(
            db, actor=people.admin, workflow_id=other.id, name="renamed"
        )
    await workflows.delete_workflow(db, actor=people.admin, workflow_id=made.id)
    with pytest.raises(NotFound) as caught:
        await workflows.delete_workflow(db, actor=people.admin, workflow_id=made.id)
    assert caught.value.field == "workflowId"


# Reacting --------------------------------------------------------------------------------------


async def test_one_run_per_cause_even_when_replayed(db, people):
    await simple(db, people, once=False)
    await declarations.declare(db, actor=people.member, name="Checkout down")
    await react(db)
    await react(db)  # the same events again, as after a crash before the position was stored
    made = await runs(db)
    assert len(made) == 1 and made[0].state is RunState.PENDING
    async with db.read() as session:
        assert await session.scalar(select(func.count()).select_from(Job)) == 1


async def test_once_runs_at_most_once_per_incident(db, people):
    await simple(db, people, trigger=WorkflowTrigger.UPDATE_SHARED)
    again = await simple(db, people, name="Every update", trigger=WorkflowTrigger.UPDATE_SHARED,
                         once=False)  # fmt: skip
    incident = await declarations.declare(db, actor=people.member, name="Checkout down")
    await incidents.share_update(db, actor=people.member, incident_id=incident.id, message="a")
    await incidents.share_update(db, actor=people.member, incident_id=incident.id, message="b")
    position = await react(db)
    await incidents.share_update(db, actor=people.member, incident_id=incident.id, message="c")
    await react(db, position)
    made = await runs(db)
    assert sum(run.workflow_id == again.id for run in made) == 3
    assert sum(run.workflow_id != again.id for run in made) == 1


async def test_triggers_from_status_moves_and_updates(db, people):
    for trigger in (
        WorkflowTrigger.STATUS_CHANGED,
        WorkflowTrigger.INCIDENT_RESOLVED,
        WorkflowTrigger.INCIDENT_CLOSED,
        WorkflowTrigger.SEVERITY_CHANGED,
    ):
        await simple(db, people, name=trigger.name, trigger=trigger, once=False)
    incident = await declarations.declare(db, actor=people.member, name="Checkout down")
    documenting = await status_in(db, StatusCategory.POST_INCIDENT)
    critical = await named(db, Severity, "Critical")
    await incidents.share_update(
        db, actor=people.member, incident_id=incident.id, message="Fixed",
        status_id=documenting.id, severity_id=critical.id,
    )  # fmt: skip
    position = await react(db)
    assert {run.workflow.name for run in await _with_workflows(db)} == {
        "STATUS_CHANGED",
        "INCIDENT_RESOLVED",
        "SEVERITY_CHANGED",
    }
    closed = await status_in(db, StatusCategory.CLOSED)
    await incidents.change_status(
        db, actor=people.member, incident_id=incident.id, status_id=closed.id
    )
    await react(db, position)
    names = [run.workflow.name for run in await _with_workflows(db)]
    assert sorted(names) == sorted(
        ["STATUS_CHANGED", "INCIDENT_RESOLVED", "SEVERITY_CHANGED", "STATUS_CHANGED",
         "INCIDENT_CLOSED"]
    )  # fmt: skip


async def _with_workflows(db):
    from app.models import Workflow

    async with db.read() as session:
        rows = (await session.execute(select(WorkflowRun, Workflow).join(Workflow))).all()
    for run, workflow in rows:
        run.workflow = workflow
    return [run for run, _ in rows]


async def test_conditions_decide_which_incidents_run(db, people):
    major = await named(db, Severity, "Major")
    critical = await named(db, Severity, "Critical")
    minor = await named(db, Severity, "Minor")
    customer = await named(db, IncidentType, "Customer issue")
    checkout = await option(db, "Affected features", "Checkout")
    await simple(
        db,
        people,
        conditions=Conditions(
            severity_at_least_id=major.id,
            type_ids=[customer.id],
            custom_field_option_ids=[checkout.id],
        ),
    )
    field = checkout.field_id
    matching = await declarations.declare(
        db, actor=people.member, name="Checkout broken", severity_id=critical.id,
        type_id=customer.id, custom_fields={field: [checkout.id]},
    )  # fmt: skip
    await declarations.declare(
        db, actor=people.member, name="Too mild", severity_id=minor.id,
        type_id=customer.id, custom_fields={field: [checkout.id]},
    )  # fmt: skip
    await declarations.declare(
        db, actor=people.member, name="Other type", severity_id=critical.id,
        custom_fields={field: [checkout.id]},
    )  # fmt: skip
    await declarations.declare(
        db, actor=people.member, name="Other feature", severity_id=critical.id,
        type_id=customer.id,
    )  # fmt: skip
    await react(db)
    assert [run.incident_id for run in await runs(db)] == [matching.id]


async def test_private_and_test_incidents_only_when_included(db, people):
    await simple(db, people, name="Plain")
    await simple(db, people, name="Everything", include_private=True, include_test=True)
    private = await declarations.declare(db, actor=people.member, name="Hush", private=True)
    drill = await declarations.declare(
        db, actor=people.member, name="Drill", mode=IncidentMode.TEST
    )
    public = await declarations.declare(db, actor=people.member, name="Open")
    await react(db)
    by_incident = {}
    for run in await _with_workflows(db):
        by_incident.setdefault(run.incident_id, set()).add(run.workflow.name)
    assert by_incident == {
        private.id: {"Everything"},
        drill.id: {"Everything"},
        public.id: {"Plain", "Everything"},
    }


async def test_workflow_runs_never_start_workflows(db, people, outside):
    await simple(db, people, trigger=WorkflowTrigger.INCIDENT_DECLARED)
    await declarations.declare(db, actor=people.member, name="Checkout down")
    position = await react(db)
    assert await run_due(db, outside) == 1
    await react(db, position)  # the WORKFLOW_RAN event
    assert len(await runs(db)) == 1


# Running ---------------------------------------------------------------------------------------


async def test_a_run_does_every_step_and_says_so_once(db, people, outside):
    erin = await users.add_user(
        db, email="erin@example.com", name="Erin Walsh", role=OrgRole.MEMBER
    )
    others = [
        await users.add_user(db, email=f"exec{i}@example.com", name=f"Exec {i}") for i in range(3)
    ]
    gone = await users.add_user(db, email="gone@example.com", name="Gone")
    await _deactivate(db, gone)
    leadership = await team(db, "Leadership", erin, *others, gone)
    lead = await named(db, IncidentRole, "Incident lead")
    made = await workflows.create_workflow(
        db,
        actor=people.admin,
        name="Loop in leadership",
        trigger=WorkflowTrigger.INCIDENT_DECLARED,
        steps=[
            {"add_followers": {"team_ids": [leadership.id]}},
            {"notify": {"team_ids": [leadership.id], "user_ids": [erin.id],
                        "message": "Please join the call."}},
            {"assign_role": {"role_id": lead.id, "user_id": people.responder.id}},
            {"set_update_cadence": {"minutes": 30}},
            {"add_actions": {"titles": ["Page the DBA", "Open a bridge"]}},
        ],
    )  # fmt: skip
    incident = await declarations.declare(db, actor=people.member, name="Checkout down")
    await react(db)
    async with db.read() as session:
        version_before = (await session.get_one(Incident, incident.id)).version
    assert await run_due(db, outside) == 1

    (run,) = await runs(db)
    expected = (
        "added Erin Walsh and 3 others as followers; notified 4 people; "
        "made Rita Responder Incident lead; asked for the next update within 30 minutes; "
        "added 2 actions."
    )
    assert (run.state, run.outcome, run.error) == (RunState.DONE, expected, None)
    assert run.finished_at is not None
    (event,) = await ran_events(db, incident)
    assert event.payload == {"workflow": made.name, "outcome": expected}
    assert event.actor_id is None
    async with db.read() as session:
        followers = set(
            await session.scalars(
                select(Follower.user_id).where(Follower.incident_id == incident.id)
            )
        )
        assert followers == {erin.id, *(o.id for o in others)}
        notified = (
            await session.scalars(
                select(Notification).where(Notification.kind == NotificationKind.WORKFLOW)
            )
        ).all()
        assert {n.user_id for n in notified} == {erin.id, *(o.id for o in others)}
        assert (
            notified[0].title
            == f"Workflow “Loop in leadership”: {incident.reference} Checkout down"
        )
        assert notified[0].body == "Please join the call."
        holder = await session.scalar(
            select(RoleAssignment.user_id).where(
                RoleAssignment.incident_id == incident.id, RoleAssignment.role_id == lead.id
            )
        )
        assert holder == people.responder.id
        told = await session.scalar(
            select(Notification).where(
                Notification.user_id == people.responder.id,
                Notification.kind == NotificationKind.ROLE_ASSIGNED,
            )
        )
        assert told is not None and told.title.startswith("You are now Incident lead")
        titles = set(
            await session.scalars(select(Action.title).where(Action.incident_id == incident.id))
        )
        assert titles == {"Page the DBA", "Open a bridge"}
        now = await session.get_one(Incident, incident.id)
        assert now.version == version_before + 1
        assert now.next_update_due_at is not None

    # The job taken again (a process killed after the commit, before finishing it): nothing new.
    async with db.read() as session:
        (job,) = (await session.scalars(select(Job).where(Job.kind == "workflow"))).all()
    await workflow_runs.run(db, job.payload, outside)
    assert len(await ran_events(db, incident)) == 1
    async with db.read() as session:
        assert (
            await session.scalar(
                select(func.count()).select_from(Action).where(Action.incident_id == incident.id)
            )
            == 2
        )
        assert (await session.get_one(Incident, incident.id)).version == version_before + 1


async def _deactivate(db, user):
    from app.models import User

    async with db.write() as session:
        (await session.get_one(User, user.id)).active = False


async def test_following_alone_leaves_the_version_and_private_details_stay_out(db, people, outside):
    await workflows.create_workflow(
        db, actor=people.admin, name="Security watch", include_private=True,
        trigger=WorkflowTrigger.INCIDENT_DECLARED,
        steps=[
            {"add_followers": {"user_ids": [people.admin.id, people.other_member.id]}},
            {"notify": {"user_ids": [people.other_member.id, people.admin.id], "message": "Look"}},
        ],
    )  # fmt: skip
    incident = await declarations.declare(db, actor=people.member, name="Leaked key", private=True)
    async with db.write() as session:  # the other member is in it; the admin is not
        session.add(Member(incident_id=incident.id, user_id=people.other_member.id,
                           added_at=db.now()))  # fmt: skip
    await react(db)
    async with db.read() as session:
        before = (await session.get_one(Incident, incident.id)).version
    await run_due(db, outside)
    (run,) = await runs(db)
    assert run.outcome == "added Max Member as a follower; notified 1 person."
    async with db.read() as session:
        assert (await session.get_one(Incident, incident.id)).version == before
        (note,) = (await session.scalars(select(Notification))).all()
        assert note.user_id == people.other_member.id
        assert "Leaked key" not in note.title
        assert note.title == "Workflow “Security watch”: A private incident you are in"


async def test_a_failing_step_fails_the_run_in_plain_words(db, people, outside):
    lead = await named(db, IncidentRole, "Incident lead")
    await workflows.create_workflow(
        db, actor=people.admin, name="Hand over", trigger=WorkflowTrigger.INCIDENT_DECLARED,
        steps=[
            {"set_update_cadence": {"minutes": 90}},
            {"assign_role": {"role_id": lead.id, "user_id": people.responder.id}},
        ],
    )  # fmt: skip
    incident = await declarations.declare(db, actor=people.member, name="Checkout down")
    await react(db)
    async with db.write() as session:  # the responder became a viewer since it was saved
        from app.models import User

        (await session.get_one(User, people.responder.id)).role = OrgRole.VIEWER
    await run_due(db, outside)
    (run,) = await runs(db)
    assert run.state is RunState.FAILED
    assert run.error == "Rita Responder is a viewer and cannot hold incident roles."
    assert run.outcome == (
        "asked for the next update within 90 minutes; then failed: "
        "Rita Responder is a viewer and cannot hold incident roles."
    )
    (event,) = await ran_events(db, incident)
    assert "failed" in event.payload["outcome"]


async def test_a_delayed_run_checks_the_conditions_again(db, people, outside, clock):
    critical = await named(db, Severity, "Critical")
    minor = await named(db, Severity, "Minor")
    await simple(
        db, people, delay_minutes=15, conditions=Conditions(severity_at_least_id=critical.id)
    )
    # Declared Minor: with a delay, the run is made anyway, and decided when it is due.
    incident = await declarations.declare(
        db, actor=people.member, name="Slow checkout", severity_id=minor.id
    )
    still = await declarations.declare(
        db, actor=people.member, name="Down", severity_id=critical.id
    )
    await react(db)
    assert len(await runs(db)) == 2
    assert await run_due(db, outside) == 0  # not yet due
    clock.advance(minutes=16)
    assert await run_due(db, outside) == 2
    states = {run.incident_id: (run.state, run.outcome) for run in await runs(db)}
    assert states[incident.id] == (RunState.SKIPPED, "skipped: conditions no longer hold")
    assert states[still.id][0] is RunState.DONE
    assert await ran_events(db, incident) == []
    assert len(await ran_events(db, still)) == 1


async def test_a_skipped_run_leaves_once_free(db, people, outside, clock):
    critical = await named(db, Severity, "Critical")
    minor = await named(db, Severity, "Minor")
    await simple(
        db, people, trigger=WorkflowTrigger.SEVERITY_CHANGED, delay_minutes=5,
        conditions=Conditions(severity_at_least_id=critical.id),
    )  # fmt: skip
    incident = await declarations.declare(
        db, actor=people.member, name="Slow", severity_id=minor.id
    )
    await incidents.change_severity(
        db, actor=people.member, incident_id=incident.id, severity_id=critical.id
    )
    position = await react(db)
    await incidents.change_severity(
        db, actor=people.member, incident_id=incident.id, severity_id=minor.id
    )
    clock.advance(minutes=6)
    await run_due(db, outside)
    assert [r.state for r in await runs(db)] == [RunState.SKIPPED]
    await incidents.change_severity(
        db, actor=people.member, incident_id=incident.id, severity_id=critical.id
    )
    await react(db, position)
    assert [r.state for r in await runs(db)][-1] is RunState.PENDING
    assert len(await runs(db)) == 2


async def test_recent_runs_leave_out_incidents_the_admin_cannot_see(db, people, outside):
    made = await simple(db, people, include_private=True)
    await declarations.declare(db, actor=people.member, name="Hush", private=True)
    public = await declarations.declare(db, actor=people.member, name="Open")
    await react(db)
    await run_due(db, outside)
    async with db.read() as session:
        found = await workflows.recent_runs(session, people.admin, [made.id], first=10)
    assert [run.incident_id for run in found[made.id]] == [public.id]


async def test_field_changes_trigger(db, people):
    await simple(db, people, trigger=WorkflowTrigger.CUSTOM_FIELD_CHANGED)
    checkout = await option(db, "Affected features", "Checkout")
    incident = await declarations.declare(db, actor=people.member, name="Checkout down")
    await fields.set_custom_field_value(
        db, actor=people.member, incident_id=incident.id, field_id=checkout.field_id,
        value=[checkout.id],
    )  # fmt: skip
    await react(db)
    assert len(await runs(db)) == 1


async def test_a_webhook_step_queues_one_delivery(db, people, outside):
    from app.models import WebhookDelivery, WebhookEndpoint, WebhookFormat

    async with db.write() as session:
        endpoint = WebhookEndpoint(
            url="https://chat.example.com/hook", description="Chat", format=WebhookFormat.SLACK,
            event_types=None, sealed_secret="sealed", include_private=False, enabled=True,
            consecutive_failures=0, created_at=db.now(),
        )  # fmt: skip
        session.add(endpoint)
        await session.flush()
        endpoint_id = endpoint.id
    await workflows.create_workflow(
        db, actor=people.admin, name="Announce", trigger=WorkflowTrigger.INCIDENT_DECLARED,
        include_private=True, steps=[{"send_webhook": {"endpoint_id": endpoint_id}}],
    )  # fmt: skip
    public = await declarations.declare(db, actor=people.member, name="Checkout down")
    await declarations.declare(db, actor=people.member, name="Hush", private=True)
    await react(db)
    await run_due(db, outside)
    await run_due(db, outside)
    async with db.read() as session:
        deliveries = (await session.scalars(select(WebhookDelivery))).all()
    assert [(d.event_type, d.incident_id) for d in deliveries] == [("workflow.step", public.id)]
    outcomes = sorted(run.outcome for run in await runs(db))
    assert outcomes == [
        "sent a webhook.",
        "sent no webhook, as its endpoint is off or takes no private incidents.",
    ]

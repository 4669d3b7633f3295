"""The demo organisation, checked the way a visitor would look at it after ``muster demo``.

Seeding takes seconds, so the tests that only look share one demo per backend (``shown``); a
test that changes something seeds a database of its own (``seeded``)."""

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app import demo, policy
from app.db import Database
from app.errors import Invalid
from app.models import (
    RESPONDING,
    Action,
    ActionKind,
    ActionStatus,
    ComponentStatus,
    ComponentStatusChange,
    CustomFieldValue,
    EventKind,
    Follower,
    Incident,
    IncidentMode,
    IncidentRole,
    IncidentType,
    IncidentUpdate,
    Job,
    Member,
    Notification,
    NotificationKind,
    Nudge,
    OrgRole,
    OutboxPosition,
    RoleAssignment,
    RoleKind,
    RunState,
    Severity,
    Status,
    StatusCategory,
    StatusComponent,
    StatusIncident,
    StatusIncidentKind,
    StatusIncidentState,
    StatusUpdate,
    Team,
    TeamMember,
    TimelineEvent,
    User,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookFormat,
    Workflow,
    WorkflowRun,
    WorkflowTrigger,
)
from app.services import (
    catalog,
    incidents,
    notifications,
    status_maintenance,
    status_page,
    status_public,
    users,
)

CHAT = demo.Chat.at("http://127.0.0.1:8000", "k" * 32)
PERSONAS = {
    "support@demo.muster": OrgRole.MEMBER,
    "exec@demo.muster": OrgRole.VIEWER,
    "security@demo.muster": OrgRole.MEMBER,
    "sre@demo.muster": OrgRole.RESPONDER,
    "data@demo.muster": OrgRole.MEMBER,
    "admin@demo.muster": OrgRole.ADMIN,
}


@pytest.fixture
async def seeded(db: Database) -> int:
    return await demo.seed(db)


class ReadOnly(Database):
    """The demo every looking test shares: one that wrote to it would change what the others
    see, so writing fails the test."""

    def write(self) -> AbstractAsyncContextManager[AsyncSession]:
        raise AssertionError("a test that changes the demo needs its own: take db and seeded")


class Shown(NamedTuple):
    db: Database
    incidents: int  # as demo.seed returned


@pytest.fixture(scope="module")
async def shown(module_database_url: str) -> AsyncIterator[Shown]:
    """The demo seeded once per backend for the module's tests that only look. They compare
    its times with the real clock a few seconds later, which changes nothing they check: the
    nearest update promise falls due nine minutes or more after seeding."""
    seeding = Database(module_database_url)
    try:
        incidents = await demo.seed(seeding, chat=CHAT)
    finally:
        await seeding.dispose()
    looking = ReadOnly(module_database_url)
    yield Shown(looking, incidents)
    await looking.dispose()


async def person(db: Database, email: str) -> User:
    async with db.read() as session:
        return await users.get_user_by_email(session, email)


async def every_incident(db: Database):
    """Each incident with its status, severity and type, oldest first."""
    query = (
        select(Incident, Status, Severity, IncidentType)
        .join(Status, Incident.status_id == Status.id)
        .join(Severity, Incident.severity_id == Severity.id)
        .join(IncidentType, Incident.type_id == IncidentType.id)
        .order_by(Incident.number)
    )
    async with db.read() as session:
        return (await session.execute(query)).all()


async def test_the_personas_have_their_roles(shown):
    db = shown.db
    for email, role in PERSONAS.items():
        assert (await person(db, email)).role is role, email
    async with db.read() as session:
        everyone = (await session.scalars(select(User))).all()
    assert len(everyone) >= 8  # the personas plus a few colleagues
    assert all(user.email.endswith("@demo.muster") for user in everyone)
    assert [user.email for user in everyone if user.role is OrgRole.ADMIN] == ["admin@demo.muster"]


async def test_about_thirty_incidents_use_every_type_severity_and_status(shown):
    db, seeded = shown
    rows = await every_incident(db)
    assert 25 <= seeded <= 35
    assert len(rows) == seeded
    async with db.read() as session:
        types = {t.name for t in await catalog.list_incident_types(session)}
        severities = {s.name for s in await catalog.list_severities(session)}
        statuses = {s.name for s in await catalog.list_statuses(session)}
    assert {kind.name for _, _, _, kind in rows} == types
    assert {severity.name for _, _, severity, _ in rows} == severities
    assert {status.name for _, status, _, _ in rows} == statuses  # Investigating, Fixing, ...
    assert {status.category for _, status, _, _ in rows} == set(StatusCategory)


async def test_one_private_security_incident_that_the_executive_cannot_see(shown):
    db, seeded = shown
    rows = await every_incident(db)
    private = [(incident, kind) for incident, _, _, kind in rows if incident.private]
    assert len(private) == 1
    incident, kind = private[0]
    assert kind.name == "Security"
    executive = await person(db, "exec@demo.muster")
    security = await person(db, "security@demo.muster")
    admin = await person(db, "admin@demo.muster")
    async with db.read() as session:
        declared = await session.scalar(
            select(TimelineEvent).where(
                TimelineEvent.incident_id == incident.id, TimelineEvent.kind == EventKind.DECLARED
            )
        )
        assert declared is not None
        assert declared.actor_id == security.id
        assert await incidents.find_incident(session, security, incident.id) is not None
        assert await incidents.find_incident(session, executive, incident.id) is None
        assert await incidents.find_incident(session, admin, incident.id) is None  # no implicit way
        assert await session.get(Member, (incident.id, executive.id)) is None
        visible = select(func.count()).select_from(Incident)
        assert (
            await session.scalar(visible.where(policy.visible_incidents(executive))) == seeded - 1
        )
        assert await session.scalar(visible.where(policy.visible_incidents(security))) == seeded


async def test_a_game_day_a_merge_a_decline_and_a_retrospective(shown):
    db = shown.db
    rows = await every_incident(db)
    now = datetime.now(UTC)

    practice = [
        (incident, kind) for incident, _, _, kind in rows if incident.mode is IncidentMode.TEST
    ]
    assert [kind.name for _, kind in practice] == ["Game day"]

    def in_category(category):
        return [incident for incident, status, _, _ in rows if status.category is category]

    [merged] = in_category(StatusCategory.MERGED)
    ids = {incident.id for incident, *_ in rows}
    assert merged.merged_into_id in ids - {merged.id}
    target = next(status for incident, status, _, _ in rows if incident.id == merged.merged_into_id)
    assert target.category not in (StatusCategory.MERGED, StatusCategory.DECLINED)

    [declined] = in_category(StatusCategory.DECLINED)
    async with db.read() as session:
        events = (
            await session.scalars(
                select(TimelineEvent)
                .where(TimelineEvent.incident_id == declined.id)
                .order_by(TimelineEvent.id)
            )
        ).all()
    assert [event.kind for event in events] == [EventKind.DECLARED, EventKind.DECLINED]
    assert events[0].payload["status"] == "Triage"
    assert events[1].payload["reason"]

    [retrospective] = [i for i, *_ in rows if i.mode is IncidentMode.RETROSPECTIVE]
    assert retrospective.resolved_at is not None
    assert retrospective.declared_at < retrospective.resolved_at < retrospective.updated_at < now


async def test_ongoing_incidents_have_a_lead_updates_and_a_promise_falling_due(shown):
    db = shown.db
    now = datetime.now(UTC)
    ongoing = [
        incident
        for incident, status, _, _ in await every_incident(db)
        if status.category in RESPONDING
    ]
    assert len(ongoing) >= 5
    async with db.read() as session:
        for incident in ongoing:
            updates = await session.scalar(
                select(func.count())
                .select_from(IncidentUpdate)
                .where(IncidentUpdate.incident_id == incident.id)
            )
            lead = await session.scalar(
                select(RoleAssignment.user_id)
                .join(IncidentRole, RoleAssignment.role_id == IncidentRole.id)
                .where(
                    RoleAssignment.incident_id == incident.id, IncidentRole.kind == RoleKind.LEAD
                )
            )
            assert updates, incident.name
            assert lead is not None, incident.name
            assert now - timedelta(hours=12) < incident.declared_at < now, incident.name
    promises = [incident.next_update_due_at for incident in ongoing]
    assert all(promises)
    overdue = [due for due in promises if due is not None and due < now]
    assert 1 <= len(overdue) <= 2
    assert all(due < now + timedelta(hours=2) for due in promises if due is not None)


async def test_the_history_is_a_month_long_and_nothing_lies_in_the_future(shown):
    db = shown.db
    now = datetime.now(UTC)
    rows = await every_incident(db)
    declared = sorted(incident.declared_at for incident, *_ in rows)
    assert now - timedelta(days=31) < declared[0] < now - timedelta(days=20)
    async with db.read() as session:
        events = (await session.scalars(select(TimelineEvent).order_by(TimelineEvent.id))).all()
    assert all(event.occurred_at <= now for event in events)
    assert [event.occurred_at for event in events] == sorted(event.occurred_at for event in events)


async def test_incidents_carry_work_fields_and_followers(shown):
    db = shown.db
    executive = await person(db, "exec@demo.muster")
    async with db.read() as session:
        work = (await session.scalars(select(Action))).all()
        followed = (
            await session.scalars(
                select(Follower.incident_id).where(Follower.user_id == executive.id)
            )
        ).all()
        with_fields = await session.scalar(
            select(func.count(func.distinct(CustomFieldValue.incident_id)))
        )
        with_comms = await session.scalar(
            select(func.count())
            .select_from(RoleAssignment)
            .join(IncidentRole, RoleAssignment.role_id == IncidentRole.id)
            .where(IncidentRole.kind == RoleKind.COMMUNICATIONS)
        )
        for incident_id in followed:
            assert await incidents.find_incident(session, executive, incident_id) is not None
    assert len(followed) >= 3
    assert all(action.owner_id is not None for action in work)
    for kind in ActionKind:
        statuses = {action.status for action in work if action.kind is kind}
        assert {ActionStatus.OPEN, ActionStatus.DONE} <= statuses, kind
    assert with_fields >= 10
    assert with_comms >= 5


async def test_seeding_twice_is_refused_and_changes_nothing(db, seeded):
    async def counts():
        async with db.read() as session:
            return [
                await session.scalar(select(func.count()).select_from(model))
                for model in (User, Incident, TimelineEvent, Action)
            ]

    before = await counts()
    with pytest.raises(Invalid, match="demo organisation is already there"):
        await demo.seed(db)
    assert await counts() == before


# Reaching people ------------------------------------------------------------------------------


async def test_teams_with_their_people(shown):
    async with shown.db.read() as session:
        rows = (
            await session.execute(
                select(Team.name, User.email)
                .join(TeamMember, TeamMember.team_id == Team.id)
                .join(User, User.id == TeamMember.user_id)
            )
        ).all()
    teams: dict[str, set[str]] = {}
    for name, email in rows:
        teams.setdefault(name, set()).add(email)
    assert {"Leadership", "Support", "Security", "Data", "SRE"} <= set(teams)
    assert "exec@demo.muster" in teams["Leadership"] and 2 <= len(teams["Leadership"]) <= 3
    assert "support@demo.muster" in teams["Support"]
    assert teams["Security"] == {"security@demo.muster"}
    assert teams["Data"] == {"data@demo.muster"}
    assert "sre@demo.muster" in teams["SRE"] and len(teams["SRE"]) >= 2


async def test_the_leadership_workflow_loops_leadership_in_and_posts_to_chat(shown):
    async with shown.db.read() as session:
        workflow = await session.scalar(
            select(Workflow).where(Workflow.name == "Loop in leadership for Critical incidents")
        )
        leadership = await session.scalar(select(Team.id).where(Team.name == "Leadership"))
        critical = await session.scalar(select(Severity.id).where(Severity.name == "Critical"))
        endpoint = await session.scalar(select(WebhookEndpoint))
    assert workflow is not None and workflow.enabled
    assert workflow.trigger is WorkflowTrigger.INCIDENT_DECLARED
    assert workflow.conditions["severity_at_least_id"] == critical
    assert [next(iter(step)) for step in workflow.steps] == [
        "add_followers",
        "notify",
        "send_webhook",
    ]
    assert workflow.steps[0]["add_followers"]["team_ids"] == [leadership]
    assert endpoint is not None and endpoint.url == CHAT.url
    assert endpoint.format is WebhookFormat.SLACK and not endpoint.include_private
    assert workflow.steps[2]["send_webhook"]["endpoint_id"] == endpoint.id


async def test_a_critical_declare_by_support_ran_the_workflow(shown):
    db = shown.db
    async with db.read() as session:
        runs = (await session.execute(select(WorkflowRun, Incident).join(Incident))).all()
        assert len(runs) == 1
        run, incident = runs[0]
        severity = await session.get_one(Severity, incident.severity_id)
        reporter = await session.scalar(
            select(User.email)
            .join(RoleAssignment, RoleAssignment.user_id == User.id)
            .join(IncidentRole, IncidentRole.id == RoleAssignment.role_id)
            .where(
                RoleAssignment.incident_id == incident.id, IncidentRole.kind == RoleKind.REPORTER
            )
        )
        ran = (
            await session.scalars(
                select(TimelineEvent).where(
                    TimelineEvent.incident_id == incident.id,
                    TimelineEvent.kind == EventKind.WORKFLOW_RAN,
                )
            )
        ).all()
        following = set(
            await session.scalars(
                select(User.email)
                .join(Follower, Follower.user_id == User.id)
                .where(Follower.incident_id == incident.id)
            )
        )
        posts = (
            await session.scalars(
                select(WebhookDelivery).where(WebhookDelivery.incident_id == incident.id)
            )
        ).all()
    assert severity.name == "Critical" and reporter == "support@demo.muster"
    assert run.state is RunState.DONE, run.outcome
    assert "as followers" in run.outcome and "notified 3 people" in run.outcome
    assert len(ran) == 1 and ran[0].payload["outcome"] == run.outcome
    assert {"exec@demo.muster", "admin@demo.muster"} <= following
    assert [post.event_type for post in posts] == ["workflow.step"]


async def test_the_executive_finds_notifications_in_the_inbox(shown):
    db = shown.db
    executive = await person(db, "exec@demo.muster")
    now = datetime.now(UTC)
    async with db.read() as session:
        inbox = await notifications.list_notifications(session, executive, first=50)
        unread = await notifications.unread_count(session, executive)
        for note in inbox:
            assert note.incident_id is not None
            assert await incidents.find_incident(session, executive, note.incident_id)
    kinds = {note.kind for note in inbox}
    assert NotificationKind.WORKFLOW in kinds and NotificationKind.UPDATE_SHARED in kinds
    assert unread == len(inbox) >= 4
    assert all(now - timedelta(hours=1, minutes=5) < note.created_at < now for note in inbox)


async def test_the_made_up_history_notified_no_one(shown):
    now = datetime.now(UTC)
    async with shown.db.read() as session:
        oldest = await session.scalar(select(func.min(Notification.created_at)))
        count = await session.scalar(select(func.count()).select_from(Notification))
    assert oldest is not None and oldest > now - timedelta(hours=1, minutes=5)
    assert count < 60


async def test_an_overdue_update_has_nudged_its_lead(shown):
    db = shown.db
    now = datetime.now(UTC)
    async with db.read() as session:
        overdue = (
            await session.scalars(
                select(Incident)
                .join(Status, Status.id == Incident.status_id)
                .where(Status.category.in_(RESPONDING), Incident.next_update_due_at < now)
            )
        ).all()
        nudged = []
        for incident in overdue:
            events = await session.scalar(
                select(func.count())
                .select_from(TimelineEvent)
                .where(
                    TimelineEvent.incident_id == incident.id,
                    TimelineEvent.kind == EventKind.UPDATE_OVERDUE,
                )
            )
            reminded = set(
                await session.scalars(
                    select(User.email)
                    .join(Notification, Notification.user_id == User.id)
                    .where(
                        Notification.incident_id == incident.id,
                        Notification.kind == NotificationKind.UPDATE_OVERDUE,
                    )
                )
            )
            nudged.append((incident.name, events, reminded))
        rows = await session.scalar(select(func.count()).select_from(Nudge))
    assert overdue
    assert all(events == 1 and reminded for _, events, reminded in nudged), nudged
    search = next(found for found in nudged if found[0].startswith("Search results"))
    assert search[2] == {"admin@demo.muster"}  # its lead: it has no communications lead
    assert rows


async def test_nothing_is_left_to_replay_but_the_chat_post(shown):
    async with shown.db.read() as session:
        position = await session.get_one(OutboxPosition, "reactions")
        newest = await session.scalar(select(func.max(TimelineEvent.id)))
        waiting = (await session.execute(select(Job.kind, Job.payload))).all()
        delivery = await session.scalar(select(WebhookDelivery))
    assert position.position == newest
    assert delivery is not None
    [maintenance] = await maintenance_windows(shown.db)
    assert sorted(waiting, key=repr) == sorted(
        [
            ("webhook", {"delivery_id": delivery.id}),
            (status_maintenance.START_JOB, {"status_incident_id": maintenance.id}),
            (status_maintenance.END_JOB, {"status_incident_id": maintenance.id}),
        ],
        key=repr,
    )


async def test_without_a_chat_channel_the_workflow_posts_nowhere(db, seeded):
    async with db.read() as session:
        workflow = await session.scalar(select(Workflow))
        endpoints = await session.scalar(select(func.count()).select_from(WebhookEndpoint))
        waiting = sorted(await session.scalars(select(Job.kind)))
        run = await session.scalar(select(WorkflowRun))
    assert workflow is not None and endpoints == 0
    maintenance_jobs = [status_maintenance.END_JOB, status_maintenance.START_JOB]
    assert waiting == sorted(maintenance_jobs)  # the maintenance's
    assert [next(iter(step)) for step in workflow.steps] == ["add_followers", "notify"]
    assert run is not None and run.state is RunState.DONE


# The status page ------------------------------------------------------------------------------


async def maintenance_windows(db: Database) -> list[StatusIncident]:
    async with db.read() as session:
        return list(
            await session.scalars(
                select(StatusIncident).where(StatusIncident.kind == StatusIncidentKind.MAINTENANCE)
            )
        )


async def comms_lead(session: AsyncSession, incident_id: int) -> str | None:
    return await session.scalar(
        select(User.email)
        .join(RoleAssignment, RoleAssignment.user_id == User.id)
        .join(IncidentRole, IncidentRole.id == RoleAssignment.role_id)
        .where(
            RoleAssignment.incident_id == incident_id,
            IncidentRole.kind == RoleKind.COMMUNICATIONS,
        )
    )


async def test_the_status_page_has_its_settings_and_components_by_group(shown):
    async with shown.db.read() as session:
        settings = await status_public.page_settings(session)
        public = status_public.groups(await status_public.components(session))
        everything = await status_public.components(session, internal=True)
    assert settings.title == "Demo Co status"
    assert settings.intro and settings.support_url == "https://help.demo.muster/contact"
    assert [(group.name, [c.name for c in group.components]) for group in public] == [
        (None, ["API", "Dashboard", "Mobile app"]),
        ("Checkout", ["Payments", "Checkout API"]),
    ]
    assert [c.name for c in everything if not c.public] == ["Data warehouse"]


async def test_support_tells_customers_about_the_api_outage_they_lead_comms_for(shown):
    support = await person(shown.db, "support@demo.muster")
    async with shown.db.read() as session:
        published = await status_page.open_status_incidents(session, public_only=True)
        [api] = [view for view in published if view.row.title == "API requests are failing"]
        assert api.row.incident_id is not None
        incident = await session.get_one(Incident, api.row.incident_id)
        assert await comms_lead(session, incident.id) == "support@demo.muster"
        components = {c.name: c.status for c in await status_public.components(session)}
        overall = status_public.overall(
            await status_public.components(session), await status_public.open_incidents(session)
        )
    assert incident.name == "Public API answers every request with an error"
    assert api.row.state is StatusIncidentState.IDENTIFIED
    assert 2 <= len(api.updates) <= 3
    assert {update.created_by_id for update in api.updates} == {support.id}
    assert [(a.component.name, a.status) for a in api.affected] == [
        ("API", ComponentStatus.MAJOR_OUTAGE)
    ]
    for said in [api.row.title, *(update.message for update in api.updates)]:
        assert incident.name not in said and "INC-" not in said and "Sam" not in said
    # The card payments are told too (by their own communications lead), so checkout's group
    # shows the trouble; nothing else is affected right now.
    assert components == {
        "API": ComponentStatus.MAJOR_OUTAGE,
        "Dashboard": ComponentStatus.OPERATIONAL,
        "Mobile app": ComponentStatus.OPERATIONAL,
        "Payments": ComponentStatus.DEGRADED_PERFORMANCE,
        "Checkout API": ComponentStatus.OPERATIONAL,
    }
    assert overall.indicator is status_public.Indicator.CRITICAL


async def test_support_also_leads_comms_for_an_ongoing_incident_not_yet_published(shown):
    """What the browser test publishes: the locked-out customers, told nothing yet."""
    async with shown.db.read() as session:
        incident = await session.scalar(
            select(Incident).where(Incident.name.startswith("34 customers can't log in"))
        )
        assert incident is not None
        assert await comms_lead(session, incident.id) == "support@demo.muster"
        assert await status_page.status_for_incident(session, incident.id) is None
        status = await session.get_one(Status, incident.status_id)
    assert status.category in RESPONDING


async def test_resolved_status_incidents_from_days_ago_are_in_the_history_and_the_uptime(shown):
    now = datetime.now(UTC)
    async with shown.db.read() as session:
        history, more = await status_public.history(session, first=20)
        mobile = await session.scalar(
            select(StatusComponent).where(StatusComponent.name == "Mobile app")
        )
        assert mobile is not None
        [days] = (await status_public.uptime(session, [mobile.id], now=now)).values()
        changes = list(
            await session.scalars(
                select(ComponentStatusChange.status)
                .where(ComponentStatusChange.component_id == mobile.id)
                .order_by(ComponentStatusChange.id)
            )
        )
        pushes = await session.scalar(
            select(StatusIncident).where(StatusIncident.title.startswith("Push notifications"))
        )
        assert pushes is not None and pushes.incident_id is not None
        told_by = await comms_lead(session, pushes.incident_id)
    assert not more
    assert [(i.title, i.state) for i in history] == [
        ("Android app closes right after opening", StatusIncidentState.RESOLVED),
        ("Push notifications are not arriving on iPhone", StatusIncidentState.RESOLVED),
    ]
    for resolved in history:
        assert now - timedelta(days=6) < resolved.created_at < now - timedelta(days=1)
        assert resolved.resolved_at is not None and resolved.resolved_at > resolved.created_at
        assert len(resolved.updates) >= 3
        assert resolved.updates[0].state is StatusIncidentState.RESOLVED
        assert [a.name for a in resolved.components] == ["Mobile app"]
    assert told_by == "support@demo.muster"
    # Made 90 days ago, operational since but for the two outages of an hour or two (each on
    # one day, or two when it ran over midnight UTC).
    assert len(days) == 90 and all(day.fraction is not None for day in days[1:])
    dented = [day.fraction for day in days if day.fraction is not None and day.fraction < 1]
    assert 2 <= len(dented) <= 4 and all(0.9 < fraction < 1 for fraction in dented)
    assert changes == [
        ComponentStatus.OPERATIONAL,
        ComponentStatus.PARTIAL_OUTAGE,
        ComponentStatus.OPERATIONAL,
        ComponentStatus.PARTIAL_OUTAGE,
        ComponentStatus.OPERATIONAL,
    ]


async def test_the_database_upgrade_is_announced_for_saturday_night(shown):
    now = datetime.now(UTC)
    [window] = await maintenance_windows(shown.db)
    async with shown.db.read() as session:
        [upcoming] = await status_public.maintenance(session)
        assert window.incident_id is not None
        linked = await session.get_one(Incident, window.incident_id)
        kind = await session.get_one(IncidentType, linked.type_id)
        updates = list(
            await session.scalars(
                select(StatusUpdate.state).where(StatusUpdate.status_incident_id == window.id)
            )
        )
    assert upcoming.id == window.id and upcoming.title == "Database upgrade"
    assert window.state is StatusIncidentState.SCHEDULED and updates == [window.state]
    assert kind.name == "Migration" and "database upgrade" in linked.name.lower()
    assert window.starts_at is not None and window.ends_at is not None
    starts, ends = window.starts_at.astimezone(UTC), window.ends_at.astimezone(UTC)
    assert now < starts < now + timedelta(days=7, hours=2)
    assert starts.weekday() == 5 and (starts.hour, starts.minute) == (2, 0)
    assert ends - starts == timedelta(hours=2)
    assert {a.name for a in upcoming.components} == {"Dashboard", "Mobile app", "Checkout API"}

"""Plays the demo's scripts through the ordinary services: every declaration and step of every
script in time order, on a clock set to each step's moment, so that timelines, update promises,
the status page's history and timestamps are all real; ``seed`` adds the people, the status
page's settings and components, and the teams first, and refuses a database that has them
already. The history is marked handled (nobody is notified of it); the
last hour is played with the worker's reactions after each step, so notifications, the
leadership workflow's runs and the nudges of overdue updates are there, at their moments."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta

from app.db import Database
from app.demo import reach
from app.demo.chat import Chat
from app.demo.people import PEOPLE, Who
from app.demo.scripts import INCIDENTS
from app.demo.status import ComponentName, add_status_page
from app.demo.steps import (
    Accept,
    Affected,
    Decline,
    Done,
    FieldName,
    Follow,
    Invite,
    Lead,
    Maintain,
    MakePublic,
    Merge,
    Note,
    PostStatus,
    Publish,
    Rename,
    Script,
    SetField,
    SetSeverity,
    SetStatus,
    SeverityName,
    StatusName,
    Step,
    Update,
    Value,
    Work,
    days,
    minutes,
)
from app.dispatch import handled_so_far
from app.errors import Invalid
from app.models import (
    ComponentStatus,
    CustomField,
    IncidentMode,
    RoleKind,
    User,
)
from app.services import (
    actions,
    catalog,
    declarations,
    fields,
    followers,
    incidents,
    members,
    roles,
    status_maintenance,
    status_page,
    users,
)
from app.services.fields import FieldValue

LIVE = minutes(60)  # the last hour is played with the worker reacting as it goes
ADMIN: Who = "alex"  # who set up the teams and the workflow
DEMO_SITE = "http://127.0.0.1:8000"  # only for links in what the workflow runs make (no email)


class _Clock:
    """The time the services read: moved to each step's moment before the step runs."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


@dataclass
class _Playing:
    """A script being played: the incident it declared, the ids of its work by title, and the
    status incident it published last."""

    script: Script
    incident_id: int = 0
    work: dict[str, int] = field(default_factory=dict)
    status_incident_id: int = 0


@dataclass(frozen=True)
class _Cue:
    at: datetime
    playing: _Playing
    step: Step | None  # None declares the incident


def _cues(now: datetime) -> list[_Cue]:
    """Every declaration and step of every script, in the order they happened."""
    cues = []
    for script in INCIDENTS:
        playing = _Playing(script)
        declared = now - script.ago
        cues.append(_Cue(declared, playing, None))
        previous = timedelta()
        for step in script.steps:
            if not previous < step.after <= script.ago:
                raise ValueError(f"{script.name}: a step goes back in time or into the future.")
            previous = step.after
            cues.append(_Cue(declared + step.after, playing, step))
    return sorted(cues, key=lambda cue: cue.at)  # stable: simultaneous cues keep script order


@dataclass(frozen=True)
class _Stage:
    """What the steps refer to by name, resolved to the people and ids in the database."""

    db: Database
    people: dict[Who, User]
    severities: dict[str, int]
    statuses: dict[str, int]
    types: dict[str, int]
    roles: dict[RoleKind, int]
    custom_fields: dict[str, CustomField]
    components: dict[ComponentName, int]
    keys: dict[str, int] = field(default_factory=dict)

    def severity(self, name: SeverityName | None) -> int | None:
        return None if name is None else self.severities[name]

    def status(self, name: StatusName | None) -> int | None:
        return None if name is None else self.statuses[name]

    def field_values(self, values: Mapping[FieldName, Value]) -> dict[int, FieldValue]:
        return {self.custom_fields[n].id: self.value(n, value) for n, value in values.items()}

    def value(self, name: FieldName, value: Value) -> FieldValue:
        if isinstance(value, tuple):
            options = {option.value: option.id for option in self.custom_fields[name].options}
            return [options[choice] for choice in value]
        return value

    def affected(self, affected: Affected) -> list[tuple[int, ComponentStatus]]:
        return [(self.components[name], status) for name, status in affected]

    async def declare(self, playing: _Playing) -> None:
        script = playing.script
        mode = declared_at = resolved_at = None
        if script.happened is not None:
            mode = IncidentMode.RETROSPECTIVE
            declared_at = self.db.now() - script.happened.began
            resolved_at = declared_at + script.happened.lasted
        incident = await declarations.declare(
            self.db,
            actor=self.people[script.by],
            name=script.name,
            summary=script.summary,
            severity_id=self.severities[script.severity],
            type_id=self.types[script.type],
            mode=mode,
            triage=script.triage,
            custom_fields=self.field_values(script.fields),
            next_update_in_minutes=script.next_update,
            declared_at=declared_at,
            resolved_at=resolved_at,
        )
        playing.incident_id = incident.id
        if script.key:
            self.keys[script.key] = incident.id

    async def play(self, playing: _Playing, step: Step) -> None:
        db, actor, incident_id = self.db, self.people[step.by], playing.incident_id
        match step:
            case Accept():
                await incidents.accept(db, actor=actor, incident_id=incident_id)
            case Decline(reason=reason):
                await incidents.decline(db, actor=actor, incident_id=incident_id, reason=reason)
            case Merge(into=key):
                await incidents.merge(
                    db, actor=actor, incident_id=incident_id, into_id=self.keys[key]
                )
            case Update():
                await incidents.share_update(
                    db,
                    actor=actor,
                    incident_id=incident_id,
                    message=step.message,
                    status_id=self.status(step.status),
                    severity_id=self.severity(step.severity),
                    next_update_in_minutes=step.next_in,
                )
            case SetStatus(status=status):
                await incidents.change_status(
                    db, actor=actor, incident_id=incident_id, status_id=self.statuses[status]
                )
            case SetSeverity(severity=severity):
                await incidents.change_severity(
                    db, actor=actor, incident_id=incident_id, severity_id=self.severities[severity]
                )
            case SetField(field=name, value=value):
                await fields.set_custom_field_value(
                    db,
                    actor=actor,
                    incident_id=incident_id,
                    field_id=self.custom_fields[name].id,
                    value=self.value(name, value),
                )
            case Rename(name=name):
                await incidents.change_details(db, actor=actor, incident_id=incident_id, name=name)
            case MakePublic():
                await incidents.change_visibility(
                    db, actor=actor, incident_id=incident_id, private=False
                )
            case Lead(holder=holder):
                await roles.assign_role(
                    db,
                    actor=actor,
                    incident_id=incident_id,
                    role_id=self.roles[step.role],
                    user_id=self.people[holder].id,
                )
            case Work(title=title, owner=owner, due_in=due_in):
                due_on = None if due_in is None else (db.now() + days(due_in)).date()
                action = await actions.add_action(
                    db,
                    actor=actor,
                    incident_id=incident_id,
                    title=title,
                    owner_id=self.people[owner].id,
                    due_on=due_on,
                    kind=step.kind,
                )
                playing.work[title] = action.id
            case Done(title=title):
                await actions.update_action(
                    db, actor=actor, action_id=playing.work[title], status=step.status
                )
            case Invite(guest=guest):
                await members.invite(
                    db, actor=actor, incident_id=incident_id, user_id=self.people[guest].id
                )
            case Note(message=message):
                await incidents.add_note(db, actor=actor, incident_id=incident_id, message=message)
            case Follow():
                await followers.follow(db, actor=actor, incident_id=incident_id)
            case Publish():
                published = await status_page.publish_status_incident(
                    db,
                    actor=actor,
                    incident_id=incident_id,
                    title=step.title,
                    message=step.message,
                    state=step.state,
                    affected=self.affected(step.affected),
                )
                playing.status_incident_id = published.id
            case PostStatus():
                await status_page.post_status_update(
                    db,
                    actor=actor,
                    status_incident_id=playing.status_incident_id,
                    state=step.state,
                    message=step.message,
                    affected=None if step.affected is None else self.affected(step.affected),
                )
            case Maintain():
                starts_at = _next(step.weekday, step.starts, after=db.now())
                await status_maintenance.schedule_maintenance(
                    db,
                    actor=actor,
                    title=step.title,
                    message=step.message,
                    starts_at=starts_at,
                    ends_at=starts_at + step.lasts,
                    component_ids=[self.components[name] for name in step.components],
                    incident_id=incident_id,
                )


def _next(weekday: int, at: time, *, after: datetime) -> datetime:
    """``at`` (UTC) on the first ``weekday`` after the day of ``after``, a week on at most."""
    day = after.astimezone(UTC).date()
    day += timedelta(days=(weekday - day.weekday() - 1) % 7 + 1)
    return datetime.combine(day, at, UTC)


async def _open_stage(db: Database) -> _Stage:
    people = {
        person.who: await users.add_user(db, email=person.email, name=person.name, role=person.role)
        for person in PEOPLE
    }
    components = await add_status_page(db, people[ADMIN])
    async with db.read() as session:
        return _Stage(
            db=db,
            people=people,
            components=components,
            severities={s.name: s.id for s in await catalog.list_severities(session)},
            statuses={s.name: s.id for s in await catalog.list_statuses(session)},
            types={t.name: t.id for t in await catalog.list_incident_types(session)},
            roles={r.kind: r.id for r in await catalog.list_incident_roles(session)},
            custom_fields={f.name: f for f in await catalog.list_custom_fields(session)},
        )


async def seed(db: Database, *, chat: Chat | None = None) -> int:
    """Add the demo people and their teams and play every incident script; returns the
    incidents declared. The history is made up: nobody is told of it. The last ``LIVE`` is
    played as it happens, the worker's round (``reach.catch_up``) after every step on that step's
    clock: its notifications, workflow runs and nudges are real, and the leadership workflow's
    post waits for the server to send it to ``chat`` (no chat: no post)."""
    async with db.read() as session:
        for person in PEOPLE:
            if await users.find_user_by_email(session, person.email) is not None:
                raise Invalid("The demo organisation is already there.")
    now = db.now().replace(second=0, microsecond=0)
    cues = _cues(now)
    clock = _Clock(now - days(90))  # the people joined well before this month's incidents
    demo_db = Database(db.url, clock=clock)
    secret_key = "" if chat is None else chat.secret_key
    try:
        stage = await _open_stage(demo_db)
        admin = stage.people[ADMIN]
        team_ids = await reach.add_teams(demo_db, admin, stage.people)
        async with reach.outside(DEMO_SITE, secret_key) as outside:
            live = False
            for cue in cues:
                clock.at = cue.at
                if not live and cue.at >= now - LIVE:
                    await _go_live(demo_db, admin, team_ids, chat)
                    live = True
                if cue.step is None:
                    await stage.declare(cue.playing)
                else:
                    await stage.play(cue.playing, cue.step)
                if live:
                    await reach.catch_up(demo_db, outside)
            clock.at = now
            if not live:
                await _go_live(demo_db, admin, team_ids, chat)
            await reach.catch_up(demo_db, outside)
    finally:
        await demo_db.dispose()
    return len(INCIDENTS)


async def _go_live(
    db: Database, admin: User, team_ids: Mapping[str, int], chat: Chat | None
) -> None:
    """The live part begins: the workflow is set up, and everything before is history."""
    await reach.add_workflow(db, admin, team_ids, chat)
    await handled_so_far(db)

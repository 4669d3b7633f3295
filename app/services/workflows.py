"""Workflows: admins' rules "when *trigger*, if *conditions*, then *steps*", and running them.

Admins create, change and delete workflows here (``policy.can_configure``); every id a workflow
names is checked to exist when it is saved, and everything is bounded. ``react`` is the outbox
hook: the dispatcher hands it committed timeline events in its own transaction, and it turns each
event that matches an enabled workflow into one ``WorkflowRun`` (its ``cause`` is the event, unique
per workflow, so a replayed batch starts nothing twice) and a durable "workflow" job due after the
workflow's delay. ``run`` is that job's handler: in one write transaction it takes the run (only a
pending one: doing the job again is a no-op), checks the conditions again, does every step in
order, records one ``WORKFLOW_RAN`` event whose outcome is a sentence people read, and marks the
run done, skipped or failed. A crash before the commit leaves the run pending and the job to be
taken again, so each run's effects happen exactly once.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app import jobs, lifecycle, policy
from app.db import Database, appending_events
from app.errors import Forbidden, Invalid, MusterError, NotFound
from app.models import (
    RESPONDING,
    Action,
    ActionKind,
    CustomFieldOption,
    CustomFieldValue,
    EventKind,
    Follower,
    Incident,
    IncidentMode,
    IncidentRole,
    IncidentType,
    Member,
    NotificationKind,
    RoleAssignment,
    RoleKind,
    RunState,
    Severity,
    Status,
    StatusCategory,
    Team,
    TeamMember,
    TimelineEvent,
    User,
    WebhookEndpoint,
    Workflow,
    WorkflowRun,
    WorkflowTrigger,
)
from app.services import notifications, roles, webhooks
from app.text import clean_text

JOB = "workflow"
WEBHOOK_TYPE = "workflow.step"  # the type of a sendWebhook step's delivery
NAME_LENGTH = 200
MAX_STEPS = 20
MAX_IDS = 200  # ids in any one list of a condition or step
MAX_TITLES = 20
TITLE_LENGTH = 300
MESSAGE_LENGTH = 2000
MAX_DELAY = 10080  # minutes: a week
MAX_CADENCE = 1440  # minutes: a day
MAX_RUNS = 50  # recent runs one read may ask for
ERROR_LENGTH = 2000

STEP_KINDS = (
    "add_followers",
    "notify",
    "assign_role",
    "set_update_cadence",
    "add_actions",
    "send_webhook",
)
"""The kinds of step, as stored (each step is ``{kind: {...}}``, one kind)."""

API_NAMES = {
    "add_followers": "addFollowers",
    "notify": "notify",
    "assign_role": "assignRole",
    "set_update_cadence": "setUpdateCadence",
    "add_actions": "addActions",
    "send_webhook": "sendWebhook",
}


@dataclasses.dataclass(frozen=True)
class Conditions:
    """What must hold of an incident for a workflow to run on it; an empty part holds always."""

    severity_at_least_id: int | None = None
    type_ids: Sequence[int] = ()
    custom_field_option_ids: Sequence[int] = ()
    modes: Sequence[IncidentMode] = ()
    status_categories: Sequence[StatusCategory] = ()

    def stored(self) -> dict[str, Any]:
        return {
            "severity_at_least_id": self.severity_at_least_id,
            "type_ids": list(self.type_ids),
            "custom_field_option_ids": list(self.custom_field_option_ids),
            "modes": [mode.name for mode in self.modes],
            "status_categories": [category.name for category in self.status_categories],
        }

    @classmethod
    def of(cls, stored: Mapping[str, Any]) -> Conditions:
        return cls(
            severity_at_least_id=stored.get("severity_at_least_id"),
            type_ids=tuple(stored.get("type_ids") or ()),
            custom_field_option_ids=tuple(stored.get("custom_field_option_ids") or ()),
            modes=tuple(IncidentMode[name] for name in stored.get("modes") or ()),
            status_categories=tuple(
                StatusCategory[name] for name in stored.get("status_categories") or ()
            ),
        )


# Configuration (admins) ------------------------------------------------------------------------


def _require_admin(actor: User) -> None:
    if not policy.can_configure(actor):
        raise Forbidden("Only admins can configure workflows.")


async def create_workflow(
    db: Database,
    *,
    actor: User,
    name: str,
    trigger: WorkflowTrigger,
    conditions: Conditions | None = None,
    steps: Sequence[Mapping[str, Any]],
    once: bool = True,
    delay_minutes: int = 0,
    include_private: bool = False,
    include_test: bool = False,
    enabled: bool = True,
) -> Workflow:
    """Add a workflow; ``steps`` are ``{kind: {...}}`` in the stored shape (``STEP_KINDS``)."""
    _require_admin(actor)
    async with db.write() as session:
        now = db.now()
        workflow = Workflow(
            name=await _unique_name(session, name, None),
            trigger=trigger,
            conditions=await _check_conditions(session, conditions or Conditions()),
            steps=await _check_steps(session, steps),
            once=once,
            delay_minutes=_delay(delay_minutes),
            include_private=include_private,
            include_test=include_test,
            enabled=enabled,
            created_at=now,
            updated_at=now,
        )
        session.add(workflow)
        await session.flush()
        return workflow


async def update_workflow(
    db: Database,
    *,
    actor: User,
    workflow_id: int,
    name: str | None = None,
    trigger: WorkflowTrigger | None = None,
    conditions: Conditions | None = None,
    steps: Sequence[Mapping[str, Any]] | None = None,
    once: bool | None = None,
    delay_minutes: int | None = None,
    include_private: bool | None = None,
    include_test: bool | None = None,
    enabled: bool | None = None,
) -> Workflow:
    """Change what is given of a workflow; runs already made keep going as they were queued."""
    _require_admin(actor)
    async with db.write() as session:
        workflow = await _get(session, workflow_id, lock=True)
        if name is not None:
            workflow.name = await _unique_name(session, name, workflow.id)
        if trigger is not None:
            workflow.trigger = trigger
        if conditions is not None:
            workflow.conditions = await _check_conditions(session, conditions)
        if steps is not None:
            workflow.steps = await _check_steps(session, steps)
        if delay_minutes is not None:
            workflow.delay_minutes = _delay(delay_minutes)
        for attribute, value in (
            ("once", once),
            ("include_private", include_private),
            ("include_test", include_test),
            ("enabled", enabled),
        ):
            if value is not None:
                setattr(workflow, attribute, value)
        workflow.updated_at = db.now()
        return workflow


async def delete_workflow(db: Database, *, actor: User, workflow_id: int) -> Workflow:
    """Remove a workflow and its runs (a run not yet done finds nothing and does nothing);
    returns it as it was."""
    _require_admin(actor)
    async with db.write() as session:
        workflow = await _get(session, workflow_id, lock=True)
        await session.execute(delete(WorkflowRun).where(WorkflowRun.workflow_id == workflow.id))
        await session.delete(workflow)
        return workflow


async def list_workflows(session: AsyncSession, actor: User) -> Sequence[Workflow]:
    """Every workflow, by name (admins only)."""
    _require_admin(actor)
    query = select(Workflow).order_by(func.lower(Workflow.name), Workflow.id)
    return (await session.scalars(query)).all()


async def get_workflow(session: AsyncSession, actor: User, workflow_id: int) -> Workflow:
    """One workflow (admins only), or ``NotFound`` on ``workflowId``."""
    _require_admin(actor)
    return await _get(session, workflow_id)


async def recent_runs(
    session: AsyncSession, actor: User, workflow_ids: Sequence[int], *, first: int
) -> dict[int, list[WorkflowRun]]:
    """The newest ``first`` runs of each workflow on incidents ``actor`` may see (runs on
    private incidents they are not in are left out, uncounted), newest first."""
    _require_admin(actor)
    first = max(0, min(first, MAX_RUNS))
    found: dict[int, list[WorkflowRun]] = {workflow_id: [] for workflow_id in workflow_ids}
    if not workflow_ids or not first:
        return found
    ranked = (
        select(
            WorkflowRun.id,
            func.row_number()
            .over(partition_by=WorkflowRun.workflow_id, order_by=WorkflowRun.id.desc())
            .label("place"),
        )
        .join(Incident, Incident.id == WorkflowRun.incident_id)
        .where(WorkflowRun.workflow_id.in_(workflow_ids), policy.visible_incidents(actor))
        .subquery()
    )
    query = (
        select(WorkflowRun)
        .join(ranked, ranked.c.id == WorkflowRun.id)
        .where(ranked.c.place <= first)
        .order_by(WorkflowRun.id.desc())
    )
    for run in await session.scalars(query):
        found[run.workflow_id].append(run)
    return found


async def _get(session: AsyncSession, workflow_id: int, *, lock: bool = False) -> Workflow:
    query = select(Workflow).where(Workflow.id == workflow_id)
    if lock:
        query = query.with_for_update()
    workflow = await session.scalar(query)
    if workflow is None:
        raise NotFound("No workflow with that id.", field="workflowId")
    return workflow


async def _unique_name(session: AsyncSession, name: str, own_id: int | None) -> str:
    name = clean_text(name, field="name", limit=NAME_LENGTH)
    existing = await session.scalar(
        select(Workflow.id).where(func.lower(Workflow.name) == name.lower())
    )
    if existing is not None and existing != own_id:
        raise Invalid(f"There is already a workflow named {name!r}.", field="name")
    return name


def _delay(minutes: int) -> int:
    if not 0 <= minutes <= MAX_DELAY:
        raise Invalid(
            f"The delay is from 0 to {MAX_DELAY:,} minutes (a week).", field="delayMinutes"
        )
    return minutes


async def _existing(
    session: AsyncSession, model: Any, wanted: Iterable[int], *, field: str, noun: str
) -> list[int]:
    """``wanted`` without repeats, each checked to exist (else ``NotFound`` naming ``field``)."""
    ids = list(dict.fromkeys(wanted))
    if len(ids) > MAX_IDS:
        raise Invalid(f"At most {MAX_IDS} {noun}s.", field=field)
    if not ids:
        return []
    query = select(model.id).where(model.id.in_(ids))
    if model is User:
        query = query.where(User.active.is_(True))
    found = set(await session.scalars(query))
    if len(found) != len(ids):
        raise NotFound(f"No {noun} with that id.", field=field)
    return ids


async def _check_conditions(session: AsyncSession, conditions: Conditions) -> dict[str, Any]:
    if conditions.severity_at_least_id is not None:
        await _existing(
            session,
            Severity,
            [conditions.severity_at_least_id],
            field="conditions.severityAtLeastId",
            noun="severity",
        )
    checked = Conditions(
        severity_at_least_id=conditions.severity_at_least_id,
        type_ids=await _existing(
            session, IncidentType, conditions.type_ids, field="conditions.typeIds", noun="type"
        ),
        custom_field_option_ids=await _existing(
            session,
            CustomFieldOption,
            conditions.custom_field_option_ids,
            field="conditions.customFieldOptionIds",
            noun="custom field option",
        ),
        modes=list(dict.fromkeys(conditions.modes)),
        status_categories=list(dict.fromkeys(conditions.status_categories)),
    )
    return checked.stored()


async def _check_steps(
    session: AsyncSession, steps: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    if not steps:
        raise Invalid("A workflow needs at least one step.", field="steps")
    if len(steps) > MAX_STEPS:
        raise Invalid(f"A workflow has at most {MAX_STEPS} steps.", field="steps")
    return [await _check_step(session, step, f"steps[{i}]") for i, step in enumerate(steps)]


async def _check_step(
    session: AsyncSession, step: Mapping[str, Any], at: str
) -> dict[str, dict[str, Any]]:
    given = [kind for kind in STEP_KINDS if step.get(kind) is not None]
    if len(given) != 1 or len(step) != 1:
        raise Invalid("Each step is exactly one kind of step.", field=at)
    kind = given[0]
    spec: Mapping[str, Any] = step[kind]
    at = f"{at}.{API_NAMES[kind]}"
    checked: dict[str, Any]
    if kind in ("add_followers", "notify"):
        checked = {
            "user_ids": await _existing(
                session, User, spec.get("user_ids") or (), field=f"{at}.userIds", noun="user"
            ),
            "team_ids": await _existing(
                session, Team, spec.get("team_ids") or (), field=f"{at}.teamIds", noun="team"
            ),
        }
        if not checked["user_ids"] and not checked["team_ids"]:
            raise Invalid("Name at least one person or team.", field=f"{at}.userIds")
        if kind == "notify":
            checked["message"] = clean_text(
                str(spec.get("message") or ""), field=f"{at}.message", limit=MESSAGE_LENGTH
            )
    elif kind == "assign_role":
        role_id, user_id = spec.get("role_id"), spec.get("user_id")
        role = None if role_id is None else await session.get(IncidentRole, role_id)
        if role is None:
            raise NotFound("No incident role with that id.", field=f"{at}.roleId")
        if role.kind is RoleKind.REPORTER:
            raise Invalid("The reporter is whoever declared the incident.", field=f"{at}.roleId")
        user = None if user_id is None else await session.get(User, user_id)
        if user is None or not user.active:
            raise NotFound("No user with that id.", field=f"{at}.userId")
        if not policy.can_hold_role(user):
            raise Invalid(
                f"{user.name} is a viewer and cannot hold incident roles.", field=f"{at}.userId"
            )
        checked = {"role_id": role.id, "user_id": user.id}
    elif kind == "set_update_cadence":
        minutes = spec.get("minutes")
        if not isinstance(minutes, int) or not 1 <= minutes <= MAX_CADENCE:
            raise Invalid(
                f"The cadence is from 1 to {MAX_CADENCE:,} minutes (a day).",
                field=f"{at}.minutes",
            )
        checked = {"minutes": minutes}
    elif kind == "add_actions":
        titles = list(spec.get("titles") or ())
        if not 1 <= len(titles) <= MAX_TITLES:
            raise Invalid(f"From 1 to {MAX_TITLES} actions.", field=f"{at}.titles")
        checked = {
            "titles": [
                clean_text(str(title), field=f"{at}.titles", limit=TITLE_LENGTH) for title in titles
            ]
        }
    else:
        endpoint_id = spec.get("endpoint_id")
        endpoint = None if endpoint_id is None else await session.get(WebhookEndpoint, endpoint_id)
        if endpoint is None:
            raise NotFound("No webhook endpoint with that id.", field=f"{at}.endpointId")
        checked = {"endpoint_id": endpoint.id}
    return {kind: checked}


# Reacting to events (the outbox) ---------------------------------------------------------------


def triggers(event: TimelineEvent) -> set[WorkflowTrigger]:
    """The triggers one timeline event sets off (none for a workflow's own runs)."""
    kind, payload = event.kind, event.payload or {}
    found: set[WorkflowTrigger] = set()
    if kind is EventKind.DECLARED:
        found.add(WorkflowTrigger.INCIDENT_DECLARED)
    elif kind is EventKind.ACCEPTED:
        found.add(WorkflowTrigger.INCIDENT_ACCEPTED)
    elif kind is EventKind.STATUS_CHANGED:
        found |= _status_triggers(payload)
    elif kind is EventKind.SEVERITY_CHANGED:
        found.add(WorkflowTrigger.SEVERITY_CHANGED)
    elif kind is EventKind.UPDATE_SHARED:
        found.add(WorkflowTrigger.UPDATE_SHARED)
        if isinstance(payload.get("status"), dict):
            found |= _status_triggers(payload["status"])
        if payload.get("severity"):
            found.add(WorkflowTrigger.SEVERITY_CHANGED)
    elif kind is EventKind.ROLE_ASSIGNED:
        found.add(WorkflowTrigger.ROLE_ASSIGNED)
    elif kind is EventKind.FIELD_CHANGED:
        found.add(WorkflowTrigger.CUSTOM_FIELD_CHANGED)
    elif kind is EventKind.UPDATE_OVERDUE:
        found.add(WorkflowTrigger.UPDATE_OVERDUE)
    return found


def _status_triggers(moved: Mapping[str, Any]) -> set[WorkflowTrigger]:
    found = {WorkflowTrigger.STATUS_CHANGED}
    if lifecycle.resolves(moved):
        found.add(WorkflowTrigger.INCIDENT_RESOLVED)
    if lifecycle.closes(moved):
        found.add(WorkflowTrigger.INCIDENT_CLOSED)
    return found


async def react(
    session: AsyncSession,
    events: Sequence[TimelineEvent],
    incidents: Mapping[int, Incident],
    *,
    now: datetime,
) -> None:
    """The outbox hook: a run and a queued job for each event matching an enabled workflow, in
    the dispatcher's transaction (never committing). A replayed event starts no second run."""
    wanted = [(event, triggers(event)) for event in events]
    if not any(found for _, found in wanted):
        return
    workflows = (await session.scalars(select(Workflow).where(Workflow.enabled.is_(True)))).all()
    if not workflows:
        return
    started: set[tuple[int, int]] = set()  # (workflow, incident) pairs given a run in this batch
    for event, found in wanted:
        incident = incidents.get(event.incident_id)
        if incident is None or not found:
            continue
        for workflow in workflows:
            if workflow.trigger not in found or not _included(workflow, incident):
                continue
            cause = f"event:{event.id}"
            if await session.scalar(
                select(
                    exists().where(
                        WorkflowRun.workflow_id == workflow.id, WorkflowRun.cause == cause
                    )
                )
            ):
                continue
            if workflow.once and (
                (workflow.id, incident.id) in started or await _has_run(session, workflow, incident)
            ):
                continue
            if workflow.delay_minutes == 0 and not await holds(
                session, Conditions.of(workflow.conditions), incident
            ):
                continue
            run_at = now + timedelta(minutes=workflow.delay_minutes)
            run = WorkflowRun(
                workflow_id=workflow.id,
                incident_id=incident.id,
                cause=cause,
                state=RunState.PENDING,
                outcome="",
                created_at=now,
                run_at=run_at,
            )
            session.add(run)
            await session.flush()
            started.add((workflow.id, incident.id))
            await jobs.enqueue(
                session,
                JOB,
                {"run_id": run.id},
                now=now,
                run_at=run_at,
                key=f"workflow-run:{run.id}",
            )


def _included(workflow: Workflow, incident: Incident) -> bool:
    if incident.private and not workflow.include_private:
        return False
    return incident.mode is not IncidentMode.TEST or workflow.include_test


async def _has_run(session: AsyncSession, workflow: Workflow, incident: Incident) -> bool:
    """Whether the workflow already ran (or will) on the incident: a run not skipped."""
    return bool(
        await session.scalar(
            select(
                exists().where(
                    WorkflowRun.workflow_id == workflow.id,
                    WorkflowRun.incident_id == incident.id,
                    WorkflowRun.state != RunState.SKIPPED,
                )
            )
        )
    )


async def holds(session: AsyncSession, conditions: Conditions, incident: Incident) -> bool:
    """Whether every condition holds of the incident as it is now."""
    if conditions.type_ids and incident.type_id not in conditions.type_ids:
        return False
    if conditions.modes and incident.mode not in conditions.modes:
        return False
    if conditions.status_categories:
        status = await session.get_one(Status, incident.status_id)
        if status.category not in conditions.status_categories:
            return False
    if conditions.severity_at_least_id is not None:
        floor = await session.get(Severity, conditions.severity_at_least_id)
        severity = await session.get_one(Severity, incident.severity_id)
        if floor is None or severity.rank < floor.rank:
            return False
    if conditions.custom_field_option_ids:
        chosen = await session.scalar(
            select(
                exists().where(
                    CustomFieldValue.incident_id == incident.id,
                    CustomFieldValue.option_id.in_(conditions.custom_field_option_ids),
                )
            )
        )
        if not chosen:
            return False
    return True


# Running (the "workflow" job) ------------------------------------------------------------------


@dataclasses.dataclass
class _Run:
    """One run's work in progress: what the steps did, in words, and whether the incident
    changed (so its version goes up once)."""

    session: AsyncSession
    workflow: Workflow
    run: WorkflowRun
    incident: Incident
    now: datetime
    email: bool
    said: list[str] = dataclasses.field(default_factory=list)
    changed: bool = False


async def run(db: Database, payload: dict[str, Any], outside: jobs.Outside) -> None:
    """The "workflow" job: do one pending run's steps, all in one transaction (a run that is
    no longer pending, or gone with its workflow, is left alone)."""
    run_id = payload.get("run_id")
    if not isinstance(run_id, int):
        return
    async with db.write() as session:
        now = db.now()
        found = await session.scalar(
            select(WorkflowRun).where(WorkflowRun.id == run_id).with_for_update()
        )
        if found is None or found.state is not RunState.PENDING:
            return
        workflow = await session.get_one(Workflow, found.workflow_id)
        incident = await session.scalar(
            select(Incident).where(Incident.id == found.incident_id).with_for_update(of=Incident)
        )
        if incident is None:  # pragma: no cover (runs go with their incident)
            return
        found.finished_at = now
        if not workflow.enabled:
            found.state, found.outcome = RunState.SKIPPED, "skipped: the workflow is turned off"
            return
        if not _included(workflow, incident) or not await holds(
            session, Conditions.of(workflow.conditions), incident
        ):
            found.state = RunState.SKIPPED
            found.outcome = "skipped: conditions no longer hold"
            return
        doing = _Run(
            session=session,
            workflow=workflow,
            run=found,
            incident=incident,
            now=now,
            email=outside.mail is not None,
        )
        try:
            for step in workflow.steps:
                await _do(doing, step)
        except MusterError as error:
            found.state = RunState.FAILED
            found.error = error.message[:ERROR_LENGTH]
            doing.said.append(("then " if doing.said else "") + f"failed: {error.message}")
        else:
            found.state = RunState.DONE
        found.outcome = _sentence(doing.said)
        await appending_events(session)
        if doing.changed:
            incident.version += 1
            incident.updated_at = now
        session.add(
            TimelineEvent(
                incident_id=incident.id,
                kind=EventKind.WORKFLOW_RAN,
                actor_id=None,
                occurred_at=now,
                payload={"workflow": workflow.name, "outcome": found.outcome},
            )
        )


def _sentence(parts: Sequence[str]) -> str:
    if not parts:
        return "did nothing."
    text = "; ".join(parts)
    return text if text.endswith((".", "!", "?")) else text + "."


async def _do(doing: _Run, step: Mapping[str, Any]) -> None:
    kind, spec = next(iter(step.items()))
    if kind == "add_followers":
        await _add_followers(doing, spec)
    elif kind == "notify":
        await _notify(doing, spec)
    elif kind == "assign_role":
        await _assign_role(doing, spec)
    elif kind == "set_update_cadence":
        await _set_cadence(doing, int(spec["minutes"]))
    elif kind == "add_actions":
        await _add_actions(doing, spec)
    elif kind == "send_webhook":
        await _send_webhook(doing, spec)
    else:  # pragma: no cover (steps are checked when saved)
        raise Invalid(f"Unknown step {kind!r}.")


async def _people(doing: _Run, spec: Mapping[str, Any]) -> list[User]:
    """The active people a step names, directly and through its teams, who may see the
    incident, by name."""
    user_ids = [int(i) for i in spec.get("user_ids") or ()]
    team_ids = [int(i) for i in spec.get("team_ids") or ()]
    in_teams = select(TeamMember.user_id).where(TeamMember.team_id.in_(team_ids))
    query = (
        select(User)
        .where(User.id.in_(user_ids) | User.id.in_(in_teams), policy.audience(doing.incident))
        .order_by(User.name, User.id)
    )
    return list((await doing.session.scalars(query)).all())


async def _add_followers(doing: _Run, spec: Mapping[str, Any]) -> None:
    people = await _people(doing, spec)
    already = set(
        await doing.session.scalars(
            select(Follower.user_id).where(
                Follower.incident_id == doing.incident.id,
                Follower.user_id.in_([person.id for person in people]),
            )
        )
    )
    added = [person for person in people if person.id not in already]
    doing.session.add_all(
        Follower(incident_id=doing.incident.id, user_id=person.id, followed_at=doing.now)
        for person in added
    )
    if not added:
        doing.said.append("found no one new to add as a follower")
    else:
        noun = "a follower" if len(added) == 1 else "followers"
        doing.said.append(f"added {_names(added)} as {noun}")


async def _notify(doing: _Run, spec: Mapping[str, Any]) -> None:
    people = await _people(doing, spec)
    incident, workflow = doing.incident, doing.workflow
    about = (
        "A private incident you are in"
        if incident.private
        else f"{incident.reference} {incident.name}"
    )
    made = await notifications.send(
        doing.session,
        [person.id for person in people],
        kind=NotificationKind.WORKFLOW,
        incident=incident,
        title=f"Workflow “{workflow.name}”: {about}",
        body=str(spec.get("message") or ""),
        cause=f"workflow-run:{doing.run.id}",
        now=doing.now,
        email=doing.email,
    )
    count = len(made)
    doing.said.append(
        "notified no one"
        if not count
        else f"notified {count} {'person' if count == 1 else 'people'}"
    )


async def _assign_role(doing: _Run, spec: Mapping[str, Any]) -> None:
    session, incident = doing.session, doing.incident
    try:
        role, user, _, _ = await roles.hand_over(
            session,
            incident_id=incident.id,
            role_id=int(spec["role_id"]),
            user_id=int(spec["user_id"]),
            now=doing.now,
        )
    except Invalid as error:
        if "already" not in error.message:
            raise
        doing.said.append(error.message.rstrip(".").replace(" is already ", " was already ", 1))
        return
    if await session.get(Member, (incident.id, user.id)) is None:
        session.add(Member(incident_id=incident.id, user_id=user.id, added_at=doing.now))
    doing.changed = True
    doing.said.append(f"made {user.name} {role.name}")
    title = f"You are now {role.name} of {incident.reference}"
    if not incident.private:
        title += f": {incident.name}"
    await notifications.send(
        session,
        [user.id],
        kind=NotificationKind.ROLE_ASSIGNED,
        incident=incident,
        title=title,
        body=role.instructions,
        cause=f"workflow-run:{doing.run.id}:role:{role.id}",
        now=doing.now,
        email=doing.email,
    )


async def _set_cadence(doing: _Run, minutes: int) -> None:
    status = await doing.session.get_one(Status, doing.incident.status_id)
    if status.category not in RESPONDING:  # as sharing an update: no promise once it is over
        doing.said.append("asked for no update, as the incident is no longer being responded to")
        return
    doing.incident.next_update_due_at = doing.now + timedelta(minutes=minutes)
    doing.changed = True
    doing.said.append(f"asked for the next update within {_minutes(minutes)}")


async def _add_actions(doing: _Run, spec: Mapping[str, Any]) -> None:
    titles = [str(title) for title in spec.get("titles") or ()]
    creator = await _creator(doing)
    doing.session.add_all(
        Action(
            incident_id=doing.incident.id,
            kind=ActionKind.ACTION,
            title=title[:TITLE_LENGTH],
            created_by_id=creator,
            created_at=doing.now,
        )
        for title in titles
    )
    doing.changed = True
    if len(titles) == 1:
        doing.said.append(f"added the action “{titles[0]}”")
    else:
        doing.said.append(f"added {len(titles)} actions")


async def _creator(doing: _Run) -> int:
    """Whom the workflow's actions are recorded as made by (an action has a creator): the
    incident's reporter."""
    reporter = await doing.session.scalar(
        select(RoleAssignment.user_id)
        .join(IncidentRole, IncidentRole.id == RoleAssignment.role_id)
        .where(
            RoleAssignment.incident_id == doing.incident.id, IncidentRole.kind == RoleKind.REPORTER
        )
        .limit(1)
    )
    if reporter is None:
        raise Invalid("The incident has no reporter to record its actions under.")
    return int(reporter)


async def _send_webhook(doing: _Run, spec: Mapping[str, Any]) -> None:
    sent = await webhooks.send_to(
        doing.session,
        endpoint_id=int(spec["endpoint_id"]),
        event_type=WEBHOOK_TYPE,
        incident=doing.incident,
        data={"workflow": doing.workflow.name},
        now=doing.now,
    )
    if sent is None:
        doing.said.append("sent no webhook, as its endpoint is off or takes no private incidents")
    else:
        doing.said.append("sent a webhook")


def _names(people: Sequence[User]) -> str:
    if len(people) == 1:
        return people[0].name
    if len(people) == 2:
        return f"{people[0].name} and {people[1].name}"
    others = len(people) - 1
    return f"{people[0].name} and {others} others"


def _minutes(minutes: int) -> str:
    if minutes % 60 == 0:
        hours = minutes // 60
        return f"{hours} hour{'s' if hours != 1 else ''}"
    return f"{minutes} minute{'s' if minutes != 1 else ''}"

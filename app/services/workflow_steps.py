"""Workflow steps: what each kind of step does to an incident during a run, and says it did.

``workflow_runs.run`` hands every step of a run, in order, to ``do_step`` with the run's
``RunInProgress``: the run's transaction, its incident (locked) and its moment. Each step adds to
what the run ``said`` (the clauses of the outcome people read) and marks whether it ``changed``
the incident, so its version goes up once. People are reached only within the incident's
``policy.audience``: followers added and people notified are those a step names who may see it.
A step that cannot be done raises a ``MusterError``, which fails the run.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app import policy
from app.errors import Invalid
from app.models import (
    RESPONDING,
    Action,
    ActionKind,
    Follower,
    Incident,
    IncidentRole,
    Member,
    NotificationKind,
    RoleAssignment,
    RoleKind,
    Status,
    TeamMember,
    User,
    Workflow,
    WorkflowRun,
)
from app.services import notifications, roles, webhooks
from app.services.workflows import TITLE_LENGTH

WEBHOOK_TYPE = "workflow.step"  # the type of a sendWebhook step's delivery


@dataclasses.dataclass
class RunInProgress:
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


async def do_step(doing: RunInProgress, step: Mapping[str, Any]) -> None:
    """Do one stored step (``{kind: {...}}``) of the run, adding what it did to ``doing.said``."""
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


async def _people(doing: RunInProgress, spec: Mapping[str, Any]) -> list[User]:
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


async def _add_followers(doing: RunInProgress, spec: Mapping[str, Any]) -> None:
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


async def _notify(doing: RunInProgress, spec: Mapping[str, Any]) -> None:
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


async def _assign_role(doing: RunInProgress, spec: Mapping[str, Any]) -> None:
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


async def _set_cadence(doing: RunInProgress, minutes: int) -> None:
    status = await doing.session.get_one(Status, doing.incident.status_id)
    if status.category not in RESPONDING:  # as sharing an update: no promise once it is over
        doing.said.append("asked for no update, as the incident is no longer being responded to")
        return
    doing.incident.next_update_due_at = doing.now + timedelta(minutes=minutes)
    doing.changed = True
    doing.said.append(f"asked for the next update within {_minutes(minutes)}")


async def _add_actions(doing: RunInProgress, spec: Mapping[str, Any]) -> None:
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


async def _creator(doing: RunInProgress) -> int:
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


async def _send_webhook(doing: RunInProgress, spec: Mapping[str, Any]) -> None:
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

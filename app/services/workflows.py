"""Workflows' settings: admins' rules "when *trigger*, if *conditions*, then *steps*".

Admins create, change, delete and read workflows here (``policy.can_configure``), and read each
one's recent runs (only those on incidents they may see). A workflow stores its ``Conditions`` and
its steps (``{kind: {...}}``, one of ``STEP_KINDS``) as JSON; every id they name is checked to
exist when it is saved, and every list, text and number is bounded by the limits below (the API
checks the sizes of lists before decoding their ids). Making runs of a workflow and doing them is
``workflow_runs``; what each step does is ``workflow_steps``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app import policy
from app.db import Database
from app.errors import Forbidden, Invalid, NotFound
from app.models import (
    CustomFieldOption,
    Incident,
    IncidentMode,
    IncidentRole,
    IncidentType,
    RoleKind,
    Severity,
    StatusCategory,
    Team,
    User,
    WebhookEndpoint,
    Workflow,
    WorkflowRun,
    WorkflowTrigger,
)
from app.text import clean_text

NAME_LENGTH = 200
MAX_STEPS = 20
MAX_IDS = 200  # ids in any one list of a condition or step
MAX_TITLES = 20
TITLE_LENGTH = 300
MESSAGE_LENGTH = 2000
MAX_DELAY = 10080  # minutes: a week
MAX_CADENCE = 1440  # minutes: a day
MAX_RUNS = 50  # recent runs one read may ask for

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

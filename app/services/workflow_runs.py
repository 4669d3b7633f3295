"""Workflow runs: which events start a run of which workflow, and doing a run (the job).

``react`` is the outbox hook: the dispatcher hands it committed timeline events in its own
transaction, and it turns each event that matches an enabled workflow (its ``triggers``, the
incidents it includes, its conditions unless it waits first) into one ``WorkflowRun`` (its
``cause`` is the event, unique per workflow, so a replayed batch starts nothing twice) and a
durable "workflow" job due after the workflow's delay. ``run`` is that job's handler: in one
write transaction it takes the run (only a pending one: doing the job again is a no-op), checks
the conditions again (``holds``), does every step in order (``workflow_steps``), records one
``WORKFLOW_RAN`` event whose outcome is a sentence people read, and marks the run done, skipped
or failed. A crash before the commit leaves the run pending and the job to be taken again, so each
run's effects happen exactly once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from app import jobs, lifecycle
from app.db import Database, appending_events
from app.errors import MusterError
from app.models import (
    CustomFieldValue,
    EventKind,
    Incident,
    IncidentMode,
    RunState,
    Severity,
    Status,
    TimelineEvent,
    Workflow,
    WorkflowRun,
    WorkflowTrigger,
)
from app.services.workflow_steps import RunInProgress, do_step
from app.services.workflows import Conditions

JOB = "workflow"
ERROR_LENGTH = 2000


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
        doing = RunInProgress(
            session=session,
            workflow=workflow,
            run=found,
            incident=incident,
            now=now,
            email=outside.mail is not None,
        )
        try:
            for step in workflow.steps:
                await do_step(doing, step)
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

"""How the demo organisation reaches people: its teams, the "Loop in leadership for Critical
incidents" workflow, the chat channel it announces to, and the background work (notifications,
workflow runs, nudges) done as the live part of the scripts is played.

``add_teams`` makes the teams the demo's admin set up when the people joined. ``add_workflow``
adds, as the live part begins, the Slack-format endpoint of the demo's chat channel (when there is
one: ``muster demo`` has it, ``muster seed-demo`` does not) and the workflow: when an incident is
declared and it is Critical (or worse), add Leadership as followers, notify them, and post to the
channel. ``catch_up`` is the worker's round on the demo's clock: the default notifications,
workflow runs and webhook deliveries for the events committed since the last round, the workflow
jobs due, and the nudge sweep, repeated until nothing is left; the player calls it after every
live step, so each notification and nudge carries the moment it happened. Webhook deliveries are
left queued: the server's worker sends them once it runs.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping
from datetime import timedelta
from typing import Any

import httpx2

from app import jobs
from app.config import NudgeSettings
from app.db import Database
from app.demo.chat import CHANNEL, Chat
from app.demo.people import Who
from app.dispatch import Dispatcher
from app.models import User, WebhookFormat, WorkflowTrigger
from app.services import (
    catalog,
    nudges,
    status_page,
    status_subscriptions,
    teams,
    webhook_endpoints,
    workflow_runs,
    workflows,
)
from app.services.workflows import Conditions
from app.worker import reactions

LEADERSHIP = "Leadership"
WORKFLOW = "Loop in leadership for Critical incidents"
WORKFLOW_MESSAGE = (
    "A Critical incident was just declared. You are following it now: its updates come to your "
    "inbox, and the next one is promised on the incident's page."
)
TEAMS: tuple[tuple[str, str, tuple[Who, ...]], ...] = (
    (LEADERSHIP, "The people who hear about every Critical incident.", ("erin", "alex", "chloe")),
    ("Support", "Customer support: first to hear when customers are stuck.", ("sam", "chloe")),
    ("Security", "Security: lost devices, suspicious access, anything private.", ("priya",)),
    ("Data", "Data and RevOps: dashboards, reports and the pipelines behind them.", ("dana",)),
    ("SRE", "Site reliability and platform engineers, on call in turns.", ("jordan", "noah")),
)
LOOPS = 100  # rounds of catch_up at most: a bound, never reached


async def add_teams(db: Database, admin: User, people: Mapping[Who, User]) -> dict[str, int]:
    """The demo's teams, made by ``admin``; their ids by name."""
    made = {}
    for name, description, members in TEAMS:
        team = await teams.create_team(
            db,
            actor=admin,
            name=name,
            description=description,
            member_ids=[people[who].id for who in members],
        )
        made[name] = team.id
    return made


async def add_workflow(
    db: Database, admin: User, team_ids: Mapping[str, int], chat: Chat | None
) -> None:
    """The chat channel's endpoint (if ``chat``) and the leadership workflow, made by ``admin``."""
    async with db.read() as session:
        severities = {s.name: s.id for s in await catalog.list_severities(session)}
    leadership = [team_ids[LEADERSHIP]]
    steps: list[dict[str, dict[str, Any]]] = [
        {"add_followers": {"team_ids": leadership}},
        {"notify": {"team_ids": leadership, "message": WORKFLOW_MESSAGE}},
    ]
    if chat is not None:
        endpoint, _ = await webhook_endpoints.create_endpoint(
            db,
            actor=admin,
            secret_key=chat.secret_key,
            url=chat.url,
            description=f"{CHANNEL} in the demo's chat: resolutions, and Critical incidents "
            "as the leadership workflow announces them.",
            format=WebhookFormat.SLACK,
            event_types=["incident.resolved"],
        )
        steps.append({"send_webhook": {"endpoint_id": endpoint.id}})
    await workflows.create_workflow(
        db,
        actor=admin,
        name=WORKFLOW,
        trigger=WorkflowTrigger.INCIDENT_DECLARED,
        conditions=Conditions(severity_at_least_id=severities["Critical"]),
        steps=steps,
    )


async def catch_up(db: Database, outside: jobs.Outside) -> None:
    """What the worker would have done by ``db.now()``: react to the events committed so far,
    run the workflow jobs and status page fan-outs due and send the nudges due, until nothing is
    left (webhook and email jobs stay queued for the server)."""
    handlers: dict[str, jobs.Handler] = {
        workflow_runs.JOB: workflow_runs.run,
        status_page.NEWS_JOB: status_subscriptions.fan_out,
    }
    dispatcher = Dispatcher(db, reactions(email=False))
    await nudges.sweep(db, NudgeSettings(), email=False)
    for _ in range(LOOPS):
        while await dispatcher.run():
            pass
        taken = await jobs.claim(db, limit=50, lease=timedelta(minutes=1), kinds=list(handlers))
        if not taken:
            return
        for job in taken:
            await handlers[job.kind](db, job.payload, outside)
        await jobs.finish(db, taken)


@contextlib.asynccontextmanager
async def outside(base_url: str, secret_key: str) -> AsyncIterator[jobs.Outside]:
    """What the demo's workflow runs reach the outside with: no mail, and no request sent."""
    async with httpx2.AsyncClient() as http:
        yield jobs.Outside(base_url=base_url, secret_key=secret_key, mail=None, http=http)

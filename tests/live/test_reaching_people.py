"""Reaching people with no one lifting a finger, across real processes on PostgreSQL: a support
person's Critical declare reaches the Leadership team's inboxes, their email (a real SMTP server)
and a chat channel (a real receiver) through a workflow, even though the process delivering it
is killed mid-delivery; and an overdue update nudges its owner. Nothing is lost and no
notification is made twice; the chat message is delivered at least once with one stable id."""

from __future__ import annotations

import asyncio
import collections
import os
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from app.models import Incident, Notification, NotificationKind, Severity, WebhookFormat
from app.services import declarations, roles, teams, webhook_endpoints, workflows
from tests.live.conftest import ROOT, post, until
from tests.support.factories import lead_role, named
from tests.support.receivers import MailServer, Receiver

INBOX = """{ viewer { unreadNotificationCount
  notifications(first: 10) { edges { node { kind title incident { reference } } } } } }"""
DECLARE = """mutation($name: String!, $severityId: ID) {
  declareIncident(input: {name: $name, severityId: $severityId}) {
    incident { reference } userErrors { message } } }"""
SEVERITIES = "{ severities { id name } }"


def start_worker(database_url: str, log, **env: str) -> subprocess.Popen:
    """``muster worker`` on the test database."""
    environ = {
        **os.environ, "MUSTER_DATABASE_URL": database_url, "MUSTER_SECRET_KEY": "s" * 32,
        **env,
    }  # fmt: skip
    output = log.open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "worker"],
        env=environ, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT,
    )  # fmt: skip
    return process


async def eventually(check, wait: float = 30) -> None:
    """Wait until the awaitable ``check()`` answers something true (the database, polled)."""
    deadline = time.monotonic() + wait
    while not await check():
        assert time.monotonic() < deadline, "timed out waiting"
        await asyncio.sleep(0.1)


async def notifications_of(db, person, kind):
    async with db.read() as session:
        return (
            await session.scalars(
                select(Notification).where(
                    Notification.user_id == person.id, Notification.kind == kind
                )
            )
        ).all()


async def test_a_critical_declare_reaches_leadership_through_a_process_kill(
    db, database_url, people, token, servers, tmp_path
):
    if db.is_sqlite:
        pytest.skip("several processes and a kill mid-delivery need PostgreSQL")
    leaders = [people.viewer, people.other_member]
    critical = await named(db, Severity, "Critical")
    with MailServer.running() as smtp, Receiver.running() as chat:
        leadership = await teams.create_team(
            db, actor=people.admin, name="Leadership", member_ids=[p.id for p in leaders]
        )
        await webhook_endpoints.create_endpoint(
            db, actor=people.admin, secret_key="s" * 32, url=chat.at("/announcements"),
            format=WebhookFormat.SLACK, event_types=["incident.declared"],
        )  # fmt: skip
        await workflows.create_workflow(
            db, actor=people.admin, name="Loop in leadership",
            trigger=workflows.WorkflowTrigger.INCIDENT_DECLARED,
            conditions=workflows.Conditions(severity_at_least_id=critical.id),
            steps=[
                {"add_followers": {"user_ids": [], "team_ids": [leadership.id]}},
                {"notify": {"user_ids": [], "team_ids": [leadership.id],
                            "message": "Critical incident: join the exec channel."}},
            ],
        )  # fmt: skip
        env = {
            "MUSTER_SMTP_URL": smtp.url,
            "MUSTER_WEBHOOK_ALLOW_PRIVATE": "1",
            "MUSTER_JOB_LEASE_SECONDS": "3",
            "MUSTER_NUDGE_CHECK_SECONDS": "1",
        }
        delivering = servers(**env)  # works the jobs
        serving = servers(**env, MUSTER_RUN_JOBS="0")  # only serves

        chat.holding.set()  # the chat channel takes its time: the delivery is in flight
        support = await token(people.member)
        severities = (await post(serving, support, SEVERITIES))["severities"]
        critical_id = next(s["id"] for s in severities if s["name"] == "Critical")
        declared = await post(
            serving, support, DECLARE, {"name": "Checkout down", "severityId": critical_id}
        )
        reference = declared["declareIncident"]["incident"]["reference"]
        await until(lambda: chat.held >= 1, wait=15)
        delivering.process.kill()  # mid-delivery
        delivering.process.wait(10)
        chat.holding.clear()
        chat.released.set()
        worker = start_worker(database_url, tmp_path / "worker.log", **env)
        try:
            # The leaders hear of it in the app, by email and in the chat channel.
            expected = {
                "kind": "WORKFLOW",
                "title": f"Workflow “Loop in leadership”: {reference} Checkout down",
                "incident": {"reference": reference},
            }
            for leader in leaders:
                secret = await token(leader)

                async def heard(secret=secret) -> bool:
                    inbox = (await post(serving, secret, INBOX))["viewer"]
                    return expected in [e["node"] for e in inbox["notifications"]["edges"]]

                await eventually(heard)
            await until(lambda: all(smtp.to(leader.email) for leader in leaders), wait=30)
            await until(lambda: chat.on("/announcements"), wait=30)
            [message] = chat.on("/announcements")
            assert reference in message.json()["text"]

            # Each leader got one notification and one email; the chat message one id.
            for leader in leaders:
                assert len(await notifications_of(db, leader, NotificationKind.WORKFLOW)) == 1
                assert len(smtp.to(leader.email)) == 1
            ids = collections.Counter(r.headers.get("webhook-id") for r in chat.got)
            assert all(count == 1 for count in ids.values())

            # An overdue update nudges its owner (the lead), in the app and by email.
            incident = await declarations.declare(db, actor=people.member, name="Slow search")
            lead = await lead_role(db)
            await roles.assign_role(
                db, actor=people.responder, incident_id=incident.id, role_id=lead.id,
                user_id=people.other_responder.id,
            )  # fmt: skip
            async with db.write() as session:
                await session.execute(
                    update(Incident)
                    .where(Incident.id == incident.id)
                    .values(next_update_due_at=db.now() - timedelta(minutes=1))
                )
            overdue = NotificationKind.UPDATE_OVERDUE
            await eventually(lambda: notifications_of(db, people.other_responder, overdue))
            assert len(await notifications_of(db, people.other_responder, overdue)) == 1
            await until(lambda: smtp.to(people.other_responder.email), wait=30)
        finally:
            worker.terminate()
            worker.wait(15)
    async with db.read() as session:
        duplicates = await session.scalar(
            select(func.count()).select_from(
                select(Notification.user_id, Notification.cause)
                .group_by(Notification.user_id, Notification.cause)
                .having(func.count() > 1)
                .subquery()
            )
        )
    assert duplicates == 0

"""A workflow reaching a 1,000-person team (QUALITY-BARS.md, second-wave bar 11, first part).

One ``muster serve`` process (uvicorn, its worker inside) on CPU 0; this process on CPU 1. The
database holds 1,000 people in a team "Leadership" and a workflow "Loop in leadership": when an
incident is declared, add the team as followers, then notify the team. ``--feeds`` of those
people (100 by default) each keep the ``notifications`` subscription open over WebSocket
(graphql-transport-ws, each with their own token). A support person then declares through the
API, and the benchmark measures, from the declare's response:

- stored: until all 1,000 WORKFLOW notifications of the incident are in the database (polled
  every 10 ms) and all 1,000 people follow it;
- live: until every open inbox feed has said its unread count went up.

The bar: both within 5 s. One declare warms up, then ``--runs`` (3) declares are measured, each
after the previous one has settled; medians are printed, with where the time went (the run's
``created_at``: the dispatcher made it; its ``finished_at``: its transaction began).

Run: .venv/bin/python bench/workflow_fanout.py [--people 1000] [--feeds 100] [--runs 3]
     [--database-url postgresql+asyncpg://postgres@127.0.0.1/test]
With a PostgreSQL URL the benchmark makes its own database ``muster_bench_fanout`` on that
server (dropped first if it exists); without one it uses a fresh SQLite file.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx2
import websockets
from sqlalchemy import func, select

from app.cli import migrate
from app.db import Database
from app.models import (
    EventKind,
    Follower,
    Notification,
    NotificationKind,
    OrgRole,
    TimelineEvent,
    TokenScope,
    WorkflowRun,
    WorkflowTrigger,
)
from app.services import teams, tokens, users, workflows
from schema import ids

sys.path.insert(0, str(Path(__file__).resolve().parent))
from graphql_list import fresh_postgres
from processes import free_port, serve, uvicorn

SECRET_KEY = "f" * 32
BAR = 5.0  # seconds
INBOX = "subscription { notifications { unreadNotificationCount } }"
DECLARE = """mutation($name: String!) { declareIncident(input: {name: $name}) {
  incident { id reference } userErrors { message } } }"""


class Feed:
    """One person's live inbox: the counts it said, and when."""

    def __init__(self) -> None:
        self.counts: list[tuple[float, int]] = []
        self.changed = asyncio.Event()

    @property
    def count(self) -> int:
        return self.counts[-1][1] if self.counts else -1

    def reached(self, count: int) -> float | None:
        """When this feed first said ``count`` or more (None: not yet)."""
        return next((at for at, said in self.counts if said >= count), None)


async def open_feed(port: int, secret: str, feed: Feed) -> websockets.ClientConnection:
    socket = await websockets.connect(
        f"ws://127.0.0.1:{port}/graphql", subprotocols=["graphql-transport-ws"], compression=None
    )
    await socket.send(
        json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {secret}"}})
    )
    acked = json.loads(await socket.recv())
    assert acked["type"] == "connection_ack", acked
    await socket.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": INBOX}}))

    async def read() -> None:
        async for message in socket:
            now = time.time()
            body = json.loads(message)
            if body.get("type") == "next":
                count = body["payload"]["data"]["notifications"]["unreadNotificationCount"]
                feed.counts.append((now, count))
                feed.changed.set()
            elif body.get("type") != "ping":
                print("feed said:", body, file=sys.stderr)

    asyncio.create_task(read())
    return socket


async def prepare(url: str, people: int, feeds: int) -> tuple[str, list[str]]:
    """The team, the workflow, the support person's token and the feeds' tokens."""
    db = Database(url)
    admin = await users.add_user(db, email="admin@bench.test", role=OrgRole.ADMIN)
    support = await users.add_user(db, email="support@bench.test", role=OrgRole.MEMBER)
    _, support_secret = await tokens.create_token(
        db, user=support, name="bench", scope=TokenScope.READ_WRITE
    )
    team = [
        await users.add_user(db, email=f"leader{n:04}@bench.test", name=f"Leader {n:04}")
        for n in range(people)
    ]
    leadership = await teams.create_team(
        db, actor=admin, name="Leadership", member_ids=[person.id for person in team]
    )
    await workflows.create_workflow(
        db, actor=admin, name="Loop in leadership", trigger=WorkflowTrigger.INCIDENT_DECLARED,
        steps=[
            {"add_followers": {"user_ids": [], "team_ids": [leadership.id]}},
            {"notify": {"user_ids": [], "team_ids": [leadership.id],
                        "message": "Critical incident: join the exec channel."}},
        ],
    )  # fmt: skip
    secrets = [
        (await tokens.create_token(db, user=person, name="inbox"))[1] for person in team[:feeds]
    ]
    await db.dispose()
    return support_secret, secrets


async def stored(db: Database, incident_id: int) -> tuple[int, int]:
    """The incident's WORKFLOW notifications and followers, as committed now."""
    async with db.read() as session:
        notified = await session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(
                Notification.incident_id == incident_id,
                Notification.kind == NotificationKind.WORKFLOW,
            )
        )
        following = await session.scalar(
            select(func.count()).select_from(Follower).where(Follower.incident_id == incident_id)
        )
        return notified or 0, following or 0


async def breakdown(db: Database, incident_id: int) -> dict[str, float]:
    """The declare's commit (its DECLARED event) and the run's timestamps, as epoch seconds."""
    async with db.read() as session:
        declared = await session.scalar(
            select(TimelineEvent.occurred_at).where(
                TimelineEvent.incident_id == incident_id,
                TimelineEvent.kind == EventKind.DECLARED,
            )
        )
        run = await session.scalar(
            select(WorkflowRun).where(WorkflowRun.incident_id == incident_id)
        )
        ran = await session.scalar(
            select(TimelineEvent.occurred_at).where(
                TimelineEvent.incident_id == incident_id,
                TimelineEvent.kind == EventKind.WORKFLOW_RAN,
            )
        )
    assert declared is not None
    assert run is not None
    assert run.finished_at is not None
    return {
        "declared": declared.timestamp(),
        "run_made": run.created_at.timestamp(),
        "run_began": run.finished_at.timestamp(),
        "ran_event": ran.timestamp() if ran else float("nan"),
        "outcome": run.outcome,  # type: ignore[dict-item]
    }


async def one_declare(
    port: int, db: Database, support: str, feeds: list[Feed], people: int, n: int
) -> dict[str, Any]:
    targets = [feed.count + 1 for feed in feeds]
    async with httpx2.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
        sent = time.time()
        response = await http.post(
            "/graphql",
            json={"query": DECLARE, "variables": {"name": f"Checkout down {n}"}},
            headers={"Authorization": f"Bearer {support}"},
        )
        answered = time.time()
    body = response.json()
    assert not body.get("errors"), body
    assert not body["data"]["declareIncident"]["userErrors"], body
    incident_id = ids.decode(
        "Incident", body["data"]["declareIncident"]["incident"]["id"], field="id"
    )
    deadline = answered + 60
    stored_at: float | None = None
    while stored_at is None and time.time() < deadline:
        notified, following = await stored(db, incident_id)
        if notified >= people and following >= people:
            stored_at = time.time()
            break
        await asyncio.sleep(0.01)
    live_at: float | None = None
    while time.time() < deadline:
        reached = [feed.reached(target) for feed, target in zip(feeds, targets, strict=True)]
        if all(at is not None for at in reached):
            live_at = max(at for at in reached if at is not None)
            break
        await asyncio.sleep(0.01)
    notified, following = await stored(db, incident_id)
    parts = await breakdown(db, incident_id)
    return {
        "request_s": answered - sent,
        "stored_s": None if stored_at is None else stored_at - answered,
        "live_s": None if live_at is None else live_at - answered,
        "notified": notified,
        "following": following,
        "from_commit_stored_s": None if stored_at is None else stored_at - parts["declared"],
        "run_made_s": parts["run_made"] - parts["declared"],
        "run_began_s": parts["run_began"] - parts["declared"],
        "outcome": parts["outcome"],
    }


async def measure(url: str, people: int, feed_count: int, runs: int) -> list[dict[str, Any]]:
    await asyncio.to_thread(migrate, url)
    support, secrets = await prepare(url, people, feed_count)
    env = {
        **os.environ, "MUSTER_SECRET_KEY": SECRET_KEY, "MUSTER_DATABASE_URL": url,
        "MUSTER_LOG_LEVEL": "WARNING", "MUSTER_LIVE_FEEDS_PER_PERSON": "100",
    }  # fmt: skip
    port = free_port()
    process = serve(uvicorn("views.app:create_app", port, "--no-access-log"), port, env)
    db = Database(url)
    results = []
    try:
        feeds = [Feed() for _ in secrets]
        sockets = [
            await open_feed(port, secret, feed) for secret, feed in zip(secrets, feeds, strict=True)
        ]
        while any(feed.count < 0 for feed in feeds):  # each said its count at once
            await asyncio.sleep(0.05)
        for n in range(runs + 1):
            result = await one_declare(port, db, support, feeds, people, n)
            label = "warm-up" if n == 0 else f"run {n}"
            print(f"{label}: {_line(result)}", flush=True)
            if n:
                results.append(result)
            await asyncio.sleep(2)  # let the WORKFLOW_RAN event's own reactions settle
        for socket in sockets:
            await socket.close()
    finally:
        process.terminate()
        process.wait()
        await db.dispose()
    return results


def _line(result: dict[str, Any]) -> str:
    def s(value: float | None) -> str:
        return "—" if value is None else f"{value:.2f} s"

    return (
        f"stored {s(result['stored_s'])}, live {s(result['live_s'])} after the declare's "
        f"response ({result['notified']} notified, {result['following']} following; the run "
        f"made {s(result['run_made_s'])} and begun {s(result['run_began_s'])} after the commit; "
        f"declare request {1000 * result['request_s']:.0f} ms) — {result['outcome'][-40:]!r}"
    )


async def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=1000)
    parser.add_argument("--feeds", type=int, default=100)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    os.sched_setaffinity(0, {1})
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    ids.use_secret(SECRET_KEY)
    if args.database_url:
        url = await fresh_postgres(args.database_url, "muster_bench_fanout")
    else:
        url = f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp()) / 'fanout.db'}"
    database = "PostgreSQL" if args.database_url else "SQLite"
    results = await measure(url, args.people, args.feeds, args.runs)
    done = [r for r in results if r["stored_s"] is not None and r["live_s"] is not None]
    if len(done) < len(results):
        print(f"{len(results) - len(done)} of {len(results)} runs did not finish in 60 s")
    if not done:
        return 1
    stored_s = statistics.median(r["stored_s"] for r in done)
    live_s = statistics.median(r["live_s"] for r in done)
    print(f"load average {os.getloadavg()[0]:.1f}")
    print(
        f"{database}: {args.people} people, {args.feeds} live inboxes, median of {len(done)}: "
        f"all notifications stored {stored_s:.2f} s, last live count {live_s:.2f} s after the "
        f"declare's response (bar <= {BAR:.0f} s: {'met' if max(stored_s, live_s) <= BAR else 'NOT met'})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))

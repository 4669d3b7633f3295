"""A change written through one process, read from another's stored page drawings (issue 14,
"Scale out"): how long until the other process serves it.

Two Muster processes (two hosts, or two of ``--workers``) on one PostgreSQL database. Each
round, the dashboard is drawn and stored on process B; then an incident is renamed through
process A's API, and B's dashboard is asked for again and again until it shows the new name.
Printed: the time from A's answer (the write committed) to the first answer from B showing it,
p50 / p99 / max over the rounds, next to the bar for cross-process commit → receipt (p99 ≤
150 ms). Every answer B gives before that is a stale page served after the commit.

The database is the PostgreSQL database ``--database-url`` names, dropped and created again
(never ``test``), migrated and seeded with the demo organisation. Both servers run on CPU 0,
this process on CPU 1. Run:

    .venv/bin/python bench/pages_elsewhere.py [--rounds 200]
        [--database-url postgresql+asyncpg://postgres@127.0.0.1:5432/bench_elsewhere]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from pathlib import Path

import httpx2
from sqlalchemy import select

from app import demo
from app.cli import migrate
from app.config import Settings
from app.db import Database
from app.models import Incident, OrgRole, TokenScope
from app.services import sessions, tokens, users

sys.path.insert(0, str(Path(__file__).resolve().parent))
from processes import free_port, serve, uvicorn
from status_page import fresh_database

SECRET_KEY = "s" * 32
RENAME = """mutation($input: ChangeIncidentDetailsInput!) {
  changeIncidentDetails(input: $input) { userErrors { message } }
}"""
FIND = "query($reference: String!) { incident(reference: $reference) { id } }"


async def prepare(url: str) -> tuple[str, str, str]:
    """A session cookie and an API token for one responder, and an ongoing public incident's
    reference (shown on the dashboard)."""
    db = Database(url)
    await demo.seed(db)
    person = await users.add_user(db, email="bench@bench.test", role=OrgRole.RESPONDER)
    async with db.read() as session:
        incident = await session.scalar(
            select(Incident)
            .where(Incident.private.is_(False), Incident.resolved_at.is_(None))
            .order_by(Incident.id.desc())
        )
    assert incident is not None
    settings = Settings.from_env(env(url))
    timeouts = sessions.Timeouts(idle=settings.session_idle, absolute=settings.session_max)
    _, cookie = await sessions.start_session(db, user=person, timeouts=timeouts)
    _, token = await tokens.create_token(db, user=person, name="bench", scope=TokenScope.READ_WRITE)
    await db.dispose()
    return f"muster_session={cookie}", token, f"INC-{incident.number}"


def env(url: str) -> dict[str, str]:
    return {"MUSTER_DATABASE_URL": url, "MUSTER_SECRET_KEY": SECRET_KEY}


async def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument(
        "--database-url",
        default="postgresql+asyncpg://postgres@127.0.0.1:5432/bench_elsewhere",
        help="a PostgreSQL database to create afresh",
    )
    args = parser.parse_args()
    os.sched_setaffinity(0, {1})
    url = await fresh_database(args.database_url)
    await asyncio.to_thread(migrate, url)
    cookie, token, reference = await prepare(url)
    ports = free_port(), free_port()
    servers = [serve(uvicorn("views.app:create_app", port), port, env(url)) for port in ports]
    writer_url, reader_url = (f"http://127.0.0.1:{port}" for port in ports)
    delays: list[float] = []
    stale = 0
    try:
        async with (
            httpx2.AsyncClient(base_url=writer_url, timeout=10) as writer,
            httpx2.AsyncClient(base_url=reader_url, timeout=10, headers={"Cookie": cookie}) as reader,
        ):  # fmt: skip
            bearer = {"Authorization": f"Bearer {token}"}
            found = await writer.post(
                "/graphql", json={"query": FIND, "variables": {"reference": reference}},
                headers=bearer,
            )  # fmt: skip
            incident_id = found.json()["data"]["incident"]["id"]
            for round_ in range(args.rounds):
                name = f"Renamed {round_}"
                (await reader.get("/")).raise_for_status()  # drawn and stored on B
                renamed = await writer.post(
                    "/graphql", headers=bearer,
                    json={"query": RENAME, "variables": {"input": {"incidentId": incident_id,
                                                                   "name": name}}},
                )  # fmt: skip
                committed = time.perf_counter()
                assert renamed.json()["data"]["changeIncidentDetails"]["userErrors"] == []
                while name not in (await reader.get("/")).text:
                    stale += 1
                    if time.perf_counter() - committed > 30:
                        raise SystemExit(f"process B still serves the old name after 30 s: {name}")
                delays.append((time.perf_counter() - committed) * 1000)
    finally:
        for server in servers:
            server.terminate()
            server.wait()
    delays.sort()
    p99 = delays[min(len(delays) - 1, int(len(delays) * 0.99))]
    print(
        f"{args.rounds} renames through A, read from B's dashboard: commit → B serves it "
        f"p50 {statistics.median(delays):.1f} ms, p99 {p99:.1f} ms, max {delays[-1]:.1f} ms "
        f"(bar: p99 <= 150 ms); {stale} stale answers in all"
    )
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))

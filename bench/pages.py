"""Signed-in pages when everyone opens Muster at once (issue 14, "Pages and lists shared by
audience").

The demo organisation (its people, ~25 incidents and their timelines) plus enough people for
``--clients`` distinct sessions; each client is its own keep-alive connection with its own
session cookie. Measured side by side, in interleaved rounds so the machine's load hits all
alike: ``GET /`` (the dashboard), ``GET /incidents/INC-<n>`` (an ongoing public incident's
page) and ``GET /healthz`` on the same process. Bars: the dashboard at ≥ 0.25 of ``/healthz``'s
rate and the incident page at ≥ 0.15, each with p99 ≤ 1 s at 50 concurrent clients.

The database is a new SQLite file in a temporary directory or, with ``--database-url``, the
PostgreSQL database that URL names, dropped and created again (never ``test``); it is migrated
(``app.cli.migrate``) and seeded (``app.demo.seed``) first. The server (uvicorn with
``views.app:create_app``) runs alone on CPU 0; this process and its clients on CPU 1. Run:

    .venv/bin/python bench/pages.py [--clients 50] [--seconds 6] [--rounds 3]
        [--database-url postgresql+asyncpg://postgres@127.0.0.1:5432/bench_pages]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import make_url

from app import demo
from app.cli import migrate
from app.config import Settings
from app.db import Database
from app.models import Incident, OrgRole, User
from app.services import sessions, users

sys.path.insert(0, str(Path(__file__).resolve().parent))
from http_load import load, request
from processes import free_port, serve, uvicorn
from status_page import fresh_database

SECRET_KEY = "s" * 32


async def prepare(url: str, clients: int, port: int) -> tuple[list[str], str]:
    """Session cookies for ``clients`` distinct people, and an ongoing public incident's path."""
    db = Database(url)
    await demo.seed(db)
    async with db.read() as session:
        people = list(await session.scalars(select(User).where(User.active.is_(True))))
        incident = await session.scalar(
            select(Incident)
            .where(Incident.private.is_(False), Incident.resolved_at.is_(None))
            .order_by(Incident.id.desc())
        )
    assert incident is not None
    for n in range(len(people), clients):
        people.append(await users.add_user(db, email=f"bench{n}@bench.test", role=OrgRole.MEMBER))
    settings = Settings.from_env(env(url, port))
    timeouts = sessions.Timeouts(idle=settings.session_idle, absolute=settings.session_max)
    cookies = []
    for person in people[:clients]:
        _, secret = await sessions.start_session(db, user=person, timeouts=timeouts)
        cookies.append(f"muster_session={secret}")
    await db.dispose()
    return cookies, f"/incidents/INC-{incident.number}"


def env(url: str, port: int) -> dict[str, str]:
    return {
        "MUSTER_DATABASE_URL": url,
        "MUSTER_SECRET_KEY": SECRET_KEY,
        "MUSTER_BASE_URL": f"http://127.0.0.1:{port}",
    }


async def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=6)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database-url", help="a PostgreSQL database to create afresh")
    args = parser.parse_args()
    os.sched_setaffinity(0, {1})
    url = await fresh_database(args.database_url)
    print(f"database {make_url(url).render_as_string()}")
    await asyncio.to_thread(migrate, url)
    port = free_port()
    cookies, incident = await prepare(url, args.clients, port)
    process = serve(uvicorn("views.app:create_app", port), port, env(url, port))
    targets = {
        "/ (dashboard)": [request(port, "/", cookie=c) for c in cookies],
        f"{incident} (incident)": [request(port, incident, cookie=c) for c in cookies],
        "/healthz": [request(port, "/healthz")] * args.clients,
    }
    try:
        results: dict[str, list[dict[str, float]]] = {name: [] for name in targets}
        for _ in range(args.rounds):  # interleaved, so the machine's load hits all alike
            for name, sent in targets.items():
                results[name].append(await load(port, sent, args.seconds))
    finally:
        process.terminate()
        process.wait()
    medians = {
        name: {key: statistics.median(r[key] for r in rounds) for key in rounds[0]}
        for name, rounds in results.items()
    }
    print(f"{args.clients} clients, {args.rounds} rounds of {args.seconds:g} s; medians")
    for name, figures in medians.items():
        runs = ", ".join(f"{r['rate']:,.0f}" for r in results[name])
        print(
            f"{name:>28}: {figures['rate']:,.0f} req/s ({runs}), p50 {figures['p50_ms']:.1f} ms,"
            f" p99 {figures['p99_ms']:.1f} ms"
        )
    health = medians["/healthz"]["rate"]
    dashboard, page = (medians[name]["rate"] for name in list(targets)[:2])
    print(
        f"dashboard / healthz {dashboard / health:.3f} (bar >= 0.25); "
        f"incident page / healthz {page / health:.3f} (bar >= 0.15)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))

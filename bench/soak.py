"""A soak at steady mixed load (issue 14, "Operations"): pages, API, live feeds and declares
together for ``--minutes``, against one real server.

The mix, all at once: ``--page-clients`` people loading the dashboard, the incident list and an
incident page with their own session cookies; ``--api-clients`` integrations polling
``incidents(first: 20)`` with a token; ``--streams`` live feeds (``/live/events``, the same
people's) each open for a few seconds, then opened again (browsers coming and going); one writer
declaring an incident, adding a note to it and closing the one before, twice a second. Everything answers or the soak fails.

It warms up first (the same mix for ``--warmup`` seconds), lets every client go, and takes the
server's resident memory and open sockets then as the baseline. After the soak every client
goes again, and the same two are read: the soak passes with no 5xx answer and no failed
request, RSS grown by less than ``--max-growth`` (10 %), and the open sockets back to the
baseline once the clients have left. It prints one line per minute, then the verdict, and
exits 1 if it failed. The database is a new SQLite file (or ``--database-url``'s PostgreSQL
database, made afresh; never ``test``), migrated and seeded with the demo organisation.

    .venv/bin/python bench/soak.py [--minutes 30] [--warmup 30]
        [--database-url postgresql+asyncpg://postgres@127.0.0.1:5432/bench_soak]

A shorter run is part of the test suite (``tests/test_soak.py``).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import random
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
from sqlalchemy import select

from app import demo
from app.cli import migrate
from app.config import Settings
from app.db import Database
from app.models import Incident, OrgRole, TokenScope, User
from app.services import sessions, tokens, users

sys.path.insert(0, str(Path(__file__).resolve().parent))
from processes import free_port, rss_kib, serve, uvicorn
from status_page import fresh_database

SECRET_KEY = "s" * 32
LIST = """{ incidents(first: 20) { edges { node { reference name status { name }
  severity { name } lead { name } latestUpdate { message } } } } }"""
DECLARE = """mutation($input: DeclareIncidentInput!) {
  declareIncident(input: $input) { incident { id } userErrors { message } } }"""
NOTE = """mutation($input: AddNoteInput!) { addNote(input: $input) { userErrors { message } } }"""
RESOLVE = """mutation($input: ChangeIncidentStatusInput!) {
  changeIncidentStatus(input: $input) { userErrors { message } } }"""
STATUSES = "{ statuses { id category } }"


@dataclass
class Tally:
    """What the clients saw: answers by status, requests that failed outright, live messages."""

    statuses: Counter[int] = field(default_factory=Counter)
    failures: Counter[str] = field(default_factory=Counter)
    messages: int = 0

    def answered(self, status: int) -> None:
        self.statuses[status] += 1

    @property
    def bad(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500) + sum(
            self.failures.values()
        )


@dataclass
class Cast:
    cookies: list[str]
    token: str
    incident: str  # an ongoing public incident's reference


async def prepare(url: str, people: int) -> Cast:
    db = Database(url)
    await demo.seed(db)
    async with db.read() as session:
        active = list(await session.scalars(select(User).where(User.active.is_(True))))
        incident = await session.scalar(
            select(Incident)
            .where(Incident.private.is_(False), Incident.resolved_at.is_(None))
            .order_by(Incident.id.desc())
        )
    assert incident is not None
    for n in range(len(active), people):
        active.append(await users.add_user(db, email=f"soak{n}@soak.test", role=OrgRole.MEMBER))
    writer = await users.add_user(db, email="writer@soak.test", role=OrgRole.RESPONDER)
    _, token = await tokens.create_token(db, user=writer, name="soak", scope=TokenScope.READ_WRITE)
    settings = Settings.from_env(env(url))
    timeouts = sessions.Timeouts(idle=settings.session_idle, absolute=settings.session_max)
    cookies = []
    for person in active[:people]:
        _, secret = await sessions.start_session(db, user=person, timeouts=timeouts)
        cookies.append(f"muster_session={secret}")
    await db.dispose()
    return Cast(cookies, token, f"INC-{incident.number}")


def env(url: str) -> dict[str, str]:
    return {"MUSTER_DATABASE_URL": url, "MUSTER_SECRET_KEY": SECRET_KEY}


async def request(tally: Tally, send, kind: str) -> httpx2.Response | None:
    try:
        response = await send()
    except httpx2.HTTPError as error:
        tally.failures[f"{kind}: {type(error).__name__}"] += 1
        return None
    tally.answered(response.status_code)
    return response


async def browse(base: str, cookie: str, incident: str, tally: Tally, until: float) -> None:
    paths = itertools.cycle(["/", "/incidents", f"/incidents/{incident}"])
    async with httpx2.AsyncClient(base_url=base, headers={"Cookie": cookie}, timeout=30) as http:
        while time.monotonic() < until:
            await request(tally, lambda: http.get(next(paths)), "page")


async def integrate(base: str, token: str, tally: Tally, until: float) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx2.AsyncClient(base_url=base, headers=headers, timeout=30) as http:
        while time.monotonic() < until:
            await request(tally, lambda: http.post("/graphql", json={"query": LIST}), "api")


async def follow(base: str, cookie: str, tally: Tally, until: float) -> None:
    headers = {"Cookie": cookie, "Accept": "text/event-stream"}
    async with httpx2.AsyncClient(base_url=base, headers=headers, timeout=30) as http:
        while time.monotonic() < until:
            stays = min(random.uniform(2, 8), max(0.0, until - time.monotonic()))
            try:
                async with asyncio.timeout(stays):
                    async with http.stream("GET", "/live/events") as response:
                        tally.answered(response.status_code)
                        async for line in response.aiter_lines():
                            tally.messages += line.startswith("data:")
            except TimeoutError:
                pass  # the browser went away, as planned
            except httpx2.HTTPError as error:
                tally.failures[f"live: {type(error).__name__}"] += 1


async def write(base: str, token: str, tally: Tally, until: float) -> None:
    """Declare an incident, add a note to it and close the one before, twice a second (so the
    set of ongoing incidents, and the dashboard, stay the same size)."""
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx2.AsyncClient(base_url=base, headers=headers, timeout=30) as http:
        statuses = (await http.post("/graphql", json={"query": STATUSES})).json()["data"]
        closed = next(s["id"] for s in statuses["statuses"] if s["category"] == "CLOSED")
        previous = None
        for n in itertools.count():
            if time.monotonic() >= until:
                return
            started = time.monotonic()
            declared = await graphql(http, tally, DECLARE, {"input": {"name": f"Soak {n}"}})
            if declared is not None:
                incident = declared["declareIncident"]["incident"]["id"]
                await graphql(
                    http, tally, NOTE, {"input": {"incidentId": incident, "message": "on"}}
                )
                if previous is not None:
                    moved = {"incidentId": previous, "statusId": closed}
                    await graphql(http, tally, RESOLVE, {"input": moved})
                previous = incident
            await asyncio.sleep(max(0.0, 0.5 - (time.monotonic() - started)))


async def graphql(
    http: httpx2.AsyncClient, tally: Tally, query: str, variables: dict[str, object]
) -> dict[str, Any] | None:
    """The operation's data, if it answered 200 with no error (else counted as a failure)."""
    answer = await request(tally, lambda: http.post("/graphql", json={"query": query,
                                                                        "variables": variables}),
                           "write")  # fmt: skip
    if answer is None or answer.status_code != 200:
        return None
    body = answer.json()
    if body.get("errors") or any(v.get("userErrors") for v in body["data"].values()):
        tally.failures[f"write: {json.dumps(body)[:120]}"] += 1
        return None
    data: dict[str, Any] = body["data"]
    return data


async def mix(base: str, cast: Cast, args: argparse.Namespace, seconds: float) -> Tally:
    tally = Tally()
    until = time.monotonic() + seconds
    clients = [
        *(browse(base, c, cast.incident, tally, until) for c in cast.cookies),
        *(integrate(base, cast.token, tally, until) for _ in range(args.api_clients)),
        *(
            follow(base, cast.cookies[n % len(cast.cookies)], tally, until)
            for n in range(args.streams)
        ),
        write(base, cast.token, tally, until),
    ]
    await asyncio.gather(*clients)
    return tally


def sockets(pid: int) -> int:
    """The open sockets of process ``pid`` (its listener, clients' connections, and any
    database connections)."""
    fds = Path(f"/proc/{pid}/fd")
    return sum(1 for fd in fds.iterdir() if os.readlink(fd).startswith("socket:"))


async def settled(pid: int, baseline: int | None, wait: float = 15) -> int:
    """The process's open sockets once the clients have gone: back to ``baseline``, or after
    ``wait`` seconds, whatever it has then (no baseline: once it stops falling)."""
    deadline = time.monotonic() + wait
    last = sockets(pid)
    while time.monotonic() < deadline:
        await asyncio.sleep(0.5)
        now = sockets(pid)
        if (baseline is not None and now <= baseline) or (baseline is None and now == last):
            return now
        last = now
    return last


async def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--warmup", type=float, default=30, help="seconds")
    parser.add_argument("--page-clients", type=int, default=20)
    parser.add_argument("--api-clients", type=int, default=4)
    parser.add_argument("--streams", type=int, default=100)
    parser.add_argument("--max-growth", type=float, default=0.10)
    parser.add_argument("--database-url", help="a PostgreSQL database to create afresh")
    parser.add_argument("--json", action="store_true", help="print the verdict as JSON")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity") and os.cpu_count() and os.cpu_count() > 1:
        os.sched_setaffinity(0, {1})
    url = await fresh_database(args.database_url)
    await asyncio.to_thread(migrate, url)
    cast = await prepare(url, args.page_clients)
    port = free_port()
    server = serve(uvicorn("views.app:create_app", port), port, env(url))
    base = f"http://127.0.0.1:{port}"
    try:
        await mix(base, cast, args, args.warmup)
        base_sockets = await settled(server.pid, None)
        base_rss = rss_kib(server.pid)
        total = Tally()
        minutes = max(1, round(args.minutes))
        for minute in range(minutes):
            tally = await mix(base, cast, args, args.minutes * 60 / minutes)
            total.statuses += tally.statuses
            total.failures += tally.failures
            total.messages += tally.messages
            print(
                f"minute {minute + 1}: {sum(tally.statuses.values()):,} answers "
                f"{dict(sorted(tally.statuses.items()))}, {tally.messages:,} live messages, "
                f"failures {dict(tally.failures)}, RSS {rss_kib(server.pid) / 1024:.1f} MiB",
                flush=True,
            )
        end_sockets = await settled(server.pid, base_sockets)
        end_rss = rss_kib(server.pid)
    finally:
        server.terminate()
        server.wait()
    growth = end_rss / base_rss - 1
    verdict = {
        "answers": sum(total.statuses.values()),
        "statuses": {str(k): v for k, v in sorted(total.statuses.items())},
        "failures": dict(total.failures),
        "live_messages": total.messages,
        "rss_kib": [base_rss, end_rss],
        "rss_growth": round(growth, 4),
        "sockets": [base_sockets, end_sockets],
        "passed": total.bad == 0 and growth < args.max_growth and end_sockets <= base_sockets,
    }
    if args.json:
        print(json.dumps(verdict))
    else:
        print(
            f"{args.minutes:g} min: {verdict['answers']:,} answers {verdict['statuses']}, "
            f"{total.bad} 5xx or failed, RSS {base_rss / 1024:.1f} → {end_rss / 1024:.1f} MiB "
            f"({growth:+.1%}, bar < {args.max_growth:.0%}), open sockets {base_sockets} → "
            f"{end_sockets} once the clients left: {'PASS' if verdict['passed'] else 'FAIL'}"
        )
    return 0 if verdict["passed"] else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))

"""Open web dashboards over SSE (QUALITY-BARS.md, performance bars 4 and 5).

- latency: 1,000 open ``/live/dashboard`` streams on one server process, each with its own
  browser session (and its own user), while notes are added at 5 per second to the active
  incidents: commit → receipt p50/p99, and every event counted in every stream (bar: p99 ≤ 250
  ms, delivered = expected);
- memory: the server's RSS growth per idle ``/live/dashboard`` stream at 5,000 streams (bar:
  ≤ 40 KiB).

The database holds the dashboard benchmark's 1,000 incidents (bench/dashboard.py), 40 of them
ongoing, so every note redraws a real dashboard row. The server (uvicorn, ``views.app``) runs
alone on CPU 0; this process, on CPU 1, holds every stream on raw asyncio sockets (one
``asyncio.Protocol`` each, matching the note's number in the bytes as they arrive) and writes
the notes.

How the notes are written (``--writer``):

- ``services``: ``incidents.add_note`` in this process, its own database handle; the commit
  time is taken when the call returns. The server learns of it from PostgreSQL ``NOTIFY`` at
  once; on SQLite only from its hub's one-second poll (other processes cannot wake it).
- ``api``: the ``addNote`` mutation through the server's GraphQL API (bearer token), as a
  person's browser would: the commit wakes the server's hub at once, on either database. The
  commit time is the event's ``occurred_at``, stamped inside the writing transaction just
  before it commits (so the figure includes the commit itself).

Both modes also report receipt - ``occurred_at``. Run:

    .venv/bin/python bench/dashboard_live.py [--dashboards 1000] [--events 100] [--idle 5000]
        [--writer api|services] [--postgres postgresql://postgres@127.0.0.1:5432/]

On PostgreSQL it uses the database ``muster_bench_sse`` (dropped and made again). It raises its
open-files limit to the hard limit (the server inherits it); 5,000 streams need about 5,100.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx2
from sqlalchemy import insert, select

from app.cli import migrate
from app.config import Settings
from app.db import Database
from app.models import (
    EventKind,
    Incident,
    OrgRole,
    Status,
    StatusCategory,
    TimelineEvent,
    TokenScope,
    User,
)
from app.services import incidents, sessions, tokens, users
from schema import ids

sys.path.insert(0, str(Path(__file__).resolve().parent))
from dashboard import SECRET_KEY, populate
from graphql_list import fresh_postgres
from processes import cpu_seconds, free_port, rss_kib, uvicorn
from processes import serve as serve_on_cpu0

NOTE = re.compile(rb"bench note (\d+)\"")  # in the row's data-announce="INC-n name: Note: ..."
WRITER = "writer@bench.test"


# The streams ------------------------------------------------------------------------------------


@dataclass
class Tally:
    """What every stream received: when each note arrived, and how the streams fared."""

    received: dict[int, list[float]] = field(default_factory=dict)  # note → receipt times
    opened: int = 0
    refused: int = 0
    closed: int = 0
    opened_event: asyncio.Event = field(default_factory=asyncio.Event)
    wanted: int = 0

    def count(self) -> int:
        return sum(len(times) for times in self.received.values())


class Stream(asyncio.Protocol):
    """One open dashboard: an HTTP/1.1 GET of /live/dashboard, read as raw bytes.

    SSE messages arrive as HTTP chunks; a note is recognised by its number in the row's
    ``data-announce`` attribute, which appears once per message. The tail of the previous read
    is kept so a number split across two reads is still found (each note is counted once)."""

    def __init__(self, tally: Tally) -> None:
        self.tally = tally
        self.tail = b""
        self.seen: set[int] = set()
        self.started = False
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        now = time.time()
        if not self.started:
            self.started = True
            if data.startswith(b"HTTP/1.1 200"):
                self.tally.opened += 1
            else:
                self.tally.refused += 1
            if self.tally.opened + self.tally.refused >= self.tally.wanted:
                self.tally.opened_event.set()
        text = self.tail + data
        for match in NOTE.finditer(text):
            note = int(match.group(1))
            if note not in self.seen:
                self.seen.add(note)
                self.tally.received.setdefault(note, []).append(now)
        self.tail = text[-80:]

    def connection_lost(self, exc: Exception | None) -> None:
        self.tally.closed += 1


async def open_streams(
    port: int, secrets: list[str], tally: Tally, batch: int = 50
) -> list[asyncio.Transport]:
    """Open one stream per session secret, ``batch`` at a time, each batch once the previous
    one is answered (as browsers arriving over a few seconds, not all in the same instant)."""
    loop = asyncio.get_running_loop()
    transports: list[asyncio.Transport] = []

    async def one(secret: str) -> None:
        transport, _ = await loop.create_connection(lambda: Stream(tally), "127.0.0.1", port)
        request = (
            f"GET /live/dashboard HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Accept: text/event-stream\r\nCookie: muster_session={secret}\r\n\r\n"
        )
        transport.write(request.encode())
        transports.append(transport)

    for start in range(0, len(secrets), batch):
        chunk = secrets[start : start + batch]
        tally.wanted += len(chunk)
        tally.opened_event.clear()
        await asyncio.gather(*(one(s) for s in chunk))
        await asyncio.wait_for(tally.opened_event.wait(), timeout=60)
    return transports


# Setting up -------------------------------------------------------------------------------------


async def prepare(url: str, dashboards: int) -> tuple[list[str], list[int], str]:
    """Incidents, ``dashboards`` users each with a browser session, and a writer.

    Returns the session secrets, the active incidents' ids and the writer's API token."""
    await populate(url, 1_000)
    db = Database(url)
    now = db.now()
    async with db.write() as session:
        await session.execute(
            insert(User),
            [{"email": f"watcher{n}@bench.test", "name": f"Watcher {n}", "role": OrgRole.MEMBER,
              "active": True, "created_at": now} for n in range(dashboards)],
        )  # fmt: skip
        watchers = list(
            await session.scalars(select(User).where(User.email.like("watcher%@bench.test")))
        )
        active = list(
            await session.scalars(
                select(Incident.id)
                .join(Status, Status.id == Incident.status_id)
                .where(Status.category == StatusCategory.ACTIVE, Incident.private.is_(False))
                .order_by(Incident.id)
            )
        )
    settings = Settings.from_env({"MUSTER_SECRET_KEY": SECRET_KEY})
    ids.use_secret(settings.secret_key)  # the ids the server gives out
    timeouts = sessions.Timeouts(idle=settings.session_idle, absolute=settings.session_max)
    secrets = []
    for watcher in watchers:
        _, secret = await sessions.start_session(db, user=watcher, timeouts=timeouts)
        secrets.append(secret)
    writer = await users.add_user(db, email=WRITER, role=OrgRole.RESPONDER)
    _, token = await tokens.create_token(db, user=writer, name="bench", scope=TokenScope.READ_WRITE)
    await db.dispose()
    return secrets, active, token


def serve(url: str) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    env = {"MUSTER_DATABASE_URL": url, "MUSTER_SECRET_KEY": SECRET_KEY,
           "MUSTER_BASE_URL": f"http://127.0.0.1:{port}"}  # fmt: skip
    command = uvicorn("views.app:create_app", port, "--no-access-log", "--backlog", "4096")
    return serve_on_cpu0(command, port, env), port


# Writing ----------------------------------------------------------------------------------------


class Writer:
    """Adds note ``n`` to one of the active incidents and records when it was committed."""

    def __init__(self, mode: str, url: str, port: int, token: str, active: list[int]) -> None:
        self.mode = mode
        self.url = url
        self.active = active
        self.committed: dict[int, float] = {}
        self.db = Database(url)
        self.http = httpx2.AsyncClient(
            base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {token}"}
        )
        self.actor: User | None = None

    async def note(self, n: int) -> None:
        incident_id = self.active[n % len(self.active)]
        message = f"bench note {n}"
        if self.mode == "services":
            if self.actor is None:
                async with self.db.read() as session:
                    self.actor = await session.scalar(select(User).where(User.email == WRITER))
            assert self.actor is not None
            await incidents.add_note(
                self.db, actor=self.actor, incident_id=incident_id, message=message
            )
            self.committed[n] = time.time()
            return
        mutation = (
            "mutation($input: AddNoteInput!) { addNote(input: $input) { userErrors { message } } }"
        )
        variables = {
            "input": {"incidentId": ids.encode("Incident", incident_id), "message": message}
        }
        response = await self.http.post(
            "/graphql", json={"query": mutation, "variables": variables}
        )
        assert response.json()["data"]["addNote"]["userErrors"] == [], response.text

    async def occurred(self) -> dict[int, float]:
        """When each note's event was stamped, from the timeline."""
        async with self.db.read() as session:
            rows = await session.scalars(
                select(TimelineEvent).where(TimelineEvent.kind == EventKind.NOTE_ADDED)
            )
            found = {}
            for row in rows:
                match = re.fullmatch(r"bench note (\d+)", row.payload.get("message", ""))
                if match:
                    found[int(match.group(1))] = row.occurred_at.timestamp()
        return found

    async def close(self) -> None:
        await self.http.aclose()
        await self.db.dispose()


# The two measurements ---------------------------------------------------------------------------


def percentiles(lags: list[float]) -> tuple[float, float, float]:
    lags = sorted(lags)
    p99 = lags[max(0, int(len(lags) * 0.99) - 1)]
    return 1000 * statistics.median(lags), 1000 * p99, 1000 * lags[-1]


async def latency(url: str, args: argparse.Namespace) -> None:
    secrets, active, token = await prepare(url, args.dashboards)
    process, port = serve(url)
    tally = Tally()
    writer = Writer(args.writer, url, port, token, active)
    try:
        transports = await open_streams(port, secrets, tally)
        print(f"  {tally.opened} dashboards open ({tally.refused} refused)", flush=True)
        await asyncio.sleep(3)
        warm = 5
        for n in range(warm):  # not counted: first renders, connection pools
            await writer.note(n)
            await asyncio.sleep(1 / args.rate)
        await asyncio.sleep(2)
        before = cpu_seconds(process.pid)
        client_before = time.process_time()
        began = time.time()
        for n in range(warm, warm + args.events):
            await writer.note(n)
            await asyncio.sleep(max(0.0, began + (n - warm + 1) / args.rate - time.time()))
        expected = args.events * tally.opened
        deadline = time.time() + 30
        counted = range(warm, warm + args.events)
        while time.time() < deadline:
            if sum(len(tally.received.get(n, [])) for n in counted) >= expected:
                break
            await asyncio.sleep(0.2)
        used = cpu_seconds(process.pid) - before
        client = time.process_time() - client_before
        elapsed = time.time() - began
        closed_early = tally.closed
        occurred = await writer.occurred()
        for transport in transports:
            transport.close()
        await asyncio.sleep(1)
    finally:
        await writer.close()
        process.terminate()
        process.wait()
    delivered = sum(len(tally.received.get(n, [])) for n in counted)
    per_note = Counter(len(tally.received.get(n, [])) for n in counted)
    print(f"  delivered {delivered:,} of {expected:,} ({args.events} notes x {tally.opened} "
          f"dashboards); streams closed early: {closed_early}; copies per note: "
          f"{dict(per_note)}")  # fmt: skip
    if writer.committed:
        lags = [t - writer.committed[n] for n in counted for t in tally.received.get(n, [])]
        p50, p99, top = percentiles(lags)
        print(f"  commit -> receipt: p50 {p50:.0f} ms, p99 {p99:.0f} ms, max {top:.0f} ms "
              "(bar p99 <= 250 ms)")  # fmt: skip
    lags = [t - occurred[n] for n in counted for t in tally.received.get(n, [])]
    p50, p99, top = percentiles(lags)
    print(f"  occurred_at -> receipt: p50 {p50:.0f} ms, p99 {p99:.0f} ms, max {top:.0f} ms")
    print(f"  CPU over {elapsed:.1f} s: server {used:.1f} s for {delivered:,} messages "
          f"({delivered / used if used else 0:,.0f} per CPU-second), clients {client:.1f} s")  # fmt: skip


async def idle_memory(url: str, args: argparse.Namespace) -> None:
    warm = 100
    secrets, _, _ = await prepare(url, args.idle + warm)
    process, port = serve(url)
    tally = Tally()
    try:
        await asyncio.sleep(1)
        empty = rss_kib(process.pid)
        first = await open_streams(port, secrets[:warm], tally)  # loads every code path once
        await asyncio.sleep(3)
        baseline = rss_kib(process.pid)
        rest = await open_streams(port, secrets[warm:], tally)
        await asyncio.sleep(5)
        grown = rss_kib(process.pid)
        for transport in first + rest:
            transport.close()
        await asyncio.sleep(1)  # let the loop really close them
    finally:
        process.terminate()
        process.wait()
    print(f"  {tally.opened} streams open ({tally.refused} refused); server RSS {empty / 1024:.0f}"
          f" MiB with none, {baseline / 1024:.0f} MiB with {warm}, {grown / 1024:.0f} MiB with "
          f"{warm + args.idle}")  # fmt: skip
    print(f"  memory: {(grown - baseline) / args.idle:.1f} KiB per idle dashboard "
          f"(bar <= 40 KiB)")  # fmt: skip


async def run(args: argparse.Namespace) -> int:
    database = "PostgreSQL" if args.postgres else "SQLite"

    async def fresh(folder: str) -> str:
        if args.postgres:
            url = await fresh_postgres(args.postgres.rstrip("/") + "/postgres", "muster_bench_sse")
        else:
            url = f"sqlite+aiosqlite:///{Path(folder) / 'sse.db'}"
        await asyncio.to_thread(migrate, url)
        return url

    with tempfile.TemporaryDirectory() as folder:
        if not args.skip_latency:
            print(f"{database}: {args.dashboards:,} open dashboards, {args.events} notes at "
                  f"{args.rate:g}/s, written through {args.writer}", flush=True)  # fmt: skip
            await latency(await fresh(folder), args)
    with tempfile.TemporaryDirectory() as folder:
        if not args.skip_memory:
            print(f"{database}: {args.idle:,} idle dashboards", flush=True)
            await idle_memory(await fresh(folder), args)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--dashboards", type=int, default=1000, help="open streams (latency)")
    parser.add_argument("--events", type=int, default=100, help="notes counted (latency)")
    parser.add_argument("--rate", type=float, default=5, help="notes per second")
    parser.add_argument("--idle", type=int, default=5000, help="idle streams (memory)")
    parser.add_argument("--writer", choices=["api", "services"], help="default: api on SQLite, "
                        "services on PostgreSQL")  # fmt: skip
    parser.add_argument("--postgres", help="a PostgreSQL server URL: run there, not on SQLite")
    parser.add_argument("--skip-latency", action="store_true")
    parser.add_argument("--skip-memory", action="store_true")
    args = parser.parse_args()
    args.writer = args.writer or ("services" if args.postgres else "api")
    os.sched_setaffinity(0, {1})
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # the server inherits it
    if hard < args.idle + 200:
        raise SystemExit(f"the open-files hard limit ({hard}) is too low for {args.idle} streams")
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())

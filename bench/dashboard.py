"""The web dashboard as the database grows (QUALITY-BARS.md, performance bar 6).

Builds two databases side by side: 1,000 incidents with 10,000 timeline events, and 100,000
incidents with 1,000,000 timeline events. Both hold the same 40 ongoing incidents (5 in triage,
20 active, 15 post-incident; two of them private to people other than the viewer); every other
incident is closed, so the dashboard shows the same rows and only the history grows. Rows are
bulk-inserted with SQLAlchemy core (every incident with its reporter and lead, members, two
updates, ten timeline events, a custom field value and its search document).

Each database gets its own uvicorn (``views.app:create_app``), both on CPU 0; this process, on
CPU 1, signs in (a session from ``sessions.start_session`` in the ``muster_session`` cookie for
the page, a read token for the API) and times, one request at a time, alternating the two
servers in every round:

- ``dashboard``: ``GET /``, the full page;
- ``first page``: ``incidents(first: 20)`` with status, severity, type, lead, latest update;
- ``page 100``: the same with the ``after`` cursor of page 99 (found by walking the cursors).
  The viewer sees 950 of 1,000 incidents, 47 full pages: the small database's deepest full page
  is its reference.

It prints the median of each and the ratio large / small (bar: ≤ 2). With ``--explain`` it also
prints the plan of every SQL statement the three requests run on the large database (run in
process through httpx2's ASGI transport, statements caught with a SQLAlchemy event).

Run: .venv/bin/python bench/dashboard.py [--rounds 5] [--requests 20] [--postgres URL] [--explain]
With ``--postgres postgresql://postgres@127.0.0.1:5432/`` it runs on PostgreSQL instead, in the
databases ``muster_bench_1k`` and ``muster_bench_100k`` (dropped and made again).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx2
from sqlalchemy import insert, select, text, update
from sqlalchemy.ext.asyncio import create_async_engine

from app.cli import migrate
from app.config import Settings
from app.db import Database
from app.models import (
    Counter,
    CustomField,
    CustomFieldOption,
    CustomFieldValue,
    EventKind,
    Incident,
    IncidentMode,
    IncidentRole,
    IncidentType,
    IncidentUpdate,
    Member,
    OrgRole,
    RoleAssignment,
    RoleKind,
    Severity,
    Status,
    TimelineEvent,
    TokenScope,
    User,
)
from app.services import catalog as catalog_service
from app.services import sessions, tokens

sys.path.insert(0, str(Path(__file__).resolve().parent))
from graphql_list import fresh_postgres
from processes import free_port, uvicorn
from processes import serve as serve_on_cpu0

ONGOING = 40  # 5 in triage, 20 active, 15 post-incident
EVENTS_PER_INCIDENT = 10
PEOPLE = 50
CHUNK = 5_000  # incidents per transaction while loading
SECRET_KEY = "b" * 32
VIEWER = "viewer@bench.test"
LIST_QUERY = """query Page($after: String) { incidents(first: 20, after: $after) {
  edges { node { reference name status { name category } severity { name rank } type { name }
  lead { name email } latestUpdate { message createdAt } } }
  pageInfo { endCursor hasNextPage } } }"""


# Data --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Catalog:
    """The ids of the default catalog that the generated rows point at."""

    statuses: dict[str, int]
    severities: list[tuple[int, str]]  # (id, name), by rank
    default_type: int
    reporter_role: int
    lead_role: int
    teams_field: int
    teams: list[int]


async def _catalog(connection: Any) -> Catalog:
    statuses = {s.name: s.id for s in (await connection.execute(select(Status))).all()}
    severities = [
        (s.id, s.name) for s in (await connection.execute(select(Severity).order_by("rank"))).all()
    ]
    default_type = await connection.scalar(
        select(IncidentType.id).where(IncidentType.name == "Default")
    )
    roles = {r.kind: r.id for r in (await connection.execute(select(IncidentRole))).all()}
    field = await connection.scalar(
        select(CustomField.id).where(CustomField.name == "Affected teams")
    )
    teams = list(
        await connection.scalars(
            select(CustomFieldOption.id).where(CustomFieldOption.field_id == field)
        )
    )
    return Catalog(
        statuses, severities, default_type, roles[RoleKind.REPORTER], roles[RoleKind.LEAD],
        field, teams,
    )  # fmt: skip


def _stage(k: int, count: int) -> tuple[str, bool]:
    """The status of incident ``k`` (0 = oldest) and whether it is private.

    The newest ``ONGOING`` incidents are ongoing and the same at every size; the rest closed."""
    j = k - (count - ONGOING)
    if j < 0:
        return ("Declined" if k % 50 == 3 else "Closed"), k % 20 == 7
    if j < 5:
        name = "Triage"
    elif j < 25:
        name = ("Investigating", "Fixing", "Monitoring")[j % 3]
    else:
        name = ("Documenting", "Reviewing")[j % 2]
    return name, j in (7, 30)


def _rows(
    catalog: Catalog, people: list[tuple[int, str]], count: int, start: int, stop: int,
    now: datetime,
) -> dict[str, list[dict[str, Any]]]:  # fmt: skip
    """Every row of incidents ``start`` to ``stop - 1``, by table."""
    rows: dict[str, list[dict[str, Any]]] = {
        name: []
        for name in ("incidents", "roles", "members", "updates", "events", "values", "search")
    }
    for k in range(start, stop):
        incident_id = k + 1
        status, private = _stage(k, count)
        closed = status in ("Closed", "Declined")
        triage = status in ("Triage", "Declined")
        severity_id, severity = catalog.severities[k % 3]
        declared = now - timedelta(minutes=20 * (count - k))
        reporter_id, _ = people[k % PEOPLE]
        lead_id, lead = people[(k + 7) % PEOPLE]
        name = f"Bench incident {incident_id}: checkout errors in region {k % 17}"
        active = status in ("Investigating", "Fixing", "Monitoring")
        rows["incidents"].append(
            {
                "id": incident_id, "number": incident_id, "name": name, "summary": "",
                "status_id": catalog.statuses[status], "severity_id": severity_id,
                "type_id": catalog.default_type, "mode": IncidentMode.STANDARD,
                "private": private, "merged_into_id": None, "declared_at": declared,
                "accepted_at": None if triage else declared + timedelta(minutes=5),
                "resolved_at": declared + timedelta(hours=2) if closed or not active else None,
                "closed_at": declared + timedelta(days=1) if closed else None,
                "updated_at": declared + timedelta(hours=3) if closed else now,
                "next_update_due_at": now + timedelta(minutes=30) if active else None,
                "version": EVENTS_PER_INCIDENT,
            }
        )  # fmt: skip
        rows["roles"].append(
            {"incident_id": incident_id, "role_id": catalog.reporter_role,
             "user_id": reporter_id, "assigned_at": declared}
        )  # fmt: skip
        rows["members"].append(
            {"incident_id": incident_id, "user_id": reporter_id, "added_at": declared}
        )
        if not triage:
            rows["roles"].append(
                {"incident_id": incident_id, "role_id": catalog.lead_role, "user_id": lead_id,
                 "assigned_at": declared + timedelta(minutes=5)}
            )  # fmt: skip
            if lead_id != reporter_id:
                rows["members"].append(
                    {"incident_id": incident_id, "user_id": lead_id,
                     "added_at": declared + timedelta(minutes=5)}
                )  # fmt: skip
        messages = [
            f"We are looking into failed checkouts ({incident_id}).",
            f"A fix is rolling out; error rates are falling ({incident_id}).",
        ]
        for n, message in enumerate(messages):
            rows["updates"].append(
                {"id": 2 * k + n + 1, "incident_id": incident_id, "author_id": lead_id,
                 "message": message, "status_id": None, "severity_id": None,
                 "next_update_in_minutes": 30, "created_at": declared + timedelta(minutes=10 + 30 * n)}
            )  # fmt: skip
        rows["values"].append(
            {"incident_id": incident_id, "field_id": catalog.teams_field,
             "option_id": catalog.teams[k % len(catalog.teams)], "text_value": None,
             "number_value": None}
        )  # fmt: skip
        rows["search"].append({"id": incident_id, "body": "\n".join([name, "", *messages])})
        for e in range(EVENTS_PER_INCIDENT):
            kind, payload, actor = _event(e, status, severity, lead, messages, 2 * k + 1)
            rows["events"].append(
                {"id": k * EVENTS_PER_INCIDENT + e + 1, "incident_id": incident_id, "kind": kind,
                 "actor_id": reporter_id if actor == "reporter" else lead_id,
                 "occurred_at": declared + timedelta(minutes=e), "payload": payload}
            )  # fmt: skip
    return rows


def _event(
    e: int, status: str, severity: str, lead: str, messages: list[str], update_id: int
) -> tuple[EventKind, dict[str, Any], str]:
    """The ``e``-th timeline event of an incident: plausible kinds with real payload shapes."""
    if e == 0:
        payload = {"name": "Bench incident", "status": "Investigating", "severity": severity,
                   "type": "Default", "mode": "STANDARD", "private": False, "fields": {}}  # fmt: skip
        return EventKind.DECLARED, payload, "reporter"
    if e == 1:
        return (
            EventKind.ROLE_ASSIGNED,
            {"role": "Incident lead", "user": lead, "previous": None},
            "lead",
        )
    if e in (2, 6):
        n = 0 if e == 2 else 1
        payload = {"update_id": update_id + n, "message": messages[n], "status": None,
                   "severity": None, "next_update_in_minutes": 30}  # fmt: skip
        return EventKind.UPDATE_SHARED, payload, "lead"
    if e == 4:
        return EventKind.STATUS_CHANGED, {"from": "Investigating", "to": "Fixing"}, "lead"
    if e == EVENTS_PER_INCIDENT - 1 and status in ("Closed", "Declined"):
        return EventKind.STATUS_CHANGED, {"from": "Fixing", "to": status}, "lead"
    return EventKind.NOTE_ADDED, {"message": f"Checked dashboard {e}: still elevated."}, "lead"


async def populate(url: str, count: int) -> None:
    """Fill a migrated database with ``count`` incidents (see the module docstring)."""
    engine = create_async_engine(url)
    now = datetime.now(UTC)
    sqlite = url.startswith("sqlite")
    search = (
        "INSERT INTO incident_search (rowid, body) VALUES (:id, :body)"
        if sqlite
        else "INSERT INTO incident_search (incident_id, document) "
        "VALUES (:id, to_tsvector('simple', :body))"
    )
    tables = {"incidents": Incident, "roles": RoleAssignment, "members": Member,
              "updates": IncidentUpdate, "events": TimelineEvent, "values": CustomFieldValue}  # fmt: skip
    async with engine.begin() as connection:
        catalog = await _catalog(connection)
        emails = [VIEWER] + [f"person{n}@bench.test" for n in range(PEOPLE)]
        await connection.execute(
            insert(User),
            [{"email": email, "name": email.split("@")[0].title(), "role": OrgRole.RESPONDER,
              "active": True, "created_at": now} for email in emails],
        )  # fmt: skip
        found = {u.email: (u.id, u.name) for u in (await connection.execute(select(User))).all()}
        people = [found[email] for email in emails[1:]]
    for start in range(0, count, CHUNK):
        rows = _rows(catalog, people, count, start, min(start + CHUNK, count), now)
        async with engine.begin() as connection:
            for name, model in tables.items():
                await connection.execute(insert(model), rows[name])
            await connection.execute(text(search), rows["search"])
    async with engine.begin() as connection:
        await connection.execute(
            update(Counter)
            .where(Counter.name == catalog_service.INCIDENT_COUNTER)
            .values(value=count)
        )
        if not sqlite:
            for table in ("users", "incidents", "role_assignments", "incident_updates",
                          "timeline_events", "custom_field_values"):  # fmt: skip
                await connection.execute(
                    text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                         f"(SELECT max(id) FROM {table}))")
                )  # fmt: skip
    if not sqlite:  # what autovacuum does after a bulk load; SQLite deployments never ANALYZE
        async with engine.connect() as connection:
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            await connection.execute(text("ANALYZE"))
    await engine.dispose()


async def credentials(url: str) -> tuple[str, str]:
    """A browser session secret and a read API token for the viewer."""
    db = Database(url)
    settings = Settings.from_env({"MUSTER_SECRET_KEY": SECRET_KEY})
    timeouts = sessions.Timeouts(idle=settings.session_idle, absolute=settings.session_max)
    async with db.read() as session:
        viewer = await session.scalar(select(User).where(User.email == VIEWER))
    assert viewer is not None
    _, secret = await sessions.start_session(db, user=viewer, timeouts=timeouts)
    _, token = await tokens.create_token(db, user=viewer, name="bench", scope=TokenScope.READ)
    await db.dispose()
    return secret, token


async def make_database(name: str, count: int, postgres: str | None, folder: Path) -> str:
    if postgres:
        url = await fresh_postgres(postgres.rstrip("/") + "/postgres", name)
    else:
        url = f"sqlite+aiosqlite:///{folder / (name + '.db')}"
    await asyncio.to_thread(migrate, url)
    began = time.perf_counter()
    await populate(url, count)
    print(f"  {name}: {count:,} incidents, {count * EVENTS_PER_INCIDENT:,} timeline events "
          f"loaded in {time.perf_counter() - began:.0f} s", flush=True)  # fmt: skip
    return url


# Serving and timing ------------------------------------------------------------------------------


def serve(url: str) -> tuple[subprocess.Popen[bytes], int]:
    """``muster`` under uvicorn on CPU 0, on a free port, ready to answer."""
    port = free_port()
    env = {"MUSTER_DATABASE_URL": url, "MUSTER_SECRET_KEY": SECRET_KEY,
           "MUSTER_BASE_URL": f"http://127.0.0.1:{port}"}  # fmt: skip
    command = uvicorn("views.app:create_app", port, "--no-access-log")
    return serve_on_cpu0(command, port, env), port


@dataclass
class Site:
    """One running server with its signed-in clients and what it is asked for."""

    label: str
    page: httpx2.AsyncClient  # the browser, with the session cookie
    api: httpx2.AsyncClient  # the API client, with the bearer token
    deep_after: str | None = None  # the cursor that gives the deep page
    deep_page: int = 0

    async def dashboard(self) -> str:
        response = await self.page.get("/")
        response.raise_for_status()
        return response.text

    async def incidents(self, after: str | None) -> dict[str, Any]:
        response = await self.api.post(
            "/graphql", json={"query": LIST_QUERY, "variables": {"after": after}}
        )
        body = response.json()
        assert "errors" not in body, body
        connection: dict[str, Any] = body["data"]["incidents"]
        return connection

    async def find_deep_page(self, wanted: int) -> None:
        """Walk the cursors to page ``wanted`` (or the last full page) and keep its cursor."""
        after, page = None, 1
        while True:
            connection = await self.incidents(after)
            if len(connection["edges"]) == 20:
                self.deep_after, self.deep_page = after, page
            if page == wanted or not connection["pageInfo"]["hasNextPage"]:
                return
            after, page = connection["pageInfo"]["endCursor"], page + 1


def site(label: str, port: int, secret: str, token: str) -> Site:
    base = f"http://127.0.0.1:{port}"
    return Site(
        label,
        httpx2.AsyncClient(base_url=base, cookies={"muster_session": secret}, timeout=60),
        httpx2.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60),
    )


async def timed(call: Any) -> float:
    began = time.perf_counter()
    await call()
    return time.perf_counter() - began


MEASUREMENTS = ("dashboard", "first page", "page 100")


def calls(s: Site) -> dict[str, Any]:
    return {
        "dashboard": s.dashboard,
        "first page": lambda: s.incidents(None),
        "page 100": lambda: s.incidents(s.deep_after),
    }


async def compare(small: Site, large: Site, rounds: int, requests: int) -> dict[str, Any]:
    """Medians (ms) per site and measurement, alternating the sites in every round."""
    for s in (small, large):
        rows = (await s.dashboard()).count('class="incident-row')
        print(f"  {s.label}: dashboard shows {rows} incidents; deep page is page {s.deep_page}")
        for call in calls(s).values():  # warm-up: connections, caches, the document cache
            for _ in range(5):
                await call()
    samples: dict[tuple[str, str], list[float]] = {}
    for _ in range(rounds):
        for what in MEASUREMENTS:
            for s in (small, large):
                call = calls(s)[what]
                samples.setdefault((s.label, what), []).extend(
                    [await timed(call) for _ in range(requests)]
                )
    return {key: 1000 * statistics.median(values) for key, values in samples.items()}


# Plans -------------------------------------------------------------------------------------------


async def explain(url: str, secret: str, token: str, deep_after: str | None) -> None:
    """Run the three requests in process and print each SQL statement with its plan."""
    from sqlalchemy import event

    from views.app import create_app

    settings = Settings.from_env(
        {"MUSTER_DATABASE_URL": url, "MUSTER_SECRET_KEY": SECRET_KEY,
         "MUSTER_BASE_URL": "http://testserver"}
    )  # fmt: skip
    app = create_app(settings)
    statements: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        statements.append((statement, parameters))

    engine = app.state.services.db.engine
    event.listen(engine.sync_engine, "before_cursor_execute", record)
    transport = httpx2.ASGITransport(app=app)
    async with httpx2.AsyncClient(transport=transport, base_url="http://testserver") as http:
        requests = {
            "dashboard": lambda: http.get("/", cookies={"muster_session": secret}),
            "first page": lambda: http.post(
                "/graphql", json={"query": LIST_QUERY, "variables": {"after": None}},
                headers={"Authorization": f"Bearer {token}"},
            ),
            "page 100": lambda: http.post(
                "/graphql", json={"query": LIST_QUERY, "variables": {"after": deep_after}},
                headers={"Authorization": f"Bearer {token}"},
            ),
        }  # fmt: skip
        for what, request in requests.items():
            await request()  # once to warm any cache, then the recorded run
            statements.clear()
            (await request()).raise_for_status()
            print(f"\n=== {what}: {len(statements)} statements")
            event.remove(engine.sync_engine, "before_cursor_execute", record)
            for statement, parameters in statements:
                if not statement.lstrip().upper().startswith("SELECT"):
                    continue
                print("\n" + " ".join(statement.split()))
                prefix = (
                    "EXPLAIN QUERY PLAN "
                    if app.state.services.db.is_sqlite
                    else "EXPLAIN (ANALYZE, COSTS OFF) "
                )
                async with engine.connect() as connection:
                    plan = await connection.exec_driver_sql(prefix + statement, parameters)
                    for row in plan:
                        print("    " + " | ".join(str(v) for v in row))
            event.listen(engine.sync_engine, "before_cursor_execute", record)
    await app.state.services.db.dispose()


# Main --------------------------------------------------------------------------------------------


async def run(args: argparse.Namespace, folder: Path) -> int:
    database = "PostgreSQL" if args.postgres else "SQLite"
    print(f"{database}: building the databases", flush=True)
    small_url = await make_database("muster_bench_1k", args.small, args.postgres, folder)
    large_url = await make_database("muster_bench_100k", args.large, args.postgres, folder)
    small_secret, small_token = await credentials(small_url)
    large_secret, large_token = await credentials(large_url)
    servers = [serve(small_url), serve(large_url)]
    try:
        small = site(f"{args.small:,}", servers[0][1], small_secret, small_token)
        large = site(f"{args.large:,}", servers[1][1], large_secret, large_token)
        await small.find_deep_page(100)
        await large.find_deep_page(100)
        medians = await compare(small, large, args.rounds, args.requests)
        if args.explain:
            await explain(large_url, large_secret, large_token, large.deep_after)
    finally:
        for process, _ in servers:
            process.terminate()
            process.wait()
    print(f"\n{database}, medians of {args.rounds} x {args.requests} requests each:")
    print(f"{'':>12} {small.label:>10} {large.label:>10}  ratio (bar <= 2)")
    worst = 0.0
    for what in MEASUREMENTS:
        a, b = medians[(small.label, what)], medians[(large.label, what)]
        worst = max(worst, b / a)
        label = what if what != "page 100" else f"page {large.deep_page}"
        note = f"  (small: page {small.deep_page})" if what == "page 100" else ""
        print(f"{label:>12} {a:8.1f} ms {b:8.1f} ms  {b / a:5.2f}{note}")
    return 0 if worst <= 2 else 1


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--small", type=int, default=1_000, help="incidents in the small database")
    parser.add_argument("--large", type=int, default=100_000, help="incidents in the large one")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=20, help="per measurement and round")
    parser.add_argument("--postgres", help="a PostgreSQL server URL: run there, not on SQLite")
    parser.add_argument("--explain", action="store_true", help="print the large database's plans")
    args = parser.parse_args()
    os.sched_setaffinity(0, {1})
    with tempfile.TemporaryDirectory() as folder:
        return asyncio.run(run(args, Path(folder)))


if __name__ == "__main__":
    sys.exit(main())

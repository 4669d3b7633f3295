"""Query efficiency and the price of the limits (QUALITY-BARS.md, performance bars 1, 2 and 9).

Serves the same SQLite database (1,000 incidents with leads and updates) four ways, one at a time
on CPU 0, and loads each with wrk on CPU 1 for the same operation: ``incidents(first: 20)`` with
status, severity, type, lead and latest update. A fifth server, ``memory``, is plain Strawberry
(parser and validation caches on) answering the same operation with the same 20 rows held as
Python objects (Muster's own answer, read once before the rounds): what the GraphQL execution
alone costs. Prints requests per second, and the ratios Muster / raw Starlette JSON endpoint
(bar ≥ 0.30), Muster / Muster without limits and masking (bar ≥ 0.85) and Muster / memory
(bar ≥ 0.5). Rounds alternate the servers; the median of the rounds is reported.

Run: .venv/bin/python bench/graphql_list.py [--seconds 10] [--rounds 3] [--postgres URL]
[--only NAME,...]
(needs wrk: apt-get install wrk)
"""

from __future__ import annotations

import argparse
import asyncio
import enum
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx2
import strawberry
from starlette.applications import Starlette
from starlette.routing import Route
from strawberry.asgi import GraphQL
from strawberry.extensions import ParserCache, ValidationCache

from app.cli import migrate
from app.config import Settings
from app.db import Database
from app.models import OrgRole, StatusCategory, TokenScope
from app.services import catalog, declarations, incidents, roles, tokens, users
from views.app import create_app

sys.path.insert(0, str(Path(__file__).resolve().parent))
from processes import free_port

QUERY = """{ incidents(first: 20) { edges { node { reference name status { name category }
  severity { name rank } type { name } lead { name email } latestUpdate { message createdAt }
} } } }"""
SERVERS = {
    "raw": ("bench.apps:raw", "/incidents", None),
    "naive": ("bench.apps:naive", "/graphql", QUERY),
    "limits_off": ("bench.apps:limits_off", "/graphql", QUERY),
    "muster": ("views.app:create_app", "/graphql", QUERY),
    "memory": ("bench.graphql_list:memory", "/graphql", QUERY),
}
RATIOS = [
    ("muster", "raw", "(bar >= 0.30)"),
    ("naive", "raw", ""),
    ("muster", "limits_off", "(bar >= 0.85)"),
    ("muster", "memory", "(bar >= 0.5)"),
]
ROWS = "MUSTER_BENCH_ROWS"  # the file holding the rows ``memory`` serves (Muster's answer)


async def prepare(url: str, count: int) -> str:
    db = Database(url)
    sre = await users.add_user(db, email="sre@bench.test", role=OrgRole.RESPONDER)
    async with db.read() as session:
        lead = next(
            r for r in await catalog.list_incident_roles(session) if r.name == "Incident lead"
        )
    for n in range(count):
        incident = await declarations.declare(db, actor=sre, name=f"Bench incident {n}")
        await roles.assign_role(
            db, actor=sre, incident_id=incident.id, role_id=lead.id, user_id=sre.id
        )
        await incidents.share_update(db, actor=sre, incident_id=incident.id, message=f"Update {n}")
    _, secret = await tokens.create_token(db, user=sre, name="bench", scope=TokenScope.READ)
    await db.dispose()
    return secret


async def fresh_postgres(server_url: str, name: str) -> str:
    dsn = server_url.replace("postgresql+asyncpg://", "postgresql://")
    connection = await asyncpg.connect(dsn)
    await connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    await connection.execute(f"CREATE DATABASE {name}")
    await connection.close()
    return dsn.rpartition("/")[0].replace("postgresql://", "postgresql+asyncpg://") + "/" + name


async def answer(url: str, secret: str) -> dict[str, Any]:
    """Muster's answer to QUERY on this database, asked in process."""
    app = create_app(Settings(database_url=url, secret_key="b" * 32))
    transport = httpx2.ASGITransport(app=app)
    async with httpx2.AsyncClient(transport=transport, base_url="http://bench.test") as http:
        response = await http.post(
            "/graphql", json={"query": QUERY}, headers={"Authorization": f"Bearer {secret}"}
        )
    await app.state.services.db.dispose()
    payload = response.json()
    assert "errors" not in payload, payload
    return dict(payload["data"])


# The memory server: the operation's field shape, over plain Python objects.

Category = strawberry.enum(enum.Enum("StatusCategory", [(c.name, c.name) for c in StatusCategory]))


@strawberry.type
class MemoryStatus:
    name: str
    category: Category  # type: ignore[valid-type]


@strawberry.type
class MemorySeverity:
    name: str
    rank: int


@strawberry.type
class MemoryType:
    name: str


@strawberry.type
class MemoryUser:
    name: str
    email: str


@strawberry.type
class MemoryUpdate:
    message: str
    created_at: datetime


@strawberry.type
class MemoryIncident:
    reference: str
    name: str
    status: MemoryStatus
    severity: MemorySeverity
    type: MemoryType
    lead: MemoryUser | None
    latest_update: MemoryUpdate | None


@strawberry.type
class MemoryEdge:
    node: MemoryIncident


@strawberry.type
class MemoryConnection:
    edges: list[MemoryEdge]


def _held(node: dict[str, Any]) -> MemoryIncident:
    lead, update = node["lead"], node["latestUpdate"]
    return MemoryIncident(
        reference=node["reference"],
        name=node["name"],
        status=MemoryStatus(
            name=node["status"]["name"], category=Category[node["status"]["category"]]
        ),
        severity=MemorySeverity(**node["severity"]),
        type=MemoryType(**node["type"]),
        lead=MemoryUser(**lead) if lead else None,
        latest_update=MemoryUpdate(
            message=update["message"], created_at=datetime.fromisoformat(update["createdAt"])
        )
        if update
        else None,
    )


def memory() -> Starlette:
    """Plain Strawberry answering QUERY from the rows in ``$MUSTER_BENCH_ROWS``, held in memory."""
    data = json.loads(Path(os.environ[ROWS]).read_text())
    rows = [_held(edge["node"]) for edge in data["incidents"]["edges"]]

    @strawberry.type
    class Query:
        @strawberry.field
        def incidents(self, first: int = 20) -> MemoryConnection:
            return MemoryConnection(edges=[MemoryEdge(node=row) for row in rows[:first]])

    schema = strawberry.Schema(query=Query, extensions=[ParserCache, ValidationCache])
    return Starlette(routes=[Route("/graphql", GraphQL(schema, graphql_ide=None))])


def measure(
    factory: str,
    path: str,
    query: str | None,
    secret: str,
    env: dict[str, str],
    seconds: int,
    expected: dict[str, Any] | None = None,
) -> float:
    port = free_port()
    server = subprocess.Popen(
        ["taskset", "-c", "0", sys.executable, "-m", "uvicorn", factory, "--factory",
         "--port", str(port), "--log-level", "warning", "--no-access-log"],
        env=env,
    )  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}{path}"
        body = json.dumps({"query": query}) if query else None
        for _ in range(100):
            try:
                request = urllib.request.Request(
                    url, data=body.encode() if body else None,
                    headers={"Authorization": f"Bearer {secret}",
                             "Content-Type": "application/json"},
                )  # fmt: skip
                with urllib.request.urlopen(request, timeout=5) as response:
                    payload = json.loads(response.read())
                    assert "errors" not in payload, payload
                    if expected is not None:  # the same answer, field for field
                        assert payload["data"] == expected, (factory, payload)
                break
            except OSError:
                time.sleep(0.1)
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
            method = "POST" if body else "GET"
            script.write(f'wrk.method = "{method}"\n')
            if body:
                script.write(f"wrk.body = {json.dumps(body)}\n")
            script.write('wrk.headers["Content-Type"] = "application/json"\n')
            script.write(f'wrk.headers["Authorization"] = "Bearer {secret}"\n')
        subprocess.run(["taskset", "-c", "1", "wrk", "-t1", "-c8", "-d2s", "-s", script.name, url],
                       capture_output=True, check=True)  # warm-up  # fmt: skip
        out = subprocess.run(
            ["taskset", "-c", "1", "wrk", "-t1", "-c8", f"-d{seconds}s", "-s", script.name, url],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        os.unlink(script.name)
        if "Non-2xx" in out:
            raise SystemExit(f"{factory} answered errors:\n{out}")
        return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    finally:
        server.terminate()
        server.wait()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--incidents", type=int, default=1000)
    parser.add_argument("--postgres", help="a server URL to bench on instead of SQLite")
    parser.add_argument("--only", help="the servers to run, comma-separated (default: all)")
    args = parser.parse_args()
    chosen = args.only.split(",") if args.only else list(SERVERS)
    if args.postgres:
        url = asyncio.run(fresh_postgres(args.postgres, "muster_bench_list"))
    else:
        url = f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}"
    migrate(url)
    secret = asyncio.run(prepare(url, args.incidents))
    expected = asyncio.run(answer(url, secret))
    rows = Path(tempfile.mkdtemp()) / "rows.json"
    rows.write_text(json.dumps(expected))
    env = {**os.environ, "MUSTER_DATABASE_URL": url, "MUSTER_SECRET_KEY": "b" * 32,
           ROWS: str(rows), "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}  # fmt: skip
    results: dict[str, list[float]] = {name: [] for name in chosen}
    for _ in range(args.rounds):
        for name in chosen:
            factory, path, query = SERVERS[name]
            same = expected if name in ("muster", "memory") else None
            results[name].append(measure(factory, path, query, secret, env, args.seconds, same))
    median = {name: statistics.median(values) for name, values in results.items()}
    for name, rate in median.items():
        rounds = ", ".join(f"{v:.0f}" for v in results[name])
        print(f"{name:>11}: {rate:8.0f} req/s  (rounds: {rounds})")
    for over, under, bar in RATIOS:
        if over in median and under in median:
            print(f"{over} / {under:<10} = {median[over] / median[under]:.2f}  {bar}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Query efficiency and the price of the limits (QUALITY-BARS.md, performance bars 1 and 2).

Serves the same SQLite database (1,000 incidents with leads and updates) four ways, one at a time
on CPU 0, and loads each with wrk on CPU 1 for the same operation: ``incidents(first: 20)`` with
status, severity, type, lead and latest update. Prints requests per second, and the ratios
Muster / raw Starlette JSON endpoint (bar ≥ 0.30) and Muster / Muster without limits and
masking (bar ≥ 0.85). Rounds alternate the servers; the median of the rounds is reported.

Run: .venv/bin/python bench/graphql_list.py [--seconds 10] [--rounds 3] [--postgres URL]
(needs wrk: apt-get install wrk)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import asyncpg

from app.cli import migrate
from app.db import Database
from app.models import OrgRole, TokenScope
from app.services import catalog, declarations, incidents, roles, tokens, users

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
}


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


def measure(
    factory: str, path: str, query: str | None, secret: str, env: dict[str, str], seconds: int
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
    args = parser.parse_args()
    if args.postgres:
        url = asyncio.run(fresh_postgres(args.postgres, "muster_bench_list"))
    else:
        url = f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}"
    migrate(url)
    secret = asyncio.run(prepare(url, args.incidents))
    env = {**os.environ, "MUSTER_DATABASE_URL": url, "MUSTER_SECRET_KEY": "b" * 32,
           "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}  # fmt: skip
    results: dict[str, list[float]] = {name: [] for name in SERVERS}
    for _ in range(args.rounds):
        for name, (factory, path, query) in SERVERS.items():
            results[name].append(measure(factory, path, query, secret, env, args.seconds))
    median = {name: statistics.median(values) for name, values in results.items()}
    for name, rate in median.items():
        rounds = ", ".join(f"{v:.0f}" for v in results[name])
        print(f"{name:>11}: {rate:8.0f} req/s  (rounds: {rounds})")
    print(f"muster / raw        = {median['muster'] / median['raw']:.2f}  (bar >= 0.30)")
    print(f"naive / raw         = {median['naive'] / median['raw']:.2f}")
    print(f"muster / limits_off = {median['muster'] / median['limits_off']:.2f}  (bar >= 0.85)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

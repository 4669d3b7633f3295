"""Commit → webhook receipt at a steady rate of declares (QUALITY-BARS.md, second-wave bar 11).

One ``muster serve`` process (uvicorn, its worker inside) on CPU 0, with
``MUSTER_WEBHOOK_ALLOW_PRIVATE=1`` and one STANDARD endpoint for ``incident.declared`` pointing
at a receiver in this process (CPU 1): a raw asyncio HTTP/1.1 server on loopback that records
when each request arrived and the incident reference in its body. This process declares through
the API at ``--rate`` per second (20) for ``--seconds`` (30), each declare at its own time (a
slow answer does not slow the rate), then waits for the deliveries to drain.

Latency is receipt - commit, where the commit is the DECLARED event's ``occurred_at`` (the
payload's ``timestamp``; stamped in the declaring transaction just before it commits, so it is
at most a few milliseconds early); the same figures from the declare's API response are printed
too. Same machine, same clock. Bars: p50 ≤ 500 ms, p99 ≤ 2 s; every declare delivered
(delivered = declared), none twice.

Run: .venv/bin/python bench/webhook_latency.py [--rate 20] [--seconds 30]
     [--database-url postgresql+asyncpg://postgres@127.0.0.1/test]
With a PostgreSQL URL the benchmark makes its own database ``muster_bench_webhooks`` on that
server (dropped first if it exists); without one it uses a fresh SQLite file.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import httpx2
from sqlalchemy import select

from app.cli import migrate
from app.db import Database
from app.models import Incident, OrgRole, TokenScope, WebhookDelivery, WebhookFormat
from app.services import tokens, users, webhook_endpoints

sys.path.insert(0, str(Path(__file__).resolve().parent))
from graphql_list import fresh_postgres
from processes import cpu_seconds, free_port, serve, uvicorn

SECRET_KEY = "w" * 32
DECLARE = """mutation($name: String!) { declareIncident(input: {name: $name}) {
  incident { reference } userErrors { message } } }"""


class Receiver:
    """A webhook receiver on loopback: each request's arrival, reference and timestamp."""

    def __init__(self) -> None:
        self.got: list[tuple[float, str, float, str]] = []  # received, reference, stamped, id
        self.server: asyncio.Server | None = None
        self.port = 0

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._connection, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                headers = {}
                for line in head.decode("latin-1").split("\r\n")[1:]:
                    if ":" in line:
                        name, _, value = line.partition(":")
                        headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                arrived = time.time()
                message = json.loads(body)
                self.got.append(
                    (
                        arrived,
                        message["data"]["incident"]["reference"],
                        datetime.fromisoformat(message["timestamp"]).timestamp(),
                        headers.get("webhook-id", ""),
                    )
                )
                writer.write(b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass  # the sender hung up, or the benchmark is over
        finally:
            writer.close()


async def prepare(url: str, hook: str) -> str:
    db = Database(url)
    admin = await users.add_user(db, email="admin@bench.test", role=OrgRole.ADMIN)
    support = await users.add_user(db, email="support@bench.test", role=OrgRole.MEMBER)
    _, secret = await tokens.create_token(
        db, user=support, name="bench", scope=TokenScope.READ_WRITE
    )
    await webhook_endpoints.create_endpoint(
        db, actor=admin, secret_key=SECRET_KEY, url=hook, format=WebhookFormat.STANDARD,
        event_types=["incident.declared"],
    )  # fmt: skip
    await db.dispose()
    return secret


def quantiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]

    return {
        "p50": at(0.50),
        "p95": at(0.95),
        "p99": at(0.99),
        "max": ordered[-1],
    }


async def queued_at(url: str) -> dict[str, float]:
    """When the dispatcher queued each incident's delivery (its transaction's start)."""
    db = Database(url)
    async with db.read() as session:
        rows = await session.execute(
            select(Incident, WebhookDelivery.created_at).join(
                Incident, Incident.id == WebhookDelivery.incident_id
            )
        )
        found = {incident.reference: created.timestamp() for incident, created in rows}
    await db.dispose()
    return found


async def declare_steadily(
    port: int, secret: str, rate: float, seconds: float, answered: dict[str, float]
) -> int:
    """Declare ``rate`` times a second for ``seconds``; the references with their answer time."""
    count = int(rate * seconds)
    failures = 0
    limits = httpx2.Limits(max_connections=50, max_keepalive_connections=50)
    async with httpx2.AsyncClient(
        base_url=f"http://127.0.0.1:{port}", timeout=30, limits=limits
    ) as http:

        async def one(n: int) -> None:
            nonlocal failures
            response = await http.post(
                "/graphql",
                json={"query": DECLARE, "variables": {"name": f"Bench incident {n}"}},
                headers={"Authorization": f"Bearer {secret}"},
            )
            now = time.time()
            body = response.json()
            if body.get("errors") or body["data"]["declareIncident"]["userErrors"]:
                failures += 1
                print("declare failed:", body, file=sys.stderr)
                return
            answered[body["data"]["declareIncident"]["incident"]["reference"]] = now

        start = time.monotonic() + 0.1
        tasks = []
        for n in range(count):
            await asyncio.sleep(max(0.0, start + n / rate - time.monotonic()))
            tasks.append(asyncio.create_task(one(n)))
        await asyncio.gather(*tasks)
    return failures


async def measure(url: str, rate: float, seconds: float, warmup: int) -> int:
    await asyncio.to_thread(migrate, url)
    receiver = Receiver()
    await receiver.start()
    secret = await prepare(url, f"http://127.0.0.1:{receiver.port}/hooks/muster")
    env = {
        **os.environ, "MUSTER_SECRET_KEY": SECRET_KEY, "MUSTER_DATABASE_URL": url,
        "MUSTER_LOG_LEVEL": "WARNING", "MUSTER_WEBHOOK_ALLOW_PRIVATE": "1",
    }  # fmt: skip
    port = free_port()
    process = serve(uvicorn("views.app:create_app", port, "--no-access-log"), port, env)
    try:
        warm: dict[str, float] = {}
        await declare_steadily(port, secret, rate, warmup / rate, warm)
        deadline = time.time() + 30
        while len(receiver.got) < len(warm) and time.time() < deadline:
            await asyncio.sleep(0.1)
        receiver.got.clear()
        answered: dict[str, float] = {}
        began, cpu_before = time.time(), cpu_seconds(process.pid)
        failures = await declare_steadily(port, secret, rate, seconds, answered)
        spent = time.time() - began
        busy = (cpu_seconds(process.pid) - cpu_before) / spent
        deadline = time.time() + 60
        while {r for _, r, _, _ in receiver.got} < answered.keys() and time.time() < deadline:
            await asyncio.sleep(0.1)
        await asyncio.sleep(1)  # anything sent twice arrives too
    finally:
        process.terminate()
        process.wait()
        if receiver.server is not None:
            receiver.server.close()
    mine = [got for got in receiver.got if got[1] in answered]
    first: dict[str, tuple[float, float]] = {}
    for arrived, reference, stamped, _ in mine:
        if reference not in first or arrived < first[reference][0]:
            first[reference] = (arrived, stamped)
    from_commit = [1000 * (arrived - stamped) for arrived, stamped in first.values()]
    from_answer = [1000 * (arrived - answered[ref]) for ref, (arrived, _) in first.items()]
    repeated = sum(n - 1 for n in collections.Counter(r for _, r, _, _ in mine).values())
    ids_repeated = sum(n - 1 for n in collections.Counter(i for *_, i in mine).values())
    database = "SQLite" if url.startswith("sqlite") else "PostgreSQL"
    print(
        f"{database}: declared {len(answered)} in {spent:.1f} s ({len(answered) / spent:.1f}/s, "
        f"{failures} failed); delivered {len(first)} of {len(answered)}, "
        f"{repeated} delivered more than once ({ids_repeated} with the same webhook-id); "
        f"the server used {100 * busy:.0f}% of a CPU while declares came; "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    if not from_commit:
        return 1
    queued = await queued_at(url)
    to_queue = [1000 * (queued[ref] - stamped) for ref, (_, stamped) in first.items()]
    to_send = [1000 * (arrived - queued[ref]) for ref, (arrived, _) in first.items()]
    for label, values in (
        ("commit", from_commit),
        ("API response", from_answer),
        ("commit to the delivery queued (dispatcher)", to_queue),
        ("delivery queued to receipt (job runner, HTTP)", to_send),
    ):
        q = quantiles(values)
        print(
            f"  {'from the ' if ' ' not in label or label == 'API response' else ''}{label}: p50 {q['p50']:.0f} ms, p95 {q['p95']:.0f} ms, "
            f"p99 {q['p99']:.0f} ms, max {q['max']:.0f} ms"
        )
    q = quantiles(from_commit)
    met = q["p50"] <= 500 and q["p99"] <= 2000 and len(first) == len(answered)
    print(
        f"  bar (from the commit: p50 <= 500 ms, p99 <= 2,000 ms, delivered = declared): "
        f"{'met' if met else 'NOT met'}"
    )
    return 0


async def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=float, default=20)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--warmup", type=int, default=40, help="declares before measuring")
    parser.add_argument("--database-url")
    args = parser.parse_args()
    os.sched_setaffinity(0, {1})
    if args.database_url:
        url = await fresh_postgres(args.database_url, "muster_bench_webhooks")
    else:
        url = f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp()) / 'webhooks.db'}"
    return await measure(url, args.rate, args.seconds, args.warmup)


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))

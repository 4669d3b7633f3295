"""What the heaviest query the cost limit lets through costs, and what the refused one costs.

Builds a SQLite database of 100 incidents with 100 timeline events each, serves Muster with
uvicorn on CPU 0, and measures from CPU 1: the heaviest allowed query (every event of every
incident: 100 x 100, priced just under ``MAX_COST``), the security review's query (incidents,
their timelines, each event's incident and its timeline, 100 at each level: refused before it
reads), and ``/healthz``'s latency alone and while four clients send the heaviest allowed query
back to back. Prints medians and the 99th percentile.

Run: .venv/bin/python bench/costly_query.py
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx2
from graphql import get_operation_ast, parse

from app.cli import migrate
from app.db import Database
from app.models import OrgRole, TokenScope
from app.services import declarations, incidents, tokens, users
from schema import build_schema
from schema.cost import MAX_COST, operation_cost

sys.path.insert(0, str(Path(__file__).resolve().parent))
from processes import free_port, serve, uvicorn

HEAVIEST = """{ incidents(first: 100) { edges { node { reference timeline(first: 100) {
  edges { node { kind summary occurredAt } } } } } } }"""
REVIEWED = """{ incidents(first: 100) { edges { node { timeline(first: 100) { edges { node {
  incident { timeline(first: 100) { edges { node { kind summary } } } } } } } } } } }"""


async def prepare(url: str) -> str:
    db = Database(url)
    sre = await users.add_user(db, email="sre@bench.test", role=OrgRole.RESPONDER)
    for n in range(100):
        incident = await declarations.declare(db, actor=sre, name=f"Bench incident {n}")
        for m in range(99):
            await incidents.share_update(
                db, actor=sre, incident_id=incident.id, message=f"Update {m}"
            )
    _, secret = await tokens.create_token(db, user=sre, name="bench", scope=TokenScope.READ)
    await db.dispose()
    return secret


def cost(query: str) -> int:
    document = parse(query)
    operation = get_operation_ast(document, None)
    assert operation is not None
    return operation_cost(build_schema()._schema, document, operation, None)


async def timed(client: httpx2.AsyncClient, query: str | None) -> float:
    started = time.perf_counter()
    if query is None:
        response = await client.get("/healthz")
    else:
        response = await client.post("/graphql", json={"query": query})
    response.raise_for_status()
    elapsed = (time.perf_counter() - started) * 1000
    if query == HEAVIEST:
        payload = response.json()
        assert "errors" not in payload, payload["errors"]
        edges = payload["data"]["incidents"]["edges"]
        assert sum(len(e["node"]["timeline"]["edges"]) for e in edges) == 100 * 100
    elif query is not None:
        assert response.json()["errors"][0]["extensions"]["code"] == "TOO_COSTLY"
    return elapsed


def p99(values: list[float]) -> float:
    return sorted(values)[int(len(values) * 0.99) - 1]


async def measure(url: str, secret: str) -> None:
    headers = {"Authorization": f"Bearer {secret}"}
    async with httpx2.AsyncClient(base_url=url, headers=headers, timeout=60) as client:
        heavy = [await timed(client, HEAVIEST) for _ in range(10)]
        refused = [await timed(client, REVIEWED) for _ in range(10)]
        alone = [await timed(client, None) for _ in range(200)]
        stop = asyncio.Event()

        async def load() -> None:
            async with httpx2.AsyncClient(base_url=url, headers=headers, timeout=60) as own:
                while not stop.is_set():
                    await timed(own, HEAVIEST)

        loaders = [asyncio.create_task(load()) for _ in range(4)]
        await asyncio.sleep(1)  # the load is running
        loaded = [await timed(client, None) for _ in range(200)]
        stop.set()
        await asyncio.gather(*loaders)
    print(f"heaviest allowed (cost {cost(HEAVIEST)} of {MAX_COST}): "
          f"median {statistics.median(heavy):.0f} ms")  # fmt: skip
    print(f"the review's query (cost {cost(REVIEWED)}, refused): "
          f"median {statistics.median(refused):.1f} ms")  # fmt: skip
    print(f"/healthz alone: median {statistics.median(alone):.1f} ms, p99 {p99(alone):.1f} ms")
    print(f"/healthz with 4 clients sending the heaviest allowed query: "
          f"median {statistics.median(loaded):.1f} ms, p99 {p99(loaded):.1f} ms")  # fmt: skip


def main() -> int:
    url = f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}"
    migrate(url)
    secret = asyncio.run(prepare(url))
    port = free_port()
    env = {"MUSTER_DATABASE_URL": url, "MUSTER_SECRET_KEY": "b" * 32}
    server = serve(uvicorn("views.app:create_app", port, "--no-access-log"), port, env)
    try:
        base = f"http://127.0.0.1:{port}"
        os.sched_setaffinity(0, {1})
        asyncio.run(measure(base, secret))
    finally:
        server.terminate()
        server.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())

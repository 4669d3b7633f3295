"""Live feed benchmarks (QUALITY-BARS.md, performance bars 3, 4 and 5).

- fan-out: one event to N subscribers of the same operation, in server CPU per message, against
  a bare Starlette WebSocket broadcast of the same bytes to N sockets (bar: ratio ≥ 0.5);
- latency: commit → receipt p50/p99 with N subscribers and 5 events/s (bar: p99 ≤ 100 ms);
- memory: server RSS per idle subscriber at M connections (bar: ≤ 40 KiB);
- cross-process (with --postgres): written through server A, received from server B by 100
  subscribers (bar: p99 ≤ 150 ms).

Run: .venv/bin/python bench/live.py [--subscribers 1000] [--idle 5000] [--postgres URL]
The server runs on CPU 0, the clients (one process) on CPU 1.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import httpx2
import websockets

from app.cli import migrate
from app.db import Database
from app.models import OrgRole, TokenScope
from app.services import declarations, tokens, users
from schema import ids

sys.path.insert(0, str(Path(__file__).resolve().parent))
from graphql_list import fresh_postgres
from processes import cpu_seconds, free_port, rss_kib, serve, uvicorn

OPERATION = """subscription { incidentEvents { id cursor kind summary occurredAt actor { name }
  incident { reference name status { name category } severity { name rank } nextUpdateDueAt } } }"""


async def prepare(url: str) -> tuple[str, int]:
    db = Database(url)
    sre = await users.add_user(db, email="sre@bench.test", role=OrgRole.RESPONDER)
    _, secret = await tokens.create_token(db, user=sre, name="bench", scope=TokenScope.READ_WRITE)
    incident = await declarations.declare(db, actor=sre, name="Fan-out incident")
    await db.dispose()
    return secret, incident.id


def start(factory: str, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    return serve(uvicorn(factory, port, "--ws-max-queue", "64"), port, env), port


async def subscribe(
    port: int, secret: str, received: list[float], lags: list[float]
) -> websockets.ClientConnection:
    socket = await websockets.connect(
        f"ws://127.0.0.1:{port}/graphql", subprotocols=["graphql-transport-ws"], compression=None
    )
    await socket.send(
        json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {secret}"}})
    )
    await socket.recv()
    await socket.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": OPERATION}}))

    async def read() -> None:
        async for message in socket:
            now = time.time()
            body = json.loads(message)
            if body.get("type") == "next":
                received.append(now)
                occurred = body["payload"]["data"]["incidentEvents"]["occurredAt"]
                lags.append(now - datetime.fromisoformat(occurred).timestamp())

    asyncio.create_task(read())
    return socket


async def write_events(
    port: int, secret: str, incident_id: int, count: int, per_second: float
) -> None:
    """Add notes through the server's API, as people do (so the commit wakes its hub at once)."""
    mutation = (
        "mutation($input: AddNoteInput!) { addNote(input: $input) { userErrors { message } } }"
    )
    incident = ids.encode("Incident", incident_id)
    async with httpx2.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
        for n in range(count):
            variables = {"input": {"incidentId": incident, "message": f"event {n}"}}
            response = await http.post(
                "/graphql", json={"query": mutation, "variables": variables},
                headers={"Authorization": f"Bearer {secret}"},
            )  # fmt: skip
            assert response.json()["data"]["addNote"]["userErrors"] == []
            await asyncio.sleep(1 / per_second)


async def fan_out(url: str, env: dict[str, str], subscribers: int, events: int) -> dict[str, float]:
    secret, incident_id = await prepare(url)
    process, port = start("views.app:create_app", env)
    received: list[float] = []
    lags: list[float] = []
    try:
        sockets = [await subscribe(port, secret, received, lags) for _ in range(subscribers)]
        await asyncio.sleep(2)
        before = cpu_seconds(process.pid)
        await write_events(port, secret, incident_id, events, per_second=5)
        deadline = time.time() + 30
        while len(received) < subscribers * events and time.time() < deadline:
            await asyncio.sleep(0.2)
        used = cpu_seconds(process.pid) - before
        for socket in sockets:
            await socket.close()
    finally:
        process.terminate()
        process.wait()
    lags.sort()
    return {
        "delivered": len(received),
        "expected": subscribers * events,
        "msgs_per_cpu_s": len(received) / used if used else float("inf"),
        "p50_ms": 1000 * statistics.median(lags),
        "p99_ms": 1000 * lags[int(len(lags) * 0.99) - 1],
    }


async def cross_process(
    url: str, env: dict[str, str], subscribers: int, events: int
) -> dict[str, float]:
    """Write through server A, receive from server B (both on PostgreSQL)."""
    secret, incident_id = await prepare(url)
    writer, writer_port = start("views.app:create_app", env)
    reader, reader_port = start("views.app:create_app", env)
    received: list[float] = []
    lags: list[float] = []
    try:
        sockets = [await subscribe(reader_port, secret, received, lags) for _ in range(subscribers)]
        await asyncio.sleep(2)
        await write_events(writer_port, secret, incident_id, events, per_second=5)
        deadline = time.time() + 30
        while len(received) < subscribers * events and time.time() < deadline:
            await asyncio.sleep(0.2)
        for socket in sockets:
            await socket.close()
    finally:
        for process in (writer, reader):
            process.terminate()
            process.wait()
    lags.sort()
    return {
        "delivered": len(received),
        "expected": subscribers * events,
        "p50_ms": 1000 * statistics.median(lags),
        "p99_ms": 1000 * lags[int(len(lags) * 0.99) - 1],
    }


async def bare_broadcast(subscribers: int, events: int, payload: bytes) -> float:
    process, port = start("bench.apps:broadcast", dict(os.environ))
    received: list[float] = []
    try:
        sockets = []
        for _ in range(subscribers):
            socket = await websockets.connect(f"ws://127.0.0.1:{port}/ws", compression=None)
            sockets.append(socket)

            async def read(socket: websockets.ClientConnection = socket) -> None:
                async for _message in socket:
                    received.append(time.time())

            asyncio.create_task(read())
        await asyncio.sleep(1)
        before = cpu_seconds(process.pid)
        trigger = await websockets.connect(f"ws://127.0.0.1:{port}/trigger", compression=None)
        for _ in range(events):
            await trigger.send(payload)
            await asyncio.sleep(0.2)
        deadline = time.time() + 30
        while len(received) < subscribers * events and time.time() < deadline:
            await asyncio.sleep(0.2)
        used = cpu_seconds(process.pid) - before
    finally:
        process.terminate()
        process.wait()
    return len(received) / used if used else float("inf")


async def idle_memory(url: str, env: dict[str, str], connections: int) -> float:
    secret, _ = await prepare(url)
    process, port = start("views.app:create_app", env)
    try:
        await asyncio.sleep(1)
        baseline = rss_kib(process.pid)
        sockets = [await subscribe(port, secret, [], []) for _ in range(connections)]
        await asyncio.sleep(3)
        grown = rss_kib(process.pid) - baseline
        for socket in sockets:
            await socket.close()
    finally:
        process.terminate()
        process.wait()
    return grown / connections


async def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--events", type=int, default=20)
    parser.add_argument("--idle", type=int, default=5000)
    parser.add_argument("--postgres")
    args = parser.parse_args()
    os.sched_setaffinity(0, {1})
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    async def database(name: str) -> str:
        if args.postgres:
            url = await fresh_postgres(args.postgres, name)
        else:
            url = f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp()) / 'live.db'}"
        await asyncio.to_thread(migrate, url)
        return url

    env = {**os.environ, "MUSTER_SECRET_KEY": "b" * 32,
           "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}  # fmt: skip
    ids.use_secret(env["MUSTER_SECRET_KEY"])  # the ids the servers give out
    url = await database("muster_bench_live")
    result = await fan_out(url, {**env, "MUSTER_DATABASE_URL": url}, args.subscribers, args.events)
    sample = json.dumps({"id": "1", "type": "next", "payload": {"data": {"incidentEvents": {
        "id": "VGltZWxpbmVFdmVudDox", "cursor": "ZToy", "kind": "NOTE_ADDED",
        "summary": "Note: event 0", "occurredAt": "2026-11-30T12:00:00+00:00",
        "actor": {"name": "sre"}, "incident": {"reference": "INC-1", "name": "Fan-out incident",
        "status": {"name": "Investigating", "category": "ACTIVE"},
        "severity": {"name": "Minor", "rank": 1}, "nextUpdateDueAt": None}}}}}).encode()  # fmt: skip
    bare = await bare_broadcast(args.subscribers, args.events, sample)
    print(f"delivered {result['delivered']} of {result['expected']} messages")
    print(
        f"fan-out: muster {result['msgs_per_cpu_s']:,.0f} msgs per server CPU-second, "
        f"bare broadcast {bare:,.0f}; ratio {result['msgs_per_cpu_s'] / bare:.2f} (bar >= 0.5)"
    )
    print(
        f"latency at {args.subscribers} subscribers x 5 events/s: "
        f"p50 {result['p50_ms']:.0f} ms, p99 {result['p99_ms']:.0f} ms (bar p99 <= 100 ms)"
    )
    url = await database("muster_bench_idle")
    per = await idle_memory(url, {**env, "MUSTER_DATABASE_URL": url}, args.idle)
    print(f"memory: {per:.1f} KiB per idle subscriber at {args.idle} (bar <= 40 KiB)")
    if args.postgres:
        url = await database("muster_bench_cross")
        crossed = await cross_process(url, {**env, "MUSTER_DATABASE_URL": url}, 100, args.events)
        print(
            f"cross-process: delivered {crossed['delivered']} of {crossed['expected']}, "
            f"p50 {crossed['p50_ms']:.0f} ms, p99 {crossed['p99_ms']:.0f} ms (bar p99 <= 150 ms)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))

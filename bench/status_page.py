"""The public status page under load (issue 13, "It stays up"; QUALITY-BARS.md, bar 5).

- rate: ``GET /status`` (served from memory, pre-gzipped) at 50 keep-alive clients sending
  ``Accept-Encoding: gzip``, against Starlette's ``StaticFiles`` serving a file of the same bytes
  from the same process (``/bench-static``, behind the same middleware) and against ``/healthz``;
  bars: /status ≥ 0.5 x StaticFiles and ≥ 0.25 x /healthz;
- viewers: N idle anonymous ``/status/live`` streams on one process: the server's RSS growth per
  stream (bar: ≤ 40 KiB), then one component's status changed through the GraphQL API: time from
  the mutation's response (the commit is before it) to receipt in every stream, p50/p99, and
  whether every stream got the same bytes.

The database holds the demo's status page (its settings and components, ``app.demo.status``)
and an admin with an API token: a new SQLite file in a temporary directory, or, with
``--database-url``, the PostgreSQL database that URL names, dropped if it exists and created
again (never ``test``, which the tests empty) so every run starts alike; either is migrated
first (``app.cli.migrate``). The server (uvicorn with the app of ``views.app:create_app`` plus
the static mount, ``MUSTER_STATUS_REQUESTS_PER_MINUTE`` so high that the per-address limit is
checked but never refuses) runs alone on CPU 0; this process and its clients (raw asyncio
sockets) run on CPU 1. Run:

    .venv/bin/python bench/status_page.py [--clients 50] [--seconds 8] [--rounds 3]
        [--viewers 10000] [--database-url postgresql+asyncpg://postgres@127.0.0.1:5432/bench_status]

It raises its open-files limit to the hard limit (the server inherits it); 10,000 viewers need
about 10,100 on each side.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx2
from sqlalchemy.engine import make_url
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from app.cli import migrate
from app.db import Database
from app.demo.status import add_status_page
from app.models import OrgRole, TokenScope
from app.services import tokens, users
from schema import ids

sys.path.insert(0, str(Path(__file__).resolve().parent))
from graphql_list import fresh_postgres
from http_load import load, request
from processes import free_port, rss_kib, serve, uvicorn

SECRET_KEY = "s" * 32
STATIC_NAME = "status.html"


def with_static() -> Starlette:
    """Muster's app with ``StaticFiles`` mounted at ``/bench-static`` (``MUSTER_BENCH_STATIC``),
    first among the routes, so the same middleware stack serves it."""
    from views.app import create_app

    app = create_app()
    files = StaticFiles(directory=os.environ["MUSTER_BENCH_STATIC"])
    app.router.routes.insert(0, Mount("/bench-static", files))
    return app


async def fresh_database(url: str | None) -> str:
    """The URL of a new, empty database: ``url``'s PostgreSQL database dropped and created again
    (through the server's ``postgres`` database), or a new SQLite file if ``url`` is None."""
    if url is None:
        return f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp()) / 'status.db'}"
    parsed = make_url(url)
    name = parsed.database or ""
    if parsed.get_backend_name() != "postgresql" or not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
        raise SystemExit(f"--database-url takes a PostgreSQL URL naming its database: {url}")
    if name in {"test", "postgres"}:
        raise SystemExit(f"--database-url: not {name!r}, the bench drops its database first")
    server = parsed.set(database="postgres").render_as_string(hide_password=False)
    return await fresh_postgres(server, name)


async def prepare(url: str) -> tuple[str, int]:
    db = Database(url)
    admin = await users.add_user(db, email="admin@bench.test", role=OrgRole.ADMIN)
    _, secret = await tokens.create_token(db, user=admin, name="bench", scope=TokenScope.READ_WRITE)
    made = await add_status_page(db, admin)
    await db.dispose()
    return secret, made["API"]


# Live viewers -----------------------------------------------------------------------------------


def dechunk(raw: bytes) -> bytes | None:
    """The body carried by complete HTTP chunks in ``raw`` (None if a chunk is cut off)."""
    body, at = b"", 0
    while at < len(raw):
        line = raw.find(b"\r\n", at)
        if line < 0:
            return None
        size = int(raw[at:line], 16)
        if len(raw) < line + 2 + size + 2:
            return None
        body += raw[line + 2 : line + 2 + size]
        at = line + 2 + size + 2
    return body


class Viewer(asyncio.Protocol):
    """One open /status/live: the answer's head and first message, then whatever comes after
    ``mark()``, with the time the next whole SSE message (not a ping) completed."""

    def __init__(self) -> None:
        self.raw = b""
        self.opened = asyncio.get_running_loop().create_future()
        self.after: bytes | None = None
        self.received: float | None = None
        self.transport: asyncio.BaseTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        if self.after is None:
            self.raw += data
            end = self.raw.find(b"\r\n\r\n")
            if end >= 0 and not self.opened.done():
                body = dechunk(self.raw[end + 4 :])
                if not self.raw.startswith(b"HTTP/1.1 200"):
                    self.opened.set_exception(RuntimeError(self.raw[:200].decode()))
                elif body is not None and b"data:" in body and body.endswith(b"\n\n"):
                    self.opened.set_result(None)
            return
        self.after += data
        if self.received is None:
            body = dechunk(self.after)
            if body is not None:
                body = body.replace(b": ping\n\n", b"")
                if body.endswith(b"\n\n") and b"data:" in body:
                    self.received = time.time()

    def mark(self) -> None:
        self.after = b""


async def open_viewers(port: int, count: int, batch: int = 200) -> list[Viewer]:
    loop = asyncio.get_running_loop()
    request = (
        f"GET /status/live HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        "Accept: text/event-stream\r\nCache-Control: no-cache\r\n\r\n"
    ).encode()
    viewers: list[Viewer] = []
    for start in range(0, count, batch):
        opened = []
        for _ in range(min(batch, count - start)):
            transport, viewer = await loop.create_connection(Viewer, "127.0.0.1", port)
            transport.write(request)
            opened.append(viewer)
        await asyncio.wait_for(asyncio.gather(*(v.opened for v in opened)), 60)
        viewers.extend(opened)
    return viewers


async def viewers_run(port: int, secret: str, component: int, count: int, pid: int) -> None:
    warm = await open_viewers(port, 100)  # every code path loaded first
    viewers: list[Viewer] = []
    try:
        await asyncio.sleep(2)
        before = rss_kib(pid)
        started = time.perf_counter()
        viewers = await open_viewers(port, count)
        opening = time.perf_counter() - started
        await asyncio.sleep(3)
        after = rss_kib(pid)
        print(
            f"viewers: {count:,} open /status/live streams (opened in {opening:.1f} s); server RSS "
            f"{before / 1024:.1f} -> {after / 1024:.1f} MiB: {(after - before) / count:.1f} KiB "
            f"per idle viewer (bar <= 40 KiB)"
        )
        await change(port, secret, component, viewers)
    finally:  # the server waits for open streams before it stops
        for viewer in warm + viewers:
            if viewer.transport is not None:
                viewer.transport.close()
        await asyncio.sleep(1)


async def change(port: int, secret: str, component: int, viewers: list[Viewer]) -> None:
    """Set one component's status through the API and time its arrival in every stream; the
    mutation may wait behind the sends to every viewer, hence the long timeout."""
    for viewer in viewers:
        viewer.mark()
    mutation = """mutation($input: UpdateStatusComponentInput!) {
      updateStatusComponent(input: $input) { userErrors { message } } }"""
    variables = {"input": {"componentId": ids.encode("StatusComponent", component),
                           "status": "PARTIAL_OUTAGE"}}  # fmt: skip
    async with httpx2.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as http:
        sent = time.time()
        response = await http.post(
            "/graphql", json={"query": mutation, "variables": variables},
            headers={"Authorization": f"Bearer {secret}"},
        )  # fmt: skip
        answered = time.time()
    assert response.json()["data"]["updateStatusComponent"]["userErrors"] == [], response.text
    deadline = time.time() + 60
    while time.time() < deadline and any(v.received is None for v in viewers):
        await asyncio.sleep(0.05)
    times = sorted(v.received - answered for v in viewers if v.received is not None)
    # pings (every 15 s, so some come while 10,000 streams open) are not part of the change
    bodies = {
        (dechunk(v.after or b"") or b"").replace(b": ping\n\n", b"")
        for v in viewers
        if v.received is not None
    }
    print(
        f"change: mutation answered in {1000 * (answered - sent):.0f} ms; "
        f"{len(times):,} of {len(viewers):,} viewers received it"
    )
    if times:
        print(
            f"  response -> receipt p50 {1000 * statistics.median(times):.0f} ms, "
            f"p99 {1000 * times[max(int(len(times) * 0.99) - 1, 0)]:.0f} ms, "
            f"last {1000 * times[-1]:.0f} ms; identical bytes in all (pings aside): "
            f"{len(bodies) == 1} ({', '.join(f'{len(b):,}' for b in sorted(bodies, key=len))} bytes)"
        )


async def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--viewers", type=int, default=10_000)
    parser.add_argument("--database-url", help="a PostgreSQL database to create afresh")
    args = parser.parse_args()
    os.sched_setaffinity(0, {1})
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    print(f"open-files limit {hard:,} (this process and the server)")

    url = await fresh_database(args.database_url)
    print(f"database {make_url(url).render_as_string()}")
    await asyncio.to_thread(migrate, url)
    ids.use_secret(SECRET_KEY)
    secret, component = await prepare(url)
    static = Path(tempfile.mkdtemp())
    port = free_port()
    env = {
        "MUSTER_DATABASE_URL": url,
        "MUSTER_SECRET_KEY": SECRET_KEY,
        "MUSTER_STATUS_REQUESTS_PER_MINUTE": "100000000",
        "MUSTER_BENCH_STATIC": str(static),
    }
    process = serve(uvicorn("bench.status_page:with_static", port), port, env)
    try:
        async with httpx2.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            page = await http.get("/status", headers={"Accept-Encoding": "identity"})
            assert page.status_code == 200
            (static / STATIC_NAME).write_bytes(page.content)
            copy = await http.get(f"/bench-static/{STATIC_NAME}")
            assert copy.content == page.content
        print(f"/status body {len(page.content):,} bytes; the static file the same bytes")
        targets = {
            "/status": ("/status", True),
            "StaticFiles": (f"/bench-static/{STATIC_NAME}", True),
            "/healthz": ("/healthz", True),
            "StaticFiles, no gzip": (f"/bench-static/{STATIC_NAME}", False),
        }
        results: dict[str, list[dict[str, float]]] = {name: [] for name in targets}
        for _ in range(args.rounds):  # interleaved, so the machine's load hits all alike
            for name, (path, gzip) in targets.items():
                sent = [request(port, path, gzip=gzip)] * args.clients
                results[name].append(await load(port, sent, args.seconds))
        medians = {
            name: {key: statistics.median(r[key] for r in rounds) for key in rounds[0]}
            for name, rounds in results.items()
        }
        for name, figures in medians.items():
            runs = ", ".join(f"{r['rate']:,.0f}" for r in results[name])
            print(
                f"{name:>20}: {figures['rate']:,.0f} req/s ({runs}), p50 "
                f"{figures['p50_ms']:.1f} ms, p99 {figures['p99_ms']:.1f} ms"
            )
        status = medians["/status"]["rate"]
        print(
            f"/status / StaticFiles {status / medians['StaticFiles']['rate']:.2f} (bar >= 0.5); "
            f"/status / healthz {status / medians['/healthz']['rate']:.2f} (bar >= 0.25)"
        )
        await viewers_run(port, secret, component, args.viewers, process.pid)
    finally:
        process.terminate()
        process.wait()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))

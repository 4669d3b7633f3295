"""A burst of live feeds opening at once (issue 10, item 11): every browser reconnecting after a
deploy.

Starts a real ``muster serve`` (one process, on CPU 0) on a fresh database with ``--people``
users, each with a browser session, and opens ``--streams`` ``/live/dashboard`` event streams
(spread over the people, round robin) at ``--rate`` per second from this process (CPU 1), on raw
asyncio sockets. Each stream's answer is read up to its status line; 200 streams stay open until
every stream has answered and ``SETTLE`` seconds more (as browsers keep them), then all are
closed. It prints the count of each status (and of connections that failed or got no answer
within ``--timeout``), the time to answer (p50, p99, max), whether refused streams carried
``Retry-After``, and how many opened streams then ended with an ``error`` message. Bar: no 5xx,
no stream ended.

Bounded: at most 20,000 streams, the server on 127.0.0.1 only, every answer awaited at most
``--timeout`` seconds.

Run: .venv/bin/python bench/burst.py [--streams 5000] [--rate 2000] [--people 1000]
    [--postgres postgresql://postgres@127.0.0.1:5432/]
On PostgreSQL it uses the database ``muster_bench_burst`` (dropped and made again).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from sqlalchemy import insert, select

from app.cli import migrate
from app.config import Settings
from app.db import Database
from app.models import OrgRole, User
from app.services import sessions

sys.path.insert(0, str(Path(__file__).resolve().parent))
from graphql_list import fresh_postgres
from processes import free_port
from processes import serve as serve_on_cpu0

SECRET_KEY = "b" * 32
MAX_STREAMS = 20_000
SETTLE = 3  # seconds the streams stay open after the last answer


class Stream(asyncio.Protocol):
    """One stream: the status line and headers of its answer, then whatever follows, ignored."""

    def __init__(self, answered: asyncio.Future[tuple[int, bool]]) -> None:
        self.answered = answered
        self.head = b""
        self.failed = False  # an ``error`` message came after the headers: the feed ended
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        if self.answered.done():
            self.failed = self.failed or b"event: error" in data
            return
        self.head += data
        if b"\r\n\r\n" in self.head:
            status = int(self.head.split(b" ", 2)[1])
            retry = b"\r\nretry-after:" in self.head.partition(b"\r\n\r\n")[0].lower()
            self.answered.set_result((status, retry))

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.answered.done():
            self.answered.set_exception(ConnectionError("closed before answering"))


async def burst(port: int, secrets: list[str], streams: int, rate: float, timeout: float) -> int:
    loop = asyncio.get_running_loop()
    statuses: Counter[str] = Counter()
    retry_after: Counter[int] = Counter()
    transports: list[asyncio.Transport] = []
    protocols: list[Stream] = []
    done_at: list[float] = []
    waits: list[float] = []  # seconds from connecting to the answer's headers
    started = time.monotonic()

    async def one(n: int) -> None:
        answered: asyncio.Future[tuple[int, bool]] = loop.create_future()
        asked = time.monotonic()
        try:
            transport, _ = await loop.create_connection(lambda: Stream(answered), "127.0.0.1", port)
            transports.append(transport)
            transport.write(
                f"GET /live/dashboard HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                f"Accept: text/event-stream\r\n"
                f"Cookie: muster_session={secrets[n % len(secrets)]}\r\n\r\n".encode()
            )
            status, retry = await asyncio.wait_for(answered, timeout)
            waits.append(time.monotonic() - asked)
            statuses[str(status)] += 1
            if status != 200:
                retry_after[status] += retry
        except TimeoutError:
            statuses["no answer"] += 1
        except OSError as error:
            statuses[f"connection failed ({type(error).__name__})"] += 1
        done_at.append(time.monotonic() - started)

    tasks = []
    for n in range(streams):
        # Paced against the clock, so a slow moment is made up for rather than added.
        delay = started + n / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(n)))
    sent = time.monotonic() - started
    await asyncio.gather(*tasks)
    await asyncio.sleep(SETTLE)  # a feed failing just after its headers shows meanwhile
    failed = sum(stream.failed for stream in protocols)
    for transport in transports:
        transport.close()
    print(f"  {streams:,} streams opened in {sent:.2f} s ({streams / sent:,.0f}/s); "
          f"last answer after {max(done_at):.2f} s")  # fmt: skip
    if waits:
        waits.sort()
        p50, p99 = waits[len(waits) // 2], waits[int(len(waits) * 0.99)]
        print(f"  time to answer: p50 {p50 * 1000:,.0f} ms, p99 {p99 * 1000:,.0f} ms, "
              f"max {waits[-1] * 1000:,.0f} ms")  # fmt: skip
    for status, count in sorted(statuses.items()):
        extra = ""
        if status.isdigit() and status != "200":
            extra = f" ({retry_after[int(status)]:,} with Retry-After)"
        print(f"  {status}: {count:,}{extra}")
    server_errors = sum(c for s, c in statuses.items() if s.startswith("5"))
    print(f"  5xx: {server_errors:,} (bar: 0); opened, then ended with an error: {failed:,}")
    return 1 if server_errors or failed else 0


async def prepare(url: str, people: int) -> list[str]:
    """``people`` users, each with a browser session; their session secrets."""
    db = Database(url)
    now = db.now()
    async with db.write() as session:
        await session.execute(
            insert(User),
            [{"email": f"viewer{n}@bench.test", "name": f"Viewer {n}", "role": OrgRole.MEMBER,
              "active": True, "created_at": now} for n in range(people)],
        )  # fmt: skip
        viewers = list(await session.scalars(select(User).where(User.email.like("viewer%"))))
    settings = Settings.from_env({"MUSTER_SECRET_KEY": SECRET_KEY})
    timeouts = sessions.Timeouts(idle=settings.session_idle, absolute=settings.session_max)
    secrets = [
        (await sessions.start_session(db, user=viewer, timeouts=timeouts))[1] for viewer in viewers
    ]
    await db.dispose()
    return secrets


def serve(url: str, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], int]:
    """``muster serve`` on 127.0.0.1, on CPU 0."""
    port = free_port()
    environ = {"MUSTER_DATABASE_URL": url, "MUSTER_SECRET_KEY": SECRET_KEY,
               "MUSTER_BASE_URL": f"http://127.0.0.1:{port}", **env}  # fmt: skip
    command = [sys.executable, "-m", "app.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
    return serve_on_cpu0(command, port, environ), port


async def run(args: argparse.Namespace, url: str) -> int:
    secrets = await prepare(url, args.people)
    env = {f"MUSTER_{k.upper()}": v for k, v in (s.split("=", 1) for s in args.setting)}
    process, port = serve(url, env)
    try:
        database = "PostgreSQL" if args.postgres else "SQLite"
        print(f"{database}: {args.streams:,} /live/dashboard streams at {args.rate:,.0f}/s, "
              f"{len(secrets):,} people")  # fmt: skip
        return await burst(port, secrets, args.streams, args.rate, args.timeout)
    finally:
        process.terminate()
        process.wait(30)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--streams", type=int, default=5000)
    parser.add_argument("--rate", type=float, default=2000, help="streams opened per second")
    parser.add_argument("--people", type=int, default=1000)
    parser.add_argument("--timeout", type=float, default=60, help="seconds to wait per answer")
    parser.add_argument("--postgres", help="a PostgreSQL server URL: run there, not on SQLite")
    parser.add_argument("--setting", action="append", default=[],
                        help="NAME=value, passed to the server as MUSTER_NAME")  # fmt: skip
    args = parser.parse_args()
    if not 0 < args.streams <= MAX_STREAMS or args.rate <= 0 or args.people <= 0:
        raise SystemExit(f"--streams must be 1..{MAX_STREAMS:,}; --rate, --people positive")
    os.sched_setaffinity(0, {1})
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard < args.streams + 200:
        raise SystemExit(f"the open-files hard limit ({hard}) is too low for {args.streams}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # the server inherits it
    with tempfile.TemporaryDirectory() as folder:
        if args.postgres:
            url = asyncio.run(fresh_postgres(args.postgres, "muster_bench_burst"))
        else:
            url = f"sqlite+aiosqlite:///{folder}/burst.db"
        migrate(url)  # before the event loop: migrations run one of their own
        return asyncio.run(run(args, url))


if __name__ == "__main__":
    sys.exit(main())

"""Write throughput of ``declare``: SQLite from one process with 8 concurrent writers, and
PostgreSQL from one process and from two side by side (QUALITY-BARS.md, performance bar 7).

Run: .venv/bin/python bench/declare.py [--count 2000] [--postgres URL]
It prints declares per second, the number of "database is locked" errors, and the PostgreSQL
two-process / one-process ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import sys
import tempfile
import time
from pathlib import Path

import asyncpg
import uvloop

from app.cli import migrate
from app.db import Database
from app.models import OrgRole
from app.services import declarations, users

WRITERS = 8


async def _declare_many(url: str, count: int, email: str) -> tuple[int, int]:
    db = Database(url)
    actor = await users.add_user(db, email=email, role=OrgRole.MEMBER)
    queue = iter(range(count))
    locked = 0

    async def writer() -> None:
        nonlocal locked
        for n in queue:
            try:
                await declarations.declare(db, actor=actor, name=f"Bench incident {n}")
            except Exception as error:
                if "locked" not in str(error):
                    raise
                locked += 1

    await asyncio.gather(*(writer() for _ in range(WRITERS)))
    await db.dispose()
    return count - locked, locked


def _process(url: str, count: int, email: str, start: float, out: multiprocessing.Queue) -> None:
    while time.time() < start:
        time.sleep(0.001)
    began = time.perf_counter()
    done, locked = uvloop.run(_declare_many(url, count, email))  # as under uvicorn
    out.put((done, locked, time.perf_counter() - began))


def run_processes(url: str, count: int, processes: int, tag: str) -> tuple[float, int]:
    """Declares per second across ``processes`` processes, each with 8 writers."""
    out: multiprocessing.Queue = multiprocessing.Queue()
    start = time.time() + 1.0
    workers = [
        multiprocessing.Process(
            target=_process, args=(url, count, f"bench-{tag}-{i}@example.com", start, out)
        )
        for i in range(processes)
    ]
    for worker in workers:
        worker.start()
    results = [out.get() for _ in workers]
    for worker in workers:
        worker.join()
    done = sum(r[0] for r in results)
    locked = sum(r[1] for r in results)
    elapsed = max(r[2] for r in results)
    return done / elapsed, locked


async def _fresh_postgres(admin_url: str, name: str) -> str:
    dsn = admin_url.replace("postgresql+asyncpg://", "postgresql://")
    connection = await asyncpg.connect(dsn)
    await connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    await connection.execute(f"CREATE DATABASE {name}")
    await connection.close()
    return (
        admin_url.rpartition("/")[0].replace("postgresql://", "postgresql+asyncpg://") + "/" + name
    )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=2000, help="declares per process")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1/test")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        migrate(url)
        rate, locked = run_processes(url, args.count, 1, "sqlite")
        print(f"SQLite, 1 process x {WRITERS} writers: {rate:,.0f} declares/s, {locked} locked")

    url = asyncio.run(_fresh_postgres(args.postgres, "muster_bench"))
    migrate(url)
    one, locked_one = run_processes(url, args.count, 1, "pg1")
    two, locked_two = run_processes(url, args.count, 2, "pg2")
    print(f"PostgreSQL, 1 process x {WRITERS} writers: {one:,.0f} declares/s")
    print(f"PostgreSQL, 2 processes x {WRITERS} writers: {two:,.0f} declares/s")
    print(f"PostgreSQL scaling, 2 processes / 1 process: {two / one:.2f}")
    return 1 if locked or locked_one or locked_two else 0


if __name__ == "__main__":
    sys.exit(main())

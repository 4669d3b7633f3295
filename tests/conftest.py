"""Shared fixtures: a fresh database per test on SQLite and on PostgreSQL (and one a module's
tests share, for setup they only read), a movable clock, and a cast of users with every
organisation role.

PostgreSQL comes from ``MUSTER_TEST_POSTGRES_URL`` (by default the local server,
``DEFAULT_POSTGRES``). Where it is missing the PostgreSQL half of the suite is skipped with the reason, except
in CI (``CI=true``), where a missing tier fails the run.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import NoReturn

import asyncpg
import pytest
from sqlalchemy import text

from app.cli import migrate
from app.db import Database
from app.models import Base, OrgRole, User
from app.services import catalog, users

pytest_plugins = ["tests.identity_provider", "tests.browser"]

DEFAULT_POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def missing(reason: str) -> NoReturn:
    """Skip a test whose tier is unavailable here, or fail it in CI where every tier is required."""
    if IN_CI:
        pytest.fail(f"required in CI: {reason}")
    pytest.skip(reason)
    raise AssertionError("unreachable")


class Clock:
    """The time services see: real time plus an offset the test can move forward."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, **delta: float) -> None:
        self.offset += timedelta(**delta)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite database migrated to head with the default catalog, copied for each test."""
    path = tmp_path_factory.mktemp("template") / "muster.db"
    migrate(f"sqlite+aiosqlite:///{path}")
    return path


@contextlib.contextmanager
def own_postgres_database(name: str) -> Iterator[str]:
    """A freshly migrated database called ``name`` on the test PostgreSQL server, dropped when
    the block ends; skipped (or failed in CI) where the server is not usable."""
    admin = os.environ.get("MUSTER_TEST_POSTGRES_URL", DEFAULT_POSTGRES)
    dsn = admin.replace("postgresql+asyncpg://", "postgresql://")
    base, _, _ = dsn.rpartition("/")

    async def run(*statements: str) -> None:
        connection = await asyncpg.connect(dsn, timeout=5)
        try:
            for statement in statements:
                await connection.execute(statement)
        finally:
            await connection.close()

    try:
        asyncio.run(run(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)", f"CREATE DATABASE {name}"))
    except (OSError, asyncpg.PostgresError) as error:
        missing(f"PostgreSQL at {admin} is not usable: {error}")
    url = base.replace("postgresql://", "postgresql+asyncpg://") + f"/{name}"
    try:
        migrate(url)
        yield url
    finally:
        asyncio.run(run(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A freshly migrated database of this run's own (``muster_test_<pid>``) on the test
    PostgreSQL server, so two checkouts or runs can test at once; dropped at the end."""
    with own_postgres_database(f"muster_test_{os.getpid()}") as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path
) -> Iterator[str]:
    """The URL of an empty database with the default catalog, on each backend in turn."""
    if request.param == "sqlite":
        path = tmp_path / "muster.db"
        shutil.copy(sqlite_template, path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    yield request.getfixturevalue("postgres_url")


_module_databases = itertools.count(1)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def module_database_url(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    sqlite_template: Path,
) -> Iterator[str]:
    """The URL of a database with the default catalog that one module's tests share, on each
    backend in turn: for expensive setup that the module's tests only read (a test that writes
    takes ``db``, which is its own). PostgreSQL gets a database of its own
    (``muster_test_<pid>_<n>``), apart from the one ``db`` empties for every test."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("module") / "muster.db"
        shutil.copy(sqlite_template, path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    with own_postgres_database(f"muster_test_{os.getpid()}_{next(_module_databases)}") as url:
        yield url


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def db(database_url: str, clock: Clock) -> AsyncIterator[Database]:
    database = Database(database_url, clock=clock)
    if not database.is_sqlite:
        tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
        async with database.write() as session:
            await session.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        await catalog.install_defaults(database)
    yield database
    await database.dispose()


@dataclasses.dataclass
class Cast:
    """One user of each organisation role, plus a second member and a second responder."""

    viewer: User
    member: User
    other_member: User
    responder: User
    other_responder: User
    admin: User


@pytest.fixture
async def people(db: Database) -> Cast:
    async def add(email: str, name: str, role: OrgRole) -> User:
        return await users.add_user(db, email=email, name=name, role=role)

    return Cast(
        viewer=await add("vera@example.com", "Vera Viewer", OrgRole.VIEWER),
        member=await add("mo@example.com", "Mo Member", OrgRole.MEMBER),
        other_member=await add("max@example.com", "Max Member", OrgRole.MEMBER),
        responder=await add("rita@example.com", "Rita Responder", OrgRole.RESPONDER),
        other_responder=await add("ravi@example.com", "Ravi Responder", OrgRole.RESPONDER),
        admin=await add("ada@example.com", "Ada Admin", OrgRole.ADMIN),
    )

"""The database handle: one async engine, read and write sessions, and the clock.

``Database.write()`` opens the one transaction a service call runs in; on SQLite it begins with
``BEGIN IMMEDIATE`` so concurrent writers queue on the write lock instead of failing with
"database is locked" halfway through. ``Database.read()`` gives a plain read transaction. The
pool holds at most ``pool_size`` connections; whoever waits longer than ``pool_timeout`` for one
gets ``PoolBusy`` (the web answers 503 with Retry-After rather than an error). A write
is marked ``touching`` what it changes that processes keep copies of (``Touched``: the public
status page, what signed-in pages show, who is signed in; flush and statement listeners in the
models do it, so no service can forget): after it commits, that mark's ``on_touched`` callbacks
run here and other processes hear ``NOTIFY`` on the mark's channel (its value), each with the
write's ``Reach``: whom the change can concern (everyone, or only the members of some private
incidents and some named people), so that copies nobody it concerns sees are kept. The
clock lives here too, so every timestamp a service writes comes from one place (the demo data
and the tests move it; production reads the system clock).
"""

from __future__ import annotations

import asyncio
import dataclasses
import enum
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import TimeoutError as PoolBusy
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session
from sqlalchemy.pool import ConnectionPoolEntry

__all__ = [
    "EVENTS_CHANNEL",
    "EVENTS_LOCK",
    "EVERYONE",
    "INBOX_CHANNEL",
    "Database",
    "PoolBusy",
    "Reach",
    "Touched",
    "appending_events",
    "touching",
    "touching_inboxes",
]

_WRITE = "muster_write"
_EVENTS = "muster_events"
_INBOXES = "muster_inboxes"
_TOUCHED = "muster_touched"
EVENTS_CHANNEL = "muster_events"
INBOX_CHANNEL = "muster_inbox"  # NOTIFY'd when someone's notifications change
# The advisory lock every PostgreSQL transaction takes before appending timeline events, so
# that they commit in id order and a reader following the table by id never skips one.
EVENTS_LOCK = 0x6D7573746572  # "muster"


class Touched(enum.Enum):
    """What a write can change that processes keep copies of; each value is the channel other
    processes hear of it on (``NOTIFY``, at commit)."""

    STATUS_PAGE = "muster_status"  # what the public status page shows
    PAGES = "muster_pages"  # what signed-in pages show (views.page_cache)
    CREDENTIALS = "muster_credentials"  # who is signed in, and as whom (identity.Authenticator)
    CATALOG = "muster_catalog"  # severities, statuses, types, roles, fields (app.catalog_cache)


MAX_NAMED = 7000  # characters of a NOTIFY payload naming a reach (PostgreSQL allows 8000)


@dataclasses.dataclass(frozen=True)
class Reach:
    """Whom a committed change can concern: ``everyone``, or only those who see some private
    ``incidents`` (their members) and some ``people`` (whose own rows changed: memberships,
    notifications, follows). Copies drawn for anyone else stay as they are, so a change to a
    private incident is not even a reason for anyone outside it to wait."""

    everyone: bool = False
    incidents: frozenset[int] = frozenset()
    people: frozenset[int] = frozenset()

    def __or__(self, other: Reach) -> Reach:
        if self.everyone or other.everyone:
            return EVERYONE
        return Reach(False, self.incidents | other.incidents, self.people | other.people)

    def named(self) -> str:
        """The reach as a NOTIFY payload (empty: everyone, or too long to name)."""
        if self.everyone:
            return ""
        incidents = ",".join(map(str, sorted(self.incidents)))
        people = ",".join(map(str, sorted(self.people)))
        named = f"{incidents};{people}"
        return named if len(named) <= MAX_NAMED else ""

    @classmethod
    def from_named(cls, payload: str) -> Reach:
        """The reach a NOTIFY payload names (empty or unreadable: everyone)."""
        incidents, separator, people = payload.partition(";")
        try:
            if separator:
                return cls(False, _ids(incidents), _ids(people))
        except ValueError:
            pass
        return EVERYONE


def _ids(listed: str) -> frozenset[int]:
    return frozenset(int(part) for part in listed.split(",") if part)


EVERYONE = Reach(everyone=True)


def system_clock() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


class Database:
    """An engine plus the two ways of opening a transaction on it."""

    def __init__(
        self,
        url: str,
        *,
        clock: Callable[[], datetime] = system_clock,
        pool_size: int = 15,
        pool_timeout: float = 30,
    ) -> None:
        self.url = url
        self.now = clock
        self.is_sqlite = url.startswith("sqlite")
        options: dict[str, Any]
        if self.is_sqlite:
            options = {"connect_args": {"timeout": 30}}
        else:
            # Pre-ping notices connections a restarted server has dropped; the timeouts make a
            # dead server fail requests fast instead of hanging them.
            options = {"pool_pre_ping": True, "connect_args": {"timeout": 5, "command_timeout": 30}}
        # At most pool_size connections; a burst queues for one up to pool_timeout seconds, then
        # gets ``PoolBusy`` (the web answers 503 with Retry-After).
        options |= {"pool_size": pool_size, "max_overflow": 0, "pool_timeout": pool_timeout}
        self.engine = create_async_engine(url, **options)
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", _sqlite_connect)
            event.listen(self.engine.sync_engine, "begin", _sqlite_begin)
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False, autoflush=True)
        self._sqlite_writer = asyncio.Lock() if self.is_sqlite else None
        self.on_commit: list[Callable[[], None]] = []  # called after each write commits
        # called after a write that changed people's notifications, with their ids
        self.on_inbox: list[Callable[[set[int] | None], None]] = []
        # called after a write that touched each of these, with whom it can concern
        self.on_touched: dict[Touched, list[Callable[[Reach], None]]] = {
            mark: [] for mark in Touched
        }

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A session for reading; whatever it did is rolled back when it closes."""
        async with self._sessions() as session:
            yield session

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """One write transaction: committed when the block ends, rolled back if it raises.

        On SQLite, writers in this process also queue on a lock of their own: SQLite has one
        writer at a time anyway, and its busy handler waits by sleeping (up to 100 ms a try),
        which would cut throughput several times over.
        """
        if self._sqlite_writer is None:
            async with self._transaction() as session:
                yield session
        else:
            async with self._sqlite_writer, self._transaction() as session:
                yield session
        for callback in self.on_commit:
            callback()
        inboxes: set[int] = session.info.get(_INBOXES, set())
        if inboxes:
            for inbox_callback in self.on_inbox:
                inbox_callback(inboxes)
        touched: dict[Touched, Reach] = session.info.get(_TOUCHED, {})
        for mark, reach in touched.items():
            for touched_callback in self.on_touched[mark]:
                touched_callback(reach)

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[AsyncSession]:
        async with self._sessions() as session, session.begin():
            await session.connection(execution_options={_WRITE: True})
            yield session
            await session.flush()  # what is still pending marks what it touches (NOTIFY below)
            if session.info.get(_EVENTS) and not self.is_sqlite:
                # Wake the other processes' event hubs, at commit (never on rollback).
                await session.execute(
                    text("SELECT pg_notify(:channel, '')"), {"channel": EVENTS_CHANNEL}
                )
            inboxes = session.info.get(_INBOXES)
            if inboxes and not self.is_sqlite:
                # Whose inboxes changed, if that fits in a notice's payload (else: everyone's).
                named = ",".join(str(user_id) for user_id in sorted(inboxes))
                await session.execute(
                    text("SELECT pg_notify(:channel, :named)"),
                    {"channel": INBOX_CHANNEL, "named": named if len(named) < 7000 else ""},
                )
            touched = session.info.get(_TOUCHED, {}) if not self.is_sqlite else {}
            for mark, reach in touched.items():
                await session.execute(
                    text("SELECT pg_notify(:channel, :reach)"),
                    {"channel": mark.value, "reach": reach.named()},
                )

    def sibling(self, *, pool_size: int) -> Database:
        """Another pool of connections to the same database, sharing this one's clock, SQLite
        writer lock and commit callbacks: for background work, which then never takes the
        connections requests wait for (nor they its)."""
        other = Database(self.url, clock=self.now, pool_size=pool_size)
        other._sqlite_writer = self._sqlite_writer
        other.on_commit = self.on_commit
        other.on_inbox = self.on_inbox
        other.on_touched = self.on_touched
        return other

    async def ping(self) -> None:
        """Raise unless the database answers a trivial query."""
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()


async def appending_events(session: AsyncSession) -> None:
    """Prepare a write transaction to append timeline events (once per transaction)."""
    if session.info.get(_EVENTS):
        return
    session.info[_EVENTS] = True
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": EVENTS_LOCK})


def touching_inboxes(session: AsyncSession, user_ids: set[int]) -> None:
    """Mark a write transaction as changing these people's notifications: their live inbox
    feeds are woken when it commits (in this process directly, elsewhere by NOTIFY)."""
    session.info.setdefault(_INBOXES, set()).update(user_ids)


def touching(session: AsyncSession | Session, mark: Touched, reach: Reach = EVERYONE) -> None:
    """Mark a write transaction as changing ``mark`` for those ``reach`` names: the copies kept
    of it for them are dropped when it commits (here directly, elsewhere by NOTIFY)."""
    touched: dict[Touched, Reach] = session.info.setdefault(_TOUCHED, {})
    touched[mark] = touched[mark] | reach if mark in touched else reach


def _sqlite_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    # Take transaction control away from the driver so that _sqlite_begin decides how to begin.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    for pragma in (
        "PRAGMA journal_mode=WAL",
        "PRAGMA busy_timeout=30000",
        "PRAGMA foreign_keys=ON",
        "PRAGMA synchronous=NORMAL",
    ):
        cursor.execute(pragma)
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    immediate = connection.get_execution_options().get(_WRITE, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

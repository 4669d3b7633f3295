"""The event hub: every committed timeline event, delivered to everyone watching, in order.

The timeline table is the outbox. Each process runs one ``EventHub``, which reads new events by
id (``WHERE id > last``) whenever it is woken: after a commit in this process, by PostgreSQL
``NOTIFY`` from other processes and hosts, and at least once a ``poll_interval`` in case a wake-up
was lost. Reading by id is safe because event-writing transactions commit in id order (SQLite
has one writer; on PostgreSQL writers take ``EVENTS_LOCK``, a transaction-level advisory lock,
before appending events).

Each subscriber (a feed, ``app.feeds``) has a bounded queue. The hub checks, for every event and
every subscriber, that the subscriber may see the event's incident *now* (active user; member, if
the incident is private), with at most three queries per batch for the facts (``Audience``), never
one per subscriber. A subscriber whose queue is full is dropped (``FellBehind``) and may resume
from its last cursor; it never slows the others. ``follow`` replays what a subscriber missed since
a cursor, then goes live, with no gap and no duplicate. Every ``CREDENTIAL_CHECK`` seconds the hub
asks the ``Authenticator`` which of its subscribers' credentials still hold (one query per kind)
and ends the feeds of the others (``SignedOut``): a session that signs out anywhere stops streaming
here within seconds. Sessions with a feed open are recorded as in use, so a page left open does not
time out as idle.

A person has at most ``feeds_per_person`` feeds open in this process (``TooManyFeeds`` beyond).
``follow`` counts every feed; a stream that must refuse before it starts (an HTTP response,
before its headers) takes its place first with ``admit`` and hands it to ``follow`` by the same
``admission`` name. Starting feeds is cheap under a burst: feeds starting together share one
read of the newest event, and an admitted feed's credentials were checked by its own request.

The hub also says when a person's notifications change (``inbox``): a write that touched them
wakes it after commit in this process (``Database.on_inbox``) and, from other processes, through
``NOTIFY`` on ``INBOX_CHANNEL`` with the people's ids (none: everyone's, as after the listener
reconnects). An inbox feed takes no events but is counted, checked and ended like the others.
A ``NOTIFY`` on a ``Touched`` mark's channel (another process changed the public status page,
what signed-in pages show, or someone's credentials) runs the database's ``on_touched``
callbacks for it here with the ``Reach`` its payload names, as a local write would (and
reconnecting runs them all for everyone: anything may have changed meanwhile).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import datetime

import asyncpg
from sqlalchemy import func, select

from app import policy
from app.db import EVENTS_CHANNEL, EVERYONE, INBOX_CHANNEL, Database, Reach, Touched
from app.feeds import Audience, SignedOut, Subscriber, TooManyFeeds
from app.identity import Authenticator, Credential, CredentialKind
from app.models import Incident, TimelineEvent, User
from app.services import notifications, sessions
from app.services.notifications import InboxState

log = logging.getLogger("muster.events")

BATCH = 500
STOP_TIMEOUT = 5  # seconds
LISTENER_NAME = "muster-event-listener"  # how the LISTEN connection shows in pg_stat_activity
CREDENTIAL_CHECK = 2.0  # seconds between checks that subscribers' credentials still hold


class EventHub:
    """Reads committed events once per process and fans them out to subscribers."""

    def __init__(
        self,
        db: Database,
        *,
        authenticator: Authenticator | None = None,
        queue_size: int = 1000,
        poll_interval: float = 1.0,
        feeds_per_person: int = 100,
    ) -> None:
        self.db = db
        self.authenticator = authenticator
        self.queue_size = queue_size
        self.poll_interval = poll_interval
        self.position = -1  # the id of the last event delivered (-1: not read yet)
        self.subscribers: set[Subscriber] = set()
        self.feeds_per_person = feeds_per_person
        self.feeds: Counter[int] = Counter()  # open (or admitted) feeds per user id
        self._admitted: dict[str, int] = {}  # admission name → user id, until a feed takes it
        self._newest_read: asyncio.Future[int] | None = None  # joined by feeds starting now
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._closed = False
        self._inboxes: dict[int, set[Subscriber]] = defaultdict(set)  # user id → inbox feeds
        self.on_wake: list[Callable[[], None]] = []  # told of every wake-up (the worker)
        self._stale_inboxes: set[int] = set()  # people whose inboxes must be read again
        self._inbox_reader: asyncio.Future[None] | None = None

    async def start(self) -> None:
        """Start reading (the database may still be down: reading retries until it answers)."""
        self.db.on_commit.append(self.wake)
        self.db.on_inbox.append(self.inboxes_changed)
        self._tasks.append(asyncio.create_task(self._read_forever(), name="event-hub"))
        if self.authenticator is not None:
            self._tasks.append(
                asyncio.create_task(self._check_credentials_forever(), name="event-credentials")
            )
        if not self.db.is_sqlite:
            self._tasks.append(asyncio.create_task(self._listen_forever(), name="event-listen"))

    async def stop(self) -> None:
        self._closed = True
        with contextlib.suppress(ValueError):
            self.db.on_commit.remove(self.wake)
        with contextlib.suppress(ValueError):
            self.db.on_inbox.remove(self.inboxes_changed)
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            # A read cancelled mid-query can take its time to clean up; shutdown does not wait
            # for it beyond STOP_TIMEOUT.
            await asyncio.wait(self._tasks, timeout=STOP_TIMEOUT)
        for subscriber in list(self.subscribers):
            subscriber.end()

    def wake(self) -> None:
        self._wake.set()
        for callback in self.on_wake:
            callback()

    def _touched(self, mark: Touched, reach: Reach) -> None:
        for callback in self.db.on_touched[mark]:
            callback(reach)

    def inboxes_changed(self, user_ids: set[int] | None) -> None:
        """Read again the inboxes of ``user_ids`` (None: of everyone) that have feeds here, all
        woken together in one read, and wake their feeds with what it found."""
        self._stale_inboxes |= self._inboxes.keys() if user_ids is None else user_ids
        if self._inbox_reader is None or self._inbox_reader.done():
            self._inbox_reader = asyncio.ensure_future(self._read_inboxes())

    async def _read_inboxes(self) -> None:
        while self._stale_inboxes and not self._closed:
            stale, self._stale_inboxes = self._stale_inboxes & self._inboxes.keys(), set()
            try:
                async with self.db.read() as session:
                    states = await notifications.inbox_states(session, stale)
            except Exception:  # the database may be down: try these again shortly
                log.exception("reading live inboxes failed; retrying")
                self._stale_inboxes |= stale
                await asyncio.sleep(self.poll_interval)
                continue
            for user_id, state in states.items():
                for subscriber in self._inboxes.get(user_id, ()):
                    subscriber.inbox = state
                    subscriber.changed.set()

    async def inbox(
        self,
        user: User,
        *,
        credential: Credential | None = None,
        admission: str | None = None,
    ) -> AsyncIterator[InboxState]:
        """``user``'s unread count and newest notification, at once and whenever they may have
        changed, for as long as ``credential`` holds (``SignedOut`` then), counted among their
        feeds like ``follow``."""
        admitted = self._take_place(user, admission)
        subscriber = Subscriber(user, credential, None, 1, takes_events=False)
        self.subscribers.add(subscriber)
        self._inboxes[user.id].add(subscriber)
        try:
            if credential is not None and not admitted and not await self._holds(credential):
                raise SignedOut("Your session has ended; sign in again.")
            subscriber.started = True
            self.inboxes_changed({user.id})
            while not self._closed:
                ended = asyncio.ensure_future(subscriber.queue.get())
                changed = asyncio.ensure_future(subscriber.changed.wait())
                try:
                    await asyncio.wait({ended, changed}, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    ended.cancel()
                    changed.cancel()
                if subscriber.ended is not None:
                    raise subscriber.ended
                if ended.done() and not ended.cancelled():
                    return  # the hub is stopping
                subscriber.changed.clear()
                if subscriber.inbox is not None:
                    yield subscriber.inbox
        finally:
            self.subscribers.discard(subscriber)
            self._inboxes[user.id].discard(subscriber)
            if not self._inboxes[user.id]:
                del self._inboxes[user.id]
            self._free(user.id)

    def admit(self, user: User, admission: str) -> None:
        """Take a place for a feed of ``user`` before it starts (raises ``TooManyFeeds``);
        ``follow(admission=...)`` takes it over, ``release`` gives it back if none did."""
        self._claim(user.id)
        self._admitted[admission] = user.id

    def release(self, admission: str) -> None:
        """Give back an admission no feed took over (nothing, if one did)."""
        user_id = self._admitted.pop(admission, None)
        if user_id is not None:
            self._free(user_id)

    def _take_place(self, user: User, admission: str | None) -> bool:
        """Take the place ``admission`` holds for ``user``'s feed (True), else a new one."""
        if admission is not None and self._admitted.get(admission) == user.id:
            del self._admitted[admission]
            return True
        self._claim(user.id)
        return False

    def _claim(self, user_id: int) -> None:
        if self.feeds[user_id] >= self.feeds_per_person:
            raise TooManyFeeds(
                f"You have {self.feeds_per_person} live feeds open, as many as you may; "
                "close one (another tab or client) and try again."
            )
        self.feeds[user_id] += 1

    def _free(self, user_id: int) -> None:
        self.feeds[user_id] -= 1
        if self.feeds[user_id] <= 0:
            del self.feeds[user_id]

    async def follow(
        self,
        user: User,
        *,
        credential: Credential | None = None,
        incident_id: int | None = None,
        after: int | None = None,
        admission: str | None = None,
    ) -> AsyncIterator[TimelineEvent]:
        """Events ``user`` may see (of one incident, or all), from after ``after`` or from now,
        for as long as ``credential`` holds.

        Raises ``TooManyFeeds`` (before anything else) if the person has as many feeds open as
        they may, unless ``admission`` names a place ``admit`` took for them;
        ``FellBehind`` if the subscriber could not keep up, ``SignedOut`` when the credential
        stops holding.
        """
        admitted = self._take_place(user, admission)
        subscriber = Subscriber(user, credential, incident_id, self.queue_size)
        self.subscribers.add(subscriber)
        try:
            # An admitted feed's request has just checked its credentials.
            if credential is not None and not admitted and not await self._holds(credential):
                raise SignedOut("Your session has ended; sign in again.")
            # "From now" means after the newest committed event, which this hub may not have
            # read yet if another process wrote it; anything newer reaches this subscriber
            # through its queue (it is subscribed already).
            if after is None:
                last = await self._now()
            else:
                last = after
            subscriber.started = True
            if after is not None:
                for event in await self._missed(user, incident_id, after):
                    last = event.id
                    yield event
            while not self._closed:
                live = await subscriber.queue.get()
                if live is None:
                    if subscriber.ended is not None:
                        raise subscriber.ended
                    return
                if live.id > last:
                    last = live.id
                    yield live
        finally:
            self.subscribers.discard(subscriber)
            self._free(user.id)

    async def _now(self) -> int:
        """The newest committed event's id, read after this call began. Feeds starting together
        (a burst waiting for database connections) share one read."""
        if self._newest_read is None:
            self._newest_read = asyncio.ensure_future(self._read_newest())
        try:
            return await asyncio.shield(self._newest_read)
        except Exception:
            if self.position < 0:
                raise
            # The database is too busy to answer in time (a burst): start from what this hub
            # has read. Anything newer still arrives through the queue, so nothing is skipped;
            # at most a few events committed just before the feed started arrive too.
            log.warning("reading the newest event failed; starting a feed from the hub's position")
            return self.position

    async def _read_newest(self) -> int:
        this = asyncio.current_task()
        try:
            async with self.db.read() as session:
                await session.connection()
                # Connected: whoever asks from now on needs a read that starts after them.
                if self._newest_read is this:
                    self._newest_read = None
                return int(await session.scalar(select(func.max(TimelineEvent.id))) or 0)
        finally:
            if self._newest_read is this:
                self._newest_read = None

    async def _holds(self, credential: Credential) -> bool:
        if self.authenticator is None:
            return True
        async with self.db.read() as session:
            return bool(await self.authenticator.live(session, [credential]))

    async def _check_credentials_forever(self) -> None:
        touched = self.db.now()
        while True:
            await asyncio.sleep(CREDENTIAL_CHECK)
            try:
                touched = await self._check_credentials(touched)
            except asyncio.CancelledError:
                raise
            except Exception:  # the database may be down; the next round retries
                log.exception("checking live feeds' credentials failed; retrying")

    async def _check_credentials(self, touched: datetime) -> datetime:
        """End the feeds whose credentials no longer hold; returns when sessions were touched."""
        assert self.authenticator is not None
        watched = [s for s in self.subscribers if s.credential is not None]
        if not watched:
            return touched
        credentials = {s.credential for s in watched if s.credential is not None}
        async with self.db.read() as session:
            live = await self.authenticator.live(session, credentials)
        for subscriber in watched:
            if subscriber.credential not in live:
                subscriber.end(SignedOut("Your session has ended; sign in again."))
        if self.db.now() - touched < sessions.LAST_SEEN_PRECISION:
            return touched
        await sessions.touch(self.db, {c.id for c in live if c.kind is CredentialKind.SESSION})
        return self.db.now()

    async def newest_committed(self) -> int:
        """The newest committed event's id (0: none yet); ``position`` is the newest delivered."""
        async with self.db.read() as session:
            return int(await session.scalar(select(func.max(TimelineEvent.id))) or 0)

    async def _missed(
        self, user: User, incident_id: int | None, after: int
    ) -> Sequence[TimelineEvent]:
        query = (
            select(TimelineEvent)
            .join(Incident, Incident.id == TimelineEvent.incident_id)
            .where(TimelineEvent.id > after, policy.visible_incidents(user))
            .order_by(TimelineEvent.id)
        )
        if incident_id is not None:
            query = query.where(TimelineEvent.incident_id == incident_id)
        async with self.db.read() as session:
            return (await session.scalars(query)).all()

    async def _read_forever(self) -> None:
        while self.position < 0:
            try:
                self.position = await self.newest_committed()
            except Exception as error:  # the database is not answering yet
                log.warning("cannot read the newest event yet (%s); retrying", error)
                await asyncio.sleep(self.poll_interval)
        while True:
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for drops a cancel that comes
            # with a wake-up, and the hub would read on until stop gave up on it.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.poll_interval):
                    await self._wake.wait()
            self._wake.clear()
            try:
                while await self._deliver_batch():
                    pass
            except asyncio.CancelledError:
                raise
            except Exception:  # the database may be down; the next wake or poll retries
                log.exception("reading new events failed; retrying")
                await asyncio.sleep(self.poll_interval)

    async def _deliver_batch(self) -> bool:
        """Deliver the next events after ``position``; whether there may be more."""
        async with self.db.read() as session:
            events = (
                await session.scalars(
                    select(TimelineEvent)
                    .where(TimelineEvent.id > self.position)
                    .order_by(TimelineEvent.id)
                    .limit(BATCH)
                )
            ).all()
            if not events:
                return False
            subscribers = list(self.subscribers)
            if subscribers:
                audience = await Audience.load(session, events, subscribers)
                for event in events:
                    for subscriber in subscribers:
                        if audience.sees(subscriber, event):
                            subscriber.offer(event)
        self.position = events[-1].id
        return len(events) == BATCH

    async def _listen_forever(self) -> None:
        """Turn PostgreSQL NOTIFY into wake-ups; reconnect (and catch up) when the link drops."""
        while True:
            try:
                await self._listen()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log.warning("event listener lost its connection (%s); reconnecting", error)
            await asyncio.sleep(self.poll_interval)

    async def _listen(self) -> None:
        dsn = self.db.url.replace("postgresql+asyncpg://", "postgresql://")
        connection = await asyncpg.connect(
            dsn, timeout=5, server_settings={"application_name": LISTENER_NAME}
        )
        try:
            lost = asyncio.Event()
            connection.add_termination_listener(lambda _: lost.set())
            await connection.add_listener(EVENTS_CHANNEL, lambda *_: self.wake())
            await connection.add_listener(
                INBOX_CHANNEL, lambda *args: self.inboxes_changed(_user_ids(args[-1]))
            )
            # Another process changed what a mark names: as if it had been written here.
            for mark in Touched:
                await connection.add_listener(
                    mark.value, lambda *args, m=mark: self._touched(m, Reach.from_named(args[-1]))
                )
            self.wake()  # catch up on anything committed while we were not listening
            self.inboxes_changed(None)
            for mark in Touched:
                self._touched(mark, EVERYONE)
            while not lost.is_set():
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(5):  # not wait_for (see _read_forever)
                        await lost.wait()
                if not lost.is_set():
                    await connection.execute("SELECT 1", timeout=5)  # notice a dead link
        finally:
            if not connection.is_closed():
                connection.terminate()


def _user_ids(payload: str) -> set[int] | None:
    """The people an ``INBOX_CHANNEL`` notice names (empty or unreadable: everyone)."""
    try:
        return {int(part) for part in payload.split(",")} if payload else None
    except ValueError:
        return None

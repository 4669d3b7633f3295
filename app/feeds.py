"""A live feed and who may see what it carries. A ``Subscriber`` is one feed: a person, the
credentials it was opened with, an optional incident, and a bounded queue the ``EventHub``
(``app.events``) offers events to; a subscriber whose queue is full is ended with
``FellBehind`` (it may resume from its last cursor), one whose credentials stop holding with
``SignedOut``, and a person who already has as many feeds open as they may is refused with
``TooManyFeeds``. ``Audience`` decides, for a batch of events and every subscriber, who may see
each event's incident *now* (active user; member, if the incident is private), from at most three
queries per batch, never one per subscriber."""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import ErrorCode, MusterError
from app.identity import Credential
from app.models import Incident, Member, TimelineEvent, User
from app.services.notifications import InboxState


class FellBehind(MusterError):
    """A subscriber did not keep up and was disconnected; it may resume from its last cursor."""

    code = ErrorCode.FELL_BEHIND


class SignedOut(MusterError):
    """The credentials a feed was opened with no longer hold (signed out, revoked, expired)."""

    code = ErrorCode.UNAUTHENTICATED


class TooManyFeeds(MusterError):
    """The person already has as many live feeds open as they may."""

    code = ErrorCode.TOO_MANY_FEEDS


class Subscriber:
    """One live feed: a user, their credentials, an optional incident, and a bounded queue."""

    def __init__(
        self,
        user: User,
        credential: Credential | None,
        incident_id: int | None,
        size: int,
        *,
        takes_events: bool = True,
    ) -> None:
        self.user = user
        self.credential = credential
        self.incident_id = incident_id
        self.takes_events = takes_events  # False: an inbox feed, woken by ``changed`` instead
        self.changed = asyncio.Event()
        self.inbox: InboxState | None = None  # an inbox feed's latest state, read by the hub
        self.queue: asyncio.Queue[TimelineEvent | None] = asyncio.Queue(size + 1)
        self.size = size
        self.ended: MusterError | None = None  # why the feed was ended, if it was
        self.started = False  # its starting position is known: every later event reaches it

    def offer(self, event: TimelineEvent) -> None:
        if self.ended is not None:
            return
        if self.queue.qsize() >= self.size:
            self.end(
                FellBehind("You fell behind and were disconnected; resume from your last cursor.")
            )
            return
        self.queue.put_nowait(event)

    def end(self, reason: MusterError | None = None) -> None:
        """Stop the feed: quietly (shutdown), or with ``reason`` raised to the subscriber."""
        if self.ended is None:
            self.ended = reason
        with contextlib.suppress(asyncio.QueueFull):
            self.queue.put_nowait(None)  # the one slot kept free for the goodbye


class Audience:
    """What the hub must know to decide who may see a batch of events, in at most three
    queries (the members only when a private incident is in the batch)."""

    def __init__(self, active: set[int], private: set[int], members: dict[int, set[int]]) -> None:
        self.active = active
        self.private = private
        self.members = members

    @classmethod
    async def load(
        cls, session: AsyncSession, events: Sequence[TimelineEvent], subscribers: list[Subscriber]
    ) -> Audience:
        incident_ids = {event.incident_id for event in events}
        user_ids = {subscriber.user.id for subscriber in subscribers}
        active = set(
            await session.scalars(
                select(User.id).where(User.id.in_(user_ids), User.active.is_(True))
            )
        )
        private = set(
            await session.scalars(
                select(Incident.id).where(Incident.id.in_(incident_ids), Incident.private.is_(True))
            )
        )
        members: dict[int, set[int]] = defaultdict(set)
        if private:
            rows = await session.execute(
                select(Member.incident_id, Member.user_id).where(Member.incident_id.in_(private))
            )
            for incident_id, user_id in rows:
                members[incident_id].add(user_id)
        return cls(active, private, members)

    def sees(self, subscriber: Subscriber, event: TimelineEvent) -> bool:
        if not subscriber.takes_events:
            return False
        if subscriber.incident_id is not None and subscriber.incident_id != event.incident_id:
            return False
        if subscriber.user.id not in self.active:
            return False
        return (
            event.incident_id not in self.private
            or subscriber.user.id in self.members[event.incident_id]
        )

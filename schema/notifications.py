"""The GraphQL side of notifications: a person's inbox (``viewer { notifications
unreadNotificationCount notificationPreferences }``, fields of ``User`` answered only for the
viewer), ``markNotificationsRead``, ``updateNotificationPreferences``, and the ``notifications``
subscription, which says the unread count (and the newest notification) whenever it changes.

Everything here depends on the viewer: the fields are marked ``per_viewer``, so no live execution
is ever shared between two people. A notification about an incident the viewer may no longer see
is neither listed nor counted (``app.services.notifications.visible``).
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncGenerator
from datetime import datetime
from typing import Any

import strawberry
from graphql import GraphQLError

from app.errors import Invalid
from app.models import NotificationKind, User
from app.services import notifications
from schema import ids
from schema.context import Info
from schema.errors import UserError
from schema.pagination import PageInfo, page_size
from schema.payloads import mutation
from schema.types import Incident
from schema.viewers import per_viewer

_CURSOR = "cursor:notifications"
_FEEDS = itertools.count()  # numbers each notifications subscription (its results' live key)


@strawberry.type(description="One message to you about one thing that happened.")
class Notification:
    row: strawberry.Private[Any]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return ids.encode("Notification", self.row.id)

    @strawberry.field
    def kind(self) -> NotificationKind:
        kind: NotificationKind = self.row.kind
        return kind

    @strawberry.field
    def title(self) -> str:
        return str(self.row.title)

    @strawberry.field
    def body(self) -> str:
        return str(self.row.body)

    @strawberry.field
    def created_at(self) -> datetime:
        created: datetime = self.row.created_at
        return created

    @strawberry.field(description="When you marked it read; null while unread.")
    def read_at(self) -> datetime | None:
        read: datetime | None = self.row.read_at
        return read

    @per_viewer(description="The incident it is about, if any.")
    async def incident(self, info: Info) -> Incident | None:
        if self.row.incident_id is None:
            return None
        row = await info.context.loaders.incident.load(self.row.incident_id)
        return None if row is None else Incident(row=row)


@strawberry.type
class NotificationEdge:
    cursor: str
    node: Notification


@strawberry.type
class NotificationConnection:
    edges: list[NotificationEdge]
    page_info: PageInfo


@strawberry.type(description="Whether one kind of notification reaches you by email too.")
class NotificationPreference:
    kind: NotificationKind
    email: bool


def _before(after: str | None) -> int | None:
    if after is None:
        return None
    opened = ids.sealer().open(_CURSOR, after, 1)
    if opened is None:
        raise GraphQLError("That cursor is not one this server gave out.")
    return opened[0]


async def inbox(
    info: Info, viewer: User, *, first: int, after: str | None, unread_only: bool
) -> NotificationConnection:
    """``viewer.notifications``: a page of the viewer's inbox, newest first."""
    size = page_size(first)
    async with info.context.reading() as session:
        rows = await notifications.list_notifications(
            session, viewer, first=size, before_id=_before(after), unread_only=unread_only
        )
    shown = rows[:size]
    edges = [
        NotificationEdge(cursor=ids.sealer().seal(_CURSOR, (row.id,)), node=Notification(row=row))
        for row in shown
    ]
    return NotificationConnection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=len(rows) > size, end_cursor=edges[-1].cursor if edges else None
        ),
    )


async def unread(info: Info, viewer: User) -> int:
    """``viewer.unreadNotificationCount``."""
    async with info.context.reading() as session:
        return await notifications.unread_count(session, viewer)


async def preferences(info: Info, viewer: User) -> list[NotificationPreference]:
    """``viewer.notificationPreferences``."""
    async with info.context.reading() as session:
        chosen = await notifications.preferences(session, viewer)
    return [NotificationPreference(kind=c.kind, email=c.email) for c in chosen]


@strawberry.input
class MarkNotificationsReadInput:
    ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="The notifications to mark read (at most 100)."
    )
    all: bool = strawberry.field(default=False, description="Mark every notification read.")


@strawberry.type
class MarkNotificationsReadPayload:
    marked: int = 0
    unread_notification_count: int | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class NotificationPreferenceInput:
    kind: NotificationKind
    email: bool


@strawberry.input
class UpdateNotificationPreferencesInput:
    preferences: list[NotificationPreferenceInput]


@strawberry.type
class NotificationPreferencesPayload:
    preferences: list[NotificationPreference] | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class NotificationMutations:
    @mutation(MarkNotificationsReadPayload, description="Mark your notifications read.")
    async def mark_notifications_read(
        info: Info, input: MarkNotificationsReadInput, actor: User
    ) -> MarkNotificationsReadPayload:
        wanted = input.ids or []
        if len(wanted) > notifications.MARK_LIMIT:
            raise Invalid(
                f"Mark at most {notifications.MARK_LIMIT} notifications at once.", field="ids"
            )
        # Someone else's or an unknown id is ignored, as if it did not exist.
        opened = (ids.sealer().open("Notification", value, 1) for value in wanted)
        marked_ids = [found[0] for found in opened if found is not None]
        if wanted and not marked_ids and not input.all:
            return MarkNotificationsReadPayload(unread_notification_count=await _count(info, actor))
        marked = await notifications.mark_read(
            info.context.db, actor=actor, ids=marked_ids, everything=input.all
        )
        return MarkNotificationsReadPayload(
            marked=marked, unread_notification_count=await _count(info, actor)
        )

    @mutation(
        NotificationPreferencesPayload,
        description="Choose, per kind, whether notifications reach you by email too.",
    )
    async def update_notification_preferences(
        info: Info, input: UpdateNotificationPreferencesInput, actor: User
    ) -> NotificationPreferencesPayload:
        chosen = await notifications.update_preferences(
            info.context.db,
            actor=actor,
            choices=[notifications.Preference(p.kind, p.email) for p in input.preferences],
        )
        return NotificationPreferencesPayload(
            preferences=[NotificationPreference(kind=c.kind, email=c.email) for c in chosen]
        )


async def _count(info: Info, viewer: User) -> int:
    async with info.context.db.read() as session:
        return await notifications.unread_count(session, viewer)


@strawberry.type(description="Your inbox changed: its unread count, and what just arrived.")
class InboxChange:
    feed: strawberry.Private[int]  # which subscription: no two share a result, even at serial 1
    serial: strawberry.Private[int]
    unread_notification_count: int
    notification: Notification | None = strawberry.field(
        description="The newest notification, if it arrived with this change."
    )

    def live_key(self, viewer: User) -> tuple[Any, ...]:
        """A change of one person's inbox: its result is never shared with anyone else."""
        return ("inbox", viewer.id, self.feed, self.serial)

    def live_extensions(self) -> dict[str, Any]:
        return {}


@strawberry.type
class NotificationSubscriptions:
    @strawberry.subscription(
        description="Your unread notification count, at once and whenever it changes, with "
        "each new notification as it arrives."
    )
    async def notifications(self, info: Info) -> AsyncGenerator[InboxChange, None]:
        context = info.context
        if context.hub is None:
            raise GraphQLError("Live feeds are not available here.")
        feed = next(_FEEDS)
        newest = 0
        serial = 0
        said: int | None = None  # the count last sent: a wake-up that changed nothing says nothing
        changes = context.hub.inbox(
            context.viewer, credential=context.credential, admission=context.request_id
        )
        async for state in changes:
            arrived = state.newest if state.newest and state.newest.id > newest and serial else None
            if state.newest is not None:
                newest = max(newest, state.newest.id)
            if state.unread == said and arrived is None:
                continue
            said = state.unread
            serial += 1
            yield InboxChange(
                feed=feed,
                serial=serial,
                unread_notification_count=state.unread,
                notification=None if arrived is None else Notification(row=arrived),
            )

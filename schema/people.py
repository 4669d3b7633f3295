"""The GraphQL types of people and their credentials: ``User`` (with what pickers need to know,
``canHoldRole``) and ``ApiToken`` (never its secret), each built from its model with
``from_model``.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from graphql import GraphQLError

from app import models, policy
from app.models import OrgRole, TokenScope
from schema import ids
from schema.context import Info
from schema.viewers import per_viewer

if TYPE_CHECKING:
    from schema.notifications import NotificationConnection, NotificationPreference


@strawberry.type
class User:
    key: strawberry.Private[models.User]
    id: strawberry.ID
    email: str
    name: str
    role: OrgRole
    can_hold_role: bool = strawberry.field(
        description="Whether this person may hold an incident role or own work (everyone but "
        "viewers): who people pickers offer."
    )

    @classmethod
    def from_model(cls, row: models.User) -> User:
        return cls(
            key=row,
            id=ids.encode("User", row.id),
            email=row.email,
            name=row.name,
            role=row.role,
            can_hold_role=policy.can_hold_role(row),
        )

    def _mine(self, info: Info) -> models.User:
        """This person, if they are the viewer: nobody reads another person's inbox."""
        if self.key.id != info.context.viewer.id:
            raise GraphQLError("Only your own notifications can be read (ask on `viewer`).")
        return self.key

    @per_viewer(description="Your notifications, newest first (yours only: ask on `viewer`).")
    async def notifications(
        self, info: Info, first: int = 20, after: str | None = None, unread_only: bool = False
    ) -> Annotated[NotificationConnection, strawberry.lazy("schema.notifications")]:
        from schema import notifications

        return await notifications.inbox(
            info, self._mine(info), first=first, after=after, unread_only=unread_only
        )

    @per_viewer(description="How many of your notifications are unread (yours only).")
    async def unread_notification_count(self, info: Info) -> int:
        from schema import notifications

        return await notifications.unread(info, self._mine(info))

    @per_viewer(description="Whether each kind of notification reaches you by email (yours only).")
    async def notification_preferences(
        self, info: Info
    ) -> list[Annotated[NotificationPreference, strawberry.lazy("schema.notifications")]]:
        from schema import notifications

        return await notifications.preferences(info, self._mine(info))


@strawberry.type
class ApiToken:
    id: strawberry.ID
    name: str
    prefix: str = strawberry.field(
        description="The first characters of the secret, to tell tokens apart."
    )
    scope: TokenScope
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def from_model(cls, row: models.ApiToken) -> ApiToken:
        return cls(
            id=ids.encode("ApiToken", row.id),
            name=row.name,
            prefix=row.prefix,
            scope=row.scope,
            created_at=row.created_at,
            last_used_at=row.last_used_at,
            revoked_at=row.revoked_at,
        )

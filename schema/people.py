"""The GraphQL types of people and their credentials: ``User`` (with what pickers need to know,
``canHoldRole``) and ``ApiToken`` (never its secret), each built from its model with
``from_model``.
"""

from __future__ import annotations

from datetime import datetime

import strawberry

from app import models, policy
from app.models import OrgRole, TokenScope
from schema import ids


@strawberry.type
class User:
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
            id=ids.encode("User", row.id),
            email=row.email,
            name=row.name,
            role=row.role,
            can_hold_role=policy.can_hold_role(row),
        )


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

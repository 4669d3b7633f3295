"""Who is making a request: turning credentials into a user and what they may do.

For now the credentials are personal API tokens sent as ``Authorization: Bearer <token>``. The
answer is the same ``None`` for a missing, malformed, unknown, revoked or deactivated token, so
a caller learns nothing about which it was.
"""

from __future__ import annotations

import dataclasses

from app.db import Database
from app.models import TokenScope, User
from app.services import tokens


@dataclasses.dataclass(frozen=True)
class Principal:
    """A signed-in user and what their credentials allow."""

    user: User
    scope: TokenScope


async def from_authorization(db: Database, header: str | None) -> Principal | None:
    """The principal an ``Authorization`` header names, or None."""
    scheme, _, credentials = (header or "").strip().partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        return None
    found = await tokens.authenticate(db, credentials.strip())
    if found is None:
        return None
    user, token = found
    return Principal(user=user, scope=token.scope)

"""The request context every resolver gets: who is asking, with what rights, and the loaders.

One ``Context`` is made per HTTP request (or per in-process page render) by the web layer. It
holds no database session: each loader batch and each mutation opens its own short transaction,
so resolvers that run concurrently never share one.
"""

from __future__ import annotations

import dataclasses
import uuid

import strawberry

from app.db import Database
from app.errors import Forbidden
from app.models import TokenScope, User
from schema.loaders import Loaders


@dataclasses.dataclass
class Context:
    """Who is asking (``viewer``), what their credentials allow (``scope``), and the loaders."""

    db: Database
    viewer: User
    scope: TokenScope = TokenScope.READ_WRITE
    request_id: str = dataclasses.field(default_factory=lambda: uuid.uuid4().hex[:16])
    loaders: Loaders = dataclasses.field(init=False)

    def __post_init__(self) -> None:
        self.loaders = Loaders(self.db, self.viewer)

    def writer(self) -> User:
        """The viewer, if their credentials may change things."""
        if self.scope is not TokenScope.READ_WRITE:
            raise Forbidden(
                "This API token can only read; use a read-write token to change things."
            )
        return self.viewer


Info = strawberry.Info[Context, None]

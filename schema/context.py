"""The request context every resolver gets: who is asking, with what rights, the loaders, and
the request's one read transaction.

One ``Context`` is made per HTTP request (or per in-process page render) by the web layer. Reads
share one session (``Context.reading``), taken by one resolver at a time, so a request reads one
consistent snapshot and pays for one transaction, not one per loader batch. A mutation ends that
transaction and drops the loaders' caches, so what it returns is read after its own commit.
Whoever makes a ``Context`` closes it (``await context.close()``) when the operation is done.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager

import strawberry
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from app import catalog_cache, logs
from app.db import Database
from app.errors import Forbidden
from app.events import EventHub
from app.identity import Credential, Principal
from app.models import OrgRole, TokenScope, User
from schema.loaders import Loaders

log = logging.getLogger("muster.graphql")


class Reads:
    """One read session for a request, opened on first use, lent to one resolver at a time.

    Never await a loader while holding the session: the loader waits for it too.
    """

    def __init__(self, db: Database) -> None:
        self.db = db
        self._lock = asyncio.Lock()
        self._open: AsyncExitStack | None = None
        self._session: AsyncSession | None = None
        self._stale = False

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        async with self._lock:
            if self._session is None:
                self._open = AsyncExitStack()
                self._session = await self._open.enter_async_context(self.db.read())
            elif self._stale:
                await self._session.commit()  # ends the snapshot (keeping loaded rows usable)
            self._stale = False
            yield self._session

    def invalidate(self) -> None:
        """Something was written: later reads must not see the snapshot taken before."""
        self._stale = True

    async def close(self) -> None:
        """End the session. A read stopped mid-statement (its client left, or it ran past the
        time limit) may find that the driver has already closed its connection: a read has
        nothing to roll back, so that is no error."""
        if self._open is not None:
            try:
                await self._open.aclose()
            except DBAPIError as error:
                log.info("a stopped read found its connection closed (%s)", error.orig)
        self._open = self._session = None


@dataclasses.dataclass
class Context:
    """Who is asking (``viewer``), what their credentials allow (``scope``), and the loaders.

    ``credential`` is what the viewer signed in with; live feeds end when it stops holding.
    """

    db: Database
    viewer: User
    scope: TokenScope = TokenScope.READ_WRITE
    hub: EventHub | None = None
    credential: Credential | None = None
    connection_params: dict[str, object] | None = None  # a socket's connection_init payload
    # A query only reads: the web layer may stop it when its client leaves (schema.limits).
    interruptible: bool = False
    # The request being served (its log lines name it too), or a new id outside any request.
    request_id: str = dataclasses.field(default_factory=logs.request_id)
    _reads: Reads | None = dataclasses.field(init=False, default=None)
    _loaders: Loaders | None = dataclasses.field(init=False, default=None)

    @property
    def reads(self) -> Reads:
        """This request's read session, made on first use (a socket's context never needs it)."""
        if self._reads is None:
            self._reads = Reads(self.db)
        return self._reads

    @property
    def loaders(self) -> Loaders:
        """This request's loaders, made on first use (a socket's context never needs them)."""
        if self._loaders is None:
            self._loaders = Loaders(self.reads.session, self.viewer, catalog_cache.kept(self.db))
        return self._loaders

    def reading(self) -> AbstractAsyncContextManager[AsyncSession]:
        """``async with context.reading() as session``: the request's read session."""
        return self.reads.session()

    @classmethod
    def of(cls, db: Database, principal: Principal, hub: EventHub | None = None) -> Context:
        """A context acting for ``principal``."""
        return cls(
            db=db,
            viewer=principal.user,
            scope=principal.scope,
            hub=hub,
            credential=principal.credential,
        )

    def become(self, principal: Principal) -> None:
        """A socket has said who it is: from now on, act for them."""
        self.viewer, self.scope = principal.user, principal.scope
        self.credential = principal.credential
        self._loaders = None

    async def close(self) -> None:
        if self._reads is not None:
            await self._reads.close()

    def writer(self) -> User:
        """The viewer, if their credentials may change things; reads after this see the change."""
        if self.scope is not TokenScope.READ_WRITE:
            raise Forbidden(
                "This API token can only read; use a read-write token to change things."
            )
        if self._reads is not None:
            self._reads.invalidate()
        self._loaders = None
        return self.viewer


def nobody() -> User:
    """A user who may see nothing: the viewer of a socket that has not yet said who it is."""
    return User(id=0, email="", name="", role=OrgRole.VIEWER, active=False)


Info = strawberry.Info[Context, None]

"""Who is making a request: turning credentials into a user and what they may do, and telling
whether those credentials still hold.

Three kinds of credentials name a user: a browser session (the cookie's secret), a personal API
token (``Authorization: Bearer mst_…``) and an access token (a JWT) from the configured identity
provider (``Authorization: Bearer <JWT>``), accepted for people who have signed in to Muster
before (access tokens only, never ID tokens: ``Provider.verify_access_token``). The answer is the
same ``None`` for anything missing, malformed, unknown, expired, revoked or belonging to a
deactivated user, so a caller learns nothing about which it was. Access tokens hold until their
``exp`` plus ``oidc.LEEWAY`` by the database's clock, for a request and a live feed alike.
``Authenticator.live`` says which of many credentials still hold, in one query per kind: the
event hub asks it every few seconds to end the live feeds of sessions that signed out.

Every request presents its credentials, and in an incident everyone's browser asks at once, so
the authenticator remembers what sessions and API tokens named (at most ``REMEMBERED``, the
least recently used forgotten first) and answers again from memory, checking a remembered
session's timeouts each time. It forgets them all when a write touches credentials
(``Touched.CREDENTIALS``: a person changed, a session ended, a token revoked), here at commit or
from another process by NOTIFY (``forget``, wired by the app factory), and anything remembered
longer than ``REMEMBER_FOR`` seconds is read again, for writes no process hears of (another
process writing the same SQLite file). An answer read while a forgetting happened is not kept.
"""

from __future__ import annotations

import dataclasses
import enum
import time
from collections import OrderedDict
from collections.abc import Collection
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import Database
from app.models import ApiToken, BrowserSession, TokenScope, User
from app.oidc import LEEWAY, Provider
from app.services import sessions, tokens


class CredentialKind(enum.Enum):
    SESSION = enum.auto()
    API_TOKEN = enum.auto()
    ACCESS_TOKEN = enum.auto()


@dataclasses.dataclass(frozen=True)
class Credential:
    """What a principal signed in with: a session or API token by id, or an access token
    whose ``exp`` is ``expires_at`` (it holds ``LEEWAY`` longer)."""

    kind: CredentialKind
    id: int
    expires_at: datetime | None = None


@dataclasses.dataclass(frozen=True)
class Principal:
    """A signed-in user, what their credentials allow, and which credentials those are."""

    user: User
    scope: TokenScope
    credential: Credential


REMEMBERED = 10_000  # sessions and API tokens remembered per process
REMEMBER_FOR = 15.0  # seconds: longer, a credential is read again


@dataclasses.dataclass
class _Known:
    """What a credential named when it was read: its user and its row."""

    user: User
    row: BrowserSession | ApiToken
    generation: int  # the authenticator's generation it was read in
    read_at: float  # time.monotonic()


class Authenticator:
    """Checks credentials against the database (and the identity provider's keys, if any),
    remembering what sessions and API tokens name."""

    def __init__(
        self, db: Database, timeouts: sessions.Timeouts, provider: Provider | None = None
    ) -> None:
        self.db = db
        self.timeouts = timeouts
        self.provider = provider
        self._known: OrderedDict[str, _Known] = OrderedDict()
        self._generation = 0  # moved on by ``forget``

    def forget(self) -> None:
        """Forget every credential remembered: one may have ended or changed hands."""
        self._generation += 1
        self._known.clear()

    def _recall(self, key: str) -> _Known | None:
        known = self._known.get(key)
        if known is None:
            return None
        if known.generation != self._generation or time.monotonic() - known.read_at > REMEMBER_FOR:
            del self._known[key]
            return None
        self._known.move_to_end(key)
        return known

    def _remember(
        self, key: str, generation: int, user: User, row: BrowserSession | ApiToken
    ) -> None:
        if generation != self._generation:
            return  # forgotten while it was read: it may be stale already
        self._known[key] = _Known(user, row, generation, time.monotonic())
        while len(self._known) > REMEMBERED:
            self._known.popitem(last=False)

    async def from_authorization(self, header: str | None) -> Principal | None:
        """The principal an ``Authorization: Bearer …`` header names, or None."""
        scheme, _, value = (header or "").strip().partition(" ")
        secret = value.strip()
        if scheme.lower() != "bearer" or not secret:
            return None
        if secret.startswith(tokens.PREFIX):
            return await self._from_token(secret)
        if self.provider is None or secret.count(".") != 2:
            return None
        now = int(self.db.now().timestamp())
        claims = await self.provider.verify_access_token(secret, now=now)
        if claims is None:
            return None
        async with self.db.read() as session:
            person = await session.scalar(
                select(User).where(User.oidc_subject == str(claims["sub"]), User.active.is_(True))
            )
        if person is None:
            return None
        expires_at = datetime.fromtimestamp(int(claims["exp"]), UTC)
        credential = Credential(CredentialKind.ACCESS_TOKEN, 0, expires_at)
        return Principal(person, TokenScope.READ_WRITE, credential)

    async def _from_token(self, secret: str) -> Principal | None:
        key = "token:" + tokens.token_hash(secret)
        known = self._recall(key)
        if known is not None:
            user, token = known.user, known.row
            assert isinstance(token, ApiToken)
            await tokens.used(self.db, token)
        else:
            generation = self._generation
            found = await tokens.authenticate(self.db, secret)
            if found is None:
                return None
            user, token = found
            self._remember(key, generation, user, token)
        return Principal(user, token.scope, Credential(CredentialKind.API_TOKEN, token.id))

    async def from_session(self, secret: str | None) -> Principal | None:
        """The principal a session cookie's secret names, or None."""
        if not secret or len(secret) > sessions.LONGEST_SECRET:
            return None
        key = "session:" + sessions.secret_hash(secret)
        known = self._recall(key)
        now = self.db.now()
        if known is not None and isinstance(known.row, BrowserSession):
            user, browser = known.user, known.row
            if not sessions.is_live(user, browser, now, self.timeouts):
                return None
            await sessions.seen(self.db, browser, now)
        else:
            generation = self._generation
            found = await sessions.authenticate(self.db, secret, self.timeouts)
            if found is None:
                return None
            user, browser = found
            self._remember(key, generation, user, browser)
        credential = Credential(CredentialKind.SESSION, browser.id)
        return Principal(user, TokenScope.READ_WRITE, credential)

    async def live(
        self, session: AsyncSession, credentials: Collection[Credential]
    ) -> set[Credential]:
        """Which of ``credentials`` still hold (their users' being active is checked apart)."""
        now = self.db.now()
        by_kind: dict[CredentialKind, set[int]] = {kind: set() for kind in CredentialKind}
        for credential in credentials:
            by_kind[credential.kind].add(credential.id)
        live_sessions = await sessions.live_sessions(
            session, by_kind[CredentialKind.SESSION], now, self.timeouts
        )
        live_tokens: set[int] = set()
        if by_kind[CredentialKind.API_TOKEN]:
            live_tokens = set(
                await session.scalars(
                    select(ApiToken.id).where(
                        ApiToken.id.in_(by_kind[CredentialKind.API_TOKEN]),
                        ApiToken.revoked_at.is_(None),
                    )
                )
            )
        return {
            credential
            for credential in credentials
            if (credential.kind is CredentialKind.SESSION and credential.id in live_sessions)
            or (credential.kind is CredentialKind.API_TOKEN and credential.id in live_tokens)
            or (
                credential.kind is CredentialKind.ACCESS_TOKEN
                and credential.expires_at is not None
                # Whole seconds, as the token check over HTTP counts them.
                and credential.expires_at + timedelta(seconds=LEEWAY) > now.replace(microsecond=0)
            )
        }

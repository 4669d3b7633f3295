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
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Collection
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import Database
from app.models import ApiToken, TokenScope, User
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


class Authenticator:
    """Checks credentials against the database (and the identity provider's keys, if any)."""

    def __init__(
        self, db: Database, timeouts: sessions.Timeouts, provider: Provider | None = None
    ) -> None:
        self.db = db
        self.timeouts = timeouts
        self.provider = provider

    async def from_authorization(self, header: str | None) -> Principal | None:
        """The principal an ``Authorization: Bearer …`` header names, or None."""
        scheme, _, value = (header or "").strip().partition(" ")
        secret = value.strip()
        if scheme.lower() != "bearer" or not secret:
            return None
        if secret.startswith(tokens.PREFIX):
            found = await tokens.authenticate(self.db, secret)
            if found is None:
                return None
            user, token = found
            return Principal(user, token.scope, Credential(CredentialKind.API_TOKEN, token.id))
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

    async def from_session(self, secret: str | None) -> Principal | None:
        """The principal a session cookie's secret names, or None."""
        found = await sessions.authenticate(self.db, secret or "", self.timeouts)
        if found is None:
            return None
        user, browser = found
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

"""People and their credentials: users with an organisation role, personal API tokens, browser
sessions, and sign-ins in progress at the identity provider."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base


class OrgRole(enum.Enum):
    """What a person may do across the organisation; each role includes the ones before it."""

    VIEWER = "VIEWER"
    MEMBER = "MEMBER"
    RESPONDER = "RESPONDER"
    ADMIN = "ADMIN"

    @property
    def rank(self) -> int:
        return list(OrgRole).index(self)

    def at_least(self, other: OrgRole) -> bool:
        return self.rank >= other.rank


class User(Base):
    """A person who can sign in to Muster."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[OrgRole] = mapped_column(default=OrgRole.MEMBER)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]
    # The identity provider's ``sub`` for this person, once they have signed in through it.
    oidc_subject: Mapped[str | None] = mapped_column(String(255), unique=True)


class TokenScope(enum.Enum):
    """What an API token may do: read only, or read and write."""

    READ = "READ"
    READ_WRITE = "READ_WRITE"


class ApiToken(Base):
    """A personal API token; only a hash of the secret is kept."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    scope: Mapped[TokenScope]
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class BrowserSession(Base):
    """A signed-in browser; the cookie holds a secret whose SHA-256 is ``secret_hash``.

    Ending a session deletes its row, so every request and live stream that checks it stops.
    """

    __tablename__ = "browser_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    expires_at: Mapped[datetime]  # the absolute end, however active the session is
    # Signed in at the identity provider (not the dev sign-in): signing out goes on to it.
    via_provider: Mapped[bool] = mapped_column(default=False)


class PendingSignIn(Base):
    """A sign-in sent to the identity provider and not yet back: used once, then deleted.

    ``state`` names it in the callback; ``browser_hash`` ties it to the browser that started it.
    """

    __tablename__ = "pending_sign_ins"

    state: Mapped[str] = mapped_column(String(64), primary_key=True)
    browser_hash: Mapped[str] = mapped_column(String(64))
    nonce: Mapped[str] = mapped_column(String(64))
    code_verifier: Mapped[str] = mapped_column(String(128))
    return_to: Mapped[str] = mapped_column(String(2000))
    created_at: Mapped[datetime] = mapped_column(index=True)

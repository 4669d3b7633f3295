"""People and their credentials: users with an organisation role, and personal API tokens."""

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

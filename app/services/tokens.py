"""Personal API tokens: created once and shown once, stored as a hash, scoped, revocable.

A token is ``mst_`` followed by 32 random bytes in URL-safe base64. Only its SHA-256 is stored
(the secret has enough entropy that a slow hash adds nothing); its first characters are kept to
help people tell their tokens apart.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app import policy
from app.db import Database
from app.errors import Forbidden, NotFound
from app.models import ApiToken, TokenScope, User
from app.text import clean_text

PREFIX = "mst_"
# Recording every use would make every API read a write; once a minute is precise enough.
LAST_USED_PRECISION = timedelta(minutes=1)


def token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


async def create_token(
    db: Database, *, user: User, name: str, scope: TokenScope = TokenScope.READ
) -> tuple[ApiToken, str]:
    """Make a token for ``user``; returns it with its secret, which is never shown again."""
    secret = PREFIX + secrets.token_urlsafe(32)
    async with db.write() as session:
        token = ApiToken(
            user_id=user.id,
            name=clean_text(name, field="name", limit=100),
            token_hash=token_hash(secret),
            prefix=secret[: len(PREFIX) + 4],
            scope=scope,
            created_at=db.now(),
        )
        session.add(token)
        await session.flush()
        return token, secret


async def authenticate(db: Database, secret: str) -> tuple[User, ApiToken] | None:
    """The active user and live token a secret belongs to, or None."""
    if not secret.startswith(PREFIX) or len(secret) > 200:
        return None
    async with db.read() as session:
        row = (
            await session.execute(
                select(User, ApiToken)
                .join(ApiToken, ApiToken.user_id == User.id)
                .where(ApiToken.token_hash == token_hash(secret), ApiToken.revoked_at.is_(None))
            )
        ).one_or_none()
    if row is None or not row[0].active:
        return None
    user, token = row
    await used(db, token)
    return user, token


async def used(db: Database, token: ApiToken) -> None:
    """Record that ``token`` is in use now, if its last record is older than the precision."""
    now = db.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_PRECISION:
        async with db.write() as session:
            stored = await session.get(ApiToken, token.id)
            if stored is not None:
                stored.last_used_at = now
        token.last_used_at = now


async def list_tokens(
    session: AsyncSession, *, actor: User, user_id: int | None = None
) -> Sequence[ApiToken]:
    """The actor's tokens, or another person's for an admin, newest first."""
    owner = actor.id if user_id is None else user_id
    if owner != actor.id and not policy.can_configure(actor):
        raise Forbidden("Only administrators can see other people's tokens.", field="userId")
    query = select(ApiToken).where(ApiToken.user_id == owner)
    return (
        await session.scalars(query.order_by(ApiToken.created_at.desc(), ApiToken.id.desc()))
    ).all()


async def rename_token(db: Database, *, actor: User, token_id: int, name: str) -> ApiToken:
    """Give one of the actor's tokens (anyone's, for an admin) a new name."""
    name = clean_text(name, field="name", limit=100)
    async with db.write() as session:
        token = await _token(session, actor, token_id)
        token.name = name
        return token


async def revoke_token(db: Database, *, actor: User, token_id: int) -> ApiToken:
    """Revoke one of the actor's own tokens, or anyone's for an admin."""
    async with db.write() as session:
        token = await _token(session, actor, token_id)
        if token.revoked_at is None:
            token.revoked_at = db.now()
        return token


async def _token(session: AsyncSession, actor: User, token_id: int) -> ApiToken:
    token = await session.get(ApiToken, token_id)
    if token is None or (token.user_id != actor.id and not policy.can_configure(actor)):
        raise NotFound("No token with that id.", field="tokenId")
    return token

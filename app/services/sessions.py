"""Browser sessions and sign-ins in progress: the server-side half of signing in.

A session is a random secret in a cookie; only its SHA-256 is stored, with the user, when it
started, when it was last used and when it must end. A session is live while its row exists, its
user is active, it has been used within the idle timeout and its absolute end has not come.
Signing out deletes the row, so the next request, and every live stream within seconds, stops.

A pending sign-in holds what the OpenID Connect callback must check (state, nonce, PKCE
verifier) for ``SIGN_IN_TIMEOUT``; it is deleted when the callback takes it, so it works once,
and only for the browser that started it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import secrets
from collections.abc import Collection
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import Database
from app.models import BrowserSession, PendingSignIn, User

SIGN_IN_TIMEOUT = timedelta(minutes=10)
# Recording every request would make every page view a write; once a minute is precise enough.
LAST_SEEN_PRECISION = timedelta(minutes=1)
LONGEST_SECRET = 100  # characters: a longer cookie was not made here


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclasses.dataclass(frozen=True)
class Timeouts:
    """How long a session may sit unused (``idle``), and how long it may last at most."""

    idle: timedelta
    absolute: timedelta


async def start_session(
    db: Database, *, user: User, timeouts: Timeouts, via_provider: bool = False
) -> tuple[BrowserSession, str]:
    """A new session for ``user`` (``via_provider``: signed in at the identity provider);
    returns it with the secret for the cookie."""
    secret = secrets.token_urlsafe(32)
    now = db.now()
    async with db.write() as session:
        row = BrowserSession(
            secret_hash=secret_hash(secret),
            user_id=user.id,
            created_at=now,
            last_seen_at=now,
            expires_at=now + timeouts.absolute,
            via_provider=via_provider,
        )
        session.add(row)
        await session.flush()
        return row, secret


async def authenticate(
    db: Database, secret: str, timeouts: Timeouts
) -> tuple[User, BrowserSession] | None:
    """The active user and live session a cookie's secret belongs to, or None."""
    if not secret or len(secret) > LONGEST_SECRET:
        return None
    now = db.now()
    async with db.read() as session:
        row = (
            await session.execute(
                select(User, BrowserSession)
                .join(BrowserSession, BrowserSession.user_id == User.id)
                .where(
                    BrowserSession.secret_hash == secret_hash(secret),
                    _live(now, timeouts),
                )
            )
        ).one_or_none()
    if row is None:
        return None
    user, browser = row
    await seen(db, browser, now)
    return user, browser


async def seen(db: Database, browser: BrowserSession, now: datetime) -> None:
    """Record that ``browser`` is in use now, if its last record is older than the precision."""
    if now - browser.last_seen_at > LAST_SEEN_PRECISION:
        await touch(db, [browser.id])
        browser.last_seen_at = now


async def live_sessions(
    session: AsyncSession, ids: Collection[int], now: datetime, timeouts: Timeouts
) -> set[int]:
    """Which of the sessions ``ids`` are still live."""
    if not ids:
        return set()
    query = (
        select(BrowserSession.id)
        .join(User, User.id == BrowserSession.user_id)
        .where(BrowserSession.id.in_(ids), _live(now, timeouts))
    )
    return set(await session.scalars(query))


async def touch(db: Database, ids: Collection[int]) -> None:
    """Record that the sessions ``ids`` are in use now (a request, or a page kept open)."""
    if not ids:
        return
    now = db.now()
    async with db.write() as session:
        await session.execute(
            update(BrowserSession)
            .where(BrowserSession.id.in_(ids), BrowserSession.last_seen_at < now)
            .values(last_seen_at=now)
        )


async def end_session(db: Database, secret: str) -> BrowserSession | None:
    """Sign a browser out: its session ends now, everywhere. Returns the ended session."""
    async with db.write() as session:
        row = await session.scalar(
            select(BrowserSession).where(BrowserSession.secret_hash == secret_hash(secret))
        )
        if row is not None:
            await session.delete(row)
        return row


def _live(now: datetime, timeouts: Timeouts) -> ColumnElement[bool]:
    """What makes a session live, as SQL (``is_live`` says the same of rows in hand)."""
    return and_(
        User.active.is_(True),
        BrowserSession.expires_at > now,
        BrowserSession.last_seen_at > now - timeouts.idle,
    )


def is_live(user: User, browser: BrowserSession, now: datetime, timeouts: Timeouts) -> bool:
    """``_live`` for a session and its user already read (remembered by a process)."""
    return user.active and browser.expires_at > now and browser.last_seen_at > now - timeouts.idle


async def begin_sign_in(
    db: Database, *, state: str, browser: str, nonce: str, code_verifier: str, return_to: str
) -> None:
    """Remember a sign-in sent to the provider under its ``state``."""
    now = db.now()
    async with db.write() as session:
        await session.execute(
            delete(PendingSignIn).where(PendingSignIn.created_at < now - SIGN_IN_TIMEOUT)
        )
        session.add(
            PendingSignIn(
                state=secret_hash(state),
                browser_hash=secret_hash(browser),
                nonce=nonce,
                code_verifier=code_verifier,
                return_to=return_to,
                created_at=now,
            )
        )


async def take_sign_in(db: Database, *, state: str, browser: str) -> PendingSignIn | None:
    """The pending sign-in ``state`` names, if this browser started it in time; used once."""
    async with db.write() as session:
        row = await session.get(PendingSignIn, secret_hash(state))
        if row is None:
            return None
        await session.delete(row)
    fresh = db.now() - row.created_at <= SIGN_IN_TIMEOUT
    same_browser = secrets.compare_digest(row.browser_hash, secret_hash(browser))
    return row if fresh and same_browser else None

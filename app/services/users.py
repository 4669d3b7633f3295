"""People: adding users, signing in those an identity provider vouches for, looking them up,
and finding them for pickers."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import Database
from app.errors import Conflict, Forbidden, Invalid, NotFound
from app.models import OrgRole, User
from app.services import teams
from app.text import clean_text

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def normal_email(email: str) -> str:
    email = email.strip().lower()
    if len(email) > 320 or not _EMAIL.match(email):
        raise Invalid(f"Not an email address: {email!r}.", field="email")
    return email


async def add_user(
    db: Database, *, email: str, name: str | None = None, role: OrgRole = OrgRole.MEMBER
) -> User:
    """Create a user; an email already taken is ``Invalid``."""
    email = normal_email(email)
    display = clean_text(name or email.split("@")[0], field="name", limit=200)
    async with db.write() as session:
        if await find_user_by_email(session, email) is not None:
            raise Invalid(f"There is already a user with the email {email}.", field="email")
        user = User(email=email, name=display, role=role, active=True, created_at=db.now())
        session.add(user)
        await session.flush()
        return user


@dataclasses.dataclass(frozen=True)
class Identity:
    """Who an identity provider says signed in, the role their groups give them, and the
    groups (which teams bound to them they are in)."""

    subject: str
    email: str
    email_verified: bool
    name: str
    role: OrgRole
    groups: tuple[str, ...] = ()


async def sign_in(db: Database, identity: Identity) -> User:
    """The user ``identity`` belongs to, created on first sign-in; email, name, role and the
    teams their groups put them in refreshed.

    A person is found by the provider's subject; the first time, a user added beforehand with the
    same email is taken over if the provider has verified that email.
    """
    email = normal_email(identity.email)
    name = clean_text(identity.name or email.split("@")[0], field="name", limit=200)
    async with db.write() as session:
        user = await session.scalar(select(User).where(User.oidc_subject == identity.subject))
        holder = await find_user_by_email(session, email)
        if user is None and holder is not None and holder.oidc_subject is None:
            if not identity.email_verified:
                raise Conflict(
                    f"A Muster account for {email} exists, but your identity provider has not "
                    "verified that address, so it cannot be linked to you."
                )
            user = holder
        if holder is not None and holder is not user:
            raise Conflict(f"The email {email} belongs to another Muster account.")
        if user is None:
            user = User(email=email, created_at=db.now(), active=True)
            session.add(user)
        if not user.active:
            raise Forbidden("Your Muster account has been deactivated; ask an administrator.")
        user.oidc_subject = identity.subject
        user.email, user.name, user.role = email, name, identity.role
        await session.flush()
        await teams.sync_groups(session, user, identity.groups, db.now())
        return user


async def find_user_by_email(session: AsyncSession, email: str) -> User | None:
    return await session.scalar(select(User).where(User.email == email.strip().lower()))


async def get_user_by_email(session: AsyncSession, email: str) -> User:
    user = await find_user_by_email(session, email)
    if user is None:
        raise NotFound(f"No user with the email {email}.", field="email")
    return user


async def get_user(session: AsyncSession, user_id: int, *, field: str = "userId") -> User:
    """An active user by id (a deactivated one cannot be given work)."""
    user = await session.get(User, user_id)
    if user is None or not user.active:
        raise NotFound("No user with that id.", field=field)
    return user


async def list_users(session: AsyncSession, *, search: str = "", limit: int = 20) -> Sequence[User]:
    """Active users whose name or email contains ``search``, for pickers."""
    query = select(User).where(User.active.is_(True))
    if search.strip():
        pattern = f"%{search.strip().lower()}%"
        query = query.where(
            or_(func.lower(User.name).like(pattern), func.lower(User.email).like(pattern))
        )
    return (await session.scalars(query.order_by(User.name, User.id).limit(limit))).all()

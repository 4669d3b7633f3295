"""The authenticator remembers what sessions and API tokens name, and forgets at once what a
write ends: a session signed out, a person deactivated or given another role, a token revoked;
here, and (PostgreSQL) when another process writes it."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from app import identity
from app.db import Database, Touched
from app.events import EventHub
from app.identity import Authenticator
from app.models import OrgRole, TokenScope, User
from app.services import sessions, tokens
from tests.schema.test_cost import count_statements

TIMEOUTS = sessions.Timeouts(idle=timedelta(hours=12), absolute=timedelta(days=7))


def remembering(db: Database) -> Authenticator:
    """An authenticator wired as the app factory wires it."""
    authenticator = Authenticator(db, TIMEOUTS)
    db.on_touched[Touched.CREDENTIALS].append(lambda _: authenticator.forget())
    return authenticator


async def statements_for(db: Database, step) -> tuple[object, int]:
    seen: list[str] = []
    stop = count_statements(db.engine.sync_engine, seen)
    try:
        answer = await step()
    finally:
        stop()
    return answer, len(seen)


async def test_a_remembered_session_needs_no_query_until_a_write_ends_it(db, people):
    authenticator = remembering(db)
    _, secret = await sessions.start_session(db, user=people.member, timeouts=TIMEOUTS)
    first, read = await statements_for(db, lambda: authenticator.from_session(secret))
    again, reread = await statements_for(db, lambda: authenticator.from_session(secret))
    assert first.user.id == again.user.id == people.member.id
    assert read >= 1 and reread == 0

    async with db.write() as session:  # a role change applies to the open session at once
        (await session.get(User, people.member.id)).role = OrgRole.VIEWER
    assert (await authenticator.from_session(secret)).user.role is OrgRole.VIEWER
    async with db.write() as session:
        (await session.get(User, people.member.id)).active = False
    assert await authenticator.from_session(secret) is None


async def test_signing_out_is_forgotten_at_once_and_other_sessions_are_read_again(db, people):
    authenticator = remembering(db)
    _, mine = await sessions.start_session(db, user=people.member, timeouts=TIMEOUTS)
    _, other = await sessions.start_session(db, user=people.responder, timeouts=TIMEOUTS)
    assert await authenticator.from_session(mine) and await authenticator.from_session(other)
    await sessions.end_session(db, mine)
    assert await authenticator.from_session(mine) is None
    still, read = await statements_for(db, lambda: authenticator.from_session(other))
    assert still.user.id == people.responder.id and read >= 1


async def test_being_used_ends_nothing_and_timeouts_still_apply(db, people, clock):
    authenticator = remembering(db)
    _, secret = await sessions.start_session(db, user=people.member, timeouts=TIMEOUTS)
    assert await authenticator.from_session(secret)
    clock.advance(hours=2)  # its last use is recorded (a write), which forgets no credential
    assert await authenticator.from_session(secret)
    _, read = await statements_for(db, lambda: authenticator.from_session(secret))
    assert read == 0
    clock.advance(hours=12, minutes=1)  # idle past its timeout: refused from memory too
    assert await authenticator.from_session(secret) is None


async def test_a_revoked_token_is_forgotten_and_its_use_is_not_a_forgetting(db, people, clock):
    authenticator = remembering(db)
    token, secret = await tokens.create_token(
        db, user=people.member, name="ci", scope=TokenScope.READ
    )
    header = f"Bearer {secret}"
    assert (await authenticator.from_authorization(header)).scope is TokenScope.READ
    clock.advance(hours=2)  # recording its use writes the token row
    assert await authenticator.from_authorization(header)
    _, read = await statements_for(db, lambda: authenticator.from_authorization(header))
    assert read == 0
    await tokens.revoke_token(db, actor=people.member, token_id=token.id)
    assert await authenticator.from_authorization(header) is None


async def test_what_is_remembered_is_read_again_after_a_while(db, people, monkeypatch):
    authenticator = remembering(db)
    _, secret = await sessions.start_session(db, user=people.member, timeouts=TIMEOUTS)
    assert await authenticator.from_session(secret)
    monkeypatch.setattr(identity, "REMEMBER_FOR", 0.0)  # a write no process heard of
    async with Database(db.url, clock=db.now).write() as session:  # "another process", unheard
        (await session.get(User, people.member.id)).active = False
    assert await authenticator.from_session(secret) is None


async def test_another_process_signing_out_is_heard(db, people, database_url):
    if db.is_sqlite:
        pytest.skip("NOTIFY is PostgreSQL's; one process writes a SQLite database")
    authenticator = remembering(db)
    _, secret = await sessions.start_session(db, user=people.member, timeouts=TIMEOUTS)
    heard = asyncio.Event()
    db.on_touched[Touched.CREDENTIALS].append(lambda _: heard.set())
    hub = EventHub(db, poll_interval=0.05)
    await hub.start()
    elsewhere = Database(database_url, clock=db.now)
    try:
        await asyncio.wait_for(heard.wait(), 5)  # listening: on connecting it tells every mark
        heard.clear()
        assert await authenticator.from_session(secret)
        await sessions.end_session(elsewhere, secret)  # its commit NOTIFYs this process's hub
        await asyncio.wait_for(heard.wait(), 5)
        assert await authenticator.from_session(secret) is None
    finally:
        await hub.stop()
        await elsewhere.dispose()

"""Personal API tokens: shown once, stored hashed, scoped, revocable."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.errors import Forbidden, Invalid, NotFound
from app.models import ApiToken, TokenScope
from app.services import tokens


async def test_token_lifecycle(db, people, clock):
    token, secret = await tokens.create_token(
        db, user=people.member, name="CI bot", scope=TokenScope.READ_WRITE
    )
    assert secret.startswith("mst_") and len(secret) > 40
    async with db.read() as session:
        stored = await session.get_one(ApiToken, token.id)
    assert secret not in (stored.token_hash, stored.prefix)
    assert stored.token_hash == tokens.token_hash(secret)

    user, used = await tokens.authenticate(db, secret)
    assert user.id == people.member.id and used.scope is TokenScope.READ_WRITE
    assert used.last_used_at is not None
    first_use = used.last_used_at
    clock.advance(minutes=5)
    _, used = await tokens.authenticate(db, secret)
    assert used.last_used_at > first_use

    for wrong in ("", "mst_wrong", secret + "x", "x" * 1000):
        assert await tokens.authenticate(db, wrong) is None

    with pytest.raises(NotFound):  # nobody else's to revoke
        await tokens.revoke_token(db, actor=people.other_member, token_id=token.id)
    await tokens.revoke_token(db, actor=people.member, token_id=token.id)
    assert await tokens.authenticate(db, secret) is None


async def test_admins_revoke_anyones_tokens_and_inactive_users_cannot_use_theirs(db, people):
    token, secret = await tokens.create_token(db, user=people.member, name="laptop")
    await tokens.revoke_token(db, actor=people.admin, token_id=token.id)
    assert await tokens.authenticate(db, secret) is None

    _, other = await tokens.create_token(db, user=people.other_member, name="script")
    async with db.write() as session:
        user = await session.get_one(type(people.other_member), people.other_member.id)
        user.active = False
    assert await tokens.authenticate(db, other) is None


async def test_listing_shows_own_tokens_newest_first(db, people, clock):
    await tokens.create_token(db, user=people.member, name="first")
    clock.advance(seconds=1)
    await tokens.create_token(db, user=people.member, name="second")
    await tokens.create_token(db, user=people.other_member, name="theirs")
    async with db.read() as session:
        listed = await tokens.list_tokens(session, actor=people.member)
        assert [t.name for t in listed] == ["second", "first"]
        assert (await session.scalar(select(ApiToken).limit(1))) is not None
    assert timedelta(minutes=1) == tokens.LAST_USED_PRECISION


async def test_admins_list_and_rename_anyones_tokens_others_cannot(db, people):
    token, _ = await tokens.create_token(db, user=people.member, name="laptop")
    async with db.read() as session:
        seen = await tokens.list_tokens(session, actor=people.admin, user_id=people.member.id)
        assert [t.name for t in seen] == ["laptop"]
        with pytest.raises(Forbidden):
            await tokens.list_tokens(session, actor=people.other_member, user_id=people.member.id)
    await tokens.rename_token(db, actor=people.member, token_id=token.id, name="old laptop")
    await tokens.rename_token(db, actor=people.admin, token_id=token.id, name="lost laptop")
    with pytest.raises(NotFound):
        await tokens.rename_token(db, actor=people.other_member, token_id=token.id, name="mine")
    with pytest.raises(Invalid):
        await tokens.rename_token(db, actor=people.member, token_id=token.id, name="  ")
    async with db.read() as session:
        assert (await session.get(ApiToken, token.id)).name == "lost laptop"

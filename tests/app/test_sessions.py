"""Browser sessions and pending sign-ins: idle and absolute timeouts, signing out, deactivated
people, and state that works once, in time, for the browser that started it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.config import ConfigError, OidcSettings
from app.identity import Authenticator, CredentialKind
from app.models import OrgRole, User
from app.services import sessions

TIMEOUTS = sessions.Timeouts(idle=timedelta(hours=12), absolute=timedelta(days=7))


async def test_an_unused_session_times_out(db, people, clock):
    _, secret = await sessions.start_session(db, user=people.member, timeouts=TIMEOUTS)
    clock.advance(hours=11)
    assert await sessions.authenticate(db, secret, TIMEOUTS) is not None
    clock.advance(hours=11)  # 11 h after its last use: still fine
    assert await sessions.authenticate(db, secret, TIMEOUTS) is not None
    clock.advance(hours=12, minutes=1)
    assert await sessions.authenticate(db, secret, TIMEOUTS) is None


async def test_a_used_session_still_ends_at_its_absolute_timeout(db, people, clock):
    _, secret = await sessions.start_session(db, user=people.member, timeouts=TIMEOUTS)
    for _ in range(15):  # used every 11 hours for almost a week
        clock.advance(hours=11)
        assert await sessions.authenticate(db, secret, TIMEOUTS) is not None
    clock.advance(hours=4)  # 7 days and 1 hour after it started
    assert await sessions.authenticate(db, secret, TIMEOUTS) is None


async def test_signing_out_and_deactivation_end_sessions(db, people):
    _, mine = await sessions.start_session(db, user=people.member, timeouts=TIMEOUTS)
    _, other = await sessions.start_session(db, user=people.member, timeouts=TIMEOUTS)
    await sessions.end_session(db, mine)
    assert await sessions.authenticate(db, mine, TIMEOUTS) is None
    assert await sessions.authenticate(db, other, TIMEOUTS) is not None  # another browser
    async with db.write() as session:
        (await session.get(User, people.member.id)).active = False
    assert await sessions.authenticate(db, other, TIMEOUTS) is None


async def test_role_changes_apply_to_open_sessions_at_once(db, people):
    _, secret = await sessions.start_session(db, user=people.member, timeouts=TIMEOUTS)
    async with db.write() as session:
        (await session.get(User, people.member.id)).role = OrgRole.VIEWER
    user, _ = await sessions.authenticate(db, secret, TIMEOUTS)
    assert user.role is OrgRole.VIEWER


async def test_live_credentials_are_told_apart_in_one_call(db, people):
    authenticator = Authenticator(db, TIMEOUTS)
    _, first = await sessions.start_session(db, user=people.member, timeouts=TIMEOUTS)
    _, second = await sessions.start_session(db, user=people.viewer, timeouts=TIMEOUTS)
    one = await authenticator.from_session(first)
    two = await authenticator.from_session(second)
    assert one.credential.kind is CredentialKind.SESSION
    await sessions.end_session(db, second)
    async with db.read() as session:
        live = await authenticator.live(session, [one.credential, two.credential])
    assert live == {one.credential}


async def test_a_pending_sign_in_works_once_in_time_for_its_browser(db, clock):
    async def begin(state):
        await sessions.begin_sign_in(
            db, state=state, browser="browser-1", nonce="n", code_verifier="v", return_to="/x"
        )

    await begin("s1")
    taken = await sessions.take_sign_in(db, state="s1", browser="browser-1")
    assert (taken.nonce, taken.code_verifier, taken.return_to) == ("n", "v", "/x")
    assert await sessions.take_sign_in(db, state="s1", browser="browser-1") is None  # replay

    await begin("s2")
    assert await sessions.take_sign_in(db, state="s2", browser="browser-2") is None
    assert await sessions.take_sign_in(db, state="s2", browser="browser-1") is None  # spent

    await begin("s3")
    clock.advance(minutes=11)
    assert await sessions.take_sign_in(db, state="s3", browser="browser-1") is None


def test_roles_come_from_groups_with_the_highest_winning():
    settings = OidcSettings.from_env(
        {
            "MUSTER_OIDC_ISSUER": "https://id.example.com",
            "MUSTER_OIDC_CLIENT_ID": "muster",
            "MUSTER_OIDC_CLIENT_SECRET": "secret",
            "MUSTER_OIDC_ROLE_MAP": "sre=responder, security=member,muster-admins=admin",
            "MUSTER_DEFAULT_ROLE": "viewer",
        }
    )
    assert settings.role_for(["security", "sre"]) is OrgRole.RESPONDER
    assert settings.role_for(["muster-admins"]) is OrgRole.ADMIN
    assert settings.role_for(["marketing"]) is OrgRole.VIEWER
    assert settings.role_for([]) is OrgRole.VIEWER
    assert settings.audience is None  # no provider tokens as bearers until it is set
    assert settings.issuer == "https://id.example.com"
    slash = OidcSettings.from_env(
        {"MUSTER_OIDC_ISSUER": " https://tenant.auth0.com/ ", "MUSTER_OIDC_CLIENT_ID": "m",
         "MUSTER_OIDC_CLIENT_SECRET": "s", "MUSTER_OIDC_AUDIENCE": "https://muster.example.com"}
    )  # fmt: skip
    assert slash.issuer == "https://tenant.auth0.com/"  # as written: the provider's iss has it
    assert slash.audience == "https://muster.example.com"


def test_bad_oidc_settings_name_the_variable():
    base = {"MUSTER_OIDC_ISSUER": "https://id.example.com"}
    for environ, name in [
        (base, "MUSTER_OIDC_CLIENT_ID"),
        ({**base, "MUSTER_OIDC_CLIENT_ID": "m", "MUSTER_OIDC_CLIENT_SECRET": "s",
          "MUSTER_OIDC_ROLE_MAP": "sre=boss"}, "MUSTER_OIDC_ROLE_MAP"),
        ({**base, "MUSTER_OIDC_CLIENT_ID": "m", "MUSTER_OIDC_CLIENT_SECRET": "s",
          "MUSTER_OIDC_ROLE_MAP": "sre"}, "MUSTER_OIDC_ROLE_MAP"),
        ({**base, "MUSTER_OIDC_CLIENT_ID": "m", "MUSTER_OIDC_CLIENT_SECRET": "s",
          "MUSTER_DEFAULT_ROLE": "owner"}, "MUSTER_DEFAULT_ROLE"),
    ]:  # fmt: skip
        with pytest.raises(ConfigError, match=name):
            OidcSettings.from_env(environ)

"""Signing in through a real OpenID Provider (oidc-provider, started by a fixture) with an HTTP
client: provisioning and roles from groups, the session cookie, returning to the page asked for,
single-use state bound to the browser, signing out here and at the provider (with no ID token in
the URL), an issuer with a trailing slash, a provider that is down, and every failure logged with
its reason."""

from __future__ import annotations

import contextlib
import html
import logging
import re
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from sqlalchemy import select

from app.config import Settings
from app.models import BrowserSession, OrgRole, User
from app.services import users
from tests.identity_provider import MUSTER_TEST_URL, muster_client, sign_in_with_httpx
from views.app import create_app

VIEWER = "{ viewer { email role } }"


def oidc_app(database_url, identity_provider, **env):
    environ = {
        **identity_provider.muster_env(MUSTER_TEST_URL),
        "MUSTER_DATABASE_URL": database_url,
        "MUSTER_SECRET_KEY": "k" * 32,
        **env,
    }
    return create_app(Settings.from_env(environ))


@pytest.fixture
async def site(db, database_url, identity_provider):
    app = oidc_app(database_url, identity_provider)
    yield app
    await app.state.services.db.dispose()


@contextlib.asynccontextmanager
async def signed_in(app, login, start="/auth/login"):
    """A fresh browser (its own cookies at the provider too) signed in as ``login``, and the
    page it landed on."""
    async with muster_client(app) as client:
        yield client, await sign_in_with_httpx(client, start, login)


def csrf_of(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


async def viewer(client):
    response = await client.get("/graphql", params={"query": VIEWER})
    return response.status_code, response.json()


@pytest.mark.parametrize(
    ("login", "role"),
    [
        ("sre@example.com", "RESPONDER"),
        ("admin@example.com", "ADMIN"),  # groups muster-admins and sre: the highest wins
        ("exec@example.com", "VIEWER"),
        ("newcomer@example.com", "MEMBER"),  # no group: MUSTER_DEFAULT_ROLE
    ],
)
async def test_sign_in_provisions_the_person_with_the_role_of_their_groups(site, login, role):
    async with signed_in(site, login) as (client, landed):
        assert landed.status_code == 200
        assert str(landed.url) == f"{MUSTER_TEST_URL}/"
        assert "Ongoing incidents" in landed.text  # the dashboard
        status, body = await viewer(client)
    assert status == 200
    assert body["data"]["viewer"] == {"email": login, "role": role}


async def test_the_session_cookie_is_httponly_lax_and_muster_prefixed(site):
    client = muster_client(site)
    async with client:
        callback = await sign_in_with_httpx(
            client, "/auth/login", "sre@example.com", stop_at=f"{MUSTER_TEST_URL}/auth/callback"
        )
        answer = await client.get(callback.headers["location"])
    cookies = answer.headers.get_list("set-cookie")
    session = next(c for c in cookies if c.startswith("muster_session="))
    assert "HttpOnly" in session
    assert "SameSite=lax" in session
    assert "Path=/" in session
    assert "Secure" not in session  # served over http here; over https see test_cookies_over_https
    assert any(c.startswith("muster_sign_in=") and "Max-Age=0" in c for c in cookies)


async def test_sign_in_returns_to_the_page_asked_for(site):
    async with muster_client(site) as client:
        page = await client.get("/?from=dashboard", follow_redirects=True)
        button = re.search(r'href="(/auth/login\?next=[^"]+)"', page.text).group(1)
        landed = await sign_in_with_httpx(client, html.unescape(button), "sre@example.com")
        assert str(landed.url) == f"{MUSTER_TEST_URL}/?from=dashboard"
    # Never to another site, whatever ``next`` says.
    for foreign in ("https://evil.test/", "//evil.test/", "/\\evil.test"):
        async with signed_in(site, "sre@example.com", f"/auth/login?next={quote(foreign)}") as (
            _,
            landed,
        ):
            assert str(landed.url) == f"{MUSTER_TEST_URL}/"


async def test_the_role_is_refreshed_at_every_sign_in(site, db):
    async with signed_in(site, "sre@example.com"):
        pass
    async with db.write() as session:
        user = await session.scalar(select(User).where(User.email == "sre@example.com"))
        user.role = OrgRole.ADMIN  # changed here, but the provider's groups say otherwise
    async with signed_in(site, "sre@example.com") as (client, _):
        _, body = await viewer(client)
    assert body["data"]["viewer"]["role"] == "RESPONDER"


async def test_a_user_added_beforehand_is_linked_by_verified_email(site, db):
    added = await users.add_user(db, email="security@example.com", name="Sam", role=OrgRole.VIEWER)
    async with signed_in(site, "security@example.com"):
        pass
    async with db.read() as session:
        user = await session.get(User, added.id)
        count = len((await session.scalars(select(User))).all())
    assert user.oidc_subject == "security@example.com"
    assert user.role is OrgRole.MEMBER
    assert count == 1


async def test_each_sign_in_starts_a_new_session(site, db):
    async with signed_in(site, "sre@example.com") as (client, _):
        first = client.cookies["muster_session"]
        await sign_in_with_httpx(client, "/auth/login", "sre@example.com")
        second = client.cookies["muster_session"]
        assert first != second
        async with db.read() as session:
            assert len((await session.scalars(select(BrowserSession))).all()) == 1
        client.cookies.set("muster_session", first, domain="muster.test")
        status, _ = await viewer(client)
    assert status == 401  # the session the browser had before is over


async def test_a_replayed_callback_is_refused(site, db):
    client = muster_client(site)
    async with client:
        callback = await sign_in_with_httpx(
            client, "/auth/login", "sre@example.com", stop_at=f"{MUSTER_TEST_URL}/auth/callback"
        )
        url = callback.headers["location"]
        first = await client.get(url)
        assert first.status_code == 303
        client.cookies.delete("muster_session")
        again = await client.get(url)
    assert again.status_code == 400
    assert "already used" in again.text
    assert "set-cookie" not in again.headers or "muster_session=" not in again.headers["set-cookie"]


async def test_a_callback_in_another_browser_is_refused(site):
    started = muster_client(site)
    async with started:
        callback = await sign_in_with_httpx(
            started, "/auth/login", "sre@example.com", stop_at=f"{MUSTER_TEST_URL}/auth/callback"
        )
    victim = muster_client(site)  # no sign-in cookie: the state is not this browser's
    async with victim:
        answer = await victim.get(callback.headers["location"])
        assert answer.status_code == 400
        assert (await viewer(victim))[0] == 401


async def test_an_unknown_state_is_refused(site):
    async with muster_client(site) as client:
        await client.get("/auth/login")
        answer = await client.get("/auth/callback", params={"state": "forged", "code": "x"})
    assert answer.status_code == 400
    assert "Start again" in answer.text or "Sign in again" in answer.text


async def test_the_provider_refusing_shows_a_page(site):
    async with muster_client(site) as client:
        answer = await client.get(
            "/auth/callback", params={"error": "access_denied", "error_description": "No way"}
        )
    assert answer.status_code == 400
    assert "No way" in answer.text


async def test_sign_out_ends_the_session_here_and_at_the_provider(site, identity_provider):
    async with signed_in(site, "sre@example.com") as (client, _):
        page = await client.get("/auth/logout")
        assert "Sign out" in page.text
        answer = await client.post(
            "/auth/logout",
            data={"csrf_token": csrf_of(page.text)},
            headers={"Origin": MUSTER_TEST_URL},
        )
        assert answer.status_code == 303
        location = answer.headers["location"]
        assert location.startswith(identity_provider.metadata["end_session_endpoint"])
        query = parse_qs(urlsplit(location).query)
        assert query == {
            "client_id": [identity_provider.client_id],
            "post_logout_redirect_uri": [f"{MUSTER_TEST_URL}/auth/signed-out"],
        }  # the client names itself: no ID token in the URL, which history and logs keep
        assert "eyJ" not in location  # nor any JWT elsewhere in it
        assert (await viewer(client))[0] == 401
        landed = await sign_in_with_httpx(client, location, "sre@example.com")
        assert str(landed.url) == f"{MUSTER_TEST_URL}/auth/signed-out"
        assert "You have signed out" in landed.text
        # Signed out at the provider too: signing in asks for the login again.
        again = await client.get("/auth/login")
        at_provider = await client.get(again.headers["location"])
        assert at_provider.is_redirect
        assert "/interaction/" in at_provider.headers["location"]


async def test_a_provider_that_is_down_gives_a_clear_page(db, database_url, identity_provider):
    app = oidc_app(database_url, identity_provider, MUSTER_OIDC_ISSUER="http://127.0.0.1:9")
    async with muster_client(app) as client:
        answer = await client.get("/auth/login")
    await app.state.services.db.dispose()
    assert answer.status_code == 503
    assert "could not reach your organisation's sign-in service" in html.unescape(answer.text)
    assert "Traceback" not in answer.text


async def test_pages_send_strangers_to_sign_in(site):
    async with muster_client(site) as client:
        answer = await client.get("/?tab=2")
        assert answer.status_code == 303
        assert answer.headers["location"] == "/auth/sign-in?next=/%3Ftab%3D2"
        page = await client.get(answer.headers["location"])
    assert "Sign in with your organisation" in page.text
    assert "Demo sign-in" not in page.text  # no dev sign-in unless MUSTER_DEV_LOGIN


async def test_sign_out_reaches_the_provider_from_another_process(
    site, db, database_url, identity_provider
):
    async with signed_in(site, "sre@example.com") as (client, _):
        cookie = client.cookies["muster_session"]
        token = csrf_of((await client.get("/auth/logout")).text)
    other = oidc_app(database_url, identity_provider)  # never signed anyone in: nothing cached
    async with muster_client(other) as browser:
        browser.cookies.set("muster_session", cookie, domain="muster.test")
        answer = await browser.post(
            "/auth/logout", data={"csrf_token": token}, headers={"Origin": MUSTER_TEST_URL}
        )
    await other.state.services.db.dispose()
    assert answer.headers["location"].startswith(identity_provider.metadata["end_session_endpoint"])


async def test_the_id_token_is_not_kept(site, db):
    async with signed_in(site, "sre@example.com"):
        pass
    async with db.read() as session:
        stored = (await session.scalars(select(BrowserSession))).one()
    assert stored.via_provider is True
    assert "id_token" not in BrowserSession.__table__.columns


async def test_an_issuer_with_a_trailing_slash_signs_in(
    db, database_url, identity_provider_with_slash
):
    idp = identity_provider_with_slash
    assert idp.issuer.endswith("/") and idp.metadata["issuer"] == idp.issuer
    app = oidc_app(database_url, idp)
    try:
        async with signed_in(app, "admin@example.com") as (client, landed):
            assert str(landed.url) == f"{MUSTER_TEST_URL}/"
            status, body = await viewer(client)
            assert (status, body["data"]["viewer"]["role"]) == (200, "ADMIN")
        bearer = await idp.access_token("admin@example.com")  # its iss ends with "/" too
        async with muster_client(app) as api:
            answer = await api.get(
                "/graphql", params={"query": VIEWER}, headers={"Authorization": f"Bearer {bearer}"}
            )
        assert answer.json()["data"]["viewer"]["email"] == "admin@example.com"
    finally:
        await app.state.services.db.dispose()


def failures(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "views.auth"]


async def test_an_issuer_written_otherwise_is_refused_and_logged(
    db, database_url, identity_provider_with_slash, caplog
):
    idp = identity_provider_with_slash
    app = oidc_app(database_url, idp, MUSTER_OIDC_ISSUER=idp.issuer.rstrip("/"))
    caplog.set_level(logging.WARNING, logger="views.auth")
    try:
        async with muster_client(app) as client:
            answer = await client.get("/auth/login")
    finally:
        await app.state.services.db.dispose()
    assert answer.status_code == 400
    assert "MUSTER_OIDC_ISSUER" in html.unescape(answer.text)
    [logged] = failures(caplog)
    assert logged.startswith("sign-in failed at /auth/login: ")
    assert repr(idp.issuer) in logged  # what the provider calls itself


async def test_every_sign_in_failure_is_logged_with_its_reason(
    site, db, database_url, identity_provider, caplog
):
    caplog.set_level(logging.WARNING, logger="views.auth")
    async with muster_client(site) as client:
        await client.get("/auth/callback", params={"error": "access_denied"})
        await client.get("/auth/callback", params={"state": "forged", "code": "x"})
        callback = await sign_in_with_httpx(
            client, "/auth/login", "sre@example.com", stop_at=f"{MUSTER_TEST_URL}/auth/callback"
        )
        tampered = callback.headers["location"].replace("code=", "code=tampered")
        assert (await client.get(tampered)).status_code == 400
    down = oidc_app(database_url, identity_provider, MUSTER_OIDC_ISSUER="http://127.0.0.1:9")
    try:
        async with muster_client(down) as client:
            assert (await client.get("/auth/login")).status_code == 503
    finally:
        await down.state.services.db.dispose()
    logged = failures(caplog)
    assert len(logged) == 4, logged
    provider_refused, unknown_state, bad_code, unreachable = logged
    assert (
        provider_refused
        == "sign-in failed at /auth/callback: the provider answered 'access_denied'"
    )
    assert unknown_state.startswith("sign-in failed at /auth/callback: the state is unknown")
    assert bad_code.startswith("sign-in failed at /auth/callback: The identity provider refused")
    assert unreachable.startswith("sign-in failed at /auth/login: identity provider unavailable")
    assert "127.0.0.1:9" in unreachable

"""Browser sessions through the dev sign-in: the persona picker, cookies over http and https,
GraphQL over the session for the web pages, and CSRF: cross-site or tokenless form posts, htmx
requests and GraphQL mutations change nothing."""

from __future__ import annotations

import contextlib
import html
import re

import httpx2
import pytest
from sqlalchemy import func, select

from app.config import Settings
from app.models import Incident, TokenScope
from app.services import tokens
from views.app import create_app

SITE = "http://127.0.0.1:8000"
DECLARE = 'mutation { declareIncident(input: {name: "From the browser"}) { incident { reference } userErrors { message } } }'


def dev_app(database_url, base_url=SITE, **env):
    environ = {
        "MUSTER_DATABASE_URL": database_url,
        "MUSTER_SECRET_KEY": "k" * 32,
        "MUSTER_BASE_URL": base_url,
        "MUSTER_DEV_LOGIN": "1",
        **env,
    }
    return create_app(Settings.from_env(environ))


@contextlib.asynccontextmanager
async def browser(database_url, base_url=SITE, **env):
    app = dev_app(database_url, base_url, **env)
    transport = httpx2.ASGITransport(app=app)
    async with httpx2.AsyncClient(transport=transport, base_url=base_url) as client:
        yield client
    await app.state.services.db.dispose()


def csrf_of(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


async def sign_in_as(client, email, origin=SITE):
    page = await client.get("/auth/sign-in", params={"next": "/"})
    answer = await client.post(
        "/auth/dev",
        data={"csrf_token": csrf_of(page.text), "email": email, "next": "/"},
        headers={"Origin": origin},
    )
    assert answer.status_code == 303, answer.text
    home = await client.get("/")
    assert home.status_code == 200
    return csrf_of(home.text)


async def viewer_email(client):
    response = await client.get("/graphql", params={"query": "{ viewer { email } }"})
    return response.json()["data"]["viewer"]["email"] if response.status_code == 200 else None


async def declared(db):
    async with db.read() as session:
        return await session.scalar(select(func.count()).select_from(Incident))


async def test_the_persona_picker_signs_in_without_a_password(db, database_url, people):
    async with browser(database_url) as client:
        page = await client.get("/auth/sign-in")
        assert page.status_code == 200
        text = html.unescape(page.text)
        assert "Demo sign-in" in text
        # Each persona's button names them and their email (their accessible name).
        assert re.search(
            r"<button[^>]*>\s*<span[^>]*>Rita Responder</span>\s*<span[^>]*>rita@example.com", text
        )
        await sign_in_as(client, "rita@example.com")
        assert await viewer_email(client) == "rita@example.com"


async def test_without_dev_login_there_is_no_persona_picker(db, database_url, people):
    async with browser(database_url, MUSTER_DEV_LOGIN="0") as client:
        page = await client.get("/auth/sign-in")
        assert "rita@example.com" not in page.text
        assert "Sign-in is not configured" in page.text
        answer = await client.post("/auth/dev", data={"email": "rita@example.com"})
        assert answer.status_code == 404
        assert "muster_session" not in client.cookies


def test_dev_login_refuses_a_public_base_url():
    with pytest.raises(Exception, match="MUSTER_DEV_LOGIN"):
        Settings.from_env(
            {
                "MUSTER_SECRET_KEY": "k" * 32,
                "MUSTER_DEV_LOGIN": "1",
                "MUSTER_BASE_URL": "https://muster.example.com",
            }
        )


async def test_cookies_over_https_are_secure_and_host_prefixed(db, database_url, people):
    async with browser(database_url, base_url="https://localhost") as client:
        page = await client.get("/auth/sign-in")
        sign_in_cookie = page.headers["set-cookie"]
        assert sign_in_cookie.startswith("__Host-muster_sign_in=")
        answer = await client.post(
            "/auth/dev",
            data={"csrf_token": csrf_of(page.text), "email": "rita@example.com"},
            headers={"Origin": "https://localhost"},
        )
        session = next(c for c in answer.headers.get_list("set-cookie") if "muster_session" in c)
        assert session.startswith("__Host-muster_session=")
        for attribute in ("Secure", "HttpOnly", "SameSite=lax", "Path=/"):
            assert attribute in session
        assert "Domain" not in session
        assert await viewer_email(client) == "rita@example.com"


async def test_graphql_over_the_session_needs_the_csrf_token(db, database_url, people):
    async with browser(database_url) as client:
        token = await sign_in_as(client, "mo@example.com")
        tokenless = await client.post("/graphql", json={"query": DECLARE}, headers={"Origin": SITE})
        assert tokenless.status_code == 403
        assert await declared(db) == 0
        good = await client.post(
            "/graphql",
            json={"query": DECLARE},
            headers={"Origin": SITE, "X-CSRF-Token": token},
        )
        assert good.status_code == 200
        assert good.json()["data"]["declareIncident"]["incident"]["reference"]
        assert await declared(db) == 1


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Referer": "https://evil.example/page"},
        {"Sec-Fetch-Site": "cross-site", "Origin": SITE},
    ],
    ids=["origin", "null-origin", "referer", "fetch-metadata"],
)
async def test_a_cross_site_request_changes_nothing(db, database_url, people, headers):
    async with browser(database_url) as client:
        token = await sign_in_as(client, "mo@example.com")
        # A form post to sign out, even with the right token...
        form = await client.post("/auth/logout", data={"csrf_token": token}, headers=headers)
        # ...an htmx request...
        htmx = await client.post(
            "/auth/logout",
            headers={**headers, "HX-Request": "true", "X-CSRF-Token": token},
        )
        # ...and a GraphQL mutation over the session.
        mutation = await client.post(
            "/graphql", json={"query": DECLARE}, headers={**headers, "X-CSRF-Token": token}
        )
        assert [form.status_code, htmx.status_code, mutation.status_code] == [403, 403, 403]
        assert "another site" in form.text
        assert await viewer_email(client) == "mo@example.com"  # still signed in
        assert await declared(db) == 0


async def test_a_form_post_without_the_token_changes_nothing(db, database_url, people):
    async with browser(database_url) as client:
        token = await sign_in_as(client, "mo@example.com")
        for data in ({}, {"csrf_token": "forged"}, {"csrf_token": token + "x"}):
            answer = await client.post("/auth/logout", data=data, headers={"Origin": SITE})
            assert answer.status_code == 403
            assert "reload the page" in answer.text
        assert await viewer_email(client) == "mo@example.com"
        answer = await client.post(
            "/auth/logout", data={"csrf_token": token}, headers={"Origin": SITE}
        )
        assert answer.status_code == 303
        assert answer.headers["location"] == "/auth/signed-out"
        assert await viewer_email(client) is None


async def test_sign_out_page_has_a_button_and_get_signs_nobody_out(db, database_url, people):
    async with browser(database_url) as client:
        await sign_in_as(client, "mo@example.com")
        page = await client.get("/auth/logout")
        assert 'method="post" action="/auth/logout"' in page.text
        assert await viewer_email(client) == "mo@example.com"


async def test_api_clients_need_no_csrf_token(db, database_url, people):
    _, secret = await tokens.create_token(
        db, user=people.member, name="script", scope=TokenScope.READ_WRITE
    )
    async with browser(database_url) as client:
        answer = await client.post(
            "/graphql", json={"query": DECLARE}, headers={"Authorization": f"Bearer {secret}"}
        )
    assert answer.json()["data"]["declareIncident"]["incident"]["reference"] == "INC-1"

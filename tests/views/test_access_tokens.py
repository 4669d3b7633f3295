"""OIDC access tokens (JWTs) from the real provider as API credentials: a real one works for a
person who has signed in; ID tokens never do (over HTTP and in a WebSocket's
``connection_init``, on a real server), nor tokens with a ``nonce``, another ``typ`` or the
client id as audience; with no ``MUSTER_OIDC_AUDIENCE``, no provider token at all. Expired (past
the leeway), wrong-audience, wrong-issuer, ``alg: none``, unknown-key, HMAC-signed and oversized
tokens are refused the same way as no token at all; a provider that cannot be reached is
logged, without the token."""

from __future__ import annotations

import json
import logging
import time

import httpx2
import pytest
import websockets
from joserfc.jwk import OctKey, RSAKey

from tests.identity_provider import MUSTER_TEST_URL, muster_client, sign_in_with_httpx
from tests.live.conftest import free_port, serving
from tests.views.test_sign_in import oidc_app

QUERY = {"query": "{ viewer { email role } }"}
LEEWAY = 30  # seconds past exp, as README's security section promises


@pytest.fixture
async def app(db, database_url, identity_provider):
    app = oidc_app(database_url, identity_provider)
    yield app
    await app.state.services.db.dispose()


@pytest.fixture
async def client(app):
    async with muster_client(app) as http:
        yield http


async def sign_in(app, login):
    async with muster_client(app) as browser:
        await sign_in_with_httpx(browser, f"{MUSTER_TEST_URL}/auth/login", login)


async def ask(client, token):
    return await client.get("/graphql", params=QUERY, headers={"Authorization": f"Bearer {token}"})


def claims(idp, **override):
    now = int(time.time())
    return {
        "iss": idp.issuer,
        "aud": idp.resource,
        "sub": "sre@example.com",
        "iat": now,
        "exp": now + 600,
        **override,
    }


async def test_a_real_access_token_works_for_someone_who_signed_in(app, client, identity_provider):
    token = await identity_provider.access_token("sre@example.com")
    assert (await ask(client, token)).status_code == 401  # not a Muster user yet
    await sign_in(app, "sre@example.com")
    answer = await ask(client, token)
    assert answer.status_code == 200
    assert answer.json()["data"]["viewer"] == {"email": "sre@example.com", "role": "RESPONDER"}


@pytest.mark.parametrize(
    "forge",
    [
        lambda idp: idp.sign(claims(idp, exp=int(time.time()) - 120)),
        lambda idp: idp.sign(claims(idp, exp=int(time.time()) - LEEWAY - 5)),
        lambda idp: idp.sign(claims(idp, nonce="n-0S6_WzA2Mj")),  # only ID tokens have one
        lambda idp: idp.sign(claims(idp), header_extra={"typ": "JWT"}),
        lambda idp: idp.sign(claims(idp), header_extra={"typ": "id_token+jwt"}),
        lambda idp: idp.sign(claims(idp, aud=[idp.resource, idp.client_id])),
        lambda idp: idp.sign(claims(idp, aud="someone-else")),
        lambda idp: idp.sign(claims(idp, aud=idp.client_id)),  # an ID token's audience
        lambda idp: idp.sign(claims(idp, iss="https://evil.example")),
        lambda idp: idp.unsigned(claims(idp)),
        lambda idp: idp.sign(claims(idp), key=RSAKey.generate_key(2048, {"kid": "other"})),
        lambda idp: idp.sign(
            claims(idp),
            key=RSAKey.generate_key(2048),
            header_extra={"kid": idp.key.kid},  # the provider's key id, another key
        ),
        lambda idp: idp.sign(claims(idp), key=OctKey.import_key(idp.client_secret.encode()), alg="HS256"),
        lambda idp: idp.sign(claims(idp, padding="x" * 10_000)),
        lambda idp: idp.sign({k: v for k, v in claims(idp).items() if k != "exp"}),
    ],
    ids=[
        "expired", "just-past-the-leeway", "nonce", "typ-jwt", "typ-other",
        "also-for-the-client", "wrong-audience", "id-token-audience", "wrong-issuer", "alg-none",
        "unknown-key", "forged-with-known-kid", "hmac", "oversized", "no-expiry",
    ],
)  # fmt: skip
async def test_bad_tokens_are_refused_like_no_token(app, client, identity_provider, forge):
    await sign_in(app, "sre@example.com")  # the person exists: only the token can be at fault
    nothing = await client.get("/graphql", params=QUERY)
    answer = await ask(client, forge(identity_provider))
    assert answer.status_code == 401
    assert answer.content == nothing.content


@pytest.mark.parametrize(
    "typ", [None, "at+jwt", "AT+JWT", "application/at+jwt"], ids=["no-typ", "at", "upper", "media"]
)
async def test_access_tokens_within_the_leeway_and_typed_as_access_tokens_work(
    app, client, identity_provider, typ
):
    await sign_in(app, "sre@example.com")
    token = identity_provider.sign(
        claims(identity_provider, exp=int(time.time()) - LEEWAY + 5), header_extra={"typ": typ}
    )
    answer = await ask(client, token)
    assert answer.status_code == 200
    assert answer.json()["data"]["viewer"]["email"] == "sre@example.com"


async def ws_init(url: str, token: str) -> dict | int:
    """``connection_init`` with ``token`` on a real server: the ack, or the close code."""
    async with websockets.connect(
        url.replace("http://", "ws://") + "/graphql",
        subprotocols=["graphql-transport-ws"],
        origin=MUSTER_TEST_URL,
    ) as socket:
        await socket.send(
            json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}})
        )
        try:
            return json.loads(await socket.recv())
        except websockets.ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd else -1


@pytest.mark.parametrize("audience", ["resource", "default", "client-id"])
async def test_an_id_token_is_never_a_bearer_over_http_or_websocket(
    db, database_url, identity_provider, audience
):
    idp = identity_provider
    configured = {"resource": idp.resource, "default": "", "client-id": idp.client_id}[audience]
    made = oidc_app(database_url, idp, MUSTER_OIDC_AUDIENCE=configured)
    try:
        await sign_in(made, "admin@example.com")
        issued = await idp.tokens("admin@example.com")  # a real sign-in's ID token
        with serving(made, free_port()) as url:
            async with httpx2.AsyncClient(base_url=url, trust_env=False) as http:
                nothing = await http.get("/graphql", params=QUERY)
                refused = await http.get(
                    "/graphql",
                    params=QUERY,
                    headers={"Authorization": f"Bearer {issued['id_token']}"},
                )
                accepted = await http.get(
                    "/graphql",
                    params=QUERY,
                    headers={"Authorization": f"Bearer {issued['access_token']}"},
                )
            socket_refused = await ws_init(url, issued["id_token"])
            socket_accepted = await ws_init(url, issued["access_token"])
    finally:
        await made.state.services.db.dispose()
    assert refused.status_code == 401
    assert refused.content == nothing.content
    assert socket_refused == 4403
    if audience == "resource":  # the real access token, for the configured audience, works
        assert accepted.json()["data"]["viewer"]["email"] == "admin@example.com"
        assert socket_accepted["type"] == "connection_ack"
    else:  # it is for the API, not for this audience (or for none at all by default)
        assert accepted.status_code == 401
        assert socket_accepted == 4403


async def test_by_default_tokens_for_the_client_are_refused(db, database_url, identity_provider):
    idp = identity_provider
    made = oidc_app(database_url, idp, MUSTER_OIDC_AUDIENCE="")
    try:
        await sign_in(made, "sre@example.com")
        async with muster_client(made) as http:
            nothing = await http.get("/graphql", params=QUERY)
            answer = await ask(http, idp.sign(claims(idp, aud=idp.client_id)))
    finally:
        await made.state.services.db.dispose()
    assert answer.status_code == 401
    assert answer.content == nothing.content


async def test_the_client_id_as_audience_works_only_when_configured_so(
    db, database_url, identity_provider
):
    idp = identity_provider
    made = oidc_app(database_url, idp, MUSTER_OIDC_AUDIENCE=idp.client_id)
    try:
        await sign_in(made, "sre@example.com")
        async with muster_client(made) as http:
            answer = await ask(http, idp.sign(claims(idp, aud=idp.client_id)))
            with_nonce = await ask(http, idp.sign(claims(idp, aud=idp.client_id, nonce="n")))
    finally:
        await made.state.services.db.dispose()
    assert answer.json()["data"]["viewer"]["email"] == "sre@example.com"
    assert with_nonce.status_code == 401  # still never an ID token


async def test_a_provider_outage_on_a_bearer_check_is_logged_without_the_token(
    db, database_url, identity_provider, caplog
):
    made = oidc_app(database_url, identity_provider, MUSTER_OIDC_ISSUER="http://127.0.0.1:9")
    caplog.set_level(logging.WARNING, logger="app.oidc")
    token = identity_provider.sign(claims(identity_provider))
    try:
        async with muster_client(made) as http:
            answer = await ask(http, token)
    finally:
        await made.state.services.db.dispose()
    assert answer.status_code == 401
    [logged] = [r for r in caplog.records if r.name == "app.oidc"]
    assert logged.levelno == logging.WARNING
    assert logged.getMessage().startswith("a bearer token could not be checked: ")
    assert "127.0.0.1:9" in logged.getMessage()
    assert token not in logged.getMessage() and token.split(".")[1] not in caplog.text


async def test_the_provider_client_is_closed_at_shutdown(db, database_url, identity_provider):
    made = oidc_app(database_url, identity_provider)
    with serving(made, free_port()) as url:
        async with httpx2.AsyncClient(base_url=url, trust_env=False) as http:
            for _ in range(2):  # the same client for every call to the provider
                await http.get("/graphql", params=QUERY, headers={"Authorization": "Bearer a.b.c"})
        assert not made.state.services.provider._http.is_closed
    assert made.state.services.provider._http.is_closed

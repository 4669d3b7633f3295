"""OIDC access tokens (JWTs) from the real provider as API credentials: a real one works for a
person who has signed in; expired, wrong-audience, wrong-issuer, ``alg: none``, unknown-key,
HMAC-signed and oversized tokens are refused the same way as no token at all."""

from __future__ import annotations

import time

import pytest
from joserfc.jwk import OctKey, RSAKey

from tests.identity_provider import MUSTER_TEST_URL, muster_client, sign_in_with_httpx
from tests.views.test_sign_in import oidc_app

QUERY = {"query": "{ viewer { email role } }"}


@pytest.fixture
async def app(db, database_url, identity_provider):
    app = oidc_app(database_url, identity_provider)
    yield app
    await app.state.db.dispose()


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
        "expired", "wrong-audience", "id-token-audience", "wrong-issuer", "alg-none",
        "unknown-key", "forged-with-known-kid", "hmac", "oversized", "no-expiry",
    ],
)  # fmt: skip
async def test_bad_tokens_are_refused_like_no_token(app, client, identity_provider, forge):
    await sign_in(app, "sre@example.com")  # the person exists: only the token can be at fault
    nothing = await client.get("/graphql", params=QUERY)
    answer = await ask(client, forge(identity_provider))
    assert answer.status_code == 401
    assert answer.content == nothing.content

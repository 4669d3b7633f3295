"""The sign-in test tooling itself: the real OpenID Provider answers discovery with what the app
relies on (PKCE S256, RP-initiated logout), gives a real JWT access token for the API signed with
the fixture's key, and headless Chromium can reach it.
"""

from __future__ import annotations

import httpx2
from joserfc import jwt
from playwright.async_api import Page

from tests.identity_provider import IdentityProvider


async def test_discovery_advertises_pkce_and_logout(identity_provider: IdentityProvider) -> None:
    url = f"{identity_provider.issuer}/.well-known/openid-configuration"
    async with httpx2.AsyncClient(trust_env=False) as client:
        metadata = (await client.get(url)).json()

    assert metadata["issuer"] == identity_provider.issuer
    assert "S256" in metadata["code_challenge_methods_supported"]
    assert metadata["end_session_endpoint"].startswith(identity_provider.issuer)
    assert "groups" in metadata["scopes_supported"]


async def test_access_token_is_a_jwt_for_the_api(identity_provider: IdentityProvider) -> None:
    token = await identity_provider.access_token("sre@example.com")

    decoded = jwt.decode(token, identity_provider.key, algorithms=["RS256"])
    assert decoded.header["kid"] == identity_provider.key.kid
    assert decoded.claims["iss"] == identity_provider.issuer
    assert decoded.claims["aud"] == identity_provider.resource
    assert decoded.claims["sub"] == "sre@example.com"
    assert decoded.claims["groups"] == ["sre"]


async def test_chromium_reaches_the_provider(
    identity_provider: IdentityProvider, page: Page
) -> None:
    url = f"{identity_provider.issuer}/.well-known/openid-configuration"
    response = await page.goto(url)

    assert response is not None and response.ok
    assert (await response.json())["issuer"] == identity_provider.issuer

"""Signing in through an OpenID Connect provider, and checking the tokens it issues.

``Provider`` reads the provider's discovery document and its signing keys (JWKS) when first
needed and keeps them; keys are read again when a token names one not seen before (at most once
per ``KEYS_REFRESH``), so the provider can rotate them. It builds the authorization URL (code
flow with PKCE S256, state and nonce), exchanges the code with Authlib's OAuth 2 client, and
checks the ID token itself with joserfc: a pinned asymmetric algorithm, a key from the JWKS, the
issuer, the audience, the expiry and the nonce. Bearer access tokens (JWTs) sent to the API get
the same checks with the API's audience. Not reaching the provider is ``ProviderUnavailable``;
anything wrong with what it answers is ``SignInFailed``.
"""

from __future__ import annotations

import secrets
import time
from typing import Any
from urllib.parse import urlencode

import httpx2
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.httpx_client import AsyncOAuth2Client
from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.jwt import JWTClaimsRegistry

from app.config import OidcSettings
from app.services.users import Identity

# Asymmetric algorithms only: never "none", never a shared-secret HMAC.
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA")
MAX_TOKEN = 8 * 1024  # bytes; real tokens are a few hundred
KEYS_REFRESH = 60.0  # seconds between reads of the JWKS for an unknown key
METADATA_TTL = 3600.0  # seconds the discovery document is kept
LEEWAY = 60  # seconds of clock difference allowed between us and the provider
TIMEOUT = 10.0  # seconds for any request to the provider
SCOPE = "openid email profile"


class ProviderUnavailable(Exception):
    """The identity provider could not be reached, or answered with a server error."""


class SignInFailed(Exception):
    """The provider's answer or a token did not pass the checks; the message is for people."""


class Provider:
    """One OpenID Connect provider, as configured by ``OidcSettings``."""

    def __init__(self, settings: OidcSettings) -> None:
        self.settings = settings
        self._metadata: dict[str, Any] | None = None
        self._metadata_at = 0.0
        self._keys: KeySet | None = None
        self._keys_at = 0.0

    @property
    def scope(self) -> str:
        groups = self.settings.groups_claim
        return f"{SCOPE} {groups}" if groups == "groups" else SCOPE

    async def authorization_url(self, *, redirect_uri: str, state: str, nonce: str) -> tuple[
        str, str
    ]:  # fmt: skip
        """Where to send the browser, and the PKCE verifier to keep for the callback."""
        metadata = await self.metadata()
        verifier = secrets.token_urlsafe(64)
        client = self._client(redirect_uri)
        url, _ = client.create_authorization_url(
            metadata["authorization_endpoint"], state=state, code_verifier=verifier, nonce=nonce
        )
        return str(url), verifier

    async def sign_in(
        self, *, code: str, redirect_uri: str, code_verifier: str, nonce: str
    ) -> tuple[Identity, str]:
        """Exchange the callback's code; the person it names and the checked ID token."""
        metadata = await self.metadata()
        async with self._client(redirect_uri) as client:
            try:
                token = await client.fetch_token(
                    metadata["token_endpoint"], code=code, code_verifier=code_verifier
                )
            except AuthlibBaseError as error:
                raise SignInFailed(
                    f"The identity provider refused the sign-in ({error})."
                ) from None
            except httpx2.HTTPError as error:
                raise ProviderUnavailable(str(error)) from error
        id_token = token.get("id_token")
        if not isinstance(id_token, str):
            raise SignInFailed("The identity provider sent no ID token.")
        claims = await self.verify(id_token, audience=self.settings.client_id, nonce=nonce)
        if "email" not in claims or self.settings.groups_claim not in claims:
            claims = {**await self._userinfo(metadata, token.get("access_token")), **claims}
        return self._identity(claims), id_token

    async def verify_access_token(self, token: str) -> dict[str, Any] | None:
        """The claims of a valid bearer access token for the API, or None."""
        try:
            return await self.verify(token, audience=self.settings.audience)
        except (SignInFailed, ProviderUnavailable):
            return None

    async def verify(
        self, token: str, *, audience: str, nonce: str | None = None
    ) -> dict[str, Any]:
        """The claims of a JWT signed by the provider, for ``audience``, not expired."""
        if len(token) > MAX_TOKEN:
            raise SignInFailed("The token is too large.")
        try:
            decoded = jwt.decode(token, await self._keys_for(token), algorithms=ALGORITHMS)
            options: dict[str, Any] = {
                "iss": {"essential": True, "value": self.settings.issuer},
                "aud": {"essential": True, "value": audience},
                "exp": {"essential": True},
                "sub": {"essential": True},
            }
            if nonce is not None:
                options["nonce"] = {"essential": True, "value": nonce}
            JWTClaimsRegistry(leeway=LEEWAY, **options).validate(decoded.claims)
        except (JoseError, ValueError) as error:
            raise SignInFailed(f"The token did not pass the checks ({error}).") from None
        claims = dict(decoded.claims)
        authorized = claims.get("azp")
        if nonce is not None and authorized is not None and authorized != audience:
            raise SignInFailed("The ID token was issued to another client.")
        return claims

    async def end_session_url(self, *, id_token: str | None, after: str) -> str | None:
        """Where to sign out at the provider too (RP-initiated logout), if it offers that (and
        answers now: signing out here never waits on a provider that is down)."""
        try:
            metadata = await self.metadata()
        except (ProviderUnavailable, SignInFailed):
            return None
        endpoint = metadata.get("end_session_endpoint")
        if not isinstance(endpoint, str):
            return None
        query = {"client_id": self.settings.client_id, "post_logout_redirect_uri": after}
        if id_token:
            query["id_token_hint"] = id_token
        return f"{endpoint}?{urlencode(query)}"

    async def metadata(self) -> dict[str, Any]:
        """The provider's discovery document (``/.well-known/openid-configuration``)."""
        fresh = time.monotonic() - self._metadata_at < METADATA_TTL
        if self._metadata is None or not fresh:
            url = self.settings.issuer + "/.well-known/openid-configuration"
            try:
                document = await _get_json(url)
            except ProviderUnavailable:
                if self._metadata is None:
                    raise
                return self._metadata  # keep using what we had while the provider is away
            missing = {"authorization_endpoint", "token_endpoint", "jwks_uri"} - set(document)
            if missing or document.get("issuer") != self.settings.issuer:
                raise SignInFailed(
                    "The identity provider's discovery document does not match "
                    "MUSTER_OIDC_ISSUER or lacks its endpoints."
                )
            self._metadata, self._metadata_at = document, time.monotonic()
        return self._metadata

    async def _keys_for(self, token: str) -> KeySet:
        kid = _header_kid(token)
        known = self._keys is not None and any(
            key.kid == kid for key in self._keys.keys if kid is not None
        )
        recently = time.monotonic() - self._keys_at < KEYS_REFRESH
        if self._keys is None or (not known and not recently):
            metadata = await self.metadata()
            document = await _get_json(metadata["jwks_uri"])
            try:
                self._keys = KeySet.import_key_set(document)  # type: ignore[arg-type]
            except (JoseError, ValueError, TypeError) as error:
                raise SignInFailed(
                    f"The provider's signing keys are unreadable ({error})."
                ) from None
            self._keys_at = time.monotonic()
        return self._keys

    async def _userinfo(self, metadata: dict[str, Any], access_token: object) -> dict[str, Any]:
        endpoint = metadata.get("userinfo_endpoint")
        if not isinstance(endpoint, str) or not isinstance(access_token, str):
            return {}
        return await _get_json(endpoint, headers={"Authorization": f"Bearer {access_token}"})

    def _identity(self, claims: dict[str, Any]) -> Identity:
        email = claims.get("email")
        if not isinstance(email, str) or not email:
            raise SignInFailed(
                "The identity provider did not share your email address, which Muster needs."
            )
        groups = claims.get(self.settings.groups_claim) or []
        if isinstance(groups, str):
            groups = [groups]
        name = claims.get("name")
        return Identity(
            subject=str(claims["sub"]),
            email=email,
            email_verified=claims.get("email_verified") is True,
            name=name if isinstance(name, str) else "",
            role=self.settings.role_for([str(group) for group in groups]),
        )

    def _client(self, redirect_uri: str) -> AsyncOAuth2Client:
        return AsyncOAuth2Client(
            client_id=self.settings.client_id,
            client_secret=self.settings.client_secret,
            scope=self.scope,
            redirect_uri=redirect_uri,
            code_challenge_method="S256",
            timeout=TIMEOUT,
        )


async def _get_json(url: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    try:
        async with httpx2.AsyncClient(timeout=TIMEOUT) as client:
            response = await client.get(url, headers=headers)
    except httpx2.HTTPError as error:
        raise ProviderUnavailable(f"{url}: {error}") from error
    if response.status_code >= 500:
        raise ProviderUnavailable(f"{url} answered {response.status_code}")
    try:
        document = response.json()
    except ValueError:
        document = None
    if response.status_code != 200 or not isinstance(document, dict):
        raise SignInFailed(f"The identity provider answered {response.status_code} at {url}.")
    return document


def _header_kid(token: str) -> str | None:
    try:
        header = jws.extract_compact(token.encode()).protected
    except (JoseError, ValueError):
        return None
    kid = header.get("kid")
    return kid if isinstance(kid, str) else None

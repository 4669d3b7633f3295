"""Signing in through an OpenID Connect provider, and checking the tokens it issues.

``Provider`` reads the provider's discovery document and its signing keys (JWKS) when first
needed and keeps them; keys are read again when a token names one not seen before (at most once
per ``KEYS_REFRESH``), so the provider can rotate them. The issuer is compared exactly as
``MUSTER_OIDC_ISSUER`` writes it (a trailing slash included). It builds the authorization URL
(code flow with PKCE S256, state and nonce) and exchanges the code (Authlib's request and client
authentication, over the provider's one HTTP client, closed by ``aclose``), and checks the ID
token itself with joserfc: a pinned asymmetric algorithm, a key from the JWKS, the issuer, the
audience, the expiry and the nonce. Bearer tokens sent to the API get the same checks with the
API's audience, and must be access tokens: ``typ`` ``at+jwt`` when a ``typ`` is given, no
``nonce``, not for the client id unless that is the configured audience. ``LEEWAY`` is the one
allowance for clock difference, past ``exp`` over HTTP and on live feeds alike. Not reaching the
provider is ``ProviderUnavailable``; anything wrong with what it answers is ``SignInFailed``.
"""

from __future__ import annotations

import logging
import secrets
import time
from typing import Any
from urllib.parse import urlencode

import httpx2
from authlib.integrations.httpx_client import OAuth2ClientAuth
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri, prepare_token_request
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.jwt import JWTClaimsRegistry

from app.config import OidcSettings
from app.services.users import Identity

log = logging.getLogger(__name__)

# Asymmetric algorithms only: never "none", never a shared-secret HMAC.
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA")
MAX_TOKEN = 8 * 1024  # bytes; real tokens are a few hundred
KEYS_REFRESH = 60.0  # seconds between reads of the JWKS for an unknown key
METADATA_TTL = 3600.0  # seconds the discovery document is kept
# Seconds of clock difference allowed between us and the provider: a token is taken until
# ``exp + LEEWAY``, by the API's requests and by live feeds alike (``Authenticator.live``).
LEEWAY = 30
TIMEOUT = 10.0  # seconds for any request to the provider
SCOPE = "openid email profile"
# RFC 9068: the header type of JWT access tokens (compared case-insensitively).
ACCESS_TOKEN_TYPES = frozenset({"at+jwt", "application/at+jwt"})
DISCOVERY = "/.well-known/openid-configuration"


class ProviderUnavailable(Exception):
    """The identity provider could not be reached, or answered with a server error."""


class SignInFailed(Exception):
    """The provider's answer or a token did not pass the checks; the message is for people."""


class Provider:
    """One OpenID Connect provider, as configured by ``OidcSettings``."""

    def __init__(self, settings: OidcSettings) -> None:
        self.settings = settings
        self._http = httpx2.AsyncClient(timeout=TIMEOUT)
        self._metadata: dict[str, Any] | None = None
        self._metadata_at = 0.0
        self._keys: KeySet | None = None
        self._keys_at = 0.0

    async def aclose(self) -> None:
        """Close the HTTP client (its pooled connections to the provider)."""
        await self._http.aclose()

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
        url = prepare_grant_uri(
            metadata["authorization_endpoint"],
            client_id=self.settings.client_id,
            response_type="code",
            redirect_uri=redirect_uri,
            scope=self.scope,
            state=state,
            nonce=nonce,
            code_challenge=create_s256_code_challenge(verifier),
            code_challenge_method="S256",
        )
        return str(url), verifier

    async def sign_in(
        self, *, code: str, redirect_uri: str, code_verifier: str, nonce: str
    ) -> Identity:
        """Exchange the callback's code; the person its checked ID token names."""
        metadata = await self.metadata()
        if not code:
            raise SignInFailed("The identity provider sent no authorization code.")
        body = prepare_token_request(
            "authorization_code", code=code, redirect_uri=redirect_uri, code_verifier=code_verifier
        )
        auth = OAuth2ClientAuth(
            self.settings.client_id, self.settings.client_secret, "client_secret_basic"
        )
        response = await self._request(
            "POST",
            metadata["token_endpoint"],
            content=body,
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Accept": "application/json",
            },
            auth=auth,
        )
        token = _json(response)
        if response.status_code != 200 or token is None or "error" in token:
            error = (token or {}).get("error_description") or (token or {}).get("error")
            raise SignInFailed(
                f"The identity provider refused the sign-in ({error or response.status_code})."
            )
        id_token = token.get("id_token")
        if not isinstance(id_token, str):
            raise SignInFailed("The identity provider sent no ID token.")
        claims = await self.verify(id_token, audience=self.settings.client_id, nonce=nonce)
        if "email" not in claims or self.settings.groups_claim not in claims:
            claims = {**await self._userinfo(metadata, token.get("access_token")), **claims}
        return self._identity(claims)

    async def verify_access_token(
        self, token: str, *, now: int | None = None
    ) -> dict[str, Any] | None:
        """The claims of a valid access token for the API (never an ID token), or None; none
        at all unless ``MUSTER_OIDC_AUDIENCE`` is set. A provider that cannot be reached is
        logged (without the token) and the token refused."""
        audience = self.settings.audience
        if audience is None:
            return None
        try:
            return await self.verify(token, audience=audience, now=now, access=True)
        except SignInFailed:
            return None
        except ProviderUnavailable as error:
            log.warning("a bearer token could not be checked: %s", error)
            return None

    async def verify(
        self,
        token: str,
        *,
        audience: str,
        nonce: str | None = None,
        now: int | None = None,
        access: bool = False,
    ) -> dict[str, Any]:
        """The claims of a JWT signed by the provider, for ``audience``, not expired at ``now``
        (the system clock by default) beyond ``LEEWAY``; with ``access``, an access token."""
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
            JWTClaimsRegistry(now=now, leeway=LEEWAY, **options).validate(decoded.claims)
        except (JoseError, ValueError) as error:
            raise SignInFailed(f"The token did not pass the checks ({error}).") from None
        claims = dict(decoded.claims)
        if access:
            self._check_access_token(decoded.header, claims)
        authorized = claims.get("azp")
        if nonce is not None and authorized is not None and authorized != audience:
            raise SignInFailed("The ID token was issued to another client.")
        return claims

    def _check_access_token(self, header: dict[str, Any], claims: dict[str, Any]) -> None:
        """Refuse what is not an access token: another explicit type, a ``nonce`` (only ID
        tokens carry one), or the client id as audience (an ID token's) unless configured."""
        kind = header.get("typ")
        if kind is not None and str(kind).lower() not in ACCESS_TOKEN_TYPES:
            raise SignInFailed(f"The token is not an access token (typ {kind!r}).")
        if "nonce" in claims:
            raise SignInFailed("The token is an ID token (it has a nonce), not an access token.")
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        client_id = self.settings.client_id
        if client_id in audiences and self.settings.audience != client_id:
            raise SignInFailed("The token is for Muster's client (an ID token's audience).")

    async def end_session_url(self, *, after: str) -> str | None:
        """Where to sign out at the provider too (RP-initiated logout, identified by the
        client id, never the ID token), if it offers that (and answers now: signing out here
        never waits on a provider that is down)."""
        try:
            metadata = await self.metadata()
        except (ProviderUnavailable, SignInFailed):
            return None
        endpoint = metadata.get("end_session_endpoint")
        if not isinstance(endpoint, str):
            return None
        query = urlencode({"client_id": self.settings.client_id, "post_logout_redirect_uri": after})
        return f"{endpoint}{'&' if '?' in endpoint else '?'}{query}"

    async def metadata(self) -> dict[str, Any]:
        """The provider's discovery document (``/.well-known/openid-configuration`` under the
        issuer), whose ``issuer`` must be ``MUSTER_OIDC_ISSUER`` exactly."""
        fresh = time.monotonic() - self._metadata_at < METADATA_TTL
        if self._metadata is None or not fresh:
            issuer = self.settings.issuer
            try:
                document = await self._get_json(issuer.rstrip("/") + DISCOVERY)
            except ProviderUnavailable:
                if self._metadata is None:
                    raise
                return self._metadata  # keep using what we had while the provider is away
            missing = {"authorization_endpoint", "token_endpoint", "jwks_uri"} - set(document)
            if missing:
                raise SignInFailed(
                    "The identity provider's discovery document lacks "
                    + ", ".join(sorted(missing))
                    + "."
                )
            if document.get("issuer") != issuer:
                raise SignInFailed(
                    f"The identity provider calls itself {document.get('issuer')!r}, "
                    f"not {issuer!r} as MUSTER_OIDC_ISSUER says."
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
            document = await self._get_json(metadata["jwks_uri"])
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
        return await self._get_json(endpoint, headers={"Authorization": f"Bearer {access_token}"})

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
            groups=tuple(str(group) for group in groups),
        )

    async def _request(self, method: str, url: str, **options: Any) -> httpx2.Response:
        try:
            response = await self._http.request(method, url, **options)
        except httpx2.HTTPError as error:
            raise ProviderUnavailable(f"{url}: {error}") from error
        if response.status_code >= 500:
            raise ProviderUnavailable(f"{url} answered {response.status_code}")
        return response

    async def _get_json(self, url: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
        response = await self._request("GET", url, headers=headers)
        document = _json(response)
        if response.status_code != 200 or document is None:
            raise SignInFailed(f"The identity provider answered {response.status_code} at {url}.")
        return document


def _json(response: httpx2.Response) -> dict[str, Any] | None:
    try:
        document = response.json()
    except ValueError:
        return None
    return document if isinstance(document, dict) else None


def _header_kid(token: str) -> str | None:
    try:
        header = jws.extract_compact(token.encode()).protected
    except (JoseError, ValueError):
        return None
    kid = header.get("kid")
    return kid if isinstance(kid, str) else None

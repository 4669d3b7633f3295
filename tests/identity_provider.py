"""A real OpenID Provider for the sign-in tests: the session fixture ``identity_provider`` runs
``tests/idp/provider.mjs`` (oidc-provider, Node) on a free port with a signing key made here, so
tests can both sign in for real and forge tokens with the provider's own key. Helpers drive the
provider's login with httpx2 (``sign_in_with_httpx``), route ``http://muster.test`` to an ASGI
app (``muster_client``) and fetch real tokens for an account (``IdentityProvider.tokens``: the
JWT access token and the ID token). ``identity_provider_with_slash`` is a second provider whose
issuer ends with a slash, as Auth0's and Azure AD v1's do. Without Node or
``tests/idp/node_modules`` the tests that use it are skipped with the reason (failed in CI).
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import os
import secrets
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import httpx2
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from tests.conftest import missing

IDP_DIR = Path(__file__).parent / "idp"
MUSTER_TEST_URL = "http://muster.test"
ROLE_MAP = "sre=responder,security=member,muster-admins=admin,executives=viewer"
SCOPE = "openid email profile groups"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclasses.dataclass
class IdentityProvider:
    """The running provider: its client's credentials, signing key and a few token helpers."""

    issuer: str
    client_id: str
    client_secret: str
    resource: str
    muster_port: int
    key: RSAKey
    metadata: dict[str, Any]

    def sign(
        self,
        claims: dict[str, Any],
        *,
        key: Any = None,
        alg: str = "RS256",
        header_extra: dict[str, Any] | None = None,
    ) -> str:
        """A token signed with the provider's key (or ``key``), its ``kid`` in the header and
        ``typ: at+jwt`` like the provider's access tokens (``header_extra`` overrides either;
        a None value leaves that header out)."""
        key = key or self.key
        header = {"alg": alg, "typ": "at+jwt"}
        if key.kid:
            header["kid"] = key.kid
        header.update(header_extra or {})
        header = {name: value for name, value in header.items() if value is not None}
        return jwt.encode(header, claims, key, algorithms=[alg], default_type=None)

    @staticmethod
    def unsigned(claims: dict[str, Any]) -> str:
        """An ``alg: none`` token: header and payload, empty signature."""
        header = {"alg": "none", "typ": "JWT"}
        parts = (json.dumps(part, separators=(",", ":")).encode() for part in (header, claims))
        return ".".join(b64url(part) for part in parts) + "."

    def muster_env(self, base_url: str) -> dict[str, str]:
        """The environment the app reads to use this provider, served at ``base_url``."""
        return {
            "MUSTER_OIDC_ISSUER": self.issuer,
            "MUSTER_OIDC_CLIENT_ID": self.client_id,
            "MUSTER_OIDC_CLIENT_SECRET": self.client_secret,
            "MUSTER_OIDC_AUDIENCE": self.resource,
            "MUSTER_OIDC_ROLE_MAP": ROLE_MAP,
            "MUSTER_BASE_URL": base_url,
        }

    async def access_token(self, login: str) -> str:
        """A real JWT access token for ``login``: authorization code + PKCE, no browser."""
        token = (await self.tokens(login))["access_token"]
        assert token.count(".") == 2, f"not a JWT: {token[:20]}…"
        claims = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
        assert claims["aud"] == self.resource, claims
        return token

    async def tokens(self, login: str) -> dict[str, Any]:
        """The token endpoint's answer for ``login`` (``access_token``, ``id_token``, …) after
        a real authorization code + PKCE sign-in, no browser."""
        verifier = secrets.token_urlsafe(48)
        state = secrets.token_urlsafe(16)
        redirect_uri = f"{MUSTER_TEST_URL}/auth/callback"
        query = urlencode(
            {
                "client_id": self.client_id,
                "response_type": "code",
                "scope": SCOPE,
                "redirect_uri": redirect_uri,
                "state": state,
                "nonce": secrets.token_urlsafe(16),
                "code_challenge": b64url(hashlib.sha256(verifier.encode()).digest()),
                "code_challenge_method": "S256",
            }
        )
        start = f"{self.metadata['authorization_endpoint']}?{query}"
        async with httpx2.AsyncClient(trust_env=False) as client:
            response = await sign_in_with_httpx(client, start, login, stop_at=MUSTER_TEST_URL)
            assert response.is_redirect, f"the provider did not redirect: {response.text[:500]}"
            params = parse_qs(urlsplit(response.headers["location"]).query)
            assert params.get("state") == [state], params
            answer = await client.post(
                self.metadata["token_endpoint"],
                auth=(self.client_id, self.client_secret),
                data={
                    "grant_type": "authorization_code",
                    "code": params["code"][0],
                    "redirect_uri": redirect_uri,
                    "code_verifier": verifier,
                },
            )
        assert answer.status_code == 200, answer.text
        answered: dict[str, Any] = answer.json()
        return answered


class _Forms(HTMLParser):
    """Every form of a page: its action and the names and values of its inputs."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.forms.append((attributes.get("action", ""), {}))
        elif tag == "input" and self.forms and "name" in attributes:
            self.forms[-1][1][attributes["name"]] = attributes.get("value", "")


async def sign_in_with_httpx(
    client: httpx2.AsyncClient, start_url: str, login: str, *, stop_at: str | None = None
) -> httpx2.Response:
    """Follow redirects from ``start_url``, fill the provider's dev login (and consent) forms as
    ``login``, and return the first response that is neither a redirect nor such a form — or,
    with ``stop_at``, the redirect whose Location starts with it (not followed). The provider's
    sign-out question is answered "yes", so a sign-out URL can be followed the same way.
    """
    response = await client.get(start_url)
    for _ in range(20):
        if response.is_redirect:
            location = urljoin(str(response.url), response.headers["location"])
            if stop_at and location.startswith(stop_at):
                return response
            response = await client.get(location)
            continue
        parser = _Forms()
        parser.feed(response.text if "html" in response.headers.get("content-type", "") else "")
        form = next((f for f in parser.forms if {"prompt", "xsrf"} & f[1].keys()), None)
        if form is None:
            return response
        action, fields = form
        if "xsrf" in fields:  # end_session: "Yes, sign me out"
            fields["logout"] = "yes"
        elif fields["prompt"] == "login":
            fields |= {"login": login, "password": "any password"}
        response = await client.post(urljoin(str(response.url), action), data=fields)
    raise AssertionError(f"sign-in did not finish after 20 steps, last at {response.url}")


def muster_client(app: Any) -> httpx2.AsyncClient:
    """A client that sends ``http://muster.test`` to ``app`` in process and the rest to the
    network (the provider on 127.0.0.1)."""
    return httpx2.AsyncClient(
        base_url=MUSTER_TEST_URL,
        mounts={MUSTER_TEST_URL: httpx2.ASGITransport(app=app)},
        trust_env=False,
    )


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _wait_until_up(process: subprocess.Popen[bytes], url: str, log: Path) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    with httpx2.Client(trust_env=False, timeout=2) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                break
            try:
                response = client.get(url)
                if response.status_code == 200:
                    return response.json()
            except httpx2.TransportError:
                pass
            time.sleep(0.1)
    output = log.read_text(errors="replace")[-3000:]
    pytest.fail(f"the identity provider did not start (exit {process.poll()}):\n{output}")


@pytest.fixture(scope="session")
def identity_provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IdentityProvider]:
    yield from _run_provider(tmp_path_factory, issuer_path="")


@pytest.fixture(scope="session")
def identity_provider_with_slash(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[IdentityProvider]:
    """A provider whose issuer is ``http://127.0.0.1:<port>/``, trailing slash and all."""
    yield from _run_provider(tmp_path_factory, issuer_path="/")


def _run_provider(
    tmp_path_factory: pytest.TempPathFactory, *, issuer_path: str
) -> Iterator[IdentityProvider]:
    node = shutil.which("node")
    if node is None:
        missing("Node.js is not installed: the identity provider tests need `node` (20+)")
    if not (IDP_DIR / "node_modules" / "oidc-provider").is_dir():
        missing("tests/idp/node_modules is missing: run `npm ci --prefix tests/idp`")

    folder = tmp_path_factory.mktemp("idp")
    key = RSAKey.generate_key(
        2048, parameters={"kid": secrets.token_hex(8), "use": "sig", "alg": "RS256"}, private=True
    )
    jwks = folder / "jwks.json"
    jwks.write_text(json.dumps(KeySet([key]).as_dict(private=True)))
    jwks.chmod(0o600)

    port, muster_port = _free_ports(2)
    issuer = f"http://127.0.0.1:{port}{issuer_path}"
    muster_urls = [MUSTER_TEST_URL, f"http://127.0.0.1:{muster_port}"]
    provider = IdentityProvider(
        issuer=issuer,
        client_id="muster",
        client_secret=secrets.token_urlsafe(32),
        resource="urn:muster:api",
        muster_port=muster_port,
        key=key,
        metadata={},
    )
    env = os.environ | {
        "IDP_PORT": str(port),
        "IDP_ISSUER": issuer,
        "IDP_CLIENT_ID": provider.client_id,
        "IDP_CLIENT_SECRET": provider.client_secret,
        "IDP_REDIRECT_URIS": ",".join(f"{url}/auth/callback" for url in muster_urls),
        "IDP_POST_LOGOUT_REDIRECT_URIS": ",".join(f"{url}/auth/signed-out" for url in muster_urls),
        "IDP_JWKS_FILE": str(jwks),
        "IDP_RESOURCE": provider.resource,
    }
    log = folder / "provider.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [node, "provider.mjs"], cwd=IDP_DIR, env=env, stdout=output, stderr=subprocess.STDOUT
        )
    try:
        provider.metadata = _wait_until_up(
            process, f"http://127.0.0.1:{port}/.well-known/openid-configuration", log
        )
        yield provider
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

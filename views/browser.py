"""Browsers: the cookies Muster sets, who a request comes from, and CSRF protection.

Two cookies, both HttpOnly and SameSite=Lax, named with a ``muster`` prefix (the identity provider
may share the host), and over https ``Secure`` with the ``__Host-`` prefix: the session cookie
holds a signed-in browser's session secret; the sign-in cookie ties a sign-in in progress to the
browser that started it. ``principal()`` finds who a request comes from: an ``Authorization``
header (API clients) or else the session cookie, once per request.

``CSRFGuard`` refuses (403, nothing changed) any state-changing request that does not carry an
``Authorization`` header unless it comes from Muster's own origin (``Origin``, else ``Referer``,
and ``Sec-Fetch-Site``) and, when it carries a Muster cookie, has the CSRF token derived from
that cookie, as the ``X-CSRF-Token`` header (htmx, scripts) or a ``csrf_token`` form field.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable
from urllib.parse import parse_qs

from starlette.requests import HTTPConnection
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.config import Settings, origin
from app.identity import Principal
from views.services import services

UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
MAX_FORM = 1024 * 1024  # bytes of a form read to find its token
SIGN_IN_MAX_AGE = 600  # seconds


def session_cookie(settings: Settings) -> str:
    return "__Host-muster_session" if settings.https else "muster_session"


def sign_in_cookie(settings: Settings) -> str:
    return "__Host-muster_sign_in" if settings.https else "muster_sign_in"


def set_cookie(
    response: Response, settings: Settings, name: str, value: str, max_age: int | None
) -> None:
    """Set one of Muster's cookies with the attributes they all share."""
    response.set_cookie(
        name, value, max_age=max_age, path="/", secure=settings.https, httponly=True,
        samesite="lax",
    )  # fmt: skip


def clear_cookie(response: Response, settings: Settings, name: str) -> None:
    response.delete_cookie(name, path="/", secure=settings.https, httponly=True, samesite="lax")


def csrf_token(settings: Settings, cookie_secret: str) -> str:
    """The CSRF token that goes with a cookie: only pages Muster served know it."""
    mac = hmac.new(settings.secret_key.encode(), b"csrf:" + cookie_secret.encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()).decode().rstrip("=")


def csrf_token_for(connection: HTTPConnection) -> str | None:
    """The CSRF token pages served to this browser must send back, if it has a Muster cookie."""
    settings = services(connection).settings
    secret = connection.cookies.get(session_cookie(settings)) or connection.cookies.get(
        sign_in_cookie(settings)
    )
    return csrf_token(settings, secret) if secret else None


async def principal(connection: HTTPConnection) -> Principal | None:
    """Who this request comes from (bearer credentials first, else the session cookie)."""
    if hasattr(connection.state, "principal"):
        known: Principal | None = connection.state.principal
        return known
    authenticator = services(connection).authenticator
    found: Principal | None
    header = connection.headers.get("authorization")
    if header is not None:
        found = await authenticator.from_authorization(header)
    else:
        settings = services(connection).settings
        found = await authenticator.from_session(connection.cookies.get(session_cookie(settings)))
    connection.state.principal = found
    return found


class CSRFGuard:
    """ASGI middleware refusing cross-site and tokenless state-changing browser requests."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self.origin = origin(settings.base_url)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in UNSAFE:
            await self.app(scope, receive, send)
            return
        connection = HTTPConnection(scope)
        headers = connection.headers
        if "authorization" in headers:  # an API client: browsers never add this by themselves
            await self.app(scope, receive, send)
            return
        if not self._same_origin(connection):
            await _refuse("This request came from another site, so Muster ignored it.")(
                scope, receive, send
            )
            return
        expected = csrf_token_for(connection)
        if expected is None:  # no Muster cookie: the request cannot act as anyone
            await self.app(scope, receive, send)
            return
        sent = headers.get(CSRF_HEADER)
        replay: Callable[[], Message] | None = None
        if sent is None and _is_form(headers.get("content-type", "")):
            body = await _read(receive)
            if body is None:
                await _refuse("The form is too large.", 413)(scope, receive, send)
                return
            sent = next(iter(parse_qs(body.decode("latin-1")).get(CSRF_FIELD, [])), None)
            replay = _replay(body)
        if sent is None or not hmac.compare_digest(sent.encode(), expected.encode()):
            await _refuse(
                "This form has expired or did not come from Muster: go back, reload the page "
                "and try again."
            )(scope, receive, send)
            return
        if replay is None:
            await self.app(scope, receive, send)
            return
        await self.app(scope, _then(replay, receive), send)

    def _same_origin(self, connection: HTTPConnection) -> bool:
        headers = connection.headers
        if headers.get("sec-fetch-site") == "cross-site":
            return False
        sent_from = headers.get("origin")
        if sent_from is not None:
            return sent_from == self.origin
        referer = headers.get("referer")
        if referer is not None:
            return origin(referer) == self.origin
        return True  # not a browser (browsers send Origin with every cross-origin POST)


def _is_form(content_type: str) -> bool:
    return content_type.split(";")[0].strip().lower() == "application/x-www-form-urlencoded"


async def _read(receive: Receive) -> bytes | None:
    body = b""
    while True:
        message = await receive()
        body += bytes(message.get("body", b""))
        if len(body) > MAX_FORM:
            return None
        if not message.get("more_body", False):
            return body


def _replay(body: bytes) -> Callable[[], Message]:
    return lambda: {"type": "http.request", "body": body, "more_body": False}


def _then(first: Callable[[], Message], receive: Receive) -> Receive:
    sent = False

    async def replaying() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return first()
        return await receive()

    return replaying


def _refuse(message: str, status: int = 403) -> Response:
    return PlainTextResponse(message, status_code=status, headers={"Cache-Control": "no-store"})

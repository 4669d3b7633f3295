"""Security headers on every response: the Content-Security-Policy and its companions.

``policy(settings)`` is the set every response carries: a Content-Security-Policy that lets pages
run only Muster's own files (``script-src 'self'``, no inline script, no eval; styles from files
only: htmx 4 adds its indicator styles as a constructed stylesheet, which no policy blocks), never
be framed, post forms only to Muster (and to the identity provider, where signing out sends the
browser on), ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: same-origin``, and over
https ``Strict-Transport-Security``. ``SecurityHeaders`` is the pure ASGI middleware that adds
them to each response's head (streams untouched); ``server_error`` is the 500 answer with them,
for the errors Starlette answers outside every middleware.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.config import Settings, origin

HSTS_MAX_AGE = 365 * 24 * 3600  # seconds


def policy(settings: Settings, *, images: tuple[str, ...] = ()) -> dict[str, str]:
    """The headers every response carries, for these settings; ``images``, other origins a
    page may show images from (the status page's logo)."""
    form_action = ["'self'"]
    if settings.oidc is not None:  # sign-out posts, then goes on to the provider's logout
        form_action.append(origin(settings.oidc.issuer))
    directives = {
        "default-src": "'self'",
        "script-src": "'self'",
        "style-src": "'self'",
        # GraphiQL's stylesheet draws its icons from data: URLs
        "img-src": " ".join(("'self'", "data:", *images)),
        "font-src": "'self' data:",  # and its fonts
        "connect-src": "'self'",
        "object-src": "'none'",
        "base-uri": "'none'",
        "frame-ancestors": "'none'",
        "form-action": " ".join(form_action),
    }
    headers = {
        "Content-Security-Policy": "; ".join(f"{k} {v}" for k, v in directives.items()),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        "X-Frame-Options": "DENY",
    }
    if settings.https:
        headers["Strict-Transport-Security"] = f"max-age={HSTS_MAX_AGE}"
    return headers


class SecurityHeaders:
    """ASGI middleware: ``headers`` on every HTTP response (a route's own value wins)."""

    def __init__(self, app: ASGIApp, *, headers: Mapping[str, str]) -> None:
        self.app = app
        self.headers = dict(headers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.headers.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, with_headers)


def server_error(headers: Mapping[str, str]) -> Callable[[Request, Exception], Awaitable[Response]]:
    """The answer to an unexpected error, which Starlette gives outside the middleware."""

    async def answer(request: Request, error: Exception) -> Response:
        return PlainTextResponse("Internal Server Error", 500, headers=dict(headers))

    return answer

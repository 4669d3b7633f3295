"""The one sign-in guard for the pages and their live feeds.

``page`` wraps an endpoint people open in a browser: with nobody signed in it sends them to the
sign-in page, to come back to the same URL after. ``feed`` wraps a live feed's endpoint, which
answers 401 instead (a script reads it, not a person). Who is signed in is found once per request
(``views.browser.principal`` keeps it on ``request.state``); inside a guarded endpoint
``viewer(request)`` is that principal. Form posts are guarded before their body is read, by
``views.bodies.SignedInForms``, with the same ``to_sign_in`` answer.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from urllib.parse import quote

from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from app.identity import Principal
from views.browser import principal

Endpoint = Callable[[Request], Awaitable[Response]]


def to_sign_in(request: Request) -> Response:
    """Send a browser that is not signed in to the sign-in page, to come back here after."""
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/auth/sign-in?next={quote(here)}", status_code=303)


def page(endpoint: Endpoint) -> Endpoint:
    """``endpoint`` for signed-in people only; anyone else goes to sign in first."""

    @functools.wraps(endpoint)
    async def guarded(request: Request) -> Response:
        if await principal(request) is None:
            return to_sign_in(request)
        return await endpoint(request)

    return guarded


def feed(endpoint: Endpoint) -> Endpoint:
    """``endpoint`` (a live feed) for signed-in people only; anyone else gets 401."""

    @functools.wraps(endpoint)
    async def guarded(request: Request) -> Response:
        if await principal(request) is None:
            return JSONResponse(
                {"error": "Authentication required."}, 401, headers={"WWW-Authenticate": "Bearer"}
            )
        return await endpoint(request)

    return guarded


def viewer(connection: HTTPConnection) -> Principal:
    """Who is signed in, as the guard (or ``SignedInForms``) already found."""
    found: Principal | None = getattr(connection.state, "principal", None)
    assert found is not None, "only guarded endpoints ask who is signed in"
    return found

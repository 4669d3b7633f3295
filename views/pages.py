"""Rendering pages: the Jinja2 templates (autoescaped), what every page knows, and plain pages.

``render`` gives every template the signed-in ``viewer`` (or None) and the browser's
``csrf_token`` for its forms, marks the response as personal (``Cache-Control: private,
no-store``) and as varying with ``HX-Request``. ``message`` is the page for anything a person
must be told instead of what they asked for: an expired sign-in, a provider that is down.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jinja2_fragments.starlette import Jinja2Blocks
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from views.browser import csrf_token_for, principal

TEMPLATES = Jinja2Blocks(directory=Path(__file__).parent / "templates")


@dataclasses.dataclass(frozen=True)
class Link:
    href: str
    label: str


async def render(request: Request, template: str, status: int = 200, **context: Any) -> Response:
    """The page ``template`` for this request's viewer."""
    signed_in = await principal(request)
    response = TEMPLATES.TemplateResponse(
        request,
        template,
        {
            "viewer": signed_in.user if signed_in else None,
            "csrf_token": csrf_token_for(request),
            **context,
        },
        status_code=status,
    )
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Vary"] = "HX-Request, Cookie"
    return response


async def message(
    request: Request, status: int, heading: str, text: str, link: Link | None = None
) -> Response:
    return await render(request, "message.html", status, heading=heading, message=text, link=link)


def to_sign_in(request: Request) -> Response:
    """Send a browser that is not signed in to the sign-in page, to come back here after."""
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/auth/sign-in?next={quote(here)}", status_code=303)


async def home(request: Request) -> Response:
    if await principal(request) is None:
        return to_sign_in(request)
    return await render(request, "home.html")

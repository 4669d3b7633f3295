"""Rendering pages: the Jinja2 templates (autoescaped), the data they get, and plain pages.

Pages get their data by running one of the named operations in ``views/operations`` in process,
as the signed-in viewer (``run``); a form runs a mutation the same way. ``render`` gives every
template the signed-in ``viewer`` (or None), what they may do across the organisation
(``viewer_can``, ``Query.viewerCan``, for the navigation), their unread notification count
(``unread_notifications``, for the header's bell: the ``ViewerCan`` fragment selects it, and
``run`` keeps it from whichever page query read it) and the browser's ``csrf_token`` for its
forms, marks the response as personal (``Cache-Control: private, no-store``) and as varying
with ``HX-Request``; with ``block`` it answers an htmx request with that block of the page only
(the same URL without htmx serves the whole page). ``message`` is the page for anything a
person must be told instead of what they asked for: an expired sign-in, a provider that is down.
Templates link static files with ``static("<path>")``, the content-hashed URL ``use_assets``
provides.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jinja2_fragments.starlette import Jinja2Blocks
from starlette.requests import Request
from starlette.responses import Response

from app.identity import Principal
from app.models import RESPONDING, StatusCategory
from schema.context import Context
from views.assets import Assets
from views.browser import csrf_token_for, principal
from views.services import services
from views.signed_in import viewer

TEMPLATES = Jinja2Blocks(directory=Path(__file__).parent / "templates")


def _utc(value: str) -> str:
    """An ISO time as people read it without the page's script: "30 Nov 14:05 UTC"."""
    moment = datetime.fromisoformat(value).astimezone(UTC)
    return moment.strftime("%-d %b %H:%M UTC")


def _past(value: str) -> bool:
    return datetime.fromisoformat(value) <= datetime.now(UTC)


def names(categories: Iterable[StatusCategory]) -> list[str]:
    """Status categories as the API names them."""
    return [category.value for category in categories]


TEMPLATES.env.filters["utc"] = _utc
TEMPLATES.env.filters["past"] = _past
RESPONDING_CATEGORIES = names(RESPONDING)
"""The responding categories as the API names them (pages and templates: ``responding``)."""
TEMPLATES.env.globals["responding"] = RESPONDING_CATEGORIES


def use_assets(assets: Assets) -> None:
    """Templates link to static files by their content-hashed URLs (``static("muster.css")``)."""
    TEMPLATES.env.globals["static"] = assets.url


@dataclasses.dataclass(frozen=True)
class Link:
    href: str
    label: str


class OperationFailed(Exception):
    """An operation answered with errors (bad input that got past the forms, or a bug)."""

    def __init__(self, messages: list[str]) -> None:
        super().__init__("; ".join(messages))
        self.messages = messages


async def run(
    request: Request, operation: str, variables: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Run the named operation as the signed-in viewer; its data. The viewer's unread
    notification count, if the operation read it (the ``ViewerCan`` fragment does), is kept for
    the header this request draws."""
    data = await run_as(request, viewer(request), operation, variables)
    unread = (data.get("viewer") or {}).get("unreadNotificationCount")
    if isinstance(unread, int):
        request.state.unread_notifications = unread
    return data


async def run_as(
    request: Request,
    who: Principal,
    operation: str,
    variables: dict[str, Any] | None = None,
    *,
    then: Callable[[Context], Awaitable[None]] | None = None,
) -> dict[str, Any]:
    """Run the named operation as ``who``; its data. ``then`` runs after it in the same context
    (the same reads), before the context closes."""
    web = services(request)
    context = Context.of(web.db, who, web.hub)
    try:
        result = await web.schema.execute(
            web.operations[operation],
            variable_values=variables,
            context_value=context,
            operation_name=operation,
        )
        if result.errors or result.data is None:
            raise OperationFailed([error.message for error in result.errors or []])
        if then is not None:
            await then(context)
    finally:
        await context.close()
    return result.data


async def viewer_can(request: Request) -> dict[str, bool]:
    """What the signed-in viewer may do across the organisation (``Query.viewerCan``), for a
    page whose own query did not select it."""
    can: dict[str, bool] = (await run(request, "Navigation"))["viewerCan"]
    return can


def _unread(request: Request) -> int | None:
    unread: int | None = getattr(request.state, "unread_notifications", None)
    return unread


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


async def render(
    request: Request,
    template: str,
    status: int = 200,
    *,
    block: str | None = None,
    **context: Any,
) -> Response:
    """The page ``template`` for this request's viewer (only ``block`` for htmx requests).

    The navigation draws what the viewer may do from ``viewer_can`` (``Query.viewerCan``, which
    every page's query selects with the ``ViewerCan`` fragment); a whole page drawn without it
    (a message, a refusal) asks for it with the ``Navigation`` operation. The header's bell
    shows the unread notification count the page's query read (``run`` keeps it), else the one
    ``Navigation`` reads."""
    signed_in = await principal(request)
    whole = not (block and is_htmx(request))
    if signed_in is not None and whole:
        if "viewer_can" not in context or _unread(request) is None:
            context.setdefault("viewer_can", await viewer_can(request))
        context["unread_notifications"] = _unread(request)
    response = TEMPLATES.TemplateResponse(
        request,
        template,
        {
            "viewer": signed_in.user if signed_in else None,
            "csrf_token": csrf_token_for(request),
            **context,
        },
        status_code=status,
        block_name=None if whole else block,
    )
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Vary"] = "HX-Request, Cookie"
    return response


def template_text(name: str, **context: Any) -> str:
    """A template rendered to text outside any request (live fragments)."""
    return TEMPLATES.get_template(name).render(**context)


async def message(
    request: Request, status: int, heading: str, text: str, link: Link | None = None
) -> Response:
    return await render(request, "message.html", status, heading=heading, message=text, link=link)

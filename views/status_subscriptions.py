"""Subscribing to the status page by email, as pages anyone can use without signing in:
``/status/subscribe`` (the form, then "check your inbox"), ``/status/subscribe/confirm`` (the
confirmation link: a button, since mail scanners open links by themselves), ``/status/subscription``
(choose components, or unsubscribe) and ``/status/unsubscribe`` (the one-click address of RFC 8058:
a mail provider POSTs ``List-Unsubscribe=One-Click`` to it with the token in the query; a person
opening it gets a button). Links carry the subscriber's token in the query.

Every step runs its operation in process as nobody (the token, not the viewer, opens a
subscription) and is drawn for its request, never stored or shared: ``no-store``, not indexed,
and the CSRF field where the browser has a Muster cookie. These POSTs need no sign-in
(``OPEN_FORMS``, for ``SignedInForms``); the CSRF guard still refuses them from other sites.
"""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from app.identity import Credential, CredentialKind, Principal
from app.models import TokenScope
from schema.context import nobody
from views.browser import csrf_token_for
from views.forms import place
from views.pages import run_as, template_text
from views.services import services
from views.status_page import links

OPEN_FORMS = ("/status/subscribe", "/status/subscribe/confirm", "/status/subscription",
              "/status/unsubscribe")  # fmt: skip
TOKEN_LONGEST = 200
ASKS_PER_MINUTE = 5  # subscribe forms sent from one client address (each may send a mail)
BAD_LINK = "This link is not valid"


def _nobody() -> Principal:
    """Who runs these pages' operations: someone who may see nothing, and may ask to subscribe."""
    return Principal(nobody(), TokenScope.READ_WRITE, Credential(CredentialKind.SESSION, 0))


async def _run(request: Request, operation: str, **variables: Any) -> dict[str, Any]:
    return await run_as(request, _nobody(), operation, variables)


def _page(request: Request, data: dict[str, Any], heading: str, step: str, status: int = 200,
          **context: Any) -> Response:  # fmt: skip
    context.setdefault("e", {})
    context.setdefault("chosen", ())
    body = template_text(
        "status_subscription.html", page=links(data["publicStatus"]), heading=heading, step=step,
        csrf_token=csrf_token_for(request), **context,
    )  # fmt: skip
    return HTMLResponse(
        body, status, headers={"Cache-Control": "no-store", "X-Robots-Tag": "noindex"}
    )


async def _token(request: Request) -> str:
    """The token from the query (links, one-click unsubscribe) or the form (the pages' buttons)."""
    found = request.query_params.get("token")
    if found is None and request.method == "POST" and _is_form(request):
        found = str((await request.form()).get("token", ""))
    return (found or "")[:TOKEN_LONGEST]


def _is_form(request: Request) -> bool:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    return kind == "application/x-www-form-urlencoded"


async def _form(request: Request) -> FormData:
    return await request.form() if _is_form(request) else FormData()


def _refused(payload: dict[str, Any]) -> tuple[dict[str, str], str | None]:
    placed, rest = place(payload["userErrors"], {"email": "email", "componentIds": "componentIds"})
    return placed, rest[-1]["message"] if rest else None


def _chosen(form: FormData) -> list[str]:
    return [str(value)[:100] for value in form.getlist("component")][:201]


async def subscribe(request: Request) -> Response:
    data = await _run(request, "StatusSubscribeForm")
    if services(request).settings.mail is None:
        return _page(request, data, "Email updates are not available", "unavailable", 404)
    if request.method == "GET":
        return _page(request, data, "Subscribe to updates", "form", email="")
    form = await _form(request)
    email, chosen = str(form.get("email", ""))[:400], _chosen(form)
    answer = (await _run(request, "StatusSubscribe", email=email, componentIds=chosen))[
        "subscribeToStatusPage"
    ]
    if not answer["accepted"]:
        e, problem = _refused(answer)
        return _page(request, data, "Subscribe to updates", "form", 422, email=email,
                     chosen=chosen, e=e, problem=problem)  # fmt: skip
    return _page(request, data, "Check your inbox", "sent", email=email.strip())


async def _opened(request: Request) -> tuple[str, dict[str, Any]]:
    token = await _token(request)
    return token, await _run(request, "StatusSubscribeForm", token=token)


async def confirm(request: Request) -> Response:
    token, data = await _opened(request)
    found = data["statusSubscription"]
    if found is None:
        return _page(request, data, BAD_LINK, "bad_link", 404)
    if request.method == "GET":
        if found["confirmed"]:
            return _manage(request, data, token, found, saved="You are subscribed already.")
        return _page(request, data, "Confirm your subscription", "confirm", token=token,
                     subscription=found)  # fmt: skip
    answer = (await _run(request, "StatusSubscriptionConfirm", token=token))[
        "confirmStatusSubscription"
    ]
    if answer["subscription"] is None:
        return _page(request, data, BAD_LINK, "bad_link", 404, problem=_refused(answer)[1])
    return _manage(request, data, token, answer["subscription"], saved="You are subscribed.")


def _manage(request: Request, data: dict[str, Any], token: str, found: dict[str, Any],
            status: int = 200, **context: Any) -> Response:  # fmt: skip
    context.setdefault("chosen", found["componentIds"] or ())
    return _page(request, data, "Your subscription", "manage", status, token=token,
                 subscription=found, **context)  # fmt: skip


async def subscription(request: Request) -> Response:
    token, data = await _opened(request)
    found = data["statusSubscription"]
    if found is None:
        return _page(request, data, BAD_LINK, "bad_link", 404)
    if request.method == "GET":
        return _manage(request, data, token, found)
    chosen = _chosen(await _form(request))
    answer = (await _run(request, "StatusSubscriptionUpdate", token=token, componentIds=chosen))[
        "updateStatusSubscription"
    ]
    if answer["subscription"] is None:
        e, problem = _refused(answer)
        return _manage(request, data, token, found, 422, chosen=chosen, e=e, problem=problem)
    return _manage(request, data, token, answer["subscription"], saved="Saved.")


async def unsubscribe(request: Request) -> Response:
    token = await _token(request)
    if request.method == "GET":
        data = await _run(request, "StatusSubscribeForm", token=token)
        if data["statusSubscription"] is None:
            return _page(request, data, BAD_LINK, "bad_link", 404)
        return _page(request, data, "Unsubscribe", "unsubscribe", token=token)
    answer = (await _run(request, "StatusUnsubscribe", token=token))["unsubscribeFromStatusPage"]
    data = await _run(request, "StatusSubscribeForm")
    if not answer["unsubscribed"]:
        return _page(request, data, BAD_LINK, "bad_link", 404, problem=_refused(answer)[1])
    return _page(request, data, "You are unsubscribed", "unsubscribed")


def routes() -> list[BaseRoute]:
    both = ["GET", "POST"]
    return [
        Route("/status/subscribe", subscribe, methods=both, name="status-subscribe"),
        Route("/status/subscribe/confirm", confirm, methods=both, name="status-confirm"),
        Route("/status/subscription", subscription, methods=both, name="status-subscription"),
        Route("/status/unsubscribe", unsubscribe, methods=both, name="status-unsubscribe"),
    ]

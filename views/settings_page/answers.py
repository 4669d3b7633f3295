"""How the settings pages answer: the page on one tab, a refusal saying why nothing was shown or
changed, the confirmation after a change (redirected to, naming the item), and a form's mutation
with the refusals no form field can show (forbidden, no such item).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from views import pages
from views.pages import OperationFailed, run
from views.settings_page import kinds

ADMIN_ONLY = "Only admins can change the configuration."
MAX_SEARCH = 200
SCOPES = {"READ": "Read only", "READ_WRITE": "Read and write"}
DONE = {
    "created": "Created “{}”.",
    "saved": "Saved the changes to “{}”.",
    "renamed": "Renamed the token to “{}”.",
    "revoked": "Revoked “{}”: it no longer works.",
}
TABS = [
    ("tokens", "/settings", "API tokens"),
    ("notifications", "/settings/notifications", "Notifications"),
    *((kind.slug, f"/settings/{kind.slug}", kind.title) for kind in kinds.KINDS.values()),
    ("teams", "/settings/teams", "Teams"),
    ("webhooks", "/settings/webhooks", "Webhooks"),
    ("workflows", "/settings/workflows", "Workflows"),
    ("status", "/settings/status", "Status page"),
    ("people", "/settings/people", "People's tokens"),
]
EVERYONE = {"tokens", "notifications"}  # the tabs for people who are not admins


async def render(request: Request, tab: str, status: int, **context: Any) -> Response:
    """The settings page on ``tab`` (htmx requests get only its section)."""
    return await pages.render(
        request,
        f"settings_{tab}.html",
        status,
        block="section",
        section="settings",
        tab=tab,
        tabs=TABS if context.get("admin") else [t for t in TABS if t[0] in EVERYONE],
        categories=kinds.CATEGORIES,
        field_kinds=kinds.FIELD_KINDS,
        selects=kinds.SELECTS,
        **context,
    )


async def refusal(request: Request, status: int, text: str, *, admin: bool = False) -> Response:
    """The settings page saying why nothing was shown or changed."""
    heading = {403: "Not allowed", 404: "Not found"}.get(status, "Nothing changed")
    return await render(request, "problem", status, admin=admin, heading=heading, message=text)


def done(request: Request, said: Mapping[str, str] = DONE) -> tuple[str, str] | None:
    """What the redirect after a change says was done: (verb, the item's id), for the verbs
    ``said`` has a sentence for."""
    verb, item = request.query_params.get("done", ""), request.query_params.get("item", "")
    return (verb, item) if verb in said and (item or "{}" not in said[verb]) else None


def notice(
    done: tuple[str, str] | None,
    items: list[Mapping[str, Any]],
    *,
    said: Mapping[str, str] = DONE,
    name: Callable[[Mapping[str, Any]], str] = lambda item: str(item["name"]),
) -> str | None:
    """The sentence confirming a change, naming the item (looked up, never read from the URL);
    a sentence that names nothing (a deletion) is said as it is."""
    if done is None:
        return None
    verb, item = done
    if "{}" not in said[verb]:
        return said[verb]
    names = [name(i) for i in items if i["id"] == item]
    return said[verb].format(names[0]) if names else None


async def one(
    request: Request, operation: str, variables: dict[str, Any], *, key: str, missing: str
) -> Mapping[str, Any] | Response:
    """An admin's page about one item: the operation's data, or the refusal to answer with
    (not an admin: 403; no such item, an id that is not one included: 404 saying ``missing``)."""
    try:
        data = await run(request, operation, variables)
    except OperationFailed:
        data = {**await run(request, "Navigation"), key: None}
    if not is_admin(data):
        return await refusal(request, 403, ADMIN_ONLY)
    if data[key] is None:
        return await refusal(request, 404, missing, admin=True)
    return data


def is_admin(data: Mapping[str, Any]) -> bool:
    """Whether the API says the viewer may change the configuration (``viewerCan.configure``)."""
    return bool(data["viewerCan"]["configure"])


def back(path: str, done: str, item: str, **params: str) -> Response:
    query = urlencode({**{k: v for k, v in params.items() if v}, "done": done, "item": item})
    return RedirectResponse(f"{path}?{query}", status_code=303)


async def mutate(
    request: Request, operation: str, variables: dict[str, Any]
) -> dict[str, Any] | None:
    """The mutation's payload, or None if the form could not even be turned into a request."""
    try:
        data = await run(request, operation, {"input": variables})
    except OperationFailed:
        return None
    result: dict[str, Any] = data["result"]
    return result


async def refused(
    request: Request, payload: dict[str, Any] | None, id_input: str
) -> Response | None:
    """The answer for a change nobody could make from this form: forbidden, or no such item."""
    if payload is None:
        return await refusal(request, 400, "Muster could not read that form. Please try again.")
    for error in payload["userErrors"]:
        if error["code"] == "FORBIDDEN":
            return await refusal(request, 403, error["message"])
        if error["code"] == "NOT_FOUND" and error["field"] == id_input:
            return await refusal(request, 404, error["message"])
    return None

"""The inbox, ``/notifications``, and the header bell's live feed, ``/live/notifications``.

The inbox lists the viewer's notifications newest first (``viewer.notifications``; a
notification about an incident they may not see is neither listed nor counted, the API's rule),
unread ones marked with the word "Unread" as well as their colour, each titled with a link to its
incident. "Show unread only" narrows it (``?unread=1``), "Older" pages on by the API's cursor
(``?after=``). "Mark read" (one) and "Mark all read" are plain forms posting to
``/notifications/read`` that redirect back (303) to the page they came from; opening an incident
is a plain link and marks nothing (a GET changes nothing; the person marks what they have seen).

Every page's header carries the bell (``_bell.html``): a link here saying the unread count,
kept live by the ``notifications`` subscription as server-sent events: each change of the
viewer's inbox redraws the bell's insides, and a notification that just arrived is read out
politely (the ``#announcer`` region, through ``muster.js``'s fresh elements). A page with a live
stream of its own (the dashboard, the incident list, an incident) carries the bell's messages
in it (``bell_alongside``), so a tab holds one connection; the other pages' headers open
``/live/notifications``. The feed is the viewer's own: every message depends on who is asking
(the API never shares an inbox change between people), is drawn for that person's stream alone
and is sent only on it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route
from strawberry.types.execution import ExecutionResult

from schema.context import Context
from views import signed_in
from views.live import Alongside, stream
from views.pages import Link, OperationFailed, message, render, run, template_text
from views.services import services

FIRST = 25  # notifications per page
MAX_CURSOR = 500  # characters of an ``after`` cursor taken from a URL or form
MAX_ID = 200  # characters of a notification id taken from a form

# What each kind is about, in the words the inbox and the preferences use.
KINDS: dict[str, tuple[str, str]] = {
    # kind: (short label, what it is about)
    "UPDATE_SHARED": ("Update", "Updates shared on incidents you follow"),
    "STATUS_CHANGED": ("Status", "Status changes on incidents you follow"),
    "SEVERITY_CHANGED": ("Severity", "Severity changes on incidents you follow"),
    "INCIDENT_RESOLVED": ("Resolved", "Incidents you follow are resolved"),
    "ROLE_ASSIGNED": ("Role", "You are given a role on an incident"),
    "INCIDENT_ACCEPTED": ("Accepted", "An incident you reported is accepted"),
    "INCIDENT_DECLINED": ("Declined", "An incident you reported is declined"),
    "INCIDENT_MERGED": ("Merged", "An incident you reported is merged into another"),
    "UPDATE_OVERDUE": ("Overdue", "Your update is overdue"),
    "NO_LEAD": ("No lead", "No lead yet on an incident you reported"),
    "FOLLOW_UP_DUE": ("Follow-up due", "Follow-ups due"),
    "WORKFLOW": ("Workflow", "Workflow messages"),
    "WEBHOOK_DISABLED": ("Webhook", "Webhook endpoint disabled (admins)"),
}


def kind_label(kind: str) -> str:
    """A kind's short label (a kind this page does not know yet, in plain capitals)."""
    known = KINDS.get(kind)
    return known[0] if known else kind.replace("_", " ").capitalize()


def routes() -> list[BaseRoute]:
    return [
        Route("/notifications", page, methods=["GET"], name="notifications"),
        Route("/notifications/read", mark_read, methods=["POST"], name="notifications-read"),
        Route("/live/notifications", live, name="live-notifications"),
    ]


def _where(unread: bool, after: str | None) -> str:
    """The inbox URL for these choices."""
    pairs = ([("unread", "1")] if unread else []) + ([("after", after)] if after else [])
    return "/notifications" + (f"?{urlencode(pairs)}" if pairs else "")


def _cursor(value: object) -> str | None:
    text = value if isinstance(value, str) else ""
    return text if 0 < len(text) <= MAX_CURSOR else None


@signed_in.page
async def page(request: Request) -> Response:
    unread = request.query_params.get("unread") == "1"
    after = _cursor(request.query_params.get("after"))
    variables = {"first": FIRST, "after": after, "unreadOnly": unread}
    try:
        data = await run(request, "Notifications", variables)
    except OperationFailed:
        return await message(
            request, 400, "Page not found", "That page of your notifications is not one Muster "
            "gave out (the link may be cut short). Start again from the newest.",
            Link("/notifications", "Newest notifications"),
        )  # fmt: skip
    inbox = data["viewer"]["notifications"]
    info = inbox["pageInfo"]
    count = data["viewer"]["unreadNotificationCount"]
    return await render(
        request,
        "notifications.html",
        section="notifications",
        viewer_can=data["viewerCan"],
        notifications=[edge["node"] for edge in inbox["edges"]],
        unread_count=count,
        unread_only=unread,
        after=after,
        here=_where(unread, after),
        older_url=_where(unread, info["endCursor"]) if info["hasNextPage"] else None,
        newest_url=_where(unread, None),
        toggle_url=_where(not unread, None),
        kind_label=kind_label,
        marked=request.query_params.get("marked"),
    )


@signed_in.page
async def mark_read(request: Request) -> Response:
    """``POST /notifications/read``: ``id`` (one) or ``all=1``; back to the page it came from."""
    form = await request.form()
    unread = form.get("unread") == "1"
    after = _cursor(form.get("after"))
    everything = form.get("all") == "1"
    chosen = form.get("id")
    one = chosen if isinstance(chosen, str) and 0 < len(chosen) <= MAX_ID else None
    if not everything and one is None:
        return await _refused(request, "Choose a notification to mark read.")
    variables = {"input": {"all": True} if everything else {"ids": [one]}}
    try:
        payload = (await run(request, "NotificationsMarkRead", variables))["result"]
    except OperationFailed:
        return await _refused(request, "Muster could not read that form. Please try again.")
    if payload["userErrors"]:
        return await _refused(request, payload["userErrors"][0]["message"])
    back = _where(unread, None if everything else after)
    done = "all" if everything else "one"
    return RedirectResponse(f"{back}{'&' if '?' in back else '?'}marked={done}", status_code=303)


async def _refused(request: Request, text: str) -> Response:
    return await message(
        request, 422, "Nothing was marked", text, Link("/notifications", "Back to notifications")
    )


def draw_bell(result: ExecutionResult) -> str:
    """One message of the bell's feed: its new insides (and what just arrived, to be read out),
    drawn for this viewer's stream alone."""
    change: Mapping[str, Any] = (result.data or {}).get("notifications") or {}
    arrived = change.get("notification")
    count = int(change.get("unreadNotificationCount") or 0)
    return template_text("_bell.html", live=True, count=count, arrived=arrived).strip()


def bell_alongside(request: Request) -> Alongside:
    """The bell's feed as a page's own stream carries it (``stream(..., alongside=)``)."""
    return services(request).operations["NotificationsLive"], {}, draw_bell


@signed_in.feed
async def live(request: Request) -> Response:
    """``GET /live/notifications``: the bell's insides, redrawn on every change of the inbox
    (for the pages without a live stream of their own)."""
    web = services(request)
    context = Context.of(web.db, signed_in.viewer(request), web.hub)
    return stream(request, web.schema, context, *bell_alongside(request))

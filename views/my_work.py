"""My work, ``/me``: what the signed-in person is on the hook for.

Three groups: the ongoing incidents where I hold a role (which roles, active ones before those
being written up; a link to all of them in the incident list), my open actions and follow-ups
(soonest due first, overdue ones marked, each with a "Done" button), and the ongoing incidents I
follow. Each group that is empty says what to do instead. "Done" is a plain form posting to
``/me/actions/<id>/done`` (or ``/me/follow-ups/<id>/done``) that redirects back here; with htmx
the answer is the refreshed list of work, so the item disappears in place. A refusal (someone
else's action, one already done, one that does not exist or is hidden) is said in plain words
above the list, and changes nothing.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from app.models import ONGOING
from views import signed_in
from views.pages import RESPONDING_CATEGORIES, OperationFailed, is_htmx, names, render, run

FIRST = 50
STATUS_OF_CODE = {"NOT_FOUND": 404, "FORBIDDEN": 403, "CONFLICT": 409}
REFUSALS = {
    "FORBIDDEN": "You cannot mark “{title}” done: it is someone else's, and only its owner or "
    "the people running its incident may close it.",
    "INVALID": "“{title}” was already closed; the list below is up to date.",
}


def routes() -> list[BaseRoute]:
    return [
        Route("/me", page, name="my-work"),
        Route("/me/actions/{action}/done", done, methods=["POST"], name="action-done"),
        Route("/me/follow-ups/{action}/done", done, methods=["POST"], name="follow-up-done"),
    ]


@signed_in.page
async def page(request: Request) -> Response:
    return await _render(request, 200)


@signed_in.page
async def done(request: Request) -> Response:
    action = request.path_params["action"]
    follow_up = request.url.path.startswith("/me/follow-ups/")
    operation = "MyWorkFollowUpDone" if follow_up else "MyWorkActionDone"
    form = await request.form()
    title = str(form.get("title", ""))[:300] or "This item"
    try:
        data = await run(request, operation, {"id": action})
    except OperationFailed:
        return await _render(request, 400, error="That item could not be marked done; reload.")
    payload = data["updateFollowUp" if follow_up else "updateAction"]
    if payload["userErrors"]:
        error = payload["userErrors"][0]
        code = error["code"]
        text = REFUSALS[code].format(title=title) if code in REFUSALS else error["message"]
        return await _render(request, STATUS_OF_CODE.get(code, 422), error=text)
    if not is_htmx(request):
        return RedirectResponse("/me", status_code=303)
    kind = "follow-up" if follow_up else "action"
    return await _render(request, 200, done=f"Done: the {kind} “{payload['action']['title']}”.")


async def _render(
    request: Request, status: int, *, error: str | None = None, done: str | None = None
) -> Response:
    data = await run(request, "MyWork", {"ongoing": names(ONGOING), "first": FIRST})
    me = data["viewer"]["id"]
    held = [edge["node"] for edge in data["held"]["edges"]]
    held.sort(key=lambda i: i["status"]["category"] not in RESPONDING_CATEGORIES)  # stable
    return await render(
        request,
        "my_work.html",
        status,
        block="work",
        section="me",
        viewer_can=data["viewerCan"],
        held=[(incident, _roles(incident, me)) for incident in held],
        held_total=data["held"]["totalCount"],
        held_all=data["allHeld"]["totalCount"],
        work=[_work(action) for action in data["myOpenActions"]],
        followed=[edge["node"] for edge in data["followed"]["edges"]],
        followed_total=data["followed"]["totalCount"],
        followed_all=data["allFollowed"]["totalCount"],
        error=error,
        done=done,
    )


def _roles(incident: dict[str, Any], me: str) -> str:
    names = [a["role"]["name"] for a in incident["roleAssignments"] if a["user"]["id"] == me]
    return "Your role: " + ", ".join(names) if names else ""


def _work(action: dict[str, Any]) -> dict[str, Any]:
    """An open action as the page shows it, with how its due date stands today (UTC)."""
    due = date.fromisoformat(action["dueOn"]) if action["dueOn"] else None
    today = datetime.now(UTC).date()
    return {
        **action,
        "due": due,
        "overdue": due is not None and due < today,
        "due_today": due == today,
    }

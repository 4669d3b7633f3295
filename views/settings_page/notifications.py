"""The settings' notifications tab, ``/settings/notifications``: whether each kind of notification
reaches the viewer by email too (the inbox always has it), for everyone signed in.

The tab is a table of kinds in plain words, each with an "Email" checkbox, saved by one form post
(``updateNotificationPreferences``) that redirects back (303) saying it saved. The form names
the kinds it showed (hidden fields), so a kind it did not show keeps its choice; only kinds the
API knows are sent. "Webhook endpoint disabled" is shown to admins only (nobody else is told of
it). Whether the server can send email at all (``MUSTER_SMTP_URL``) the API does not say; the
tab says so in words.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from app.models import NotificationKind
from views import signed_in
from views.notifications import KINDS
from views.pages import OperationFailed, run
from views.settings_page import answers

ADMINS_ONLY = {"WEBHOOK_DISABLED"}
KNOWN = {kind.value for kind in NotificationKind}


def _about(kind: str) -> str:
    known = KINDS.get(kind)
    return known[1] if known else kind.replace("_", " ").capitalize()


@signed_in.page
async def notifications_page(request: Request) -> Response:
    return await _tab(request, 200, saved=request.query_params.get("done") == "saved")


async def _tab(request: Request, status: int, *, saved: bool = False, error: str = "") -> Response:
    data = await run(request, "SettingsNotifications")
    admin = answers.is_admin(data)
    order = list(KINDS)
    chosen = sorted(
        data["viewer"]["notificationPreferences"],
        key=lambda p: order.index(p["kind"]) if p["kind"] in order else len(order),
    )
    shown = [p for p in chosen if admin or p["kind"] not in ADMINS_ONLY]
    return await answers.render(
        request,
        "notifications",
        status,
        title="Notifications",
        admin=admin,
        viewer_can=data["viewerCan"],
        preferences=[{**p, "about": _about(p["kind"])} for p in shown],
        saved=saved,
        error=error,
    )


@signed_in.page
async def save_notifications(request: Request) -> Response:
    form = await request.form()
    kinds = list(dict.fromkeys(k for k in form.getlist("kind") if isinstance(k, str)))
    kinds = [k for k in kinds if k in KNOWN]
    emailed = {k for k in form.getlist("email") if isinstance(k, str)}
    if not kinds:
        return await _tab(request, 400, error="Muster could not read that form. Please try again.")
    choices = [{"kind": kind, "email": kind in emailed} for kind in kinds]
    try:
        data = await run(request, "SettingsNotificationsSave", {"input": {"preferences": choices}})
    except OperationFailed:
        return await _tab(request, 400, error="Muster could not read that form. Please try again.")
    payload = data["result"]
    if payload["userErrors"]:
        return await _tab(request, 422, error=payload["userErrors"][0]["message"])
    return RedirectResponse("/settings/notifications?done=saved", status_code=303)

"""The incident page's "Status page" section: telling customers about the incident.

The section shows what customers read now (``Incident.statusIncident``) and, to whoever may
publish (``Incident.viewerCan.publishStatus``, the API's answer from
``policy.can_publish_status``), one form: "Publish to status page" while nothing is open for the
incident (``IncidentPublishStatus``, by the incident's id from the page's read), else "Post a
status update" on the open one (``IncidentPostStatusUpdate``). Its Preview button changes
nothing: it draws the page again with the form as typed and a box showing what customers will
read, drawn from the form's values. The form names the status incident it was drawn for, so one
published meanwhile by someone else is a conflict, never a silent update. ``also_post`` is the
share form's "Also post to the status page" (to the status incident the form was drawn with, in
the state it is in): a second mutation after the share, not one transaction with it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from views import signed_in
from views.browser import csrf_token_for
from views.forms import Form
from views.incident import room
from views.incident.submit import NO_STORE, Spec, Target, change, submit
from views.pages import is_htmx, render

STATUS = Spec("status", "status_card", "status-card")
STATES = ("INVESTIGATING", "IDENTIFIED", "MONITORING", "RESOLVED")
COMPONENT_STATUSES = (
    "OPERATIONAL",
    "DEGRADED_PERFORMANCE",
    "PARTIAL_OUTAGE",
    "MAJOR_OUTAGE",
    "UNDER_MAINTENANCE",
)
NOT_AFFECTED = "NONE"  # an update's choice: the component is no longer affected
TITLE_LENGTH = 200
MESSAGE_LENGTH = 5000
MOVED = (
    "Someone changed what customers read about this incident while you were writing: the "
    "section now shows it; check it and send again."
)
P = "customer_"  # the section's form names: the page has other titles and messages
FIELDS = {
    "title": P + "title",
    "message": P + "message",
    "status": P + "state",
    "affected": P + "components",
}


def open_one(data: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The incident's status incident customers read now, if it is still open."""
    found: Mapping[str, Any] | None = data["incident"]["statusIncident"]
    return found if found is not None and found["state"] != "RESOLVED" else None


def _checked(
    data: Mapping[str, Any], form: Form, *, prefix: str = P, publishing: bool
) -> tuple[str, list[dict[str, str]] | None]:
    """The state and the affected components the form asks for (None: unchanged); errors on
    the form for what it cannot send."""
    title, message = form.value(prefix + "title").strip(), form.value(prefix + "message").strip()
    if publishing and not title:
        form.errors[prefix + "title"] = "Give customers a title: what they notice."
    elif len(title) > TITLE_LENGTH:
        form.errors[prefix + "title"] = f"Keep the title under {TITLE_LENGTH} characters."
    if not message:
        form.errors[prefix + "message"] = "Write what customers should know."
    elif len(message) > MESSAGE_LENGTH:
        form.errors[prefix + "message"] = f"Keep the message under {MESSAGE_LENGTH} characters."
    state = form.value(prefix + "state")
    if state not in STATES:
        form.errors[prefix + "state"] = "Choose the state customers read."
    current = open_one(data)
    now = {a["component"]["id"]: a["status"] for a in (current or {}).get("affected", [])}
    chosen = dict(now)
    changed = False
    for component in data["statusComponents"]:
        if not component["public"]:
            continue
        value = form.value(f"{prefix}component-{component['id']}")
        if not value:
            continue
        if value == NOT_AFFECTED and not publishing:
            changed |= chosen.pop(component["id"], None) is not None
        elif value in COMPONENT_STATUSES:
            changed |= chosen.get(component["id"]) != value
            chosen[component["id"]] = value
        else:
            form.errors[prefix + "components"] = "Choose each component's status from the list."
    affected = [{"componentId": key, "status": value} for key, value in chosen.items()]
    return state, affected if publishing or changed else None


async def _send(request: Request, target: Target, form: Form) -> None:
    data = await target.page()
    current = open_one(data)
    drawn_for = form.value("drawn")
    if drawn_for != (current["id"] if current else ""):
        form.problem = MOVED
        return
    state, affected = _checked(data, form, publishing=current is None)
    if form.failed:
        return
    if current is None:
        await change(
            request, "IncidentPublishStatus", form, FIELDS,
            incidentId=data["incident"]["id"], title=form.value(P + "title").strip(),
            message=form.value(P + "message").strip(), status=state, affected=affected,
        )  # fmt: skip
    else:
        await change(
            request, "IncidentPostStatusUpdate", form, FIELDS,
            statusIncidentId=current["id"], status=state,
            message=form.value(P + "message").strip(), affected=affected,
        )  # fmt: skip


@signed_in.page
async def publish(request: Request) -> Response:
    """The section's form: Preview draws it again with the preview; Publish sends it."""
    form = Form.of(await request.form())
    if form.value("intent") == "preview":
        return await _preview(request, form)
    return await submit(request, STATUS, _send)


async def _preview(request: Request, form: Form) -> Response:
    """The page as it is, the form as typed and what customers would read: nothing is sent."""
    reference = request.path_params["reference"]
    data = await room.read(request, reference)
    if data is None:
        return await room.not_found(request, reference)
    if form.value("drawn") != ((open_one(data) or {}).get("id") or ""):
        form.problem = MOVED
    else:
        _checked(data, form, publishing=open_one(data) is None)
    status = 422 if form.failed else 200
    drawn = room.context(data, forms={STATUS.name: form})
    drawn["preview"] = not form.failed
    if not is_htmx(request):
        return await render(request, room.TEMPLATE, status, section="incidents", **drawn)
    drawn = {"viewer": None, "csrf_token": csrf_token_for(request), "request": request, **drawn}
    return HTMLResponse(room.block(STATUS.block, drawn), status, headers=NO_STORE)


def also_checked(form: Form) -> None:
    """The share form's customer-facing text, checked before the share goes out."""
    message = form.value("status_message").strip()
    if not message:
        form.errors["status_message"] = "Write what customers should read, or untick the box."
    elif len(message) > MESSAGE_LENGTH:
        form.errors["status_message"] = f"Keep it under {MESSAGE_LENGTH} characters."


async def also_post(request: Request, form: Form) -> None:
    """After the share form's update went out: post its customer-facing text to the status
    incident the form was drawn with, keeping its state and components. A second mutation, not
    one transaction with the share: if it fails, the share stands and the form says so, keeping
    the text."""
    shared = await change(
        request, "IncidentPostStatusUpdate", form, {"message": "status_message"},
        statusIncidentId=form.value("status_incident"),
        message=form.value("status_message").strip(),
    )  # fmt: skip
    if not shared:
        form.values["message"] = []  # shared already: not to be sent twice
        why = form.problem
        form.problem = "Your update was shared, but it was not posted to the status page" + (
            f": {why}" if why else "; the reason is next to its text."
        )

"""The incident page, ``/incidents/INC-<n>``: the room people live in during an incident.

It shows the incident as the viewer sees it (reference and name, status, severity, type, mode,
privacy, lifecycle times, who holds each role, custom fields, the promised next update, the
summary and the latest update), its actions and follow-ups, its followers and, when private, its
members, and its timeline newest first; and it offers what the viewer may do there: share an
update (with a status or severity change and the next promise), take the lead or assign roles,
accept or decline from triage, add and tick off work, follow, invite and remove members, add
notes, edit the details and custom fields. Every form is a plain POST answered with 303 back to
the page (or 422 with the errors and what was typed); with htmx it gets its own block back plus
``<hx-partial>`` parts for the rest of the page. Forms that change the incident's state send the
version they were rendered with, so a change made meanwhile by someone else is a clear conflict
that overwrites nothing. ``/live/incidents/INC-<n>`` streams the incident's events: for each, the
incident is read again as this viewer sees it and morphed into the page, and the new timeline
entry arrives on top. A missing, hidden or malformed reference gets one and the same not-found
answer on every URL here; admins also get a break-glass form on it, whether or not the
incident exists.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import quote

from jinja2_fragments import render_block
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route
from strawberry.types.execution import ExecutionResult

from schema.context import Context
from schema.live import SharedData
from views import signed_in
from views.browser import csrf_token_for
from views.live import stream
from views.numbers import whole
from views.pages import (
    TEMPLATES,
    Link,
    OperationFailed,
    is_htmx,
    message,
    render,
    run,
    run_as,
    viewer_can,
)
from views.services import services

TEMPLATE = "incident.html"
NEXT_UPDATE_MINUTES = (15, 30, 60, 120, 240)
DEFAULT_NEXT_UPDATE = 30
SEARCH_LIMIT = 200  # characters of a people search
MAX_INT = 2**31 - 1  # GraphQL's Int: the API itself says which promises it keeps
# The parts of the page that show the incident's state: block name → the id of its container.
# Live events and htmx answers morph them in place (focus and typing in them survive).
STATE = {
    "state_head": "incident-head",
    "state_roles": "roles",
    "state_work": "work",
    "state_fields": "fields",
    "state_members": "members",
}
PICKERS = {"assign": "Person", "invite": "Person to invite"}
CONFLICT = (
    "Someone changed this incident while you were editing: the page now shows their change; "
    "check it and submit again."
)
NO_STORE = {"Cache-Control": "private, no-store", "Vary": "HX-Request, Cookie"}


def routes() -> list[BaseRoute]:
    post = ["POST"]
    return [
        Route("/incidents/{reference}", page, name="incident"),
        Route("/live/incidents/{reference}", live, name="live-incident"),
        Route("/incidents/{reference}/updates", share_update, methods=post),
        Route("/incidents/{reference}/details", change_details, methods=post),
        Route("/incidents/{reference}/triage", triage, methods=post),
        Route("/incidents/{reference}/follow", follow, methods=post),
        Route("/incidents/{reference}/roles", assign_role, methods=post),
        Route("/incidents/{reference}/roles/unassign", unassign_role, methods=post),
        Route("/incidents/{reference}/actions", add_work, methods=post),
        Route("/incidents/{reference}/actions/{action}", mark_work, methods=post),
        Route("/incidents/{reference}/fields/{field}", set_field, methods=post),
        Route("/incidents/{reference}/members", invite, methods=post),
        Route("/incidents/{reference}/members/remove", remove_member, methods=post),
        Route("/incidents/{reference}/notes", add_note, methods=post),
        Route("/incidents/{reference}/break-glass", break_glass, methods=post),
    ]


# What the page shows --------------------------------------------------------------------------


@dataclasses.dataclass
class Form:
    """A form as it comes back to the person: what they typed and what is wrong with it."""

    values: dict[str, list[str]] = dataclasses.field(default_factory=dict)
    errors: dict[str, str] = dataclasses.field(default_factory=dict)
    problem: str | None = None

    @classmethod
    def of(cls, form: FormData) -> Form:
        return cls({key: [str(v) for v in form.getlist(key)] for key in form})

    def value(self, name: str, default: str = "") -> str:
        return next(iter(self.values.get(name, [])), default)

    def chosen(self, name: str) -> list[str]:
        return self.values.get(name, [])

    @property
    def failed(self) -> bool:
        return bool(self.errors or self.problem)


@dataclasses.dataclass(frozen=True)
class May:
    """What the viewer may do on this incident (the server checks again on every change)."""

    me: str
    edit: bool
    triage: bool
    note: bool
    invite: bool
    hold_roles: bool

    def work_on(self, item: Mapping[str, Any]) -> bool:
        owner = item.get("owner")
        return self.edit or (self.note and owner is not None and owner["id"] == self.me)


def _may(data: Mapping[str, Any]) -> May:
    can = data["incident"]["viewerCan"]
    return May(
        me=data["viewer"]["id"],
        edit=can["edit"],
        triage=can["triage"],
        note=can["addNote"],
        invite=can["invite"],
        hold_roles=can["holdRole"],
    )


def _day(value: str | None) -> str:
    return date.fromisoformat(value).strftime("%-d %b %Y") if value else ""


def _late(item: Mapping[str, Any]) -> bool:
    due: str | None = item.get("dueOn")
    return due is not None and item["status"] == "OPEN" and date.fromisoformat(due) < _today()


def _today() -> date:
    return datetime.now(UTC).date()


def _state(data: Mapping[str, Any]) -> dict[str, Any]:
    """What the state blocks need: the incident, the viewer, their rights, the roles."""
    incident = data["incident"]
    holders = {a["role"]["id"]: a["user"] for a in incident["roleAssignments"]}
    return {
        "m": TEMPLATES.env.get_template("incident_macros.html").module,
        "i": incident,
        "me": data["viewer"],
        "may": _may(data),
        "roles": [{"role": r, "holder": holders.get(r["id"])} for r in data["incidentRoles"]],
        "day": _day,
        "late": _late,
        "notices": {},
        "forms": {},
    }


def _page(
    data: Mapping[str, Any],
    *,
    forms: Mapping[str, Form] | None = None,
    notices: Mapping[str, str] | None = None,
    after: str | None = None,
    picker: str | None = None,
    search: str = "",
) -> dict[str, Any]:
    """Everything the page's template needs for this viewer."""
    context = _state(data)
    incident = data["incident"]
    timeline = incident["timeline"]
    latest = incident["latestUpdate"] or {}
    promised = latest.get("nextUpdateInMinutes")
    moves = {status["id"] for status in incident["nextStatuses"]}
    owners: dict[str, Mapping[str, Any]] = {}
    for person in [*incident["members"], *data["people"]]:
        owners.setdefault(person["id"], person)
    valued = {value["field"]["id"]: value for value in incident["customFieldValues"]}
    kind = next((t for t in data["incidentTypes"] if t["id"] == incident["type"]["id"]), None)
    offered = {field["id"] for field in (kind or {}).get("customFields", [])} | set(valued)
    context.update(
        forms=dict(forms or {}),
        notices=dict(notices or {}),
        events=[edge["node"] for edge in timeline["edges"]],
        older=timeline["pageInfo"]["endCursor"] if timeline["pageInfo"]["hasNextPage"] else None,
        after=after,
        statuses=[s for s in data["statuses"] if s["id"] in moves],
        severities=sorted(data["severities"], key=lambda s: s["rank"]),
        next_choices=NEXT_UPDATE_MINUTES,
        next_default=promised if promised in NEXT_UPDATE_MINUTES else DEFAULT_NEXT_UPDATE,
        assignable=[r for r in data["incidentRoles"] if r["kind"] != "REPORTER"],
        choices=_choices(data),
        picker=picker,
        search=search,
        pickers=PICKERS,
        owners=sorted(owners.values(), key=lambda p: p["name"].lower()),
        fields=[f for f in data["customFields"] if f["id"] in offered],
        valued=valued,
        today=_today().isoformat(),
    )
    return context


def _choices(data: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Who each people picker offers: role holders are not viewers; invitees are not members
    yet. ``found`` is the search's answer, for the picker it was made for."""
    members = {person["id"] for person in data["incident"]["members"]}
    keep: dict[str, Callable[[Mapping[str, Any]], bool]] = {
        "assign": lambda person: person["canHoldRole"],
        "invite": lambda person: person["id"] not in members,
    }
    found = data.get("found")
    return {
        name: {
            "people": [p for p in data["people"] if wanted(p)],
            "found": None if found is None else [p for p in found if wanted(p)],
        }
        for name, wanted in keep.items()
    }


def _partial(target: str, swap: str, html: str) -> str:
    return f'<hx-partial hx-target="#{target}" hx-swap="{swap}">{html}</hx-partial>'


def _block(name: str, context: Mapping[str, Any]) -> str:
    return render_block(TEMPLATES.env, TEMPLATE, name, dict(context))


def _entry(event: Mapping[str, Any], *, fresh: bool) -> str:
    macros: Any = TEMPLATES.env.get_template("incident_macros.html").module
    return str(macros.entry(event, fresh=fresh))


# Reading ------------------------------------------------------------------------------------


async def _read(
    request: Request,
    reference: str,
    *,
    after: str | None = None,
    picker: str | None = None,
    search: str = "",
) -> dict[str, Any] | None:
    """The page's data for this viewer; None when the incident is missing or hidden."""
    variables = {
        "reference": reference,
        "after": after,
        "search": search,
        "searching": picker is not None,
    }
    data = await run(request, "IncidentPage", variables)
    return data if data["incident"] is not None else None


async def _not_found(
    request: Request, reference: str, *, form: Form | None = None, status: int = 404
) -> Response:
    """The one answer for a missing, hidden or malformed reference (admins: with break-glass)."""
    can = await viewer_can(request)
    response = await render(
        request,
        "incident_not_found.html",
        status,
        section="incidents",
        viewer_can=can,
        break_glass=can["breakGlass"],
        reference=reference,
        form=form or Form(),
    )
    if is_htmx(request):  # not a fragment to swap in: show the page itself
        response.headers["HX-Refresh"] = "true"
    return response


@signed_in.page
async def page(request: Request) -> Response:
    reference = request.path_params["reference"]
    params = request.query_params
    after = params.get("after") or None
    picker = params.get("picker") if params.get("picker") in PICKERS else None
    search = params.get("people", "")[:SEARCH_LIMIT]
    try:
        data = await _read(request, reference, after=after, picker=picker, search=search)
    except OperationFailed:  # only a visible incident reads its timeline: a bad `after` cursor
        return await message(
            request, 400, "Broken link", "This link to older timeline events is not one Muster "
            "made. Go back to the incident and page from there.",
            Link(request.url.path, "Back to the incident"),
        )  # fmt: skip
    if data is None:
        return await _not_found(request, reference)
    block = "timeline_entries" if after else ("picker" if picker else "room")
    return await render(
        request,
        TEMPLATE,
        block=block,
        section="incidents",
        **_page(data, after=after, picker=picker, search=search),
    )


# Changing -----------------------------------------------------------------------------------


class _Gone(Exception):
    """The incident went missing or out of sight while the form was being sent."""


@dataclasses.dataclass(frozen=True)
class Spec:
    """How one form answers: the block it is drawn in and where the page scrolls back to."""

    name: str
    block: str
    anchor: str


Act = Callable[[Request, Mapping[str, Any], Form], Awaitable[None]]


async def _submit(request: Request, spec: Spec, act: Act) -> Response:
    """Run one form: check, change, and answer (303, or the block and the rest of the page).

    ``SignedInForms`` has made sure someone is signed in before anything read the form."""
    reference = request.path_params["reference"]
    data = await _read(request, reference)
    if data is None:
        return await _not_found(request, reference)
    form = Form.of(await request.form())
    try:
        await act(request, data, form)
    except _Gone:
        return await _not_found(request, reference)
    except OperationFailed:  # input no form of this page sends (the forms check their own)
        form.problem = "Muster could not read this form: reload the page and try again."
    reference = data["incident"]["reference"]
    if not form.failed and not is_htmx(request):
        return RedirectResponse(f"/incidents/{reference}#{spec.anchor}", status_code=303)
    fresh = await _read(request, reference)  # the page as it is now, others' changes included
    if fresh is None:
        return await _not_found(request, reference)
    forms, notices = {}, {}
    if form.failed:
        forms[spec.name] = form
        if spec.block in STATE and form.problem:
            notices[spec.block] = form.problem
    status = 422 if form.failed else 200
    if not is_htmx(request):
        context = _page(fresh, forms=forms, notices=notices)
        return await render(request, TEMPLATE, status, section="incidents", **context)
    return _answer(request, status, _page(fresh, forms=forms, notices=notices), spec.block)


def _answer(request: Request, status: int, context: dict[str, Any], main: str) -> Response:
    """An htmx answer: the form's block, and the rest of the page's state as partials."""
    context = {
        "viewer": None,
        "csrf_token": csrf_token_for(request),
        "request": request,
        **context,
    }
    parts = [_block(main, context)]
    incident, may = context["i"], context["may"]
    for block, target in STATE.items():
        if block != main and (block != "state_members" or incident["private"]):
            parts.append(_partial(target, "innerMorph", _block(block, context)))
    parts.append(_partial("timeline-list", "innerMorph", _block("timeline_entries", context)))
    if may.edit:  # the person's own change: their forms now stand on the new state and version
        for block, target in (("share_form", "share-form"), ("details_form", "details-card")):
            if block != main:
                parts.append(_partial(target, "outerMorph", _block(block, context)))
    return HTMLResponse("".join(parts), status, headers=NO_STORE)


async def _change(
    request: Request, operation: str, form: Form, fields: Mapping[str, str], **input: Any
) -> bool:
    """Run a mutation; put its user errors on the form (by input field). Whether it worked."""
    data = await run(request, operation, {"input": input})
    errors = next(iter(data.values()))["userErrors"]
    for error in errors:
        field, code = error["field"], error["code"]
        if code == "NOT_FOUND" and field in (None, "incidentId", "reference"):
            raise _Gone
        if code == "CONFLICT":
            form.problem = CONFLICT
        elif field in fields and fields[field] not in form.errors:
            form.errors[fields[field]] = error["message"]
        else:
            form.problem = error["message"]
    return not errors


def _version(form: Form) -> int | None:
    """The version the form was drawn with (None if it sent none); a version that is not one
    Muster wrote makes the form fail."""
    text = form.value("version")
    version = whole(text, most=MAX_INT)
    if text and version is None:
        form.problem = "Muster could not read this form: reload the page and try again."
    return version


SHARE = Spec("share", "share_form", "share-form")


@signed_in.page
async def share_update(request: Request) -> Response:
    async def act(request: Request, data: Mapping[str, Any], form: Form) -> None:
        incident = data["incident"]
        status, severity = form.value("status") or None, form.value("severity") or None
        next_update = form.value("next")
        promise = whole(next_update, most=MAX_INT)
        if next_update and promise is None:
            form.errors["next"] = "Choose when the next update is due."
        if not form.value("message").strip():
            form.errors["message"] = "Write the update: what is happening and what is next."
        changes_state = (status and status != incident["status"]["id"]) or (
            severity and severity != incident["severity"]["id"]
        )
        version = _version(form) if changes_state else None
        if form.failed:
            return
        await _change(
            request, "IncidentShareUpdate", form,
            {"message": "message", "statusId": "status", "severityId": "severity",
             "nextUpdateInMinutes": "next"},
            incidentId=incident["id"], message=form.value("message"), statusId=status,
            severityId=severity, nextUpdateInMinutes=promise, expectedVersion=version,
        )  # fmt: skip

    return await _submit(request, SHARE, act)


DETAILS = Spec("details", "details_form", "details-form")


@signed_in.page
async def change_details(request: Request) -> Response:
    async def act(request: Request, data: Mapping[str, Any], form: Form) -> None:
        if not form.value("name").strip():
            form.errors["name"] = "Give the incident a name."
        version = _version(form)
        if form.failed:
            return
        await _change(
            request, "IncidentChangeDetails", form, {"name": "name", "summary": "summary"},
            incidentId=data["incident"]["id"], name=form.value("name"),
            summary=form.value("summary"), expectedVersion=version,
        )  # fmt: skip

    return await _submit(request, DETAILS, act)


TRIAGE = Spec("triage", "state_head", "incident-head")


@signed_in.page
async def triage(request: Request) -> Response:
    async def act(request: Request, data: Mapping[str, Any], form: Form) -> None:
        incident_id = data["incident"]["id"]
        if form.value("decision") == "accept":
            await _change(request, "IncidentAccept", form, {}, incidentId=incident_id)
        elif form.value("decision") == "decline":
            await _change(
                request, "IncidentDecline", form, {"reason": "reason"},
                incidentId=incident_id, reason=form.value("reason"),
            )  # fmt: skip
        else:
            form.problem = "Choose Accept or Decline."

    return await _submit(request, TRIAGE, act)


FOLLOW = Spec("follow", "state_head", "incident-head")


@signed_in.page
async def follow(request: Request) -> Response:
    async def act(request: Request, data: Mapping[str, Any], form: Form) -> None:
        operation = "IncidentFollow" if form.value("follow") == "1" else "IncidentUnfollow"
        await _change(request, operation, form, {}, incidentId=data["incident"]["id"])

    return await _submit(request, FOLLOW, act)


ROLES = Spec("roles", "state_roles", "roles-card")
ASSIGN = Spec("assign", "assign_form", "assign-form")


@signed_in.page
async def assign_role(request: Request) -> Response:
    """Give a role to someone: one click for oneself ("Take lead"), or from the picker."""
    form = Form.of(await request.form())
    spec = ASSIGN if form.value("from") == "picker" else ROLES

    async def act(request: Request, data: Mapping[str, Any], form: Form) -> None:
        if not form.value("role"):
            form.errors["role"] = "Choose a role."
        if not form.value("user"):
            form.errors["user"] = "Choose a person."
        if form.failed:
            return
        await _change(
            request, "IncidentAssignRole", form, {"roleId": "role", "userId": "user"},
            incidentId=data["incident"]["id"], roleId=form.value("role"),
            userId=form.value("user"),
        )  # fmt: skip
        if spec is ROLES and form.errors:  # the one-click buttons have no fields to mark
            form.problem = " ".join(form.errors.values())
            form.errors.clear()

    return await _submit(request, spec, act)


@signed_in.page
async def unassign_role(request: Request) -> Response:
    async def act(request: Request, data: Mapping[str, Any], form: Form) -> None:
        await _change(
            request, "IncidentUnassignRole", form, {},
            incidentId=data["incident"]["id"], roleId=form.value("role"),
        )  # fmt: skip

    return await _submit(request, ROLES, act)


WORK = Spec("work", "work_form", "work-form")


@signed_in.page
async def add_work(request: Request) -> Response:
    """Add an action (the default button) or a follow-up."""

    async def act(request: Request, data: Mapping[str, Any], form: Form) -> None:
        due = form.value("due")
        if not form.value("title").strip():
            form.errors["title"] = "Say what needs doing."
        if due:
            try:
                date.fromisoformat(due)
            except ValueError:
                form.errors["due"] = "Enter the due date as a date, like 2025-12-01."
        if form.failed:
            return
        follow_up = form.value("kind") == "follow-up"
        await _change(
            request, "IncidentAddFollowUp" if follow_up else "IncidentAddAction", form,
            {"title": "title", "ownerId": "owner", "dueOn": "due"},
            incidentId=data["incident"]["id"], title=form.value("title"),
            ownerId=form.value("owner") or None, dueOn=due or None,
        )  # fmt: skip

    return await _submit(request, WORK, act)


MARK = Spec("mark", "state_work", "work-card")


@signed_in.page
async def mark_work(request: Request) -> Response:
    """Tick an action or follow-up off as done, or open it again."""

    async def act(request: Request, data: Mapping[str, Any], form: Form) -> None:
        incident, wanted = data["incident"], request.path_params["action"]
        items = [*incident["actions"], *incident["followUps"]]
        item = next((item for item in items if item["id"] == wanted), None)
        if item is None:
            form.problem = "That action is no longer on this incident."
            return
        status = "DONE" if form.value("status") == "DONE" else "OPEN"
        operation = "IncidentUpdateFollowUp" if item["followUp"] else "IncidentUpdateAction"
        await _change(request, operation, form, {}, actionId=item["id"], status=status)

    return await _submit(request, MARK, act)


FIELDS = Spec("fields", "fields_form", "fields-card")


@signed_in.page
async def set_field(request: Request) -> Response:
    """Set or clear one custom field."""

    async def act(request: Request, data: Mapping[str, Any], form: Form) -> None:
        wanted = request.path_params["field"]
        field = next((f for f in data["customFields"] if f["id"] == wanted), None)
        if field is None:
            form.problem = "That field no longer exists."
            return
        form.values["field"] = [field["id"]]
        value: dict[str, Any] = {"fieldId": field["id"]}
        kind = field["kind"]
        if kind in ("SINGLE_SELECT", "MULTI_SELECT"):
            value["optionIds"] = [o for o in form.chosen("option") if o]
        elif kind == "NUMBER":
            text = form.value("number").strip()
            if text:
                try:
                    value["number"] = float(text)
                except ValueError:
                    form.errors["value"] = "Enter a number, like 12 or 3.5."
                    return
        elif form.value("text").strip():
            value["text"] = form.value("text")
        await _change(
            request, "IncidentSetField", form, {"value": "value"},
            incidentId=data["incident"]["id"], value=value,
        )  # fmt: skip

    return await _submit(request, FIELDS, act)


INVITE = Spec("invite", "invite_form", "invite-form")
MEMBERS = Spec("members", "state_members", "members-card")


@signed_in.page
async def invite(request: Request) -> Response:
    async def act(request: Request, data: Mapping[str, Any], form: Form) -> None:
        if not form.value("user"):
            form.errors["user"] = "Choose a person to invite."
            return
        await _change(
            request, "IncidentInvite", form, {"userId": "user"},
            incidentId=data["incident"]["id"], userId=form.value("user"),
        )  # fmt: skip

    return await _submit(request, INVITE, act)


@signed_in.page
async def remove_member(request: Request) -> Response:
    async def act(request: Request, data: Mapping[str, Any], form: Form) -> None:
        await _change(
            request, "IncidentRemoveMember", form, {},
            incidentId=data["incident"]["id"], userId=form.value("user"),
        )  # fmt: skip

    return await _submit(request, MEMBERS, act)


NOTE = Spec("note", "note_form", "note-form")


@signed_in.page
async def add_note(request: Request) -> Response:
    async def act(request: Request, data: Mapping[str, Any], form: Form) -> None:
        if not form.value("message").strip():
            form.errors["message"] = "Write the note."
            return
        await _change(
            request, "IncidentAddNote", form, {"message": "message"},
            incidentId=data["incident"]["id"], message=form.value("message"),
        )  # fmt: skip

    return await _submit(request, NOTE, act)


@signed_in.page
async def break_glass(request: Request) -> Response:
    """An admin enters a private incident they cannot see, giving a reason the members see.

    Everyone else, and every reference that names nothing, gets the not-found answer."""
    reference = request.path_params["reference"]
    data = await _read(request, reference)
    if data is not None:  # already visible: nothing to break
        return RedirectResponse(f"/incidents/{data['incident']['reference']}", status_code=303)
    if not (await viewer_can(request))["breakGlass"]:
        return await _not_found(request, reference)
    form = Form.of(await request.form())
    if not form.value("reason").strip():
        form.errors["reason"] = "Give the reason: every member will read it on the timeline."
        return await _not_found(request, reference, form=form, status=422)
    try:
        done = await _change(
            request, "IncidentBreakGlass", form, {"reason": "reason"},
            reference=reference, reason=form.value("reason"),
        )  # fmt: skip
    except _Gone:
        form.problem = "No private incident has this reference: there is nothing to enter."
        return await _not_found(request, reference, form=form)
    if not done:
        return await _not_found(request, reference, form=form, status=422)
    entered = await _read(request, reference)
    where = entered["incident"]["reference"] if entered else quote(reference.strip())
    return RedirectResponse(f"/incidents/{where}", status_code=303)


# Live ---------------------------------------------------------------------------------------


@signed_in.feed
async def live(request: Request) -> Response:
    """``/live/incidents/INC-<n>``: the incident's events as parts of its page, for this viewer."""
    found = signed_in.viewer(request)
    web = services(request)
    reference = request.path_params["reference"]
    first = await run(request, "IncidentLive", {"reference": reference})
    if first["incident"] is None:
        return await _not_found(request, reference)
    reference = first["incident"]["reference"]
    csrf = csrf_token_for(request)
    entries = request.query_params.get("older") != "1"  # a page of older events: no new ones

    async def draw(result: ExecutionResult) -> str:
        """The incident as this viewer sees it right after the event, as parts of the page."""
        if not result.data:
            return ""
        try:
            room = await run_as(request, found, "IncidentLive", {"reference": reference})
        except OperationFailed:
            return ""
        if room["incident"] is None:
            return ""  # out of sight now: nothing more to show
        return _drawn(result.data, room, csrf, entries=entries)

    context = Context.of(web.db, found, web.hub)
    variables = {"incidentId": first["incident"]["id"]}
    return stream(request, web.schema, context, web.operations["IncidentEvents"], variables, draw)


def _drawn(
    data: dict[str, Any], room: dict[str, Any], csrf: str | None, *, entries: bool = True
) -> str:
    """One live message: the state blocks morphed in place, the new entry on the timeline."""
    event = data["incidentEvents"]
    entry = data.rendered.get("incident") if isinstance(data, SharedData) else None
    if entry is None:  # the same for every viewer: drawn once per event
        entry = _entry(event, fresh=True)
        if isinstance(data, SharedData):
            data.rendered["incident"] = entry
    context = {"viewer": None, "csrf_token": csrf, **_state(room)}
    parts = [
        _partial(target, "innerMorph", _block(block, context))
        for block, target in STATE.items()
        if block != "state_members" or room["incident"]["private"]
    ]
    if entries:
        parts.append(_partial("timeline-list", "afterbegin", entry))
    return "".join(parts)

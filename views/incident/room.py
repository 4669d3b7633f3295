"""The incident page itself: reading it as this viewer sees it, and what its template needs.

``read`` runs ``IncidentPage`` (None when the incident is missing or hidden); ``context`` turns
its answer into everything ``incident.html`` draws: the incident, the viewer and what they may do
(``May``, from ``Incident.viewerCan``), who holds each role, the timeline page, the status and
severity choices, the people pickers (``Query.users`` with ``canHoldRole``), the custom fields.
``block`` and ``partial`` draw one part of the page for htmx answers and live events.
``not_found`` is the one answer for a missing, hidden or malformed reference; ``page`` is the
GET handler.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from typing import Any

from jinja2_fragments import render_block
from starlette.requests import Request
from starlette.responses import Response

from views import page_cache, signed_in
from views.forms import Form
from views.pages import TEMPLATES, Link, OperationFailed, is_htmx, message, render, run, viewer_can

TEMPLATE = "incident.html"
NEXT_UPDATE_MINUTES = (15, 30, 60, 120, 240)
DEFAULT_NEXT_UPDATE = 30
SEARCH_LIMIT = 200  # characters of a people search
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
# The incident's fields that differ by viewer (fragment IncidentViewerPart).
VIEWER_PART = ("followedByMe", "viewerCanEdit", "viewerCan", "nextStatuses", "mergedInto")


class Gone(Exception):
    """The incident went out of the viewer's sight between their two reads of it."""


@dataclasses.dataclass(frozen=True)
class May:
    """What the viewer may do on this incident (the server checks again on every change)."""

    me: str
    edit: bool
    triage: bool
    note: bool
    invite: bool
    hold_roles: bool
    share_update: bool
    manage_members: bool

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
        share_update=can["shareUpdate"],
        manage_members=can["manageMembers"],
    )


def _day(value: str | None) -> str:
    return date.fromisoformat(value).strftime("%-d %b %Y") if value else ""


def _late(item: Mapping[str, Any]) -> bool:
    due: str | None = item.get("dueOn")
    return due is not None and item["status"] == "OPEN" and date.fromisoformat(due) < _today()


def _today() -> date:
    return datetime.now(UTC).date()


def state(data: Mapping[str, Any]) -> dict[str, Any]:
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


def context(
    data: Mapping[str, Any],
    *,
    forms: Mapping[str, Form] | None = None,
    notices: Mapping[str, str] | None = None,
    after: str | None = None,
    picker: str | None = None,
    search: str = "",
) -> dict[str, Any]:
    """Everything the page's template needs for this viewer."""
    drawn = state(data)
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
    drawn.update(
        forms=dict(forms or {}),
        notices=dict(notices or {}),
        events=[edge["node"] for edge in timeline["edges"]],
        older=timeline["pageInfo"]["endCursor"] if timeline["pageInfo"]["hasNextPage"] else None,
        after=after,
        statuses=[s for s in data["statuses"] if s["id"] in moves],
        severities=sorted(data["severities"], key=lambda s: s["rank"]),
        next_choices=NEXT_UPDATE_MINUTES,
        next_default=promised if promised in NEXT_UPDATE_MINUTES else DEFAULT_NEXT_UPDATE,
        assignable=[r for r in data["incidentRoles"] if r["assignable"]],
        choices=_choices(data),
        picker=picker,
        search=search,
        pickers=PICKERS,
        owners=sorted(owners.values(), key=lambda p: p["name"].lower()),
        fields=[f for f in data["customFields"] if f["id"] in offered],
        valued=valued,
        today=_today().isoformat(),
        components=[c for c in data["statusComponents"] if c["public"]],
    )
    return drawn


def _choices(data: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Who each people picker offers: people who may hold a role (the API's ``canHoldRole``);
    invitees are not members yet. ``found`` is the search's answer, for the picker it was made
    for."""
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


def partial(target: str, swap: str, html: str) -> str:
    return f'<hx-partial hx-target="#{target}" hx-swap="{swap}">{html}</hx-partial>'


def block(name: str, drawn: Mapping[str, Any]) -> str:
    return render_block(TEMPLATES.env, TEMPLATE, name, dict(drawn))


def entry(event: Mapping[str, Any], *, fresh: bool) -> str:
    macros: Any = TEMPLATES.env.get_template("incident_macros.html").module
    return str(macros.entry(event, fresh=fresh))


def _variables(
    reference: str, after: str | None, picker: str | None, search: str
) -> dict[str, Any]:
    return {
        "reference": reference,
        "after": after,
        "search": search,
        "searching": picker is not None,
    }


def _merged(shared: dict[str, Any], mine: Mapping[str, Any]) -> dict[str, Any]:
    """The page's data for one viewer: the shared answer with the viewer's own part of it."""
    incident = shared["incident"]
    if incident is None or mine["incident"] is None:
        return shared | {"incident": None}
    part = {name: mine["incident"][name] for name in VIEWER_PART}
    return shared | {"viewer": mine["viewer"], "incident": incident | part}


async def read(
    request: Request,
    reference: str,
    *,
    after: str | None = None,
    picker: str | None = None,
    search: str = "",
) -> dict[str, Any] | None:
    """The page's data for this viewer; None when the incident is missing or hidden."""
    mine = await run(request, "IncidentPageViewer", {"reference": reference})
    shared = await run(request, "IncidentPage", _variables(reference, after, picker, search))
    data = _merged(shared, mine)
    return data if data["incident"] is not None else None


def _me_shown(mine: Mapping[str, Any]) -> str | None:
    """The viewer's id where the page draws them differently ("(you)", "Take this role", their
    own work to tick off), else None: someone who may not edit, invite or remove people and is
    none of the page's people is drawn like everyone else of their sight."""
    incident, me = mine["incident"], mine["viewer"]["id"]
    can = incident["viewerCan"]
    if can["edit"] or can["invite"] or can["manageMembers"]:
        return str(me)
    people = {p["id"] for p in incident["members"]}
    people |= {a["user"]["id"] for a in incident["roleAssignments"]}
    people |= {w["owner"]["id"] for w in incident["actions"] + incident["followUps"] if w["owner"]}
    return str(me) if me in people else None


async def not_found(
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
    mine = await page_cache.answer(request, "IncidentPageViewer", {"reference": reference})
    if mine["incident"] is None:
        return await not_found(request, reference)
    me = _me_shown(mine)
    viewer_part = {name: mine["incident"][name] for name in VIEWER_PART}
    key = (reference, after, picker, search, me, json.dumps(viewer_part, sort_keys=True))

    async def draw(run_shared: page_cache.Run) -> dict[str, Any]:
        shared = await run_shared("IncidentPage", _variables(reference, after, picker, search))
        data = _merged(shared, {"viewer": {"id": me}, "incident": viewer_part})
        if data["incident"] is None:  # hidden since: drawn as missing, never shown
            raise Gone
        return context(data, after=after, picker=picker, search=search)

    shown = "timeline_entries" if after else ("picker" if picker else "room")
    try:
        return await page_cache.render(
            request, TEMPLATE, draw, key=key, block=shown, section="incidents"
        )
    except Gone:
        return await not_found(request, reference)
    except OperationFailed:  # only a visible incident reads its timeline: a bad `after` cursor
        return await message(
            request, 400, "Broken link", "This link to older timeline events is not one Muster "
            "made. Go back to the incident and page from there.",
            Link(request.url.path, "Back to the incident"),
        )  # fmt: skip

"""The incident page's live feed, ``/live/incidents/INC-<n>``: the incident's events as parts of
its page, for this viewer.

For each event the incident is read again as this viewer sees it (``IncidentLive``) and its state
blocks are morphed into the page; the new timeline entry, the same for everyone, is drawn once
per event and goes on top. An incident gone out of sight sends nothing more.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from strawberry.types.execution import ExecutionResult

from schema.context import Context
from schema.live import SharedData
from views import notifications, signed_in
from views.browser import csrf_token_for
from views.incident import room
from views.live import stream
from views.pages import OperationFailed, run, run_as
from views.services import services


@signed_in.feed
async def live(request: Request) -> Response:
    """``/live/incidents/INC-<n>``: the incident's events as parts of its page, for this viewer."""
    found = signed_in.viewer(request)
    web = services(request)
    reference = request.path_params["reference"]
    first = await run(request, "IncidentLive", {"reference": reference})
    if first["incident"] is None:
        return await room.not_found(request, reference)
    reference = first["incident"]["reference"]
    csrf = csrf_token_for(request)
    entries = request.query_params.get("older") != "1"  # a page of older events: no new ones

    async def draw(result: ExecutionResult) -> str:
        """The incident as this viewer sees it right after the event, as parts of the page."""
        if not result.data:
            return ""
        try:
            now = await run_as(request, found, "IncidentLive", {"reference": reference})
        except OperationFailed:
            return ""
        if now["incident"] is None:
            return ""  # out of sight now: nothing more to show
        return _drawn(result.data, now, csrf, entries=entries)

    context = Context.of(web.db, found, web.hub)
    variables = {"incidentId": first["incident"]["id"]}
    operation = web.operations["IncidentEvents"]
    bell = notifications.bell_alongside(request)  # the header's bell rides along
    return stream(request, web.schema, context, operation, variables, draw, alongside=bell)


def _drawn(
    data: dict[str, Any], now: dict[str, Any], csrf: str | None, *, entries: bool = True
) -> str:
    """One live message: the state blocks morphed in place, the new entry on the timeline."""
    event = data["incidentEvents"]
    entry = data.rendered.get("incident") if isinstance(data, SharedData) else None
    if entry is None:  # the same for every viewer: drawn once per event
        entry = room.entry(event, fresh=True)
        if isinstance(data, SharedData):
            data.rendered["incident"] = entry
    drawn = {"viewer": None, "csrf_token": csrf, **room.state(now)}
    parts = [
        room.partial(target, "innerMorph", room.block(block, drawn))
        for block, target in room.STATE.items()
        if block != "state_members" or now["incident"]["private"]
    ]
    if entries:
        parts.append(room.partial("timeline-list", "afterbegin", entry))
    return "".join(parts)

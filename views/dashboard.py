"""The dashboard, ``/``: every ongoing incident the viewer may see, most urgent first, live.

Triage and active incidents come first, by severity (highest first) then newest; post-incident
ones follow. Each row shows the reference, name, severity, status, lead, time since declared, the
latest update and when the next one is due. Filters (type, severity, custom field options) are a
plain GET form; htmx swaps just the board. ``/live/dashboard`` streams the events of the
incidents matching the same filters (the API decides which), each as the incident's new row,
drawn once per event for every open dashboard (the row selects no viewer-dependent field) and
appended to its list: the page's script drops the row it replaces and keeps the lists sorted,
so unrelated rows never move or flicker. An incident that leaves the dashboard (closed, another
severity) arrives as an empty row marked ``data-remove``. ``?tv=1`` is the wall screen, a page
of its own (``views/wall_screen.py``) with the same filters.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from strawberry.types.execution import ExecutionResult

from app.models import ONGOING
from schema.context import Context
from schema.live import SharedData
from views import notifications, page_cache, signed_in
from views.live import stream
from views.pages import (
    RESPONDING_CATEGORIES,
    OperationFailed,
    message,
    names,
    template_text,
)
from views.services import services

MAX_CHOICES = 20  # of each filter, from the query string


def routes() -> list[Route]:
    return [
        Route("/", page, name="dashboard"),
        Route("/live/dashboard", live, name="live-dashboard"),
    ]


@dataclasses.dataclass(frozen=True)
class Filters:
    """What the dashboard is narrowed to: incident types, severities, custom field options."""

    types: tuple[str, ...] = ()
    severities: tuple[str, ...] = ()
    options: tuple[str, ...] = ()

    @classmethod
    def of(cls, params: QueryParams) -> Filters:
        def chosen(name: str) -> tuple[str, ...]:
            return tuple(v for v in params.getlist(name) if v)[:MAX_CHOICES]

        return cls(chosen("type"), chosen("severity"), chosen("option"))

    def variables(self) -> dict[str, Any]:
        return {
            "filter": {
                "statusCategories": names(ONGOING),
                "typeIds": list(self.types) or None,
                "severityIds": list(self.severities) or None,
                "customFieldOptionIds": list(self.options) or None,
            }
        }

    def query(self) -> str:
        pairs = [("type", v) for v in self.types] + [("severity", v) for v in self.severities]
        return urlencode(pairs + [("option", v) for v in self.options])

    @property
    def any(self) -> bool:
        return bool(self.types or self.severities or self.options)


def sort_key(incident: Mapping[str, Any]) -> str:
    """Most severe first, then newest (as text, so the page's script sorts rows the same way)."""
    declared = datetime.fromisoformat(incident["declaredAt"]).timestamp()
    return f"{999 - incident['severity']['rank']:03d}-{10**11 - int(declared):011d}"


def list_id(incident: Mapping[str, Any]) -> str:
    return (
        "ongoing-active"
        if incident["status"]["category"] in RESPONDING_CATEGORIES
        else "ongoing-post"
    )


@signed_in.page
async def page(request: Request) -> Response:
    if request.query_params.get("tv") == "1":
        from views import wall_screen  # here: it imports this module's Filters

        return await wall_screen.draw(request)
    filters = Filters.of(request.query_params)

    async def draw(run: page_cache.Run) -> dict[str, Any]:
        data = await run("Dashboard", filters.variables())
        incidents = sorted((edge["node"] for edge in data["incidents"]["edges"]), key=sort_key)
        severities = sorted(data["severities"], key=lambda s: -s["rank"])
        counts = {
            s["id"]: sum(i["severity"]["id"] == s["id"] for i in incidents) for s in severities
        }
        custom = data["customFields"]
        return {
            "filters": filters,
            "active": [i for i in incidents if i["status"]["category"] in RESPONDING_CATEGORIES],
            "post": [i for i in incidents if i["status"]["category"] not in RESPONDING_CATEGORIES],
            "more": data["incidents"]["totalCount"] - len(incidents),
            "counts": counts,
            "severities": severities,
            "types": data["incidentTypes"],
            "fields": [f for f in custom if f["kind"] in ("SINGLE_SELECT", "MULTI_SELECT")],
            "sort_key": sort_key,
        }

    try:
        return await page_cache.render(
            request, "dashboard.html", draw, key=filters, block="board", section="dashboard"
        )
    except OperationFailed:
        return await message(
            request, 400, "Unknown filter", "One of the filters names something that does not "
            "exist (any more). Clear the filters and choose again.",
        )  # fmt: skip


@signed_in.feed
async def live(request: Request) -> Response:
    web = services(request)
    filters = Filters.of(request.query_params)

    def draw(result: ExecutionResult) -> str:
        data = result.data
        event = (data or {}).get("incidentEvents") or {}
        incident = event.get("incident")
        if incident is None:
            return ""
        if (result.extensions or {}).get("matchesFilter") is False:  # it left the dashboard
            return template_text("dashboard_live.html", incident=incident, gone=True)
        if not isinstance(data, SharedData):
            return _row(event)
        drawn = data.rendered.get("dashboard")
        if drawn is None:
            drawn = data.rendered["dashboard"] = _row(event)
        return drawn

    context = Context.of(web.db, signed_in.viewer(request), web.hub)
    operation = web.operations["DashboardEvents"]
    bell = notifications.bell_alongside(request)  # the header's bell rides along
    variables = filters.variables()
    return stream(request, web.schema, context, operation, variables, draw, alongside=bell)


def _row(event: Mapping[str, Any]) -> str:
    incident = event["incident"]
    return template_text(
        "dashboard_live.html",
        incident=incident,
        gone=False,
        list_id=list_id(incident),
        sort_key=sort_key(incident),
        announce=f"{incident['reference']} {incident['name']}: {event['summary']}",
    )

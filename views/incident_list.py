"""The list of incidents, ``/incidents``: every incident the viewer may see, newest first.

Filters (status, severity, type, mode, visibility, followed by me, where I hold a role, words to
search) are a plain GET form; htmx swaps just the results and puts the filters in the address,
searching as one types. Pages are keyset pages of ``PAGE`` incidents: "Next page" carries the
last row's cursor and the filters, "Back to the first page" drops the cursor. ``/live/incidents``
(same query string) keeps the rows current with the events of the incidents matching the same
filters (the API decides which, words searched included): a newly declared incident is inserted
at the top of the first page, a row whose incident changed is replaced in place, and removed
when the event says it no longer matches.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from strawberry.types.execution import ExecutionResult

from app.models import FINISHED, ONGOING, StatusCategory
from schema.context import Context
from schema.live import SharedData
from views import notifications, page_cache, signed_in
from views.live import stream
from views.pages import (
    Link,
    OperationFailed,
    is_htmx,
    message,
    names,
    template_text,
)
from views.services import services

PAGE = 25
MAX_CHOICES = 20  # of each filter, from the query string
MAX_SEARCH = 200
STATUS_CHOICES: dict[str, list[str]] = {
    "ONGOING": names(ONGOING),
    "FINISHED": names(FINISHED),
    **{category.value: [category.value] for category in StatusCategory},
}
STATUS_LABELS = (
    ("ONGOING", "Ongoing (triage, active, post-incident)"),
    ("TRIAGE", "Triage"),
    ("ACTIVE", "Active"),
    ("POST_INCIDENT", "Post-incident"),
    ("FINISHED", "Finished (closed, declined, merged, canceled)"),
    ("CLOSED", "Closed"),
    ("DECLINED", "Declined"),
    ("MERGED", "Merged"),
    ("CANCELED", "Canceled"),
)
MODES = (("STANDARD", "Standard"), ("TEST", "Practice"), ("RETROSPECTIVE", "Retrospective"))
VISIBILITIES = {"public": False, "private": True}


def routes() -> list[BaseRoute]:
    return [
        Route("/incidents", page, name="incidents"),
        Route("/live/incidents", live, name="live-incidents"),
    ]


class UnknownFilter(ValueError):
    """A status, mode or visibility in the query string that the list does not offer."""


@dataclasses.dataclass(frozen=True)
class Filters:
    """What the list is narrowed to, as the query string says it."""

    statuses: tuple[str, ...] = ()
    severities: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    modes: tuple[str, ...] = ()
    visibility: str = ""
    followed: bool = False
    held: bool = False
    search: str = ""

    @classmethod
    def of(cls, params: QueryParams) -> Filters:
        def chosen(name: str) -> tuple[str, ...]:
            return tuple(dict.fromkeys(v for v in params.getlist(name) if v))[:MAX_CHOICES]

        statuses, modes = chosen("status"), chosen("mode")
        visibility = params.get("visibility", "")
        if any(s not in STATUS_CHOICES for s in statuses):
            raise UnknownFilter("status")
        if any(m not in dict(MODES) for m in modes):
            raise UnknownFilter("mode")
        if visibility and visibility not in VISIBILITIES:
            raise UnknownFilter("visibility")
        return cls(
            statuses=statuses,
            severities=chosen("severity"),
            types=chosen("type"),
            modes=modes,
            visibility=visibility,
            followed=params.get("followed") == "1",
            held=params.get("held") == "1",
            search=" ".join(params.get("q", "").split())[:MAX_SEARCH],
        )

    @property
    def categories(self) -> tuple[str, ...]:
        wanted = {c for s in self.statuses for c in STATUS_CHOICES[s]}
        return tuple(c.value for c in StatusCategory if c.value in wanted)

    def variables(self) -> dict[str, Any]:
        return {
            "statusCategories": list(self.categories) or None,
            "severityIds": list(self.severities) or None,
            "typeIds": list(self.types) or None,
            "modes": list(self.modes) or None,
            "private": VISIBILITIES.get(self.visibility),
            "followedByMe": self.followed,
            "heldByMe": self.held,
            "search": self.search or None,
        }

    def query(self, after: str | None = None) -> str:
        """The query string of this list (of the page after ``after``)."""
        pairs = [("status", v) for v in self.statuses]
        pairs += [("severity", v) for v in self.severities] + [("type", v) for v in self.types]
        pairs += [("mode", v) for v in self.modes]
        if self.visibility:
            pairs.append(("visibility", self.visibility))
        if self.followed:
            pairs.append(("followed", "1"))
        if self.held:
            pairs.append(("held", "1"))
        if self.search:
            pairs.append(("q", self.search))
        if after:
            pairs.append(("after", after))
        return urlencode(pairs)

    def url(self, after: str | None = None) -> str:
        query = self.query(after)
        return f"/incidents?{query}" if query else "/incidents"

    @property
    def any(self) -> bool:
        return self != Filters()


def sort_key(incident: Mapping[str, Any]) -> str:
    """Newest first (as text, so the page's script keeps live rows in the same order)."""
    declared = datetime.fromisoformat(incident["declaredAt"]).timestamp()
    number = int(incident["reference"].rpartition("-")[2] or 0)
    return f"{10**11 - int(declared):011d}-{10**12 - number:012d}"


@signed_in.page
async def page(request: Request) -> Response:
    after = request.query_params.get("after") or None
    htmx = is_htmx(request)
    try:
        filters = Filters.of(request.query_params)
    except UnknownFilter:
        return await _broken(request)

    async def draw(run_shared: page_cache.Run) -> dict[str, Any]:
        variables = {"filter": filters.variables(), "first": PAGE, "after": after}
        data = await run_shared("IncidentList", variables)
        found = data["incidents"]
        more = found["pageInfo"]["hasNextPage"]
        return {
            "filters": filters,
            "after": after,
            "incidents": [edge["node"] for edge in found["edges"]],
            "total": found["totalCount"],
            "next_url": filters.url(found["pageInfo"]["endCursor"]) if more else None,
            "first_url": filters.url(),
            "live_url": "/live/incidents"
            + (f"?{filters.query(after)}" if filters.query(after) else ""),
            "severities": sorted(data["severities"], key=lambda s: -s["rank"]),
            "types": data["incidentTypes"],
            "statuses": STATUS_LABELS,
            "modes": MODES,
            "sort_key": sort_key,
            "announce": htmx,  # the new count, read out while people type
        }

    # "Followed by me" and "where I hold a role" name the viewer: those lists are theirs alone.
    mine = signed_in.viewer(request).user.id if filters.followed or filters.held else None
    try:
        response = await page_cache.render(
            request, "incident_list.html", draw, key=(filters, after, htmx, mine),
            block="results", section="incidents",
        )  # fmt: skip
    except OperationFailed:
        return await _broken(request)
    if htmx:
        response.headers["HX-Push-Url"] = filters.url(after)
    return response


async def _broken(request: Request) -> Response:
    return await message(
        request, 400, "This list link does not work",
        "One of its filters names something that does not exist (any more), or its page "
        "marker is damaged. Start again from the whole list and choose the filters anew.",
        Link("/incidents", "All incidents"),
    )  # fmt: skip


@signed_in.feed
async def live(request: Request) -> Response:
    try:
        filters = Filters.of(request.query_params)
    except UnknownFilter:
        return JSONResponse({"error": "Unknown filter."}, 400)
    first_page = not request.query_params.get("after")
    web = services(request)

    def draw(result: ExecutionResult) -> str:
        event: Mapping[str, Any] = (result.data or {}).get("incidentEvents") or {}
        incident = event.get("incident")
        if incident is None:
            return ""
        if (result.extensions or {}).get("matchesFilter") is False:  # it left the list
            return _drawn(result, event, "gone")
        if event["kind"] == "DECLARED":
            return _drawn(result, event, "new") if first_page else ""
        return _drawn(result, event, "changed")

    context = Context.of(web.db, signed_in.viewer(request), web.hub)
    variables = {"filter": filters.variables() if filters.any else None}
    operation = web.operations["IncidentListEvents"]
    bell = notifications.bell_alongside(request)  # the header's bell rides along
    return stream(request, web.schema, context, operation, variables, draw, alongside=bell)


def _drawn(result: ExecutionResult, event: Mapping[str, Any], change: str) -> str:
    """One event as a message for open lists: a ``new`` row on top, a ``changed`` row in place,
    or the row ``gone``; drawn once per event and change for every open list."""
    data = result.data
    key = f"incident-list-{change}"
    if isinstance(data, SharedData) and key in data.rendered:
        return data.rendered[key]
    incident = event["incident"]
    drawn = template_text(
        "incident_list_live.html",
        incident=incident,
        change=change,
        sort=sort_key(incident),
        announce=f"New incident {incident['reference']}: {incident['name']}",
    )
    if isinstance(data, SharedData):
        data.rendered[key] = drawn
    return drawn

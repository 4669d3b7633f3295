"""The wall screen, ``/?tv=1``: every ongoing incident on one 1920 x 1080 screen, live, untouched.

The dashboard's page hands TV mode here (``draw``). The screen reads the dashboard's filters
from its URL (``dashboard.Filters``) and runs ``WallScreen`` (the dashboard's rows,
``DashboardIncident``, and the severities); its live stream, ``/live/wall-screen``, runs the
dashboard's subscription (``DashboardEvents``) and draws each event's incident as a wall row,
once per event for every open screen, appended to ``#wall-arrivals``;
``static/pages/wall_screen.js`` moves it into its group, drops the copy it replaces, sorts and
lays the board out again. No forms, buttons, links, bell or navigation: nobody touches a wall.

Groups, top to bottom: one per severity (highest rank first) for incidents in triage or active,
then one for post-incident ones; in each, most severe then newest (``dashboard.sort_key``). A
group's tier (``TIERS``) sizes its rows: the most severe severity's are large (name, status,
lead, the next update's promise, the latest update), one to a line; the next one's medium
(name, status, lead, promise), two to a line; the others' small (name, promise, the status
only in triage), post-incident ones small too (severity, name, status), two to a line.
"Too many" is decided by height, not by count: the CSS makes ``1rem`` a 54th of the screen's
height (20 px at 1080), every line of rows a fixed height (``Tier.height`` rem, names cut with
an ellipsis) and every group a ``GAP`` more; the board has ``BUDGET`` rem (54 less the header
and the page's margins).
When every row fits, all show. When not, ``SUMMARY`` rem is kept for one summary line and rows
are shown in order, most severe first, while they fit; the first that does not fit and every
one after it are summarised by group ("and 14 more Minor incidents"), so what is hidden is
always the least severe (all of it counted in the header). The same rule runs here for the page
as loaded and in the script after each live change (it reads the numbers from the board's
``data-`` attributes, so they are written only here). Without JavaScript the page shows
everything as loaded and refreshes itself every ``REFRESH_SECONDS`` (a ``<meta refresh>``
inside ``<noscript>``); with it, the screen is live and never reloads.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from strawberry.types.execution import ExecutionResult

from schema.context import Context
from schema.live import SharedData
from views import page_cache, signed_in
from views.dashboard import Filters, sort_key
from views.live import stream
from views.pages import (
    RESPONDING_CATEGORIES,
    OperationFailed,
    message,
    template_text,
)
from views.services import services

BUDGET = 47  # rem for the groups and the summary: 54 less the header (4 + 1) and margins (2)
GAP = 1  # rem below each group shown
SUMMARY = 3  # rem for the summary line, when anything is summarised
REFRESH_SECONDS = 60  # without JavaScript


@dataclasses.dataclass(frozen=True)
class Tier:
    """How a group's rows are drawn: a CSS class, rows per line, a line's height in rem."""

    name: str
    columns: int
    height: int

    def cost(self, rows: int) -> int:
        """The height ``rows`` of this tier take, with their group's gap (nothing for none)."""
        return GAP + math.ceil(rows / self.columns) * self.height if rows else 0


LARGE = Tier("large", 1, 6)
MEDIUM = Tier("medium", 2, 4)
SMALL = Tier("small", 2, 3)
TIERS = (LARGE, MEDIUM)  # the most severe severities' tiers, in order; the rest are SMALL
POST = "wall-post"


@dataclasses.dataclass
class Group:
    """One group of rows: its list's id, its severity (None: post-incident), tier and rows."""

    id: str
    severity: Mapping[str, Any] | None
    tier: Tier
    rows: list[Mapping[str, Any]]
    shown: int = 0

    @property
    def more(self) -> int:
        return len(self.rows) - self.shown


def routes() -> list[Route]:
    return [Route("/live/wall-screen", live, name="live-wall-screen")]


def group_of(incident: Mapping[str, Any]) -> str:
    """The id of the list an incident's row goes to."""
    if incident["status"]["category"] in RESPONDING_CATEGORIES:
        return f"wall-{incident['severity']['id']}"
    return POST


def groups_of(
    severities: list[Mapping[str, Any]], incidents: list[Mapping[str, Any]]
) -> list[Group]:
    """The board's groups, in order, each with its rows in order (empty ones too: live rows
    may arrive in them)."""
    ranked = sorted(severities, key=lambda s: -s["rank"])
    groups = [
        Group(f"wall-{s['id']}", s, TIERS[n] if n < len(TIERS) else SMALL, [])
        for n, s in enumerate(ranked)
    ]
    groups.append(Group(POST, None, SMALL, []))
    by_id = {group.id: group for group in groups}
    for incident in sorted(incidents, key=sort_key):
        by_id[group_of(incident)].rows.append(incident)
    return groups


def fit(groups: list[Group]) -> bool:
    """Set how many rows of each group show; whether any are summarised."""
    if sum(g.tier.cost(len(g.rows)) for g in groups) <= BUDGET:
        for group in groups:
            group.shown = len(group.rows)
        return False
    room, used, cut = BUDGET - SUMMARY, 0, False
    for group in groups:
        shown = 0
        if not cut:
            shown = len(group.rows)
            while shown and used + group.tier.cost(shown) > room:
                shown -= 1
            cut = shown < len(group.rows)
            used += group.tier.cost(shown)
        group.shown = shown
    return True


async def draw(request: Request) -> Response:
    """The wall screen for this request's viewer (the dashboard's page calls it for ``tv=1``),
    shared by everyone with the same sight (``views.page_cache``)."""
    filters = Filters.of(request.query_params)

    async def drawn(run_shared: page_cache.Run) -> dict[str, Any]:
        data = await run_shared("WallScreen", filters.variables())
        incidents = [edge["node"] for edge in data["incidents"]["edges"]]
        groups = groups_of(data["severities"], incidents)
        return {
            "filters": filters,
            "groups": groups,
            "cut": fit(groups),
            "beyond": data["incidents"]["totalCount"] - len(incidents),
            "budget": {"budget": BUDGET, "gap": GAP, "summary": SUMMARY},
            "refresh": REFRESH_SECONDS,
            "sort_key": sort_key,
            "group_of": group_of,
        }

    try:
        return await page_cache.render_alone(request, "wall_screen.html", drawn, key=filters)
    except OperationFailed:
        return await message(
            request, 400, "Unknown filter", "One of the filters names something that does not "
            "exist (any more). Clear the filters and choose again.",
        )  # fmt: skip


@signed_in.feed
async def live(request: Request) -> Response:
    web = services(request)
    filters = Filters.of(request.query_params)

    def drawn(result: ExecutionResult) -> str:
        data = result.data
        event = (data or {}).get("incidentEvents") or {}
        incident = event.get("incident")
        if incident is None:
            return ""
        if (result.extensions or {}).get("matchesFilter") is False:  # it left the screen
            return template_text("wall_screen_live.html", incident=incident, gone=True)
        if not isinstance(data, SharedData):
            return _row(event)
        row = data.rendered.get("wall-screen")
        if row is None:
            row = data.rendered["wall-screen"] = _row(event)
        return row

    context = Context.of(web.db, signed_in.viewer(request), web.hub)
    operation = web.operations["DashboardEvents"]
    return stream(request, web.schema, context, operation, filters.variables(), drawn)


def _row(event: Mapping[str, Any]) -> str:
    incident = event["incident"]
    return template_text(
        "wall_screen_live.html",
        incident=incident,
        gone=False,
        group=group_of(incident),
        sort_key=sort_key(incident),
        announce=f"{incident['reference']} {incident['name']}: {event['summary']}",
    )

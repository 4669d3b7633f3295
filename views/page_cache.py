"""Signed-in pages drawn once for everyone who sees the same, and served from memory after.

When a Critical incident hits, everyone opens the dashboard and the incident page within the same
minute, and they all see the same unless they differ in what they may see or do. So a shared page
is drawn in parts. Its shared part (the page template's main block and the block an htmx request
gets) is drawn once per (template, key, sight, data version) and stored (``Drawings``): the sight
is ``schema.viewers.audience``, all that decides which incidents a person may see; the key is
what the page's view says it depends on (its filters; on the incident page also the viewer's own
part of it, ``answer``); and it is drawn again after every write that touches what that sight
shows (``Touched.PAGES``, here or, through the event hub, in another process: a write confined
to private incidents reaches only their members' drawings, so those outside them notice
nothing, not even a slower answer). Its per-viewer
frame (the header with the person's name, navigation and bell) is drawn around it from what the
``Navigation`` operation answered for that person, kept per person, browser, section and data
version; each browser's CSRF token goes into the shared forms where the drawing left a random
mark. A request that finds everything stored runs no query.

What keeps the sharing honest: the shared part is drawn by a function that gets no request, only
``run``, which executes operations that select no ``per_viewer`` field (``schema.viewers``; any
other is refused) as the person whose request drew it; it is drawn with every other per-viewer
name (``viewer``, ``viewer_can``, ``unread_notifications``, ``request``) bound to a stand-in that
fails the drawing if a template uses it; and the drawer's sight is read again after each of its
operations, in the same reads: a drawing made while they were let into a private incident is
given to nobody. What a page needs of the viewer to draw the shared part (``answer``: an
operation's answer kept per person and data version) goes into its key. Drawings are at most
``FRESH_FOR`` seconds old (times such as "overdue" move with the clock).
"""

from __future__ import annotations

import dataclasses
import json
import secrets
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, NoReturn

from graphql import parse
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from app import policy
from app.db import Reach
from schema.context import Context
from schema.limits import MusterSchema
from schema.viewers import audience, per_viewer_fields, selects_per_viewer
from views.browser import csrf_token_for
from views.drawings import Drawings
from views.pages import TEMPLATES, is_htmx, run_as
from views.services import services
from views.signed_in import viewer

FRESH_FOR = 15.0  # seconds a drawing is served before it is drawn again
ENTRIES = 1024  # shared parts kept (pages, filters and sights)
PEOPLE = 10_000  # people whose navigation is kept
SIGHT_RETRIES = 3  # times a viewer asks again after a drawing they waited for was refused
PER_VIEWER = ("viewer", "viewer_can", "unread_notifications", "request")
WHOLE = "(whole page)"  # a page drawn whole, without the viewer's frame (render_alone)
AROUND_MAIN = ("title", "head", "body_class", "bell_feed")  # base.html's blocks besides main
CACHE_HEADERS = {"Cache-Control": "private, no-store", "Vary": "HX-Request, Cookie"}

Run = Callable[..., Awaitable[dict[str, Any]]]  # (operation, variables)
# What draws a shared part: the template's context from operations run with ``run``.
Draw = Callable[[Run], Awaitable[dict[str, Any]]]


class SightChanged(Exception):
    """The person drawing a shared part was let see other incidents while it was drawn."""


class PerViewerUsed(RuntimeError):
    """A shared part of a page used something that differs between viewers."""


class _PerViewer:
    """Stands in for a per-viewer value while a shared part is drawn: any use of it fails."""

    def __init__(self, name: str) -> None:
        self._name = name

    def _refuse(self, *_: object) -> NoReturn:
        raise PerViewerUsed(f"a page part shared by audience used {self._name!r}")

    __str__ = __bool__ = __len__ = __iter__ = __html__ = __getattr__ = __getitem__ = _refuse


@dataclasses.dataclass(frozen=True)
class Seen:
    """What one person's header shows, and whom they share drawings with."""

    viewer_can: dict[str, bool]
    unread_notifications: int
    sight: policy.Sight


class SharedPages:
    """The shared parts of signed-in pages and their viewers' navigation, for one process."""

    def __init__(
        self,
        schema: MusterSchema,
        operations: dict[str, str],
        *,
        fresh_for: float = FRESH_FOR,
        entries: int = ENTRIES,
        people: int = PEOPLE,
    ) -> None:
        self.parts: Drawings[dict[str, Markup]] = Drawings(fresh_for=fresh_for, entries=entries)
        self.people: Drawings[Seen] = Drawings(fresh_for=fresh_for, entries=people)
        self.frames: Drawings[tuple[str, str]] = Drawings(fresh_for=fresh_for, entries=people)
        self._main = secrets.token_hex(16)  # where a frame's main block goes
        self.csrf_mark = secrets.token_hex(16)  # where a browser's CSRF token goes
        self.answers: Drawings[dict[str, Any]] = Drawings(fresh_for=fresh_for, entries=people)
        fields = per_viewer_fields(schema._schema, sight_shared=True)
        self.per_viewer_operations = frozenset(
            name
            for name, text in operations.items()
            if selects_per_viewer(schema._schema, parse(text), fields)
        )

    def changed(self, reach: Reach) -> None:
        """Something pages show has changed for those ``reach`` names: draw what they see again
        when next asked (everything, if it reaches everyone). A part is drawn for a sight, and
        a person's own parts (header, frame, answers) for them and theirs: those of anyone a
        change to private incidents does not concern are kept, so it costs them nothing."""
        if reach.everyone:
            for store in (self.parts, self.people, self.frames, self.answers):
                store.changed()
            return

        def sees(sight: policy.Sight) -> bool:
            return not sight.private.isdisjoint(reach.incidents)

        self.parts.changed(lambda key: sees(key[3]))  # (template, block, key, sight)
        self.people.changed(lambda key: key in reach.people)  # user id
        self.frames.changed(lambda key: key[0] in reach.people)  # (user id, ...)
        # (user id, sight, operation, variables)
        self.answers.changed(lambda key: key[0] in reach.people or sees(key[1]))

    async def seen(self, request: Request) -> Seen:
        """The signed-in viewer's header and sight, as of the current data version."""
        who = viewer(request)
        sights: list[policy.Sight] = []

        async def read_sight(context: Context) -> None:
            sights.append(await audience(context))

        async def draw() -> Seen:
            data = await run_as(request, who, "Navigation", then=read_sight)
            unread = data["viewer"]["unreadNotificationCount"]
            return Seen(data["viewerCan"], unread, sights[-1])

        return await self.people.get(who.user.id, draw)

    async def frame(
        self, request: Request, seen: Seen, section: str, blocks: dict[str, Markup]
    ) -> tuple[str, str]:
        """The viewer's page around the main block (``shared_page.html``): what comes before
        it and after it, kept per person, browser, section and the page's other blocks."""
        csrf_token = csrf_token_for(request)
        user = viewer(request).user
        others = tuple(blocks.get(name) for name in AROUND_MAIN)

        async def draw() -> tuple[str, str]:
            whole = TEMPLATES.get_template("shared_page.html").render(
                viewer=user,
                csrf_token=csrf_token,
                viewer_can=seen.viewer_can,
                unread_notifications=seen.unread_notifications,
                section=section,
                shared=blocks | {"main": Markup(self._main)},  # noqa: S704 (a random token)
            )
            before, after = whole.split(self._main)
            return before, after

        return await self.frames.get((user.id, csrf_token, section, others), draw)

    async def part(
        self, request: Request, template: str, key: Hashable, draw: Draw, block: str | None
    ) -> tuple[Seen, dict[str, Markup]]:
        """The viewer's header and the shared blocks of ``template`` for ``key`` and their
        sight. The drawing's operations read the drawer's sight again after them, in the same
        reads: if it is no longer the one the drawing is kept for (they were just added to a
        private incident), nobody gets the drawing and everyone waiting asks again."""
        who = viewer(request)
        for _ in range(SIGHT_RETRIES):
            seen = await self.seen(request)

            async def confirm(context: Context, expected: policy.Sight = seen.sight) -> None:
                if await audience(context) != expected:
                    raise SightChanged

            async def shared_run(
                operation: str, variables: dict[str, Any] | None = None
            ) -> dict[str, Any]:
                if operation in self.per_viewer_operations:
                    raise PerViewerUsed(f"{operation} selects per-viewer fields: it is not shared")
                return await run_as(request, who, operation, variables, then=confirm)

            async def drawn() -> dict[str, Markup]:
                context = await draw(shared_run)
                stand_ins: dict[str, object] = {name: _PerViewer(name) for name in PER_VIEWER}
                stand_ins["csrf_token"] = self.csrf_mark
                return _blocks(template, context | stand_ins, block)

            try:
                return seen, await self.parts.get((template, block, key, seen.sight), drawn)
            except SightChanged:
                self.people.forget(who.user.id)
        raise SightChanged


def _blocks(template: str, context: dict[str, Any], block: str | None) -> dict[str, Markup]:
    """The blocks of ``template`` a response may need, drawn with ``context``: its main block,
    ``block`` (for htmx requests) and those of base.html's around main it defines itself; with
    no ``block``, the whole template (``WHOLE``)."""
    page = TEMPLATES.env.get_template(template)
    if block is None:
        return {WHOLE: Markup(page.render(context))}  # noqa: S704 (autoescaped output)
    blocks = {}
    for name in {*AROUND_MAIN, "main", block} & page.blocks.keys():
        drawn = TEMPLATES.env.concat(page.blocks[name](page.new_context(context)))
        blocks[name] = Markup(drawn)  # noqa: S704 (an autoescaped template's output)
    return blocks


async def answer(request: Request, operation: str, variables: dict[str, Any]) -> dict[str, Any]:
    """A per-viewer operation's answer for this viewer, kept per person and data version: what
    a shared page needs of them to choose its drawing (its key) and their part of it."""
    shared = services(request).pages
    who = viewer(request)
    seen = await shared.seen(request)
    key = (who.user.id, seen.sight, operation, json.dumps(variables, sort_keys=True))
    return await shared.answers.get(key, lambda: run_as(request, who, operation, variables))


async def render(
    request: Request, template: str, draw: Draw, *, key: Hashable, block: str, section: str
) -> Response:
    """The page ``template`` for this request (only ``block`` for htmx requests): its shared
    blocks for ``key`` drawn by ``draw`` (or stored), with this browser's CSRF token in its
    forms, inside this viewer's header."""
    shared = services(request).pages
    seen, blocks = await shared.part(request, template, key, draw, block)
    token = csrf_token_for(request) or ""
    if is_htmx(request):
        return HTMLResponse(blocks[block].replace(shared.csrf_mark, token), headers=CACHE_HEADERS)
    before, after = await shared.frame(request, seen, section, blocks)
    main = blocks["main"].replace(shared.csrf_mark, token)
    return HTMLResponse("".join((before, main, after)), headers=CACHE_HEADERS)


async def render_alone(request: Request, template: str, draw: Draw, *, key: Hashable) -> Response:
    """A page with nothing of the viewer's in it (the wall screen: no header, no forms), drawn
    whole by ``draw`` (or stored) and shared whole."""
    _, blocks = await services(request).pages.part(request, template, key, draw, None)
    return HTMLResponse(blocks[WHOLE], headers=CACHE_HEADERS)

"""The public status pages, live, without signing in: ``Watch`` is the server-sent event stream
of one page (``/status/live`` for ``/status``, ``/status/incidents/<id>/live`` for an incident's
page). Every viewer of a page is sent the same message, drawn and encoded once for all of them
(``views.status_cache``): a stream waits on the pages' shared ``next_change()`` and, when it
comes (or at each ping, since the clock moves some pages), sends the page's stored message if it
is not the one the viewer has (``?seen=`` from the page it loaded, then ``Last-Event-ID``). Each
stream is the one task its response runs in plus one waiting for the browser to leave, and
nothing more, so that thousands of idle viewers cost little; a process keeps at most
``MUSTER_STATUS_LIVE_VIEWERS`` (503 with ``Retry-After`` beyond), a viewer that does not take a
message within ``SEND_TIMEOUT`` is let go, and a page with nothing live (not found) answers 204,
which tells the browser not to come back.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import Receive, Scope, Send

from views.services import services
from views.status_cache import Draw, Drawn, StatusPages, Stored

PING_SECONDS = 15.0
SEND_TIMEOUT = 10.0  # seconds a viewer has to take a message
RETRY_MS = 5000  # how long a browser waits before coming back after the stream ends
RETRY_AFTER = 30  # seconds a refused viewer is told to wait
PING = b": ping\n\n"
RETRY = f"retry: {RETRY_MS}\n\n".encode()
HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),  # proxies that buffer (nginx) pass each message on at once
]

log = logging.getLogger(__name__)


class Watch:
    """ASGI app: the live stream of the page ``key(request)`` names, drawn by ``draw``."""

    def __init__(self, draw: Draw, key: Callable[[Request], str]) -> None:
        self.draw = draw
        self.key = key

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        web = services(request)
        pages = web.status_pages
        if pages.watching >= web.settings.status_live_viewers:
            busy = PlainTextResponse(
                "Too many live viewers here just now: reload the page to see the latest.",
                503,
                headers={"Retry-After": str(RETRY_AFTER)},
            )
            await busy(scope, receive, send)
            return
        key = self.key(request)
        seen = request.headers.get("last-event-id") or request.query_params.get("seen", "")

        def draw() -> Awaitable[Drawn | Response]:
            return self.draw(request)

        known = pages.version
        stored = await pages.stored(key, draw)
        if stored.message is None:
            await Response(status_code=204)(scope, receive, send)
            return
        pages.watching += 1
        gone = asyncio.ensure_future(_left(receive))
        try:
            await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
            # Two chunks, not one: joined, each viewer would keep a copy of the page of its own.
            if not await _sent(send, RETRY):
                return
            if stored.live_id != seen and not await _sent(send, stored.message):
                return
            await _follow(pages, key, draw, stored.live_id, known, send, gone)
        finally:
            pages.watching -= 1
            gone.cancel()


async def _follow(
    pages: StatusPages,
    key: str,
    draw: Callable[[], Awaitable[Drawn | Response]],
    seen: str | None,
    known: int,
    send: Send,
    gone: asyncio.Future[None],
) -> None:
    """Send the page's message each time it changes (after version ``known``, at which the
    viewer was sent the message ``seen``), a ping when nothing did, until the viewer leaves or
    stops taking messages."""
    while True:
        # The future first, then the version: a change committed in another thread between the
        # two is then either seen here or settles this future (the other way round, it could
        # come after the look at the version and before the future, and wake nobody).
        change = pages.next_change()
        changed = pages.version != known  # perhaps while this stream was starting
        if not changed:
            done, _ = await asyncio.wait(
                (gone, change), timeout=PING_SECONDS, return_when=asyncio.FIRST_COMPLETED
            )
            if gone in done:
                return
            changed = change in done
        known = pages.version
        now: Stored | None
        try:
            now = await pages.stored(key, draw)
        except Exception:
            log.exception("could not draw %s for its live viewers", key)
            now = None
        if now is not None and now.message is None:
            return
        if now is not None and now.live_id != seen:
            chunk, seen = now.message, now.live_id
        elif changed:
            continue  # a change elsewhere: nothing new here
        else:
            chunk = PING
        if chunk is None or not await _sent(send, chunk):
            return


async def _sent(send: Send, chunk: bytes) -> bool:
    """Send a chunk of the stream; False if the viewer did not take it in time."""
    try:
        async with asyncio.timeout(SEND_TIMEOUT):
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
    except TimeoutError:
        return False
    return True


async def _left(receive: Receive) -> None:
    """Return when the browser has gone."""
    while (await receive())["type"] != "http.disconnect":
        pass

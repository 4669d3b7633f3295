"""The public status page's stored renderings: every anonymous visitor of a page gets the same
bytes, so each page (its path and query) is drawn once per change and served from here, with a
content ``ETag`` (304 to a browser that has it), compressed once for the browsers that take gzip,
and no database work per request. A write that changes what the page shows
(``Database.on_touched``, in this process or, through the event hub, in another) drops every
stored rendering; one older than ``FRESH_FOR`` seconds is drawn again too, since uptime and
"starts in" move with the clock (same content, same ``ETag``). Visitors asking for a page while it
is being drawn wait for that one drawing; at most ``ENTRIES`` pages are kept (``views.drawings``
keeps them). A live page also stores the message its live
viewers are sent (``views.status_live``), encoded once for all of them; they wait on
``changed()``. ``views.metrics`` reads the drawings' hits and misses.
"""

from __future__ import annotations

import asyncio
import dataclasses
import gzip
import hashlib
import time
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response

from views.drawings import Drawings

FRESH_FOR = 15.0  # seconds a rendering is served before it is drawn again
ENTRIES = 512  # pages kept
MAX_AGE = 5  # seconds browsers and shared caches may keep a page without asking
SMALLEST_GZIP = 512  # bytes: smaller bodies are sent as they are


@dataclasses.dataclass(frozen=True)
class Drawn:
    """What a page's handler draws: its response and, for a live page, the fragment (HTML) its
    live viewers are sent when it changes."""

    response: Response
    live: str | None = None


# A public page's handler: what it draws for a request (views.status_page, views.status_live).
Draw = Callable[[Request], Awaitable[Drawn | Response]]


@dataclasses.dataclass(frozen=True)
class Stored:
    """One page, drawn: the bytes every visitor gets."""

    status_code: int
    media_type: str
    headers: dict[str, str]  # the response's own, ETag and caching included
    body: bytes
    gzipped: bytes | None  # the body compressed, when that is smaller
    etag: str
    live_id: str | None  # the live fragment's digest: a viewer who has it needs nothing
    message: bytes | None  # the live fragment as one server-sent event


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:32]


def event_message(event_id: str, html: str) -> bytes:
    """``html`` as one server-sent event with this id (each line its own ``data:`` line)."""
    lines = "".join(f"data: {line}\n" for line in html.splitlines() or [""])
    return f"id: {event_id}\n{lines}\n".encode()


def _store(drawn: Drawn) -> Stored:
    response = drawn.response
    body = bytes(response.body)
    etag = f'W/"{digest(body)}"'
    headers = {
        name: value
        for name, value in response.headers.items()
        if name not in ("content-length", "content-type")
    }
    headers |= {
        "ETag": etag,
        "Cache-Control": f"public, max-age={MAX_AGE}",
        "Vary": "Accept-Encoding",
    }
    packed = gzip.compress(body, compresslevel=9, mtime=0) if len(body) >= SMALLEST_GZIP else None
    live_id = message = None
    if drawn.live is not None:
        fragment = drawn.live.encode()
        live_id = digest(fragment)
        message = event_message(live_id, drawn.live)
    return Stored(
        status_code=response.status_code,
        media_type=response.media_type or "text/html",
        headers=headers,
        body=body,
        gzipped=packed if packed is not None and len(packed) < len(body) else None,
        etag=etag,
        live_id=live_id,
        message=message,
    )


def _matches(if_none_match: str, etag: str) -> bool:
    """Whether an ``If-None-Match`` header names this ETag (weak comparison, RFC 9110)."""
    ours = etag.removeprefix("W/")
    return any(
        tag.strip() == "*" or tag.strip().removeprefix("W/") == ours
        for tag in if_none_match.split(",")
    )


class StatusPages:
    """The stored renderings of the public status pages, for one process."""

    def __init__(
        self,
        *,
        fresh_for: float = FRESH_FOR,
        entries: int = ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.drawings: Drawings[Stored] = Drawings(
            fresh_for=fresh_for, entries=entries, clock=clock
        )
        self._change: asyncio.Future[None] | None = None
        self.watching = 0  # live viewers connected (views.status_live)

    @property
    def version(self) -> int:
        return self.drawings.version

    def changed(self) -> None:
        """What the pages show has changed: draw each again when next asked, and wake the live
        viewers."""
        self.drawings.changed()
        change, self._change = self._change, None
        if change is not None:
            # (thread-safe: the tests write from a thread of their own)
            change.get_loop().call_soon_threadsafe(_settle, change)

    def next_change(self) -> asyncio.Future[None]:
        """A future that is done at the next ``changed()``, shared by everyone waiting."""
        if self._change is None:
            self._change = asyncio.get_running_loop().create_future()
        return self._change

    async def stored(self, key: str, draw: Callable[[], Awaitable[Drawn | Response]]) -> Stored:
        """The page at ``key``, drawn by ``draw`` unless a fresh rendering is stored."""

        async def drawn() -> Stored:
            made = await draw()
            return _store(made if isinstance(made, Drawn) else Drawn(made))

        return await self.drawings.get(key, drawn)


def _settle(change: asyncio.Future[None]) -> None:
    if not change.done():
        change.set_result(None)


def answer(request: Request, stored: Stored) -> Response:
    """The stored page for this request: 304 if the browser has it, else its bytes, gzipped
    if the browser takes that."""
    if _matches(request.headers.get("if-none-match", ""), stored.etag):
        return Response(status_code=304, headers=stored.headers)
    # As Starlette's GZipMiddleware decides, which would compress this response otherwise.
    if stored.gzipped is not None and "gzip" in request.headers.get("accept-encoding", ""):
        return Response(
            stored.gzipped,
            stored.status_code,
            headers=stored.headers | {"Content-Encoding": "gzip"},
            media_type=stored.media_type,
        )
    return Response(
        stored.body, stored.status_code, headers=stored.headers, media_type=stored.media_type
    )

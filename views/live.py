"""Server-sent events for the web pages: a schema subscription run in-process, one message per
result.

A stream opened from a page of another origin (not the site's own, not in
``MUSTER_ALLOWED_ORIGINS``) is refused. Each message's ``id`` is the event's cursor, so a browser
that reconnects sends it back as ``Last-Event-ID`` and resumes exactly after it. Drawing a message
may await (a page may read more for it). A message drawn once for many streams (the same string)
is also encoded once for all of them. Pings keep proxies from closing idle streams; the
hub's bounded queue is the buffer (a stream that cannot keep up is ended with an ``error``
message and resumes on reconnect); a browser that leaves ends the subscription at once. The web
pages render fragments from the results; ``/live/events`` streams them as JSON.

A stream takes its place among its person's live feeds (``EventHub.admit``) before answering, so
one over the cap is a 429 with ``Retry-After``, not a stream that fails after its headers; the
place is given back however the response ends.
"""

from __future__ import annotations

import functools
import inspect
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send
from strawberry.types.execution import ExecutionResult, PreExecutionError

from app.config import origin
from app.errors import MusterError
from app.events import EventHub, TooManyFeeds
from schema.context import Context
from schema.limits import MusterSchema
from schema.pagination import event_position
from views.services import services
from views.signed_in import feed, viewer

PING_SECONDS = 15
RETRY_AFTER = 10  # seconds a refused stream is told to wait
ENCODED = 1024  # recent messages kept encoded, for the other streams sending the same one
SEND_TIMEOUT = 10  # a browser that does not take a message for this long is let go

Render = Callable[[ExecutionResult], str | Awaitable[str]]


def as_json(result: ExecutionResult) -> str:
    return json.dumps(result.data, separators=(",", ":"))


def stream(
    request: Request,
    schema: MusterSchema,
    context: Context,
    operation: str,
    variables: dict[str, Any],
    render: Render = as_json,
) -> Response:
    """Stream ``operation`` (a subscription) to the browser, resuming after Last-Event-ID."""
    sent_from = request.headers.get("origin")
    allowed = (origin(str(request.base_url)), *services(request).settings.allowed_origins)
    if sent_from and sent_from not in allowed:
        return JSONResponse({"error": "This origin may not open streams here."}, 403)
    resume = request.headers.get("last-event-id")
    if resume:
        try:
            event_position(resume)
            variables = {**variables, "after": resume}
        except MusterError:
            pass  # not one of our cursors: start from now

    hub = context.hub
    if hub is not None:
        try:
            hub.admit(context.viewer, context.request_id)
        except TooManyFeeds as error:
            return JSONResponse(
                {"error": error.message, "code": error.code.value},
                429,
                headers={"Retry-After": str(RETRY_AFTER)},
            )

    async def messages() -> AsyncIterator[ServerSentEvent | bytes]:
        try:
            results = await schema.stream(operation, variables, context)
            async for result in results:
                if isinstance(result, PreExecutionError) or result.errors:
                    errors = [e.message for e in result.errors or []]
                    yield ServerSentEvent(event="error", data=json.dumps({"errors": errors}))
                    return
                cursor = (result.extensions or {}).get("cursor")
                drawn = render(result)
                if inspect.isawaitable(drawn):
                    drawn = await drawn
                yield _encoded(cursor, drawn)
        finally:
            await context.close()

    return _Feed(
        messages(), ping=PING_SECONDS, send_timeout=SEND_TIMEOUT, headers={"Vary": "Cookie"},
        admitted=(hub, context.request_id),
    )  # fmt: skip


class _Feed(EventSourceResponse):
    """An event stream that gives its admission back when it ends, however it ends (even if it
    ended before its first message, when the subscription never took the admission over)."""

    def __init__(self, *args: Any, admitted: tuple[EventHub | None, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.admitted = admitted

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            hub, admission = self.admitted
            if hub is not None:
                hub.release(admission)


@functools.lru_cache(maxsize=ENCODED)
def _encoded(cursor: str | None, data: str) -> bytes:
    """A message as sent. A rendering shared by many streams is the same string object, so the
    cache finds it at once and the encoding is done once for all of them."""
    return ServerSentEvent(id=cursor, data=data).encode()


@feed
async def events(request: Request) -> Response:
    """``GET /live/events[?incident=<id>]``: the LiveEvents feed as JSON messages."""
    web = services(request)
    context = Context.of(web.db, viewer(request), web.hub)
    variables = {"incidentId": request.query_params.get("incident")}
    return stream(request, web.schema, context, web.operations["LiveEvents"], variables)

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

A page's stream may carry a second subscription ``alongside`` its own (the header bell's, so a
browser tab holds one connection, not two): each source is read by a task of its own and their
messages go out as they come; the second's have no ``id`` (``Last-Event-ID`` stays the page's
event cursor), are drawn for this stream alone and never kept among the shared encodings. It
takes a second place among the person's feeds, admitted with the first (429 if either is over
the cap). When either source ends (an ``error`` message first, if that is why) or the browser
leaves, both are stopped and the response ends.
"""

from __future__ import annotations

import asyncio
import dataclasses
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
from app.events import EventHub
from app.feeds import TooManyFeeds
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
# A second subscription sent in the same response: its operation, variables and renderer.
Alongside = tuple[str, dict[str, Any], Render]
ALONGSIDE = "+alongside"  # the second subscription's admission: the request's id and this


def as_json(result: ExecutionResult) -> str:
    return json.dumps(result.data, separators=(",", ":"))


def stream(
    request: Request,
    schema: MusterSchema,
    context: Context,
    operation: str,
    variables: dict[str, Any],
    render: Render = as_json,
    *,
    alongside: Alongside | None = None,
) -> Response:
    """Stream ``operation`` (a subscription) to the browser, resuming after Last-Event-ID;
    ``alongside`` (operation, variables, render), a second subscription in the same response,
    its messages without an ``id``."""
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

    # The second subscription has a context of its own (its own reads, its own admission).
    beside = None if alongside is None else dataclasses.replace(
        context, request_id=f"{context.request_id}{ALONGSIDE}"
    )  # fmt: skip
    contexts = [context] if beside is None else [context, beside]
    hub = context.hub
    if hub is not None:
        admitted: list[str] = []
        try:
            for each in contexts:
                hub.admit(each.viewer, each.request_id)
                admitted.append(each.request_id)
        except TooManyFeeds as error:
            for admission in admitted:
                hub.release(admission)
            return JSONResponse(
                {"error": error.message, "code": error.code.value},
                429,
                headers={"Retry-After": str(RETRY_AFTER)},
            )

    messages = _messages(schema, context, operation, variables, render, ids=True)
    if alongside is not None and beside is not None:
        second, second_variables, second_render = alongside
        messages = _merged(
            messages, _messages(schema, beside, second, second_variables, second_render, ids=False)
        )
    return _Feed(
        messages, ping=PING_SECONDS, send_timeout=SEND_TIMEOUT, headers={"Vary": "Cookie"},
        admitted=(hub, [each.request_id for each in contexts]),
    )  # fmt: skip


async def _messages(
    schema: MusterSchema,
    context: Context,
    operation: str,
    variables: dict[str, Any],
    render: Render,
    *,
    ids: bool,
) -> AsyncIterator[ServerSentEvent | bytes]:
    """One subscription's messages; ``ids``: each with its event's cursor as its ``id``."""
    try:
        results = await schema.stream(operation, variables, context)
        async for result in results:
            if isinstance(result, PreExecutionError) or result.errors:
                errors = [e.message for e in result.errors or []]
                yield ServerSentEvent(event="error", data=json.dumps({"errors": errors}))
                return
            drawn = render(result)
            if inspect.isawaitable(drawn):
                drawn = await drawn
            if ids:
                yield _encoded((result.extensions or {}).get("cursor"), drawn)
            else:  # drawn for this stream alone: not kept among the shared encodings
                yield ServerSentEvent(data=drawn).encode()
    finally:
        await context.close()


_ENDED = object()  # a source has no more messages
_pumping: set[asyncio.Task[None]] = set()  # kept referenced until they end


async def _merged(
    *sources: AsyncIterator[ServerSentEvent | bytes],
) -> AsyncIterator[ServerSentEvent | bytes]:
    """The sources' messages as they come, each source read by a task of its own. The
    response ends when any source ends (its error message sent first) or the browser leaves;
    either way every source is stopped. A source waits for its message to be taken before it
    reads on, so the hub's bounded queues stay the only buffer."""
    queue: asyncio.Queue[object] = asyncio.Queue(maxsize=1)

    async def pump(source: AsyncIterator[ServerSentEvent | bytes]) -> None:
        try:
            async for message in source:
                await queue.put(message)
        except Exception as error:  # raised again in the response, below
            await queue.put(error)
        else:
            await queue.put(_ENDED)

    tasks = [asyncio.create_task(pump(source), name="live-source") for source in sources]
    for task in tasks:
        _pumping.add(task)
        task.add_done_callback(_pumping.discard)
    try:
        while True:
            message = await queue.get()
            if message is _ENDED:
                return
            if isinstance(message, Exception):
                raise message
            assert isinstance(message, ServerSentEvent | bytes)
            yield message
    finally:
        for task in tasks:
            task.cancel()  # each source's own ``finally`` closes its context


class _Feed(EventSourceResponse):
    """An event stream that gives its admissions back when it ends, however it ends (even if it
    ended before its first message, when the subscriptions never took them over)."""

    def __init__(
        self, *args: Any, admitted: tuple[EventHub | None, list[str]], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.admitted = admitted

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            hub, admissions = self.admitted
            if hub is not None:
                for admission in admissions:
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

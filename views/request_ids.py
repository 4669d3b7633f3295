"""Request ids: every HTTP request and WebSocket gets one, for the log lines and errors it causes.

``RequestIds`` is the outermost middleware: it sets ``app.logs.REQUEST_ID`` for as long as the
request is served, so every line logged meanwhile (uvicorn's access line included) names it, a
GraphQL context made for the request takes it as its ``request_id`` (the ``requestId`` a masked
error shows), and the response says it in ``X-Request-Id``. Ids are made here, never taken from
the client, so nobody can write someone else's id into the logs.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.logs import REQUEST_ID, new_request_id


class RequestIds:
    """ASGI middleware: a new request id for each request, in the logs and the answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        request_id = new_request_id()

        async def with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)["X-Request-Id"] = request_id
            await send(message)

        token = REQUEST_ID.set(request_id)
        try:
            await self.app(scope, receive, with_id)
        finally:
            REQUEST_ID.reset(token)

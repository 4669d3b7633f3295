"""``/graphql`` over HTTP and WebSocket: authentication, limits, and JSON errors.

HTTP requests must carry credentials (``Authorization: Bearer <token>``, or a browser's session
cookie, whose state-changing requests the CSRF guard has checked); without valid ones the answer
is 401 with a JSON error and nothing else (``views.bodies`` limits the body). Queries may use
GET; mutations only POST with JSON. GraphiQL is served only when the settings enable it.
WebSockets speak ``graphql-transport-ws`` only, from allowed origins; they authenticate in
``connection_init`` (``{"authorization": "Bearer <token>"}``, or, from a browser, an empty
payload and the session cookie of the handshake) within ``CONNECTION_INIT_TIMEOUT`` seconds, and
carry subscriptions only, at most ``subscriptions_per_socket`` at once, in frames limited by
``views.sockets``.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from cross_web import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from app.db import Database
from app.events import EventHub
from app.identity import Authenticator, Principal
from app.models import TokenScope
from schema.context import Context, nobody
from schema.limits import MusterSchema
from schema.live import SharedData
from views import graphiql, sockets
from views.browser import principal

CONNECTION_INIT_TIMEOUT = 10  # seconds a socket may wait before saying who it is


def error_response(status: int, message: str, code: str, **headers: str) -> JSONResponse:
    body = {"errors": [{"message": message, "extensions": {"code": code}}]}
    return JSONResponse(body, status_code=status, headers=headers)


@dataclasses.dataclass
class SocketContext(Context):
    """A socket's context: until ``connection_init`` says otherwise, nobody; ``handshake`` is
    who the handshake's session cookie named, if anyone."""

    handshake: Principal | None = None


class GraphQLEndpoint(GraphQL[Context, None]):
    """Strawberry's ASGI view with Muster's authentication and limits."""

    def __init__(
        self,
        schema: MusterSchema,
        db: Database,
        *,
        graphiql: bool,
        authenticator: Authenticator,
        hub: EventHub | None = None,
        allowed_origins: Sequence[str] = (),
        subscriptions_per_socket: int = 50,
    ) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql" if graphiql else None,
            allow_queries_via_get=True,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            connection_init_wait_timeout=timedelta(seconds=CONNECTION_INIT_TIMEOUT),
            allowed_origins=allowed_origins,
        )
        self.db = db
        self.authenticator = authenticator
        self.hub = hub
        self.max_subscriptions_per_connection = subscriptions_per_socket  # then an ``error``

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await super().__call__(scope, sockets.limit_frames(receive, send), send)
            return
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope, receive=receive)
        response: Response
        if self.graphql_ide and self._wants_ide(request):
            response = graphiql.page(request)
        else:
            try:
                response = await self.run(request)
            except ClientDisconnect:
                return  # the client left while we read its request: nobody to answer
            except HTTPException as error:
                response = error_response(error.status_code, error.reason, "BAD_REQUEST")
            except _Unauthenticated:
                response = error_response(
                    401,
                    "Authentication required: send Authorization: Bearer <API token>, or sign in.",
                    "UNAUTHENTICATED",
                    **{"WWW-Authenticate": "Bearer"},
                )
            finally:
                context = getattr(request.state, "context", None)
                if context is not None:
                    await context.close()
        await response(scope, receive, send)

    def encode_json(self, data: object) -> str:
        """JSON for a response or a socket message; an event's shared payload is encoded once
        for all the sockets it goes to."""
        if isinstance(data, dict) and data.get("type") == "next":
            payload = data["payload"]
            shared = payload.get("data")
            if isinstance(shared, SharedData):
                if shared.payload_json is None:
                    shared.payload_json = json.dumps(payload, separators=(",", ":"))
                operation = json.dumps(data["id"])
                return f'{{"id":{operation},"type":"next","payload":{shared.payload_json}}}'
        return json.dumps(data, separators=(",", ":"))

    def decode_json(self, data: str | bytes) -> object:
        """JSON in UTF-8 only: anything else is the same 400 as malformed JSON."""
        if isinstance(data, bytes):
            try:
                data = data.decode("utf-8")
            except UnicodeDecodeError as error:
                raise json.JSONDecodeError("The body is not UTF-8.", repr(data[:20]), 0) from error
        return json.loads(data)

    async def get_context(self, request: Any, response: Any) -> Context:
        if isinstance(request, WebSocket):
            # Who it is comes with connection_init (on_ws_connect); until then, nobody.
            return SocketContext(
                db=self.db, viewer=nobody(), scope=TokenScope.READ, hub=self.hub,
                handshake=await principal(request),
            )  # fmt: skip
        found = await principal(request)
        if found is None:
            raise _Unauthenticated
        context = Context.of(self.db, found, self.hub)
        request.state.context = context  # closed by __call__ when the response is ready
        return context

    async def on_ws_connect(self, context: Context) -> None:
        """Authenticate a socket from its ``connection_init`` payload or its handshake's
        session cookie, or refuse it (4403)."""
        params = context.connection_params or {}
        header = params.get("authorization") or params.get("Authorization")
        found = None
        if isinstance(header, str):
            found = await self.authenticator.from_authorization(header)
        elif isinstance(context, SocketContext):
            found = context.handshake
        if found is None:
            raise ConnectionRejectionError({"message": "Authentication required."})
        context.become(found)

    @staticmethod
    def _wants_ide(request: Request) -> bool:
        return request.method == "GET" and "text/html" in request.headers.get("accept", "")


class _Unauthenticated(Exception):
    """No valid credentials came with the request."""

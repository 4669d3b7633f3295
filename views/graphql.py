"""``/graphql`` over HTTP and WebSocket: authentication, limits, and JSON errors.

HTTP requests must carry credentials (``Authorization: Bearer <token>``, or a browser's session
cookie, whose state-changing requests the CSRF guard has checked); without valid ones the answer
is 401 with a JSON error and nothing else (``views.bodies`` limits the body). Queries may use
GET; mutations only POST with JSON (over GET: 405 naming ``POST``); subscriptions only over a
WebSocket (over HTTP: a 400 saying so). GraphiQL is served only when the settings enable it.
Answers are ``application/json``, or ``application/graphql-response+json`` when the Accept header
prefers it; then a request that could not start executing (it did not parse or validate, or its
variables did not fit) is a 400 without ``data``, as GraphQL over HTTP asks.
WebSockets speak ``graphql-transport-ws`` only, from allowed origins; they authenticate in
``connection_init`` (``{"authorization": "Bearer <token>"}``, or, from a browser, an empty
payload and the session cookie of the handshake) within ``CONNECTION_INIT_TIMEOUT`` seconds, and
carry subscriptions only, at most ``subscriptions_per_socket`` at once, in frames limited by
``views.sockets``.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLHTTPResponse
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType

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
JSON = "application/json"
GRAPHQL_RESPONSE = "application/graphql-response+json"
SUBSCRIPTIONS_ELSEWHERE = (
    "Subscriptions are not served over HTTP: open a WebSocket to /graphql (graphql-transport-ws)."
)


def error_response(
    status: int, message: str, code: str, media_type: str = JSON, **headers: str
) -> JSONResponse:
    body = {"errors": [{"message": message, "extensions": {"code": code}}]}
    return JSONResponse(body, status_code=status, headers=headers, media_type=media_type)


def answer_type(accept: str) -> str:
    """The media type to answer in: ``application/graphql-response+json`` when the Accept
    header ranks it above ``application/json`` (by q, then order), else ``application/json``,
    which is also the answer without an Accept header or with one naming neither."""
    chosen, best = JSON, 0.0
    for item in accept.split(","):
        kind, *parameters = (part.strip() for part in item.split(";"))
        if kind.lower() not in (GRAPHQL_RESPONSE, JSON, "application/*", "*/*"):
            continue
        quality = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality > best:
            chosen, best = (GRAPHQL_RESPONSE if kind.lower() == GRAPHQL_RESPONSE else JSON), quality
    return chosen


def is_request_error(result: ExecutionResult) -> bool:
    """Whether execution never started: the document did not parse or validate, or the
    variables did not fit. Such errors have no path; a field error always has one."""
    errors = result.errors or []
    return result.data is None and bool(errors) and all(error.path is None for error in errors)


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
            media_type = request.state.media_type = answer_type(request.headers.get("accept", ""))
            try:
                answer = await self._answer(request, receive)
                if answer is None:
                    return  # a query whose client left: stopped, nobody to answer
                response = answer
            except ClientDisconnect:
                return  # the client left while we read its request: nobody to answer
            except _Unauthenticated:
                response = error_response(
                    401,
                    "Authentication required: send Authorization: Bearer <API token>, or sign in.",
                    "UNAUTHENTICATED",
                    media_type,
                    **{"WWW-Authenticate": "Bearer"},
                )
            except Exception as error:
                # Strawberry refuses a request it cannot run (bad JSON, no query, a mutation
                # over GET) with an exception carrying ``status_code`` and ``reason``.
                status = getattr(error, "status_code", None)
                if not isinstance(status, int):
                    raise
                response = self._refusal(request, error, status, media_type)
            finally:
                context = getattr(request.state, "context", None)
                if context is not None:
                    await context.close()
            if media_type == GRAPHQL_RESPONSE and response.media_type == JSON:
                response.headers["content-type"] = f"{GRAPHQL_RESPONSE}; charset=utf-8"
                response.status_code = getattr(request.state, "status", response.status_code)
        await response(scope, receive, send)

    async def _answer(self, request: Request, receive: Receive) -> Response | None:
        """Run the request while listening for its client leaving; a query whose client left
        is stopped (``None``), a mutation runs to its end regardless."""
        await request.body()  # all of it read first: what ``receive`` says next is a goodbye
        work = asyncio.ensure_future(self.run(request))
        left = asyncio.ensure_future(_disconnected(receive))
        try:
            await asyncio.wait((work, left), return_when=asyncio.FIRST_COMPLETED)
            context = getattr(request.state, "context", None)
            if not work.done() and context is not None and context.interruptible:
                work.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await work
                return None
            return await work
        finally:
            left.cancel()

    @staticmethod
    def _refusal(request: Request, error: Exception, status: int, media_type: str) -> Response:
        """The answer to a request refused before execution, as a GraphQL error."""
        reason = getattr(error, "reason", None) or str(error)
        refused = error.__cause__
        if isinstance(refused, InvalidOperationTypeError):
            if refused.operation_type == OperationType.SUBSCRIPTION:
                return error_response(400, SUBSCRIPTIONS_ELSEWHERE, "BAD_REQUEST", media_type)
            if request.method == "GET":
                message = "Mutations must be sent with POST."
                return error_response(405, message, "BAD_REQUEST", media_type, Allow="POST")
        return error_response(status, reason, "BAD_REQUEST", media_type)

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        """Strawberry's result, without ``data`` for a request error when the client asked
        for ``application/graphql-response+json`` (then answered with 400)."""
        answer = await super().process_result(request, result)
        if request.state.media_type == GRAPHQL_RESPONSE and is_request_error(result):
            answer.pop("data", None)
            request.state.status = 400
        return answer

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
        """JSON in UTF-8 only, nested no deeper than Python's parser can go: anything else is
        the same 400 as malformed JSON."""
        if isinstance(data, bytes):
            try:
                data = data.decode("utf-8")
            except UnicodeDecodeError as error:
                raise json.JSONDecodeError("The body is not UTF-8.", repr(data[:20]), 0) from error
        try:
            return json.loads(data)
        except RecursionError as error:
            raise json.JSONDecodeError("The JSON is nested too deeply.", data[:20], 0) from error

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


async def _disconnected(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


class _Unauthenticated(Exception):
    """No valid credentials came with the request."""

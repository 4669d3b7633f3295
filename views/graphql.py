"""``/graphql`` over HTTP: authentication, the body-size limit, and JSON errors.

Requests must carry credentials (``Authorization: Bearer <token>``); without valid ones the answer
is 401 with a JSON error and nothing else. Bodies over ``MAX_BODY`` bytes get 413 before they are
parsed. Queries may use GET; mutations only POST with JSON. GraphiQL is served only when the
settings enable it.
"""

from __future__ import annotations

import json
from typing import Any

from cross_web import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.types import Message, Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from app import identity
from app.db import Database
from schema.context import Context
from schema.limits import MusterSchema

MAX_BODY = 100 * 1024


class BodyTooLarge(Exception):
    """The request body went past ``MAX_BODY``."""


def error_response(status: int, message: str, code: str, **headers: str) -> JSONResponse:
    body = {"errors": [{"message": message, "extensions": {"code": code}}]}
    return JSONResponse(body, status_code=status, headers=headers)


def _limited(receive: Receive) -> Receive:
    seen = 0

    async def limited() -> Message:
        nonlocal seen
        message = await receive()
        seen += len(message.get("body", b""))
        if seen > MAX_BODY:
            raise BodyTooLarge
        return message

    return limited


class GraphQLEndpoint(GraphQL[Context, None]):
    """Strawberry's ASGI view with Muster's authentication and limits."""

    def __init__(self, schema: MusterSchema, db: Database, *, graphiql: bool) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql" if graphiql else None,
            allow_queries_via_get=True,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
        )
        self.db = db

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope, receive=_limited(receive))
        response: Response
        declared = request.headers.get("content-length", "0")
        if not declared.isdigit() or int(declared) > MAX_BODY:
            response = self._too_large()
        elif self.graphql_ide and self._wants_ide(request):
            response = HTMLResponse(self.graphql_ide_html)
        else:
            try:
                response = await self.run(request)
            except BodyTooLarge:
                response = self._too_large()
            except HTTPException as error:
                response = error_response(error.status_code, error.reason, "BAD_REQUEST")
            except _Unauthenticated:
                response = error_response(
                    401,
                    "Authentication required: send Authorization: Bearer <API token>.",
                    "UNAUTHENTICATED",
                    **{"WWW-Authenticate": "Bearer"},
                )
        await response(scope, receive, send)

    def decode_json(self, data: str | bytes) -> object:
        """JSON in UTF-8 only: anything else is the same 400 as malformed JSON."""
        if isinstance(data, bytes):
            try:
                data = data.decode("utf-8")
            except UnicodeDecodeError as error:
                raise json.JSONDecodeError("The body is not UTF-8.", repr(data[:20]), 0) from error
        return json.loads(data)

    async def get_context(self, request: Any, response: Any) -> Context:
        principal = await identity.from_authorization(self.db, request.headers.get("authorization"))
        if principal is None:
            raise _Unauthenticated
        return Context(db=self.db, viewer=principal.user, scope=principal.scope)

    @staticmethod
    def _wants_ide(request: Request) -> bool:
        return request.method == "GET" and "text/html" in request.headers.get("accept", "")

    @staticmethod
    def _too_large() -> JSONResponse:
        return error_response(
            413, f"The request body is larger than {MAX_BODY // 1024} KB.", "TOO_LARGE"
        )


class _Unauthenticated(Exception):
    """No valid credentials came with the request."""

"""Request bodies: how large they may be, and who may send one to a page.

``BodyLimit`` bounds every HTTP request's body before anything reads it: a declared
``Content-Length`` over the route's limit is refused at once (413; past ``DRAIN_LIMIT`` the
connection is closed so the rest is never read, below it the server skips the rest so a browser
still shows the answer); a chunked body is counted as it streams and cut off (413) as soon as it
passes the limit: what follows is skipped up to ``DRAIN_LIMIT`` for the answer's sake, then the
connection is closed. Every route gets ``FORM_LIMIT`` unless the app factory gives its path its own
``Limit`` (``/graphql``: ``GRAPHQL_LIMIT``, answered with the API's JSON error).

``SignedInForms`` decides before any body is read whether a state-changing request to a page may
be read at all: only the sign-in routes take forms from people who are not signed in (and, in
the demo, its chat channel's hook, which takes only posts signed by its endpoint), so anyone
else gets the sign-in redirect (or 401 when the request carries credentials that hold nothing)
with the body unread. Multipart bodies are refused (415): no page uploads files. The API path
answers for itself (its own 401 and errors).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Collection

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from views.browser import UNSAFE, principal
from views.graphql import error_response
from views.signed_in import to_sign_in

FORM_LIMIT = 64 * 1024
GRAPHQL_LIMIT = 100 * 1024
DRAIN_LIMIT = 1024 * 1024  # a body declared up to this size is skipped, not cut off


def too_large(size: int) -> Response:
    return PlainTextResponse(f"The request body is larger than {size // 1024} KB.", 413)


def graphql_too_large(size: int) -> Response:
    """The API's answer: a GraphQL error with the code ``TOO_LARGE``."""
    return error_response(413, f"The request body is larger than {size // 1024} KB.", "TOO_LARGE")


@dataclasses.dataclass(frozen=True)
class Limit:
    """At most ``size`` bytes of body, and the 413 answer past that."""

    size: int
    answer: Callable[[int], Response] = too_large


class BodyTooLarge(Exception):
    """A streamed body went past its limit (raised from ``receive``)."""


class BodyLimit:
    """ASGI middleware: every request body within its route's limit, checked before reading."""

    def __init__(self, app: ASGIApp, *, paths: dict[str, Limit]) -> None:
        self.app = app
        self.paths = paths
        self.default = Limit(FORM_LIMIT)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.paths.get(scope["path"], self.default)
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and not (
            declared.isascii() and declared.isdigit() and int(declared) <= limit.size
        ):
            await _early(scope, limit.answer(limit.size))(scope, receive, send)
            return
        seen = 0
        more = True  # whether the client has more of the body to send
        started = False

        async def counted() -> Message:
            nonlocal seen, more
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                more = message.get("more_body", False)
                if seen > limit.size:
                    raise BodyTooLarge
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except BodyTooLarge:
            if not started:  # (a response under way cannot become a 413: it just ends)
                if more:  # (past the body's end, receive would wait for the client to leave)
                    await _skip(receive, seen)
                await _early(scope, limit.answer(limit.size))(scope, receive, send)


class SignedInForms:
    """ASGI middleware: no page reads a body from someone who is not signed in."""

    def __init__(
        self, app: ASGIApp, *, api: str, sign_in: str, open_paths: Collection[str] = ()
    ) -> None:
        self.app = app
        self.api = api  # the API's path: it authenticates and answers by itself
        self.sign_in = sign_in  # the prefix of the routes that sign people in
        # Exact paths anyone may post to, which check what they need themselves: the demo chat's
        # signature, the status page's subscription links (their token).
        self.open_paths = frozenset(open_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if (
            scope["type"] != "http"
            or scope["method"] not in UNSAFE
            or path == self.api
            or path in self.open_paths
        ):
            await self.app(scope, receive, send)
            return
        request = Request(scope)  # no receive: nothing here may read the body
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type == "multipart/form-data":
            await _early(scope, PlainTextResponse("Muster's pages take no file uploads.", 415))(
                scope, receive, send
            )
            return
        if not path.startswith(self.sign_in) and await principal(request) is None:
            refusal: Response
            if "authorization" in request.headers:
                refusal = PlainTextResponse(
                    "Authentication required.", 401, headers={"WWW-Authenticate": "Bearer"}
                )
            else:
                refusal = to_sign_in(request)
            await _early(scope, refusal)(scope, receive, send)
            return
        await self.app(scope, receive, send)


async def _skip(receive: Receive, seen: int) -> None:
    """Read and drop what a client still sends, up to ``DRAIN_LIMIT`` bytes in all: a server that
    closes with unread data resets the connection, and the client may lose the answer with it."""
    while seen <= DRAIN_LIMIT:
        message = await receive()
        if message["type"] != "http.request" or not message.get("more_body", False):
            return
        seen += len(message.get("body", b""))


def _early(scope: Scope, response: Response) -> Response:
    """An answer given before the body was read. Unless the body declared a small length, the
    connection closes after it, so the server does not go on to read (and throw away) whatever
    the client still sends; a small declared body is skipped so the client reads the answer."""
    declared = Headers(scope=scope).get("content-length", "")
    if not (declared.isascii() and declared.isdigit() and int(declared) <= DRAIN_LIMIT):
        response.headers["Connection"] = "close"
    response.headers["Cache-Control"] = "no-store"
    return response

"""The demo's chat channel (demo only): ``/demo/chat`` shows ``#incidents`` as a chat client
would, and ``/demo/chat/hook`` is the Slack-style incoming webhook Muster's worker posts to.

The app factory registers these routes only in demo mode. The hook is the one page route that
takes a body from someone not signed in (``SignedInForms`` lets exactly ``HOOK_PATH`` through;
the CSRF guard passes it, as it carries no Muster cookie and no browser's cross-site marks): it
keeps a message only if ``app.demo.chat.receive`` finds it signed (Standard Webhooks) by the
secret of the demo's chat endpoint, and answers 401 otherwise. Bodies are bounded as every
page's (64 KB), and the channel keeps the last ``KEPT`` messages in memory, each once (a
delivery sent again has the same id). The page is for anyone signed in, like a channel everyone
is in: Muster posts nothing about a private incident there (the endpoint takes none). With htmx
the list refreshes every few seconds, so a post shows up without reloading.
"""

from __future__ import annotations

import collections
from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from app.demo import chat
from views import signed_in
from views.pages import is_htmx, render
from views.services import services

KEPT = 100


class Channel:
    """The messages the hook took, oldest first, each with when it arrived."""

    def __init__(self) -> None:
        self.messages: collections.deque[tuple[chat.ChatMessage, str]] = collections.deque(
            maxlen=KEPT
        )

    def post(self, message: chat.ChatMessage) -> None:
        if any(kept.message_id == message.message_id for kept, _ in self.messages):
            return  # at-least-once delivery: the same message again
        arrived = datetime.now(UTC).isoformat().replace("+00:00", "Z")
        self.messages.append((message, arrived))


def routes() -> list[BaseRoute]:
    channel = Channel()

    @signed_in.page
    async def page(request: Request) -> Response:
        return await render(
            request,
            "demo_chat.html",
            block="messages" if is_htmx(request) else None,
            channel=chat.CHANNEL,
            messages=list(channel.messages),
        )

    async def hook(request: Request) -> Response:
        web = services(request)
        settings = web.settings
        message = await chat.receive(
            web.db,
            url=chat.hook_url(settings.base_url),
            secret_key=settings.secret_key,
            body=await request.body(),
            headers=request.headers,
            base_url=settings.base_url,
        )
        if message is None:
            return PlainTextResponse("Not signed by this demo's chat endpoint.", 401)
        channel.post(message)
        return PlainTextResponse("ok")

    return [
        Route(chat.PAGE_PATH, page, name="demo-chat"),
        Route(chat.HOOK_PATH, hook, methods=["POST"], name="demo-chat-hook"),
    ]

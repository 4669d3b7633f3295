"""Limits on ``/graphql`` WebSockets, below Strawberry's protocol handler.

``limit_frames`` wraps a socket's ASGI ``receive``: until ``connection_init`` has arrived a frame
may be at most ``PRE_INIT_LIMIT`` bytes (someone not yet known cannot make the server hold much),
afterwards ``WEBSOCKET_FRAME_LIMIT`` (the HTTP API's body limit; uvicorn is told it too, so no
larger frame is buffered). A larger frame closes the socket with 1009 (message too big). The cap
on subscriptions per socket is Strawberry's ``max_subscriptions_per_connection`` (an ``error``
message for the operation over it); the cap on feeds per person is the event hub's.
"""

from __future__ import annotations

import json

from starlette.types import Message, Receive, Send

from app.config import WEBSOCKET_FRAME_LIMIT

PRE_INIT_LIMIT = 4 * 1024
TOO_BIG = 1009  # RFC 6455: a message too big to process


def limit_frames(receive: Receive, send: Send) -> Receive:
    """``receive`` for one socket, closing it on a frame over its limit."""
    initialised = False

    async def limited() -> Message:
        nonlocal initialised
        message = await receive()
        if message["type"] != "websocket.receive":
            return message
        text, data = message.get("text"), message.get("bytes")
        size = len(text.encode()) if text is not None else len(data or b"")
        limit = WEBSOCKET_FRAME_LIMIT if initialised else PRE_INIT_LIMIT
        if size > limit:
            reason = f"Frames may be at most {limit} bytes" + (
                "" if initialised else " before connection_init"
            )
            await send({"type": "websocket.close", "code": TOO_BIG, "reason": reason})
            return {"type": "websocket.disconnect", "code": TOO_BIG}
        if not initialised and text is not None:
            initialised = _is_init(text)
        return message

    return limited


def _is_init(text: str) -> bool:
    try:
        frame = json.loads(text)
    except (ValueError, RecursionError):  # not JSON, or nested too deeply to read
        return False
    return isinstance(frame, dict) and frame.get("type") == "connection_init"

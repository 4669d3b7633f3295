"""Real receivers for what Muster sends out: ``Receiver``, an HTTP endpoint on loopback that
records every webhook request (and can answer with chosen statuses, or hold requests open to let
a test kill the sender mid-delivery), and ``MailServer``, a real SMTP server (aiosmtpd) that
keeps every message parsed."""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import email
import email.policy
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.config import MailSettings
from tests.support.servers import free_port, serving


@dataclasses.dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class Receiver:
    """A webhook receiver: records every request, answers with the statuses queued (else 200).
    While ``holding`` is set, requests wait (counted in ``held``, not recorded) until
    ``released`` is set, then fail with 503."""

    def __init__(self) -> None:
        self.got: list[Received] = []
        self.answers: collections.deque[int] = collections.deque()
        self.url = ""
        self.holding = threading.Event()
        self.released = threading.Event()
        self.held = 0

    def at(self, path: str, host: str = "127.0.0.1") -> str:
        return self.url.replace("127.0.0.1", host) + path

    def on(self, path: str) -> list[Received]:
        return [r for r in self.got if r.path == path]

    def app(self) -> Starlette:
        async def hook(request: Request) -> Response:
            body = await request.body()
            if self.holding.is_set():
                self.held += 1
                await asyncio.to_thread(self.released.wait)
                return Response("too late", status_code=503)
            self.got.append(Received(request.url.path, dict(request.headers), body))
            status = self.answers.popleft() if self.answers else 200
            return Response("thanks" if status < 300 else "broken today", status_code=status)

        return Starlette(routes=[Route("/{name}", hook, methods=["POST"])])

    @classmethod
    @contextmanager
    def running(cls) -> Iterator[Receiver]:
        receiver = cls()
        with serving(receiver.app(), free_port()) as url:
            receiver.url = url
            yield receiver


class _Collect:
    def __init__(self, messages: list[tuple[list[str], EmailMessage]]) -> None:
        self.messages = messages

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append((list(envelope.rcpt_tos), parsed))
        return "250 OK"


class MailServer:
    """An SMTP server on loopback; ``messages`` holds (recipients, parsed message) pairs."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], EmailMessage]] = []
        self.port = free_port()
        self.url = f"smtp://127.0.0.1:{self.port}"
        self.settings = MailSettings(
            host="127.0.0.1", port=self.port, implicit_tls=False, username=None,
            password=None, sender="Muster <muster@example.com>",
        )  # fmt: skip

    def to(self, address: str) -> list[EmailMessage]:
        return [message for recipients, message in self.messages if address in recipients]

    @classmethod
    @contextmanager
    def running(cls) -> Iterator[MailServer]:
        server = cls()
        controller = Controller(_Collect(server.messages), hostname="127.0.0.1", port=server.port)
        controller.start()
        try:
            yield server
        finally:
            controller.stop()

"""Real servers for the live tests: ``muster serve`` processes on the test database, an app on
uvicorn in a thread (``serving``), a ``gql`` WebSocket client speaking graphql-transport-ws, and
a bare one (``Socket``) that shows every protocol message."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import IO

import httpx2
import pytest
import uvicorn
from gql import Client, gql
from gql.transport.websockets import WebsocketsTransport

from app.models import TokenScope, User
from app.services import tokens

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclasses.dataclass
class Server:
    url: str
    process: subprocess.Popen
    log: Path
    output: IO[str]

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://") + "/graphql"

    def stop(self, timeout: float = 15) -> int:
        self.process.terminate()
        try:
            return self.process.wait(timeout=timeout)
        finally:
            self.output.close()


@contextlib.contextmanager
def serving(app, port: int):
    """``app`` on a real uvicorn in a thread of this process (so a test can look inside it, and
    write to its database meanwhile); its base URL."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(15)


def start_server(database_url: str, log: Path, **env: str) -> Server:
    port = free_port()
    environ = {
        **os.environ,
        "MUSTER_DATABASE_URL": database_url,
        "MUSTER_SECRET_KEY": "s" * 32,
        "MUSTER_BASE_URL": f"http://127.0.0.1:{port}",
        **env,
    }
    handle = log.open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(port)],
        env=environ, cwd=ROOT, stdout=handle, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(log.read_text())
        with contextlib.suppress(OSError):
            urllib.request.urlopen(url + "/healthz", timeout=2)
            return Server(url, process, log, handle)
        time.sleep(0.1)
    raise AssertionError("server did not start: " + log.read_text())


@pytest.fixture
def servers(db, database_url, tmp_path):
    """Start servers on this test's database; all are stopped at the end."""
    started: list[Server] = []

    def start(**env: str) -> Server:
        server = start_server(database_url, tmp_path / f"server{len(started)}.log", **env)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
async def token(db):
    async def make(user: User, scope: TokenScope = TokenScope.READ_WRITE) -> str:
        return (await tokens.create_token(db, user=user, name="live", scope=scope))[1]

    return make


def subscriber(server: Server, secret: str, **kwargs) -> Client:
    transport = WebsocketsTransport(
        url=server.ws_url,
        init_payload={"authorization": f"Bearer {secret}"},
        subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
        **kwargs,
    )
    return Client(transport=transport, fetch_schema_from_transport=False)


async def post(server: Server, secret: str, query: str, variables=None) -> dict:
    async with httpx2.AsyncClient(base_url=server.url) as http:
        response = await http.post(
            "/graphql",
            json={"query": query, "variables": variables or {}},
            headers={"Authorization": f"Bearer {secret}"},
        )
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


EVENTS = gql(
    """subscription($incidentId: ID, $after: String) {
  incidentEvents(incidentId: $incidentId, after: $after) {
    id cursor kind summary occurredAt actor { email }
    incident { reference name status { name } severity { name } }
  }
}"""
)
DECLARE = """mutation($name: String!) { declareIncident(input: {name: $name}) {
  incident { id reference } userErrors { message } } }"""
NOTE = """mutation($id: ID!, $message: String!) { addNote(input: {incidentId: $id, message: $message}) {
  userErrors { message } } }"""


class Socket:
    """A bare graphql-transport-ws client (``websockets``), to see every message the server sends,
    an ``error`` or a ``complete`` as much as a ``next``."""

    def __init__(self, connection) -> None:
        self.connection = connection

    @classmethod
    async def open(cls, url: str, secret: str, init: dict | None = None) -> Socket:
        import websockets

        ws_url = url.replace("http://", "ws://") + "/graphql"
        connection = await websockets.connect(ws_url, subprotocols=["graphql-transport-ws"])
        socket_ = cls(connection)
        payload = init if init is not None else {"authorization": f"Bearer {secret}"}
        await socket_.send({"type": "connection_init", "payload": payload})
        assert (await socket_.receive())["type"] == "connection_ack"
        return socket_

    async def send(self, message: dict) -> None:
        await self.connection.send(json.dumps(message))

    async def receive(self, wait: float = 10) -> dict:
        return json.loads(await asyncio.wait_for(self.connection.recv(), wait))

    async def subscribe(self, operation_id: str, query: str, variables: dict | None = None) -> None:
        payload = {"query": query, "variables": variables or {}}
        await self.send({"id": operation_id, "type": "subscribe", "payload": payload})

    async def close(self) -> None:
        await self.connection.close()


def started(hub) -> int:
    """How many feeds have their starting position, so that every event after now reaches them."""
    return sum(s.started for s in list(hub.subscribers))


async def until(condition, wait: float = 10) -> None:
    """Wait (polling the server thread's state) until ``condition()`` holds."""
    deadline = time.monotonic() + wait
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        await asyncio.sleep(0.02)


async def sse_messages(lines, count, wait=10):
    """Parse SSE messages (event, data) from ``lines`` (a response's ``aiter_lines()``, read
    across calls) until ``count`` arrived."""
    found, current = [], {}

    async def read():
        async for line in lines:
            if not line:
                if "data" in current:
                    found.append(dict(current))
                    if len(found) == count:
                        return
                current.clear()
                continue
            field, _, value = line.partition(":")
            current[field] = value.lstrip()

    await asyncio.wait_for(read(), wait)
    return found

"""Real servers for the live tests: ``muster serve`` processes on the test database (``servers``),
the same app on uvicorn in a thread of the test process (``in_process``, whose event hub a test
can wait on), a ``gql`` WebSocket client speaking graphql-transport-ws, and a bare one
(``Socket``) that shows every protocol message. The server helpers themselves live in
tests/support/servers.py."""

from __future__ import annotations

import asyncio
import contextlib
import json

import httpx2
import pytest
from gql import Client, gql
from gql.transport.websockets import WebsocketsTransport

from app.config import Settings
from app.models import TokenScope, User
from app.services import tokens

# Also imported from here by the live tests.
from tests.support.servers import (  # noqa: F401
    ROOT,
    Served,
    Server,
    free_port,
    serving,
    start_server,
    started,
    until,
)
from views.app import create_app


@pytest.fixture
def servers(db, database_url, tmp_path):
    """Start servers on this test's database; all are stopped at the end."""
    running: list[Server] = []

    def start(**env: str) -> Server:
        server = start_server(database_url, tmp_path / f"server{len(running)}.log", **env)
        running.append(server)
        return server

    yield start
    for server in running:
        server.stop()


@pytest.fixture
def in_process(db, database_url):
    """Serve the app in threads of this process on this test's database, set up as ``servers``
    sets up its processes (``env`` on top); each is stopped at the end."""
    with contextlib.ExitStack() as running:

        def start(**env: str) -> Served:
            port = free_port()
            environ = {
                "MUSTER_DATABASE_URL": database_url,
                "MUSTER_SECRET_KEY": "s" * 32,
                "MUSTER_BASE_URL": f"http://127.0.0.1:{port}",
                **env,
            }
            app = create_app(Settings.from_env(environ))
            return Served(running.enter_context(serving(app, port)), app.state.services.hub)

        yield start


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

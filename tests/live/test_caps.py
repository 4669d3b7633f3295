"""Caps on live feeds against a real uvicorn: subscriptions per socket, feeds per person (SSE and
WebSocket counted together), and the size of WebSocket frames before and after connection_init."""

import asyncio
import contextlib
import json

import httpx2
import pytest
import websockets

from app.config import Settings
from app.models import TokenScope
from tests.live.conftest import Socket
from tests.support.servers import free_port, serving, until
from views.app import create_app

QUERY = "subscription($incidentId: ID) { incidentEvents(incidentId: $incidentId) { id } }"


@pytest.fixture
def serve(db, database_url):
    """Serve the app with some settings changed; its app and URL."""
    started = []

    def start(**settings):
        app = create_app(Settings(database_url=database_url, secret_key="s" * 32, **settings))
        server = serving(app, free_port())
        started.append(server)
        return app, server.__enter__()

    yield start
    for server in started:
        server.__exit__(None, None, None)


async def test_at_most_50_subscriptions_per_socket(serve, people, token):
    app, url = serve()
    secret = await token(people.viewer, TokenScope.READ)
    socket_ = await Socket.open(url, secret)
    try:
        for n in range(50):
            await socket_.subscribe(f"s{n}", QUERY)
        await until(lambda: len(app.state.services.hub.subscribers) == 50)
        await socket_.subscribe("s50", QUERY)
        refused = await socket_.receive()
        assert refused["id"] == "s50" and refused["type"] == "error"
        assert refused["payload"][0]["message"] == "Subscription limit reached"
        # The socket and its 50 subscriptions go on.
        assert len(app.state.services.hub.subscribers) == 50
        await socket_.send({"type": "ping"})
        assert (await socket_.receive())["type"] == "pong"
    finally:
        await socket_.close()


async def test_feeds_per_person_count_sse_and_websocket_together(serve, people, token):
    app, url = serve(live_feeds_per_person=3)
    hub = app.state.services.hub
    secret = await token(people.viewer, TokenScope.READ)
    other = await token(people.member, TokenScope.READ)
    headers = {"Authorization": f"Bearer {secret}"}
    sockets = [await Socket.open(url, secret), await Socket.open(url, other)]
    try:
        mine, theirs = sockets
        await mine.subscribe("a", QUERY)
        await mine.subscribe("b", QUERY)
        async with httpx2.AsyncClient(base_url=url, timeout=20) as http:
            async with http.stream("GET", "/live/events", headers=headers) as third:
                assert third.status_code == 200
                await until(lambda: hub.feeds[people.viewer.id] == 3)
                # A fourth over SSE: refused before it starts, with when to try again.
                fourth = await http.get("/live/events", headers=headers)
                assert fourth.status_code == 429
                assert fourth.headers["retry-after"].isdigit()
                assert fourth.json()["code"] == "TOO_MANY_FEEDS"
                # A fourth over WebSocket: an error for that subscription, then complete.
                await mine.subscribe("c", QUERY)
                refused = await mine.receive()
                assert refused["id"] == "c" and refused["type"] == "next"
                [error] = refused["payload"]["errors"]
                assert error["extensions"]["code"] == "TOO_MANY_FEEDS"
                assert "3 live feeds" in error["message"]
                assert await mine.receive() == {"id": "c", "type": "complete"}
                # Someone else is not counted against this person.
                await theirs.subscribe("x", QUERY)
                await until(lambda: hub.feeds[people.member.id] == 1)
            # The SSE stream closed: its place is free again, and so is a finished subscription's.
            await until(lambda: hub.feeds[people.viewer.id] == 2)
            await mine.send({"id": "b", "type": "complete"})
            await until(lambda: hub.feeds[people.viewer.id] == 1)
            async with http.stream("GET", "/live/events", headers=headers) as again:
                assert again.status_code == 200
                await until(lambda: hub.feeds[people.viewer.id] == 2)
            await until(lambda: hub.feeds[people.viewer.id] == 1)
            # A refused stream (a missing incident) gives its place back too.
            missing = await http.get("/live/events", params={"incident": "nope"}, headers=headers)
            assert "event: error" in missing.text
            await until(lambda: hub.feeds[people.viewer.id] == 1)
    finally:
        for socket_ in sockets:
            await socket_.close()


async def test_frames_before_connection_init_are_limited_to_4_kb(serve, people, token):
    _, url = serve()
    secret = await token(people.viewer, TokenScope.READ)
    ws_url = url.replace("http://", "ws://") + "/graphql"
    # A connection_init of 5 KB closes the socket (1009: message too big), unanswered.
    async with websockets.connect(ws_url, subprotocols=["graphql-transport-ws"]) as connection:
        payload = {"authorization": f"Bearer {secret}", "padding": "x" * 5000}
        await connection.send(json.dumps({"type": "connection_init", "payload": payload}))
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(connection.recv(), 10)
        assert closed.value.rcvd.code == 1009
    # Under 4 KB it is taken; after it, frames up to 100 KB are (a large subscribe is answered)...
    socket_ = await Socket.open(url, secret, {"authorization": f"Bearer {secret}", "p": "x" * 3000})
    try:
        padded = QUERY + "\n#" + "x" * 90_000
        await socket_.subscribe("big", padded, {"incidentId": "nope"})
        answer = await socket_.receive()
        assert answer["id"] == "big" and answer["type"] in {"next", "error"}
        # ... and a larger one closes the socket.
        await socket_.subscribe("bigger", QUERY + "\n#" + "x" * 110_000)
        after = []
        with contextlib.suppress(websockets.ConnectionClosed):
            while True:
                after.append(await socket_.receive())
        assert socket_.connection.close_code == 1009
        assert not [m for m in after if m.get("id") == "bigger"]
    finally:
        await socket_.close()


async def test_a_frame_nested_too_deeply_before_connection_init_is_refused_cleanly(
    serve, people, token
):
    _, url = serve()
    secret = await token(people.viewer, TokenScope.READ)
    ws_url = url.replace("http://", "ws://") + "/graphql"
    async with websockets.connect(ws_url, subprotocols=["graphql-transport-ws"]) as connection:
        await connection.send("[" * 3000)  # under 4 KB, and too deep for a JSON parser's stack
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(connection.recv(), 10)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4400
    socket_ = await Socket.open(url, secret, {"authorization": f"Bearer {secret}"})
    await socket_.close()  # the server goes on serving

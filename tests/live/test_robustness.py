"""The live feed when things go wrong: refused sockets, several processes, a dropped listener,
a database that goes down and comes back, and a server told to stop."""

import asyncio
import contextlib
import json
import signal
import time

import asyncpg
import pytest
import websockets

from app.events import LISTENER_NAME
from app.services import declarations, incidents
from schema import ids
from schema.pagination import event_cursor
from tests.live.conftest import DECLARE, post, subscriber, until
from tests.live.test_subscriptions import collect


def postgres_only(database_url):
    if database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL behaviour (LISTEN/NOTIFY, several processes, outages)")


async def handshake(server, headers=None):
    return await websockets.connect(
        server.ws_url, subprotocols=["graphql-transport-ws"], additional_headers=headers or {}
    )


async def closed_with(socket) -> int:
    with pytest.raises(websockets.ConnectionClosed) as closed:
        await asyncio.wait_for(socket.recv(), 15)
    return closed.value.rcvd.code


async def test_sockets_that_do_not_say_who_they_are_are_refused(servers, token, people):
    server = servers()
    # Subscribing before connection_init: 4401.
    socket = await handshake(server)
    await socket.send(
        json.dumps(
            {
                "id": "1",
                "type": "subscribe",
                "payload": {"query": "subscription { incidentEvents { id } }"},
            }
        )
    )
    assert await closed_with(socket) == 4401
    # connection_init without valid credentials: 4403.
    for payload in ({}, {"authorization": "Bearer mst_nope"}):
        socket = await handshake(server)
        await socket.send(json.dumps({"type": "connection_init", "payload": payload}))
        assert await closed_with(socket) == 4403
    # No connection_init at all: closed with 4408 after the timeout.
    socket = await handshake(server)
    started = time.monotonic()
    assert await closed_with(socket) == 4408
    assert time.monotonic() - started < 13
    # The legacy graphql-ws protocol is not offered.
    legacy = await websockets.connect(server.ws_url, subprotocols=["graphql-ws"])
    assert legacy.subprotocol is None
    await legacy.close()


async def test_cross_origin_sockets_are_refused(servers, token, people):
    server = servers()
    with pytest.raises(websockets.InvalidStatus):
        await handshake(server, {"Origin": "https://evil.example"})
    allowed = await handshake(server, {"Origin": server.url})
    await allowed.close()


async def test_events_cross_processes(servers, in_process, token, people, database_url):
    postgres_only(database_url)
    writer_side, reader_side = servers(), in_process()  # a muster serve process, and this one
    watcher = await token(people.viewer)
    writer = await token(people.responder)
    async with subscriber(reader_side, watcher) as session:
        listening = asyncio.create_task(collect(session, 3))
        await reader_side.feeds_started()
        started = time.monotonic()
        for n in range(3):
            await post(writer_side, writer, DECLARE, {"name": f"From A {n}"})
        events = await listening
    assert [e["incident"]["name"] for e in events] == ["From A 0", "From A 1", "From A 2"]
    assert time.monotonic() - started < 3


async def kill_listeners(database_url: str) -> int:
    """End the hubs' LISTEN connections to this run's database (not another run's)."""
    dsn = database_url.replace("postgresql+asyncpg://", "postgresql://")
    connection = await asyncpg.connect(dsn)
    try:
        return len(
            await connection.fetch(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE application_name = $1 AND datname = current_database()",
                LISTENER_NAME,
            )
        )
    finally:
        await connection.close()


async def test_a_dropped_listener_loses_nothing(in_process, token, people, db, database_url):
    postgres_only(database_url)
    server = in_process()
    watcher = await token(people.viewer)
    incident = await declarations.declare(db, actor=people.member, name="Listener")
    async with subscriber(server, watcher) as session:
        listening = asyncio.create_task(collect(session, 10, wait=20))
        await server.feeds_started()
        for n in range(10):
            if n == 3:
                assert await kill_listeners(database_url) >= 1
            await incidents.add_note(
                db, actor=people.member, incident_id=incident.id, message=f"{n}"
            )
        events = await listening
    assert [e["summary"] for e in events] == [f"Note: {n}" for n in range(10)]


@contextlib.asynccontextmanager
async def database_down(database_url: str):
    """This run's database goes down as in a restart: every connection to it ends and new ones
    are refused until the block ends. Only this database: the PostgreSQL server, and the other
    test workers' databases on it, stay up."""
    dsn = database_url.replace("postgresql+asyncpg://", "postgresql://")
    server, name = dsn.rsplit("/", 1)
    connection = await asyncpg.connect(server + "/postgres")  # not this one: it goes down
    try:
        await connection.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        await connection.fetch(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name
        )
        yield
    finally:
        await connection.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        await connection.close()


async def test_a_database_that_goes_down_and_back_loses_nothing(
    in_process, token, people, db, database_url, caplog
):
    postgres_only(database_url)
    server = in_process()
    watcher = await token(people.viewer)
    incident = await declarations.declare(db, actor=people.member, name="Restart")
    async with subscriber(server, watcher) as session:
        listening = asyncio.create_task(collect(session, 6, wait=60))
        await server.feeds_started()
        for n in range(3):
            await incidents.add_note(
                db, actor=people.member, incident_id=incident.id, message=f"{n}"
            )
        async with database_down(database_url):
            # Down for as long as it takes the server to find it cannot reconnect.
            await until(lambda: any(refused(r) for r in caplog.records), 30)
        for n in range(3, 6):
            await incidents.add_note(
                db, actor=people.member, incident_id=incident.id, message=f"{n}"
            )
        events = await listening
    assert [e["summary"] for e in events] == [f"Note: {n}" for n in range(6)]


def refused(record) -> bool:
    """Whether ``record`` is the hub finding it cannot reconnect to a database that is down."""
    return record.name == "muster.events" and "not currently accepting" in record.getMessage()


async def test_sigterm_closes_sockets_with_1012(servers, token, people, db):
    server = servers()
    watcher = await token(people.viewer)
    await declarations.declare(db, actor=people.member, name="Before the signal")
    socket = await handshake(server)
    await socket.send(
        json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {watcher}"}})
    )
    assert json.loads(await socket.recv())["type"] == "connection_ack"
    ids.use_secret("s" * 32)  # the servers' key (tests.live.conftest), to make their cursors
    query = (
        "subscription($after: String) { incidentEvents(after: $after) { kind incident { name } } }"
    )
    await socket.send(json.dumps({"id": "1", "type": "subscribe", "payload": {
        "query": query, "variables": {"after": event_cursor(0)}}}))  # fmt: skip
    # Replayed from the start, so the feed is running once this arrives.
    replayed = json.loads(await asyncio.wait_for(socket.recv(), 10))
    assert replayed["type"] == "next", replayed
    event = replayed["payload"]["data"]["incidentEvents"]
    assert event == {"kind": "DECLARED", "incident": {"name": "Before the signal"}}
    started = time.monotonic()
    server.process.send_signal(signal.SIGTERM)
    assert await closed_with(socket) == 1012
    assert time.monotonic() - started < 10
    assert server.process.wait(timeout=10) in (0, -signal.SIGTERM)  # uvicorn re-raises it
    assert "Application shutdown complete" in server.log.read_text()

"""A burst of live feeds against a real uvicorn with a small database pool: 300 streams opened at
once (every browser reconnecting after a deploy). None may get a 500: each is either a working
stream or shed with 503 and Retry-After; every stream that opened receives the next event."""

import asyncio

from app.config import Settings
from app.models import TokenScope
from app.services import declarations, incidents
from tests.live.conftest import free_port, serving, until
from views.app import create_app

STREAMS = 300


class Stream(asyncio.Protocol):
    """One raw ``GET /live/events``: its status, its headers, and what arrived after them."""

    def __init__(self) -> None:
        self.received = b""
        self.answered = asyncio.get_running_loop().create_future()
        self.transport = None

    def connection_made(self, transport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.received += data
        if not self.answered.done() and b"\r\n\r\n" in self.received:
            self.answered.set_result(None)

    def connection_lost(self, exc) -> None:
        if not self.answered.done():
            self.answered.set_result(None)

    @property
    def status(self) -> int:
        return int(self.received.split(b" ", 2)[1]) if self.received else 0

    @property
    def headers(self) -> bytes:
        return self.received.partition(b"\r\n\r\n")[0].lower()


async def test_a_burst_of_streams_gets_no_500_and_every_open_stream_works(
    db, database_url, people, token
):
    settings = Settings(
        database_url=database_url,
        secret_key="s" * 32,
        database_pool_size=1,
        database_pool_timeout=0.05,  # so small that part of the burst must be shed
        live_feeds_per_person=STREAMS,
        # The burst has the one connection to itself: no background worker reacting to the
        # declare below (its commit would wake the hub, which reads with that connection).
        run_jobs=False,
    )
    app = create_app(settings)
    secret = await token(people.viewer, TokenScope.READ)
    incident = await declarations.declare(db, actor=people.member, name="After the deploy")
    loop = asyncio.get_running_loop()
    with serving(app, port := free_port()) as _:
        request = (
            f"GET /live/events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Accept: text/event-stream\r\nAuthorization: Bearer {secret}\r\n\r\n"
        ).encode()

        async def open_one() -> Stream:
            transport, stream = await loop.create_connection(Stream, "127.0.0.1", port)
            transport.write(request)
            return stream

        streams = await asyncio.gather(*(open_one() for _ in range(STREAMS)))
        try:
            await asyncio.wait_for(asyncio.gather(*(s.answered for s in streams)), 60)
            statuses = [s.status for s in streams]
            assert set(statuses) <= {200, 503}, sorted(set(statuses))
            shed = [s for s in streams if s.status == 503]
            assert shed
            assert all(b"\r\nretry-after: " in s.headers for s in shed)
            opened = [s for s in streams if s.status == 200]
            assert opened
            # Every stream that opened is live: the next event reaches each of them.
            hub = app.state.services.hub
            await until(lambda: len(hub.subscribers) == len(opened), wait=30)
            await incidents.add_note(
                db, actor=people.member, incident_id=incident.id, message="burst"
            )
            await until(lambda: all(b"Note: burst" in s.received for s in opened), wait=30)
            assert not [s for s in opened if b"event: error" in s.received]
        finally:
            for stream in streams:
                if stream.transport is not None:
                    stream.transport.close()

"""One execution per event, shared by every subscriber of the same operation, against a real
uvicorn (in a thread, so the test can hold that execution while a subscriber hangs up).

The execution is held deterministically: ``LiveFeeds._execute`` is wrapped to wait on an event
the test sets, and the test waits until every subscriber has taken the event from its queue (so
all of them are awaiting the one execution) before one of them leaves.
"""

import asyncio
import json
import threading

import httpx2
import pytest

from app.config import Settings
from app.models import TokenScope
from app.services import declarations, followers, incidents
from tests.live.conftest import Socket, free_port, serving, sse_messages, started, until
from views.app import create_app


@pytest.fixture
def served(db, database_url):
    app = create_app(Settings(database_url=database_url, secret_key="s" * 32))
    with serving(app, free_port()) as url:
        yield app, url


class Held:
    """Wraps the app's shared execution: the first one waits until ``release``; ``fail`` makes the
    next one raise ``fail`` instead (once)."""

    def __init__(self, app, hold: bool = True) -> None:
        self.feeds = app.state.services.schema.live
        self.original = self.feeds._execute
        self.entered = threading.Event()
        self.released = threading.Event()
        self.executions = 0
        self.fail: BaseException | None = None
        if not hold:
            self.released.set()
        self.feeds._execute = self.execute

    async def execute(self, *args):
        self.executions += 1
        if not self.released.is_set():
            self.entered.set()
            await asyncio.to_thread(self.released.wait, 30)
        if self.fail is not None:
            failure, self.fail = self.fail, None
            raise failure
        return await self.original(*args)

    def restore(self) -> None:
        self.released.set()
        self.feeds._execute = self.original


async def next_summary(socket: Socket) -> str:
    message = await socket.receive()
    assert message["type"] == "next", message
    assert "errors" not in message["payload"], message
    return message["payload"]["data"]["incidentEvents"]["summary"]


async def test_a_subscriber_leaving_mid_execution_cuts_nobody_off(served, db, people, token):
    app, url = served
    hub = app.state.services.hub
    operation = app.state.services.operations[
        "LiveEvents"
    ]  # the pages' feed: WebSocket and SSE share it
    secret = await token(people.viewer, TokenScope.READ)
    incident = await declarations.declare(db, actor=people.member, name="Shared")
    held = Held(app)
    sockets = [await Socket.open(url, secret) for _ in range(4)]
    try:
        for socket_ in sockets:
            await socket_.subscribe("feed", operation, {"incidentId": None})
        async with httpx2.AsyncClient(base_url=url, timeout=20) as http:
            headers = {"Authorization": f"Bearer {secret}"}
            async with http.stream("GET", "/live/events", headers=headers) as response:
                assert response.status_code == 200
                sse = response.aiter_lines()
                await until(lambda: started(hub) == 5)
                await incidents.add_note(
                    db, actor=people.member, incident_id=incident.id, message="one"
                )
                # The first subscriber to take the event started the shared execution, held
                # now; once every queue is empty, all five are awaiting that one execution.
                assert await asyncio.to_thread(held.entered.wait, 10)
                await until(lambda: all(s.queue.qsize() == 0 for s in list(hub.subscribers)))
                leaving, staying = sockets[0], sockets[1:]
                await leaving.close()  # its client hangs up while the execution is in flight
                await until(lambda: started(hub) == 4)
                held.released.set()
                assert [await next_summary(s) for s in staying] == ["Note: one"] * 3
                [first] = await sse_messages(sse, 1)
                assert "event" not in first
                assert json.loads(first["data"])["incidentEvents"]["summary"] == "Note: one"
                cursor = first["id"]
                # And the feeds go on.
                await incidents.add_note(
                    db, actor=people.member, incident_id=incident.id, message="two"
                )
                assert [await next_summary(s) for s in staying] == ["Note: two"] * 3
                [second] = await sse_messages(sse, 1)
                assert json.loads(second["data"])["incidentEvents"]["summary"] == "Note: two"
        assert held.executions == 2  # one per event, shared by everyone
        # Someone resuming from before the first note gets it too (nothing broken was kept).
        replay = await Socket.open(url, secret)
        sockets.append(replay)
        await replay.subscribe("again", operation, {"incidentId": None, "after": cursor})
        assert await next_summary(replay) == "Note: two"
    finally:
        held.restore()
        for socket_ in sockets:
            await socket_.close()


async def test_a_failed_execution_ends_the_feed_with_an_error_and_is_not_kept(
    served, db, people, token
):
    app, url = served
    hub = app.state.services.hub
    operation = app.state.services.operations["LiveEvents"]
    secret = await token(people.viewer, TokenScope.READ)
    incident = await declarations.declare(db, actor=people.member, name="Failing")
    await incidents.add_note(db, actor=people.member, incident_id=incident.id, message="before")
    async with db.read() as session:
        from sqlalchemy import func, select

        from app.models import TimelineEvent
        from schema.pagination import event_cursor

        before = event_cursor(int(await session.scalar(select(func.max(TimelineEvent.id)))))
    held = Held(app, hold=False)
    held.fail = RuntimeError("the database went away")
    socket_ = await Socket.open(url, secret)
    try:
        await socket_.subscribe("feed", operation, {"incidentId": None})
        async with httpx2.AsyncClient(base_url=url, timeout=20) as http:
            headers = {"Authorization": f"Bearer {secret}"}
            async with http.stream("GET", "/live/events", headers=headers) as response:
                sse = response.aiter_lines()
                await until(lambda: started(hub) == 2)
                await incidents.add_note(
                    db, actor=people.member, incident_id=incident.id, message="lost"
                )
                # Both shared the failed execution: each feed ends with an error, not silently.
                failed = await socket_.receive()
                assert failed["type"] in {"next", "error"}, failed
                payload = failed["payload"]
                errors = payload if failed["type"] == "error" else payload["errors"]
                assert "reference" in errors[0]["message"]
                if failed["type"] == "next":
                    assert await socket_.receive() == {"id": "feed", "type": "complete"}
                [ended] = await sse_messages(sse, 1)
                assert ended["event"] == "error"
                assert "reference" in json.loads(ended["data"])["errors"][0]
        # The failure was not kept: resuming from before it executes the event again.
        await socket_.subscribe("again", operation, {"incidentId": None, "after": before})
        assert await next_summary(socket_) == "Note: lost"
    finally:
        held.restore()
        await socket_.close()


async def test_a_cancelled_shared_execution_is_run_again_for_its_waiters(served, db, people, token):
    app, url = served
    hub = app.state.services.hub
    operation = app.state.services.operations["LiveEvents"]
    secret = await token(people.viewer, TokenScope.READ)
    incident = await declarations.declare(db, actor=people.member, name="Cancelled")
    held = Held(app, hold=False)
    held.fail = asyncio.CancelledError()  # the shared task is cancelled, not any subscriber
    sockets = [await Socket.open(url, secret) for _ in range(3)]
    try:
        for socket_ in sockets:
            await socket_.subscribe("feed", operation, {"incidentId": None})
        await until(lambda: started(hub) == 3)
        await incidents.add_note(db, actor=people.member, incident_id=incident.id, message="on")
        assert [await next_summary(s) for s in sockets] == ["Note: on"] * 3
    finally:
        held.restore()
        for socket_ in sockets:
            await socket_.close()


PER_VIEWER = """subscription Watch($incidentId: ID) {
  incidentEvents(incidentId: $incidentId) {
    summary
    incident { reference followedByMe viewerCanEdit }
  }
}"""


async def test_viewer_dependent_fields_are_never_shared_across_viewers(served, db, people, token):
    app, url = served
    hub = app.state.services.hub
    incident = await declarations.declare(db, actor=people.member, name="Mine to edit")
    await followers.follow(db, actor=people.viewer, incident_id=incident.id)
    held = Held(app, hold=False)  # counts the executions
    # The reporter may edit but does not follow; the viewer follows but may not edit.
    editor = await Socket.open(url, await token(people.member, TokenScope.READ))
    watcher = await Socket.open(url, await token(people.viewer, TokenScope.READ))
    try:
        for socket_ in (editor, watcher):  # the same document and variables for both
            await socket_.subscribe("feed", PER_VIEWER, {"incidentId": None})
        await until(lambda: started(hub) == 2)
        await incidents.add_note(db, actor=people.member, incident_id=incident.id, message="hi")
        answers = []
        for socket_ in (editor, watcher):
            message = await socket_.receive()
            assert message["type"] == "next" and "errors" not in message["payload"], message
            answers.append(message["payload"]["data"]["incidentEvents"]["incident"])
        assert answers == [
            {"reference": "INC-1", "followedByMe": False, "viewerCanEdit": True},
            {"reference": "INC-1", "followedByMe": True, "viewerCanEdit": False},
        ]
        assert held.executions == 2  # one per viewer: each gets their own answers
    finally:
        held.restore()
        await editor.close()
        await watcher.close()


async def test_an_event_read_while_the_pool_is_busy_is_read_again_not_lost(
    db, database_url, people, token
):
    # One connection, and whoever waits 50 ms for it gives up: the event's execution finds the
    # pool held (as by a burst of feeds starting) and must read the event again once it is free.
    settings = Settings(
        database_url=database_url, secret_key="s" * 32, database_pool_size=1,
        database_pool_timeout=0.05, run_jobs=False,
    )  # fmt: skip
    app = create_app(settings)
    services = app.state.services
    secret = await token(people.viewer, TokenScope.READ)
    incident = await declarations.declare(db, actor=people.member, name="Busy")
    feeds = services.schema.live
    original = feeds._execute
    held: list[bool] = []

    async def execute_while_held(*args):
        async with services.db.read() as session:
            await session.connection()  # the pool's one connection, until after the first try
            held.append(True)
            holding = asyncio.ensure_future(asyncio.sleep(0.3))
            first = asyncio.ensure_future(original(*args))
            await holding
        return await first

    feeds._execute = execute_while_held
    with serving(app, free_port()) as url:
        socket_ = await Socket.open(url, secret)
        try:
            await socket_.subscribe("feed", services.operations["LiveEvents"], {})
            await until(lambda: started(services.hub) == 1)
            await incidents.add_note(db, actor=people.member, incident_id=incident.id, message="x")
            assert await next_summary(socket_) == "Note: x"
            assert held == [True]  # the execution did meet a held pool
        finally:
            feeds._execute = original
            await socket_.close()

"""The event hub on its own: order, replay, visibility, and slow subscribers."""

import asyncio

import pytest

from app.events import EventHub
from app.feeds import FellBehind
from app.services import catalog, declarations, incidents
from tests.support.servers import started, until


@pytest.fixture
async def hub(db):
    events = EventHub(db, queue_size=5, poll_interval=0.2)
    await events.start()
    yield events
    await events.stop()


async def take(feed, count, wait=5, into=None):
    """The first ``count`` events of ``feed``, appended to ``into`` as they arrive."""
    got = [] if into is None else into

    async def run():
        async for event in feed:
            got.append(event)
            if len(got) == count:
                return

    await asyncio.wait_for(run(), wait)
    return got


async def test_a_slow_subscriber_is_dropped_and_the_others_get_everything(hub, db, people):
    incident = await declarations.declare(db, actor=people.member, name="Busy")
    slow = hub.follow(people.viewer)
    fast = hub.follow(people.viewer)
    first_slow = asyncio.create_task(anext(slow))
    got = []
    fast_events = asyncio.create_task(take(fast, 20, into=got))
    await until(lambda: started(hub) == 2)
    for n in range(20):
        await incidents.add_note(db, actor=people.member, incident_id=incident.id, message=f"{n}")
        await until(lambda n=n: len(got) > n)  # the fast one keeps up: it has read each one
    await fast_events
    assert [e.payload["message"] for e in got] == [str(n) for n in range(20)]
    await first_slow  # it read one, then stopped reading
    with pytest.raises(FellBehind):
        await take(slow, 20)
    assert len(hub.subscribers) == 1  # the fast one, still following
    await fast.aclose()
    assert not hub.subscribers


async def test_visibility_is_checked_per_event_and_subscriber(hub, db, people):
    async with db.read() as session:
        security = next(
            t for t in await catalog.list_incident_types(session) if t.name == "Security"
        )
    secret = await declarations.declare(db, actor=people.member, name="Secret", type_id=security.id)
    public = await declarations.declare(db, actor=people.member, name="Public")
    insider, outsider = hub.follow(people.member), hub.follow(people.admin)
    inside = asyncio.create_task(take(insider, 2))
    outside = asyncio.create_task(take(outsider, 1))
    await until(lambda: started(hub) == 2)
    await incidents.add_note(db, actor=people.member, incident_id=secret.id, message="hush")
    await incidents.add_note(db, actor=people.member, incident_id=public.id, message="hi")
    assert [e.payload["message"] for e in await inside] == ["hush", "hi"]
    assert [e.payload["message"] for e in await outside] == ["hi"]


async def test_replay_after_a_cursor_then_live_without_gaps_or_duplicates(hub, db, people):
    incident = await declarations.declare(db, actor=people.member, name="Replay")
    for n in range(3):
        await incidents.add_note(
            db, actor=people.member, incident_id=incident.id, message=f"old {n}"
        )
    feed = hub.follow(people.viewer, incident_id=incident.id, after=0)
    events = asyncio.create_task(take(feed, 6))
    await until(lambda: started(hub) == 1)  # the new notes race its replay of the old ones
    for n in range(2):
        await incidents.add_note(
            db, actor=people.member, incident_id=incident.id, message=f"new {n}"
        )
    got = await events
    assert got[0].kind.name == "DECLARED"
    assert [e.payload.get("message") for e in got[1:]] == [
        "old 0",
        "old 1",
        "old 2",
        "new 0",
        "new 1",
    ]
    assert [e.id for e in got] == sorted({e.id for e in got})


async def test_stop_is_quick_even_as_an_event_arrives(db, people):
    """A commit wakes the hub just as it is told to stop: it stops at once, not after
    STOP_TIMEOUT (asyncio.wait_for on Python 3.11 lost a cancel that came with a wake-up)."""
    events = EventHub(db, poll_interval=0.2)
    await events.start()
    try:
        await declarations.declare(db, actor=people.member, name="Last words")
    finally:
        started = asyncio.get_running_loop().time()
        await events.stop()
    assert asyncio.get_running_loop().time() - started < 1

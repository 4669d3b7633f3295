"""Which writes tell the public status page to draw itself again: every write to a row it shows
(a component, a status incident and its updates, the page's settings) runs ``on_status`` after it
commits and, on PostgreSQL, NOTIFYs the other processes; other writes and rolled-back ones do
neither."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from app.db import Touched
from app.errors import Invalid
from app.models import ComponentStatus, StatusIncidentState
from app.services import declarations, status_components, status_settings
from app.services import status_page as sp


@pytest.fixture
def heard(db):
    calls: list[None] = []
    db.on_touched[Touched.STATUS_PAGE].append(lambda _: calls.append(None))
    return calls


async def test_each_write_the_page_shows_is_heard_once(db, people, heard):
    component = await status_components.create_component(db, actor=people.admin, name="API")
    assert len(heard) == 1
    incident = await declarations.declare(db, actor=people.responder, name="Checkout 500s")
    assert len(heard) == 1  # an internal incident changes nothing customers read
    published = await sp.publish_status_incident(
        db,
        actor=people.responder,
        incident_id=incident.id,
        title="Slow checkout",
        message="We are looking into it.",
        state=StatusIncidentState.INVESTIGATING,
        affected=[(component.id, ComponentStatus.PARTIAL_OUTAGE)],
    )
    assert len(heard) == 2
    await sp.post_status_update(
        db,
        actor=people.responder,
        status_incident_id=published.id,
        state=StatusIncidentState.RESOLVED,
        message="Fixed.",
    )
    assert len(heard) == 3
    await status_settings.update_settings(db, actor=people.admin, title="Acme status")
    assert len(heard) == 4


async def test_a_refused_write_is_not_heard(db, people, heard):
    with pytest.raises(Invalid):
        await status_components.create_component(db, actor=people.admin, name=" ")
    assert heard == []


async def test_other_processes_hear_it_by_notify(db, people, database_url):
    if db.is_sqlite:
        pytest.skip("NOTIFY is PostgreSQL's; one process writes a SQLite database")
    dsn = database_url.replace("postgresql+asyncpg://", "postgresql://")
    listener = await asyncpg.connect(dsn)
    notices: asyncio.Queue[str] = asyncio.Queue()
    try:
        await listener.add_listener(
            Touched.STATUS_PAGE.value, lambda *args: notices.put_nowait(args[-1])
        )
        await declarations.declare(db, actor=people.responder, name="Quiet")
        await status_components.create_component(db, actor=people.admin, name="API")
        async with asyncio.timeout(5):
            assert await notices.get() == ""
        assert notices.empty()  # the declaration sent none
    finally:
        await listener.close()

"""Merged, then made private: the incident page and its live feed, on a real server, name the
other incident only to people who may see it."""

import pytest
from sqlalchemy import select

from app.models import EventKind, TimelineEvent
from app.services import incidents
from schema.pagination import event_cursor
from tests.pages.conftest import Feed, signed_in


@pytest.fixture
async def merged(db, people):
    """INC-1 merged into INC-2 while both were public; then INC-2 was made private by the
    responder (a member of it now). The cursor of INC-1's first event, to replay from."""
    source = await incidents.declare(db, actor=people.responder, name="Checkout errors")
    target = await incidents.declare(db, actor=people.responder, name="Payments down")
    await incidents.merge(db, actor=people.responder, incident_id=source.id, into_id=target.id)
    await incidents.change_visibility(
        db, actor=people.responder, incident_id=target.id, private=True
    )
    async with db.read() as session:
        declared = await session.scalar(
            select(TimelineEvent.id).where(
                TimelineEvent.incident_id == source.id, TimelineEvent.kind == EventKind.DECLARED
            )
        )
    return declared


async def test_the_page_and_its_live_feed_name_a_hidden_merge_target_to_nobody_outside(
    served, people, merged
):
    for user, sees in ((people.other_responder, False), (people.responder, True)):
        async with signed_in(served, user) as http:
            page = (await http.get("/incidents/INC-1")).text
            resume = {"Last-Event-ID": event_cursor(merged)}  # replays the merge event
            async with http.stream("GET", "/live/incidents/INC-1", headers=resume) as response:
                assert response.status_code == 200
                drawn = await Feed(response).next()
        for shown in (page, drawn):
            if sees:
                assert "Merged into INC-2." in shown
            else:
                assert "Merged into another incident." in shown
                assert "INC-2" not in shown and "Payments down" not in shown

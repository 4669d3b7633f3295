"""Merged, then made private: the incident page and its live feed, on a real server, name the
other incident only to people who may see it."""

import pytest

from schema.pagination import event_cursor
from tests.pages.conftest import Feed, signed_in
from tests.support.factories import merged_into_private
from tests.support.html import parse, text_of, texts


@pytest.fixture
async def merged(db, people):
    """The id of INC-1's first event, before INC-1 was merged into INC-2, now private."""
    return (await merged_into_private(db, people)).id


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
            merge = [e for e in texts(parse(shown), ".entry .what") if e.startswith("Merged into")]
            if sees:
                assert merge == ["Merged into INC-2."]
            else:
                assert merge == ["Merged into another incident."]
                assert "INC-2" not in shown and "Payments down" not in shown
        head = parse(page).css('#incident-head a[href="/incidents/INC-2"]')
        assert [text_of(a) for a in head] == (["INC-2 Payments down"] if sees else [])

"""Merged, then made private, over a real server's WebSocket: a live feed replaying the merge
names the other incident only to subscribers who may see it, although subscribers of the same
operation share one execution per event."""

import pytest

from app.config import Settings
from schema import ids
from schema.pagination import event_cursor
from tests.live.conftest import subscriber
from tests.live.test_subscriptions import collect
from tests.support.factories import merged_into_private
from tests.support.servers import free_port, serving
from views.app import create_app


class Served:
    def __init__(self, url):
        self.ws_url = url.replace("http://", "ws://") + "/graphql"


@pytest.fixture
def served(db, database_url):
    app = create_app(Settings(database_url=database_url, secret_key="s" * 32))
    with serving(app, free_port()) as url:
        yield Served(url)


async def test_a_replayed_merge_event_names_a_hidden_target_only_to_its_members(
    served, db, people, token
):
    declared = await merged_into_private(db, people)
    variables = {
        "incidentId": ids.encode("Incident", declared.incident_id),
        "after": event_cursor(declared.id),
    }
    # The member of both asks first, so a shared execution would hold their rendering.
    summaries = {}
    for user in (people.responder, people.other_responder):
        async with subscriber(served, await token(user)) as session:
            [merge] = await collect(session, 1, variables)
        assert merge["kind"] == "MERGED"
        summaries[user.name] = merge["summary"]
    assert summaries == {
        people.responder.name: "Merged into INC-2.",
        people.other_responder.name: "Merged into another incident.",
    }

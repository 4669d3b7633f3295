"""Subscriptions get the query limits too, over a real WebSocket: an operation whose events would
each cost more than the limit is refused before it starts, and without introspection its errors
give no hints about the schema."""

from app.config import Settings
from app.models import TokenScope
from schema.cost import MAX_COST
from tests.live.conftest import Socket, free_port, serving
from views.app import create_app

HEAVY = """subscription { incidentEvents { incident { timeline(first: 100) { edges { node {
  incident { timeline(first: 100) { edges { node { id cursor kind summary occurredAt } } } }
} } } } } }"""


async def test_a_subscription_over_the_cost_limit_is_refused(db, database_url, people, token):
    app = create_app(Settings(database_url=database_url, secret_key="s" * 32))
    secret = await token(people.viewer, TokenScope.READ)
    with serving(app, free_port()) as url:
        socket_ = await Socket.open(url, secret)
        try:
            await socket_.subscribe("heavy", HEAVY)
            refused = await socket_.receive()
            assert refused["id"] == "heavy" and refused["type"] == "error"
            assert f"the limit is {MAX_COST}" in refused["payload"][0]["message"]
            await socket_.subscribe("typo", "subscription($f: IncidentFilter) {"
                                    " incidentEvents(filter: $f) { kind } }",
                                    {"f": {"statusCategories": ["TRIAG"]}})  # fmt: skip
            typo = await socket_.receive()
            assert typo["id"] == "typo" and typo["type"] == "error"
            assert "Did you mean" not in typo["payload"][0]["message"]
            assert len(app.state.services.hub.subscribers) == 0  # neither started a feed
        finally:
            await socket_.close()

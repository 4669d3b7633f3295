"""GraphQL subscriptions against a real server: delivery, resume, privacy, refusals."""

import asyncio

import pytest
from gql import GraphQLRequest
from gql.transport.exceptions import TransportQueryError

from app.models import TokenScope
from app.services import catalog, declarations, incidents
from tests.live.conftest import DECLARE, EVENTS, NOTE, post, subscriber, until


async def collect(session, count, variables=None, wait=10, into=None):
    """The first ``count`` events of a subscription, appended to ``into`` as they arrive (so a
    test can wait on the first ones before it does more)."""
    received = [] if into is None else into

    async def run():
        request = GraphQLRequest(EVENTS, variable_values=variables or {})
        async for result in session.subscribe(request):
            received.append(result["incidentEvents"])
            if len(received) == count:
                return

    await asyncio.wait_for(run(), wait)
    return received


async def test_events_reach_subscribers_live(in_process, token, people):
    server = in_process()
    watcher = await token(people.viewer)
    writer = await token(people.responder)
    async with subscriber(server, watcher) as session:
        listening = asyncio.create_task(collect(session, 2))
        await server.feeds_started()
        declared = await post(server, writer, DECLARE, {"name": "Checkout is down"})
        incident = declared["declareIncident"]["incident"]
        await post(server, writer, NOTE, {"id": incident["id"], "message": "Looking into it"})
        events = await listening
    assert [e["kind"] for e in events] == ["DECLARED", "NOTE_ADDED"]
    assert events[0]["incident"]["name"] == "Checkout is down"
    assert events[1]["summary"] == "Note: Looking into it"
    assert events[1]["actor"] == {"email": "rita@example.com"}


async def test_resume_after_a_cursor_replays_exactly_what_was_missed(in_process, token, people, db):
    server = in_process()
    watcher = await token(people.viewer)
    first = await declarations.declare(db, actor=people.member, name="One")
    async with subscriber(server, watcher) as session:
        listening = asyncio.create_task(collect(session, 1))
        await server.feeds_started()
        await incidents.add_note(db, actor=people.member, incident_id=first.id, message="seen")
        [seen] = await listening
    # While disconnected, three more things happen.
    await incidents.add_note(db, actor=people.member, incident_id=first.id, message="missed 1")
    second = await declarations.declare(db, actor=people.member, name="Two")
    await incidents.add_note(db, actor=people.member, incident_id=second.id, message="missed 2")
    async with subscriber(server, watcher) as session:
        received = []
        listening = asyncio.create_task(
            collect(session, 4, {"after": seen["cursor"]}, into=received)
        )
        await until(lambda: len(received) == 3)  # the replay is through: the feed is live
        await incidents.add_note(db, actor=people.member, incident_id=first.id, message="live")
        events = await listening
    summaries = [e["summary"] for e in events]
    assert summaries[0] == "Note: missed 1"
    assert summaries[2:] == ["Note: missed 2", "Note: live"]
    assert events[1]["kind"] == "DECLARED" and events[1]["incident"]["name"] == "Two"
    assert summaries[1].startswith("Incident declared: ")
    assert len({e["id"] for e in events}) == 4


async def test_one_incident_feed_and_private_incidents_never_reach_outsiders(
    in_process, token, people, db
):
    server = in_process()
    async with db.read() as session:
        security = next(
            t for t in await catalog.list_incident_types(session) if t.name == "Security"
        )
    public = await declarations.declare(db, actor=people.member, name="Public")
    secret = await declarations.declare(db, actor=people.member, name="Secret", type_id=security.id)
    outsider = await token(people.admin)
    insider = await token(people.member)
    async with subscriber(server, outsider) as out, subscriber(server, insider) as ins:
        outside = asyncio.create_task(collect(out, 1))
        inside = asyncio.create_task(collect(ins, 2))
        await server.feeds_started(2)
        await incidents.add_note(db, actor=people.member, incident_id=secret.id, message="hush")
        await incidents.add_note(db, actor=people.member, incident_id=public.id, message="hello")
        got_outside = await outside
        got_inside = await inside
    assert [e["summary"] for e in got_outside] == ["Note: hello"]
    assert [e["summary"] for e in got_inside] == ["Note: hush", "Note: hello"]


async def test_subscribing_to_a_hidden_incident_answers_as_for_a_missing_one(
    servers, token, people, db
):
    server = servers()
    async with db.read() as session:
        security = next(
            t for t in await catalog.list_incident_types(session) if t.name == "Security"
        )
    secret = await declarations.declare(db, actor=people.member, name="Secret", type_id=security.id)
    from schema import ids

    ids.use_secret("s" * 32)  # the servers' key (tests.live.conftest), to name their ids
    outsider = await token(people.responder)
    answers = []
    for incident_id in (ids.encode("Incident", secret.id), ids.encode("Incident", 10_000)):
        async with subscriber(server, outsider) as session:
            with pytest.raises(TransportQueryError) as refused:
                await collect(session, 1, {"incidentId": incident_id}, wait=5)
            answers.append(str(refused.value))
    assert answers[0] == answers[1]
    assert "No incident with that id" in answers[0]


async def test_removed_members_stop_receiving_at_once(in_process, token, people, db):
    from app.services import members

    server = in_process()
    async with db.read() as session:
        security = next(
            t for t in await catalog.list_incident_types(session) if t.name == "Security"
        )
    secret = await declarations.declare(db, actor=people.member, name="Secret", type_id=security.id)
    public = await declarations.declare(db, actor=people.member, name="Public")
    await members.invite(
        db, actor=people.member, incident_id=secret.id, user_id=people.responder.id
    )
    watcher = await token(people.responder)
    async with subscriber(server, watcher) as session:
        received = []
        listening = asyncio.create_task(collect(session, 2, into=received))
        await server.feeds_started()
        await incidents.add_note(db, actor=people.member, incident_id=secret.id, message="before")
        await until(lambda: len(received) == 1)  # delivered while still a member
        await members.remove_member(
            db, actor=people.member, incident_id=secret.id, user_id=people.responder.id
        )
        await incidents.add_note(db, actor=people.member, incident_id=secret.id, message="after")
        # Events arrive in order: whatever reached them of the above came before this one.
        await incidents.add_note(db, actor=people.member, incident_id=public.id, message="later")
        events = await listening
    # Neither the removal nor what followed it reached the removed member.
    assert [e["summary"] for e in events] == ["Note: before", "Note: later"]


async def test_read_tokens_may_subscribe(in_process, token, people, db):
    server = in_process()
    reader = await token(people.viewer, TokenScope.READ)
    async with subscriber(server, reader) as session:
        listening = asyncio.create_task(collect(session, 1))
        await server.feeds_started()
        await declarations.declare(db, actor=people.member, name="Seen by a reader")
        [event] = await listening
    assert event["incident"]["name"] == "Seen by a reader"

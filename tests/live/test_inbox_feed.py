"""The inbox over the API against a real server: the ``notifications`` subscription says the
unread count at once and again when a notification arrives (made by the server's own worker from
an update shared through the API) or is marked read; nobody's feed hears of anyone else's inbox,
and nobody reads another person's notifications."""

from __future__ import annotations

import asyncio

import httpx2
from gql import GraphQLRequest, gql

from app.services import declarations, followers
from tests.live.conftest import post, subscriber, until

INBOX = gql(
    """subscription { notifications { unreadNotificationCount
  notification { kind title incident { reference } } } }"""
)
SHARE = """mutation($reference: String!, $message: String!) {
  shareUpdate(input: {reference: $reference, message: $message}) { userErrors { message } } }"""
MARK_ALL = """mutation { markNotificationsRead(input: {all: true}) {
  marked unreadNotificationCount userErrors { message } } }"""


async def changes(session, into: list, count: int, wait: float = 15) -> list:
    async def run() -> None:
        async for result in session.subscribe(GraphQLRequest(INBOX)):
            into.append(result["notifications"])
            if len(into) == count:
                return

    await asyncio.wait_for(run(), wait)
    return into


async def test_the_unread_count_is_live(in_process, token, people, db):
    server = in_process()
    incident = await declarations.declare(db, actor=people.member, name="Exports are slow")
    await followers.follow(db, actor=people.viewer, incident_id=incident.id)
    watcher, bystander = await token(people.viewer), await token(people.other_member)
    writer = await token(people.responder)
    seen: list = []
    unseen: list = []
    async with subscriber(server, watcher) as mine, subscriber(server, bystander) as theirs:
        listening = asyncio.create_task(changes(mine, seen, 3))
        elsewhere = asyncio.create_task(changes(theirs, unseen, 2, wait=60))
        await server.feeds_started(2, inboxes=True)
        await until(lambda: len(seen) >= 1)
        assert seen[0] == {"unreadNotificationCount": 0, "notification": None}

        await post(server, writer, SHARE, {"reference": incident.reference, "message": "Fixed"})
        await until(lambda: len(seen) >= 2, wait=15)
        assert seen[1] == {
            "unreadNotificationCount": 1,
            "notification": {
                "kind": "UPDATE_SHARED",
                "title": f"Update on {incident.reference} Exports are slow",
                "incident": {"reference": incident.reference},
            },
        }
        marked = await post(server, watcher, MARK_ALL)
        assert marked["markNotificationsRead"]["unreadNotificationCount"] == 0
        await listening
        assert seen[2] == {"unreadNotificationCount": 0, "notification": None}
        assert unseen == [{"unreadNotificationCount": 0, "notification": None}]
        elsewhere.cancel()


async def test_nobody_reads_another_persons_notifications(in_process, token, people, db):
    server = in_process()
    incident = await declarations.declare(db, actor=people.member, name="Billing is down")
    secret = await token(people.viewer)
    answer = await post_raw(
        server,
        secret,
        """query($reference: String!) { incident(reference: $reference) {
          reporter { name unreadNotificationCount } } }""",
        {"reference": incident.reference},
    )
    assert answer["errors"][0]["message"].startswith("Only your own notifications")


async def post_raw(server, secret, query, variables):
    async with httpx2.AsyncClient(base_url=server.url) as http:
        response = await http.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {secret}"},
        )
    return response.json()

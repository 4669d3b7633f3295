"""The inbox through the API: newest first in pages with sealed cursors, unread only, marking
read (someone else's ids change nothing), email preferences, the limits, and a notification about
an incident the viewer may no longer see neither listed nor counted."""

from __future__ import annotations

from app.models import NotificationKind, TokenScope
from app.services import declarations, incidents, notifications

INBOX = """query($first: Int!, $after: String, $unreadOnly: Boolean! = false) {
  viewer { unreadNotificationCount
    notifications(first: $first, after: $after, unreadOnly: $unreadOnly) {
      edges { cursor node { id kind title body readAt incident { reference } } }
      pageInfo { hasNextPage endCursor } } } }"""
MARK = """mutation($ids: [ID!], $all: Boolean! = false) {
  markNotificationsRead(input: {ids: $ids, all: $all}) {
    marked unreadNotificationCount userErrors { field message code } } }"""
PREFERENCES = """mutation($preferences: [NotificationPreferenceInput!]!) {
  updateNotificationPreferences(input: {preferences: $preferences}) {
    preferences { kind email } userErrors { field message code } } }"""


async def seed(db, people, count=3):
    incident = await declarations.declare(db, actor=people.member, name="Search is stale")
    async with db.write() as session:
        for n in range(count):
            await notifications.send(
                session, [people.viewer.id, people.other_member.id],
                kind=NotificationKind.UPDATE_SHARED, incident=incident, title=f"Update {n}",
                body=f"Body {n}", cause=f"test:{n}", now=db.now(), email=False,
            )  # fmt: skip
    return incident


async def test_the_inbox_pages_newest_first(api, db, people):
    incident = await seed(db, people)
    viewer = await api.as_(people.viewer)
    first = (await viewer(INBOX, {"first": 2}))["viewer"]
    assert first["unreadNotificationCount"] == 3
    titles = [e["node"]["title"] for e in first["notifications"]["edges"]]
    assert titles == ["Update 2", "Update 1"]
    assert first["notifications"]["pageInfo"]["hasNextPage"] is True
    assert first["notifications"]["edges"][0]["node"]["incident"] == {
        "reference": incident.reference
    }
    after = first["notifications"]["pageInfo"]["endCursor"]
    rest = (await viewer(INBOX, {"first": 2, "after": after}))["viewer"]["notifications"]
    assert [e["node"]["title"] for e in rest["edges"]] == ["Update 0"]
    assert rest["pageInfo"] == {"hasNextPage": False, "endCursor": rest["edges"][0]["cursor"]}


async def test_marking_read_touches_only_your_own(api, db, people):
    await seed(db, people)
    viewer, other = await api.as_(people.viewer), await api.as_(people.other_member)
    theirs = (await other(INBOX, {"first": 1}))["viewer"]["notifications"]["edges"][0]["node"]
    mine = (await viewer(INBOX, {"first": 1}))["viewer"]["notifications"]["edges"][0]["node"]

    nothing = (await viewer(MARK, {"ids": [theirs["id"]]}))["markNotificationsRead"]
    assert nothing == {"marked": 0, "unreadNotificationCount": 3, "userErrors": []}
    one = (await viewer(MARK, {"ids": [mine["id"]]}))["markNotificationsRead"]
    assert one == {"marked": 1, "unreadNotificationCount": 2, "userErrors": []}
    unread = (await viewer(INBOX, {"first": 10, "unreadOnly": True}))["viewer"]["notifications"]
    assert [e["node"]["title"] for e in unread["edges"]] == ["Update 1", "Update 0"]
    everything = (await viewer(MARK, {"all": True}))["markNotificationsRead"]
    assert everything["marked"] == 2 and everything["unreadNotificationCount"] == 0
    assert (await other(INBOX, {"first": 1}))["viewer"]["unreadNotificationCount"] == 3

    too_many = (await viewer(MARK, {"ids": [mine["id"]] * 101}))["markNotificationsRead"]
    assert too_many["userErrors"][0]["field"] == "ids"
    neither = (await viewer(MARK, {}))["markNotificationsRead"]
    assert neither["userErrors"][0]["code"] == "INVALID"


async def test_a_read_only_token_cannot_mark_read(api, db, people):
    await seed(db, people)
    reader = await api.as_(people.viewer, scope=TokenScope.READ)
    answer = (await reader(MARK, {"all": True}))["markNotificationsRead"]
    assert answer["userErrors"][0]["code"] == "FORBIDDEN"
    assert (await reader(INBOX, {"first": 1}))["viewer"]["unreadNotificationCount"] == 3


async def test_preferences_round_trip(api, people):
    viewer = await api.as_(people.viewer)
    saved = await viewer(PREFERENCES, {"preferences": [{"kind": "UPDATE_SHARED", "email": False}]})
    chosen = {p["kind"]: p["email"] for p in saved["updateNotificationPreferences"]["preferences"]}
    assert chosen["UPDATE_SHARED"] is False and chosen["UPDATE_OVERDUE"] is True
    twice = await viewer(
        PREFERENCES,
        {"preferences": [{"kind": "NO_LEAD", "email": False}, {"kind": "NO_LEAD", "email": True}]},
    )
    assert twice["updateNotificationPreferences"]["userErrors"][0]["field"] == "preferences"
    read = await viewer("{ viewer { notificationPreferences { kind email } } }")
    assert {"kind": "UPDATE_SHARED", "email": False} in read["viewer"]["notificationPreferences"]


async def test_hidden_incidents_notifications_are_neither_listed_nor_counted(api, db, people):
    incident = await seed(db, people, count=1)
    await incidents.change_visibility(
        db, actor=people.member, incident_id=incident.id, private=True
    )
    viewer = await api.as_(people.viewer)
    inbox = (await viewer(INBOX, {"first": 10}))["viewer"]
    assert inbox["unreadNotificationCount"] == 0
    assert inbox["notifications"]["edges"] == []

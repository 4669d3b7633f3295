"""``incidentEvents(filter:)`` over a real WebSocket: only events of matching incidents arrive,
and the one through which a matching incident stopped matching, marked so in the result; and the
pages' live feeds (dashboard, incident list), which draw what it delivers.

Each test ends a step with an event that must arrive, so an event that must not arrive would
have come before it: nothing waits for a silence.
"""

import pytest
from sqlalchemy import select

from app.config import Settings
from app.models import Severity, StatusCategory, TokenScope
from app.services import catalog, declarations, followers, incidents
from schema import ids
from tests.live.conftest import Socket, free_port, serving, started, until
from tests.pages.conftest import Feed, dev_app, signed_in
from views.app import create_app

FEED = """subscription($filter: IncidentFilter, $after: String) {
  incidentEvents(filter: $filter, after: $after) {
    kind summary incident { name }
  }
}"""


@pytest.fixture
def served(db, database_url):
    app = create_app(Settings(database_url=database_url, secret_key="s" * 32))
    with serving(app, free_port()) as url:
        yield app, url


async def severity(db, name):
    async with db.read() as session:
        return (await session.scalars(select(Severity).where(Severity.name == name))).one()


async def status_in(db, category):
    async with db.read() as session:
        return await catalog.first_status(session, category)


async def watch(app, url, secret, filter_, after=None) -> Socket:
    socket_ = await Socket.open(url, secret)
    before = started(app.state.services.hub)
    await socket_.subscribe("feed", FEED, {"filter": filter_, "after": after})
    await until(lambda: started(app.state.services.hub) > before)
    return socket_


async def next_event(socket_: Socket) -> tuple[str, str, bool]:
    """The next event's incident name, summary, and whether it matches the filter."""
    message = await socket_.receive()
    assert message["type"] == "next" and "errors" not in message["payload"], message
    event = message["payload"]["data"]["incidentEvents"]
    matches = message["payload"]["extensions"]["matchesFilter"]
    return event["incident"]["name"], event["summary"], matches


async def test_a_severity_filter_delivers_matching_incidents_and_their_leaving(
    served, db, people, token
):
    app, url = served
    critical, minor = await severity(db, "Critical"), await severity(db, "Minor")
    wanted = {"severityIds": [ids.encode("Severity", critical.id)]}
    feed = await watch(app, url, await token(people.viewer, TokenScope.READ), wanted)
    try:
        small = await declarations.declare(
            db, actor=people.member, name="Small", severity_id=minor.id
        )
        fire = await declarations.declare(
            db, actor=people.member, name="Fire", severity_id=critical.id
        )
        name, _, matches = await next_event(feed)
        assert (name, matches) == ("Fire", True)
        # Raised to critical: it matches now; lowered again: its leaving arrives, marked.
        # (Each is decided by the incident as it is when read: wait for one before the next.)
        for level, matching in ((critical, True), (minor, False)):
            await incidents.change_severity(
                db, actor=people.responder, incident_id=small.id, severity_id=level.id
            )
            name, _, matches = await next_event(feed)
            assert (name, matches) == ("Small", matching)
        # Gone: its notes no longer come; the matching incident's do.
        await incidents.add_note(db, actor=people.member, incident_id=small.id, message="quiet")
        await incidents.add_note(db, actor=people.member, incident_id=fire.id, message="loud")
        assert await next_event(feed) == ("Fire", "Note: loud", True)
    finally:
        await feed.close()


async def test_status_categories_search_and_following(served, db, people, token):
    app, url = served
    secret = await token(people.viewer, TokenScope.READ)
    closed = await status_in(db, StatusCategory.CLOSED)
    ongoing = await watch(app, url, secret, {"statusCategories": ["TRIAGE", "ACTIVE"]})
    searched = await watch(app, url, secret, {"search": "database"})
    following = await watch(app, url, secret, {"followedByMe": True})
    try:
        printer = await declarations.declare(db, actor=people.member, name="Printer jam")
        database = await declarations.declare(db, actor=people.member, name="Database down")
        await followers.follow(db, actor=people.viewer, incident_id=database.id)  # no event
        assert (await next_event(ongoing))[0] == "Printer jam"
        assert (await next_event(ongoing))[0] == "Database down"
        assert (await next_event(searched))[0] == "Database down"
        await incidents.change_status(
            db, actor=people.responder, incident_id=printer.id, status_id=closed.id
        )
        await incidents.add_note(db, actor=people.member, incident_id=printer.id, message="p")
        await incidents.add_note(db, actor=people.member, incident_id=database.id, message="d")
        name, _, matches = await next_event(ongoing)
        assert (name, matches) == ("Printer jam", False)  # closed: no longer ongoing
        assert await next_event(ongoing) == ("Database down", "Note: d", True)
        assert await next_event(searched) == ("Database down", "Note: d", True)
        # Following makes no event: its declaration may come or not, but only it, never Printer.
        seen = [await next_event(following)]
        while seen[-1][1] != "Note: d":
            seen.append(await next_event(following))
        assert {name for name, _, _ in seen} == {"Database down"}
    finally:
        for socket_ in (ongoing, searched, following):
            await socket_.close()


async def test_a_filtered_feed_resumes_with_only_what_matches(served, db, people, token):
    app, url = served
    secret = await token(people.viewer, TokenScope.READ)
    critical, minor = await severity(db, "Critical"), await severity(db, "Minor")
    wanted = {"severityIds": [ids.encode("Severity", critical.id)]}
    first = await declarations.declare(
        db, actor=people.member, name="First", severity_id=critical.id
    )
    feed = await watch(app, url, secret, wanted)
    try:
        await incidents.add_note(db, actor=people.member, incident_id=first.id, message="seen")
        message = await feed.receive()
        cursor = message["payload"]["extensions"]["cursor"]
    finally:
        await feed.close()
    await declarations.declare(db, actor=people.member, name="Missed minor", severity_id=minor.id)
    await declarations.declare(db, actor=people.member, name="Missed fire", severity_id=critical.id)
    resumed = await watch(app, url, secret, wanted, after=cursor)
    try:
        name, _, matches = await next_event(resumed)
        assert (name, matches) == ("Missed fire", True)
    finally:
        await resumed.close()


@pytest.fixture
def pages(db, database_url):
    """The app with the dev sign-in on a real uvicorn (in a thread): the app and its URL."""
    port = free_port()
    app = dev_app(database_url, MUSTER_BASE_URL=f"http://127.0.0.1:{port}")
    with serving(app, port) as url:
        yield app, url


async def test_the_pages_live_feeds_draw_only_what_matches(pages, db, people):
    app, url = pages
    hub = app.state.services.hub
    critical, minor = await severity(db, "Critical"), await severity(db, "Minor")
    wanted = ids.encode("Severity", critical.id)
    async with (
        signed_in(url, people.viewer) as http,
        http.stream("GET", "/live/dashboard", params={"severity": wanted}) as board,
        http.stream("GET", "/live/incidents", params={"severity": wanted}) as listed,
        http.stream("GET", "/live/incidents", params={"q": "database"}) as searched,
    ):
        feeds = [Feed(board), Feed(listed), Feed(searched)]
        await until(lambda: started(hub) == 3)
        await declarations.declare(
            db, actor=people.member, name="Printer jam", severity_id=minor.id
        )
        fire = await declarations.declare(
            db, actor=people.member, name="Database fire", severity_id=critical.id
        )
        new = [await feed.next() for feed in feeds]
        await incidents.change_severity(
            db, actor=people.responder, incident_id=fire.id, severity_id=minor.id
        )
        left = [await feed.next() for feed in feeds]
    # The minor printer incident was never drawn: the first message is the critical one.
    assert all("Database fire" in drawn and "Printer jam" not in drawn for drawn in new)
    assert 'hx-target="#ongoing-active" hx-swap="beforeend"' in new[0]
    assert all('hx-target="#incident-list" hx-swap="afterbegin"' in drawn for drawn in new[1:])
    # No longer critical: it leaves the filtered dashboard and list, stays on the searched one.
    assert 'id="incident-INC-2" class="fresh" data-remove hidden' in left[0]
    assert '<li id="incident-INC-2" class="fresh" data-remove hidden></li>' in left[1]
    assert 'hx-target="#incident-INC-2" hx-swap="outerHTML"' in left[2]
    assert "Database fire" in left[2] and "data-remove" not in left[2]

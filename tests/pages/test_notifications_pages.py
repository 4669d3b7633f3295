"""The notification pages: the bell in every page's header (its count, in words and as a badge),
the inbox at ``/notifications`` (newest first, unread only, marking one or all read, paging, a
private incident's notification neither listed nor counted), the email preferences at
``/settings/notifications`` for everyone, and the bell's live feed: ``/live/notifications`` on
pages without a stream of their own, inside the page's own stream on the others."""

from __future__ import annotations

import asyncio

from app.models import NotificationKind
from app.services import declarations, incidents, notifications
from tests.pages.conftest import Feed, csrf_of, dev_app, feeds_started, signed_in
from tests.support.html import checked, href, one, parse, partial, text, text_of, texts
from tests.support.servers import free_port, serving, until
from views.notifications import FIRST


async def notify(db, person, incident, title, *, body="", kind=NotificationKind.UPDATE_SHARED):
    async with db.write() as session:
        [made] = await notifications.send(
            session, [person.id], kind=kind, incident=incident, title=title, body=body,
            cause=f"test:{title}", now=db.now(), email=False,
        )  # fmt: skip
    return made


def bell(tree):
    """The header's bell: where it goes, its name as a screen reader says it, its badge."""
    link = one(tree, "header a#bell")
    badge = link.css(".bell-count")
    return link.attributes["href"], text(link, ".visually-hidden"), [text_of(b) for b in badge]


def listed(tree) -> list[str]:
    return texts(tree, ".inbox .notification .title a, .inbox .notification .title .plain")


def unread_titles(tree) -> list[str]:
    return [
        text(n, ".title a")
        for n in tree.css(".inbox .notification")
        if n.css(".unread-mark") and text(n, ".unread-mark") == "Unread"
    ]


async def test_every_page_header_shows_the_unread_count(db, people, browsers):
    incident = await declarations.declare(db, actor=people.member, name="Checkout down")
    async with browsers(people.viewer) as browser:
        assert bell(parse((await browser.get("/")).text)) == ("/notifications", "Notifications", [])
        for n in range(3):
            await notify(db, people.viewer, incident, f"Update {n}")
        await notify(db, people.member, incident, "Not for Vera")
        for path in ("/", "/incidents", "/me", "/settings", "/incidents/INC-1", "/notifications"):
            page = await browser.get(path)
            assert page.status_code == 200, path
            assert bell(parse(page.text)) == ("/notifications", "Notifications, 3 unread", ["3"])
        missing = await browser.get("/incidents/INC-99")  # a refusal draws the header too
        assert bell(parse(missing.text))[1] == "Notifications, 3 unread"
        inbox = parse((await browser.get("/notifications")).text)
    assert one(inbox, "header a#bell").attributes["aria-current"] == "page"


async def test_the_inbox_lists_newest_first_and_marks_read(db, people, browsers):
    incident = await declarations.declare(db, actor=people.member, name="Checkout down")
    await notify(db, people.viewer, incident, "First", body="Rolled back the CDN.")
    await notify(db, people.viewer, incident, "Second", kind=NotificationKind.STATUS_CHANGED)
    await notify(db, people.viewer, incident, "Third")
    async with browsers(people.viewer) as browser:
        tree = parse((await browser.get("/notifications")).text)
        assert listed(tree) == ["Third", "Second", "First"]
        assert unread_titles(tree) == ["Third", "Second", "First"]
        first = tree.css(".inbox .notification")[2]
        assert one(first, ".title a").attributes["href"] == "/incidents/INC-1"  # one click
        assert text(first, ".body") == "Rolled back the CDN."
        assert "INC-1 Checkout down" in texts(first, ".meta span")
        assert one(first, 'time[data-show="ago"]').attributes["datetime"]
        assert text(tree.css(".inbox .notification")[1], ".meta .kind") == "Status"
        assert text(tree, "#inbox-count") == "3 unread"
        assert href(tree, "Email preferences") == "/settings/notifications"

        # Mark one read: it stays listed, unmarked; the count drops.
        second = tree.css(".inbox .notification")[1]
        form = one(second, "form.mark")
        assert text(form, "button") == "Mark read: Second"
        answer = await browser.post(
            form.attributes["action"], {"id": one(form, 'input[name="id"]').attributes["value"]}
        )
        assert answer.status_code == 303
        assert answer.headers["location"] == "/notifications?marked=one"
        tree = parse((await browser.get(answer.headers["location"])).text)
        assert text(tree, "main .notice.ok") == "Marked read."
        assert listed(tree) == ["Third", "Second", "First"]
        assert unread_titles(tree) == ["Third", "First"]
        assert bell(tree)[1:] == ("Notifications, 2 unread", ["2"])

        # Unread only.
        assert href(tree, "Show unread only") == "/notifications?unread=1"
        unread = parse((await browser.get("/notifications?unread=1")).text)
        assert listed(unread) == ["Third", "First"]
        assert href(unread, "Show all") == "/notifications"

        # Mark all read, from the unread-only view: back to it, empty.
        answer = await browser.post("/notifications/read", {"all": "1", "unread": "1"})
        assert answer.headers["location"] == "/notifications?unread=1&marked=all"
        tree = parse((await browser.get(answer.headers["location"])).text)
        assert listed(tree) == []
        assert text(tree, ".empty") == "Nothing unread: you are up to date."
        assert bell(tree)[1:] == ("Notifications", [])
        assert tree.css("button") and "Mark all read" not in texts(tree, "button")
        everything = parse((await browser.get("/notifications")).text)
        assert listed(everything) == ["Third", "Second", "First"] and not unread_titles(everything)


async def test_someone_elses_notification_cannot_be_marked(db, people, browsers):
    incident = await declarations.declare(db, actor=people.member, name="Checkout down")
    await notify(db, people.member, incident, "Mo's")
    async with browsers(people.member) as mo:
        form = one(parse((await mo.get("/notifications")).text), "form.mark")
        theirs = one(form, 'input[name="id"]').attributes["value"]
    async with browsers(people.viewer) as vera:
        answer = await vera.post("/notifications/read", {"id": theirs})
        assert answer.status_code == 303  # as if it did not exist: nothing to tell
        nothing = await vera.post("/notifications/read", {})
        assert nothing.status_code == 422
    async with browsers(people.member) as mo:
        assert bell(parse((await mo.get("/notifications")).text))[2] == ["1"]


async def test_the_inbox_pages_on_with_older(db, people, browsers):
    incident = await declarations.declare(db, actor=people.member, name="Busy")
    for n in range(FIRST + 2):
        await notify(db, people.viewer, incident, f"Note {n:02d}")
    async with browsers(people.viewer) as browser:
        tree = parse((await browser.get("/notifications")).text)
        shown = listed(tree)
        assert shown[0] == f"Note {FIRST + 1:02d}" and len(shown) == FIRST
        older = href(tree, "Older")
        assert older and older.startswith("/notifications?after=")
        tree = parse((await browser.get(older)).text)
        assert listed(tree) == ["Note 01", "Note 00"]
        assert href(tree, "Older") is None
        assert href(tree, "Back to the newest") == "/notifications"
        bad = await browser.get("/notifications?after=not-a-cursor")
        assert bad.status_code == 400


async def test_a_private_incidents_notification_is_neither_listed_nor_counted(db, people, browsers):
    public = await declarations.declare(db, actor=people.member, name="Public trouble")
    hushed = await declarations.declare(db, actor=people.member, name="Hushed trouble")
    await notify(db, people.viewer, public, "About the public one")
    await notify(db, people.viewer, hushed, "About the hushed one")
    # Made private after the fact: Vera is no member, so it does not exist for her now.
    await incidents.change_visibility(db, actor=people.member, incident_id=hushed.id, private=True)
    async with browsers(people.viewer) as browser:
        page = await browser.get("/notifications")
        unread = await browser.get("/notifications?unread=1")
    tree = parse(page.text)
    assert listed(tree) == ["About the public one"]
    assert bell(tree)[1:] == ("Notifications, 1 unread", ["1"])
    assert text(tree, "#inbox-count") == "1 unread"
    assert "hushed" not in (page.text + unread.text).lower()
    async with browsers(people.member) as browser:  # a member still has theirs
        await notify(db, people.member, hushed, "Mo hears about it")
        assert listed(parse((await browser.get("/notifications")).text)) == ["Mo hears about it"]


async def test_the_empty_inbox_says_so(db, people, browsers):
    async with browsers(people.viewer) as browser:
        tree = parse((await browser.get("/notifications")).text)
    assert text(tree, ".empty").startswith("No notifications yet.")
    assert "Mark all read" not in texts(tree, "button")


async def test_everyone_may_choose_which_notifications_they_get_by_email(db, people, browsers):
    async with browsers(people.viewer) as browser:
        settings = parse((await browser.get("/settings")).text)
        tabs = {text_of(a): a.attributes["href"] for a in settings.css("nav.settings-tabs a")}
        assert tabs == {"API tokens": "/settings", "Notifications": "/settings/notifications"}
        page = await browser.get("/settings/notifications")
        assert page.status_code == 200
        tree = parse(page.text)
        rows = texts(tree, "table.preferences tbody th")
        assert rows[:3] == [
            "Updates shared on incidents you follow",
            "Status changes on incidents you follow",
            "Severity changes on incidents you follow",
        ]
        assert "Your update is overdue" in rows and "Workflow messages" in rows
        assert "Webhook endpoint disabled (admins)" not in rows  # never sent to Vera
        assert "MUSTER_SMTP_URL" in text(tree, "#settings-section > p.muted")
        everything = checked(tree, "email")
        assert "UPDATE_SHARED" in everything and len(everything) == len(rows)  # on by default
        label = one(tree, 'label[for="email-STATUS_CHANGED"]')
        assert text_of(label) == "Status changes on incidents you follow"

        kinds = [i.attributes["value"] for i in tree.css('input[name="kind"]')]
        kept = [k for k in kinds if k not in ("UPDATE_SHARED", "NO_LEAD")]
        answer = await browser.http.post(
            "/settings/notifications",
            data={"csrf_token": browser.csrf, "kind": kinds, "email": kept},
            headers={"Origin": "http://127.0.0.1:8000"},
        )
        assert answer.status_code == 303
        tree = parse((await browser.get(answer.headers["location"])).text)
        assert text(tree, "#settings-section .notice.ok") == "Saved your email choices."
        assert set(checked(tree, "email")) == set(kept)
    async with db.read() as session:
        chosen = {
            p.kind.value: p.email for p in await notifications.preferences(session, people.viewer)
        }
    assert chosen["UPDATE_SHARED"] is False and chosen["NO_LEAD"] is False
    assert chosen["STATUS_CHANGED"] is True
    assert chosen["WEBHOOK_DISABLED"] is True  # not on Vera's form, so left as it was
    async with browsers(people.admin) as browser:
        rows = texts(parse((await browser.get("/settings/notifications")).text), "tbody th")
    assert "Webhook endpoint disabled (admins)" in rows


async def test_a_preferences_form_naming_no_known_kind_changes_nothing(db, people, browsers):
    async with browsers(people.viewer) as browser:
        answer = await browser.post("/settings/notifications", {"kind": "NOT_A_KIND"})
    assert answer.status_code == 400
    async with db.read() as session:
        assert all(p.email for p in await notifications.preferences(session, people.viewer))


async def test_the_bell_is_live(served, served_app, db, people):
    incident = await declarations.declare(db, actor=people.member, name="Checkout down")
    await notify(db, people.viewer, incident, "Already there")
    async with (
        signed_in(served, people.viewer) as http,
        http.stream("GET", "/live/notifications") as response,
    ):
        assert response.status_code == 200
        assert "no-store" in response.headers["cache-control"]  # never cached, never shared
        stream = Feed(response, bell=True)
        first = await stream.next()  # at once: the count now
        await feeds_started(served_app, inboxes=True)
        assert await feeds_started_events(served_app) == 0  # the bell's feed takes no events
        await in_server(served_app, notify, people.member, incident, "Not Vera's")
        await in_server(served_app, notify, people.viewer, incident, "INC-1 Checkout down: hi")
        arrived = await stream.next()
        inbox = await http.get("/notifications")
        marked = await http.post(
            "/notifications/read", data={"csrf_token": csrf_of(inbox.text), "all": "1"},
            headers={"Origin": served},
        )  # fmt: skip
        assert marked.status_code == 303
        read = await stream.next()
    # Another page's bell, opened later, starts from the count now (not an earlier feed's).
    async with (
        signed_in(served, people.viewer) as http,
        http.stream("GET", "/live/notifications") as response,
    ):
        later = await Feed(response, bell=True).next()
    assert text(partial(parse(later), "#bell"), ".visually-hidden") == "Notifications"
    now = partial(parse(first), "#bell")
    assert now.attributes["hx-swap"] == "innerHTML"
    assert text(now, ".visually-hidden") == "Notifications, 1 unread"
    assert now.css(".fresh") == []  # nothing to announce at once
    came = partial(parse(arrived), "#bell")
    assert text(came, ".visually-hidden") == "Notifications, 2 unread"
    assert text(came, ".bell-count") == "2"
    assert one(came, ".fresh").attributes["data-announce"] == (
        "New notification: INC-1 Checkout down: hi. 2 unread."
    )
    gone = partial(parse(read), "#bell")
    assert text(gone, ".visually-hidden") == "Notifications"
    assert gone.css(".bell-count, .fresh") == []
    assert "Not Vera" not in first + arrived + read


async def feeds_started_events(app) -> int:
    return sum(s.takes_events for s in list(app.state.services.hub.subscribers))


async def in_server(app, step, *args):
    """``step(app's database, *args)`` run in the served app's own event loop (as its worker
    would write): its commit wakes the inbox feeds of the people it notified (SQLite has no
    NOTIFY for writes from elsewhere, and a database belongs to one event loop)."""
    loop = app.state.services.hub._tasks[0].get_loop()
    running = asyncio.run_coroutine_threadsafe(step(app.state.services.db, *args), loop)
    return await asyncio.wrap_future(running)


async def test_the_bell_feed_needs_a_session(served):
    import httpx2

    async with httpx2.AsyncClient(base_url=served) as http:
        answer = await http.get("/live/notifications")
    assert answer.status_code == 401


class Messages:
    """An SSE response's messages as (id, data): the id is None when the message has none."""

    def __init__(self, response):
        self.lines = response.aiter_lines()

    async def next(self, wait=10) -> tuple[str | None, str]:
        async def read() -> tuple[str | None, str]:
            cursor, data = None, []
            async for line in self.lines:
                if line.startswith("id:"):
                    cursor = line[3:].strip()
                elif line.startswith("data:"):
                    data.append(line[5:].removeprefix(" "))
                elif not line and data:
                    return cursor, "\n".join(data)
            raise AssertionError("the stream ended")

        return await asyncio.wait_for(read(), wait)

    async def until(self, found, wait=10) -> tuple[str | None, str]:
        """The next message ``found(data)`` holds for (skipping the others)."""
        while True:
            cursor, data = await self.next(wait)
            if found(data):
                return cursor, data


def is_bell(data: str) -> bool:
    return data.startswith('<hx-partial hx-target="#bell"')


def live_streams(tree) -> list[str]:
    return [node.attributes["hx-sse:connect"] for node in tree.css("[hx-sse\\:connect]")]


async def test_a_page_with_its_own_stream_opens_no_other(db, people, browsers):
    await declarations.declare(db, actor=people.member, name="Checkout down")
    async with browsers(people.viewer) as browser:
        own = {
            "/": "/live/dashboard?",
            "/incidents": "/live/incidents",
            "/incidents/INC-1": "/live/incidents/INC-1",
        }
        for path, live in own.items():
            tree = parse((await browser.get(path)).text)
            assert live_streams(tree) == [live], path
            assert tree.css("header a#bell"), path  # the bell is drawn all the same
        wall = parse((await browser.get("/?tv=1")).text)  # a wall screen: no bell at all
        assert live_streams(wall) == ["/live/wall-screen"] and not wall.css("#bell")
        for path in ("/me", "/settings", "/notifications", "/settings/notifications"):
            tree = parse((await browser.get(path)).text)
            assert live_streams(tree) == ["/live/notifications"], path
            assert one(tree, "header .bell-feed").attributes["hx-sse:connect"]


async def test_the_bell_rides_on_the_dashboards_own_stream(served, served_app, db, people):
    incident = await declarations.declare(db, actor=people.member, name="Checkout down")
    await notify(db, people.viewer, incident, "Already there")
    hub = served_app.state.services.hub
    async with (
        signed_in(served, people.viewer) as http,
        signed_in(served, people.member) as other,
        http.stream("GET", "/live/dashboard") as response,
        other.stream("GET", "/live/dashboard") as others,
    ):
        assert response.status_code == others.status_code == 200
        mine, theirs = Messages(response), Messages(others)
        first = await mine.next()  # at once: the count now
        await theirs.until(is_bell)
        await feeds_started(served_app, 2)  # one event feed each
        await feeds_started(served_app, 2, inboxes=True)  # and one inbox feed each
        assert hub.feeds == {people.viewer.id: 2, people.member.id: 2}
        await in_server(served_app, notify, people.viewer, incident, "INC-1 Checkout down: hi")
        arrived = await mine.next()
        await incidents.add_note(db, actor=people.member, incident_id=incident.id, message="Hm")
        row = await mine.until(lambda data: not is_bell(data))
        their_row = await theirs.until(lambda data: not is_bell(data))
    await until(lambda: not hub.feeds)  # every place given back
    # The bell's messages carry no id: a reconnect resumes after the page's last event.
    assert first[0] is None and arrived[0] is None
    assert text(partial(parse(first[1]), "#bell"), ".visually-hidden") == (
        "Notifications, 1 unread"
    )
    came = partial(parse(arrived[1]), "#bell")
    assert text(came, ".visually-hidden") == "Notifications, 2 unread"
    assert one(came, ".fresh").attributes["data-announce"] == (
        "New notification: INC-1 Checkout down: hi. 2 unread."
    )
    # The row, the same for everyone, is the event's (with its cursor) and draws no bell.
    assert row[0] and row == their_row
    assert "Checkout down" in row[1] and "#bell" not in row[1]


async def test_the_bell_rides_on_the_incident_page_and_list_streams(served, served_app, db, people):
    incident = await declarations.declare(db, actor=people.member, name="Checkout down")
    await notify(db, people.viewer, incident, "Already there")
    for path in ("/live/incidents/INC-1", "/live/incidents"):
        async with (
            signed_in(served, people.viewer) as http,
            http.stream("GET", path) as response,
        ):
            cursor, data = await Messages(response).next()
        assert cursor is None, path
        assert text(partial(parse(data), "#bell"), ".visually-hidden") == (
            "Notifications, 1 unread"
        ), path
    async with (
        signed_in(served, people.viewer) as http,
        http.stream("GET", "/live/wall-screen") as response,
    ):
        wall = Messages(response)
        await feeds_started(served_app)
        await feeds_started(served_app, 0, inboxes=True)  # a wall screen's stream has no bell
        await incidents.add_note(db, actor=people.member, incident_id=incident.id, message="Hm")
        cursor, data = await wall.next()
    assert cursor and "Checkout down" in data and not is_bell(data)


async def test_a_page_stream_takes_two_places_among_the_persons_feeds(db, database_url, people):
    port = free_port()
    app = dev_app(
        database_url, MUSTER_BASE_URL=f"http://127.0.0.1:{port}", MUSTER_LIVE_FEEDS_PER_PERSON="4"
    )
    with serving(app, port) as url:
        hub = app.state.services.hub
        async with (
            signed_in(url, people.viewer) as http,
            http.stream("GET", "/live/dashboard") as board,
            http.stream("GET", "/live/notifications") as bell_feed,
        ):
            assert board.status_code == bell_feed.status_code == 200
            open_ = [Messages(board), Messages(bell_feed)]  # read on: kept open
            for messages in open_:
                await messages.next()
            assert hub.feeds[people.viewer.id] == 3
            # One place is left, a page's stream needs two: refused, the one it took given back.
            refused = await http.get("/live/incidents")
            assert refused.status_code == 429
            assert refused.headers["retry-after"]
            assert hub.feeds[people.viewer.id] == 3
            async with http.stream("GET", "/live/notifications") as last:
                assert last.status_code == 200
                open_.append(Messages(last))
                await open_[-1].next()
                assert hub.feeds[people.viewer.id] == 4
        await until(lambda: not hub.feeds)  # every place given back when the streams end

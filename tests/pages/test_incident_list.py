"""The incident list at ``/incidents``: every status, newest first, each filter, search, keyset
pages, privacy (rows, counts, search), escaping, fragments, and the live feed that inserts new
incidents and replaces changed rows."""

from __future__ import annotations

import re

import httpx2

from app.models import IncidentMode, IncidentType, Severity, StatusCategory
from app.services import declarations, followers, incidents, roles
from schema import ids
from tests.pages.conftest import Feed, dev_app, feeds_started, signed_in
from tests.support.factories import lead_role, named, status_in
from tests.support.html import element_ids, href, one, parse, partial, text, text_of, value


def rows(page: str) -> list[str]:
    """The references of the list's rows, in page order."""
    return element_ids(parse(page), "#incident-list li.incident-row", "incident-")


def total(page: str) -> int:
    """The count the results' heading gives ("3 incidents", "1 incident matches")."""
    heading = text(parse(page), "#results-heading")
    assert re.fullmatch(r"\d+ incidents?( match(es)?)?( · a later page)?", heading), heading
    return int(heading.split()[0])


def link(page: str, label: str) -> str | None:
    return href(parse(page), label)


def live_row(message: str, target: str, swap: str):
    """The one row a live message swaps into ``target`` with ``swap``."""
    change = partial(parse(message), target)
    assert change.attributes["hx-swap"] == swap
    [row] = change.css("li")
    return row


async def test_every_status_newest_first_with_how_it_ended(db, people, browsers, clock):
    first = await declarations.declare(db, actor=people.member, name="Old and closed")
    clock.advance(minutes=5)
    await incidents.change_status(
        db, actor=people.responder, incident_id=first.id,
        status_id=(await status_in(db, StatusCategory.CLOSED)).id,
    )  # fmt: skip
    clock.advance(minutes=5)
    second = await declarations.declare(db, actor=people.member, name="Written up")
    await incidents.change_status(
        db, actor=people.responder, incident_id=second.id,
        status_id=(await status_in(db, StatusCategory.POST_INCIDENT)).id,
    )  # fmt: skip
    clock.advance(minutes=5)
    await declarations.declare(db, actor=people.member, name="Burning", next_update_in_minutes=30)
    async with browsers(people.viewer) as browser:
        page = await browser.get("/incidents")
    assert page.status_code == 200
    assert rows(page.text) == ["INC-3", "INC-2", "INC-1"]
    assert total(page.text) == 3
    tree = parse(page.text)
    ended = {ref: text(tree, f'[id="incident-{ref}"] .due') for ref in rows(page.text)}
    assert re.fullmatch(r"Resolved \d+ \w+ [\d:]+ UTC Closed \d+ \w+ [\d:]+ UTC", ended["INC-1"])
    status = one(tree, '[id="incident-INC-1"] .badge[class*="status-"]')
    assert status.attributes["class"] == "badge status-CLOSED" and text_of(status) == "Closed"
    assert re.fullmatch(r"Resolved \d+ \w+ [\d:]+ UTC", ended["INC-2"])
    assert ended["INC-3"].startswith("Next update due by")
    assert one(tree, 'nav a[href="/incidents"]').attributes["aria-current"] == "page"


async def test_each_filter_narrows_the_list(db, people, browsers):
    critical = await named(db, Severity, "Critical")
    security = await named(db, IncidentType, "Security")
    migration = await named(db, IncidentType, "Migration")
    closed = await status_in(db, StatusCategory.CLOSED)
    await declarations.declare(db, actor=people.member, name="Plain")  # INC-1
    await declarations.declare(db, actor=people.member, name="Bad", severity_id=critical.id)  # 2
    await declarations.declare(db, actor=people.member, name="Move", type_id=migration.id)  # 3
    await declarations.declare(db, actor=people.member, name="Drill", mode=IncidentMode.TEST)  # 4
    await declarations.declare(db, actor=people.member, name="Hush", type_id=security.id)  # 5
    done = await declarations.declare(db, actor=people.member, name="Done")  # 6
    await incidents.change_status(
        db, actor=people.responder, incident_id=done.id, status_id=closed.id
    )
    watched = await declarations.declare(db, actor=people.responder, name="Watched")  # 7
    await followers.follow(db, actor=people.member, incident_id=watched.id)
    held = await declarations.declare(db, actor=people.responder, name="Led")  # 8
    await roles.assign_role(
        db, actor=people.responder, incident_id=held.id, role_id=(await lead_role(db)).id,
        user_id=people.other_member.id,
    )  # fmt: skip

    async def listed(who, **params):
        async with browsers(who) as browser:
            page = await browser.get("/incidents", params=params)
        assert page.status_code == 200, page.text
        form = one(parse(page.text), "form.filters")
        shown = {name: value(form, name) for name in ("status", "severity", "type", "mode")}
        assert {k: v for k, v in shown.items() if v} == {
            k: v for k, v in params.items() if k in shown
        }  # the filters applied are the ones the form shows chosen
        return rows(page.text)

    member = people.member
    assert await listed(member, status="CLOSED") == ["INC-6"]
    assert "INC-6" not in await listed(member, status="ONGOING")
    assert await listed(member, status="FINISHED") == ["INC-6"]
    assert await listed(member, severity=ids.encode("Severity", critical.id)) == ["INC-2"]
    assert await listed(member, type=ids.encode("IncidentType", migration.id)) == ["INC-3"]
    assert await listed(member, mode="TEST") == ["INC-4"]
    assert await listed(member, visibility="private") == ["INC-5"]
    assert "INC-5" not in await listed(member, visibility="public")
    assert await listed(member, followed="1") == ["INC-7"]
    assert await listed(people.other_member, held="1") == ["INC-8"]
    # Filters combine.
    assert await listed(member, status="ACTIVE", mode="TEST") == ["INC-4"]
    assert await listed(member, status="CLOSED", mode="TEST") == []
    async with browsers(member) as browser:
        for bad in ({"status": "ON_FIRE"}, {"mode": "x"}, {"severity": "nonsense"},
                    {"visibility": "secret"}, {"after": "garbage"}):  # fmt: skip
            refused = await browser.get("/incidents", params=bad)
            assert refused.status_code == 400, bad
            assert text(parse(refused.text), "main h1") == "This list link does not work"
        empty = await browser.get("/incidents", params={"status": "MERGED"})
    assert text(parse(empty.text), "#results .empty").startswith(
        "No incident matches these filters"
    )
    assert link(empty.text, "Clear filters") == "/incidents"


async def test_search_finds_words_in_updates(db, people, browsers):
    lagging = await declarations.declare(db, actor=people.member, name="Slow reports")
    await incidents.share_update(
        db, actor=people.member, incident_id=lagging.id, message="The database replica is lagging"
    )
    await declarations.declare(
        db, actor=people.member, name="Checkout failures", summary="Payments"
    )
    async with browsers(people.viewer) as browser:
        by_update = await browser.get("/incidents", params={"q": "replica lag"})
        by_name = await browser.get("/incidents", params={"q": "CHECK"})
        nothing = await browser.get("/incidents", params={"q": "printer"})
    assert rows(by_update.text) == ["INC-1"]
    assert rows(by_name.text) == ["INC-2"]
    assert rows(nothing.text) == [] and total(nothing.text) == 0
    assert value(parse(by_update.text), "q") == "replica lag"  # the box keeps what was typed


async def test_pages_walk_every_incident_once(db, people, browsers, clock):
    for n in range(30):
        clock.advance(seconds=1 if n % 3 else 0)  # some declared in the same instant
        await declarations.declare(db, actor=people.member, name=f"Incident number {n + 1}")
    seen: list[str] = []
    async with browsers(people.viewer) as browser:
        url: str | None = "/incidents"
        pages = 0
        while url:
            page = (await browser.get(url)).text
            pages += 1
            seen += rows(page)
            assert total(page) == 30
            back = link(page, "Back to the first page")
            assert (back == "/incidents") is (pages > 1)
            assert "Page 2" not in page  # keyset: no page numbers
            url = link(page, "Next page")
            assert pages < 5
    assert pages == 2
    assert seen == [f"INC-{n}" for n in range(30, 0, -1)]


async def test_the_next_page_keeps_the_filters(db, people, browsers):
    critical = await named(db, Severity, "Critical")
    wanted = ids.encode("Severity", critical.id)
    for n in range(32):  # 28 critical fires, 4 others
        await declarations.declare(
            db, actor=people.member, name=f"Fire {n}",
            severity_id=critical.id if n % 10 else None,
        )  # fmt: skip
    async with browsers(people.viewer) as browser:
        first = await browser.get("/incidents", params={"severity": wanted, "q": "fire"})
        following = link(first.text, "Next page")
        assert f"severity={wanted}" in following and "q=fire" in following
        assert "after=" in following
        second = await browser.get(following)
        back = link(second.text, "Back to the first page")
    assert back == f"/incidents?severity={wanted}&q=fire"
    assert total(first.text) == total(second.text) == 28
    assert len(rows(first.text)) == 25 and len(rows(second.text)) == 3
    listed = rows(first.text) + rows(second.text)
    assert len(set(listed)) == 28
    assert not {"INC-1", "INC-11", "INC-21", "INC-31"} & set(listed)
    assert link(second.text, "Next page") is None


async def test_private_incidents_are_invisible_to_outsiders(db, people, browsers):
    security = await named(db, IncidentType, "Security")
    hidden = await declarations.declare(
        db, actor=people.member, name="Laptop stolen", type_id=security.id
    )
    await incidents.share_update(
        db, actor=people.member, incident_id=hidden.id, message="Disk encryption confirmed"
    )
    await declarations.declare(db, actor=people.member, name="Public laptop shortage")
    async with browsers(people.member) as insider:
        theirs = {
            "all": (await insider.get("/incidents")).text,
            "search": (await insider.get("/incidents", params={"q": "encryption"})).text,
            "private": (await insider.get("/incidents", params={"visibility": "private"})).text,
        }
    async with browsers(people.admin) as outsider:  # no role sees private incidents implicitly
        mine = {
            "all": (await outsider.get("/incidents")).text,
            "search": (await outsider.get("/incidents", params={"q": "encryption"})).text,
            "private": (await outsider.get("/incidents", params={"visibility": "private"})).text,
            "laptop": (await outsider.get("/incidents", params={"q": "laptop"})).text,
            "none": (await outsider.get("/incidents", params={"q": "zzzzqqq"})).text,
        }
    assert rows(theirs["all"]) == ["INC-2", "INC-1"] and total(theirs["all"]) == 2
    assert rows(theirs["search"]) == ["INC-1"] and rows(theirs["private"]) == ["INC-1"]
    assert rows(mine["all"]) == ["INC-2"] and total(mine["all"]) == 1
    assert rows(mine["search"]) == [] and total(mine["search"]) == 0
    assert rows(mine["private"]) == [] and total(mine["private"]) == 0
    assert rows(mine["laptop"]) == ["INC-2"] and total(mine["laptop"]) == 1
    # Searching for the hidden incident's words answers as for words nobody wrote.
    results = [
        re.sub(r"q=\w+", "", page.split('<section id="results"')[1]).replace("zzzzqqq", "X")
        for page in (mine["search"], mine["none"])
    ]
    assert results[0].replace("encryption", "X") == results[1]
    for page in mine.values():
        assert "Laptop stolen" not in page and "encryption confirmed" not in page


async def test_htmx_gets_the_results_and_a_plain_get_the_page(db, people, browsers):
    await declarations.declare(db, actor=people.member, name="Something")
    async with browsers(people.viewer) as browser:
        full = await browser.get("/incidents", params={"q": "some"})
        results = await browser.get(
            "/incidents", params={"q": "some", "status": ""}, headers={"HX-Request": "true"}
        )
    assert full.text.startswith("<!doctype html>")
    assert results.text.lstrip().startswith('<section id="results"')
    assert "<html" not in results.text and "<form" not in results.text
    for response in (full, results):
        assert "HX-Request" in response.headers["vary"]
        assert rows(response.text) == ["INC-1"]
    # The new count is read out to people typing; the full page has no such part.
    said = partial(parse(results.text), "#announcer")
    assert said.attributes["hx-swap"] == "innerHTML" and text_of(said) == "1 incident matches"
    assert parse(full.text).css("hx-partial") == []
    # The address bar shows the filters people chose, without the empty ones.
    assert results.headers["hx-push-url"] == "/incidents?q=some"
    live = one(parse(results.text), "#results").attributes["hx-sse:connect"]
    assert live == "/live/incidents?q=some"


async def test_user_text_is_escaped(db, people, browsers):
    incident = await declarations.declare(
        db, actor=people.member, name='<script>alert(1)</script><b hx-get="/x">bold</b>'
    )
    await incidents.share_update(
        db, actor=people.member, incident_id=incident.id, message='<img src=x onerror="alert(2)">'
    )
    async with browsers(people.viewer) as browser:
        page = (await browser.get("/incidents", params={"q": '"><script>alert(3)</script>'})).text
        listed = (await browser.get("/incidents")).text
    for markup in (page, listed):
        assert "<script>alert(" not in markup
        assert 'hx-get="/x"' not in markup
        assert "<img src=x" not in markup
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in listed
    assert 'value="&#34;&gt;&lt;script&gt;alert(3)&lt;/script&gt;"' in page
    shown = one(parse(listed), '[id="incident-INC-1"]')  # as text, where people read it
    assert shown.css("script, img, b") == []
    assert text(shown, ".title a") == '<script>alert(1)</script><b hx-get="/x">bold</b>'
    assert value(parse(page), "q") == '"><script>alert(3)</script>'


async def test_signed_out_people_are_sent_to_sign_in(db, database_url):
    app = dev_app(database_url)
    transport = httpx2.ASGITransport(app=app)
    async with httpx2.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as http:
        page = await http.get("/incidents", params={"q": "x"})
        stream = await http.get("/live/incidents")
    await app.state.services.db.dispose()
    assert page.status_code == 303
    assert page.headers["location"] == "/auth/sign-in?next=/incidents%3Fq%3Dx"
    assert stream.status_code == 401


# The live list, through a real server.


async def test_new_incidents_arrive_on_top_and_changed_rows_are_replaced(
    served, served_app, db, people
):
    security = await named(db, IncidentType, "Security")
    async with (
        signed_in(served, people.viewer) as http,
        http.stream("GET", "/live/incidents") as response,
    ):
        feed = Feed(response)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        await feeds_started(served_app)
        declared = await declarations.declare(db, actor=people.member, name="Fresh <trouble>")
        new = await feed.next()
        await declarations.declare(db, actor=people.member, name="Hush", type_id=security.id)
        await incidents.share_update(
            db, actor=people.member, incident_id=declared.id, message="On it"
        )
        changed = await feed.next()
    arrived = live_row(new, "#incident-list", "afterbegin")
    assert (arrived.id, arrived.attributes["class"]) == ("incident-INC-1", "incident-row fresh")
    assert text(arrived, ".title a") == "Fresh <trouble>" and "<trouble>" not in new
    assert arrived.attributes["data-announce"] == "New incident INC-1: Fresh <trouble>"
    # A change replaces the row where it is, without announcing it; the private one never came.
    replaced = live_row(changed, "#incident-INC-1", "outerHTML")
    assert (replaced.id, replaced.attributes["class"]) == ("incident-INC-1", "incident-row fresh")
    assert text(replaced, ".latest").startswith("On it —")
    assert "data-announce" not in replaced.attributes
    assert "Hush" not in new + changed


async def test_a_filtered_live_list_ignores_what_does_not_match(served, served_app, db, people):
    critical = await named(db, Severity, "Critical")
    wanted = ids.encode("Severity", critical.id)
    async with signed_in(served, people.viewer) as http:
        async with http.stream("GET", "/live/incidents", params={"severity": wanted}) as response:
            feed = Feed(response)
            await feeds_started(served_app)
            minor = await declarations.declare(db, actor=people.member, name="Minor thing")
            await declarations.declare(
                db, actor=people.member, name="Fire", severity_id=critical.id
            )
            fire = await feed.next()  # the minor one, not matching, is not sent at all
            # A listed incident that stops matching leaves the list.
            await incidents.change_severity(
                db, actor=people.responder, incident_id=minor.id, severity_id=critical.id
            )
            now_critical = await feed.next()
            await incidents.change_severity(
                db, actor=people.responder, incident_id=minor.id,
                severity_id=(await named(db, Severity, "Minor")).id,
            )  # fmt: skip
            gone = await feed.next()
        # Words to search are checked with the list's own query, as the viewer.
        async with http.stream("GET", "/live/incidents", params={"q": "database"}) as response:
            feed = Feed(response)
            await feeds_started(served_app)
            await declarations.declare(db, actor=people.member, name="Printer jam")  # not sent
            await declarations.declare(db, actor=people.member, name="Database down")
            found = await feed.next()
        # A later page takes no new incidents, only changes to its rows.
        async with http.stream("GET", "/live/incidents", params={"after": "x"}) as response:
            feed = Feed(response)
            await feeds_started(served_app)
            later = await declarations.declare(db, actor=people.member, name="Later")
            not_inserted = await feed.next()
            await incidents.add_note(db, actor=people.member, incident_id=later.id, message="n")
            replaced = await feed.next()
    assert text(live_row(fire, "#incident-list", "afterbegin"), ".title a") == "Fire"
    assert "Minor thing" not in fire
    joined = live_row(now_critical, "#incident-INC-1", "outerHTML")
    assert text(joined, ".title a") == "Minor thing" and "data-remove" not in joined.attributes
    left = live_row(gone, "#incident-INC-1", "outerHTML")
    assert (left.id, left.attributes["class"], text_of(left)) == ("incident-INC-1", "fresh", "")
    assert {"data-remove", "hidden"} <= set(left.attributes)
    assert text(live_row(found, "#incident-list", "afterbegin"), ".title a") == "Database down"
    assert "Printer jam" not in found
    assert not_inserted == ""
    assert text(live_row(replaced, "#incident-INC-5", "outerHTML"), ".title a") == "Later"


async def test_the_list_page_connects_to_its_live_feed(db, people, browsers):
    await declarations.declare(db, actor=people.member, name="Something")
    async with browsers(people.viewer) as browser:
        first = parse((await browser.get("/incidents", params={"mode": "TEST"})).text)
    assert one(first, "#results").attributes["hx-sse:connect"] == "/live/incidents?mode=TEST"
    assert "data-sorted" in one(first, "ol#incident-list.incident-list").attributes

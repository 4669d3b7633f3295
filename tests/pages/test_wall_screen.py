"""The wall screen, ``/?tv=1``: every ongoing incident shown or summarised, most severe first and
largest, nothing to click, the dashboard's filters kept, and its own live stream."""

from __future__ import annotations

import httpx2

from app.models import IncidentType, Severity, StatusCategory
from app.services import declarations, incidents
from schema import ids
from tests.pages.conftest import BELL, Feed, feeds_started, signed_in
from tests.support.factories import named, status_in
from tests.support.html import one, parse, text, texts
from views import wall_screen


async def declare_many(db, people, clock, counts):
    """Declare ``counts[severity name]`` incidents of each severity, one after the other; their
    references by severity name, newest first (as the wall orders them)."""
    made = {}
    for name, count in counts.items():
        severity = await named(db, Severity, name)
        made[name] = []
        for n in range(count):
            clock.advance(seconds=1)
            incident = await declarations.declare(
                db, actor=people.member, name=f"{name} trouble {n}", severity_id=severity.id
            )
            made[name].insert(0, incident.reference)
    return made


def shown(tree, group="") -> list[str]:
    """The references of the rows shown (not hidden), in page order, in one group or all."""
    return [
        row.id.removeprefix("wall-")
        for row in tree.css(f"#wall-board {group} li.wall-row")
        if "hidden" not in row.attributes
    ]


def summary(tree) -> list[str]:
    """What the summary line says, item by item."""
    return texts(tree, ".wall-more li:not([hidden])")


async def test_many_ongoing_incidents_are_all_shown_or_summarised(db, people, browsers, clock):
    made = await declare_many(db, people, clock, {"Minor": 20, "Major": 6, "Critical": 2})
    async with browsers(people.viewer) as browser:
        page = await browser.get("/", params={"tv": "1"})
    assert page.status_code == 200
    tree = parse(page.text)
    # A wall: nothing to click, fill in or navigate.
    assert tree.css("form, button, input, select, a, nav") == []
    assert tree.css("header.top, #bell") == []
    # Groups by severity, most severe first and largest.
    groups = tree.css("#wall-board section.wall-group")
    assert [text(g, "h2") for g in groups] == ["Critical", "Major", "Minor", "Post-incident"]
    assert [g.attributes["class"].split()[1] for g in groups] == [
        "wall-large", "wall-medium", "wall-small", "wall-small",
    ]  # fmt: skip
    # Every Critical and Major one shows, newest first; what does not fit is the least severe,
    # counted by severity (the budget in views/wall_screen.py: 13 + 13 of 44 rem leave 10 Minor).
    assert shown(tree, ".wall-large") == made["Critical"]
    assert shown(tree, ".wall-medium") == made["Major"]
    minor = shown(tree, ".wall-small")
    assert minor == made["Minor"][: len(minor)] and len(minor) == 10
    assert summary(tree) == ["and 10 more Minor incidents"]
    # All 28 are on the page (the hidden ones for the live layout), and counted.
    assert len(tree.css("li.wall-row")) == 28
    assert texts(tree, ".wall-counts .number") == ["2", "6", "20", "0"]
    # The layout's numbers are the module's, for the script.
    board = one(tree, "#wall-board")
    assert board.attributes["data-budget"] == str(wall_screen.BUDGET)
    assert board.attributes["hx-sse:connect"] == "/live/wall-screen"


async def test_what_fits_all_shows_with_post_incident_ones_last(db, people, browsers, clock):
    made = await declare_many(db, people, clock, {"Minor": 3, "Major": 2, "Critical": 1})
    writing_up = await status_in(db, StatusCategory.POST_INCIDENT)
    async with db.read() as session:
        first = await incidents.find_incident_by_reference(
            session, people.responder, made["Critical"][0]
        )
    await incidents.change_status(
        db, actor=people.responder, incident_id=first.id, status_id=writing_up.id
    )
    async with browsers(people.viewer) as browser:
        page = await browser.get("/", params={"tv": "1"})
    tree = parse(page.text)
    assert shown(tree) == [*made["Major"], *made["Minor"], made["Critical"][0]]
    assert shown(tree, ".wall-post") == [made["Critical"][0]]
    assert "hidden" in one(tree, "section.wall-large").attributes  # no Critical one responding
    assert "hidden" in one(tree, ".wall-more").attributes
    # Post-incident rows say their severity themselves; the status is on every row.
    post = one(tree, ".wall-post li.wall-row")
    assert texts(post, ".badge") == ["Critical", text(post, ".meta .badge")]
    # Without JavaScript the screen refreshes itself.
    refresh = one(tree, "noscript meta")
    assert refresh.attributes == {"http-equiv": "refresh", "content": "60"}


async def test_nothing_on_fire(db, people, browsers):
    async with browsers(people.viewer) as browser:
        page = await browser.get("/", params={"tv": "1"})
    tree = parse(page.text)
    assert shown(tree) == []
    assert text(tree, ".wall-empty") == "Nothing is on fire."
    assert "hidden" not in one(tree, ".wall-empty").attributes


async def test_the_wall_keeps_the_filters_in_its_url(db, people, browsers):
    security = await named(db, IncidentType, "Security")
    default = await named(db, IncidentType, "Default")
    await declarations.declare(db, actor=people.member, name="Secure one", type_id=security.id,
                               private=False)  # fmt: skip
    await declarations.declare(db, actor=people.member, name="Plain one", type_id=default.id)
    async with browsers(people.viewer) as browser:
        page = await browser.get(
            "/", params={"tv": "1", "type": ids.encode("IncidentType", default.id)}
        )
    tree = parse(page.text)
    assert texts(tree, "li.wall-row .name") == ["Plain one"]
    assert "(filtered)" in text(tree, "h1")
    assert (
        one(tree, "#wall-board").attributes["hx-sse:connect"].startswith("/live/wall-screen?type=")
    )


async def test_the_wall_stays_current_live_without_a_bell(served, served_app, db, people):
    major = await named(db, Severity, "Major")
    closed = await status_in(db, StatusCategory.CLOSED)
    async with (
        signed_in(served, people.viewer) as http,
        http.stream("GET", "/live/wall-screen") as response,
    ):
        assert response.status_code == 200
        stream = Feed(response, bell=True)
        await feeds_started(served_app)
        declared = await declarations.declare(
            db, actor=people.member, name="Fresh <trouble>", severity_id=major.id
        )
        new = await stream.next()
        await incidents.change_status(
            db, actor=people.responder, incident_id=declared.id, status_id=closed.id
        )
        gone = await stream.next()
    assert not new.startswith(BELL) and not gone.startswith(BELL)
    partial = one(parse(new), "hx-partial")
    assert partial.attributes["hx-target"] == "#wall-arrivals"
    arrived = one(partial, "li")
    assert arrived.id == "wall-INC-1"
    assert arrived.attributes["data-group"] == "wall-" + ids.encode("Severity", major.id)
    assert text(arrived, ".name") == "Fresh <trouble>" and arrived.css("trouble") == []
    removed = one(parse(gone), "hx-partial li")
    assert removed.id == "wall-INC-1" and "data-remove" in removed.attributes


async def test_the_live_wall_needs_a_session(served):
    async with httpx2.AsyncClient(base_url=served) as http:
        answer = await http.get("/live/wall-screen")
    assert answer.status_code == 401

"""The dashboard at ``/``: what each ongoing incident shows, the order, counts, filters, TV mode,
privacy, escaping, fragments, and the live feed that keeps it current."""

from __future__ import annotations

import httpx2

from app.models import CustomField, IncidentType, Severity, Status, StatusCategory
from app.services import catalog, declarations, fields, incidents, roles
from schema import ids
from tests.pages.conftest import Feed, feeds_started, signed_in
from tests.support.factories import named, status_in
from tests.support.html import element_ids, href, one, parse, text, text_of, texts


def rows(tree, css="#board") -> list[str]:
    """The references of the incident rows under ``css``, in page order."""
    return element_ids(tree, f"{css} li.incident-row", "incident-")


def row(tree, reference):
    """The row of one incident."""
    return one(tree, f'li[id="incident-{reference}"]')


def live_rows(message: str, target: str):
    """The rows a live message adds to the list ``target`` (each replaces its earlier copy)."""
    partial = one(parse(message), f'hx-partial[hx-target="{target}"]')
    assert partial.attributes["hx-swap"] == "beforeend"
    return partial.css("li")


async def test_each_ongoing_incident_shows_what_an_executive_needs(db, people, browsers, clock):
    major = await named(db, Severity, "Major")
    incident = await declarations.declare(
        db, actor=people.member, name="Checkout down", severity_id=major.id
    )
    async with db.read() as session:
        lead = next(r for r in await catalog.list_incident_roles(session) if r.kind.name == "LEAD")
    await roles.assign_role(
        db, actor=people.responder, incident_id=incident.id, role_id=lead.id,
        user_id=people.responder.id,
    )  # fmt: skip
    await incidents.share_update(
        db, actor=people.responder, incident_id=incident.id, message="Rolling back the deploy",
        next_update_in_minutes=15,
    )  # fmt: skip
    async with browsers(people.viewer) as browser:
        page = await browser.get("/")
    assert page.status_code == 200
    tree = parse(page.text)
    assert rows(tree) == ["INC-1"]
    shown = row(tree, "INC-1")
    assert text(shown, ".title .ref") == "INC-1" and text(shown, ".title a") == "Checkout down"
    assert one(shown, ".title a").attributes["href"] == "/incidents/INC-1"
    assert texts(shown, ".meta .badge") == ["Major", "Investigating"]
    assert "Lead: Rita Responder" in texts(shown, ".meta > span")
    assert text(shown, ".latest").startswith("Rolling back the deploy — Rita Responder,")
    due = one(shown, '.due time[data-show="due"]')
    assert text(shown, ".due").startswith("Next update due by")
    assert due.attributes["datetime"].startswith(clock().strftime("%Y-%m-%d"))


async def test_overdue_updates_are_shown_plainly(db, people, browsers, clock):
    late = await declarations.declare(db, actor=people.member, name="Slow emails")
    clock.advance(minutes=-30)  # this promise was made half an hour ago...
    await incidents.share_update(
        db, actor=people.member, incident_id=late.id, message="Looking",
        next_update_in_minutes=15,
    )  # fmt: skip
    clock.advance(minutes=30)
    fine = await declarations.declare(db, actor=people.member, name="Fresh one")
    await incidents.share_update(
        db, actor=people.member, incident_id=fine.id, message="Looking",
        next_update_in_minutes=15,
    )  # fmt: skip
    async with browsers(people.viewer) as browser:
        tree = parse((await browser.get("/")).text)
    late_due, fine_due = (one(row(tree, ref), ".due") for ref in ("INC-1", "INC-2"))
    assert late_due.attributes["class"] == "due overdue"
    assert text_of(late_due).startswith("Next update overdue since")
    assert fine_due.attributes["class"] == "due"
    assert text_of(fine_due).startswith("Next update due by")


async def test_order_sections_and_counts(db, people, browsers, clock):
    minor, major, critical = [await named(db, Severity, n) for n in ("Minor", "Major", "Critical")]
    for name, severity in [("A minor", minor), ("A critical", critical), ("A major", major)]:
        clock.advance(minutes=1)
        await declarations.declare(db, actor=people.member, name=name, severity_id=severity.id)
    clock.advance(minutes=1)
    await declarations.declare(db, actor=people.member, name="Newer major", severity_id=major.id)
    post = await declarations.declare(db, actor=people.member, name="Being written up")
    await incidents.change_status(
        db, actor=people.responder, incident_id=post.id,
        status_id=(await status_in(db, StatusCategory.POST_INCIDENT)).id,
    )  # fmt: skip
    closed = await declarations.declare(db, actor=people.member, name="All done")
    await incidents.change_status(
        db, actor=people.responder, incident_id=closed.id,
        status_id=(await status_in(db, StatusCategory.CLOSED)).id,
    )  # fmt: skip
    async with browsers(people.viewer) as browser:
        tree = parse((await browser.get("/")).text)
    # Most severe first, then newest; post-incident after all active ones; closed not at all.
    assert rows(tree) == ["INC-2", "INC-4", "INC-3", "INC-1", "INC-5"]
    counts = {text(li, ".badge"): int(text(li, ".number")) for li in tree.css("#board .counts li")}
    assert counts == {"Critical": 1, "Major": 2, "Minor": 2}


async def test_filters_by_type_severity_and_custom_field(db, people, browsers):
    security = await named(db, IncidentType, "Security")
    critical = await named(db, Severity, "Critical")
    teams = await named(db, CustomField, "Affected teams")
    async with db.read() as session:
        payments = next(
            o
            for f in await catalog.list_custom_fields(session)
            if f.id == teams.id
            for o in f.options
        )
    await declarations.declare(db, actor=people.member, name="Plain")
    await declarations.declare(db, actor=people.member, name="Bad", severity_id=critical.id)
    await declarations.declare(
        db, actor=people.member, name="Leak", type_id=security.id, private=False
    )
    tagged = await declarations.declare(db, actor=people.member, name="Tagged")
    await fields.set_custom_field_value(
        db, actor=people.member, incident_id=tagged.id, field_id=teams.id, value=[payments.id]
    )
    async with browsers(people.viewer) as browser:
        by_type = await browser.get("/", params={"type": ids.encode("IncidentType", security.id)})
        by_severity = await browser.get(
            "/", params={"severity": ids.encode("Severity", critical.id)}
        )
        by_team = await browser.get(
            "/", params={"option": ids.encode("CustomFieldOption", payments.id)}
        )
        unknown = await browser.get("/", params={"type": "nonsense"})
    assert rows(parse(by_type.text)) == ["INC-3"]
    assert rows(parse(by_severity.text)) == ["INC-2"]
    assert rows(parse(by_team.text)) == ["INC-4"]
    assert href(parse(by_team.text), "Clear filters") == "/"
    assert texts(parse(by_team.text), "form.filters option[selected]") == [payments.value]
    assert unknown.status_code == 400


async def test_htmx_gets_the_board_and_a_plain_get_the_page(db, people, browsers):
    await declarations.declare(db, actor=people.member, name="Something")
    async with browsers(people.viewer) as browser:
        full = await browser.get("/")
        board = await browser.get("/", headers={"HX-Request": "true"})
    assert full.text.startswith("<!doctype html>")
    assert board.text.lstrip().startswith('<div id="board"')
    assert "<html" not in board.text
    for response in (full, board):
        assert "HX-Request" in response.headers["vary"]
        assert rows(parse(response.text)) == ["INC-1"]


async def test_tv_mode_is_the_wall_screen(db, people, browsers):
    async with browsers(people.viewer) as browser:
        page = await browser.get("/", params={"tv": "1"})
    assert (
        one(parse(page.text), "body").attributes["class"] == "wall"
    )  # tests/pages/test_wall_screen.py


async def test_private_incidents_are_not_on_outsiders_dashboards(db, people, browsers):
    security = await named(db, IncidentType, "Security")
    await declarations.declare(db, actor=people.member, name="Laptop stolen", type_id=security.id)
    await declarations.declare(db, actor=people.member, name="Public one")
    async with browsers(people.admin) as outsider:
        theirs = (await outsider.get("/")).text
    async with browsers(people.member) as insider:
        mine = (await insider.get("/")).text
    assert "Laptop stolen" not in theirs
    assert rows(parse(theirs)) == ["INC-2"]
    hidden = row(parse(mine), "INC-1")
    assert (
        text(hidden, ".title a") == "Laptop stolen" and text(hidden, ".badge.private") == "Private"
    )


async def test_user_text_is_escaped(db, people, browsers):
    incident = await declarations.declare(
        db, actor=people.member, name='<script>alert(1)</script><b hx-get="/x">bold</b>'
    )
    await incidents.share_update(
        db, actor=people.member, incident_id=incident.id, message='<img src=x onerror="alert(2)">'
    )
    async with browsers(people.viewer) as browser:
        page = (await browser.get("/")).text
    assert "<script>alert(1)" not in page
    assert 'hx-get="/x"' not in page
    assert "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    shown = row(parse(page), "INC-1")  # as text, where people read it
    assert shown.css("script, img, b") == []
    assert text(shown, ".title a") == '<script>alert(1)</script><b hx-get="/x">bold</b>'
    assert text(shown, ".latest").startswith('<img src=x onerror="alert(2)"> —')


async def test_the_dashboard_stays_current_live(served, served_app, db, people):
    security = await named(db, IncidentType, "Security")
    closed = await status_in(db, StatusCategory.CLOSED)
    async with (
        signed_in(served, people.viewer) as http,
        http.stream("GET", "/live/dashboard") as response,
    ):
        assert response.status_code == 200
        stream = Feed(response)
        await feeds_started(served_app)
        # Each row shows the incident as it is when the event is delivered: one at a time.
        declared = await declarations.declare(db, actor=people.member, name="Fresh <trouble>")
        new = await stream.next()
        await declarations.declare(db, actor=people.member, name="Hush", type_id=security.id)
        await incidents.share_update(
            db, actor=people.member, incident_id=declared.id, message="On it",
            next_update_in_minutes=30,
        )  # fmt: skip
        updated = await stream.next()
        await incidents.change_status(
            db, actor=people.responder, incident_id=declared.id, status_id=closed.id
        )
        gone = await stream.next()
    # A new incident arrives as its row, for the active list, to be announced.
    [arrived] = live_rows(new, "#ongoing-active")
    assert arrived.id == "incident-INC-1"
    assert arrived.attributes["class"] == "incident-row fresh"
    assert text(arrived, ".title a") == "Fresh <trouble>" and arrived.css("trouble") == []
    assert arrived.attributes["data-announce"].startswith(
        "INC-1 Fresh <trouble>: Incident declared"
    )
    # The private incident never reached the outsider; the update did, with its promise.
    assert "Hush" not in new + updated + gone
    [changed] = live_rows(updated, "#ongoing-active")
    assert text(changed, ".latest").startswith("On it —")
    assert one(changed, '.due time[data-show="due"]').attributes["datetime"]
    # Closed: the row is removed.
    [removed] = live_rows(gone, "#ongoing-active")
    assert (removed.id, removed.attributes["class"]) == ("incident-INC-1", "fresh")
    assert {"data-remove", "hidden"} <= set(removed.attributes) and text_of(removed) == ""


async def test_a_filtered_live_dashboard_drops_what_does_not_match(served, served_app, db, people):
    critical = await named(db, Severity, "Critical")
    wanted = ids.encode("Severity", critical.id)
    async with (
        signed_in(served, people.viewer) as http,
        http.stream("GET", "/live/dashboard", params={"severity": wanted}) as response,
    ):
        stream = Feed(response)
        await feeds_started(served_app)
        await declarations.declare(db, actor=people.member, name="Minor thing")  # never sent
        fire = await declarations.declare(
            db, actor=people.member, name="Fire", severity_id=critical.id
        )
        shown = await stream.next()
        await incidents.change_severity(
            db, actor=people.responder, incident_id=fire.id,
            severity_id=(await named(db, Severity, "Minor")).id,
        )  # fmt: skip
        gone = await stream.next()
    [fire_row] = live_rows(shown, "#ongoing-active")
    assert text(fire_row, ".title a") == "Fire" and "data-remove" not in fire_row.attributes
    assert "Minor thing" not in shown
    [removed] = live_rows(gone, "#ongoing-active")
    assert removed.id == "incident-INC-2" and "data-remove" in removed.attributes


async def test_the_live_dashboard_needs_a_session(served):
    async with httpx2.AsyncClient(base_url=served) as http:
        response = await http.get("/live/dashboard")
    assert response.status_code == 401


async def test_the_dashboard_status_changes_move_rows_between_lists(db, people, browsers):
    incident = await declarations.declare(db, actor=people.member, name="Moving")
    post = await named(db, Status, "Documenting")
    await incidents.change_status(
        db, actor=people.responder, incident_id=incident.id, status_id=post.id
    )
    async with browsers(people.viewer) as browser:
        tree = parse((await browser.get("/")).text)
    assert rows(tree, "#ongoing-active") == []
    assert rows(tree, "#ongoing-post") == ["INC-1"]
    assert text(row(tree, "INC-1"), ".title a") == "Moving"

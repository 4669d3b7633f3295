"""The incident page, /incidents/INC-<n>: what it shows, its forms (with and without htmx), the
conflict answer, privacy (one not-found answer, byte for byte), escaping, and its live feed."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.models import Action, ActionKind, ActionStatus, Incident, StatusCategory
from app.services import actions, catalog, declarations, followers, incidents, members, roles
from app.services.changes import standing
from schema import ids
from tests.pages.conftest import Feed, feeds_started, signed_in
from tests.support.html import (
    facts,
    field_error,
    one,
    options,
    parse,
    partial,
    text,
    text_of,
    texts,
    value,
)

HOSTILE = '<script>alert(1)</script><a hx-get="/x">'
CONFLICT = "Someone changed this incident while you were editing"


async def _status(db, name):
    async with db.read() as session:
        return next(s for s in await catalog.list_statuses(session) if s.name == name)


async def _severity(db, name):
    async with db.read() as session:
        return next(s for s in await catalog.list_severities(session) if s.name == name)


async def _role(db, kind):
    async with db.read() as session:
        return next(r for r in await catalog.list_incident_roles(session) if r.kind.name == kind)


async def _type(db, name):
    async with db.read() as session:
        return next(t for t in await catalog.list_incident_types(session) if t.name == name)


async def _incident(db, incident_id):
    async with db.read() as session:
        return await session.get_one(Incident, incident_id)


async def _private(db, people, name="Lost laptop"):
    security = await _type(db, "Security")
    return await declarations.declare(db, actor=people.member, name=name, type_id=security.id)


def _version(page: str, form: str = "#share-form") -> str:
    """The version a form of the page stands on."""
    return value(one(parse(page), form), "version")


def _status_shown(tree) -> str:
    """The status badge of the incident's head, as read out ("Status: Fixing")."""
    return text(tree, '#incident-head .badges .badge[class*="status-"]')


def _entries(tree) -> list[str]:
    """What each timeline entry says, newest first."""
    return texts(tree, "#timeline-list .entry .what")


def _holders(tree, css="#roles") -> dict[str, str]:
    """Who holds each role in the roles list under ``css``."""
    return {
        text(role, "dt"): text(role, ".holder")
        for role in tree.css(f"{css} dl.roles .role".strip())
    }


def _alert(tree, css) -> str:
    """The text of the problem summary (role=alert) inside ``css``."""
    return text(tree, f'{css} [role="alert"]')


# What it shows ------------------------------------------------------------------------------


async def test_the_page_shows_the_incident(db, people, browsers):
    incident = await declarations.declare(
        db, actor=people.member, name="Checkout is down", summary="Card payments fail.",
        severity_id=(await _severity(db, "Major")).id, next_update_in_minutes=30,
    )  # fmt: skip
    lead = await _role(db, "LEAD")
    await roles.assign_role(
        db, actor=people.responder, incident_id=incident.id, role_id=lead.id,
        user_id=people.other_responder.id,
    )  # fmt: skip
    due = (await _incident(db, incident.id)).next_update_due_at
    async with browsers(people.viewer) as browser:
        answer = await browser.get("/incidents/INC-1")
    assert answer.status_code == 200
    tree = parse(answer.text)
    assert text(tree, "title") == "INC-1 Checkout is down · Muster"
    assert text(tree, "h1#incident-name") == "Checkout is down"
    assert text(tree, "#incident-head .eyebrow") == "INC-1 · Default"
    assert texts(tree, "#incident-head .badges .badge") == [
        "Status: Investigating",
        "Severity: Major",
    ]
    assert facts(tree, "#incident-head dl.facts")["Lead"] == "Ravi Responder"
    promise = one(tree, '#incident-head time[data-show="due"]')
    assert promise.attributes["datetime"] == due.isoformat()
    assert text_of(promise).startswith("due by")
    assert text(tree, "#incident-head .summary") == "Card payments fail."
    assert _entries(tree)[-1].startswith("Incident declared")  # the timeline, oldest last
    # A viewer watches: no forms to change the incident, but they may follow it.
    assert tree.css("form#share-form, #take-lead, #note-form, #details-form") == []
    assert text(tree, "#follow-button") == "Follow"
    assert answer.headers["cache-control"] == "private, no-store"


async def test_overdue_promise_and_practice_badge(db, people, browsers, clock):
    game_day = await _type(db, "Game day")
    clock.advance(minutes=-20)  # promised 20 minutes ago, for 15 minutes later
    await declarations.declare(
        db, actor=people.member, name="Game day", type_id=game_day.id, next_update_in_minutes=15
    )
    async with browsers(people.member) as browser:
        tree = parse((await browser.get("/incidents/inc-1")).text)  # any case
    assert text(tree, "#incident-head .badge.practice") == "Practice"
    assert text(tree, "#incident-head .due.overdue time").startswith("overdue since")


async def test_htmx_gets_the_fragment_and_a_plain_get_the_whole_page(db, people, browsers):
    await declarations.declare(db, actor=people.member, name="Fragment")
    async with browsers(people.member) as browser:
        full = await browser.get("/incidents/INC-1")
        fragment = await browser.get("/incidents/INC-1", headers={"HX-Request": "true"})
    assert full.text.startswith("<!doctype html>") and '<div id="room"' in full.text
    assert fragment.status_code == 200
    assert "<html" not in fragment.text and "<nav" not in fragment.text
    assert fragment.text.lstrip().startswith('<div id="room"')
    assert {v.strip() for v in fragment.headers["vary"].split(",")} >= {"HX-Request", "Cookie"}


async def test_older_timeline_events_page_back(db, people, browsers):
    incident = await declarations.declare(db, actor=people.member, name="Chatty")
    for n in range(55):
        await incidents.add_note(db, actor=people.member, incident_id=incident.id, message=f"n{n}")
    async with browsers(people.member) as browser:
        tree = parse((await browser.get("/incidents/INC-1")).text)
        first = _entries(tree)
        assert first.index("Note: n54") < first.index("Note: n10")  # newest first
        assert "Note: n4" not in first and not first[-1].startswith("Incident declared")
        [older] = [a.attributes["href"] for a in tree.css("#timeline-older a")]
        older, anchor = older.split("#")
        assert older.startswith("/incidents/INC-1?after=") and anchor == "timeline"
        more = await browser.get(older, headers={"HX-Request": "true"})
        plain = await browser.get(older)
        broken = await browser.get("/incidents/INC-1?after=nonsense")
    assert "<html" not in more.text
    rest = texts(parse(more.text), ".entry .what")
    assert "Note: n4" in rest and rest[-1].startswith("Incident declared")
    assert "Note: n54" not in rest and parse(more.text).css("#timeline-older") == []
    plain_tree = parse(plain.text)
    assert "Back to the newest events" in texts(plain_tree, "#timeline a")
    assert "Note: n0" in _entries(plain_tree)
    assert broken.status_code == 400


# Roles ---------------------------------------------------------------------------------------


async def test_take_lead(db, people, browsers):
    incident = await declarations.declare(db, actor=people.member, name="Leaderless")
    lead = await _role(db, "LEAD")
    async with browsers(people.responder) as browser:
        tree = parse((await browser.get("/incidents/INC-1")).text)
        assert text(tree, "#take-lead") == "Take lead"
        answer = await browser.post(
            "/incidents/INC-1/roles",
            {"role": ids.encode("IncidentRole", lead.id), "user": ids.encode("User", people.responder.id)},
        )  # fmt: skip
        assert answer.status_code == 303
        assert answer.headers["location"] == "/incidents/INC-1#roles-card"
        tree = parse((await browser.get("/incidents/INC-1")).text)
    assert facts(tree, "#incident-head dl.facts")["Lead"] == "Rita Responder"
    assert _holders(tree)["Incident lead"] == "Rita Responder (you)"
    assert tree.css("#take-lead") == []  # already theirs
    assert "Rita Responder is now Incident lead." in _entries(tree)
    async with db.read() as session:
        assert (await standing(session, people.responder, incident.id)).party


async def test_take_lead_with_htmx_answers_the_roles_and_the_rest(db, people, browsers):
    await declarations.declare(db, actor=people.member, name="Leaderless")
    lead = await _role(db, "LEAD")
    async with browsers(people.responder) as browser:
        answer = await browser.post(
            "/incidents/INC-1/roles",
            {"role": ids.encode("IncidentRole", lead.id), "user": ids.encode("User", people.responder.id)},
            htmx=True,
        )  # fmt: skip
    assert answer.status_code == 200
    assert "<html" not in answer.text
    tree = parse(answer.text)
    assert _holders(tree, "body >")["Incident lead"] == "Rita Responder (you)"  # the roles block
    head = partial(tree, "#incident-head")
    assert head.attributes["hx-swap"] == "innerMorph"
    assert facts(head, "dl.facts")["Lead"] == "Rita Responder"
    timeline = partial(tree, "#timeline-list")
    assert timeline.attributes["hx-swap"] == "innerMorph"
    assert "Rita Responder is now Incident lead." in texts(timeline, ".entry .what")
    # Their update form now stands on the version their own change made.
    share = partial(tree, "#share-form")
    assert share.attributes["hx-swap"] == "outerMorph"
    assert value(share, "version") == "2"


async def test_a_member_without_a_role_cannot_take_the_lead(db, people, browsers):
    await declarations.declare(db, actor=people.other_member, name="Not mine")
    lead = await _role(db, "LEAD")
    async with browsers(people.member) as browser:
        tree = parse((await browser.get("/incidents/INC-1")).text)
        assert tree.css("#take-lead") == []
        answer = await browser.post(
            "/incidents/INC-1/roles",
            {"role": ids.encode("IncidentRole", lead.id), "user": ids.encode("User", people.member.id)},
        )  # fmt: skip
    assert answer.status_code == 422
    assert (
        _alert(parse(answer.text), "#roles") == "You are not allowed to do that on this incident."
    )


async def test_assign_a_role_with_the_people_picker(db, people, browsers):
    await declarations.declare(db, actor=people.member, name="Needs comms")
    comms = await _role(db, "COMMUNICATIONS")
    async with browsers(people.responder) as browser:
        found = await browser.get(
            "/incidents/INC-1?picker=assign&people=ravi", headers={"HX-Request": "true"}
        )
        assert found.text.lstrip().startswith('<div class="field people" id="assign-person">')
        offered = list(options(parse(found.text), "user").values())
        assert "Ravi Responder (ravi@example.com)" in offered
        assert not any(o.startswith("Mo Member") for o in offered)
        plain = await browser.get("/incidents/INC-1?picker=assign&people=ravi")
        assert plain.text.startswith("<!doctype html>")
        missing = await browser.post(
            "/incidents/INC-1/roles", {"from": "picker", "role": ids.encode("IncidentRole", comms.id)}
        )  # fmt: skip
        assert missing.status_code == 422
        assert field_error(one(parse(missing.text), "#assign-form"), "user") == "Choose a person."
        answer = await browser.post(
            "/incidents/INC-1/roles",
            {"from": "picker", "role": ids.encode("IncidentRole", comms.id),
             "user": ids.encode("User", people.other_responder.id)},
            htmx=True,
        )  # fmt: skip
    assert answer.status_code == 200
    assert answer.text.lstrip().startswith('<form id="assign-form"')
    assert _holders(partial(parse(answer.text), "#roles"), "")["Communications lead"] == (
        "Ravi Responder"
    )


# Updates and conflicts ---------------------------------------------------------------------


async def test_share_an_update_promising_the_next_in_15_minutes(db, people, browsers, clock):
    incident = await declarations.declare(db, actor=people.member, name="Slow search")
    fixing = await _status(db, "Fixing")
    async with browsers(people.responder) as browser:
        page = (await browser.get("/incidents/INC-1")).text
        answer = await browser.post(
            "/incidents/INC-1/updates",
            {"message": "Rolling back the index.", "status": ids.encode("Status", fixing.id),
             "severity": "", "next": "15", "version": _version(page)},
        )  # fmt: skip
        assert answer.status_code == 303
        tree = parse((await browser.get("/incidents/INC-1")).text)
    row = await _incident(db, incident.id)
    expected = clock() + timedelta(minutes=15)
    assert abs(row.next_update_due_at - expected) < timedelta(seconds=30)
    assert row.status_id == fixing.id
    promise = one(tree, '#incident-head time[data-show="due"]')
    assert promise.attributes["datetime"] == row.next_update_due_at.isoformat()
    assert text(tree, "#incident-head .latest-text") == "Rolling back the index."
    # The head shows the new status (the form names every status, whatever the incident's).
    assert _status_shown(tree) == "Status: Fixing"


async def test_an_update_without_a_promise_clears_it(db, people, browsers):
    incident = await declarations.declare(
        db, actor=people.member, name="Promised", next_update_in_minutes=30
    )
    async with browsers(people.member) as browser:  # the reporter may share updates
        answer = await browser.post(
            "/incidents/INC-1/updates", {"message": "All quiet.", "next": ""}, htmx=True
        )
    assert answer.status_code == 200
    assert answer.text.lstrip().startswith('<form id="share-form"')
    tree = parse(answer.text)
    assert value(one(tree, "body > form#share-form"), "message") == ""  # a fresh, empty form
    assert text(partial(tree, "#incident-head"), ".due") == "Next update No update promised"
    assert (await _incident(db, incident.id)).next_update_due_at is None


async def test_an_empty_update_is_refused_and_nothing_changes(db, people, browsers):
    incident = await declarations.declare(db, actor=people.member, name="Quiet")
    fixing = await _status(db, "Fixing")
    async with browsers(people.responder) as browser:
        answer = await browser.post(
            "/incidents/INC-1/updates",
            {"message": "  ", "status": ids.encode("Status", fixing.id), "next": "30"},
        )  # fmt: skip
    assert answer.status_code == 422
    assert field_error(one(parse(answer.text), "#share-form"), "message").startswith(
        "Write the update"
    )
    assert (await _incident(db, incident.id)).version == 1


async def test_an_invalid_move_is_explained(db, people, browsers):
    await declarations.declare(db, actor=people.member, name="Closed soon")
    closed = await _status(db, "Closed")
    fixing = await _status(db, "Fixing")
    incident = await _incident(db, 1)
    await incidents.change_status(
        db, actor=people.responder, incident_id=incident.id, status_id=closed.id
    )
    canceled = await _status(db, "Canceled")
    async with browsers(people.responder) as browser:
        answer = await browser.post(
            "/incidents/INC-1/updates",
            {"message": "Cancel it", "status": ids.encode("Status", canceled.id), "next": ""},
        )  # fmt: skip
        page = (await browser.get("/incidents/INC-1")).text
    assert answer.status_code == 422
    form = one(parse(answer.text), "#share-form")
    assert "cannot move from Closed to Canceled" in text(form, '[role="alert"]')
    assert value(form, "message") == "Cancel it"
    # The form offers only the moves a closed incident can make.
    offered = options(one(parse(page), "#share-form"), "status")
    assert ids.encode("Status", fixing.id) in offered
    assert ids.encode("Status", canceled.id) not in offered


async def test_a_stale_version_is_a_conflict_that_overwrites_nothing(db, people, browsers):
    incident = await declarations.declare(db, actor=people.member, name="Contested")
    fixing, monitoring = await _status(db, "Fixing"), await _status(db, "Monitoring")
    critical = await _severity(db, "Critical")
    async with browsers(people.responder) as browser:
        page = (await browser.get("/incidents/INC-1")).text
        stale = _version(page)
        # Meanwhile someone else moves it on.
        await incidents.change_status(
            db, actor=people.other_responder, incident_id=incident.id, status_id=monitoring.id
        )
        form = {"message": "We are fixing it", "status": ids.encode("Status", fixing.id),
                "severity": ids.encode("Severity", critical.id), "next": "60", "version": stale}  # fmt: skip
        answer = await browser.post("/incidents/INC-1/updates", form)
        htmx = await browser.post("/incidents/INC-1/updates", form, htmx=True)
    assert answer.status_code == 422
    tree = parse(answer.text)
    problem = _alert(tree, "#share-form")
    assert CONFLICT in problem
    assert "the page now shows their change; check it and submit again" in problem
    share = one(tree, "#share-form")
    assert value(share, "message") == "We are fixing it"  # what they typed is kept
    assert value(share, "status") == ids.encode("Status", fixing.id)
    assert value(share, "next") == "60"
    # The head shows the other change (the form names Monitoring whatever the status).
    assert _status_shown(tree) == "Status: Monitoring"
    assert value(share, "version") == "2"  # submitting again goes through
    row = await _incident(db, incident.id)
    assert (row.status_id, row.severity_id, row.version) == (monitoring.id, incident.severity_id, 2)
    assert row.next_update_due_at is None
    assert htmx.status_code == 422
    assert htmx.text.lstrip().startswith('<form id="share-form"')
    redrawn = parse(htmx.text)
    assert CONFLICT in _alert(redrawn, "body > form#share-form")
    head = partial(redrawn, "#incident-head")
    assert head.attributes["hx-swap"] == "innerMorph"
    assert text(head, '.badges .badge[class*="status-"]') == "Status: Monitoring"


async def test_a_message_only_update_does_not_need_the_latest_version(db, people, browsers):
    incident = await declarations.declare(db, actor=people.member, name="Busy")
    async with browsers(people.responder) as browser:
        page = (await browser.get("/incidents/INC-1")).text
        await incidents.add_note(db, actor=people.member, incident_id=incident.id, message="hi")
        answer = await browser.post(
            "/incidents/INC-1/updates",
            {"message": "Still on it", "next": "30", "version": _version(page)},
        )  # fmt: skip
    assert answer.status_code == 303


async def test_details_send_their_version(db, people, browsers):
    incident = await declarations.declare(db, actor=people.member, name="Old name")
    async with browsers(people.responder) as browser:
        page = (await browser.get("/incidents/INC-1")).text
        version = _version(page, "#details-form")
        await incidents.change_details(
            db, actor=people.other_responder, incident_id=incident.id, summary="Theirs"
        )
        answer = await browser.post(
            "/incidents/INC-1/details", {"name": "Mine", "summary": "Mine", "version": version}
        )
        assert answer.status_code == 422
        form = one(parse(answer.text), "#details-form")
        assert CONFLICT in text(form, '[role="alert"]')
        assert value(form, "name") == "Mine" and value(form, "summary") == "Mine"
        assert (await _incident(db, incident.id)).name == "Old name"
        page = (await browser.get("/incidents/INC-1")).text
        version = _version(page, "#details-form")
        again = await browser.post(
            "/incidents/INC-1/details", {"name": "Mine", "summary": "Mine", "version": version}
        )
    assert again.status_code == 303
    assert (await _incident(db, incident.id)).name == "Mine"


# Triage ----------------------------------------------------------------------------------


async def test_responders_accept_or_decline_from_triage(db, people, browsers):
    await declarations.declare(db, actor=people.member, name="Maybe", triage=True)
    await declarations.declare(db, actor=people.member, name="Probably not", triage=True)
    async with browsers(people.member) as browser:
        tree = parse((await browser.get("/incidents/INC-1")).text)
        assert text(tree, "#incident-head .triage strong") == "In triage."
        assert tree.css("#incident-head .triage form") == []
    async with browsers(people.responder) as browser:
        tree = parse((await browser.get("/incidents/INC-1")).text)
        assert texts(tree, "#incident-head .triage button") == ["Accept", "Decline"]
        accepted = await browser.post("/incidents/INC-1/triage", {"decision": "accept"})
        declined = await browser.post(
            "/incidents/INC-2/triage", {"decision": "decline", "reason": "A test"}, htmx=True
        )
    assert accepted.status_code == 303
    active = (await _status(db, "Investigating")).id
    assert (await _incident(db, 1)).status_id == active
    assert declined.status_code == 200
    head = parse(declined.text)  # the head's new content
    assert text(head, '.badges .badge[class*="status-"]') == "Status: Declined"
    assert head.css(".triage") == []
    row = await _incident(db, 2)
    async with db.read() as session:
        assert (await catalog.first_status(session, StatusCategory.DECLINED)).id == row.status_id


# Actions and follow-ups --------------------------------------------------------------------


async def test_add_actions_and_follow_ups_and_tick_them_off(db, people, browsers):
    incident = await declarations.declare(db, actor=people.member, name="Work to do")
    async with browsers(people.responder) as browser:
        added = await browser.post(
            "/incidents/INC-1/actions",
            {"title": "Restart the workers", "owner": ids.encode("User", people.member.id),
             "due": "2030-01-02", "kind": "action"},
        )  # fmt: skip
        assert added.status_code == 303
        assert added.headers["location"] == "/incidents/INC-1#work-form"
        later = await browser.post(
            "/incidents/INC-1/actions", {"title": "Write it up", "kind": "follow-up"}, htmx=True
        )
        assert later.status_code == 200 and later.text.lstrip().startswith('<form id="work-form"')
        work = partial(parse(later.text), "#work")
        assert texts(work, '[aria-labelledby="follow-ups-heading"] .title') == ["Write it up"]
        bad = await browser.post(
            "/incidents/INC-1/actions", {"title": "", "due": "tomorrow", "kind": "action"}
        )
        assert bad.status_code == 422
        form = one(parse(bad.text), "#work-form")
        assert field_error(form, "title") == "Say what needs doing."
        assert field_error(form, "due").startswith("Enter the due date")
        tree = parse((await browser.get("/incidents/INC-1")).text)
        [item] = tree.css('#work [aria-labelledby="actions-heading"] .work-item')
        assert text(item, ".title") == "Restart the workers"
        assert texts(item, ".meta > span") == ["Mo Member", "Due 2 Jan 2030"]
        async with db.read() as session:
            work = {a.title: a for a in await session.scalars(select(Action))}
        first = ids.encode("Action", work["Restart the workers"].id)
        done = await browser.post(
            f"/incidents/INC-1/actions/{first}", {"status": "DONE"}, htmx=True
        )
        assert done.status_code == 200
        ticked = one(parse(done.text), f'body > ul [id="work-{first}"] button.tick')  # #work's
        assert ticked.attributes["aria-pressed"] == "true"
        assert (await _work(db, work["Restart the workers"].id)).status is ActionStatus.DONE
        follow_up = ids.encode("Action", work["Write it up"].id)
        ticked = await browser.post(f"/incidents/INC-1/actions/{follow_up}", {"status": "DONE"})
        assert ticked.status_code == 303
        assert (await _work(db, work["Write it up"].id)).status is ActionStatus.DONE
        reopened = await browser.post(f"/incidents/INC-1/actions/{first}", {"status": "OPEN"})
        assert reopened.status_code == 303
    assert (await _work(db, work["Restart the workers"].id)).status is ActionStatus.OPEN
    assert work["Write it up"].kind is ActionKind.FOLLOW_UP
    assert incident.id == work["Restart the workers"].incident_id


async def _work(db, action_id):
    async with db.read() as session:
        return await session.get_one(Action, action_id)


async def test_owners_tick_off_their_own_work(db, people, browsers):
    incident = await declarations.declare(db, actor=people.other_member, name="Owned work")
    action = await actions.add_action(
        db, actor=people.other_member, incident_id=incident.id, title="Mine",
        owner_id=people.member.id,
    )  # fmt: skip
    other = await actions.add_action(
        db, actor=people.other_member, incident_id=incident.id, title="Not mine"
    )
    async with browsers(people.member) as browser:
        tree = parse((await browser.get("/incidents/INC-1")).text)
        assert texts(tree, "#work button.tick") == ["Done: Mine"]
        answer = await browser.post(
            f"/incidents/INC-1/actions/{ids.encode('Action', action.id)}", {"status": "DONE"}
        )
    assert answer.status_code == 303
    assert (await _work(db, action.id)).status is ActionStatus.DONE
    assert (await _work(db, other.id)).status is ActionStatus.OPEN


# Following, notes, fields --------------------------------------------------------------------


async def test_follow_and_unfollow(db, people, browsers):
    incident = await declarations.declare(db, actor=people.member, name="Interesting")
    await followers.follow(db, actor=people.other_member, incident_id=incident.id)
    async with browsers(people.viewer) as browser:
        tree = parse((await browser.get("/incidents/INC-1")).text)
        assert text(tree, "#incident-head .follow > span") == "1 follower"
        answer = await browser.post("/incidents/INC-1/follow", {"follow": "1"})
        assert answer.status_code == 303
        tree = parse((await browser.get("/incidents/INC-1")).text)
        assert text(tree, "#incident-head .follow > span") == "2 followers, you included"
        assert text(tree, "#follow-button") == "Unfollow"
        answer = await browser.post("/incidents/INC-1/follow", {"follow": "0"}, htmx=True)
    assert answer.status_code == 200
    head = parse(answer.text)  # the head's new content
    assert text(head, ".follow > span") == "1 follower" and text(head, "#follow-button") == "Follow"
    assert "<html" not in answer.text


async def test_add_a_note(db, people, browsers):
    await declarations.declare(db, actor=people.other_member, name="Noted")
    async with browsers(people.member) as browser:
        answer = await browser.post(
            "/incidents/INC-1/notes", {"message": "Saw this too"}, htmx=True
        )
        empty = await browser.post("/incidents/INC-1/notes", {"message": ""})
    assert answer.status_code == 200
    assert answer.text.lstrip().startswith('<form id="note-form"')
    assert texts(partial(parse(answer.text), "#timeline-list"), ".entry .what")[0] == (
        "Note: Saw this too"
    )
    assert empty.status_code == 422
    assert field_error(one(parse(empty.text), "#note-form"), "message") == "Write the note."


async def test_a_plain_form_post_is_one_mutation_and_the_page_is_drawn_by_the_redirect(
    db, people, browsers, monkeypatch
):
    from views.incident import room, submit

    await declarations.declare(db, actor=people.other_member, name="Noted")
    ran: list[str] = []
    real = submit.run

    async def counted(request, name, *args, **kwargs):
        ran.append(name)
        return await real(request, name, *args, **kwargs)

    for module in (room, submit):  # the page's read and the forms' mutations
        monkeypatch.setattr(module, "run", counted)
    async with browsers(people.member) as browser:
        answer = await browser.post("/incidents/INC-1/notes", {"message": "Once"})
    assert answer.status_code == 303
    assert answer.headers["location"] == "/incidents/INC-1#note-form"
    assert ran == ["IncidentAddNote"]


async def test_custom_fields_show_and_change(db, people, browsers):
    default = await _type(db, "Default")
    field = next(f for f in default.fields if f.kind.name == "MULTI_SELECT")
    async with db.read() as session:
        field = next(f for f in await catalog.list_custom_fields(session) if f.id == field.id)
    first, second = field.options[0], field.options[1]
    incident = await declarations.declare(db, actor=people.member, name="Fields")
    url = f"/incidents/INC-1/fields/{ids.encode('CustomField', field.id)}"
    async with browsers(people.responder) as browser:
        tree = parse((await browser.get("/incidents/INC-1")).text)
        assert text(tree, "#fields-form summary") == "Edit the details"
        assert field.name in texts(tree, "#fields-form legend")
        drawn = one(tree, f'#fields-form form[action="{url}"]')
        kind = {"kind": value(drawn, "kind")}  # the form says the kind of value it sends
        answer = await browser.post(
            url,
            {**kind, "option": [ids.encode("CustomFieldOption", o.id) for o in (first, second)]},
        )  # fmt: skip
        assert answer.status_code == 303
        tree = parse((await browser.get("/incidents/INC-1")).text)
        assert facts(tree, "#fields dl.fields") == {field.name: f"{first.value}, {second.value}"}
        same = await browser.post(
            url,
            {**kind, "option": [ids.encode("CustomFieldOption", o.id) for o in (first, second)]},
            htmx=True,
        )  # fmt: skip
        assert same.status_code == 422
        assert "already has that value" in " ".join(texts(parse(same.text), '[role="alert"]'))
        cleared = await browser.post(url, kind)
        assert cleared.status_code == 303
    assert (await _incident(db, incident.id)).version == 3


# Private incidents and break-glass ---------------------------------------------------------


async def test_private_incident_shows_its_members_and_members_invite(db, people, browsers):
    await _private(db, people)
    async with browsers(people.member) as browser:
        tree = parse((await browser.get("/incidents/INC-1")).text)
        assert text(tree, "#incident-head .badge.private") == "Private"
        assert "Only its members can see this incident" in text(tree, ".private-note")
        assert texts(tree, "#members ul.members li > span") == ["Mo Member (you)"]
        assert text(tree, "#invite-form summary") == "Invite someone"
        invitees = list(options(one(tree, "#invite-form"), "user").values())
        assert any(i.startswith("Max Member") for i in invitees)
        assert not any(i.startswith("Mo Member") for i in invitees)
        answer = await browser.post(
            "/incidents/INC-1/members", {"user": ids.encode("User", people.other_member.id)}
        )
        assert answer.status_code == 303
        again = await browser.post(
            "/incidents/INC-1/members",
            {"user": ids.encode("User", people.other_member.id)}, htmx=True,
        )  # fmt: skip
        assert again.status_code == 422
        assert "Max Member is already a member." in _alert(parse(again.text), "body > form")
    async with browsers(people.other_member) as browser:
        tree = parse((await browser.get("/incidents/INC-1")).text)
    assert text(tree, "h1#incident-name") == "Lost laptop"
    assert "Max Member was let into this private incident." in _entries(tree)


async def test_removing_a_member(db, people, browsers):
    incident = await _private(db, people)
    await members.invite(
        db, actor=people.member, incident_id=incident.id, user_id=people.other_member.id
    )
    lead = await _role(db, "LEAD")
    await roles.assign_role(
        db, actor=people.member, incident_id=incident.id, role_id=lead.id,
        user_id=people.responder.id,
    )  # fmt: skip
    async with browsers(people.responder) as browser:
        answer = await browser.post(
            "/incidents/INC-1/members/remove",
            {"user": ids.encode("User", people.other_member.id)}, htmx=True,
        )  # fmt: skip
    assert answer.status_code == 200
    left = texts(parse(answer.text), "body > ul.members li > span")  # #members' new content
    assert left and not any(name.startswith("Max Member") for name in left)
    async with browsers(people.other_member) as browser:
        assert (await browser.get("/incidents/INC-1")).status_code == 404


async def test_break_glass_by_an_admin_is_on_the_timeline(db, people, browsers):
    incident = await _private(db, people)
    async with browsers(people.admin) as browser:
        hidden = await browser.get("/incidents/INC-1")
        missing = await browser.get("/incidents/INC-2")
        assert hidden.status_code == missing.status_code == 404
        assert text(parse(hidden.text), "#break-glass-heading") == "Break-glass access"
        assert hidden.text.replace("INC-1", "INC-X") == missing.text.replace("INC-2", "INC-X")
        refused = await browser.post("/incidents/INC-1/break-glass", {"reason": " "})
        assert refused.status_code == 422
        assert field_error(parse(refused.text), "reason").startswith("Give the reason")
        nothing = await browser.post("/incidents/INC-2/break-glass", {"reason": "Audit"})
        assert nothing.status_code == 404
        assert "No private incident has this reference" in _alert(parse(nothing.text), "form")
        entered = await browser.post(
            "/incidents/INC-1/break-glass", {"reason": "Legal hold <b>request</b>"}
        )
        assert entered.status_code == 303 and entered.headers["location"] == "/incidents/INC-1"
        tree = parse((await browser.get("/incidents/INC-1")).text)
        assert text(tree, "h1#incident-name") == "Lost laptop"
    async with browsers(people.member) as browser:
        tree = parse((await browser.get("/incidents/INC-1")).text)
    [entry] = [e for e in tree.css("#timeline-list .entry") if "Legal hold" in text(e, ".what")]
    assert "Legal hold <b>request</b>" in text(entry, ".what") and entry.css("b") == []
    assert text(entry, ".when").startswith("Ada Admin ·")
    async with db.read() as session:
        assert (await standing(session, people.admin, incident.id)).member


async def test_break_glass_by_reference_through_the_api(db, people, browsers):
    await _private(db, people)
    mutation = (
        "mutation($input: BreakGlassInput!) { breakGlass(input: $input) "
        "{ incident { reference } userErrors { field message code } } }"
    )
    async with browsers(people.admin) as browser:

        async def ask(input):
            answer = await browser.http.post(
                "/graphql", json={"query": mutation, "variables": {"input": input}},
                headers={"Origin": "http://127.0.0.1:8000", "X-CSRF-Token": browser.csrf},
            )  # fmt: skip
            return answer.json()["data"]["breakGlass"]

        missing = await ask({"reference": "INC-99", "reason": "Audit"})
        malformed = await ask({"reference": "nonsense", "reason": "Audit"})
        neither = await ask({"reason": "Audit"})
        entered = await ask({"reference": "inc-1", "reason": "Audit"})
    assert missing == malformed
    assert missing["userErrors"] == [
        {"field": "reference", "message": "No incident with that id.", "code": "NOT_FOUND"}
    ]
    assert neither["userErrors"][0]["code"] == "INVALID"
    assert entered == {"incident": {"reference": "INC-1"}, "userErrors": []}
    async with browsers(people.responder) as browser:  # not an admin: nothing exists
        hidden = await browser.http.post(
            "/graphql",
            json={"query": mutation, "variables": {"input": {"reference": "INC-1", "reason": "x"}}},
            headers={"Origin": "http://127.0.0.1:8000", "X-CSRF-Token": browser.csrf},
        )  # fmt: skip
        nowhere = await browser.http.post(
            "/graphql",
            json={"query": mutation, "variables": {"input": {"reference": "INC-9", "reason": "x"}}},
            headers={"Origin": "http://127.0.0.1:8000", "X-CSRF-Token": browser.csrf},
        )  # fmt: skip
    assert hidden.content == nowhere.content
    assert hidden.json()["data"]["breakGlass"]["userErrors"][0]["code"] == "NOT_FOUND"


async def test_only_admins_get_the_break_glass_form(db, people, browsers):
    await _private(db, people)
    async with browsers(people.responder) as browser:
        page = await browser.get("/incidents/INC-1")
        post = await browser.post("/incidents/INC-1/break-glass", {"reason": "curious"})
    assert page.status_code == post.status_code == 404
    assert "Break-glass" not in page.text and page.text == post.text


async def test_hidden_and_missing_incidents_answer_the_same_bytes(db, people, browsers):
    """An outsider cannot tell a private incident from one that was never declared."""
    incident = await _private(db, people)
    action = await actions.add_action(db, actor=people.member, incident_id=incident.id, title="x")
    async with db.read() as session:
        field_id = next(iter(await catalog.list_custom_fields(session)), None)
    field = ids.encode("CustomField", field_id.id if field_id else 1)
    work = ids.encode("Action", action.id)
    form = {"message": "m", "title": "t", "name": "n", "reason": "r", "decision": "accept",
            "follow": "1", "user": ids.encode("User", people.viewer.id), "version": "1",
            "role": ids.encode("IncidentRole", 1), "status": "DONE", "next": "15"}  # fmt: skip
    gets = ["", "?after=abc", "?picker=invite&people=a"]
    posts = ["updates", "details", "triage", "follow", "roles", "roles/unassign", "actions",
             f"actions/{work}", f"fields/{field}", "members", "members/remove", "notes",
             "break-glass"]  # fmt: skip
    await declarations.declare(db, actor=people.member, name="Public")  # what they may see: INC-2
    async with browsers(people.viewer) as browser:

        async def answers(reference):
            found = []
            for suffix in gets:
                for htmx in (False, True):
                    headers = {"HX-Request": "true"} if htmx else {}
                    found.append(
                        await browser.get(f"/incidents/{reference}{suffix}", headers=headers)
                    )
            found.append(await browser.get(f"/live/incidents/{reference}"))
            for path in posts:
                for htmx in (False, True):
                    found.append(
                        await browser.post(f"/incidents/{reference}/{path}", form, htmx=htmx)
                    )
            return [(a.status_code, a.headers.get("hx-refresh"), a.content) for a in found]

        hidden = await answers("INC-1")
        missing = await answers("INC-99")
        malformed = await answers("INC-abc")
        nonsense = await answers("nonsense")
    assert all(status == 404 for status, _, _ in hidden)
    assert hidden == missing == malformed == nonsense
    assert b"Lost laptop" not in b"".join(body for _, _, body in hidden)
    assert b"Break-glass" not in hidden[0][2]


# Escaping ------------------------------------------------------------------------------------


async def test_user_text_is_escaped(db, people, browsers):
    incident = await declarations.declare(db, actor=people.member, name=HOSTILE, summary=HOSTILE)
    await incidents.share_update(
        db, actor=people.member, incident_id=incident.id,
        message='<img src=x onerror=alert(1)><b hx-post="/evil">bold</b>',
    )  # fmt: skip
    await actions.add_action(db, actor=people.member, incident_id=incident.id, title=HOSTILE)
    async with browsers(people.responder) as browser:
        page = (await browser.get("/incidents/INC-1")).text
        fragment = (await browser.get("/incidents/INC-1", headers={"HX-Request": "true"})).text
    for html in (page, fragment):
        assert "<script>alert(1)</script>" not in html
        assert 'hx-get="/x"' not in html and 'hx-post="/evil"' not in html
        assert "<img src=x" not in html
        room = one(parse(html), "#room")  # shown as text, where people read it
        assert room.css('script, img, [hx-get="/x"], [hx-post="/evil"]') == []
        assert text(room, "h1#incident-name") == text(room, ".summary") == HOSTILE
        assert (
            text(room, ".latest-text") == '<img src=x onerror=alert(1)><b hx-post="/evil">bold</b>'
        )
        assert HOSTILE in texts(room, ".work-item .title")


# Live ----------------------------------------------------------------------------------------


async def test_the_live_feed_brings_changes_to_the_page(served, served_app, db, people):
    incident = await declarations.declare(db, actor=people.member, name="Live one")
    monitoring = await _status(db, "Monitoring")
    async with signed_in(served, people.viewer) as http:
        page = await http.get("/incidents/INC-1")
        live = one(parse(page.text), "#incident-live")
        assert live.attributes["hx-sse:connect"] == "/live/incidents/INC-1"
        async with http.stream("GET", "/live/incidents/INC-1") as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            await feeds_started(served_app)
            await incidents.share_update(
                db, actor=people.responder, incident_id=incident.id,
                message="Fix deployed <b>now</b>", status_id=monitoring.id,
                next_update_in_minutes=15,
            )  # fmt: skip
            message = await Feed(response).next()
        async with http.stream("GET", "/live/incidents/INC-99") as missing:
            assert missing.status_code == 404
    tree = parse(message)
    head = partial(tree, "#incident-head")
    assert head.attributes["hx-swap"] == "innerMorph"
    assert text(head, '.badges .badge[class*="status-"]') == "Status: Monitoring"
    assert text(head, ".latest-text") == "Fix deployed <b>now</b>" and head.css("b") == []
    # The viewer's own follow state, not someone else's.
    assert (
        text(head, ".follow > span") == "0 followers" and text(head, "#follow-button") == "Follow"
    )
    timeline = partial(tree, "#timeline-list")
    assert timeline.attributes["hx-swap"] == "afterbegin"
    [entry] = timeline.css("li")
    assert entry.attributes["class"] == "entry kind-UPDATE_SHARED fresh"
    assert entry.attributes["data-announce"] == text(entry, ".what")
    assert "Fix deployed <b>now</b>" in text(entry, ".what")
    assert text(entry, ".when").startswith("Rita Responder ·")
    assert partial(tree, "#roles").attributes["hx-swap"] == "innerMorph"

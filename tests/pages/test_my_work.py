"""My work at ``/me``: the incidents where I hold a role, my open actions and follow-ups, the
incidents I follow, what each empty group says, and the "Done" button (with and without htmx,
refused for someone else's work, and the same answer for hidden and missing work)."""

from __future__ import annotations

from datetime import timedelta

import httpx2
from sqlalchemy import select

from app.models import Action, ActionKind, ActionStatus, IncidentType, StatusCategory
from app.services import actions, catalog, declarations, followers, incidents, roles
from schema import ids
from tests.pages.conftest import dev_app
from tests.support.factories import status_in
from tests.support.html import element_ids, href, one, parse, text, texts


async def role(db, kind):
    async with db.read() as session:
        return next(r for r in await catalog.list_incident_roles(session) if r.kind.name == kind)


async def status_of(db, action_id):
    async with db.read() as session:
        return (await session.scalars(select(Action).where(Action.id == action_id))).one().status


def refs(tree, group: str) -> list[str]:
    """The references of the incident rows in the group (held, followed), in page order."""
    return element_ids(tree, f"#{group} li.incident-row", f"{group}-")


def work_items(tree) -> dict[str, object]:
    """The open actions and follow-ups listed, by title, in page order."""
    return {text(item, ".work-title"): item for item in tree.css("#my-work li.work-item")}


async def test_my_work_shows_my_three_groups(db, people, browsers, clock):
    closed = await status_in(db, StatusCategory.CLOSED)
    post = await status_in(db, StatusCategory.POST_INCIDENT)
    lead = await role(db, "LEAD")
    await declarations.declare(db, actor=people.member, name="I reported this")  # INC-1
    clock.advance(minutes=1)
    led = await declarations.declare(db, actor=people.responder, name="I lead this")  # INC-2
    await roles.assign_role(
        db, actor=people.responder, incident_id=led.id, role_id=lead.id,
        user_id=people.member.id,
    )  # fmt: skip
    clock.advance(minutes=1)
    writing = await declarations.declare(db, actor=people.member, name="Being written up")  # 3
    await incidents.change_status(
        db, actor=people.responder, incident_id=writing.id, status_id=post.id
    )
    old = await declarations.declare(db, actor=people.member, name="Long over")  # INC-4
    await incidents.change_status(
        db, actor=people.responder, incident_id=old.id, status_id=closed.id
    )
    watched = await declarations.declare(db, actor=people.responder, name="I watch this")  # 5
    await followers.follow(db, actor=people.member, incident_id=watched.id)
    await declarations.declare(db, actor=people.other_member, name="Not mine")  # INC-6
    today = clock().date()
    late = await actions.add_action(
        db, actor=people.responder, incident_id=led.id, title="Roll back <the> deploy",
        owner_id=people.member.id, due_on=today - timedelta(days=2),
    )  # fmt: skip
    await actions.add_action(
        db, actor=people.responder, incident_id=led.id, title="Someone else's",
        owner_id=people.other_member.id,
    )  # fmt: skip
    await actions.add_action(
        db, actor=people.responder, incident_id=writing.id, title="Write the review",
        owner_id=people.member.id, due_on=today + timedelta(days=3), kind=ActionKind.FOLLOW_UP,
    )  # fmt: skip
    async with browsers(people.member) as browser:
        response = await browser.get("/me")
    assert response.status_code == 200
    page = response.text
    tree = parse(page)
    assert one(tree, 'nav a[href="/me"]').attributes["aria-current"] == "page"
    # Ongoing only, active before post-incident, newest first; with the roles I hold.
    assert refs(tree, "held") == ["INC-2", "INC-1", "INC-3"]
    notes = {ref: text(tree, f'[id="held-{ref}"] .note') for ref in refs(tree, "held")}
    assert notes["INC-2"] == "Your role: Incident lead" and notes["INC-1"] == "Your role: Reporter"
    assert href(tree, "All incidents where you hold a role (4, finished ones included)") == (
        "/incidents?held=1"
    )
    work = work_items(tree)
    assert list(work) == ["Roll back <the> deploy", "Write the review"]  # not someone else's
    item = work["Roll back <the> deploy"]
    assert text(item, ".work-text a") == "INC-2 I lead this"
    assert one(item, ".work-text a").attributes["href"] == "/incidents/INC-2"
    assert text(item, ".work-due").startswith("Overdue: was due")
    assert one(item, ".work-due time").attributes["datetime"] == (
        (today - timedelta(days=2)).isoformat()
    )
    done = one(item, "form")
    assert done.attributes["action"] == f"/me/actions/{ids.encode('Action', late.id)}/done"
    review = work["Write the review"]
    assert text(review, ".badge") == "Follow-up"
    assert one(review, "form").attributes["action"].startswith("/me/follow-ups/")
    assert refs(tree, "followed") == ["INC-5"]
    assert "Not mine" not in page and "Long over" not in page
    assert "&lt;the&gt;" in page and "<the>" not in page


async def test_empty_groups_say_what_to_do(db, people, browsers):
    async with browsers(people.viewer) as browser:
        tree = parse((await browser.get("/me")).text)
    assert text(tree, "#held .empty").startswith("You hold no role in an ongoing incident.")
    assert text(tree, "#my-work .empty").startswith("Nothing open is yours.")
    assert text(tree, "#followed .empty").startswith("You follow no ongoing incident.")
    assert tree.css('a[href="/incidents?held=1"]') == []


async def test_done_closes_an_action_without_javascript(db, people, browsers):
    incident = await declarations.declare(db, actor=people.member, name="Trouble")
    action = await actions.add_action(
        db, actor=people.member, incident_id=incident.id, title="Call the vendor",
        owner_id=people.member.id,
    )  # fmt: skip
    url = f"/me/actions/{ids.encode('Action', action.id)}/done"
    async with browsers(people.member) as browser:
        answer = await browser.post(url, {"title": "Call the vendor"})
        assert answer.status_code == 303 and answer.headers["location"] == "/me"
        tree = parse((await browser.get("/me")).text)
        again = await browser.post(url, {"title": "Call the vendor"})
    assert await status_of(db, action.id) is ActionStatus.DONE
    assert work_items(tree) == {}
    assert text(tree, "#my-work .empty").startswith("Nothing open is yours.")
    # Pressed twice (another tab): said plainly, nothing else happens.
    assert again.status_code == 422
    assert "“Call the vendor” was already closed" in text(
        parse(again.text), '#my-work [role="alert"]'
    )


async def test_done_with_htmx_answers_with_the_refreshed_list(db, people, browsers):
    incident = await declarations.declare(db, actor=people.member, name="Trouble")
    first = await actions.add_action(
        db, actor=people.member, incident_id=incident.id, title="First", owner_id=people.member.id
    )
    follow_up = await actions.add_action(
        db, actor=people.member, incident_id=incident.id, title="Second",
        owner_id=people.member.id, kind=ActionKind.FOLLOW_UP,
    )  # fmt: skip
    async with browsers(people.member) as browser:
        answer = await browser.post(
            f"/me/follow-ups/{ids.encode('Action', follow_up.id)}/done", {"title": "Second"},
            htmx=True,
        )  # fmt: skip
    assert answer.status_code == 200
    assert answer.text.lstrip().startswith('<section id="my-work"')
    assert "<html" not in answer.text
    tree = parse(answer.text)
    assert text(tree, '#my-work [role="status"]') == "Done: the follow-up “Second”."
    assert element_ids(tree, "#my-work li.work-item", "work-") == [ids.encode("Action", first.id)]
    assert "HX-Request" in answer.headers["vary"]
    assert await status_of(db, follow_up.id) is ActionStatus.DONE
    assert await status_of(db, first.id) is ActionStatus.OPEN


async def test_someone_elses_action_is_refused_plainly(db, people, browsers):
    incident = await declarations.declare(db, actor=people.responder, name="Trouble")
    theirs = await actions.add_action(
        db, actor=people.responder, incident_id=incident.id, title="Not yours",
        owner_id=people.other_member.id,
    )  # fmt: skip
    url = f"/me/actions/{ids.encode('Action', theirs.id)}/done"
    async with browsers(people.member) as browser:
        plain = await browser.post(url, {"title": "Not yours"})
        fragment = await browser.post(url, {"title": "Not yours"}, htmx=True)
    assert plain.status_code == fragment.status_code == 403
    message = "You cannot mark “Not yours” done: it is someone else's"
    assert plain.text.startswith("<!doctype html>")
    assert fragment.text.lstrip().startswith('<section id="my-work"')
    for answer in (plain, fragment):
        assert text(parse(answer.text), '#my-work .notice.error[role="alert"]').startswith(message)
    assert await status_of(db, theirs.id) is ActionStatus.OPEN


async def test_hidden_work_answers_like_missing_work(db, people, browsers):
    async with db.read() as session:
        security = (
            await session.scalars(select(IncidentType).where(IncidentType.name == "Security"))
        ).one()
    hidden = await declarations.declare(db, actor=people.member, name="Hush", type_id=security.id)
    secret = await actions.add_action(
        db, actor=people.member, incident_id=hidden.id, title="Wipe", owner_id=people.member.id
    )
    async with browsers(people.admin) as outsider:
        answers = [
            await outsider.post(f"/me/actions/{ids.encode('Action', key)}/done", {"title": "x"})
            for key in (secret.id, 99_999)
        ]
        garbage = await outsider.post("/me/actions/nonsense/done", {"title": "x"})
    assert answers[0].status_code == answers[1].status_code == garbage.status_code == 404
    assert answers[0].text == answers[1].text == garbage.text
    assert "No action with that id." in texts(parse(answers[0].text), "main p")
    assert await status_of(db, secret.id) is ActionStatus.OPEN


async def test_signed_out_people_are_sent_to_sign_in(db, database_url):
    app = dev_app(database_url)
    transport = httpx2.ASGITransport(app=app)
    async with httpx2.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as http:
        page = await http.get("/me")
    await app.state.services.db.dispose()
    assert page.status_code == 303
    assert page.headers["location"] == "/auth/sign-in?next=/me"

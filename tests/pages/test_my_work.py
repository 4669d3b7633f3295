"""My work at ``/me``: the incidents where I hold a role, my open actions and follow-ups, the
incidents I follow, what each empty group says, and the "Done" button (with and without htmx,
refused for someone else's work, and the same answer for hidden and missing work)."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import httpx2
from sqlalchemy import select

from app.models import Action, ActionKind, ActionStatus, IncidentType, StatusCategory
from app.services import actions, catalog, declarations, followers, incidents, roles
from schema import ids
from tests.pages.conftest import dev_app
from tests.support.factories import status_in


async def role(db, kind):
    async with db.read() as session:
        return next(r for r in await catalog.list_incident_roles(session) if r.kind.name == kind)


async def status_of(db, action_id):
    async with db.read() as session:
        return (await session.scalars(select(Action).where(Action.id == action_id))).one().status


def section(page: str, heading_id: str) -> str:
    """The text of the card whose heading has this id."""
    return page.split(f'aria-labelledby="{heading_id}"')[1].split("</section>")[0]


def refs(text: str, prefix: str) -> list[str]:
    return re.findall(rf'<li id="{prefix}-(INC-\d+)"', text)


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
    assert 'href="/me" aria-current="page"' in page
    held = section(page, "held-heading")
    # Ongoing only, active before post-incident, newest first; with the roles I hold.
    assert refs(held, "held") == ["INC-2", "INC-1", "INC-3"]
    assert "Your role: Incident lead" in held and "Your role: Reporter" in held
    assert 'href="/incidents?held=1"' in held and "(4, finished ones included)" in held
    work = html.unescape(section(page, "work-heading"))
    assert work.index("Roll back <the> deploy") < work.index("Write the review")
    assert "Someone else's" not in work
    item = work.split("Roll back <the> deploy")[1].split("</li>")[0]
    assert "INC-2 I lead this" in work and 'href="/incidents/INC-2"' in work
    assert "Overdue:" in item
    assert f'<time datetime="{(today - timedelta(days=2)).isoformat()}">' in item
    assert f'action="/me/actions/{ids.encode("Action", late.id)}/done"' in item
    assert "Follow-up" in work and "/me/follow-ups/" in work
    followed = section(page, "followed-heading")
    assert refs(followed, "followed") == ["INC-5"]
    assert "Not mine" not in page and "Long over" not in page
    assert "&lt;the&gt;" in page and "<the>" not in page


async def test_empty_groups_say_what_to_do(db, people, browsers):
    async with browsers(people.viewer) as browser:
        page = (await browser.get("/me")).text
    assert "You hold no role in an ongoing incident." in page
    assert "Nothing open is yours." in page
    assert "You follow no ongoing incident." in page
    assert 'href="/incidents?held=1"' not in page


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
        page = (await browser.get("/me")).text
        again = await browser.post(url, {"title": "Call the vendor"})
    assert await status_of(db, action.id) is ActionStatus.DONE
    assert "Call the vendor" not in page and "Nothing open is yours." in page
    # Pressed twice (another tab): said plainly, nothing else happens.
    assert again.status_code == 422
    assert "“Call the vendor” was already closed" in html.unescape(again.text)


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
    assert "Done: the follow-up “Second”." in html.unescape(answer.text)
    assert f"work-{ids.encode('Action', first.id)}" in answer.text
    assert f"work-{ids.encode('Action', follow_up.id)}" not in answer.text
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
    assert message in html.unescape(plain.text) and plain.text.startswith("<!doctype html>")
    assert message in html.unescape(fragment.text)
    assert fragment.text.lstrip().startswith('<section id="my-work"')
    assert 'class="notice error" role="alert"' in fragment.text
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
    assert "No action with that id." in answers[0].text
    assert await status_of(db, secret.id) is ActionStatus.OPEN


async def test_signed_out_people_are_sent_to_sign_in(db, database_url):
    app = dev_app(database_url)
    transport = httpx2.ASGITransport(app=app)
    async with httpx2.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as http:
        page = await http.get("/me")
    await app.state.db.dispose()
    assert page.status_code == 303
    assert page.headers["location"] == "/auth/sign-in?next=/me"

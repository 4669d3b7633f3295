"""The incident page's "Status page" section: what customers read about the incident, and for
whoever may publish (responders, admins, the incident's Communications lead) a form to publish
to the status page or post an update, with a preview that publishes nothing; the share form's
"Also post to the status page"; and a private incident's section staying the not-found page."""

from __future__ import annotations

from sqlalchemy import func, select

from app.models import RoleKind
from app.models.status_page import ComponentStatus, StatusIncident, StatusUpdate
from app.services import catalog, declarations, roles
from schema import ids
from tests.app.test_status_public import component
from tests.support.html import field_error, one, options, parse, text, texts, value

S = ComponentStatus


async def _published(db) -> tuple[int, int]:
    async with db.read() as session:
        incidents = await session.scalar(select(func.count()).select_from(StatusIncident))
        updates = await session.scalar(select(func.count()).select_from(StatusUpdate))
    return incidents or 0, updates or 0


async def _comms(db, actor, incident, user) -> None:
    async with db.read() as session:
        role = next(
            r
            for r in await catalog.list_incident_roles(session)
            if r.kind is RoleKind.COMMUNICATIONS
        )
    await roles.assign_role(
        db, actor=actor, incident_id=incident.id, role_id=role.id, user_id=user.id
    )


async def _components(db):
    api = await component(db, "API", group="Platform", position=1)
    web = await component(db, "Website", position=0)
    await component(db, "Billing backend", public=False)
    return ids.encode("StatusComponent", api), ids.encode("StatusComponent", web)


def _form(**values: str) -> dict[str, str]:
    named = {
        f"customer_{key}": text for key, text in values.items() if key not in ("intent", "drawn")
    }
    return {"customer_state": "INVESTIGATING", "drawn": "", **named,
            **{key: values[key] for key in ("intent", "drawn") if key in values}}  # fmt: skip


async def test_a_responder_previews_publishes_and_posts_an_update(db, people, browsers):
    await declarations.declare(db, actor=people.member, name="Search index corrupt after deploy")
    api, web = await _components(db)
    async with browsers(people.responder) as browser:
        tree = parse((await browser.get("/incidents/INC-1")).text)
        assert "Customers read nothing" in text(tree, "#status-card")
        assert one(tree, "#status-form h3").text().strip() == "Publish to status page"
        assert value(tree, "customer_title") == ""  # nothing internal is prefilled
        # Internal-only components are not offered to customers.
        assert f"customer_component-{api}" in tree.html and "Billing backend" not in text(
            tree, "form#status-form"
        )
        assert options(tree, f"customer_component-{api}")[""] == "Not affected"

        typed = _form(
            title="Search is slow", message="Some searches fail; we are on it.",
            **{f"component-{api}": "PARTIAL_OUTAGE"},
        )  # fmt: skip
        preview = await browser.post("/incidents/INC-1/status", {**typed, "intent": "preview"})
        assert preview.status_code == 200
        tree = parse(preview.text)
        box = text(tree, "#status-preview")
        assert "Search is slow" in box and "Investigating" in box
        assert "Some searches fail; we are on it." in box and "API: Partial outage" in box
        assert "Website" not in box
        assert value(tree, "customer_title") == "Search is slow"  # the form keeps what was typed
        assert await _published(db) == (0, 0)  # a preview publishes nothing

        answer = await browser.post("/incidents/INC-1/status", {**typed, "intent": "publish"})
        assert answer.status_code == 303
        assert answer.headers["location"] == "/incidents/INC-1#status-card"
        tree = parse((await browser.get("/incidents/INC-1")).text)
        now = text(tree, "#status-now")
        assert "Search is slow" in now and "API: Partial outage" in now
        assert "Some searches fail; we are on it." in now
        assert one(tree, "#status-form h3").text().strip() == "Post a status update"
        public = (await browser.get("/status")).text
        assert "Search is slow" in public and "Some searches fail; we are on it." in public
        assert "Search index corrupt" not in public

        drawn = value(tree, "drawn")
        assert drawn
        update = _form(
            drawn=drawn, state="MONITORING", message="A fix is out; we are watching.",
            **{f"component-{api}": "OPERATIONAL", f"component-{web}": ""},
        )  # fmt: skip
        preview = await browser.post(
            "/incidents/INC-1/status", {**update, "intent": "preview"}, htmx=True
        )
        assert preview.status_code == 200
        box = text(parse(preview.text), "#status-preview")
        assert "Monitoring" in box and "API: Operational" in box
        assert await _published(db) == (1, 1)
        answer = await browser.post("/incidents/INC-1/status", {**update, "intent": "publish"})
        assert answer.status_code == 303
        tree = parse((await browser.get("/incidents/INC-1")).text)
        assert texts(tree, "#status-now .status-state") == ["Monitoring"]
        assert "A fix is out; we are watching." in text(tree, "#status-now")
        assert "API: Operational" in text(tree, "#status-now")
    assert await _published(db) == (1, 2)


async def test_an_empty_form_is_refused_where_it_is_wrong(db, people, browsers):
    await declarations.declare(db, actor=people.member, name="Broken")
    async with browsers(people.responder) as browser:
        answer = await browser.post(
            "/incidents/INC-1/status", _form(title=" ", message="", intent="preview")
        )
        assert answer.status_code == 422
        tree = parse(answer.text)
        assert field_error(tree, "customer_title") == "Give customers a title: what they notice."
        assert field_error(tree, "customer_message") == "Write what customers should know."
        assert not tree.css("#status-preview")
        answer = await browser.post(
            "/incidents/INC-1/status", _form(title="x", message="y", state="LOST", intent="x")
        )
        assert answer.status_code == 422
        assert (
            field_error(parse(answer.text), "customer_state") == "Choose the state customers read."
        )
    assert await _published(db) == (0, 0)


async def test_a_form_drawn_before_someone_published_is_a_conflict(db, people, browsers):
    await declarations.declare(db, actor=people.member, name="Broken")
    typed = _form(title="Down", message="We are looking.", intent="publish")
    async with browsers(people.responder) as browser:
        assert (await browser.post("/incidents/INC-1/status", typed)).status_code == 303
        again = await browser.post("/incidents/INC-1/status", typed)
        assert again.status_code == 422
        assert "changed what customers read" in text(parse(again.text), "#status-form")
    assert await _published(db) == (1, 1)


async def test_a_member_sees_no_forms_unless_they_hold_the_comms_lead_role(db, people, browsers):
    incident = await declarations.declare(db, actor=people.responder, name="Slow checkout")
    async with browsers(people.other_member) as browser:
        tree = parse((await browser.get("/incidents/INC-1")).text)
        assert "Customers read nothing" in text(tree, "#status-card")
        assert not tree.css("#status-form")
        refused = await browser.post(
            "/incidents/INC-1/status", _form(title="Down", message="Looking.", intent="publish")
        )
        assert refused.status_code == 422
        assert await _published(db) == (0, 0)

        await _comms(db, people.responder, incident, people.other_member)
        tree = parse((await browser.get("/incidents/INC-1")).text)
        assert tree.css("#status-form")
        answer = await browser.post(
            "/incidents/INC-1/status",
            _form(title="Checkout is slow", message="Payments take longer.", intent="publish"),
        )
        assert answer.status_code == 303
        tree = parse((await browser.get("/incidents/INC-1")).text)
        assert "Checkout is slow" in text(tree, "#status-now")
    assert await _published(db) == (1, 1)


async def test_the_share_form_also_posts_to_the_status_page(db, people, browsers):
    await declarations.declare(db, actor=people.member, name="Broken")
    async with browsers(people.responder) as browser:
        tree = parse((await browser.get("/incidents/INC-1")).text)
        assert not tree.css('input[name="status_also"]')  # nothing open to post to yet
        published = _form(title="Down", message="We are looking.", intent="publish")
        assert (await browser.post("/incidents/INC-1/status", published)).status_code == 303
        tree = parse((await browser.get("/incidents/INC-1")).text)
        assert tree.css('input[name="status_also"]')
        drawn = {"status_incident": value(one(tree, "#share-form"), "status_incident")}
        answer = await browser.post(
            "/incidents/INC-1/updates",
            {**drawn, "message": "Rolled back build 4411.", "next": "", "status_also": "1",
             "status_message": "We rolled back a change; service is recovering."},
        )  # fmt: skip
        assert answer.status_code == 303
        tree = parse((await browser.get("/incidents/INC-1")).text)
        now = text(tree, "#status-now")
        assert "We rolled back a change; service is recovering." in now
        assert "4411" not in now
        assert text(tree, "#status-now .status-state") == "Investigating"  # its state stays
        assert text(tree, "#incident-head .latest-text") == "Rolled back build 4411."

        empty = await browser.post(
            "/incidents/INC-1/updates",
            {
                **drawn,
                "message": "Still fine.",
                "next": "",
                "status_also": "1",
                "status_message": " ",
            },
        )
        assert empty.status_code == 422  # checked before anything is shared
        assert field_error(parse(empty.text), "status_message")
    assert await _published(db) == (1, 2)


async def test_a_private_incident_stays_not_found_for_a_non_member(db, people, browsers):
    await declarations.declare(db, actor=people.responder, name="Secret merger", private=True)
    async with browsers(people.responder) as browser:
        published = _form(title="Down", message="We are looking.", intent="publish")
        assert (await browser.post("/incidents/INC-1/status", published)).status_code == 303
    async with browsers(people.other_responder) as browser:
        page = await browser.get("/incidents/INC-1")
        assert page.status_code == 404
        for intent in ("preview", "publish"):
            answer = await browser.post(
                "/incidents/INC-1/status", _form(message="Hi.", intent=intent, drawn="x")
            )
            assert answer.status_code == 404
            assert "Secret merger" not in answer.text
            assert answer.text == page.text  # the one not-found page
    assert await _published(db) == (1, 1)

"""The leak matrix for the web pages: for someone outside a private incident, every page,
fragment, form and live URL answers exactly as for an incident that was never created.

Two ways of checking: the pages that list or count incidents are the same, byte for byte, before
and after a private incident (with updates, notes and actions full of words to search for) is
declared; and every URL naming an incident (every route with ``{reference}``, found in the app's
routes so a new page cannot be missed) answers for the private incident exactly as for a
reference that does not exist, by GET and POST, plain and htmx.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select
from starlette.routing import Route

from app.config import Settings
from app.models import IncidentType
from app.services import actions, declarations, incidents
from tests.support.html import parse, texts
from views.app import create_app

SECRET = "Zanzibar"  # a word only the private incident uses

LISTING = [
    "/",
    "/?tv=1",
    "/incidents",
    f"/incidents?q={SECRET}",
    f"/incidents?search={SECRET}",
    "/incidents?visibility=private",
    "/incidents?status=ONGOING",
    "/me",
]


async def private_incident(db, people):
    async with db.read() as session:
        security = (
            await session.scalars(select(IncidentType).where(IncidentType.name == "Security"))
        ).one()
    incident = await declarations.declare(
        db, actor=people.member, name=f"{SECRET} laptop stolen", type_id=security.id,
        summary=f"{SECRET} exports", next_update_in_minutes=30,
    )  # fmt: skip
    await incidents.share_update(
        db, actor=people.member, incident_id=incident.id, message=f"{SECRET} wiped",
        next_update_in_minutes=15,
    )  # fmt: skip
    await incidents.add_note(db, actor=people.member, incident_id=incident.id, message=SECRET)
    await actions.add_action(
        db, actor=people.member, incident_id=incident.id, title=f"Call {SECRET}",
        owner_id=people.member.id,
    )  # fmt: skip
    assert incident.private
    return incident


async def snapshot(browser, urls):
    found = {}
    for url in urls:
        for htmx in (False, True):
            headers = {"HX-Request": "true"} if htmx else {}
            response = await browser.get(url, headers=headers)
            found[(url, htmx)] = (response.status_code, response.content)
    return found


@pytest.mark.parametrize("who", ["viewer", "admin"])
async def test_lists_counts_and_searches_are_unchanged_by_a_private_incident(
    db, people, browsers, who
):
    public = await declarations.declare(db, actor=people.other_member, name="Public trouble")
    await actions.add_action(
        db, actor=people.other_member, incident_id=public.id, title="Look",
        owner_id=people.other_member.id,
    )  # fmt: skip
    outsider = getattr(people, who)
    async with browsers(outsider) as browser:
        before = await snapshot(browser, LISTING)
        await private_incident(db, people)
        after = await snapshot(browser, LISTING)
    for key in before:
        assert after[key] == before[key], f"{key} changed for an outsider"
    async with browsers(people.member) as member:  # the check itself can see a difference
        page = await member.get(f"/incidents?q={SECRET}")
    assert texts(parse(page.text), "#incident-list .title a") == [f"{SECRET} laptop stolen"]


def incident_routes() -> list[Route]:
    app = create_app(Settings(secret_key="k" * 32))
    return [r for r in app.routes if isinstance(r, Route) and "{reference}" in r.path]


async def test_every_url_naming_an_incident_answers_as_for_a_missing_one(db, people, browsers):
    secret = await private_incident(db, people)
    routes = incident_routes()
    assert len(routes) >= 10  # the page, its live feed and its forms
    async with browsers(people.viewer) as browser:
        for route in routes:
            for method in sorted((route.methods or set()) - {"HEAD"}):
                answers = []
                for reference in (secret.reference, "INC-999", "INC-abc"):
                    path = route.path.replace("{reference}", reference)
                    path = path.replace("{action}", "QWN0aW9uOjE").replace("{field}", "x")
                    for htmx in (False, True):
                        if method == "GET":
                            headers = {"HX-Request": "true"} if htmx else {}
                            response = await browser.get(path, headers=headers)
                        else:
                            response = await browser.post(
                                path, {"message": "hi", "reason": "curious"}, htmx=htmx
                            )
                        answers.append(
                            (htmx, response.status_code, response.content,
                             response.headers.get("content-type"))
                        )  # fmt: skip
                hidden, missing, malformed = answers[0:2], answers[2:4], answers[4:6]
                assert hidden == missing, f"{method} {route.path} tells hidden from missing"
                assert hidden == malformed, f"{method} {route.path} tells hidden from malformed"
                assert SECRET.encode() not in b"".join(a[2] for a in answers)

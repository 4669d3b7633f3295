"""The teams tab: an admin makes a team, finds people and adds them, and takes them out again,
all through plain forms; a refused form says why on its field; anyone else is told only admins
may, and their posts change nothing."""

from __future__ import annotations

from app.services import teams
from schema import ids
from tests.support.html import (
    checked,
    field_error,
    href,
    invalid,
    one,
    parse,
    text,
    text_of,
    texts,
    value,
)


def noticed(page: str) -> str:
    return text(parse(page), '#settings-section .notice.ok[role="status"]')


def listed(page: str) -> dict[str, str]:
    """The teams on the tab: each one's heading (name, count, group) by name."""
    tree = parse(page)
    return {text(li, ".item-name a"): text(li, ".item-name") for li in tree.css('li[id^="team-"]')}


def people_in(page: str) -> list[str]:
    tree = parse(page)
    return texts(tree, '[aria-labelledby="members-heading"] label.check')


def found(page: str) -> dict[str, str]:
    """The people a search found, by what their label reads: each one's checkbox value."""
    tree = parse(page)
    return {
        text_of(label): one(label, "input").attributes["value"]
        for label in tree.css('[aria-labelledby="add-heading"] label.check')
    }


async def test_an_admin_makes_a_team_and_adds_people(browsers, people):
    async with browsers(people.admin) as browser:
        page = await browser.get("/settings/teams")
        assert page.status_code == 200
        tree = parse(page.text)
        assert href(tree, "Teams") == "/settings/teams"
        assert one(tree, '.settings-tabs a[aria-current="page"]').text() == "Teams"
        assert text(tree, "#settings-section .empty") == "There are no teams yet."

        made = await browser.post(
            "/settings/teams",
            {"name": "Leadership", "description": "Decides.", "oidcGroup": "leads"},
        )
        assert made.status_code == 303
        team_url = made.headers["location"].split("?")[0]
        page = await browser.get(made.headers["location"])
        assert noticed(page.text) == "Created “Leadership”. Add its people below."
        tree = parse(page.text)
        assert text(tree, "#section-heading") == "Leadership"
        assert value(tree, "oidcGroup") == "leads"
        assert text(tree, "#settings-section .empty") == "Nobody is in Leadership yet."

        # Find people, check two, add them.
        searched = await browser.get(team_url, params={"search": "member"})
        choices = found(searched.text)
        assert list(choices) == ["Max Member max@example.com", "Mo Member mo@example.com"]
        added = await browser.post(
            f"{team_url}/add", {"userIds": list(choices.values()), "search": "member"}
        )
        assert added.status_code == 303
        page = await browser.get(added.headers["location"])
        assert noticed(page.text) == "Added the people you chose to “Leadership”."
        assert people_in(page.text) == ["Max Member max@example.com", "Mo Member mo@example.com"]
        # Those already in are not offered again.
        assert found((await browser.get(team_url, params={"search": "member"})).text) == {}

        tab = await browser.get("/settings/teams")
        assert listed(tab.text) == {"Leadership": "Leadership 2 people Group: leads"}
        assert href(parse(tab.text), "Leadership") == team_url


async def test_taking_people_out_and_editing(browsers, people, db):
    team = await teams.create_team(
        db, actor=people.admin, name="SRE", member_ids=[people.responder.id, people.member.id]
    )
    url = f"/settings/teams/{ids.encode('Team', team.id)}"
    async with browsers(people.admin) as browser:
        page = await browser.get(url)
        boxes = {
            text_of(label): one(label, "input").attributes["value"]
            for label in parse(page.text).css('[aria-labelledby="members-heading"] label.check')
        }
        removed = await browser.post(
            f"{url}/remove", {"userIds": boxes["Rita Responder rita@example.com"]}
        )
        assert removed.status_code == 303
        page = await browser.get(removed.headers["location"])
        assert noticed(page.text) == "Took the people you chose out of “SRE”."
        assert people_in(page.text) == ["Mo Member mo@example.com"]

        nothing = await browser.post(f"{url}/remove", {})
        assert nothing.status_code == 422
        assert field_error(parse(nothing.text), "userIds") == "Choose at least one person."

        saved = await browser.post(
            url, {"name": "Site reliability", "description": "Keeps it up.", "oidcGroup": ""}
        )
        assert saved.status_code == 303
        page = await browser.get(saved.headers["location"])
        assert noticed(page.text) == "Saved the changes to “Site reliability”."
        assert text(parse(page.text), "#settings-section > .description") == "Keeps it up."


async def test_a_refused_form_keeps_what_was_typed(browsers, people, db):
    await teams.create_team(db, actor=people.admin, name="Support", oidc_group="support")
    async with browsers(people.admin) as browser:
        answer = await browser.post(
            "/settings/teams", {"name": "support", "description": "Mine", "oidcGroup": "x"}
        )
        assert answer.status_code == 422
        tree = parse(answer.text)
        assert field_error(tree, "name") == "There is already a team named 'support'."
        assert invalid(tree, "name")
        assert value(tree, "description") == "Mine"
        answer = await browser.post(
            "/settings/teams", {"name": "Helpdesk", "oidcGroup": "support"}, htmx=True
        )
        assert answer.status_code == 422
        assert answer.text.lstrip().startswith('<section id="settings-section"')
        assert field_error(parse(answer.text), "oidcGroup") == (
            "The team 'Support' is already bound to that group."
        )
        assert list(listed((await browser.get("/settings/teams")).text)) == ["Support"]
        # No such team, or an id of something else.
        for wrong in ("nope", ids.encode("User", people.member.id)):
            answer = await browser.get(f"/settings/teams/{wrong}")
            assert answer.status_code == 404
        answer = await browser.post("/settings/teams/nope/add", {"userIds": "x"})
        assert answer.status_code == 404


async def test_an_htmx_add_draws_the_team_at_once(browsers, people, db):
    team = await teams.create_team(db, actor=people.admin, name="Data")
    url = f"/settings/teams/{ids.encode('Team', team.id)}"
    async with browsers(people.admin) as browser:
        choices = found((await browser.get(url, params={"search": "ada"})).text)
        answer = await browser.post(f"{url}/add", {"userIds": list(choices.values())}, htmx=True)
        assert answer.status_code == 200
        assert answer.text.lstrip().startswith('<section id="settings-section"')
        assert people_in(answer.text) == ["Ada Admin ada@example.com"]
        assert checked(parse(answer.text), "userIds") == []


async def test_only_admins_see_or_change_teams(browsers, people, db):
    team = await teams.create_team(db, actor=people.admin, name="Support")
    url = f"/settings/teams/{ids.encode('Team', team.id)}"
    me = ids.encode("User", people.member.id)
    for person in (people.member, people.responder):
        async with browsers(person) as browser:
            tree = parse((await browser.get("/settings")).text)
            assert tree.css('a[href="/settings/teams"]') == []
            for answer in (
                await browser.get("/settings/teams"),
                await browser.get(url),
                await browser.post("/settings/teams", {"name": "Mine"}),
                await browser.post(url, {"name": "Taken over"}),
                await browser.post(f"{url}/add", {"userIds": me}),
            ):
                assert answer.status_code == 403
                assert text(
                    parse(answer.text), '#settings-section > .notice.error[role="alert"]'
                ) in (
                    "Only admins can change the configuration.",
                    "Only admins can change teams.",
                )
    async with db.read() as session:
        assert [t.name for t in await teams.list_teams(session)] == ["Support"]
        assert await teams.member_ids(session, [team.id]) == set()

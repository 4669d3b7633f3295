"""The workflows tab: an admin makes a workflow with the plain "When, if, then" form, sees it
listed, edits it, turns it off and deletes it; a refused form says why on its field; anyone
else is told only admins may, and their posts change nothing."""

from __future__ import annotations

from app.models import IncidentRole, Severity, Team, TeamMember
from app.services import workflows
from schema import ids
from tests.support.factories import named
from tests.support.html import checked, field_error, one, options, parse, text, value


def noticed(page: str) -> str:
    return text(parse(page), '#settings-section .notice.ok[role="status"]')


async def leadership(db, *members):
    async with db.write() as session:
        team = Team(name="Leadership", description="", created_at=db.now())
        session.add(team)
        await session.flush()
        session.add_all(
            TeamMember(team_id=team.id, user_id=m.id, via_group=False, added_at=db.now())
            for m in members
        )
        return team


async def test_an_admin_makes_edits_switches_and_deletes_a_workflow(browsers, people, db):
    team = await leadership(db, people.member, people.responder)
    team_id = ids.encode("Team", team.id)
    critical = ids.encode("Severity", (await named(db, Severity, "Critical")).id)
    lead = ids.encode("IncidentRole", (await named(db, IncidentRole, "Incident lead")).id)
    responder = ids.encode("User", people.responder.id)
    async with browsers(people.admin) as browser:
        page = await browser.get("/settings/workflows")
        assert page.status_code == 200
        tree = parse(page.text)
        assert one(tree, '.settings-tabs a[aria-current="page"]').text() == "Workflows"
        assert text(tree, "#settings-section .empty") == "There are no workflows yet."
        assert options(tree, "trigger")["INCIDENT_DECLARED"] == "an incident is declared"
        assert options(tree, "severityAtLeastId")[critical] == "Critical"
        assert "Reporter" not in options(tree, "roleId").values()

        made = await browser.post(
            "/settings/workflows",
            {
                "name": "Loop in leadership",
                "trigger": "INCIDENT_DECLARED",
                "delayMinutes": "0",
                "severityAtLeastId": critical,
                "once": "on",
                "enabled": "on",
                "followTeamIds": team_id,
                "notifyTeamIds": team_id,
                "notifyMessage": "Join the bridge.",
                "roleId": lead,
                "roleUserId": responder,
                "cadenceMinutes": "30",
                "actionTitles": "Page the DBA\n\nOpen a bridge\n",
            },
        )
        assert made.status_code == 303, made.text
        url = made.headers["location"].split("?")[0]
        page = await browser.get(made.headers["location"])
        assert noticed(page.text) == "Created “Loop in leadership”."
        tree = parse(page.text)
        assert text(tree, "#section-heading") == "Loop in leadership"
        assert value(tree, "severityAtLeastId") == critical
        assert checked(tree, "followTeamIds") == [team_id]
        assert value(tree, "notifyMessage") == "Join the bridge."
        assert value(tree, "roleUserId") == responder
        assert value(tree, "cadenceMinutes") == "30"
        assert value(tree, "actionTitles") == "Page the DBA\nOpen a bridge"
        assert text(tree, '[aria-labelledby="runs-heading"] p') == "No runs yet."

        async with db.read() as session:
            (saved,) = await workflows.list_workflows(session, people.admin)
        assert [next(iter(step)) for step in saved.steps] == [
            "add_followers", "notify", "assign_role", "set_update_cadence", "add_actions",
        ]  # fmt: skip

        tab = await browser.get("/settings/workflows")
        item = one(parse(tab.text), 'li[id^="workflow-"]')
        assert text(item, ".item-name") == "Loop in leadership On"
        assert text(item, ".description") == "When an incident is declared."

        # Edit: a refused form keeps the input and says why on the field.
        refused = await browser.post(
            url, {"name": "Loop in leadership", "trigger": "INCIDENT_DECLARED",
                  "cadenceMinutes": "5000", "enabled": "on"},
        )  # fmt: skip
        assert refused.status_code == 422
        tree = parse(refused.text)
        assert (
            field_error(tree, "cadenceMinutes") == "The cadence is from 1 to 1,440 minutes (a day)."
        )
        assert value(tree, "cadenceMinutes") == "5000"
        for typed, error in (("soon", "Give a whole number of minutes."),
                             ("99999", "The delay is from 0 to 10,080 minutes (a week).")):  # fmt: skip
            refused = await browser.post(
                url, {"name": "Loop in leadership", "trigger": "INCIDENT_DECLARED",
                      "delayMinutes": typed, "cadenceMinutes": "30", "enabled": "on"},
            )  # fmt: skip
            assert refused.status_code == 422
            assert field_error(parse(refused.text), "delayMinutes") == error
        refused = await browser.post(
            url, {"name": "", "trigger": "INCIDENT_DECLARED", "cadenceMinutes": "10"}
        )
        assert refused.status_code == 422
        assert field_error(parse(refused.text), "name") == "Name cannot be empty."

        saved = await browser.post(
            url, {"name": "Leadership", "trigger": "INCIDENT_RESOLVED", "cadenceMinutes": "10",
                  "enabled": "on", "once": "on"},
        )  # fmt: skip
        assert saved.status_code == 303
        page = await browser.get(saved.headers["location"])
        assert noticed(page.text) == "Saved the changes to “Leadership”."
        assert value(parse(page.text), "trigger") == "INCIDENT_RESOLVED"
        assert checked(parse(page.text), "followTeamIds") == []

        off = await browser.post(f"{url}/switch", {})
        assert off.status_code == 303
        page = await browser.get(off.headers["location"])
        assert noticed(page.text) == "Turned “Leadership” off."
        assert "Off" in text(parse(page.text), "#section-heading")

        gone = await browser.post(f"{url}/delete", {})
        assert gone.status_code == 303
        page = await browser.get(gone.headers["location"])
        assert noticed(page.text) == "Deleted the workflow."
        assert text(parse(page.text), "#settings-section .empty") == "There are no workflows yet."
        assert (await browser.get(url)).status_code == 404


async def test_a_form_with_no_steps_is_refused(browsers, people):
    async with browsers(people.admin) as browser:
        refused = await browser.post(
            "/settings/workflows", {"name": "Nothing", "trigger": "INCIDENT_DECLARED"}
        )
        assert refused.status_code == 422
        tree = parse(refused.text)
        assert "Fill in at least one of the steps." in text(tree, ".notice.error")
        assert value(tree, "name") == "Nothing"


async def test_only_admins(browsers, people, db):
    made = await workflows.create_workflow(
        db, actor=people.admin, name="Keep", trigger=workflows.WorkflowTrigger.INCIDENT_DECLARED,
        steps=[{"set_update_cadence": {"minutes": 5}}],
    )  # fmt: skip
    url = f"/settings/workflows/{ids.encode('Workflow', made.id)}"
    async with browsers(people.responder) as browser:
        page = await browser.get("/settings/workflows")
        assert page.status_code == 403
        assert "Workflows" not in [a.text() for a in parse(page.text).css(".settings-tabs a")]
        assert (await browser.get(url)).status_code == 403
        posted = await browser.post("/settings/workflows", {"name": "Mine", "cadenceMinutes": "5",
                                                            "trigger": "INCIDENT_DECLARED"})  # fmt: skip
        assert posted.status_code == 403
        assert (await browser.post(f"{url}/delete", {})).status_code == 403
    async with db.read() as session:
        assert [w.name for w in await workflows.list_workflows(session, people.admin)] == ["Keep"]

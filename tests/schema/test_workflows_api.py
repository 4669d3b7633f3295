"""Workflows over the API: admins make, change and delete them with one-of steps, read them back
with their steps and recent runs (never naming an incident the admin may not see), and anyone
else is refused."""

from __future__ import annotations

import httpx2
from sqlalchemy import select

from app import jobs
from app.models import (
    Incident,
    IncidentRole,
    Severity,
    Team,
    TeamMember,
    TimelineEvent,
    WorkflowRun,
)
from app.services import declarations, workflow_runs
from schema import ids
from tests.support.factories import named

WORKFLOW = """workflow {
  id name trigger once delayMinutes includePrivate includeTest enabled
  conditions { severityAtLeast { name } types { name } customFieldOptions { value } modes
               statusCategories }
  steps {
    __typename
    ... on AddFollowersStep { users { name } teams { name } }
    ... on NotifyStep { users { name } teams { name } message }
    ... on AssignRoleStep { role { name } user { name } }
    ... on SetUpdateCadenceStep { minutes }
    ... on AddActionsStep { titles }
    ... on SendWebhookStep { endpoint { url } }
  }
  recentRuns { id incident { reference } state outcome error createdAt finishedAt }
}"""
ERRORS = "userErrors { field code message }"
CREATE = f"""mutation($input: CreateWorkflowInput!) {{
  createWorkflow(input: $input) {{ {WORKFLOW} {ERRORS} }}
}}"""
UPDATE = f"""mutation($input: UpdateWorkflowInput!) {{
  updateWorkflow(input: $input) {{ {WORKFLOW} {ERRORS} }}
}}"""
DELETE = f"""mutation($input: DeleteWorkflowInput!) {{
  deleteWorkflow(input: $input) {{ workflow {{ id name }} {ERRORS} }}
}}"""
LIST = "{ workflows " + WORKFLOW.removeprefix("workflow ") + " }"


def uid(user):
    return ids.encode("User", user.id)


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


async def test_an_admin_makes_changes_and_deletes_a_workflow(api, db, people):
    admin = await api.as_(people.admin)
    team = await leadership(db, people.member, people.responder)
    critical = await named(db, Severity, "Critical")
    lead = await named(db, IncidentRole, "Incident lead")
    steps = [
        {"addFollowers": {"teamIds": [ids.encode("Team", team.id)]}},
        {"notify": {"userIds": [uid(people.admin)], "message": "Join the call"}},
        {"assignRole": {"roleId": ids.encode("IncidentRole", lead.id), "userId": uid(people.responder)}},
        {"setUpdateCadence": {"minutes": 30}},
        {"addActions": {"titles": ["Page the DBA"]}},
    ]  # fmt: skip
    made = (
        await admin(
            CREATE,
            {
                "input": {
                    "name": "Loop in leadership",
                    "trigger": "INCIDENT_DECLARED",
                    "conditions": {
                        "severityAtLeastId": ids.encode("Severity", critical.id),
                        "modes": ["STANDARD"],
                    },
                    "steps": steps,
                }
            },
        )
    )["createWorkflow"]
    assert made["userErrors"] == []
    workflow = made["workflow"]
    assert workflow["name"] == "Loop in leadership" and workflow["once"] is True
    assert workflow["conditions"] == {
        "severityAtLeast": {"name": "Critical"},
        "types": [],
        "customFieldOptions": [],
        "modes": ["STANDARD"],
        "statusCategories": [],
    }
    assert workflow["steps"] == [
        {"__typename": "AddFollowersStep", "users": [], "teams": [{"name": "Leadership"}]},
        {"__typename": "NotifyStep", "users": [{"name": "Ada Admin"}], "teams": [],
         "message": "Join the call"},
        {"__typename": "AssignRoleStep", "role": {"name": "Incident lead"},
         "user": {"name": "Rita Responder"}},
        {"__typename": "SetUpdateCadenceStep", "minutes": 30},
        {"__typename": "AddActionsStep", "titles": ["Page the DBA"]},
    ]  # fmt: skip

    changed = (
        await admin(
            UPDATE,
            {
                "input": {
                    "workflowId": workflow["id"],
                    "enabled": False,
                    "delayMinutes": 15,
                    "steps": [{"setUpdateCadence": {"minutes": 60}}],
                }
            },
        )
    )["updateWorkflow"]
    assert changed["userErrors"] == []
    assert changed["workflow"]["enabled"] is False
    assert changed["workflow"]["delayMinutes"] == 15
    assert changed["workflow"]["steps"] == [{"__typename": "SetUpdateCadenceStep", "minutes": 60}]
    assert changed["workflow"]["name"] == "Loop in leadership"

    listed = (await admin(LIST))["workflows"]
    assert [w["id"] for w in listed] == [workflow["id"]]

    gone = (await admin(DELETE, {"input": {"workflowId": workflow["id"]}}))["deleteWorkflow"]
    assert gone == {
        "workflow": {"id": workflow["id"], "name": "Loop in leadership"},
        "userErrors": [],
    }
    assert (await admin(LIST))["workflows"] == []
    again = (await admin(DELETE, {"input": {"workflowId": workflow["id"]}}))["deleteWorkflow"]
    assert again["userErrors"][0]["field"] == "workflowId"
    assert again["userErrors"][0]["code"] == "NOT_FOUND"


async def test_a_step_is_exactly_one_kind(api, people):
    admin = await api.as_(people.admin)
    both = {"setUpdateCadence": {"minutes": 5}, "addActions": {"titles": ["x"]}}
    for step in (both, {}):
        response = await admin.post(
            CREATE,
            {"input": {"name": "Two", "trigger": "INCIDENT_DECLARED", "steps": [step]}},
        )
        payload = response.json()
        assert payload.get("data") is None
        assert "exactly one" in payload["errors"][0]["message"].lower()
    assert (await admin(LIST))["workflows"] == []


async def test_refusals_name_the_input(api, people):
    admin = await api.as_(people.admin)

    async def refused(**given):
        spec = {"name": "W", "trigger": "INCIDENT_DECLARED",
                "steps": [{"setUpdateCadence": {"minutes": 5}}], **given}  # fmt: skip
        result = (await admin(CREATE, {"input": spec}))["createWorkflow"]
        assert result["workflow"] is None
        return result["userErrors"][0]["field"]

    assert await refused(conditions={"typeIds": ["nonsense"]}) == "conditions.typeIds"
    assert await refused(steps=[]) == "steps"
    assert (
        await refused(
            steps=[{"setUpdateCadence": {"minutes": 5}}, {"addFollowers": {"userIds": ["bad"]}}]
        )
        == "steps[1].addFollowers.userIds"
    )
    assert await refused(steps=[{"setUpdateCadence": {"minutes": 0}}]) == (
        "steps[0].setUpdateCadence.minutes"
    )
    assert await refused(steps=[{"sendWebhook": {"endpointId": "x"}}]) == (
        "steps[0].sendWebhook.endpointId"
    )
    assert await refused(name="") == "name"
    assert await refused(delayMinutes=20000) == "delayMinutes"
    assert await refused(steps=[{"setUpdateCadence": {"minutes": 5}}] * 21) == "steps"


async def test_members_and_responders_are_refused(api, people):
    admin = await api.as_(people.admin)
    made = (
        await admin(CREATE, {"input": {"name": "W", "trigger": "INCIDENT_DECLARED",
                                       "steps": [{"setUpdateCadence": {"minutes": 5}}]}})
    )["createWorkflow"]["workflow"]  # fmt: skip
    for person in (people.member, people.responder):
        client = await api.as_(person)
        result = (
            await client(CREATE, {"input": {"name": "Mine", "trigger": "INCIDENT_DECLARED",
                                            "steps": [{"setUpdateCadence": {"minutes": 5}}]}})
        )["createWorkflow"]  # fmt: skip
        assert result["workflow"] is None and result["userErrors"][0]["code"] == "FORBIDDEN"
        result = await client(UPDATE, {"input": {"workflowId": made["id"], "name": "X"}})
        assert result["updateWorkflow"]["userErrors"][0]["code"] == "FORBIDDEN"
        result = await client(DELETE, {"input": {"workflowId": made["id"]}})
        assert result["deleteWorkflow"]["userErrors"][0]["code"] == "FORBIDDEN"
        listed = (await client.post(LIST)).json()
        assert listed.get("data") is None and "admin" in listed["errors"][0]["message"]
    assert [w["name"] for w in (await admin(LIST))["workflows"]] == ["W"]


async def test_recent_runs_never_name_an_incident_the_admin_cannot_see(api, db, people):
    admin = await api.as_(people.admin)
    await admin(
        CREATE,
        {"input": {"name": "Everything", "trigger": "INCIDENT_DECLARED", "includePrivate": True,
                   "steps": [{"addFollowers": {"userIds": [uid(people.admin),
                                                          uid(people.other_member)]}}]}},
    )  # fmt: skip
    await declarations.declare(db, actor=people.member, name="Leaked key", private=True)
    public = await declarations.declare(db, actor=people.member, name="Checkout down")
    async with db.write() as session:
        events = (await session.scalars(select(TimelineEvent).order_by(TimelineEvent.id))).all()
        found = (await session.scalars(select(Incident))).all()
        await workflow_runs.react(session, events, {i.id: i for i in found}, now=db.now())
    async with httpx2.AsyncClient() as http:
        outside = jobs.Outside(base_url="http://x", secret_key="k" * 32, mail=None, http=http)
        async with db.read() as session:
            run_ids = [run.id for run in (await session.scalars(select(WorkflowRun)))]
        for run_id in run_ids:
            await workflow_runs.run(db, {"run_id": run_id}, outside)
    assert len(run_ids) == 2
    response = await admin.post(LIST)
    assert "Leaked key" not in response.text and "INC-1" not in response.text
    (workflow,) = response.json()["data"]["workflows"]
    (run,) = workflow["recentRuns"]
    assert run["incident"] == {"reference": public.reference}
    assert run["state"] == "DONE"
    assert run["outcome"] == "added Ada Admin and Max Member as followers."

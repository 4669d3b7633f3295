"""The status page over the signed-in API: components made and changed by admins, a status
incident published from an incident and updated to resolved (its components following),
maintenance scheduled with its window checked, the userErrors' codes and fields, a member refused
with FORBIDDEN, a hidden incident answering as a missing one, and the internal incident link null
for a viewer who may not see it."""

from __future__ import annotations

from datetime import timedelta

from app.services import declarations
from schema import ids

CREATE = """
mutation($input: CreateStatusComponentInput!) {
  createStatusComponent(input: $input) {
    component { id name description groupName public status }
    userErrors { field code }
  }
}"""

UPDATE = """
mutation($input: UpdateStatusComponentInput!) {
  updateStatusComponent(input: $input) {
    component { id name groupName public status }
    userErrors { field code }
  }
}"""

PUBLISH = """
mutation($input: PublishStatusIncidentInput!) {
  publishStatusIncident(input: $input) {
    statusIncident {
      id title state kind createdAt resolvedAt
      updates { id state message createdAt }
      affected { component { id name } status }
      incident { reference }
    }
    userErrors { field code message }
  }
}"""

POST = """
mutation($input: PostStatusUpdateInput!) {
  postStatusUpdate(input: $input) {
    update { id state message }
    statusIncident { id state resolvedAt affected { component { name } status } }
    userErrors { field code }
  }
}"""

SCHEDULE = """
mutation($input: ScheduleMaintenanceInput!) {
  scheduleMaintenance(input: $input) {
    statusIncident { id kind state startsAt endsAt affected { component { name } status } }
    userErrors { field code }
  }
}"""

COMPONENTS = "query { statusComponents { name public status groupName } }"

INCIDENTS = """
query($open: Boolean) {
  statusIncidents(first: 10, openOnly: $open) { id title state incident { reference } }
}"""

ONE = "query($id: ID!) { statusIncident(id: $id) { title incident { reference } } }"

ON_INCIDENT = """
query($id: ID!) {
  incident(id: $id) { reference statusIncident { title updates { message } } }
}"""


async def components(admin):
    api = (
        await admin(
            CREATE,
            {"input": {"name": "API", "description": "REST", "groupName": "Core"}},
        )
    )["createStatusComponent"]
    internal = (await admin(CREATE, {"input": {"name": "Ledger", "public": False}}))[
        "createStatusComponent"
    ]
    return api["component"], internal["component"]


async def test_admins_make_and_change_components(api, people):
    admin = await api.as_(people.admin)
    made, _ = await components(admin)
    assert made["status"] == "OPERATIONAL" and made["groupName"] == "Core"
    duplicate = (await admin(CREATE, {"input": {"name": "api"}}))["createStatusComponent"]
    assert duplicate == {"component": None, "userErrors": [{"field": "name", "code": "INVALID"}]}
    long = (await admin(CREATE, {"input": {"name": "x" * 101}}))["createStatusComponent"]
    assert long["userErrors"] == [{"field": "name", "code": "INVALID"}]

    changed = (
        await admin(
            UPDATE,
            {"input": {"componentId": made["id"], "groupName": None, "status": "PARTIAL_OUTAGE"}},
        )
    )["updateStatusComponent"]
    assert changed["component"]["groupName"] is None
    assert changed["component"]["status"] == "PARTIAL_OUTAGE"
    nowhere = (await admin(UPDATE, {"input": {"componentId": "nope", "status": "OPERATIONAL"}}))[
        "updateStatusComponent"
    ]
    assert nowhere["userErrors"] == [{"field": "componentId", "code": "NOT_FOUND"}]

    member = await api.as_(people.member)
    refused = (await member(CREATE, {"input": {"name": "Dashboard"}}))["createStatusComponent"]
    assert refused["userErrors"][0]["code"] == "FORBIDDEN"
    responder = await api.as_(people.responder)
    renamed = (await responder(UPDATE, {"input": {"componentId": made["id"], "name": "Core"}}))[
        "updateStatusComponent"
    ]
    assert renamed["userErrors"][0]["code"] == "FORBIDDEN"
    # Signed in, everyone reads the internal-only components too.
    listed = (await member(COMPONENTS))["statusComponents"]
    assert [(c["name"], c["public"]) for c in listed] == [("API", True), ("Ledger", False)]


async def test_publish_update_and_resolve(api, people, db):
    admin = await api.as_(people.admin)
    made, _ = await components(admin)
    incident = await declarations.declare(db, actor=people.responder, name="Checkout 500s")
    responder = await api.as_(people.responder)
    published = (
        await responder(
            PUBLISH,
            {
                "input": {
                    "incidentId": ids.encode("Incident", incident.id),
                    "title": "Payments failing",
                    "message": "We are investigating.",
                    "status": "INVESTIGATING",
                    "affected": [{"componentId": made["id"], "status": "MAJOR_OUTAGE"}],
                }
            },
        )
    )["publishStatusIncident"]
    assert published["userErrors"] == []
    status_incident = published["statusIncident"]
    assert status_incident["state"] == "INVESTIGATING" and status_incident["kind"] == "INCIDENT"
    assert status_incident["incident"] == {"reference": incident.reference}
    assert [u["message"] for u in status_incident["updates"]] == ["We are investigating."]
    assert status_incident["affected"] == [
        {"component": {"id": made["id"], "name": "API"}, "status": "MAJOR_OUTAGE"}
    ]
    statuses = {c["name"]: c["status"] for c in (await responder(COMPONENTS))["statusComponents"]}
    assert statuses == {"API": "MAJOR_OUTAGE", "Ledger": "OPERATIONAL"}
    on_incident = await responder(ON_INCIDENT, {"id": ids.encode("Incident", incident.id)})
    assert on_incident["incident"]["statusIncident"]["title"] == "Payments failing"

    resolved = (
        await responder(
            POST,
            {
                "input": {
                    "statusIncidentId": status_incident["id"],
                    "status": "RESOLVED",
                    "message": "Fixed.",
                }
            },
        )
    )["postStatusUpdate"]
    assert resolved["userErrors"] == []
    assert resolved["update"]["state"] == "RESOLVED"
    assert resolved["statusIncident"]["resolvedAt"] is not None
    statuses = {c["name"]: c["status"] for c in (await responder(COMPONENTS))["statusComponents"]}
    assert statuses["API"] == "OPERATIONAL"
    assert (await responder(INCIDENTS, {"open": True}))["statusIncidents"] == []
    listed = (await responder(INCIDENTS, {"open": False}))["statusIncidents"]
    assert [i["title"] for i in listed] == ["Payments failing"]

    # Bad input names its field.
    bad = (
        await responder(
            PUBLISH,
            {"input": {"title": " ", "message": "m", "status": "IDENTIFIED"}},
        )
    )["publishStatusIncident"]
    assert bad["userErrors"][0]["field"] == "title" and bad["userErrors"][0]["code"] == "INVALID"
    unknown = (
        await responder(
            PUBLISH,
            {
                "input": {
                    "title": "t",
                    "message": "m",
                    "affected": [{"componentId": "nope", "status": "MAJOR_OUTAGE"}],
                }
            },
        )
    )["publishStatusIncident"]
    assert unknown["userErrors"][0] == {
        "field": "affected",
        "code": "NOT_FOUND",
        "message": "No status component with that id.",
    }
    missing = (
        await responder(
            POST, {"input": {"statusIncidentId": "x", "status": "IDENTIFIED", "message": "m"}}
        )
    )["postStatusUpdate"]
    assert missing["userErrors"] == [{"field": "statusIncidentId", "code": "NOT_FOUND"}]


async def test_a_member_is_refused_and_a_hidden_incident_is_missing(api, people, db):
    member = await api.as_(people.member)
    refused = (await member(PUBLISH, {"input": {"title": "t", "message": "m"}}))[
        "publishStatusIncident"
    ]
    assert refused["statusIncident"] is None
    assert refused["userErrors"][0]["code"] == "FORBIDDEN"

    secret = await declarations.declare(
        db, actor=people.responder, name="Payroll leak", private=True
    )
    outsider = await api.as_(people.other_responder)

    async def link(incident_key):
        answer = (
            await outsider(
                PUBLISH,
                {
                    "input": {
                        "incidentId": ids.encode("Incident", incident_key),
                        "title": "t",
                        "message": "m",
                    }
                },
            )
        )["publishStatusIncident"]
        return answer["userErrors"]

    assert await link(secret.id) == await link(999_999)
    assert (await link(secret.id))[0]["code"] == "NOT_FOUND"

    # Its member links it; the link is null for everyone who may not see the incident.
    insider = await api.as_(people.responder)
    published = (
        await insider(
            PUBLISH,
            {
                "input": {
                    "incidentId": ids.encode("Incident", secret.id),
                    "title": "Slow logins",
                    "message": "Looking.",
                }
            },
        )
    )["publishStatusIncident"]["statusIncident"]
    assert published["incident"] == {"reference": secret.reference}
    seen = (await outsider(ONE, {"id": published["id"]}))["statusIncident"]
    assert seen == {"title": "Slow logins", "incident": None}
    listed = (await outsider(INCIDENTS, {"open": True}))["statusIncidents"]
    assert [i["incident"] for i in listed] == [None]
    posted = (
        await outsider(
            POST,
            {"input": {"statusIncidentId": published["id"], "status": "RESOLVED", "message": "x"}},
        )
    )["postStatusUpdate"]
    assert posted["userErrors"][0]["code"] == "FORBIDDEN"


async def test_schedule_maintenance(api, people, db):
    admin = await api.as_(people.admin)
    made, _ = await components(admin)
    now = db.now()
    window = {
        "title": "Database upgrade",
        "message": "PostgreSQL 17.",
        "startsAt": (now + timedelta(hours=1)).isoformat(),
        "endsAt": (now + timedelta(hours=2)).isoformat(),
        "componentIds": [made["id"]],
    }
    scheduled = (await admin(SCHEDULE, {"input": window}))["scheduleMaintenance"]
    assert scheduled["userErrors"] == []
    maintenance = scheduled["statusIncident"]
    assert (maintenance["kind"], maintenance["state"]) == ("MAINTENANCE", "SCHEDULED")
    assert maintenance["affected"] == [
        {"component": {"name": "API"}, "status": "UNDER_MAINTENANCE"}
    ]
    backwards = {**window, "endsAt": (now - timedelta(hours=1)).isoformat()}
    refused = (await admin(SCHEDULE, {"input": backwards}))["scheduleMaintenance"]
    assert refused["userErrors"] == [{"field": "endsAt", "code": "INVALID"}]
    nothing = (await admin(SCHEDULE, {"input": {**window, "componentIds": []}}))[
        "scheduleMaintenance"
    ]
    assert nothing["userErrors"] == [{"field": "componentIds", "code": "INVALID"}]
    member = await api.as_(people.member)
    forbidden = (await member(SCHEDULE, {"input": window}))["scheduleMaintenance"]
    assert forbidden["userErrors"][0]["code"] == "FORBIDDEN"


SUBSCRIBE = """
mutation($email: String!) {
  subscribeToStatusPage(input: {email: $email}) { accepted userErrors { field code message } }
}"""


async def test_subscribing_over_the_api_needs_email_and_a_token_opens_nothing_forged(api, people):
    member = await api.as_(people.member)
    refused = (await member(SUBSCRIBE, {"email": "c@example.com"}))["subscribeToStatusPage"]
    assert refused["accepted"] is False
    assert refused["userErrors"][0]["code"] == "INVALID"
    assert "sends no email" in refused["userErrors"][0]["message"]
    query = "query($t: String!) { statusSubscription(token: $t) { email } }"
    assert (await member(query, {"t": "a.b"}))["statusSubscription"] is None
    gone = """mutation { unsubscribeFromStatusPage(input: {token: "a.b"}) {
      unsubscribed userErrors { field code } } }"""
    assert (await member(gone))["unsubscribeFromStatusPage"] == {
        "unsubscribed": False, "userErrors": [{"field": "token", "code": "NOT_FOUND"}],
    }  # fmt: skip

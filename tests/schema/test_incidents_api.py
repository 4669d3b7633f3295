"""Declaring and working incidents through /graphql, as integrators do."""

DECLARE = """
mutation Declare($input: DeclareIncidentInput!) {
  declareIncident(input: $input) {
    incident { id reference name private mode version status { name category } severity { name rank }
               type { name } reporter { email } lead { email } }
    userErrors { field message code }
  }
}
"""

INCIDENT = """
query One($id: ID, $reference: String) {
  incident(id: $id, reference: $reference) {
    id reference name version status { name } severity { name } nextUpdateDueAt
    latestUpdate { message author { email } }
    roleAssignments { role { name } user { email } }
    timeline(first: 50) { totalCount edges { node { kind summary actor { email } } } }
    actions { title status owner { email } }
    followUps { title }
    followedByMe viewerCanEdit
  }
}
"""


async def catalog(client):
    data = await client(
        "{ severities { id name } statuses { id name category } incidentTypes { id name }"
        " incidentRoles { id name kind } customFields { id name kind options { id value } } }"
    )
    return {
        "severity": {s["name"]: s["id"] for s in data["severities"]},
        "status": {s["name"]: s["id"] for s in data["statuses"]},
        "type": {t["name"]: t["id"] for t in data["incidentTypes"]},
        "role": {r["name"]: r["id"] for r in data["incidentRoles"]},
        "field": {f["name"]: f for f in data["customFields"]},
    }


async def test_viewer_and_catalog(api, people):
    client = await api.as_(people.responder)
    data = await client("{ viewer { email name role } }")
    assert data["viewer"] == {
        "email": "rita@example.com",
        "name": "Rita Responder",
        "role": "RESPONDER",
    }
    ids = await catalog(client)
    assert list(ids["severity"]) == ["Minor", "Major", "Critical"]
    assert "Game day" in ids["type"]


async def test_declare_and_run_an_incident(api, people):
    support = await api.as_(people.member)
    sre = await api.as_(people.responder)
    ids = await catalog(sre)
    teams = ids["field"]["Affected teams"]
    declared = await support(
        DECLARE,
        {"input": {"name": "34 customers can't log in", "summary": "After password reset",
                   "customFields": [{"fieldId": teams["id"], "optionIds": [teams["options"][0]["id"]]}]}},
    )  # fmt: skip
    payload = declared["declareIncident"]
    assert payload["userErrors"] == []
    incident = payload["incident"]
    assert incident["reference"] == "INC-1"
    assert incident["status"] == {"name": "Investigating", "category": "ACTIVE"}
    assert incident["reporter"] == {"email": "mo@example.com"}
    assert incident["lead"] is None

    taken = await sre(
        """mutation($input: AssignIncidentRoleInput!) { assignIncidentRole(input: $input) {
             incident { lead { email } version } userErrors { code } } }""",
        {"input": {"incidentId": incident["id"], "roleId": ids["role"]["Incident lead"],
                   "userId": (await sre("{ viewer { id } }"))["viewer"]["id"]}},
    )  # fmt: skip
    assert taken["assignIncidentRole"]["incident"]["lead"] == {"email": "rita@example.com"}

    shared = await sre(
        """mutation($input: ShareUpdateInput!) { shareUpdate(input: $input) {
             update { message status { name } severity { name } nextUpdateInMinutes }
             incident { status { name } severity { name } nextUpdateDueAt version }
             userErrors { code } } }""",
        {"input": {"incidentId": incident["id"], "message": "Rolling back the auth change.",
                   "statusId": ids["status"]["Fixing"], "severityId": ids["severity"]["Major"],
                   "nextUpdateInMinutes": 15, "expectedVersion": 2}},
    )  # fmt: skip
    result = shared["shareUpdate"]
    assert result["userErrors"] == []
    assert result["update"]["status"] == {"name": "Fixing"}
    assert result["incident"]["nextUpdateDueAt"] is not None
    assert result["incident"]["version"] == 3

    await sre(
        """mutation($input: AddActionInput!) { addAction(input: $input) { action { id } } }""",
        {"input": {"incidentId": incident["id"], "title": "Roll back", "ownerId": None}},
    )
    seen = (await support(INCIDENT, {"reference": "inc-1"}))["incident"]
    assert seen["latestUpdate"] == {"message": "Rolling back the auth change.",
                                    "author": {"email": "rita@example.com"}}  # fmt: skip
    assert [e["node"]["kind"] for e in seen["timeline"]["edges"]] == [
        "DECLARED", "ROLE_ASSIGNED", "UPDATE_SHARED", "ACTION_ADDED",
    ]  # fmt: skip
    assert seen["timeline"]["edges"][2]["node"]["summary"].startswith("Update shared (status")
    assert seen["actions"] == [{"title": "Roll back", "status": "OPEN", "owner": None}]
    assert seen["viewerCanEdit"] is True  # the reporter
    assert seen["followedByMe"] is False


async def test_user_errors_and_conflicts(api, people):
    sre = await api.as_(people.responder)
    ids = await catalog(sre)
    blank = await sre(DECLARE, {"input": {"name": "  "}})
    assert blank["declareIncident"] == {
        "incident": None,
        "userErrors": [{"field": "name", "message": "Name cannot be empty.", "code": "INVALID"}],
    }
    incident = (await sre(DECLARE, {"input": {"name": "Flaky"}}))["declareIncident"]["incident"]
    change = """mutation($input: ChangeIncidentSeverityInput!) { changeIncidentSeverity(input: $input) {
                  incident { severity { name } } userErrors { field code } } }"""
    first = await sre(change, {"input": {"incidentId": incident["id"],
                                         "severityId": ids["severity"]["Major"], "expectedVersion": 1}})  # fmt: skip
    assert first["changeIncidentSeverity"]["userErrors"] == []
    stale = await sre(change, {"input": {"incidentId": incident["id"],
                                         "severityId": ids["severity"]["Critical"], "expectedVersion": 1}})  # fmt: skip
    assert stale["changeIncidentSeverity"] == {
        "incident": None, "userErrors": [{"field": "expectedVersion", "code": "CONFLICT"}],
    }  # fmt: skip
    for bad_id in ("nonsense", "SW5jaWRlbnQ6OTk5", ids["severity"]["Major"]):
        missing = await sre(
            change, {"input": {"incidentId": bad_id, "severityId": ids["severity"]["Minor"]}}
        )
        assert missing["changeIncidentSeverity"]["userErrors"] == [
            {"field": "incidentId", "code": "NOT_FOUND"}
        ]
    triage = await sre(
        """mutation($input: ChangeIncidentStatusInput!) { changeIncidentStatus(input: $input) {
             userErrors { code } } }""",
        {"input": {"incidentId": incident["id"], "statusId": ids["status"]["Triage"]}},
    )
    assert triage["changeIncidentStatus"]["userErrors"] == [{"code": "INVALID_TRANSITION"}]
    again = {"input": {"name": "Once", "idempotencyKey": "abc"}}
    one = await sre(DECLARE, again)
    two = await sre(DECLARE, again)
    assert one["declareIncident"]["incident"]["id"] == two["declareIncident"]["incident"]["id"]
    other = await sre(DECLARE, {"input": {"name": "Twice", "idempotencyKey": "abc"}})
    assert other["declareIncident"]["userErrors"][0]["code"] == "IDEMPOTENCY_MISMATCH"


async def test_read_tokens_cannot_change_anything(api, people):
    from app.models import TokenScope

    reader = await api.as_(people.responder, TokenScope.READ)
    refused = await reader(DECLARE, {"input": {"name": "Nope"}})
    assert refused["declareIncident"]["userErrors"][0]["code"] == "FORBIDDEN"
    listed = await reader("{ incidents { totalCount } }")
    assert listed["incidents"]["totalCount"] == 0


async def test_incident_list_pages_filters_and_search(api, people):
    sre = await api.as_(people.responder)
    ids = await catalog(sre)
    for n in range(7):
        await sre(DECLARE, {"input": {"name": f"Payments {n}" if n % 2 else f"Login {n}",
                                      "severityId": ids["severity"]["Major" if n < 3 else "Minor"]}})  # fmt: skip
    page = """query($after: String, $filter: IncidentFilter) {
      incidents(first: 3, after: $after, filter: $filter) {
        totalCount pageInfo { hasNextPage endCursor } edges { cursor node { name } } } }"""
    names, after = [], None
    while True:
        data = (await sre(page, {"after": after}))["incidents"]
        assert data["totalCount"] == 7
        names += [e["node"]["name"] for e in data["edges"]]
        if not data["pageInfo"]["hasNextPage"]:
            break
        after = data["pageInfo"]["endCursor"]
    assert names == [
        "Login 6", "Payments 5", "Login 4", "Payments 3", "Login 2", "Payments 1", "Login 0",
    ]  # fmt: skip
    major = (await sre(page, {"filter": {"severityIds": [ids["severity"]["Major"]]}}))["incidents"]
    assert [e["node"]["name"] for e in major["edges"]] == ["Login 2", "Payments 1", "Login 0"]
    found = (await sre(page, {"filter": {"search": "payme"}}))["incidents"]
    assert found["totalCount"] == 3
    too_many = await sre.post("{ incidents(first: 101) { totalCount } }")
    assert too_many.json()["errors"][0]["extensions"]["code"] == "INVALID"
    bad_cursor = await sre.post('{ incidents(after: "zzz") { totalCount } }')
    assert "cursor" in bad_cursor.json()["errors"][0]["message"]


async def test_an_incidents_type_lists_its_custom_fields(api, people):
    client = await api.as_(people.member)
    ids = await catalog(client)
    await client(
        DECLARE, {"input": {"name": "Refunds stuck", "typeId": ids["type"]["Customer issue"]}}
    )
    data = await client('{ incident(reference: "INC-1") { type { name customFields { name } } } }')
    kind = data["incident"]["type"]
    assert kind["name"] == "Customer issue"
    assert kind["customFields"], "the type's custom fields are listed"

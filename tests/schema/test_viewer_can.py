"""Incident.viewerCan and Incident.nextStatuses through the API: each right is true for the people
PRODUCT.md gives it to and false for the rest; a private incident's outsider sees nothing."""

from tests.schema.conftest import Api

DECLARE = """mutation($input: DeclareIncidentInput!) { declareIncident(input: $input) {
  incident { reference } userErrors { message } } }"""
READ = """query($ref: String!) { incident(reference: $ref) {
  viewerCanEdit status { category }
  nextStatuses { category }
  viewerCan { edit triage shareUpdate addNote invite holdRole manageMembers workOnOwn } } }"""
FIELDS = ("edit", "triage", "shareUpdate", "addNote", "invite", "holdRole", "manageMembers")


async def _declare(client, **input):
    data = await client(DECLARE, {"input": {"name": "Checkout down", **input}})
    assert data["declareIncident"]["userErrors"] == []
    return data["declareIncident"]["incident"]["reference"]


async def _can(api: Api, user, reference):
    incident = (await (await api.as_(user))(READ, {"ref": reference}))["incident"]
    if incident is None:
        return None
    assert incident["viewerCanEdit"] == incident["viewerCan"]["edit"]
    return {name for name in FIELDS if incident["viewerCan"][name]}


async def test_rights_on_a_public_incident(api: Api, people):
    reporter = await api.as_(people.member)
    reference = await _declare(reporter)
    editor = {"edit", "shareUpdate", "addNote", "holdRole", "manageMembers"}
    assert await _can(api, people.responder, reference) == editor
    assert await _can(api, people.admin, reference) == editor
    assert await _can(api, people.member, reference) == editor  # the reporter
    assert await _can(api, people.other_member, reference) == {"addNote", "holdRole"}
    assert await _can(api, people.viewer, reference) == set()


async def test_triage_is_for_responders_while_in_triage(api: Api, people):
    reference = await _declare(await api.as_(people.member), triage=True)
    assert "triage" in await _can(api, people.responder, reference)
    assert "triage" not in await _can(api, people.member, reference)
    active = await _declare(await api.as_(people.member))
    assert "triage" not in await _can(api, people.responder, active)


async def test_private_incident(api: Api, people):
    reference = await _declare(await api.as_(people.member), private=True)
    assert await _can(api, people.member, reference) == {
        "edit",
        "shareUpdate",
        "addNote",
        "invite",
        "holdRole",
        "manageMembers",
    }
    assert await _can(api, people.responder, reference) is None
    assert await _can(api, people.admin, reference) is None


async def test_next_statuses_follow_the_state_machine(api: Api, people):
    member = await api.as_(people.member)
    triage = (await member(READ, {"ref": await _declare(member, triage=True)}))["incident"]
    assert triage["nextStatuses"] == []
    active = (await member(READ, {"ref": await _declare(member)}))["incident"]
    assert active["status"]["category"] == "ACTIVE"
    assert {s["category"] for s in active["nextStatuses"]} <= {
        "ACTIVE",
        "POST_INCIDENT",
        "CLOSED",
        "CANCELED",
    }
    assert {"POST_INCIDENT", "CLOSED", "CANCELED"} <= {
        s["category"] for s in active["nextStatuses"]
    }
    viewer = await (await api.as_(people.viewer))(READ, {"ref": await _declare(member)})
    assert viewer["incident"]["nextStatuses"] == []  # who may not edit it is offered no move


async def test_next_statuses_cost_the_same_statements_for_two_incidents_or_six(api: Api, people):
    from sqlalchemy import event

    rita = await api.as_(people.responder)
    query = "{ incidents(first: 20) { edges { node { nextStatuses { name } } } } }"
    engine = api.http._transport.app.state.services.db.engine.sync_engine
    counts = []
    for total in (2, 6):
        while (await rita("{ incidents { totalCount } }"))["incidents"]["totalCount"] < total:
            await _declare(rita)
        await rita(query)  # the catalog is read by the first request asking (app.catalog_cache)
        statements: list[str] = []

        def record(_conn, _cursor, statement, *_, statements=statements):
            statements.append(statement)

        event.listen(engine, "before_cursor_execute", record)
        try:
            data = await rita(query)
        finally:
            event.remove(engine, "before_cursor_execute", record)
        assert all(edge["node"]["nextStatuses"] for edge in data["incidents"]["edges"])
        counts.append(len(statements))
    assert counts[0] == counts[1], counts


async def test_the_roles_say_whether_they_can_be_given_and_left_empty(api: Api, people):
    client = await api.as_(people.responder)
    roles = (await client("{ incidentRoles { kind required assignable mayBeEmpty } }"))[
        "incidentRoles"
    ]
    by_kind = {(r["kind"], r["required"]): (r["assignable"], r["mayBeEmpty"]) for r in roles}
    assert by_kind[("REPORTER", False)] == (False, False)  # whoever declared
    assert by_kind[("LEAD", True)] == (True, False)  # required: handed over, never emptied
    assert by_kind[("COMMUNICATIONS", False)] == (True, True)

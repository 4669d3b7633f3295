"""A private incident does not exist for people outside it: every path answers as for an id
that was never created, byte for byte, and nothing they try changes it."""

import pytest
from sqlalchemy import func, select

from app.models import Action, TimelineEvent
from app.services import actions, declarations
from schema import ids
from tests.schema.test_incidents_api import catalog


@pytest.fixture
async def secret(db, people):
    """A private security incident with an action, of which the cast's member is the reporter."""
    async with db.read() as session:
        from app.services.catalog import list_incident_types

        security = next(t for t in await list_incident_types(session) if t.name == "Security")
    incident = await declarations.declare(
        db, actor=people.member, name="Laptop stolen", summary="Contains prod keys",
        type_id=security.id,
    )  # fmt: skip
    action = await actions.add_action(
        db, actor=people.member, incident_id=incident.id, title="Wipe"
    )
    return incident, action


def mutation(name, input_type, fields):
    return (
        f"mutation($input: {input_type}!) {{ {name}(input: $input) {{ "
        f"userErrors {{ field message code }} {fields} }} }}"
    )


async def test_every_path_answers_as_for_a_missing_incident(api, db, people, secret):
    incident, action = secret
    hidden = ids.encode("Incident", incident.id)
    never = ids.encode("Incident", 999_999)
    outsider = await api.as_(people.admin)  # no role sees private incidents implicitly
    insider = await api.as_(people.member)
    ref = await catalog(outsider)
    me = (await outsider("{ viewer { id } }"))["viewer"]["id"]
    public = (await insider(
        'mutation { declareIncident(input: {name: "Public one"}) { incident { id } } }'
    ))["declareIncident"]["incident"]["id"]  # fmt: skip

    async def same(query, make_variables):
        shown = await outsider.post(query, make_variables(hidden))
        absent = await outsider.post(query, make_variables(never))
        assert shown.status_code == absent.status_code == 200
        assert shown.content == absent.content, query
        return shown.json()

    # Reads.
    one = "query($id: ID) { incident(id: $id) { name } }"
    assert (await same(one, lambda i: {"id": i}))["data"] == {"incident": None}
    by_ref = await outsider.post('{ incident(reference: "INC-1") { name } }')
    never_ref = await outsider.post('{ incident(reference: "INC-999") { name } }')
    assert by_ref.content == never_ref.content
    for wanted in ({}, {"private": True}, {"search": "laptop"}, {"search": "prod keys"},
                   {"typeIds": [ref["type"]["Security"]]}):  # fmt: skip
        listed = await outsider(
            "query($f: IncidentFilter) { incidents(filter: $f) { totalCount edges { node { name } } } }",
            {"f": wanted},
        )
        names = [e["node"]["name"] for e in listed["incidents"]["edges"]]
        assert "Laptop stolen" not in names
        assert listed["incidents"]["totalCount"] == len(names)
    assert (await insider('{ incidents(filter: {search: "laptop"}) { totalCount } }'))["incidents"][
        "totalCount"
    ] == 1

    # Writes.
    writes = [
        ("shareUpdate", "ShareUpdateInput", {"message": "hi"}),
        ("changeIncidentStatus", "ChangeIncidentStatusInput", {"statusId": ref["status"]["Fixing"]}),
        ("changeIncidentSeverity", "ChangeIncidentSeverityInput",
         {"severityId": ref["severity"]["Critical"]}),
        ("changeIncidentDetails", "ChangeIncidentDetailsInput", {"name": "Renamed"}),
        ("changeIncidentVisibility", "ChangeIncidentVisibilityInput", {"private": False}),
        ("assignIncidentRole", "AssignIncidentRoleInput",
         {"roleId": ref["role"]["Incident lead"], "userId": me}),
        ("unassignIncidentRole", "UnassignIncidentRoleInput",
         {"roleId": ref["role"]["Communications lead"]}),
        ("acceptIncident", "AcceptIncidentInput", {}),
        ("declineIncident", "DeclineIncidentInput", {"reason": "no"}),
        ("mergeIncident", "MergeIncidentInput", {"intoId": public}),
        ("addAction", "AddActionInput", {"title": "peek"}),
        ("addFollowUp", "AddFollowUpInput", {"title": "peek"}),
        ("followIncident", "FollowIncidentInput", {}),
        ("unfollowIncident", "UnfollowIncidentInput", {}),
        ("inviteToIncident", "InviteToIncidentInput", {"userId": me}),
        ("removeFromIncident", "RemoveFromIncidentInput", {"userId": me}),
        ("addNote", "AddNoteInput", {"message": "peek"}),
    ]  # fmt: skip
    for name, input_type, extra in writes:
        answer = await same(
            mutation(name, input_type, "__typename"),
            lambda i, extra=extra: {"input": {"incidentId": i, **extra}},
        )
        assert answer["data"][name]["userErrors"][0]["code"] == "NOT_FOUND", name
    field = ref["field"]["Customers affected"]["id"]
    await same(
        mutation("setCustomFieldValue", "SetCustomFieldValueInput", "__typename"),
        lambda i: {"input": {"incidentId": i, "value": {"fieldId": field, "number": 3}}},
    )
    # Merging a public incident into the hidden one names it no more than a missing one.
    await same(
        mutation("mergeIncident", "MergeIncidentInput", "__typename"),
        lambda i: {"input": {"incidentId": public, "intoId": i}},
    )
    # Work items of the hidden incident are as missing as ones never made.
    hidden_action = ids.encode("Action", action.id)
    never_action = ids.encode("Action", 999_999)
    update = mutation("updateAction", "UpdateActionInput", "__typename")
    a = await outsider.post(update, {"input": {"actionId": hidden_action, "title": "x"}})
    b = await outsider.post(update, {"input": {"actionId": never_action, "title": "x"}})
    assert a.content == b.content
    assert a.json()["data"]["updateAction"]["userErrors"][0]["code"] == "NOT_FOUND"

    # Nothing the outsider tried left a trace.
    async with db.read() as session:
        events = await session.scalar(
            select(func.count()).select_from(TimelineEvent)
            .where(TimelineEvent.incident_id == incident.id)
        )  # fmt: skip
        work = await session.scalar(select(func.count()).select_from(Action))
    assert events == 2  # declared, action added
    assert work == 1


def test_live_feeds_run_selections_that_depend_on_the_viewer_per_viewer():
    """A merged incident's target may be hidden from some subscribers: never shared."""
    from graphql import parse

    from schema import schema
    from schema.viewers import selects_per_viewer

    def _per_viewer(document):
        return selects_per_viewer(schema._schema, document, schema.live.per_viewer_fields)

    for field in ("mergedInto { reference }", "followedByMe", "viewerCanEdit"):
        document = parse(f"subscription {{ incidentEvents {{ incident {{ {field} }} }} }}")
        assert _per_viewer(document), field
    assert not _per_viewer(parse("subscription { incidentEvents { incident { name } } }"))

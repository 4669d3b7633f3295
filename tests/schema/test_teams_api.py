"""Teams over the API: admins make and change them, anyone signed in reads them, and every
refusal is a user error naming the input at fault."""

from __future__ import annotations

from app.models import TokenScope
from app.services import teams
from schema import ids
from schema.cost import MAX_COST

TEAM = "team { id name description oidcGroup memberCount members { name } }"
CREATE = f"""mutation($input: CreateTeamInput!) {{
  createTeam(input: $input) {{ {TEAM} userErrors {{ field code message }} }}
}}"""
UPDATE = f"""mutation($input: UpdateTeamInput!) {{
  updateTeam(input: $input) {{ {TEAM} userErrors {{ field code message }} }}
}}"""
ADD = f"""mutation($input: TeamMembersInput!) {{
  addTeamMembers(input: $input) {{ {TEAM} userErrors {{ field code message }} }}
}}"""
REMOVE = f"""mutation($input: TeamMembersInput!) {{
  removeTeamMembers(input: $input) {{ {TEAM} userErrors {{ field code message }} }}
}}"""
TEAMS = "{ teams { id name memberCount members(first: 2) { id name } } }"


def uid(user):
    return ids.encode("User", user.id)


async def test_an_admin_makes_and_runs_a_team(api, people):
    admin = await api.as_(people.admin)
    made = (
        await admin(
            CREATE,
            {
                "input": {
                    "name": "Leadership",
                    "description": "Decides.",
                    "oidcGroup": "leads",
                    "memberIds": [uid(people.member), uid(people.responder)],
                }
            },
        )
    )["createTeam"]
    assert made["userErrors"] == []
    team = made["team"]
    assert team["name"] == "Leadership" and team["oidcGroup"] == "leads"
    assert team["memberCount"] == 2
    assert [m["name"] for m in team["members"]] == ["Mo Member", "Rita Responder"]

    added = await admin(ADD, {"input": {"teamId": team["id"], "userIds": [uid(people.admin)]}})
    assert added["addTeamMembers"]["team"]["memberCount"] == 3
    removed = await admin(
        REMOVE, {"input": {"teamId": team["id"], "userIds": [uid(people.member)]}}
    )
    assert [m["name"] for m in removed["removeTeamMembers"]["team"]["members"]] == [
        "Ada Admin",
        "Rita Responder",
    ]
    updated = await admin(
        UPDATE, {"input": {"teamId": team["id"], "name": "Leaders", "oidcGroup": ""}}
    )
    assert updated["updateTeam"]["team"]["name"] == "Leaders"
    assert updated["updateTeam"]["team"]["oidcGroup"] is None
    assert updated["updateTeam"]["team"]["description"] == "Decides."


async def test_anyone_signed_in_reads_teams(api, people):
    await teams.create_team(
        api.db, actor=people.admin, name="Support",
        member_ids=[people.member.id, people.responder.id, people.admin.id],
    )  # fmt: skip
    await teams.create_team(api.db, actor=people.admin, name="Data")
    viewer = await api.as_(people.viewer, TokenScope.READ)
    listed = (await viewer(TEAMS))["teams"]
    assert [(t["name"], t["memberCount"]) for t in listed] == [("Data", 0), ("Support", 3)]
    assert [m["name"] for m in listed[1]["members"]] == ["Ada Admin", "Mo Member"]
    one = await viewer(
        "query($id: ID!) { team(id: $id) { name members { name } } }", {"id": listed[1]["id"]}
    )
    assert one["team"]["name"] == "Support"
    for nothing in ("not-an-id", ids.encode("Team", 999_999), uid(people.member)):
        assert (await viewer("query($id: ID!) { team(id: $id) { name } }", {"id": nothing})) == {
            "team": None
        }
    # Strangers read nothing.
    stranger = await api.anonymous().post(TEAMS)
    assert stranger.status_code == 401


async def test_only_admins_change_teams(api, people):
    team = await teams.create_team(api.db, actor=people.admin, name="Support")
    team_id = ids.encode("Team", team.id)
    for person in (people.viewer, people.member, people.responder):
        client = await api.as_(person)
        attempts = [
            ("createTeam", CREATE, {"name": "Mine"}),
            ("updateTeam", UPDATE, {"teamId": team_id, "name": "Taken"}),
            ("addTeamMembers", ADD, {"teamId": team_id, "userIds": [uid(person)]}),
            ("removeTeamMembers", REMOVE, {"teamId": team_id, "userIds": []}),
        ]
        for name, document, variables in attempts:
            answer = (await client(document, {"input": variables}))[name]
            assert answer["team"] is None
            assert [e["code"] for e in answer["userErrors"]] == ["FORBIDDEN"], name
    # An admin's read-only token cannot either.
    reader = await api.as_(people.admin, TokenScope.READ)
    answer = (await reader(CREATE, {"input": {"name": "Mine"}}))["createTeam"]
    assert [e["code"] for e in answer["userErrors"]] == ["FORBIDDEN"]
    listed = (await reader(TEAMS))["teams"]
    assert [(t["name"], t["memberCount"]) for t in listed] == [("Support", 0)]


async def test_what_the_api_refuses(api, people):
    await teams.create_team(api.db, actor=people.admin, name="Support", oidc_group="support")
    admin = await api.as_(people.admin)
    wrong = [
        ({"name": ""}, "name", "INVALID"),
        ({"name": "SUPPORT"}, "name", "INVALID"),
        ({"name": "n" * 101}, "name", "INVALID"),
        ({"name": "Ok", "description": "d" * 2001}, "description", "INVALID"),
        ({"name": "Ok", "oidcGroup": "support"}, "oidcGroup", "INVALID"),
        ({"name": "Ok", "oidcGroup": "g" * 201}, "oidcGroup", "INVALID"),
        ({"name": "Ok", "memberIds": ["nonsense"]}, "memberIds", "INVALID"),
        ({"name": "Ok", "memberIds": [ids.encode("User", 999_999)]}, "memberIds", "INVALID"),
        ({"name": "Ok", "memberIds": [uid(people.member)] * 1001}, "memberIds", "INVALID"),
    ]
    for given, field, code in wrong:
        answer = (await admin(CREATE, {"input": given}))["createTeam"]
        assert answer["team"] is None, given
        assert [(e["field"], e["code"]) for e in answer["userErrors"]] == [(field, code)], given
    missing = {"teamId": ids.encode("Team", 999_999), "userIds": [uid(people.member)]}
    for name, document in (("addTeamMembers", ADD), ("removeTeamMembers", REMOVE)):
        answer = (await admin(document, {"input": missing}))[name]
        assert [(e["field"], e["code"]) for e in answer["userErrors"]] == [("teamId", "NOT_FOUND")]
    answer = (await admin(UPDATE, {"input": {"teamId": "nope", "name": "x"}}))["updateTeam"]
    assert [(e["field"], e["code"]) for e in answer["userErrors"]] == [("teamId", "NOT_FOUND")]
    assert [t["name"] for t in (await admin(TEAMS))["teams"]] == ["Support"]


async def test_member_pages_are_bounded_and_costed(api, people):
    await teams.create_team(api.db, actor=people.admin, name="Support")
    viewer = await api.as_(people.viewer)
    too_many = await viewer.post("{ teams { members(first: 101) { id } } }")
    assert too_many.json()["errors"][0]["extensions"]["code"] == "INVALID"
    # Ten teams of a hundred people, every field: the cost model counts them.
    fields = "id email name role canHoldRole"
    aliases = " ".join(f"t{n}: teams {{ members(first: 100) {{ {fields} }} }}" for n in range(13))
    costly = await viewer.post(f"{{ {aliases} }}")
    assert costly.json()["errors"][0]["extensions"]["code"] == "TOO_COSTLY", MAX_COST

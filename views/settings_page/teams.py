"""The teams tab (admins), ``/settings/teams``: every team with how many people it has and a form
for a new one; ``/settings/teams/<id>`` is one team, with its edit form (name, description,
identity-provider group), its people (checked ones taken out with one button) and a person
search whose results are checked and added the same way, so it all works without a script.

Every change goes through the team mutations and redirects back (303) to the team, saying what
was done; a refused form is drawn again with the input kept and the messages on their fields
(422). Anyone but an admin is told that only admins may (403) and nothing changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from views import signed_in
from views.pages import is_htmx, run
from views.settings_page import answers, kinds

DONE = {
    "created": "Created “{}”. Add its people below.",
    "saved": "Saved the changes to “{}”.",
    "added": "Added the people you chose to “{}”.",
    "removed": "Took the people you chose out of “{}”.",
}
MISSING = "No team with that id."
BLANK = {"name": "", "description": "", "oidcGroup": ""}
# Where each mutation input's errors go on the page's forms.
FIELDS = {"name": "name", "description": "description", "oidcGroup": "oidcGroup",
          "memberIds": "userIds", "userIds": "userIds"}  # fmt: skip


def _problem(
    key: str, reading: kinds.Reading, user_errors: list[Mapping[str, Any]]
) -> kinds.Problem:
    """A refused form, its messages placed on the page's own field names."""
    errors: list[Mapping[str, Any]] = [
        {**e, "field": FIELDS.get(e.get("field") or "", e.get("field"))} for e in user_errors
    ]
    return kinds.problem(key, reading, errors)


def _read(form: Any) -> kinds.Reading:
    values = {name: kinds.text(form, name) for name in BLANK}
    return kinds.Reading(dict(values), values)


# The list ----------------------------------------------------------------------------------------


@signed_in.page
async def teams_page(request: Request) -> Response:
    return await _teams(request, 200)


async def _teams(
    request: Request, status: int, *, problem: kinds.Problem | None = None
) -> Response:
    data = await run(request, "SettingsTeams")
    if not answers.is_admin(data):
        return await answers.refusal(request, 403, answers.ADMIN_ONLY)
    return await answers.render(
        request,
        "teams",
        status,
        admin=True,
        viewer_can=data["viewerCan"],
        title="Teams",
        teams=data["teams"],
        team=None,
        values={"new": problem.values if problem else dict(BLANK)},
        problem=problem,
    )


@signed_in.page
async def create_team(request: Request) -> Response:
    reading = _read(await request.form())
    payload = await answers.mutate(request, "SettingsTeamCreate", dict(reading.input))
    refused = await answers.refused(request, payload, "")
    if refused is not None:
        return refused
    assert payload is not None
    if payload["userErrors"]:
        return await _teams(request, 422, problem=_problem("new", reading, payload["userErrors"]))
    return await _after(request, payload["item"]["id"], "created")


# One team --------------------------------------------------------------------------------------


@signed_in.page
async def team_page(request: Request) -> Response:
    search = request.query_params.get("search", "")[: answers.MAX_SEARCH]
    team_id = request.path_params["team_id"]
    return await _team(request, team_id, 200, search=search, done=answers.done(request, DONE))


async def _team(
    request: Request,
    team_id: str,
    status: int,
    *,
    search: str = "",
    problem: kinds.Problem | None = None,
    done: tuple[str, str] | None = None,
) -> Response:
    variables = {"id": team_id, "search": search, "searching": bool(search.strip())}
    data = await answers.one(request, "SettingsTeam", variables, key="team", missing=MISSING)
    if isinstance(data, Response):
        return data
    team = data["team"]
    members = team["members"]
    inside = {m["id"] for m in members}
    found = [u for u in data.get("users") or [] if u["id"] not in inside]
    values = {
        team["id"]: {k: team[k] or "" for k in BLANK},
        "add": {"userIds": []},
        "remove": {"userIds": []},
    }
    if problem is not None:
        values[problem.key] = problem.values
    return await answers.render(
        request,
        "teams",
        status,
        admin=True,
        viewer_can=data["viewerCan"],
        title=team["name"],
        team=team,
        members=members,
        search=search,
        searching=variables["searching"],
        found=found,
        values=values,
        problem=problem,
        notice=answers.notice(done, [team], said=DONE),
    )


@signed_in.page
async def update_team(request: Request) -> Response:
    team_id = request.path_params["team_id"]
    reading = _read(await request.form())
    payload = await answers.mutate(
        request, "SettingsTeamUpdate", {"teamId": team_id, **reading.input}
    )
    return await _answer(request, payload, team_id, "saved", reading)


@signed_in.page
async def add_members(request: Request) -> Response:
    return await _members(request, "SettingsTeamAdd", "add", "added")


@signed_in.page
async def remove_members(request: Request) -> Response:
    return await _members(request, "SettingsTeamRemove", "remove", "removed")


async def _members(request: Request, operation: str, key: str, verb: str) -> Response:
    team_id = request.path_params["team_id"]
    form = await request.form()
    chosen = kinds.texts(form, "userIds")
    search = kinds.text(form, "search")[: answers.MAX_SEARCH]
    values: dict[str, Any] = {"userIds": chosen}
    if not chosen:
        reading = kinds.Reading(values, values, {"userIds": "Choose at least one person."})
        problem = _problem(key, reading, [])
        return await _team(request, team_id, 422, search=search, problem=problem)
    payload = await answers.mutate(request, operation, {"teamId": team_id, "userIds": chosen})
    return await _answer(
        request, payload, team_id, verb, kinds.Reading(values, values), key, search
    )


async def _answer(
    request: Request,
    payload: dict[str, Any] | None,
    team_id: str,
    verb: str,
    reading: kinds.Reading,
    key: str | None = None,
    search: str = "",
) -> Response:
    """The answer to one of a team's forms: a refusal, the form again, or back to the team."""
    refused = await answers.refused(request, payload, "teamId")
    if refused is not None:
        return refused
    assert payload is not None
    if payload["userErrors"]:
        problem = _problem(key or team_id, reading, payload["userErrors"])
        return await _team(request, team_id, 422, search=search, problem=problem)
    return await _after(request, team_id, verb)


async def _after(request: Request, team_id: str, verb: str) -> Response:
    """After a change: the team saying what was done (htmx: drawn at once; else a 303 to it)."""
    if is_htmx(request):
        return await _team(request, team_id, 200, done=(verb, team_id))
    return answers.back(f"/settings/teams/{team_id}", verb, team_id)

"""The status page tab (admins), ``/settings/status``: the public page's settings (title,
introduction, support link, logo path), every component (name, group, public or internal only,
current status) with an edit form apiece (its status too), a form for a new one, and a link to
the public page itself.

Every form posts to a real URL and redirects back (303) saying what was done; a refused form is
drawn again with the input kept and the messages on their fields (422). Anyone but an admin is
told that only admins may (403) and nothing changes (the mutations refuse them too).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from views import signed_in
from views.pages import is_htmx, run
from views.settings_page import answers, kinds

PATH = "/settings/status"
STATUSES = {
    "OPERATIONAL": "Operational",
    "DEGRADED_PERFORMANCE": "Degraded performance",
    "PARTIAL_OUTAGE": "Partial outage",
    "MAJOR_OUTAGE": "Major outage",
    "UNDER_MAINTENANCE": "Under maintenance",
}
DONE = {
    "settings": "Saved the status page settings.",
    "created": "Created “{}”.",
    "saved": "Saved the changes to “{}”.",
}
SETTINGS = "settings"  # the settings form's key (components' forms are "new" or their id)
BLANK = {"name": "", "description": "", "groupName": "", "public": True}


def _component_values(component: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "name": component["name"],
        "description": component["description"],
        "groupName": component["groupName"] or "",
        "public": component["public"],
        "status": component["status"],
    }


def _settings_values(settings: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "title": settings["title"],
        "intro": settings["intro"],
        "supportUrl": settings["supportUrl"] or "",
        "logoUrl": settings["logoUrl"] or "",
    }


def _read_settings(form: FormData) -> kinds.Reading:
    values = {
        "title": kinds.text(form, "title"),
        "intro": kinds.text(form, "intro"),
        "supportUrl": kinds.text(form, "supportUrl").strip(),
        "logoUrl": kinds.text(form, "logoUrl").strip(),
    }
    data = {
        **values,
        "supportUrl": values["supportUrl"] or None,
        "logoUrl": values["logoUrl"] or None,
    }
    return kinds.Reading(data, values)


def _read_component(form: FormData, *, creating: bool) -> kinds.Reading:
    values: dict[str, Any] = {
        "name": kinds.text(form, "name"),
        "description": kinds.text(form, "description"),
        "groupName": kinds.text(form, "groupName").strip(),
        "public": "public" in form,
    }
    data: dict[str, Any] = {**values, "groupName": values["groupName"] or None}
    errors = {}
    if not creating:
        values["status"] = data["status"] = kinds.text(form, "status")
        if values["status"] not in STATUSES:
            errors["status"] = "Choose the component's status."
    return kinds.Reading(data, values, errors)


@signed_in.page
async def status_page(request: Request) -> Response:
    return await _show(request, 200, done=answers.done(request, DONE))


async def _show(
    request: Request,
    status: int,
    *,
    problem: kinds.Problem | None = None,
    done: tuple[str, str] | None = None,
) -> Response:
    data = await run(request, "SettingsStatus")
    if not answers.is_admin(data):
        return await answers.refusal(request, 403, answers.ADMIN_ONLY)
    components = data["statusComponents"]
    values: dict[str, dict[str, Any]] = {c["id"]: _component_values(c) for c in components}
    values["new"] = dict(BLANK)
    values[SETTINGS] = _settings_values(data["statusPageSettings"])
    if problem is not None:
        values[problem.key] = problem.values
    return await answers.render(
        request,
        "status",
        status,
        title="Status page",
        admin=True,
        components=components,
        values=values,
        problem=problem,
        notice=answers.notice(done, components, said=DONE),
        statuses=STATUSES,
    )


async def _after(request: Request, verb: str, item: str) -> Response:
    """The page after a change: the section again for htmx, else a redirect to it."""
    if is_htmx(request):
        return await _show(request, 200, done=(verb, item))
    return answers.back(PATH, verb, item)


async def _change(
    request: Request, operation: str, key: str, reading: kinds.Reading, id_input: str = ""
) -> Response | dict[str, Any]:
    """The refusal for a form that changed nothing, or the mutation's payload."""
    if reading.errors:
        return await _show(request, 422, problem=kinds.problem(key, reading, []))
    payload = await answers.mutate(request, operation, reading.input)
    refused = await answers.refused(request, payload, id_input)
    if refused is not None:
        return refused
    assert payload is not None
    if payload["userErrors"]:
        return await _show(request, 422, problem=kinds.problem(key, reading, payload["userErrors"]))
    return payload


@signed_in.page
async def save_settings(request: Request) -> Response:
    answer = await _change(
        request, "SettingsStatusSave", SETTINGS, _read_settings(await request.form())
    )
    if isinstance(answer, Response):
        return answer
    return await _after(request, SETTINGS, SETTINGS)


@signed_in.page
async def create_component(request: Request) -> Response:
    reading = _read_component(await request.form(), creating=True)
    answer = await _change(request, "SettingsStatusCreateComponent", "new", reading)
    if isinstance(answer, Response):
        return answer
    return await _after(request, "created", answer["item"]["id"])


@signed_in.page
async def update_component(request: Request) -> Response:
    component_id = request.path_params["component_id"]
    reading = _read_component(await request.form(), creating=False)
    reading.input["componentId"] = component_id
    answer = await _change(
        request, "SettingsStatusUpdateComponent", component_id, reading, "componentId"
    )
    if isinstance(answer, Response):
        return answer
    return await _after(request, "saved", component_id)

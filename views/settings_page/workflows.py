"""The workflows tab (admins), ``/settings/workflows``: every workflow with its trigger, whether
it is on and its latest runs (outcome or error), and a plain form for a new one, read as a
sentence: "When [trigger], if [severity at least] [types] [modes] [custom field options], then
[steps]". ``/settings/workflows/<id>`` is one workflow with the same form filled in, its runs, a
button turning it on or off and a delete button inside a ``<details>`` (confirming works without
a script).

The form's steps are a fixed set of optional sections (add followers, notify, assign a role,
ask for updates, add actions, send a webhook), each filled-in section one step, in that order.
Every change goes through the workflow mutations and redirects back (303), saying what was done;
a refused form is drawn again with the input kept and each message on the field it is about
(422). Anyone but an admin is told that only admins may (403) and nothing changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from views import signed_in
from views.numbers import whole
from views.pages import OperationFailed, is_htmx, run
from views.settings_page import answers, kinds

TRIGGERS = [
    ("INCIDENT_DECLARED", "an incident is declared"),
    ("INCIDENT_ACCEPTED", "an incident is accepted from triage"),
    ("STATUS_CHANGED", "an incident changes status"),
    ("SEVERITY_CHANGED", "an incident changes severity"),
    ("UPDATE_SHARED", "an update is shared"),
    ("ROLE_ASSIGNED", "someone is given a role"),
    ("CUSTOM_FIELD_CHANGED", "a custom field changes"),
    ("UPDATE_OVERDUE", "a promised update is overdue"),
    ("INCIDENT_RESOLVED", "an incident is resolved"),
    ("INCIDENT_CLOSED", "an incident is closed"),
]
MODES = [("STANDARD", "Standard"), ("TEST", "Test"), ("RETROSPECTIVE", "Retrospective")]
STATES = {"PENDING": "Waiting", "DONE": "Done", "SKIPPED": "Skipped", "FAILED": "Failed"}
MISSING = "No workflow with that id."
DONE = {
    "created": "Created “{}”.",
    "saved": "Saved the changes to “{}”.",
    "enabled": "Turned “{}” on.",
    "disabled": "Turned “{}” off.",
}
GRAPHQL_INT = 2**31 - 1  # the largest Int GraphQL carries; the API says which range it takes
WHOLE_MINUTES = "Give a whole number of minutes."
MAX_LINES = 50  # lines of action titles read from the form (the API takes at most 20)
LISTS = ("typeIds", "modes", "customFieldOptionIds", "followTeamIds", "followUserIds",
         "notifyTeamIds", "notifyUserIds")  # fmt: skip
TEXTS = ("name", "trigger", "delayMinutes", "severityAtLeastId", "notifyMessage", "roleId",
         "roleUserId", "cadenceMinutes", "actionTitles", "endpointId")  # fmt: skip
CHECKS = ("once", "includePrivate", "includeTest", "enabled")
BLANK: dict[str, Any] = {
    **{name: "" for name in TEXTS},
    **{name: [] for name in LISTS},
    "trigger": "INCIDENT_DECLARED",
    "delayMinutes": "0",
    "once": True,
    "includePrivate": False,
    "includeTest": False,
    "enabled": True,
}
# Where each step's inputs are on the form: (the step's API name, its input) to a form field.
STEP_FIELDS = {
    ("addFollowers", "userIds"): "followUserIds",
    ("addFollowers", "teamIds"): "followTeamIds",
    ("notify", "userIds"): "notifyUserIds",
    ("notify", "teamIds"): "notifyTeamIds",
    ("notify", "message"): "notifyMessage",
    ("assignRole", "roleId"): "roleId",
    ("assignRole", "userId"): "roleUserId",
    ("setUpdateCadence", "minutes"): "cadenceMinutes",
    ("addActions", "titles"): "actionTitles",
    ("sendWebhook", "endpointId"): "endpointId",
}


def _field(field: str | None) -> str | None:
    """The form field an input's error belongs on (``steps[2].notify.message``: the message)."""
    if not field:
        return None
    if field.startswith("conditions."):
        return field.removeprefix("conditions.")
    if field.startswith("steps["):
        parts = field.split(".")
        return STEP_FIELDS.get((parts[1], parts[2])) if len(parts) == 3 else "steps"
    return field


def _read(form: FormData) -> kinds.Reading:
    """The form as the mutation's input (each filled-in step section one step, in order), the
    values to show again, and what the page itself finds wrong."""
    values: dict[str, Any] = {name: kinds.text(form, name) for name in TEXTS}
    values |= {name: kinds.texts(form, name)[:200] for name in LISTS}
    values |= {name: kinds.text(form, name) == "on" for name in CHECKS}
    errors: dict[str, str] = {}
    delay = whole(values["delayMinutes"].strip() or "0", most=GRAPHQL_INT)
    if delay is None:
        errors["delayMinutes"] = WHOLE_MINUTES
    steps: list[dict[str, Any]] = []
    if values["followTeamIds"] or values["followUserIds"]:
        steps.append(
            {"addFollowers": {"teamIds": values["followTeamIds"],
                              "userIds": values["followUserIds"]}}
        )  # fmt: skip
    message = values["notifyMessage"]
    if values["notifyTeamIds"] or values["notifyUserIds"] or message.strip():
        steps.append(
            {"notify": {"teamIds": values["notifyTeamIds"], "userIds": values["notifyUserIds"],
                        "message": message}}
        )  # fmt: skip
    if values["roleId"] or values["roleUserId"]:
        if not values["roleId"]:
            errors["roleId"] = "Choose the role to give."
        elif not values["roleUserId"]:
            errors["roleUserId"] = "Choose who gets the role."
        else:
            steps.append({"assignRole": {"roleId": values["roleId"],
                                         "userId": values["roleUserId"]}})  # fmt: skip
    if values["cadenceMinutes"].strip():
        minutes = whole(values["cadenceMinutes"].strip(), most=GRAPHQL_INT)
        if minutes is None:
            errors["cadenceMinutes"] = WHOLE_MINUTES
        else:
            steps.append({"setUpdateCadence": {"minutes": minutes}})
    titles = [line.strip() for line in values["actionTitles"].splitlines() if line.strip()]
    if titles:
        steps.append({"addActions": {"titles": titles[:MAX_LINES]}})
    if values["endpointId"]:
        steps.append({"sendWebhook": {"endpointId": values["endpointId"]}})
    if not steps:
        errors["steps"] = "Fill in at least one of the steps."
    conditions = {
        "severityAtLeastId": values["severityAtLeastId"] or None,
        "typeIds": values["typeIds"],
        "modes": values["modes"],
        "customFieldOptionIds": values["customFieldOptionIds"],
    }
    given = {
        "name": values["name"],
        "trigger": values["trigger"],
        "conditions": conditions,
        "steps": steps,
        "delayMinutes": delay or 0,
        **{name: values[name] for name in CHECKS},
    }
    return kinds.Reading(given, values, errors)


def _problem(
    key: str, reading: kinds.Reading, user_errors: list[Mapping[str, Any]]
) -> kinds.Problem:
    placed = [{**e, "field": _field(e.get("field"))} for e in user_errors]
    return kinds.problem(key, reading, placed)


def _values(workflow: Mapping[str, Any]) -> dict[str, Any]:
    """A saved workflow as the form shows it (the first step of each kind)."""
    values: dict[str, Any] = {**BLANK}
    conditions = workflow["conditions"]
    severity = conditions["severityAtLeast"]
    values |= {
        "name": workflow["name"],
        "trigger": workflow["trigger"],
        "delayMinutes": str(workflow["delayMinutes"]),
        "severityAtLeastId": severity["id"] if severity else "",
        "typeIds": [t["id"] for t in conditions["types"]],
        "modes": list(conditions["modes"]),
        "customFieldOptionIds": [o["id"] for o in conditions["customFieldOptions"]],
        **{name: workflow[name] for name in CHECKS},
    }
    seen: set[str] = set()
    for step in workflow["steps"]:
        kind = step["__typename"]
        if kind in seen:
            continue
        seen.add(kind)
        if kind == "AddFollowersStep":
            values["followTeamIds"] = [t["id"] for t in step["teams"]]
            values["followUserIds"] = [u["id"] for u in step["users"]]
        elif kind == "NotifyStep":
            values["notifyTeamIds"] = [t["id"] for t in step["teams"]]
            values["notifyUserIds"] = [u["id"] for u in step["users"]]
            values["notifyMessage"] = step["message"]
        elif kind == "AssignRoleStep":
            values["roleId"] = step["role"]["id"] if step["role"] else ""
            values["roleUserId"] = step["user"]["id"] if step["user"] else ""
        elif kind == "SetUpdateCadenceStep":
            values["cadenceMinutes"] = str(step["minutes"])
        elif kind == "AddActionsStep":
            values["actionTitles"] = "\n".join(step["titles"])
        elif kind == "SendWebhookStep":
            values["endpointId"] = step["endpoint"]["id"] if step["endpoint"] else ""
    return values


def _hidden_steps(workflow: Mapping[str, Any]) -> bool:
    """Whether the workflow has steps the form cannot show (a kind twice, or out of order)."""
    order = ["AddFollowersStep", "NotifyStep", "AssignRoleStep", "SetUpdateCadenceStep",
             "AddActionsStep", "SendWebhookStep"]  # fmt: skip
    kinds_ = [step["__typename"] for step in workflow["steps"]]
    return kinds_ != sorted(set(kinds_), key=order.index)


def _pairs(rows: Any, shown: str = "name") -> list[tuple[str, str]]:
    return [(row["id"], row[shown]) for row in rows or []]


def _lists(data: Mapping[str, Any]) -> dict[str, list[tuple[str, str]]]:
    """What each of the form's choices offers, as (id, what it shows)."""
    users = data.get("users") or []
    endpoints = [
        (e["id"], (e["description"] or e["url"]) + ("" if e["enabled"] else " (off)"))
        for e in data.get("webhookEndpoints") or []
    ]
    return {
        "severities": [("", "Any severity"), *_pairs(data.get("severities"))],
        "types": _pairs(data.get("incidentTypes")),
        "options": [
            (option["id"], f"{field['name']}: {option['value']}")
            for field in data.get("customFields") or []
            for option in field["options"]
        ],
        "teams": _pairs(data.get("teams")),
        "users": _pairs(users),
        "holders": [("", "Nobody"), *_pairs(u for u in users if u["canHoldRole"])],
        "roles": [
            ("", "No role"),
            *_pairs(r for r in data.get("incidentRoles") or [] if r["kind"] != "REPORTER"),
        ],
        "endpoints": [("", "None"), *endpoints],
    }


async def _render(
    request: Request, data: Mapping[str, Any], status: int, **context: Any
) -> Response:
    return await answers.render(
        request,
        "workflows",
        status,
        admin=True,
        viewer_can=data["viewerCan"],
        triggers=TRIGGERS,
        trigger_names=dict(TRIGGERS),
        modes=MODES,
        states=STATES,
        lists=_lists(data),
        **context,
    )


# The list ----------------------------------------------------------------------------------------


@signed_in.page
async def workflows_page(request: Request) -> Response:
    deleted = request.query_params.get("deleted") == "1"
    return await _workflows(request, 200, notice="Deleted the workflow." if deleted else None)


async def _workflows(
    request: Request,
    status: int,
    *,
    problem: kinds.Problem | None = None,
    notice: str | None = None,
) -> Response:
    try:
        data = await run(request, "SettingsWorkflows")
    except OperationFailed:
        data = {**await run(request, "Navigation")}
    if not answers.is_admin(data):
        return await answers.refusal(request, 403, answers.ADMIN_ONLY)
    return await _render(
        request,
        data,
        status,
        title="Workflows",
        workflows=data["workflows"],
        workflow=None,
        values=problem.values if problem else dict(BLANK),
        problem=problem,
        notice=notice,
    )


@signed_in.page
async def create_workflow(request: Request) -> Response:
    reading = _read(await request.form())
    if reading.errors:
        return await _workflows(request, 422, problem=_problem("new", reading, []))
    payload = await answers.mutate(request, "SettingsWorkflowCreate", dict(reading.input))
    refused = await answers.refused(request, payload, "")
    if refused is not None:
        return refused
    assert payload is not None
    if payload["userErrors"]:
        problem = _problem("new", reading, payload["userErrors"])
        return await _workflows(request, 422, problem=problem)
    return await _after(request, payload["item"]["id"], "created")


# One workflow ----------------------------------------------------------------------------------


@signed_in.page
async def workflow_page(request: Request) -> Response:
    done = answers.done(request, DONE)
    return await _workflow(request, request.path_params["workflow_id"], 200, done=done)


async def _workflow(
    request: Request,
    workflow_id: str,
    status: int,
    *,
    problem: kinds.Problem | None = None,
    done: tuple[str, str] | None = None,
) -> Response:
    data = await answers.one(
        request, "SettingsWorkflow", {"id": workflow_id}, key="workflow", missing=MISSING
    )
    if isinstance(data, Response):
        return data
    workflow = data["workflow"]
    return await _render(
        request,
        data,
        status,
        title=workflow["name"],
        workflows=[],
        workflow=workflow,
        hidden_steps=_hidden_steps(workflow),
        values=problem.values if problem else _values(workflow),
        problem=problem,
        notice=answers.notice(done, [workflow], said=DONE),
    )


@signed_in.page
async def update_workflow(request: Request) -> Response:
    workflow_id = request.path_params["workflow_id"]
    reading = _read(await request.form())
    if reading.errors:
        return await _workflow(request, workflow_id, 422, problem=_problem("edit", reading, []))
    payload = await answers.mutate(
        request, "SettingsWorkflowUpdate", {"workflowId": workflow_id, **reading.input}
    )
    return await _answer(request, payload, workflow_id, "saved", reading)


@signed_in.page
async def switch_workflow(request: Request) -> Response:
    workflow_id = request.path_params["workflow_id"]
    enabled = kinds.text(await request.form(), "enabled") == "on"
    payload = await answers.mutate(
        request, "SettingsWorkflowUpdate", {"workflowId": workflow_id, "enabled": enabled}
    )
    reading = kinds.Reading({}, {})
    return await _answer(
        request, payload, workflow_id, "enabled" if enabled else "disabled", reading
    )


@signed_in.page
async def delete_workflow(request: Request) -> Response:
    workflow_id = request.path_params["workflow_id"]
    payload = await answers.mutate(request, "SettingsWorkflowDelete", {"workflowId": workflow_id})
    refused = await answers.refused(request, payload, "workflowId")
    if refused is not None:
        return refused
    assert payload is not None
    if is_htmx(request):
        return await _workflows(request, 200, notice="Deleted the workflow.")
    return RedirectResponse("/settings/workflows?deleted=1", status_code=303)


async def _answer(
    request: Request,
    payload: dict[str, Any] | None,
    workflow_id: str,
    verb: str,
    reading: kinds.Reading,
) -> Response:
    refused = await answers.refused(request, payload, "workflowId")
    if refused is not None:
        return refused
    assert payload is not None
    if payload["userErrors"]:
        problem = _problem("edit", reading, payload["userErrors"])
        return await _workflow(request, workflow_id, 422, problem=problem)
    return await _after(request, workflow_id, verb)


async def _after(request: Request, workflow_id: str, verb: str) -> Response:
    """After a change: the workflow saying what was done (htmx: drawn at once; else a 303)."""
    if is_htmx(request):
        return await _workflow(request, workflow_id, 200, done=(verb, workflow_id))
    return answers.back(f"/settings/workflows/{workflow_id}", verb, workflow_id)

"""The webhooks tab (admins), ``/settings/webhooks``: every endpoint with its recent deliveries
(state, the receiver's answer, the error, attempts and times), a form for a new one (URL,
description, format, event types, private incidents), and for each an edit form, "Send a test",
turn off or on, a new signing secret and delete (those two behind a ``<details>`` to confirm,
so it all works without a script).

A signing secret is shown once, in the answer to the POST that made it (create, new secret),
never in a URL and never again. Other changes redirect back (303) saying what was done; a
refused form is drawn again with the input kept and the messages on their fields (422). Anyone
but an admin is told that only admins may (403) and nothing changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from views import signed_in
from views.pages import OperationFailed, is_htmx, run, viewer_can
from views.settings_page import answers, kinds

PATH = "/settings/webhooks"
FORMATS = {
    "STANDARD": "Standard Webhooks (signed JSON)",
    "SLACK": "Slack, Mattermost or Rocket.Chat",
    "TEAMS": "Microsoft Teams (Adaptive Card)",
}
EVENT_TYPES = {
    "incident.declared": "Declared",
    "incident.accepted": "Accepted out of triage",
    "incident.updated": "Update shared",
    "incident.status_changed": "Status changed",
    "incident.severity_changed": "Severity changed",
    "incident.role_assigned": "Role assigned",
    "incident.resolved": "Resolved",
    "incident.closed": "Closed",
}
STATES = {"PENDING": "Retrying", "DELIVERED": "Delivered", "FAILED": "Failed"}
DONE = {
    "saved": "Saved the changes to “{}”.",
    "enabled": "Turned “{}” on.",
    "disabled": "Turned “{}” off: it gets nothing until turned on again.",
    "tested": "Sent a test to “{}”: it shows in its deliveries below.",
    "deleted": "Deleted the endpoint and its delivery log.",
}
BLANK = {
    "url": "",
    "description": "",
    "format": "STANDARD",
    "eventTypes": [],
    "includePrivate": False,
}


def label(endpoint: Mapping[str, Any]) -> str:
    """What people call an endpoint: its description, else its URL."""
    return str(endpoint.get("description") or endpoint.get("url") or "")


def _values(endpoint: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "url": endpoint["url"],
        "description": endpoint["description"],
        "format": endpoint["format"],
        "eventTypes": list(endpoint["eventTypes"] or []),
        "includePrivate": endpoint["includePrivate"],
    }


def _read(form: Any) -> kinds.Reading:
    values = {
        "url": kinds.text(form, "url").strip(),
        "description": kinds.text(form, "description"),
        "format": kinds.text(form, "format"),
        "eventTypes": [t for t in kinds.texts(form, "eventTypes") if t in EVENT_TYPES],
        "includePrivate": "includePrivate" in form,
    }
    data = dict(values)
    data["eventTypes"] = values["eventTypes"] or None  # none checked: every type
    errors = {}
    if values["format"] not in FORMATS:
        errors["format"] = "Choose the kind of receiver."
    return kinds.Reading(data, values, errors)


@signed_in.page
async def webhooks_page(request: Request) -> Response:
    return await _show(request, 200, done=answers.done(request, DONE))


async def _show(
    request: Request,
    status: int,
    *,
    problem: kinds.Problem | None = None,
    done: tuple[str, str] | None = None,
    secret: str | None = None,
    secret_for: str | None = None,
) -> Response:
    try:
        data = await run(request, "SettingsWebhooks")
    except OperationFailed:
        if (await viewer_can(request))["configure"]:
            raise
        return await answers.refusal(request, 403, answers.ADMIN_ONLY)
    endpoints = data["webhookEndpoints"]
    values: dict[str, dict[str, Any]] = {e["id"]: _values(e) for e in endpoints}
    values["new"] = dict(BLANK)
    if problem is not None:
        values[problem.key] = problem.values
    return await answers.render(
        request,
        "webhooks",
        status,
        title="Webhooks",
        admin=answers.is_admin(data),
        viewer_can=data["viewerCan"],
        endpoints=endpoints,
        values=values,
        problem=problem,
        notice=answers.notice(done, endpoints, said=DONE, name=label),
        secret=secret,
        secret_for=next((label(e) for e in endpoints if e["id"] == secret_for), None),
        formats=FORMATS,
        event_types=EVENT_TYPES,
        states=STATES,
    )


async def _after(request: Request, verb: str, item: str) -> Response:
    """The page after a change: the section again for htmx, else a redirect to it."""
    if is_htmx(request):
        return await _show(request, 200, done=(verb, item))
    return answers.back(PATH, verb, item)


@signed_in.page
async def create_endpoint(request: Request) -> Response:
    reading = _read(await request.form())
    if reading.errors:
        return await _show(request, 422, problem=kinds.problem("new", reading, []))
    payload = await answers.mutate(request, "SettingsWebhookCreate", reading.input)
    refused = await answers.refused(request, payload, "")
    if refused is not None:
        return refused
    assert payload is not None
    if payload["userErrors"]:
        problem = kinds.problem("new", reading, payload["userErrors"])
        return await _show(request, 422, problem=problem)
    # The secret is in this answer only: never in a URL, never in anything a reload shows.
    return await _show(request, 200, secret=payload["secret"], secret_for=payload["item"]["id"])


@signed_in.page
async def update_endpoint(request: Request) -> Response:
    endpoint_id = request.path_params["endpoint_id"]
    reading = _read(await request.form())
    if reading.errors:
        return await _show(request, 422, problem=kinds.problem(endpoint_id, reading, []))
    variables = {"endpointId": endpoint_id, **reading.input}
    payload = await answers.mutate(request, "SettingsWebhookUpdate", variables)
    refused = await answers.refused(request, payload, "endpointId")
    if refused is not None:
        return refused
    assert payload is not None
    if payload["userErrors"]:
        problem = kinds.problem(endpoint_id, reading, payload["userErrors"])
        return await _show(request, 422, problem=problem)
    return await _after(request, "saved", endpoint_id)


@signed_in.page
async def switch_endpoint(request: Request) -> Response:
    endpoint_id = request.path_params["endpoint_id"]
    enabled = kinds.text(await request.form(), "enabled") == "true"
    variables = {"endpointId": endpoint_id, "enabled": enabled}
    payload = await answers.mutate(request, "SettingsWebhookUpdate", variables)
    return await _simple(request, payload, "enabled" if enabled else "disabled", endpoint_id)


@signed_in.page
async def test_endpoint(request: Request) -> Response:
    endpoint_id = request.path_params["endpoint_id"]
    payload = await answers.mutate(request, "SettingsWebhookTest", {"endpointId": endpoint_id})
    return await _simple(request, payload, "tested", endpoint_id)


@signed_in.page
async def delete_endpoint(request: Request) -> Response:
    endpoint_id = request.path_params["endpoint_id"]
    payload = await answers.mutate(request, "SettingsWebhookDelete", {"endpointId": endpoint_id})
    return await _simple(request, payload, "deleted", endpoint_id)


@signed_in.page
async def rotate_secret(request: Request) -> Response:
    endpoint_id = request.path_params["endpoint_id"]
    payload = await answers.mutate(request, "SettingsWebhookRotate", {"endpointId": endpoint_id})
    refused = await answers.refused(request, payload, "endpointId")
    if refused is not None:
        return refused
    assert payload is not None
    if payload["userErrors"]:
        return await answers.refusal(request, 422, payload["userErrors"][0]["message"], admin=True)
    return await _show(request, 200, secret=payload["secret"], secret_for=endpoint_id)


async def _simple(
    request: Request, payload: dict[str, Any] | None, verb: str, endpoint_id: str
) -> Response:
    """The answer to a button's change: refused, or done and back to the list."""
    refused = await answers.refused(request, payload, "endpointId")
    if refused is not None:
        return refused
    assert payload is not None
    if payload["userErrors"]:
        return await answers.refusal(request, 422, payload["userErrors"][0]["message"], admin=True)
    return await _after(request, verb, endpoint_id)

"""Settings, ``/settings``: API tokens for everyone, the catalog and people's tokens for admins.

``/settings`` lists the viewer's own API tokens with a form to create one (the secret is shown
once, in the answer to that POST, never in a URL and never again), and a rename and a revoke form
for each (the revoke form sits in a ``<details>``, so confirming works without a script). Admins
also get one tab per kind of configuration: ``/settings/severities``, ``/statuses``, ``/types``,
``/roles`` and ``/fields``, each listing its items with an "Edit" form apiece and a "New …" form,
and ``/settings/people``, a person picker that shows the chosen person's tokens to revoke.
Anyone else asking for those tabs, or posting their forms, is told that only admins may (the
mutation's FORBIDDEN message, 403) and nothing changes. Every form posts to a real URL and
redirects back (303) after a change, except token creation, which answers with the page itself;
a refused change re-renders its form with the input kept and the messages (422). With htmx each
form swaps just the tab's section (``#settings-section``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlencode

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from views import signed_in
from views.numbers import whole
from views.pages import OperationFailed, is_htmx, render, run

ADMIN_ONLY = "Only admins can change the configuration."
MAX_RANK = 999
MAX_SEARCH = 200
CATEGORIES = {
    "TRIAGE": "Triage",
    "ACTIVE": "Active",
    "POST_INCIDENT": "Post-incident",
    "CLOSED": "Closed",
    "DECLINED": "Declined",
    "MERGED": "Merged",
    "CANCELED": "Canceled",
}
FIELD_KINDS = {
    "SINGLE_SELECT": "Single select",
    "MULTI_SELECT": "Multi select",
    "TEXT": "Text",
    "NUMBER": "Number",
    "LINK": "Link",
}
SELECTS = ("SINGLE_SELECT", "MULTI_SELECT")
SCOPES = {"READ": "Read only", "READ_WRITE": "Read and write"}
DONE = {
    "created": "Created “{}”.",
    "saved": "Saved the changes to “{}”.",
    "renamed": "Renamed the token to “{}”.",
    "revoked": "Revoked “{}”: it no longer works.",
}


def routes() -> list[Route]:
    return [
        Route("/settings", tokens_page, name="settings"),
        Route("/settings/tokens", tokens_page, methods=["GET"]),
        Route("/settings/tokens", create_token, methods=["POST"], name="settings-create-token"),
        Route("/settings/tokens/{token_id}/rename", rename_token, methods=["POST"]),
        Route("/settings/tokens/{token_id}/revoke", revoke_token, methods=["POST"]),
        Route("/settings/people", people_page, name="settings-people"),
        Route("/settings/{kind}", catalog_page, methods=["GET"], name="settings-kind"),
        Route("/settings/{kind}", create_item, methods=["POST"]),
        Route("/settings/{kind}/{item_id}", update_item, methods=["POST"]),
    ]


# Forms ----------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Reading:
    """A submitted form: the mutation's input, the values to show again, and what is wrong."""

    input: dict[str, Any]
    values: dict[str, Any]
    errors: dict[str, str] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class Problem:
    """A refused form: which one (``"new"`` or the item's id), its input and the messages."""

    key: str
    values: dict[str, Any]
    errors: dict[str, str]
    messages: list[str]


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _texts(form: FormData, name: str) -> list[str]:
    return [v for v in form.getlist(name) if isinstance(v, str) and v]


def _severity(form: FormData, creating: bool) -> Reading:
    values = {
        "name": _text(form, "name"),
        "description": _text(form, "description"),
        "rank": _text(form, "rank").strip(),
    }
    data: dict[str, Any] = {"name": values["name"], "description": values["description"]}
    errors = {}
    if values["rank"]:
        rank = whole(values["rank"], most=MAX_RANK)
        if rank is None or rank < 1:
            errors["rank"] = f"Rank must be a whole number from 1 to {MAX_RANK}."
        else:
            data["rank"] = rank
    return Reading(data, values, errors)


def _status(form: FormData, creating: bool) -> Reading:
    values = {"name": _text(form, "name"), "description": _text(form, "description")}
    data: dict[str, Any] = dict(values)
    errors = {}
    if creating:
        values["category"] = data["category"] = _text(form, "category")
        if data["category"] not in CATEGORIES:
            errors["category"] = "Choose the category the status belongs to."
    return Reading(data, values, errors)


def _incident_type(form: FormData, creating: bool) -> Reading:
    values = {
        "name": _text(form, "name"),
        "description": _text(form, "description"),
        "privateByDefault": "privateByDefault" in form,
        "practice": "practice" in form,
        "defaultSeverityId": _text(form, "defaultSeverityId"),
        "customFieldIds": _texts(form, "customFieldIds"),
    }
    data = {k: v for k, v in values.items() if k != "defaultSeverityId"}
    if values["defaultSeverityId"]:
        data["defaultSeverityId"] = values["defaultSeverityId"]
    return Reading(data, values)


def _role(form: FormData, creating: bool) -> Reading:
    values = {name: _text(form, name) for name in ("name", "description", "instructions")}
    return Reading(dict(values), values)


def _custom_field(form: FormData, creating: bool) -> Reading:
    values = {"name": _text(form, "name"), "description": _text(form, "description")}
    data: dict[str, Any] = dict(values)
    errors = {}
    options = [line.strip() for line in _text(form, "options").splitlines() if line.strip()]
    values["options"] = "\n".join(options)
    if creating:
        values["kind"] = data["kind"] = _text(form, "kind")
        if data["kind"] not in FIELD_KINDS:
            errors["kind"] = "Choose what kind of field it is."
        data["options"] = options or None  # the service says what a select field needs
    elif "options" in form:  # only a select field's form has options
        if not options:
            errors["options"] = "A select field needs at least one option."
        data["options"] = options
    return Reading(data, values, errors)


@dataclasses.dataclass(frozen=True)
class Kind:
    """One kind of configuration: its tab, its operations and how its forms read."""

    slug: str
    title: str
    query: str
    create: str
    update: str
    id_input: str
    read: Callable[[FormData, bool], Reading]
    values: Callable[[Mapping[str, Any]], dict[str, Any]]
    blank: dict[str, Any]


KINDS = {
    kind.slug: kind
    for kind in (
        Kind(
            "severities", "Severities", "SettingsSeverities", "SettingsCreateSeverity",
            "SettingsUpdateSeverity", "severityId", _severity,
            lambda s: {"name": s["name"], "description": s["description"], "rank": s["rank"]},
            {"name": "", "description": "", "rank": ""},
        ),
        Kind(
            "statuses", "Statuses", "SettingsStatuses", "SettingsCreateStatus",
            "SettingsUpdateStatus", "statusId", _status,
            lambda s: {"name": s["name"], "description": s["description"]},
            {"name": "", "description": "", "category": "ACTIVE"},
        ),
        Kind(
            "types", "Incident types", "SettingsTypes", "SettingsCreateType",
            "SettingsUpdateType", "typeId", _incident_type,
            lambda t: {
                "name": t["name"],
                "description": t["description"],
                "privateByDefault": t["privateByDefault"],
                "practice": t["practice"],
                "defaultSeverityId": (t["defaultSeverity"] or {}).get("id", ""),
                "customFieldIds": [f["id"] for f in t["customFields"]],
            },
            {
                "name": "", "description": "", "privateByDefault": False, "practice": False,
                "defaultSeverityId": "", "customFieldIds": [],
            },
        ),
        Kind(
            "roles", "Incident roles", "SettingsRoles", "SettingsCreateRole",
            "SettingsUpdateRole", "roleId", _role,
            lambda r: {k: r[k] for k in ("name", "description", "instructions")},
            {"name": "", "description": "", "instructions": ""},
        ),
        Kind(
            "fields", "Custom fields", "SettingsFields", "SettingsCreateField",
            "SettingsUpdateField", "fieldId", _custom_field,
            lambda f: {
                "name": f["name"],
                "description": f["description"],
                "options": "\n".join(o["value"] for o in f["options"]),
            },
            {"name": "", "description": "", "kind": "SINGLE_SELECT", "options": ""},
        ),
    )
}  # fmt: skip
TABS = [
    ("tokens", "/settings", "API tokens"),
    *((kind.slug, f"/settings/{kind.slug}", kind.title) for kind in KINDS.values()),
    ("people", "/settings/people", "People's tokens"),
]


# Rendering ------------------------------------------------------------------------------------


async def _render(request: Request, tab: str, status: int, **context: Any) -> Response:
    """The settings page on ``tab`` (htmx requests get only its section)."""
    return await render(
        request,
        f"settings_{tab}.html",
        status,
        block="section",
        section="settings",
        tab=tab,
        tabs=TABS,
        categories=CATEGORIES,
        field_kinds=FIELD_KINDS,
        selects=SELECTS,
        **context,
    )


async def _refusal(request: Request, status: int, text: str, *, admin: bool = False) -> Response:
    """The settings page saying why nothing was shown or changed."""
    heading = {403: "Not allowed", 404: "Not found"}.get(status, "Nothing changed")
    return await _render(request, "problem", status, admin=admin, heading=heading, message=text)


def _done(request: Request) -> tuple[str, str] | None:
    """What the redirect after a change says was done: (verb, the item's id)."""
    verb, item = request.query_params.get("done", ""), request.query_params.get("item", "")
    return (verb, item) if verb in DONE and item else None


def _notice(done: tuple[str, str] | None, items: list[Mapping[str, Any]]) -> str | None:
    """The sentence confirming a change, naming the item (looked up, never read from the URL)."""
    if done is None:
        return None
    verb, item = done
    names = [i["name"] for i in items if i["id"] == item]
    return DONE[verb].format(names[0]) if names else None


def _is_admin(data: Mapping[str, Any]) -> bool:
    """Whether the API says the viewer may change the configuration (``viewerCan.configure``)."""
    return bool(data["viewerCan"]["configure"])


def _back(path: str, done: str, item: str, **params: str) -> Response:
    query = urlencode({**{k: v for k, v in params.items() if v}, "done": done, "item": item})
    return RedirectResponse(f"{path}?{query}", status_code=303)


async def _mutate(
    request: Request, operation: str, variables: dict[str, Any]
) -> dict[str, Any] | None:
    """The mutation's payload, or None if the form could not even be turned into a request."""
    try:
        data = await run(request, operation, {"input": variables})
    except OperationFailed:
        return None
    result: dict[str, Any] = data["result"]
    return result


async def _refused(
    request: Request, payload: dict[str, Any] | None, id_input: str
) -> Response | None:
    """The answer for a change nobody could make from this form: forbidden, or no such item."""
    if payload is None:
        return await _refusal(request, 400, "Muster could not read that form. Please try again.")
    for error in payload["userErrors"]:
        if error["code"] == "FORBIDDEN":
            return await _refusal(request, 403, error["message"])
        if error["code"] == "NOT_FOUND" and error["field"] == id_input:
            return await _refusal(request, 404, error["message"])
    return None


def _problem(key: str, reading: Reading, user_errors: list[Mapping[str, Any]]) -> Problem:
    errors = dict(reading.errors)
    for error in user_errors:
        field = error.get("field") or ""
        field = {"fieldIds": "customFieldIds"}.get(field, field)
        if field in reading.values and field not in errors:
            errors[field] = error["message"]
    messages = list(reading.errors.values()) + [e["message"] for e in user_errors]
    return Problem(key, reading.values, errors, messages)


# API tokens -----------------------------------------------------------------------------------


@signed_in.page
async def tokens_page(request: Request) -> Response:
    return await _tokens(request, 200, done=_done(request))


async def _tokens(
    request: Request,
    status: int,
    *,
    problem: Problem | None = None,
    done: tuple[str, str] | None = None,
    secret: str | None = None,
    created: Mapping[str, Any] | None = None,
) -> Response:
    data = await run(request, "SettingsTokens")
    tokens = data["apiTokens"]
    values: dict[str, dict[str, Any]] = {t["id"]: {"name": t["name"]} for t in tokens}
    values["new"] = {"name": "", "scope": "READ"}
    if problem is not None:
        values[problem.key] = problem.values
    return await _render(
        request,
        "tokens",
        status,
        admin=_is_admin(data),
        viewer_can=data["viewerCan"],
        active=[t for t in tokens if not t["revokedAt"]],
        revoked=[t for t in tokens if t["revokedAt"]],
        values=values,
        problem=problem,
        notice=_notice(done, tokens),
        secret=secret,
        created=created,
    )


@signed_in.page
async def create_token(request: Request) -> Response:
    form = await request.form()
    values = {"name": _text(form, "name"), "scope": _text(form, "scope")}
    if values["scope"] not in SCOPES:
        reading = Reading(values, values, {"scope": "Choose what the token may do."})
        return await _tokens(request, 422, problem=_problem("new", reading, []))
    payload = await _mutate(request, "SettingsCreateToken", dict(values))
    refused = await _refused(request, payload, "")
    if refused is not None:
        return refused
    assert payload is not None
    if payload["userErrors"]:
        problem = _problem("new", Reading(values, values), payload["userErrors"])
        return await _tokens(request, 422, problem=problem)
    # The secret is in this answer only: never in a URL, never in anything a reload shows.
    return await _tokens(request, 200, secret=payload["secret"], created=payload["item"])


@signed_in.page
async def rename_token(request: Request) -> Response:
    token_id = request.path_params["token_id"]
    form = await request.form()
    values = {"name": _text(form, "name")}
    payload = await _mutate(request, "SettingsRenameToken", {"tokenId": token_id, **values})
    refused = await _refused(request, payload, "tokenId")
    if refused is not None:
        return refused
    assert payload is not None
    if payload["userErrors"]:
        problem = _problem(token_id, Reading(values, values), payload["userErrors"])
        return await _tokens(request, 422, problem=problem)
    if is_htmx(request):
        return await _tokens(request, 200, done=("renamed", token_id))
    return _back("/settings", "renamed", token_id)


@signed_in.page
async def revoke_token(request: Request) -> Response:
    token_id = request.path_params["token_id"]
    form = await request.form()
    # An admin revoking someone else's token goes back to that person's tokens.
    user, search = _text(form, "user"), _text(form, "search")[:MAX_SEARCH]
    payload = await _mutate(request, "SettingsRevokeToken", {"tokenId": token_id})
    refused = await _refused(request, payload, "tokenId")
    if refused is not None:
        return refused
    assert payload is not None
    if payload["userErrors"]:  # nothing else can go wrong with revoking, but say so if it does
        return await _refusal(request, 422, payload["userErrors"][0]["message"])
    done = ("revoked", token_id)
    if user:
        if is_htmx(request):
            return await _people(request, 200, search, user, done=done)
        return _back("/settings/people", "revoked", token_id, search=search, user=user)
    if is_htmx(request):
        return await _tokens(request, 200, done=done)
    return _back("/settings", "revoked", token_id)


# People's tokens (admins) ---------------------------------------------------------------------


@signed_in.page
async def people_page(request: Request) -> Response:
    search = request.query_params.get("search", "")[:MAX_SEARCH]
    user = request.query_params.get("user", "")
    return await _people(request, 200, search, user, done=_done(request))


async def _people(
    request: Request,
    status: int,
    search: str,
    user: str,
    *,
    done: tuple[str, str] | None = None,
) -> Response:
    variables = {"search": search, "userId": user or None, "chosen": bool(user)}
    try:
        data = await run(request, "SettingsPeople", variables)
    except OperationFailed:  # not an admin, or no such person
        data = await run(request, "SettingsPeople", {**variables, "chosen": False, "userId": None})
        if _is_admin(data):
            return await _refusal(request, 404, "No person with that id.", admin=True)
        data = {"viewerCan": data["viewerCan"]}
    if not _is_admin(data):
        return await _refusal(request, 403, ADMIN_ONLY)
    tokens = data.get("apiTokens") or []
    person = next((u for u in data["users"] if u["id"] == user), None)
    return await _render(
        request,
        "people",
        status,
        admin=True,
        viewer_can=data["viewerCan"],
        search=search,
        people=data["users"],
        chosen=user,
        person=person,
        tokens=tokens,
        notice=_notice(done, tokens),
    )


# The catalog (admins) -------------------------------------------------------------------------


async def _catalog(
    request: Request,
    kind: Kind,
    status: int,
    *,
    problem: Problem | None = None,
    done: tuple[str, str] | None = None,
) -> Response:
    data = await run(request, kind.query)
    if not _is_admin(data):
        return await _refusal(request, 403, ADMIN_ONLY)
    items = data["items"]
    values = {item["id"]: kind.values(item) for item in items}
    values["new"] = dict(kind.blank)
    if problem is not None:
        values[problem.key] = problem.values
    return await _render(
        request,
        kind.slug,
        status,
        admin=True,
        viewer_can=data["viewerCan"],
        title=kind.title,
        data=data,
        items=items,
        values=values,
        problem=problem,
        notice=_notice(done, items),
    )


async def _kind(request: Request) -> Kind | Response:
    kind = KINDS.get(request.path_params["kind"])
    if kind is None:
        return await _refusal(request, 404, "There is no such settings page.")
    return kind


@signed_in.page
async def catalog_page(request: Request) -> Response:
    kind = await _kind(request)
    if isinstance(kind, Response):
        return kind
    return await _catalog(request, kind, 200, done=_done(request))


@signed_in.page
async def create_item(request: Request) -> Response:
    kind = await _kind(request)
    if isinstance(kind, Response):
        return kind
    reading = kind.read(await request.form(), True)
    return await _change(request, kind, kind.create, "new", reading, {})


@signed_in.page
async def update_item(request: Request) -> Response:
    kind = await _kind(request)
    if isinstance(kind, Response):
        return kind
    item_id = request.path_params["item_id"]
    reading = kind.read(await request.form(), False)
    return await _change(request, kind, kind.update, item_id, reading, {kind.id_input: item_id})


async def _change(
    request: Request,
    kind: Kind,
    operation: str,
    key: str,
    reading: Reading,
    ids: dict[str, str],
) -> Response:
    """Run a create or update mutation from a form; answer with the tab, the form, or a refusal."""
    if reading.errors:  # (for someone who is not an admin, _catalog refuses instead)
        return await _catalog(request, kind, 422, problem=_problem(key, reading, []))
    payload = await _mutate(request, operation, {**ids, **reading.input})
    refused = await _refused(request, payload, kind.id_input)
    if refused is not None:
        return refused
    assert payload is not None
    if payload["userErrors"]:
        problem = _problem(key, reading, payload["userErrors"])
        return await _catalog(request, kind, 422, problem=problem)
    verb, item = ("created" if key == "new" else "saved"), payload["item"]["id"]
    if is_htmx(request):
        return await _catalog(request, kind, 200, done=(verb, item))
    return _back(f"/settings/{kind.slug}", verb, item)

"""Declaring an incident, ``/incidents/new``: the plain-language form for anyone but viewers.

GET shows the form: name, summary, type and severity (each choice with its description), private,
and the custom fields the chosen type uses, with a hidden idempotency key so that a second
submission of the same form declares nothing new. The chosen type's defaults (severity, private)
apply to whatever the person has not changed themselves: a hidden ``defaults_for`` names the type
whose defaults the form shows. ``?type=`` chooses the type; when the type changes, htmx fetches
just the type-dependent part (``type_part``) with what was typed in it, and without JavaScript
the "Show this type's fields" button posts the form back to be redrawn (nothing is declared).
POST runs ``DeclareIncident`` and sends the browser to the new incident (303; htmx gets
``HX-Redirect``, a full page load), or redraws the form (422) with the person's input, a summary
of the problems and each message next to its field. Viewers are told who can declare instead of
getting the form. The "is this an incident?" checklist beside the form is advice only.
"""

from __future__ import annotations

import dataclasses
import math
import re
import secrets
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from starlette.datastructures import FormData, QueryParams
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from views import forms, signed_in
from views.pages import OperationFailed, is_htmx, render, run

FIELD = "field-"  # form names of custom field values: field-<custom field id>
MAX_CARRIED = 50  # custom field values kept from a submitted form
MAX_VALUES = 50  # values of one custom field
# The mutation's input names, as the form calls them.
INPUTS = {
    "name": "name",
    "summary": "summary",
    "typeId": "type",
    "severityId": "severity",
    "private": "private",
}
THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")


def routes() -> list[BaseRoute]:
    return [Route("/incidents/new", page, methods=["GET", "POST"], name="declare")]


@dataclasses.dataclass(frozen=True)
class Catalog:
    """What the form offers: severities (least severe first) and incident types."""

    severities: list[dict[str, Any]]
    types: list[dict[str, Any]]

    def type(self, type_id: str) -> dict[str, Any] | None:
        return next((t for t in self.types if t["id"] == type_id), None)

    def default_severity(self, kind: Mapping[str, Any]) -> str:
        """The severity a type starts at: its own default, else the least severe."""
        if kind.get("defaultSeverity"):
            return str(kind["defaultSeverity"]["id"])
        return str(self.severities[0]["id"]) if self.severities else ""


@dataclasses.dataclass(frozen=True)
class Draft:
    """The form as the person left it, every value as the form holds it."""

    key: str
    name: str = ""
    summary: str = ""
    type_id: str = ""
    severity_id: str = ""
    private: bool = False
    values: Mapping[str, tuple[str, ...]] = dataclasses.field(default_factory=dict)
    defaults_for: str = ""  # the type whose defaults the form shows

    @classmethod
    def of(cls, params: FormData | QueryParams) -> Draft:
        def one(name: str) -> str:
            value = params.get(name)
            return value if isinstance(value, str) else ""

        values: dict[str, tuple[str, ...]] = {}
        for name in dict.fromkeys(params.keys()):
            if name.startswith(FIELD) and len(values) < MAX_CARRIED and len(name) <= 80:
                given = [v for v in params.getlist(name) if isinstance(v, str)][:MAX_VALUES]
                values[name.removeprefix(FIELD)] = tuple(given)
        return cls(
            key=one("idempotency_key")[:200] or new_key(),
            name=one("name"),
            summary=one("summary"),
            type_id=one("type"),
            severity_id=one("severity"),
            private=bool(one("private")),
            values=values,
            defaults_for=one("defaults_for"),
        )

    def filled(self, field_id: str) -> list[str]:
        return [v for v in self.values.get(field_id, ()) if v.strip()]


def new_key() -> str:
    return secrets.token_urlsafe(16)


def settle(draft: Draft, catalog: Catalog, *, fresh: bool = False) -> Draft:
    """The draft with its type's defaults applied to what the person has not changed.

    ``fresh``: nothing was typed yet, every default applies. Otherwise, when the type changed
    since the form showed ``defaults_for``'s defaults, a severity or privacy still at the old
    type's default follows the new type; one the person changed stays as they left it.
    """
    kind = catalog.type(draft.type_id)
    if kind is None:
        if draft.type_id and not fresh:
            return draft  # an unknown type: the mutation says so, next to the field
        kind = catalog.types[0] if catalog.types else None
    if kind is None:
        return draft
    before = catalog.type(draft.defaults_for)
    severity, private = draft.severity_id, draft.private
    if fresh:
        severity, private = catalog.default_severity(kind), bool(kind["privateByDefault"])
    elif before is not None and before["id"] != kind["id"]:
        if not severity or severity == catalog.default_severity(before):
            severity = catalog.default_severity(kind)
        if private == bool(before["privateByDefault"]):
            private = bool(kind["privateByDefault"])
    return dataclasses.replace(
        draft, type_id=kind["id"], severity_id=severity, private=private, defaults_for=kind["id"]
    )


def custom_values(
    kind: Mapping[str, Any] | None, draft: Draft
) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """The chosen type's custom field values as the mutation takes them, and any the page itself
    must refuse (a number that is not one), by form name."""
    given: list[dict[str, Any]] = []
    problems: dict[str, str] = {}
    for field in kind["customFields"] if kind else []:
        chosen = draft.filled(field["id"])
        if not chosen:
            continue
        value: dict[str, Any] = {"fieldId": field["id"]}
        if field["kind"] == "SINGLE_SELECT":
            value["optionIds"] = chosen[:1]
        elif field["kind"] == "MULTI_SELECT":
            value["optionIds"] = chosen
        elif field["kind"] == "NUMBER":
            number = parse_number(chosen[0])
            if number is None:
                problems[FIELD + field["id"]] = (
                    f"{field['name']} must be a number, such as 34 or 2.5."
                )
                continue
            value["number"] = number
        else:
            value["text"] = chosen[0]
        given.append(value)
    return given, problems


def parse_number(text: str) -> float | None:
    text = text.strip().replace(" ", "").replace("_", "")
    if THOUSANDS.match(text):
        text = text.replace(",", "")
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def place(
    user_errors: list[dict[str, Any]], kind: Mapping[str, Any] | None
) -> tuple[dict[str, str], list[str]]:
    """The mutation's complaints by form field (each shown next to it), and the rest. An error
    about a custom field's value names that field (``customFieldId``)."""
    shown = {field["id"] for field in (kind["customFields"] if kind else [])}

    def where(error: Mapping[str, Any]) -> str | None:
        if error.get("customFieldId") in shown:
            return FIELD + str(error["customFieldId"])
        return INPUTS.get(error.get("field") or "")

    def said(error: Mapping[str, Any]) -> dict[str, Any]:
        key, text = where(error), error["message"]
        if key in ("type", "severity") and error["code"] == "NOT_FOUND":
            text = f"That {key} no longer exists: choose another."
        return {**error, "message": text}

    by_field, rest = forms.place([said(error) for error in user_errors], where)
    return by_field, [error["message"] for error in rest]


def declare_input(draft: Draft, values: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "name": draft.name,
        "summary": draft.summary,
        "typeId": draft.type_id or None,
        "severityId": draft.severity_id or None,
        "private": draft.private,
        "customFields": values,
        "idempotencyKey": draft.key,
    }


def anchor(key: str, draft: Draft, catalog: Catalog) -> str:
    """The id of the control a problem with ``key`` links to from the summary."""
    if key in ("type", "severity"):
        chosen = draft.type_id if key == "type" else draft.severity_id
        known = [c["id"] for c in (catalog.types if key == "type" else catalog.severities)]
        return f"{key}-{chosen if chosen in known or not known else known[0]}"
    if key.startswith(FIELD):
        kind = catalog.type(draft.type_id)
        for field in kind["customFields"] if kind else []:
            if FIELD + field["id"] == key and field["kind"] == "MULTI_SELECT" and field["options"]:
                return f"{key}-{field['options'][0]['id']}"
        return key
    return f"declare-{key}"


@signed_in.page
async def page(request: Request) -> Response:
    data = await run(request, "DeclareForm")
    catalog = Catalog(
        sorted(data["severities"], key=lambda s: s["rank"]), list(data["incidentTypes"])
    )
    can = data["viewerCan"]
    if not can["declare"]:
        return await _viewer(request, 403 if request.method == "POST" else 200, can)
    if request.method == "GET":
        params = request.query_params
        switching = "type" in params
        draft = settle(Draft.of(params), catalog, fresh="defaults_for" not in params)
        block = "type_part" if switching else None
        return await _form(request, can, catalog, draft, block=block, switched=switching)
    form = await request.form()
    draft = settle(Draft.of(form), catalog)
    if form.get("refresh"):  # without JavaScript: show the chosen type's fields
        return await _form(request, can, catalog, draft, block="form", refreshed=True)
    kind = catalog.type(draft.type_id)
    values, problems = custom_values(kind, draft)
    if problems:
        return await _form(request, can, catalog, draft, 422, errors=problems)
    try:
        answer = await run(request, "DeclareIncident", {"input": declare_input(draft, values)})
    except OperationFailed:
        return await _form(
            request, can, catalog, draft, 422,
            general=["Something in the form could not be read. Check it and try again."],
        )  # fmt: skip
    payload = answer["declareIncident"]
    user_errors = payload["userErrors"]
    if any(error["code"] == "FORBIDDEN" for error in user_errors):
        return await _viewer(request, 403)
    if any(error["code"] == "IDEMPOTENCY_MISMATCH" for error in user_errors):
        return await _form(
            request, can, catalog, dataclasses.replace(draft, key=new_key()), 409,
            general=[
                "This form was already used to declare an incident, and it has changed since. "
                "Check it, then press Declare incident again to declare another one."
            ],
        )  # fmt: skip
    if user_errors:
        errors, general = place(user_errors, kind)
        return await _form(request, can, catalog, draft, 422, errors=errors, general=general)
    where = "/incidents/" + quote(payload["incident"]["reference"])
    if is_htmx(request):  # a full page load: the incident page is not a part of this one
        return Response(status_code=204, headers={"HX-Redirect": where})
    return RedirectResponse(where, status_code=303)


async def _form(
    request: Request,
    can: Mapping[str, bool],
    catalog: Catalog,
    draft: Draft,
    status: int = 200,
    *,
    block: str | None = "form",
    errors: Mapping[str, str] | None = None,
    general: list[str] | None = None,
    switched: bool = False,
    refreshed: bool = False,
) -> Response:
    errors = dict(errors or {})
    kind = catalog.type(draft.type_id)
    shown = {f["id"] for f in kind["customFields"]} if kind else set()
    return await render(
        request,
        "declare.html",
        status,
        block=block,
        section="declare",
        viewer_can=can,
        can_declare=True,
        catalog=catalog,
        draft=draft,
        kind=kind,
        carried={k: v for k, v in draft.values.items() if k not in shown and any(v)},
        errors=errors,
        problems=[(anchor(key, draft, catalog), message) for key, message in errors.items()],
        general=general or [],
        switched=switched,
        refreshed=refreshed,
        FIELD=FIELD,
    )


async def _viewer(request: Request, status: int, can: Mapping[str, bool] | None = None) -> Response:
    """Who may declare instead of the form; ``can`` is what the page's query said the viewer may
    do (without it, when the mutation refused, the navigation asks again)."""
    context: dict[str, Any] = {} if can is None else {"viewer_can": can}
    return await render(
        request, "declare.html", status, section="declare", can_declare=False, **context
    )

"""The kinds of configuration the settings pages edit, and how their forms read.

Each ``Kind`` names its tab, its query and its create and update mutations, the input that names
an item, and how a posted form becomes the mutation's input (``Reading``: the input, the values to
show again, and what the page itself refuses). ``problem`` puts a refused form together with the
mutation's user errors, each on its field (``views.forms.place``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from starlette.datastructures import FormData

from views.forms import place
from views.numbers import whole

MAX_RANK = 999
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


def text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def texts(form: FormData, name: str) -> list[str]:
    return [v for v in form.getlist(name) if isinstance(v, str) and v]


def severity(form: FormData, creating: bool) -> Reading:
    values = {
        "name": text(form, "name"),
        "description": text(form, "description"),
        "rank": text(form, "rank").strip(),
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


def status(form: FormData, creating: bool) -> Reading:
    values = {"name": text(form, "name"), "description": text(form, "description")}
    data: dict[str, Any] = dict(values)
    errors = {}
    if creating:
        values["category"] = data["category"] = text(form, "category")
        if data["category"] not in CATEGORIES:
            errors["category"] = "Choose the category the status belongs to."
    return Reading(data, values, errors)


def incident_type(form: FormData, creating: bool) -> Reading:
    values = {
        "name": text(form, "name"),
        "description": text(form, "description"),
        "privateByDefault": "privateByDefault" in form,
        "practice": "practice" in form,
        "defaultSeverityId": text(form, "defaultSeverityId"),
        "customFieldIds": texts(form, "customFieldIds"),
    }
    data = {k: v for k, v in values.items() if k != "defaultSeverityId"}
    if values["defaultSeverityId"]:
        data["defaultSeverityId"] = values["defaultSeverityId"]
    return Reading(data, values)


def role(form: FormData, creating: bool) -> Reading:
    values = {name: text(form, name) for name in ("name", "description", "instructions")}
    return Reading(dict(values), values)


def custom_field(form: FormData, creating: bool) -> Reading:
    values = {"name": text(form, "name"), "description": text(form, "description")}
    data: dict[str, Any] = dict(values)
    errors = {}
    options = [line.strip() for line in text(form, "options").splitlines() if line.strip()]
    values["options"] = "\n".join(options)
    if creating:
        values["kind"] = data["kind"] = text(form, "kind")
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
            "SettingsUpdateSeverity", "severityId", severity,
            lambda s: {"name": s["name"], "description": s["description"], "rank": s["rank"]},
            {"name": "", "description": "", "rank": ""},
        ),
        Kind(
            "statuses", "Statuses", "SettingsStatuses", "SettingsCreateStatus",
            "SettingsUpdateStatus", "statusId", status,
            lambda s: {"name": s["name"], "description": s["description"]},
            {"name": "", "description": "", "category": "ACTIVE"},
        ),
        Kind(
            "types", "Incident types", "SettingsTypes", "SettingsCreateType",
            "SettingsUpdateType", "typeId", incident_type,
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
            "SettingsUpdateRole", "roleId", role,
            lambda r: {k: r[k] for k in ("name", "description", "instructions")},
            {"name": "", "description": "", "instructions": ""},
        ),
        Kind(
            "fields", "Custom fields", "SettingsFields", "SettingsCreateField",
            "SettingsUpdateField", "fieldId", custom_field,
            lambda f: {
                "name": f["name"],
                "description": f["description"],
                "options": "\n".join(o["value"] for o in f["options"]),
            },
            {"name": "", "description": "", "kind": "SINGLE_SELECT", "options": ""},
        ),
    )
}  # fmt: skip


def problem(key: str, reading: Reading, user_errors: Sequence[Mapping[str, Any]]) -> Problem:
    """A refused form: the page's own complaints and the mutation's, each on its field where
    it has one (the page's first), and all of them for the summary."""
    fields = {name: name for name in reading.values} | {"fieldIds": "customFieldIds"}
    placed, _ = place(user_errors, fields)
    errors = {**placed, **reading.errors}
    messages = list(reading.errors.values()) + [e["message"] for e in user_errors]
    return Problem(key, reading.values, errors, messages)

"""The incident page's forms about its work and fields: add an action (the default button) or a
follow-up, tick one off as done or open it again, set or clear one custom field."""

from __future__ import annotations

from datetime import date
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from views import signed_in
from views.forms import Form
from views.incident.submit import Spec, Target, change, submit

WORK = Spec("work", "work_form", "work-form")
MARK = Spec("mark", "state_work", "work-card")
FIELDS = Spec("fields", "fields_form", "fields-card")


@signed_in.page
async def add_work(request: Request) -> Response:
    """Add an action (the default button) or a follow-up."""

    async def act(request: Request, target: Target, form: Form) -> None:
        due = form.value("due")
        if not form.value("title").strip():
            form.errors["title"] = "Say what needs doing."
        if due:
            try:
                date.fromisoformat(due)
            except ValueError:
                form.errors["due"] = "Enter the due date as a date, like 2025-12-01."
        if form.failed:
            return
        follow_up = form.value("kind") == "follow-up"
        await change(
            request, "IncidentAddFollowUp" if follow_up else "IncidentAddAction", form,
            {"title": "title", "ownerId": "owner", "dueOn": "due"},
            reference=target.reference, title=form.value("title"),
            ownerId=form.value("owner") or None, dueOn=due or None,
        )  # fmt: skip

    return await submit(request, WORK, act)


@signed_in.page
async def mark_work(request: Request) -> Response:
    """Tick an action or follow-up off as done, or open it again."""

    async def act(request: Request, target: Target, form: Form) -> None:
        incident, wanted = (await target.page())["incident"], request.path_params["action"]
        items = [*incident["actions"], *incident["followUps"]]
        item = next((item for item in items if item["id"] == wanted), None)
        if item is None:
            form.problem = "That action is no longer on this incident."
            return
        status = "DONE" if form.value("status") == "DONE" else "OPEN"
        operation = "IncidentUpdateFollowUp" if item["followUp"] else "IncidentUpdateAction"
        await change(request, operation, form, {}, actionId=item["id"], status=status)

    return await submit(request, MARK, act)


@signed_in.page
async def set_field(request: Request) -> Response:
    """Set or clear one custom field."""

    async def act(request: Request, target: Target, form: Form) -> None:
        wanted = request.path_params["field"]
        fields = (await target.page())["customFields"]
        field = next((f for f in fields if f["id"] == wanted), None)
        if field is None:
            form.problem = "That field no longer exists."
            return
        form.values["field"] = [field["id"]]
        value: dict[str, Any] = {"fieldId": field["id"]}
        kind = field["kind"]
        if kind in ("SINGLE_SELECT", "MULTI_SELECT"):
            value["optionIds"] = [o for o in form.chosen("option") if o]
        elif kind == "NUMBER":
            text = form.value("number").strip()
            if text:
                try:
                    value["number"] = float(text)
                except ValueError:
                    form.errors["value"] = "Enter a number, like 12 or 3.5."
                    return
        elif form.value("text").strip():
            value["text"] = form.value("text")
        await change(
            request, "IncidentSetField", form, {"value": "value"},
            reference=target.reference, value=value,
        )  # fmt: skip

    return await submit(request, FIELDS, act)

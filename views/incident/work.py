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
        status = "DONE" if form.value("status") == "DONE" else "OPEN"
        action = request.path_params["action"]
        await change(request, "IncidentUpdateAction", form, {}, actionId=action, status=status)

    return await submit(request, MARK, act)


@signed_in.page
async def set_field(request: Request) -> Response:
    """Set or clear one custom field."""

    async def act(request: Request, target: Target, form: Form) -> None:
        field = request.path_params["field"]
        form.values["field"] = [field]
        value: dict[str, Any] = {"fieldId": field}
        kind = form.value("kind")  # as drawn; the API checks the value against the field
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

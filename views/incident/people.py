"""The incident page's forms about people: take a role or assign one (from the picker, which
offers those the API says may hold one), unassign it, invite someone into a private incident,
remove a member."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from views import signed_in
from views.forms import Form
from views.incident.submit import Spec, Target, change, submit

ROLES = Spec("roles", "state_roles", "roles-card")
ASSIGN = Spec("assign", "assign_form", "assign-form")
INVITE = Spec("invite", "invite_form", "invite-form")
MEMBERS = Spec("members", "state_members", "members-card")


@signed_in.page
async def assign_role(request: Request) -> Response:
    """Give a role to someone: one click for oneself ("Take lead"), or from the picker."""
    form = Form.of(await request.form())
    spec = ASSIGN if form.value("from") == "picker" else ROLES

    async def act(request: Request, target: Target, form: Form) -> None:
        if not form.value("role"):
            form.errors["role"] = "Choose a role."
        if not form.value("user"):
            form.errors["user"] = "Choose a person."
        if form.failed:
            return
        await change(
            request, "IncidentAssignRole", form, {"roleId": "role", "userId": "user"},
            reference=target.reference, roleId=form.value("role"),
            userId=form.value("user"),
        )  # fmt: skip
        if spec is ROLES and form.errors:  # the one-click buttons have no fields to mark
            form.problem = " ".join(form.errors.values())
            form.errors.clear()

    return await submit(request, spec, act)


@signed_in.page
async def unassign_role(request: Request) -> Response:
    async def act(request: Request, target: Target, form: Form) -> None:
        await change(
            request, "IncidentUnassignRole", form, {},
            reference=target.reference, roleId=form.value("role"),
        )  # fmt: skip

    return await submit(request, ROLES, act)


@signed_in.page
async def invite(request: Request) -> Response:
    async def act(request: Request, target: Target, form: Form) -> None:
        if not form.value("user"):
            form.errors["user"] = "Choose a person to invite."
            return
        await change(
            request, "IncidentInvite", form, {"userId": "user"},
            reference=target.reference, userId=form.value("user"),
        )  # fmt: skip

    return await submit(request, INVITE, act)


@signed_in.page
async def remove_member(request: Request) -> Response:
    async def act(request: Request, target: Target, form: Form) -> None:
        await change(
            request, "IncidentRemoveMember", form, {},
            reference=target.reference, userId=form.value("user"),
        )  # fmt: skip

    return await submit(request, MEMBERS, act)

"""Mutation results and the one envelope every mutation runs in.

``mutation(Payload)`` makes a mutation field from ``change(info, input, actor)``: it checks that
the credentials may write (``actor`` is the viewer then), runs the change, and turns an expected
refusal from the services (``MusterError``) into the payload's ``userErrors``; unexpected errors
propagate and are masked. Payloads hold the thing changed or made, or the ``userErrors`` saying
why nothing was.
"""

from __future__ import annotations

import typing
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import strawberry
from strawberry.types.field import StrawberryField

from app.errors import MusterError
from app.models import User
from schema.catalog import CustomField, IncidentRole, IncidentType, Severity, Status
from schema.context import Info
from schema.errors import UserError
from schema.people import ApiToken
from schema.types import Action, Incident, IncidentUpdate

P = TypeVar("P")
I = TypeVar("I")  # noqa: E741  (the input type)
Change = Callable[[Info, I, User], Awaitable[P]]


def mutation(
    payload: type[P], *, description: str | None = None
) -> Callable[[Change[Any, P]], StrawberryField]:
    """A mutation taking one ``input`` (the type ``change`` annotates) and answering ``payload``."""

    def field(change: Change[Any, P]) -> StrawberryField:
        async def resolve(info: Info, input: Any) -> P:
            try:
                return await change(info, input, info.context.writer())
            except MusterError as error:
                return payload(user_errors=[UserError.of(error)])  # type: ignore[call-arg]

        input_type = typing.get_type_hints(change)["input"]
        resolve.__annotations__ = {"info": Info, "input": input_type, "return": payload}
        made: StrawberryField = strawberry.mutation(resolver=resolve, description=description)
        return made

    return field


@strawberry.type
class IncidentPayload:
    incident: Incident | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ShareUpdatePayload:
    update: IncidentUpdate | None = None
    incident: Incident | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ActionPayload:
    action: Action | None = None
    incident: Incident | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class SeverityPayload:
    severity: Severity | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class StatusPayload:
    status: Status | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class IncidentTypePayload:
    incident_type: IncidentType | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class IncidentRolePayload:
    incident_role: IncidentRole | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class CustomFieldPayload:
    custom_field: CustomField | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ApiTokenPayload:
    token: ApiToken | None = None
    secret: str | None = strawberry.field(
        default=None, description="The token itself, shown only when it is created."
    )
    user_errors: list[UserError] = strawberry.field(default_factory=list)

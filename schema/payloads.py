"""Mutation results: the thing changed or made, or the ``userErrors`` saying why nothing was.

``attempt`` runs a mutation's work and turns an expected refusal from the services into the
payload's ``userErrors``; unexpected errors propagate and are masked.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

import strawberry

from app.errors import MusterError
from schema.errors import UserError
from schema.types import (
    Action,
    ApiToken,
    CustomField,
    Incident,
    IncidentRole,
    IncidentType,
    IncidentUpdate,
    Severity,
    Status,
)

P = TypeVar("P")


async def attempt(payload: Callable[..., P], work: Callable[[], Awaitable[P]]) -> P:
    try:
        return await work()
    except MusterError as error:
        return payload(user_errors=[UserError.of(error)])


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

"""Mutations that configure the organisation (admins only) and manage API tokens (anyone's own).

Configuration is what incidents are made of: severities, statuses, incident types, incident
roles and custom fields. Tokens are created with their secret shown once, and revoked.
"""

from __future__ import annotations

import strawberry

from app.models import FieldKind, StatusCategory, TokenScope, User
from app.services import catalog, tokens
from schema import ids
from schema.catalog import CustomField, IncidentRole, IncidentType, Severity, Status
from schema.context import Info
from schema.payloads import (
    ApiTokenPayload,
    CustomFieldPayload,
    IncidentRolePayload,
    IncidentTypePayload,
    SeverityPayload,
    StatusPayload,
    mutation,
)
from schema.people import ApiToken


def _field_ids(values: list[strawberry.ID] | None) -> list[int] | None:
    return None if values is None else ids.decode_all("CustomField", values, field="customFieldIds")


@strawberry.input
class CreateSeverityInput:
    name: str
    description: str = ""
    rank: int | None = strawberry.field(default=None, description="Left out: above the worst.")


@strawberry.input
class UpdateSeverityInput:
    severity_id: strawberry.ID
    name: str | None = None
    description: str | None = None
    rank: int | None = None

    def severity(self) -> int:
        return ids.decode("Severity", self.severity_id, field="severityId")


@strawberry.input
class CreateStatusInput:
    name: str
    category: StatusCategory
    description: str = ""


@strawberry.input
class UpdateStatusInput:
    status_id: strawberry.ID
    name: str | None = None
    description: str | None = None
    position: int | None = None

    def status(self) -> int:
        return ids.decode("Status", self.status_id, field="statusId")


@strawberry.input
class CreateIncidentTypeInput:
    name: str
    description: str = ""
    private_by_default: bool = False
    practice: bool = False
    default_severity_id: strawberry.ID | None = None
    custom_field_ids: list[strawberry.ID] | None = None

    def default_severity(self) -> int | None:
        return ids.decode_optional("Severity", self.default_severity_id, field="defaultSeverityId")

    def custom_fields(self) -> list[int] | None:
        return _field_ids(self.custom_field_ids)


@strawberry.input
class UpdateIncidentTypeInput:
    type_id: strawberry.ID
    name: str | None = None
    description: str | None = None
    private_by_default: bool | None = None
    practice: bool | None = None
    default_severity_id: strawberry.ID | None = None
    custom_field_ids: list[strawberry.ID] | None = None

    def incident_type(self) -> int:
        return ids.decode("IncidentType", self.type_id, field="typeId")

    def default_severity(self) -> int | None:
        return ids.decode_optional("Severity", self.default_severity_id, field="defaultSeverityId")

    def custom_fields(self) -> list[int] | None:
        return _field_ids(self.custom_field_ids)


@strawberry.input
class CreateIncidentRoleInput:
    name: str
    description: str = ""
    instructions: str = ""


@strawberry.input
class UpdateIncidentRoleInput:
    role_id: strawberry.ID
    name: str | None = None
    description: str | None = None
    instructions: str | None = None

    def role(self) -> int:
        return ids.decode("IncidentRole", self.role_id, field="roleId")


@strawberry.input
class CreateCustomFieldInput:
    name: str
    kind: FieldKind
    description: str = ""
    options: list[str] | None = strawberry.field(
        default=None, description="The choices of a select field, in order."
    )


@strawberry.input
class UpdateCustomFieldInput:
    field_id: strawberry.ID
    name: str | None = None
    description: str | None = None
    options: list[str] | None = strawberry.field(
        default=None, description="All the choices, in order; a choice left out is removed."
    )

    def field(self) -> int:
        return ids.decode("CustomField", self.field_id, field="fieldId")


@strawberry.input
class CreateApiTokenInput:
    name: str
    scope: TokenScope = TokenScope.READ


@strawberry.input
class RenameApiTokenInput:
    token_id: strawberry.ID
    name: str

    def token(self) -> int:
        return ids.decode("ApiToken", self.token_id, field="tokenId")


@strawberry.input
class RevokeApiTokenInput:
    token_id: strawberry.ID

    def token(self) -> int:
        return ids.decode("ApiToken", self.token_id, field="tokenId")


@strawberry.type
class AdminMutations:
    @mutation(SeverityPayload, description="Admins: add a severity.")
    async def create_severity(
        info: Info, input: CreateSeverityInput, actor: User
    ) -> SeverityPayload:
        row = await catalog.create_severity(
            info.context.db,
            actor=actor,
            name=input.name,
            description=input.description,
            rank=input.rank,
        )
        return SeverityPayload(severity=Severity.from_model(row))

    @mutation(SeverityPayload, description="Admins: rename, describe or re-rank a severity.")
    async def update_severity(
        info: Info, input: UpdateSeverityInput, actor: User
    ) -> SeverityPayload:
        row = await catalog.update_severity(
            info.context.db,
            actor=actor,
            severity_id=input.severity(),
            name=input.name,
            description=input.description,
            rank=input.rank,
        )
        return SeverityPayload(severity=Severity.from_model(row))

    @mutation(StatusPayload, description="Admins: add a status within one of the fixed categories.")
    async def create_status(info: Info, input: CreateStatusInput, actor: User) -> StatusPayload:
        row = await catalog.create_status(
            info.context.db,
            actor=actor,
            name=input.name,
            category=input.category,
            description=input.description,
        )
        return StatusPayload(status=Status.from_model(row))

    @mutation(StatusPayload, description="Admins: rename, describe or reorder a status.")
    async def update_status(info: Info, input: UpdateStatusInput, actor: User) -> StatusPayload:
        row = await catalog.update_status(
            info.context.db,
            actor=actor,
            status_id=input.status(),
            name=input.name,
            description=input.description,
            position=input.position,
        )
        return StatusPayload(status=Status.from_model(row))

    @mutation(IncidentTypePayload, description="Admins: add an incident type.")
    async def create_incident_type(
        info: Info, input: CreateIncidentTypeInput, actor: User
    ) -> IncidentTypePayload:
        return await _save_type(info, input, actor, type_id=None)

    @mutation(IncidentTypePayload, description="Admins: change an incident type.")
    async def update_incident_type(
        info: Info, input: UpdateIncidentTypeInput, actor: User
    ) -> IncidentTypePayload:
        return await _save_type(info, input, actor, type_id=input.incident_type())

    @mutation(IncidentRolePayload, description="Admins: add a custom incident role.")
    async def create_incident_role(
        info: Info, input: CreateIncidentRoleInput, actor: User
    ) -> IncidentRolePayload:
        row = await catalog.save_incident_role(
            info.context.db,
            actor=actor,
            name=input.name,
            description=input.description,
            instructions=input.instructions,
        )
        return IncidentRolePayload(incident_role=IncidentRole.from_model(row))

    @mutation(IncidentRolePayload, description="Admins: rename a role or change its instructions.")
    async def update_incident_role(
        info: Info, input: UpdateIncidentRoleInput, actor: User
    ) -> IncidentRolePayload:
        row = await catalog.save_incident_role(
            info.context.db,
            actor=actor,
            role_id=input.role(),
            name=input.name,
            description=input.description,
            instructions=input.instructions,
        )
        return IncidentRolePayload(incident_role=IncidentRole.from_model(row))

    @mutation(CustomFieldPayload, description="Admins: add a custom field.")
    async def create_custom_field(
        info: Info, input: CreateCustomFieldInput, actor: User
    ) -> CustomFieldPayload:
        row = await catalog.save_custom_field(
            info.context.db,
            actor=actor,
            name=input.name,
            kind=input.kind,
            description=input.description,
            options=input.options,
        )
        return CustomFieldPayload(custom_field=CustomField.from_model(row))

    @mutation(
        CustomFieldPayload, description="Admins: rename a custom field or change its options."
    )
    async def update_custom_field(
        info: Info, input: UpdateCustomFieldInput, actor: User
    ) -> CustomFieldPayload:
        row = await catalog.save_custom_field(
            info.context.db,
            actor=actor,
            field_id=input.field(),
            name=input.name,
            description=input.description,
            options=input.options,
        )
        return CustomFieldPayload(custom_field=CustomField.from_model(row))

    @mutation(ApiTokenPayload, description="Create a personal API token; its secret is shown once.")
    async def create_api_token(
        info: Info, input: CreateApiTokenInput, actor: User
    ) -> ApiTokenPayload:
        row, secret = await tokens.create_token(
            info.context.db, user=actor, name=input.name, scope=input.scope
        )
        return ApiTokenPayload(token=ApiToken.from_model(row), secret=secret)

    @mutation(ApiTokenPayload, description="Rename one of your tokens (admins: anyone's).")
    async def rename_api_token(
        info: Info, input: RenameApiTokenInput, actor: User
    ) -> ApiTokenPayload:
        row = await tokens.rename_token(
            info.context.db,
            actor=actor,
            token_id=input.token(),
            name=input.name,
        )
        return ApiTokenPayload(token=ApiToken.from_model(row))

    @mutation(ApiTokenPayload, description="Revoke one of your tokens (admins: anyone's).")
    async def revoke_api_token(
        info: Info, input: RevokeApiTokenInput, actor: User
    ) -> ApiTokenPayload:
        row = await tokens.revoke_token(
            info.context.db,
            actor=actor,
            token_id=input.token(),
        )
        return ApiTokenPayload(token=ApiToken.from_model(row))


async def _save_type(
    info: Info,
    input: CreateIncidentTypeInput | UpdateIncidentTypeInput,
    actor: User,
    *,
    type_id: int | None,
) -> IncidentTypePayload:
    """Create (no ``type_id``) or change an incident type; what is left out stays as it is."""
    row = await catalog.save_incident_type(
        info.context.db,
        actor=actor,
        type_id=type_id,
        name=input.name,
        description=input.description,
        private_by_default=input.private_by_default,
        practice=input.practice,
        default_severity_id=input.default_severity(),
        field_ids=input.custom_fields(),
    )
    return IncidentTypePayload(incident_type=IncidentType(row=row))

"""The GraphQL types of the organisation's catalog (what incidents are made of): severities,
statuses, custom fields and their options, incident types and incident roles, each built from its
model with ``from_model``; an incident type's references go through the request's loaders.
"""

from __future__ import annotations

import strawberry

from app import models
from app.models import FieldKind, RoleKind, StatusCategory
from schema import ids
from schema.context import Info


@strawberry.type
class Severity:
    id: strawberry.ID
    name: str
    description: str
    rank: int = strawberry.field(description="Higher is worse; compare severities by rank.")

    @classmethod
    def from_model(cls, row: models.Severity) -> Severity:
        return cls(
            id=ids.encode("Severity", row.id),
            name=row.name,
            description=row.description,
            rank=row.rank,
        )


@strawberry.type
class Status:
    id: strawberry.ID
    name: str
    description: str
    category: StatusCategory

    @classmethod
    def from_model(cls, row: models.Status) -> Status:
        return cls(
            id=ids.encode("Status", row.id),
            name=row.name,
            description=row.description,
            category=row.category,
        )


@strawberry.type
class CustomFieldOption:
    id: strawberry.ID
    value: str

    @classmethod
    def from_model(cls, row: models.CustomFieldOption) -> CustomFieldOption:
        return cls(id=ids.encode("CustomFieldOption", row.id), value=row.value)


@strawberry.type
class CustomField:
    id: strawberry.ID
    name: str
    description: str
    kind: FieldKind
    options: list[CustomFieldOption]

    @classmethod
    def from_model(cls, row: models.CustomField) -> CustomField:
        return cls(
            id=ids.encode("CustomField", row.id),
            name=row.name,
            description=row.description,
            kind=row.kind,
            options=[CustomFieldOption.from_model(option) for option in row.options],
        )


@strawberry.type
class IncidentType:
    row: strawberry.Private[models.IncidentType]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return ids.encode("IncidentType", self.row.id)

    @strawberry.field
    def name(self) -> str:
        return self.row.name

    @strawberry.field
    def description(self) -> str:
        return self.row.description

    @strawberry.field
    def private_by_default(self) -> bool:
        return self.row.private_by_default

    @strawberry.field(description="Practice incidents (game days) are kept out of insights.")
    def practice(self) -> bool:
        return self.row.practice

    @strawberry.field
    async def default_severity(self, info: Info) -> Severity | None:
        if self.row.default_severity_id is None:
            return None
        return Severity.from_model(
            await info.context.loaders.severity.load(self.row.default_severity_id)
        )

    @strawberry.field(description="The custom fields people fill in when declaring one.")
    async def custom_fields(self, info: Info) -> list[CustomField]:
        loaded = await info.context.loaders.custom_field.load_many([f.id for f in self.row.fields])
        return [CustomField.from_model(field) for field in loaded if field is not None]


@strawberry.type
class IncidentRole:
    id: strawberry.ID
    name: str
    kind: RoleKind
    required: bool
    description: str
    instructions: str = strawberry.field(description="Shown to whoever takes the role.")
    assignable: bool = strawberry.field(
        description="Whether someone can be given it (the reporter is whoever declared)."
    )
    may_be_empty: bool = strawberry.field(
        description="Whether it can be left empty (unassignRole): not the reporter or a "
        "required role, which are handed over instead."
    )

    @classmethod
    def from_model(cls, row: models.IncidentRole) -> IncidentRole:
        return cls(
            id=ids.encode("IncidentRole", row.id),
            name=row.name,
            kind=row.kind,
            required=row.required,
            description=row.description,
            instructions=row.instructions,
            assignable=row.assignable,
            may_be_empty=row.may_be_empty,
        )

"""The organisation's configuration: default catalog, listing it, and admins changing it.

``install_defaults`` fills an empty database with the product's defaults (severities, statuses,
incident types, roles, custom fields) and is safe to run again: it only adds what is missing
from an empty catalog. Changes by admins are checked with ``policy.can_configure``. Every write
here goes through ``_configuring``, which marks it ``Touched.CATALOG``: processes keep a copy of
the catalog (``app.catalog_cache``) and drop it when such a write commits.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from app import policy
from app.db import Database, Touched, touching
from app.errors import Forbidden, Invalid, NotFound
from app.models import (
    Base,
    Counter,
    CustomField,
    CustomFieldOption,
    FieldKind,
    IncidentRole,
    IncidentType,
    RoleKind,
    Severity,
    Status,
    StatusCategory,
    User,
)
from app.text import clean_text

INCIDENT_COUNTER = "incidents"

DEFAULT_SEVERITIES = [
    ("Minor", "Small impact: a few people or a non-critical feature; no rush outside hours."),
    ("Major", "Noticeable impact on customers or the business; work on it now."),
    ("Critical", "Severe impact: a core service is down, data is at risk, or many are affected."),
]
DEFAULT_STATUSES = [
    ("Triage", StatusCategory.TRIAGE, "Reported; a responder decides whether it is an incident."),
    ("Investigating", StatusCategory.ACTIVE, "We know something is wrong and are finding out why."),
    ("Fixing", StatusCategory.ACTIVE, "We know the cause and are working on a fix."),
    ("Monitoring", StatusCategory.ACTIVE, "A fix is in place; we are watching that it holds."),
    ("Documenting", StatusCategory.POST_INCIDENT, "Resolved; writing down what happened."),
    ("Reviewing", StatusCategory.POST_INCIDENT, "Resolved; reviewing it together to learn."),
    ("Closed", StatusCategory.CLOSED, "Done, including the follow-up work we chose to do."),
    ("Declined", StatusCategory.DECLINED, "Looked at in triage and found not to be an incident."),
    ("Merged", StatusCategory.MERGED, "A duplicate, followed in another incident."),
    ("Canceled", StatusCategory.CANCELED, "Declared by mistake."),
]
DEFAULT_TYPES: list[dict[str, Any]] = [
    {"name": "Default", "description": "Anything that takes people away from planned work."},
    {
        "name": "Security",
        "description": "Breaches, leaked credentials, lost devices. Private from the start.",
        "private_by_default": True,
        "severity": "Major",
    },
    {"name": "Customer issue", "description": "Customers cannot do something they rely on."},
    {
        "name": "Data & dashboards",
        "description": "Numbers the business relies on are wrong, late or missing.",
    },
    {"name": "Migration", "description": "Planned work run as an incident: a war room for it."},
    {"name": "Product launch", "description": "A launch coordinated through the incident flow."},
    {
        "name": "Game day",
        "description": "Practice: rehearse the response. Kept out of insights and announcements.",
        "practice": True,
    },
]
DEFAULT_ROLES = [
    (
        "Reporter",
        RoleKind.REPORTER,
        False,
        "The person who declared the incident.",
        "You raised this: stay around to answer questions from the people responding.",
    ),
    (
        "Incident lead",
        RoleKind.LEAD,
        True,
        "Coordinates the response and makes the calls.",
        "Set the severity, get the right people in, share updates on time, and hand over "
        "explicitly if you step away.",
    ),
    (
        "Communications lead",
        RoleKind.COMMUNICATIONS,
        False,
        "Keeps customers and the rest of the organisation informed.",
        "Share an update before each promised time; tell support what to say to customers.",
    ),
]
DEFAULT_FIELDS: list[tuple[str, FieldKind, str, list[str]]] = [
    (
        "Affected features",
        FieldKind.MULTI_SELECT,
        "Which parts of the product are affected.",
        ["Login", "Checkout", "Search", "Notifications", "Reporting", "Public API"],
    ),
    (
        "Affected teams",
        FieldKind.MULTI_SELECT,
        "Which teams are affected or needed.",
        ["Support", "Payments", "Platform", "Data", "Security", "Sales"],
    ),
    ("Customers affected", FieldKind.NUMBER, "Roughly how many customers are affected.", []),
    ("Status page", FieldKind.LINK, "The public status page entry, if there is one.", []),
]


@asynccontextmanager
async def _configuring(db: Database) -> AsyncIterator[AsyncSession]:
    """A write to the catalog: every process's copy of it is dropped when it commits."""
    async with db.write() as session:
        touching(session, Touched.CATALOG)
        yield session


async def install_defaults(db: Database) -> bool:
    """Fill an empty catalog with the defaults; returns whether anything was installed."""
    async with _configuring(db) as session:
        if await session.scalar(select(func.count()).select_from(Severity)):
            return False
        severities = {
            name: Severity(name=name, description=text, rank=rank)
            for rank, (name, text) in enumerate(DEFAULT_SEVERITIES, start=1)
        }
        session.add_all(severities.values())
        session.add_all(
            Status(name=name, category=category, description=text, position=position)
            for position, (name, category, text) in enumerate(DEFAULT_STATUSES)
        )
        session.add_all(
            IncidentRole(
                name=name,
                kind=kind,
                required=required,
                description=text,
                instructions=instructions,
                position=position,
            )
            for position, (name, kind, required, text, instructions) in enumerate(DEFAULT_ROLES)
        )
        fields = []
        for position, (name, kind, text, values) in enumerate(DEFAULT_FIELDS):
            field = CustomField(name=name, kind=kind, description=text, position=position)
            field.options = [CustomFieldOption(value=v, position=i) for i, v in enumerate(values)]
            fields.append(field)
        session.add_all(fields)
        await session.flush()
        for position, spec in enumerate(DEFAULT_TYPES):
            default = severities.get(spec.get("severity", ""))
            incident_type = IncidentType(
                name=spec["name"],
                description=spec["description"],
                private_by_default=spec.get("private_by_default", False),
                practice=spec.get("practice", False),
                default_severity_id=default.id if default else None,
                position=position,
            )
            incident_type.fields = fields if spec["name"] in ("Default", "Customer issue") else []
            session.add(incident_type)
        if await session.get(Counter, INCIDENT_COUNTER) is None:
            session.add(Counter(name=INCIDENT_COUNTER, value=0))
        return True


# Reads ---------------------------------------------------------------------------------------


async def list_severities(session: AsyncSession) -> Sequence[Severity]:
    return (await session.scalars(select(Severity).order_by(Severity.rank))).all()


async def list_statuses(session: AsyncSession) -> Sequence[Status]:
    statuses = (await session.scalars(select(Status))).all()
    order = list(StatusCategory)
    return sorted(statuses, key=lambda s: (order.index(s.category), s.position, s.id))


async def list_incident_types(session: AsyncSession) -> Sequence[IncidentType]:
    query = select(IncidentType).options(selectinload(IncidentType.fields))
    return (await session.scalars(query.order_by(IncidentType.position, IncidentType.id))).all()


async def list_incident_roles(session: AsyncSession) -> Sequence[IncidentRole]:
    query = select(IncidentRole).order_by(IncidentRole.position, IncidentRole.id)
    return (await session.scalars(query)).all()


async def list_custom_fields(session: AsyncSession) -> Sequence[CustomField]:
    query = select(CustomField).options(selectinload(CustomField.options))
    return (await session.scalars(query.order_by(CustomField.position, CustomField.id))).all()


async def first_status(session: AsyncSession, category: StatusCategory) -> Status:
    """The status an incident enters when it moves into ``category`` without naming one."""
    query = select(Status).where(Status.category == category).order_by(Status.position, Status.id)
    status = await session.scalar(query.limit(1))
    if status is None:
        raise Invalid(f"No status is configured in the {category.name} category.")
    return status


M = TypeVar("M", bound=Base)


async def get_config(session: AsyncSession, model: type[M], item_id: int, field: str) -> M:
    """Load one configuration row by id, or raise ``NotFound`` naming the input at fault."""
    row = await session.get(model, item_id)
    if row is None:
        label = model.__tablename__.replace("_", " ").rstrip("s")
        raise NotFound(f"No {label} with that id.", field=field)
    return row


# Changes by admins -----------------------------------------------------------------------------


def _require_admin(actor: User) -> None:
    if not policy.can_configure(actor):
        raise Forbidden("Only admins can change the configuration.")


async def _unique_name(
    session: AsyncSession, model: Any, name: str, own_id: int | None = None
) -> str:
    name = clean_text(name, field="name", limit=60)
    query = select(model.id).where(func.lower(model.name) == name.lower())
    existing = await session.scalar(query)
    if existing is not None and existing != own_id:
        raise Invalid(f"There is already one named {name!r}.", field="name")
    return name


async def _name_and_describe(
    session: AsyncSession, entry: Any, name: str | None, description: str | None
) -> None:
    """Give a catalog entry the name (unique among its kind) and description given, if any;
    a description is never left unset."""
    if name is not None:
        entry.name = await _unique_name(session, type(entry), name, entry.id)
    if description is not None:
        entry.description = clean_text(description, field="description", limit=2000, empty=True)
    entry.description = entry.description or ""


async def _next_position(session: AsyncSession, column: Any, *conditions: Any) -> int:
    """The position after the last one of ``column`` (among rows meeting ``conditions``)."""
    last = await session.scalar(select(func.max(column)).where(*conditions))
    return (last if last is not None else -1) + 1


async def create_severity(
    db: Database, *, actor: User, name: str, description: str = "", rank: int | None = None
) -> Severity:
    _require_admin(actor)
    async with _configuring(db) as session:
        top = await session.scalar(select(func.max(Severity.rank))) or 0
        severity = Severity(rank=top + 1 if rank is None else rank)
        await _name_and_describe(session, severity, name, description)
        session.add(severity)
        await session.flush()
        return severity


async def update_severity(
    db: Database,
    *,
    actor: User,
    severity_id: int,
    name: str | None = None,
    description: str | None = None,
    rank: int | None = None,
) -> Severity:
    _require_admin(actor)
    async with _configuring(db) as session:
        severity = await get_config(session, Severity, severity_id, "severityId")
        await _name_and_describe(session, severity, name, description)
        if rank is not None:
            severity.rank = rank
        return severity


async def create_status(
    db: Database,
    *,
    actor: User,
    name: str,
    category: StatusCategory,
    description: str = "",
) -> Status:
    _require_admin(actor)
    async with _configuring(db) as session:
        position = await _next_position(session, Status.position, Status.category == category)
        status = Status(category=category, position=position)
        await _name_and_describe(session, status, name, description)
        session.add(status)
        await session.flush()
        return status


async def update_status(
    db: Database,
    *,
    actor: User,
    status_id: int,
    name: str | None = None,
    description: str | None = None,
    position: int | None = None,
) -> Status:
    """Rename, describe or reorder a status; its category is fixed once created."""
    _require_admin(actor)
    async with _configuring(db) as session:
        status = await get_config(session, Status, status_id, "statusId")
        await _name_and_describe(session, status, name, description)
        if position is not None:
            status.position = position
        return status


async def save_incident_type(
    db: Database,
    *,
    actor: User,
    type_id: int | None = None,
    name: str | None = None,
    description: str | None = None,
    private_by_default: bool | None = None,
    practice: bool | None = None,
    default_severity_id: int | None = None,
    field_ids: Sequence[int] | None = None,
) -> IncidentType:
    """Create an incident type (no ``type_id``) or change the given parts of one."""
    _require_admin(actor)
    async with _configuring(db) as session:
        if type_id is None:
            if name is None:
                raise Invalid("A new incident type needs a name.", field="name")
            kind = IncidentType(
                position=await _next_position(session, IncidentType.position), fields=[]
            )
        else:
            query = select(IncidentType).options(selectinload(IncidentType.fields))
            found = await session.scalar(query.where(IncidentType.id == type_id))
            if found is None:
                raise NotFound("No incident type with that id.", field="typeId")
            kind = found
        await _name_and_describe(session, kind, name, description)
        if private_by_default is not None:
            kind.private_by_default = private_by_default
        if practice is not None:
            kind.practice = practice
        if default_severity_id is not None:
            await get_config(session, Severity, default_severity_id, "defaultSeverityId")
            kind.default_severity_id = default_severity_id
        if field_ids is not None:
            fields = (
                await session.scalars(select(CustomField).where(CustomField.id.in_(field_ids)))
            ).all()
            if len(fields) != len(set(field_ids)):
                raise NotFound("No custom field with one of those ids.", field="fieldIds")
            kind.fields = list(fields)
        session.add(kind)
        await session.flush()
        return kind


async def save_incident_role(
    db: Database,
    *,
    actor: User,
    role_id: int | None = None,
    name: str | None = None,
    description: str | None = None,
    instructions: str | None = None,
) -> IncidentRole:
    """Create a custom incident role (no ``role_id``) or change the text of any role."""
    _require_admin(actor)
    async with _configuring(db) as session:
        if role_id is None:
            if name is None:
                raise Invalid("A new role needs a name.", field="name")
            role = IncidentRole(
                kind=RoleKind.CUSTOM,
                required=False,
                position=await _next_position(session, IncidentRole.position),
            )
        else:
            role = await get_config(session, IncidentRole, role_id, "roleId")
        await _name_and_describe(session, role, name, description)
        if instructions is not None:
            role.instructions = clean_text(
                instructions, field="instructions", limit=5000, empty=True
            )
        role.instructions = role.instructions or ""
        session.add(role)
        await session.flush()
        return role


async def save_custom_field(
    db: Database,
    *,
    actor: User,
    field_id: int | None = None,
    name: str | None = None,
    kind: FieldKind | None = None,
    description: str | None = None,
    options: Sequence[str] | None = None,
) -> CustomField:
    """Create a custom field or change one; options are the choices of a select field, in order.

    Options keep their ids when their text is unchanged, so values already chosen survive a
    reorder; an option left out is removed along with the values that chose it.
    """
    _require_admin(actor)
    async with _configuring(db) as session:
        if field_id is None:
            if name is None or kind is None:
                raise Invalid("A new custom field needs a name and a kind.", field="name")
            field = CustomField(
                kind=kind, position=await _next_position(session, CustomField.position)
            )
            field.options = []
        else:
            query = select(CustomField).options(selectinload(CustomField.options))
            found = await session.scalar(query.where(CustomField.id == field_id))
            if found is None:
                raise NotFound("No custom field with that id.", field="fieldId")
            field = found
            if kind is not None and kind is not field.kind:
                raise Invalid("A field's kind cannot change once created.", field="kind")
        await _name_and_describe(session, field, name, description)
        selects = (FieldKind.SINGLE_SELECT, FieldKind.MULTI_SELECT)
        if options is not None:
            if field.kind not in selects:
                raise Invalid("Only select fields have options.", field="options")
            values = [clean_text(v, field="options", limit=100) for v in options]
            if len({v.lower() for v in values}) != len(values):
                raise Invalid("Options must be different from each other.", field="options")
            existing = {o.value: o for o in field.options}
            field.options = [
                _option(existing.get(value), value, position)
                for position, value in enumerate(values)
            ]
        elif field_id is None and field.kind in selects:
            raise Invalid("A select field needs at least one option.", field="options")
        session.add(field)
        await session.flush()
        return field


def _option(option: CustomFieldOption | None, value: str, position: int) -> CustomFieldOption:
    if option is None:
        return CustomFieldOption(value=value, position=position)
    option.position = position
    return option

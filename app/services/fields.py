"""Custom field values: checking a value against its field, storing it, describing it.

A value is an option id (single select), a list of option ids (multi select), a string (text,
link) or a number; ``None`` clears the field. Multi-select values are stored one row per choice
so that lists can filter on them in SQL.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from app.db import Database
from app.errors import Invalid, NotFound
from app.models import CustomField, CustomFieldValue, EventKind, FieldKind, Incident, User
from app.services.changes import Change, changing
from app.text import clean_text

FieldValue = int | float | str | Sequence[int] | None
Display = str | float | list[str] | None


async def load_fields(session: AsyncSession, field_ids: Sequence[int]) -> dict[int, CustomField]:
    """The fields with these ids, options loaded; an unknown id is ``NotFound``."""
    query = select(CustomField).options(selectinload(CustomField.options))
    fields = {f.id: f for f in await session.scalars(query.where(CustomField.id.in_(field_ids)))}
    missing = [field_id for field_id in field_ids if field_id not in fields]
    if missing:
        raise NotFound("No custom field with that id.", field="fieldId", custom_field=missing[0])
    return fields


def value_rows(field: CustomField, value: FieldValue) -> list[CustomFieldValue]:
    """The rows that store ``value`` for ``field`` (not yet tied to an incident); a refusal
    names the field (``custom_field``), so forms can show it where that field is."""
    try:
        return _checked_rows(field, value)
    except Invalid as error:
        raise Invalid(error.message, field=error.field, custom_field=field.id) from error


def _checked_rows(field: CustomField, value: FieldValue) -> list[CustomFieldValue]:
    if value is None:
        return []
    options = {option.id: option for option in field.options}
    wrong = Invalid(f"That is not a valid value for {field.name}.", field="value")
    if field.kind is FieldKind.SINGLE_SELECT:
        if isinstance(value, list | tuple) and len(value) == 1:
            value = value[0]  # one choice given as a list, as the API sends every selection
        if not isinstance(value, int) or isinstance(value, bool) or value not in options:
            raise wrong
        return [CustomFieldValue(field_id=field.id, option_id=value)]
    if field.kind is FieldKind.MULTI_SELECT:
        if isinstance(value, str | int | float) or any(v not in options for v in value):
            raise wrong
        return [CustomFieldValue(field_id=field.id, option_id=v) for v in dict.fromkeys(value)]
    if field.kind is FieldKind.NUMBER:
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise wrong
        return [CustomFieldValue(field_id=field.id, number_value=float(value))]
    if not isinstance(value, str):
        raise wrong
    if field.kind is FieldKind.LINK:
        text = clean_text(value, field="value", limit=2000, label=field.name)
        parts = urlsplit(text)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise Invalid(f"{field.name} must be an http(s) link.", field="value")
        return [CustomFieldValue(field_id=field.id, text_value=text)]
    text = clean_text(value, field="value", limit=2000, empty=True, label=field.name)
    return [CustomFieldValue(field_id=field.id, text_value=text)] if text else []


def display(field: CustomField, rows: Sequence[CustomFieldValue]) -> Display:
    """A value as people read it: option names, the number, the text."""
    if not rows:
        return None
    if field.kind in (FieldKind.SINGLE_SELECT, FieldKind.MULTI_SELECT):
        names = {option.id: option.value for option in field.options}
        chosen = [names[row.option_id] for row in rows if row.option_id in names]
        return chosen if field.kind is FieldKind.MULTI_SELECT else chosen[0]
    if field.kind is FieldKind.NUMBER:
        return rows[0].number_value
    return rows[0].text_value


async def prepare_values(
    session: AsyncSession, values: Mapping[int, FieldValue]
) -> tuple[list[CustomFieldValue], dict[str, Display]]:
    """Check values for a new incident: the rows to store, and the values as people read them."""
    if not values:
        return [], {}
    fields = await load_fields(session, list(values))
    rows: list[CustomFieldValue] = []
    shown: dict[str, Display] = {}
    for field_id, value in values.items():
        field_rows = value_rows(fields[field_id], value)
        rows.extend(field_rows)
        if field_rows:
            shown[fields[field_id].name] = display(fields[field_id], field_rows)
    return rows, shown


async def set_custom_field_value(
    db: Database,
    *,
    actor: User,
    incident_id: int,
    field_id: int,
    value: FieldValue,
    expected_version: int | None = None,
) -> Incident:
    """Set (or, with None, clear) one custom field of an incident."""
    async with changing(db, actor, incident_id, expected_version=expected_version) as change:
        session = change.session
        field = (await load_fields(session, [field_id]))[field_id]
        await _replace(change, field, value_rows(field, value))
        return change.incident


async def _replace(change: Change, field: CustomField, rows: list[CustomFieldValue]) -> None:
    session, incident = change.session, change.incident
    where = (CustomFieldValue.incident_id == incident.id, CustomFieldValue.field_id == field.id)
    old = (await session.scalars(select(CustomFieldValue).where(*where))).all()
    before, after = display(field, old), display(field, rows)
    if before == after:
        raise Invalid(f"{field.name} already has that value.", field="value", custom_field=field.id)
    for row in old:  # one by one (not a DELETE statement): the flush says whom this concerns
        await session.delete(row)
    await session.flush()  # gone before the new rows take their place
    for row in rows:
        row.incident_id = incident.id
    session.add_all(rows)
    await change.record(EventKind.FIELD_CHANGED, {"field": field.name, "from": before, "to": after})

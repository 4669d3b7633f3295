"""Relay-style connections and the opaque cursors behind them.

Incident cursors carry the keyset position (declaration time and id) so the next page starts
with an index seek; timeline cursors carry the event id, the same position live feeds resume
from. A malformed cursor is a clear error, never a silent first page.
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Generic, TypeVar

import strawberry

from app.errors import Invalid
from app.services.incident_queries import MAX_PAGE, Position

T = TypeVar("T")


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    cursor: str
    node: T


def page_size(first: int) -> int:
    if not 1 <= first <= MAX_PAGE:
        raise Invalid(f"first must be between 1 and {MAX_PAGE}.", field="first")
    return first


def _encode(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _decode(cursor: str, field: str) -> str:
    try:
        return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError) as error:
        raise Invalid("That cursor is not one this server gave out.", field=field) from error


def incident_cursor(declared_at: datetime, incident_id: int) -> str:
    return _encode(f"i:{declared_at.isoformat()}|{incident_id}")


def incident_position(cursor: str | None) -> Position | None:
    if cursor is None:
        return None
    text = _decode(cursor, "after")
    when, _, key = text.removeprefix("i:").rpartition("|")
    try:
        if not text.startswith("i:") or not key.isdigit():
            raise ValueError(text)
        at = datetime.fromisoformat(when)
        if at.tzinfo is None:
            raise ValueError(when)
    except ValueError as error:
        raise Invalid("That cursor is not one this server gave out.", field="after") from error
    return Position(declared_at=at, id=int(key))


def event_cursor(event_id: int) -> str:
    return _encode(f"e:{event_id}")


def event_position(cursor: str | None) -> int | None:
    if cursor is None:
        return None
    text = _decode(cursor, "after")
    key = text.removeprefix("e:")
    if not text.startswith("e:") or not key.isdigit() or len(key) > 18:
        raise Invalid("That cursor is not one this server gave out.", field="after")
    return int(key)

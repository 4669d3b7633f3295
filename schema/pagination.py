"""Relay-style connections and the opaque cursors behind them.

Incident cursors carry the keyset position (declaration time and id) so the next page starts
with an index seek; timeline cursors carry the event id, the same position live feeds resume
from (and SSE streams' ``Last-Event-ID``). Both are sealed like ids (``schema.ids``), so neither
can be read, counted or forged; anything else is a clear error, never a silent first page.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Generic, TypeVar

import strawberry

from app.errors import Invalid
from app.services.incident_queries import MAX_PAGE, Position
from schema import ids

T = TypeVar("T")
_INCIDENTS = "cursor:incidents"  # declaration time (microseconds since 1970) and id
_EVENTS = "cursor:events"  # event id
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


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


def _not_a_cursor() -> Invalid:
    return Invalid("That cursor is not one this server gave out.", field="after")


def incident_cursor(declared_at: datetime, incident_id: int) -> str:
    return ids.sealer().seal(_INCIDENTS, (_microseconds(declared_at), incident_id))


def incident_position(cursor: str | None) -> Position | None:
    if cursor is None:
        return None
    opened = ids.sealer().open(_INCIDENTS, cursor, 2)
    if opened is None:
        raise _not_a_cursor()
    at, key = opened
    return Position(declared_at=_EPOCH + timedelta(microseconds=at), id=key)


def event_cursor(event_id: int) -> str:
    return ids.sealer().seal(_EVENTS, (event_id,))


def event_position(cursor: str | None) -> int | None:
    if cursor is None:
        return None
    opened = ids.sealer().open(_EVENTS, cursor, 1)
    if opened is None:
        raise _not_a_cursor()
    return opened[0]


def _microseconds(at: datetime) -> int:
    return (at - _EPOCH) // timedelta(microseconds=1)

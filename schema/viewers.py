"""Which fields answer differently for different viewers, marked where each is declared.

Live feeds execute each event once per audience and share the result (``schema.live``), so a
field whose answer depends on who asks must never be shared: declare it with ``per_viewer``
instead of ``strawberry.field``, and ``per_viewer_fields`` finds it in the built schema. A
resolver that reads the viewer yet answers the same for everyone a feed delivers the event to
says why with ``shared_by_audience``. tests/schema/test_per_viewer_fields.py fails for any
resolver that reads the viewer (or a loader bound to the viewer) and is marked neither way.
"""

from __future__ import annotations

from typing import Any

import strawberry
from graphql import GraphQLObjectType, GraphQLSchema
from strawberry.types.field import StrawberryField

PER_VIEWER = "muster.per_viewer"
SHARED = "muster.shared_by_audience"
DEFINITION = "strawberry-definition"  # where Strawberry keeps a GraphQL field's own definition


def per_viewer(*, description: str | None = None) -> Any:
    """``strawberry.field`` for a field whose answer depends on the viewer."""
    return strawberry.field(description=description, metadata={PER_VIEWER: True})


def shared_by_audience(reason: str, *, description: str | None = None) -> Any:
    """``strawberry.field`` for a field that reads the viewer, yet answers the same for every
    subscriber a live feed delivers the event to; ``reason`` says why."""
    return strawberry.field(description=description, metadata={SHARED: reason})


def marking(definition: StrawberryField) -> str | None:
    """``PER_VIEWER``, ``SHARED`` or None: how a field is marked."""
    return next((mark for mark in (PER_VIEWER, SHARED) if mark in definition.metadata), None)


def per_viewer_fields(schema: GraphQLSchema) -> frozenset[tuple[str, str]]:
    """Every (type, field) of ``schema`` declared with ``per_viewer``, by their GraphQL names."""
    return frozenset(
        (type_.name, name)
        for type_ in schema.type_map.values()
        if isinstance(type_, GraphQLObjectType)
        for name, field in type_.fields.items()
        if isinstance(definition := (field.extensions or {}).get(DEFINITION), StrawberryField)
        and marking(definition) == PER_VIEWER
    )

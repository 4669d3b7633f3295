"""Which fields answer differently for different viewers, marked where each is declared.

Live feeds execute each event once per audience and share the result (``schema.live``), so a
field whose answer depends on who asks must never be shared: declare it with ``per_viewer``
instead of ``strawberry.field``, and ``per_viewer_fields`` finds it in the built schema. A
resolver that reads the viewer yet answers the same for everyone a feed delivers the event to
says why with ``shared_by_audience``. tests/schema/test_per_viewer_fields.py fails for any
resolver that reads the viewer (or a loader bound to the viewer) and is marked neither way. An
operation that ``selects_per_viewer`` no such field is answered alike for everyone who sees the
same incidents (signed-in pages share it too: ``views.page_cache``).
"""

from __future__ import annotations

from typing import Any

import strawberry
from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLObjectType,
    GraphQLSchema,
    TypeInfo,
    TypeInfoVisitor,
    visit,
)
from graphql.language import Visitor
from strawberry.types.field import StrawberryField

from app import policy
from schema.context import Context

PER_VIEWER = "muster.per_viewer"
BY_SIGHT = "muster.by_sight"
SHARED = "muster.shared_by_audience"
DEFINITION = "strawberry-definition"  # where Strawberry keeps a GraphQL field's own definition


def per_viewer(*, description: str | None = None) -> Any:
    """``strawberry.field`` for a field whose answer depends on the viewer."""
    return strawberry.field(description=description, metadata={PER_VIEWER: True})


def by_sight(*, description: str | None = None) -> Any:
    """``strawberry.field`` for a field whose answer depends on which incidents the viewer may
    see and nothing else of theirs: the same for everyone with the same sight (pages share it),
    yet not for every subscriber of a feed (live feeds run it per viewer)."""
    return strawberry.field(description=description, metadata={BY_SIGHT: True})


def shared_by_audience(reason: str, *, description: str | None = None) -> Any:
    """``strawberry.field`` for a field that reads the viewer, yet answers the same for everyone
    with the same sight of the incidents (``audience``), and so for every subscriber a live feed
    delivers the event to; ``reason`` says why."""
    return strawberry.field(description=description, metadata={SHARED: reason})


def marking(definition: StrawberryField) -> str | None:
    """``PER_VIEWER``, ``SHARED`` or None: how a field is marked."""
    return next(
        (mark for mark in (PER_VIEWER, BY_SIGHT, SHARED) if mark in definition.metadata), None
    )


def per_viewer_fields(
    schema: GraphQLSchema, *, sight_shared: bool = False
) -> frozenset[tuple[str, str]]:
    """Every (type, field) of ``schema`` declared with ``per_viewer`` or (unless
    ``sight_shared``: for those who share by sight, the pages) ``by_sight``, by their GraphQL
    names."""
    marks = {PER_VIEWER} if sight_shared else {PER_VIEWER, BY_SIGHT}
    return frozenset(
        (type_.name, name)
        for type_ in schema.type_map.values()
        if isinstance(type_, GraphQLObjectType)
        for name, field in type_.fields.items()
        if isinstance(definition := (field.extensions or {}).get(DEFINITION), StrawberryField)
        and marking(definition) in marks
    )


def selects_per_viewer(
    schema: GraphQLSchema, document: DocumentNode, fields: frozenset[tuple[str, str]]
) -> bool:
    """Whether ``document`` selects one of ``fields`` (``per_viewer_fields(schema)``), in its
    fragments too: if not, everyone in the same audience gets the same answer to it."""
    found = False
    types = TypeInfo(schema)

    class Finder(Visitor):
        def enter_field(self, node: FieldNode, *_: Any) -> None:
            nonlocal found
            parent = types.get_parent_type()
            found = found or (parent is not None and (parent.name, node.name.value) in fields)

    visit(document, TypeInfoVisitor(types, Finder()))
    return found


async def audience(context: Context) -> policy.Sight:
    """Whom the viewer is answered alike with: everyone with the same sight of the incidents
    gets the same answer to an operation that ``selects_per_viewer`` nothing. Read in the
    context's own reads, so it is as new as what an operation just read through them."""
    async with context.reading() as session:
        return await policy.sight(session, context.viewer)

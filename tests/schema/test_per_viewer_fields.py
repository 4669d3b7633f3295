"""Every field a query or a live feed can select that reads the viewer is marked where it is
declared.

Live feeds share one execution per audience (``schema.live``) and signed-in pages one rendering
per sight (``views.page_cache``): a viewer-dependent field that is not declared ``per_viewer``
would show one person's answer to everyone watching. The test reads
each resolver's code (and the schema helpers it calls) for reads of the viewer and of the
loaders bound to the viewer, and those loaders are themselves found by reading their fetches.
"""

from __future__ import annotations

import ast
import inspect
import sys
import textwrap
from collections.abc import AsyncGenerator, Callable, Iterator
from typing import Any

import strawberry
from graphql import GraphQLObjectType, GraphQLSchema, get_named_type
from strawberry.dataloader import DataLoader
from strawberry.types.field import StrawberryField

from schema import schema
from schema.context import Info, nobody
from schema.loaders import Loaders
from schema.viewers import BY_SIGHT, DEFINITION, PER_VIEWER, marking, per_viewer_fields


def viewer_bound_loaders() -> set[str]:
    """The loaders whose fetch reads ``self.viewer``: their answers depend on who asks."""
    bound = set()
    for name, loader in vars(Loaders(reading=None, viewer=nobody())).items():  # type: ignore[arg-type]
        if not isinstance(loader, DataLoader):
            continue
        cells = dict(
            zip(loader.load_fn.__code__.co_freevars, loader.load_fn.__closure__ or (), strict=True)
        )
        fetch = cells["fetch"].cell_contents
        code = getattr(fetch, "__func__", fetch).__code__
        if "viewer" in code.co_names:
            bound.add(name)
    return bound


BOUND = viewer_bound_loaders()
SCHEMA = {name for name in sys.modules if name == "schema" or name.startswith("schema.")}


def reads_viewer(function: Callable[..., Any], owner: type | None, seen: set[Any]) -> bool:
    """Whether ``function`` reads ``.viewer`` or a viewer-bound loader, itself or through a
    helper it calls from its own module or the schema's (a function, or a method of its class)."""
    if function in seen:
        return False
    seen.add(function)
    tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            if node.attr == "viewer":
                return True
            if (
                node.attr in BOUND
                and isinstance(node.value, ast.Attribute)
                and node.value.attr == "loaders"
            ):
                return True
        if isinstance(node, ast.Call):
            helper = None
            if isinstance(node.func, ast.Name):
                helper = function.__globals__.get(node.func.id)
            elif (
                isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "self"
                and owner is not None
            ):
                helper = getattr(owner, node.func.attr, None)
            if (
                inspect.isfunction(helper)
                and (helper.__module__ == function.__module__ or helper.__module__ in SCHEMA)
                and reads_viewer(helper, owner, seen)
            ):
                return True
    return False


def _field_types(type_: GraphQLObjectType) -> list[Any]:
    return [field.type for field in type_.fields.values()]


def shared_types(graphql: GraphQLSchema) -> Iterator[GraphQLObjectType]:
    """Every object type a query or a subscription can reach: what a shared execution or
    rendering may select."""
    assert graphql.subscription_type is not None
    found: dict[str, GraphQLObjectType] = {}
    # (the query type's own fields answer the viewer; a subscription's field only starts a feed)
    waiting = [graphql.query_type, *map(get_named_type, _field_types(graphql.subscription_type))]
    while waiting:
        type_ = waiting.pop()
        if not isinstance(type_, GraphQLObjectType) or type_.name in found:
            continue
        found[type_.name] = type_
        waiting += [get_named_type(field.type) for field in type_.fields.values()]
    return iter(found.values())


def unmarked(graphql: GraphQLSchema) -> tuple[list[str], list[str]]:
    """Fields that read the viewer but are not marked, and fields marked but reading no viewer."""
    missing, needless = [], []
    for type_ in shared_types(graphql):
        for name, field in type_.fields.items():
            definition = (field.extensions or {}).get(DEFINITION)
            assert isinstance(definition, StrawberryField)
            reads = False
            if definition.base_resolver is not None:
                resolver = definition.base_resolver.wrapped_func
                reads = reads_viewer(resolver, definition.origin, set())
            mark = marking(definition)
            if reads and mark is None:
                missing.append(f"{type_.name}.{name}")
            if mark in (PER_VIEWER, BY_SIGHT) and not reads:
                needless.append(f"{type_.name}.{name}")
    return missing, needless


def test_the_viewer_bound_loaders_are_found_from_their_code():
    assert {"followed", "standing", "incident", "visible_reference"} <= BOUND
    assert not {"user", "severity", "status", "follower_count", "timeline"} & BOUND


def test_every_resolver_reading_the_viewer_is_marked():
    missing, needless = unmarked(schema._schema)
    assert missing == [], f"declare these with schema.viewers.per_viewer: {missing}"
    assert needless == [], f"these read no viewer; declare them with strawberry.field: {needless}"


def test_the_known_viewer_dependent_fields_are_derived_from_the_schema():
    derived = per_viewer_fields(schema._schema)
    assert {
        ("Incident", "followedByMe"),
        ("Incident", "viewerCanEdit"),
        ("Incident", "mergedInto"),
    } <= derived
    incident = schema._schema.type_map["Incident"]
    assert isinstance(incident, GraphQLObjectType)
    for name in ("viewerCan", "nextStatuses"):  # what the viewer may do to the incident
        if name in incident.fields:
            assert ("Incident", name) in derived


async def _flag(info: Info, incident_id: int) -> bool:
    return await info.context.loaders.followed.load(incident_id)


@strawberry.type
class Watched:
    """A type someone added fields to without marking them."""

    incident_id: strawberry.Private[int]

    @strawberry.field
    def greeting(self, info: Info) -> str:
        return f"Hello {info.context.viewer.name}"

    @strawberry.field
    async def mine(self, info: Info) -> bool:
        return await _flag(info, self.incident_id)

    @strawberry.field
    async def through_method(self, info: Info) -> bool:
        return await self._standing(info)

    async def _standing(self, info: Info) -> bool:
        return (await info.context.loaders.standing.load(self.incident_id)).member

    @strawberry.field
    async def count(self, info: Info) -> int:
        return await info.context.loaders.follower_count.load(self.incident_id)


@strawberry.type
class WatchedQuery:
    @strawberry.field
    def ok(self) -> bool:
        return True

    @strawberry.field
    def me(self, info: Info) -> str:
        return info.context.viewer.email


@strawberry.type
class WatchedSubscription:
    @strawberry.subscription
    async def watch(self) -> AsyncGenerator[Watched, None]:
        yield Watched(incident_id=1)


def test_fields_that_depend_on_the_sight_only_are_shared_by_pages_not_by_live_feeds():
    live = per_viewer_fields(schema._schema)
    pages = per_viewer_fields(schema._schema, sight_shared=True)
    assert ("Incident", "mergedInto") in live - pages
    assert ("Incident", "followedByMe") in live & pages


def test_an_unmarked_viewer_dependent_field_is_caught():
    built = strawberry.Schema(query=WatchedQuery, subscription=WatchedSubscription)
    missing, _ = unmarked(built._schema)
    assert sorted(missing) == [
        "Watched.greeting",
        "Watched.mine",
        "Watched.throughMethod",
        "WatchedQuery.me",
    ]

"""Limits checked before execution, and the document cache that makes them nearly free.

Every query text is parsed (at most ``MAX_TOKENS`` tokens) and validated against the schema plus
Muster's rules (depth, aliases counted through fragments, one operation per document, no
introspection unless enabled) once; the document and its errors are kept in an LRU cache shared
by all requests, so the web pages' fixed operations and integrators' repeated ones skip both
steps. Validation does not depend on variables, which is what makes caching it sound.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from functools import lru_cache
from typing import Any

import strawberry
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    parse,
    specified_rules,
)
from graphql.validation import (
    ASTValidationContext,
    ASTValidationRule,
    NoSchemaIntrospectionCustomRule,
)
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document
from strawberry.types import ExecutionContext

from schema.errors import log_unexpected, request_id

MAX_DEPTH = 12
MAX_ALIASES = 30
MAX_TOKENS = 2000
CACHED_DOCUMENTS = 1024


class _FragmentWalk:
    """Measures selections through fragment spreads, each fragment measured once."""

    def __init__(self, context: ASTValidationContext) -> None:
        self.context = context
        self._memo: dict[str, int] = {}
        self._active: set[str] = set()

    def fragment(self, name: str, measure: Any) -> int:
        if name in self._memo:
            return self._memo[name]
        definition: FragmentDefinitionNode | None = self.context.get_fragment(name)
        if definition is None or name in self._active:  # unknown or cyclic: other rules report it
            return 0
        self._active.add(name)
        self._memo[name] = measure(definition.selection_set)
        self._active.discard(name)
        return self._memo[name]


class DepthLimit(ASTValidationRule):
    """Refuse operations nested deeper than ``MAX_DEPTH`` fields."""

    def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
        walk = _FragmentWalk(self.context)

        def depth(selections: SelectionSetNode | None) -> int:
            deepest = 0
            for selection in selections.selections if selections else ():
                if isinstance(selection, FieldNode):
                    deepest = max(deepest, 1 + depth(selection.selection_set))
                elif isinstance(selection, InlineFragmentNode):
                    deepest = max(deepest, depth(selection.selection_set))
                elif isinstance(selection, FragmentSpreadNode):
                    deepest = max(deepest, walk.fragment(selection.name.value, depth))
            return deepest

        found = depth(node.selection_set)
        if found > MAX_DEPTH:
            self.report_error(
                GraphQLError(
                    f"This operation is nested {found} levels deep; the limit is {MAX_DEPTH}.",
                    node,
                )
            )


class AliasLimit(ASTValidationRule):
    """Refuse operations with more than ``MAX_ALIASES`` aliases, fragments counted as spread."""

    def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
        walk = _FragmentWalk(self.context)

        def aliases(selections: SelectionSetNode | None) -> int:
            total = 0
            for selection in selections.selections if selections else ():
                if isinstance(selection, FieldNode):
                    total += (selection.alias is not None) + aliases(selection.selection_set)
                elif isinstance(selection, InlineFragmentNode):
                    total += aliases(selection.selection_set)
                elif isinstance(selection, FragmentSpreadNode):
                    total += walk.fragment(selection.name.value, aliases)
            return total

        found = aliases(node.selection_set)
        if found > MAX_ALIASES:
            self.report_error(
                GraphQLError(
                    f"This operation uses {found} aliases; the limit is {MAX_ALIASES}.", node
                )
            )


class SingleOperation(ASTValidationRule):
    """Refuse documents holding more than one operation: one request, one operation."""

    def enter_document(self, node: DocumentNode, *_: Any) -> None:
        operations = [d for d in node.definitions if isinstance(d, OperationDefinitionNode)]
        if len(operations) > 1:
            self.report_error(GraphQLError("Send one operation per request.", operations[1]))


MUSTER_RULES: tuple[type[ASTValidationRule], ...] = (DepthLimit, AliasLimit, SingleOperation)


@lru_cache(maxsize=CACHED_DOCUMENTS)
def compile_document(
    schema: GraphQLSchema, query: str, rules: tuple[type[ASTValidationRule], ...]
) -> tuple[DocumentNode, tuple[GraphQLError, ...]]:
    """Parse and validate a query once; later calls with the same text are a cache hit."""
    document = parse(query, max_tokens=MAX_TOKENS)
    return document, tuple(validate_document(schema, document, rules))


class MusterSchema(strawberry.Schema):
    """The schema, with Muster's validation rules and logging of unexpected errors only."""

    def __init__(self, *args: Any, introspection: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        extra = () if introspection else (NoSchemaIntrospectionCustomRule,)
        self.validation_rules = (*specified_rules, *MUSTER_RULES, *extra)
        self.live: Any = None

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        log_unexpected(errors, request_id(execution_context))

    async def stream(  # type: ignore[override]
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        **_: Any,
    ) -> AsyncIterator[Any]:
        """Streams (WebSocket, SSE) carry subscriptions only, each event rendered once per
        audience by ``live``, set by ``build_schema``."""
        feeds: AsyncIterator[Any] = self.live.stream(
            query, variable_values, context_value, operation_name
        )
        return feeds


class CachedDocuments(SchemaExtension):
    """Take each operation's document and validation errors from ``compile_document``."""

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        schema = context.schema
        if context.query is not None and isinstance(schema, MusterSchema):
            document, errors = compile_document(
                schema._schema, context.query, schema.validation_rules
            )
            context.graphql_document = document
            context.pre_execution_errors = list(errors)
        yield

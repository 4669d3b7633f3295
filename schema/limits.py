"""Limits checked before and during execution, and the document cache that makes them cheap.

Every query text is parsed (at most ``MAX_TOKENS`` tokens) and validated against the schema plus
Muster's rules (depth, aliases counted through fragments, one operation per document, no
introspection unless enabled) once; the document and its errors are kept in an LRU cache shared
by all requests, so the web pages' fixed operations and integrators' repeated ones skip both
steps. Validation does not depend on variables, which is what makes caching it sound; the cost,
which does, is ``schema.cost``'s. ``MusterSchema.execute`` runs queries and mutations only
(subscriptions are streamed), stops a query after ``QUERY_TIME_LIMIT`` seconds, and marks a
query's context ``interruptible``, so the web layer may cancel it when its client goes away;
a mutation always runs to its end, so a change is never cut in half by a closed connection.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterable, Iterator
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
    get_operation_ast,
    parse,
    specified_rules,
    validate,
)
from graphql.language import OperationType as GraphQLOperation
from graphql.validation import (
    ASTValidationContext,
    ASTValidationRule,
    NoSchemaIntrospectionCustomRule,
)
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import DEFAULT_ALLOWED_OPERATION_TYPES
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule
from strawberry.types import ExecutionContext, ExecutionResult
from strawberry.types.graphql import OperationType

from schema.context import Context
from schema.errors import log_unexpected, request_id

log = logging.getLogger("muster.graphql")

MAX_DEPTH = 12
MAX_ALIASES = 30
MAX_TOKENS = 2000
CACHED_DOCUMENTS = 1024
QUERY_TIME_LIMIT = 10.0  # seconds


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
    """Refuse operations nested deeper than ``MAX_DEPTH`` fields. Introspection (``__schema``,
    ``__type``), where allowed, is as deep as the schema and no deeper: it is not counted.

    Strawberry's ``QueryDepthLimiter`` and ``MaxAliasesLimiter`` walk a fragment again at each
    spread, so a chain of fragments each spread twice costs them 2^n steps; these rules measure
    each fragment once (``_FragmentWalk``)."""

    def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
        walk = _FragmentWalk(self.context)

        def depth(selections: SelectionSetNode | None) -> int:
            deepest = 0
            for selection in selections.selections if selections else ():
                if isinstance(selection, FieldNode) and selection.name.value.startswith("__"):
                    continue
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
    """Parse and validate a query once; later calls with the same text are a cache hit. Where
    introspection is refused, so are hints about the schema: no "Did you mean" for fields,
    arguments, types or enum values."""
    document = parse(query, max_tokens=MAX_TOKENS)
    hide = NoSchemaIntrospectionCustomRule in rules
    every = (*rules, MaybeNullValidationRule, OneOfInputValidationRule)  # as Strawberry's own
    return document, tuple(validate(schema, document, every, hide_suggestions=hide))


class MusterSchema(strawberry.Schema):
    """The schema, with Muster's validation rules and logging of unexpected errors only."""

    def __init__(self, *args: Any, introspection: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        extra = () if introspection else (NoSchemaIntrospectionCustomRule,)
        self.validation_rules = (*specified_rules, *MUSTER_RULES, *extra)
        self.live: Any = None

    async def execute(
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        allowed_operation_types: Iterable[OperationType] | None = None,
        operation_extensions: dict[str, Any] | None = None,
    ) -> ExecutionResult:
        """Strawberry's execution, for queries and mutations only; a query is stopped after
        ``QUERY_TIME_LIMIT`` seconds, and may be stopped sooner by the web layer."""
        allowed = set(allowed_operation_types or DEFAULT_ALLOWED_OPERATION_TYPES)
        running = super().execute(
            query, variable_values, context_value, root_value, operation_name,
            allowed - {OperationType.SUBSCRIPTION}, operation_extensions,
        )  # fmt: skip
        if not self._is_query(query, operation_name):
            return await running
        if isinstance(context_value, Context):
            context_value.interruptible = True
        try:
            async with asyncio.timeout(QUERY_TIME_LIMIT):
                return await running
        except TimeoutError:
            log.warning("a query ran past %g s and was stopped", QUERY_TIME_LIMIT)
            error = GraphQLError(
                f"This query ran longer than {QUERY_TIME_LIMIT:g} s, the limit, and was stopped."
                " Ask for less (smaller pages, fewer nested lists).",
                extensions={"code": "TIME_LIMIT"},
            )
            return ExecutionResult(data=None, errors=[error])

    def _get_custom_context_kwargs(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """What Strawberry hands graphql-core's ``execute``; without introspection, variables
        that do not fit get no "Did you mean" either."""
        options = super()._get_custom_context_kwargs(*args, **kwargs)
        options["hide_suggestions"] = NoSchemaIntrospectionCustomRule in self.validation_rules
        return options

    def _is_query(self, query: str | None, operation_name: str | None) -> bool:
        if query is None:
            return False
        try:
            document, _ = compile_document(self._schema, query, self.validation_rules)
        except GraphQLError:
            return False  # it does not parse: execution answers that
        operation = get_operation_ast(document, operation_name)
        return operation is not None and operation.operation == GraphQLOperation.QUERY

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

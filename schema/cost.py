"""What an operation may cost, computed before it runs from its document and its variables.

Every field costs one, plus what it selects times how many of it there will be: a field with a
``first`` argument (a page) returns as many as that argument says (its value in the document or
the variables, or its default, at most ``MAX_PAGE``); any other list field is assumed to hold
``LIST_SIZE`` items (an incident's updates, roles and actions; the catalog), except a
connection's ``edges``, whose number its page already counted. So nested pages multiply along a
path, aliases add (each is a field of its own), and a fragment counts wherever it is spread.
``QueryCost`` refuses an operation over ``MAX_COST`` before anything is read, naming the cost and
the limit; the web pages' own operations cost far less (a test holds them to it).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLList,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    get_nullable_type,
    get_operation_ast,
)
from strawberry.extensions import SchemaExtension

from app.services.incident_queries import MAX_PAGE

MAX_COST = 60_000
LIST_SIZE = 10


class _Walk:
    """One operation's cost: its fields, with page sizes read from ``variables``."""

    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: Mapping[str, Any],
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self._spread: dict[str, int] = {}

    def selections(self, parent: GraphQLNamedType | None, node: SelectionSetNode | None) -> int:
        total = 0
        for selection in node.selections if node else ():
            if isinstance(selection, FieldNode):
                total += self.field(parent, selection)
            elif isinstance(selection, InlineFragmentNode):
                total += self.selections(
                    self._condition(parent, selection), selection.selection_set
                )
            elif isinstance(selection, FragmentSpreadNode):
                total += self.fragment(selection.name.value)
        return total

    def fragment(self, name: str) -> int:
        if name not in self._spread:
            self._spread[name] = 0  # a cycle (refused by validation) adds nothing
            definition = self.fragments.get(name)
            if definition is not None:
                on = self.schema.get_type(definition.type_condition.name.value)
                self._spread[name] = self.selections(on, definition.selection_set)
        return self._spread[name]

    def field(self, parent: GraphQLNamedType | None, node: FieldNode) -> int:
        definition = (
            parent.fields.get(node.name.value) if isinstance(parent, GraphQLObjectType) else None
        )
        if definition is None:  # __typename, introspection: counted, not multiplied
            return 1 + self.selections(None, node.selection_set)
        inner = self.selections(get_named_type(definition.type), node.selection_set)
        return 1 + self.count(definition, node) * inner

    def count(self, definition: GraphQLField, node: FieldNode) -> int:
        """How many of the field's type there will be."""
        if "first" in definition.args:
            return self.page_size(definition, node)
        returned = get_nullable_type(definition.type)
        if not isinstance(returned, GraphQLList):
            return 1
        return 1 if get_named_type(returned).name.endswith("Edge") else LIST_SIZE

    def page_size(self, definition: GraphQLField, node: FieldNode) -> int:
        value: object = definition.args["first"].default_value
        for argument in node.arguments or ():
            if argument.name.value == "first":
                if isinstance(argument.value, IntValueNode):
                    value = int(argument.value.value)
                elif isinstance(argument.value, VariableNode):
                    value = self.variables.get(argument.value.name.value, value)
        size = value if isinstance(value, int) and not isinstance(value, bool) else MAX_PAGE
        return max(1, min(size, MAX_PAGE))

    def _condition(
        self, parent: GraphQLNamedType | None, node: InlineFragmentNode
    ) -> GraphQLNamedType | None:
        if node.type_condition is None:
            return parent
        return self.schema.get_type(node.type_condition.name.value)


def operation_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: Mapping[str, Any] | None,
) -> int:
    """The cost of ``operation`` (of ``document``), its fragments spread, with ``variables``
    as sent."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    root = schema.get_root_type(operation.operation)
    return _Walk(schema, fragments, variables or {}).selections(root, operation.selection_set)


def too_costly(cost: int) -> GraphQLError:
    return GraphQLError(
        f"This operation would cost {cost}; the limit is {MAX_COST}. Ask for smaller pages"
        " (first) or fewer nested lists.",
        extensions={"code": "TOO_COSTLY"},
    )


class QueryCost(SchemaExtension):
    """Refuse, before execution, an operation that costs more than ``MAX_COST``."""

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        operation = (
            None if document is None else get_operation_ast(document, context.operation_name)
        )
        if document is not None and operation is not None and not context.result:
            cost = operation_cost(context.schema._schema, document, operation, context.variables)
            if cost > MAX_COST:
                context.result = ExecutionResult(data=None, errors=[too_costly(cost)])
        yield

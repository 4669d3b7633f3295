"""Errors as clients see them.

Expected failures from the services (``MusterError``) become ``userErrors`` in mutation payloads
(or, raised from a query, a GraphQL error carrying the same ``code``). Anything unexpected is
masked: the client gets "Internal error" with the request id, and the log gets the traceback
with the same id.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import strawberry
from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionContext

from app.errors import ErrorCode, MusterError
from schema import ids

log = logging.getLogger("muster.graphql")


@strawberry.type
class UserError:
    """Why a mutation was refused; nothing was changed."""

    field: str | None = strawberry.field(description="The input at fault, if one is.")
    message: str
    code: ErrorCode
    custom_field_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="The custom field whose value is at fault, when the error is about one.",
    )

    @classmethod
    def of(cls, error: MusterError) -> UserError:
        custom = (
            None if error.custom_field is None else ids.encode("CustomField", error.custom_field)
        )
        return cls(
            field=error.field, message=error.message, code=error.code, custom_field_id=custom
        )


def is_unexpected(error: GraphQLError) -> bool:
    """Whether an error came from a bug rather than from the request."""
    original = error.original_error
    return original is not None and not isinstance(original, GraphQLError | MusterError)


def request_id(execution_context: ExecutionContext | None) -> str:
    context = getattr(execution_context, "context", None)
    return str(getattr(context, "request_id", "unknown"))


def log_unexpected(errors: list[GraphQLError], reference: str) -> None:
    for error in errors:
        if is_unexpected(error):
            log.error(
                "request %s failed at %s", reference, error.path, exc_info=error.original_error
            )


def shown(error: GraphQLError, reference: str) -> GraphQLError:
    """An error as the client may see it: unexpected ones masked, expected ones with a code."""
    if is_unexpected(error):
        return GraphQLError(
            f"Internal error; reference {reference}.",
            nodes=error.nodes,
            path=error.path,
            extensions={"code": "INTERNAL", "requestId": reference},
        )
    if isinstance(error.original_error, MusterError):
        original = error.original_error
        return GraphQLError(
            original.message,
            nodes=error.nodes,
            path=error.path,
            extensions={"code": original.code.value, "field": original.field},
        )
    return error


class MaskUnexpectedErrors(SchemaExtension):
    """Replace unexpected errors by a reference to the log; give expected ones their code."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        errors = getattr(result, "errors", None)
        if not errors:
            return
        reference = request_id(self.execution_context)
        result.errors = [shown(error, reference) for error in errors]  # type: ignore[union-attr]

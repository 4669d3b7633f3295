"""The web layer's GraphQL operations: ``views/operations/*.graphql``, one named operation per
file, read and validated against the schema once at start-up (a broken one stops the server with
its name and the error, rather than failing a page later)."""

from __future__ import annotations

from pathlib import Path

from graphql import GraphQLError

from schema.limits import MusterSchema, compile_document

FOLDER = Path(__file__).parent / "operations"


class OperationError(RuntimeError):
    """A web operation does not parse or validate against the schema."""


def load(schema: MusterSchema) -> dict[str, str]:
    """Every operation's text by file name (without ``.graphql``), each checked once."""
    operations = {}
    for path in sorted(FOLDER.glob("*.graphql")):
        text = path.read_text()
        try:
            _, errors = compile_document(schema._schema, text, schema.validation_rules)
        except GraphQLError as error:
            errors = (error,)
        if errors:
            raise OperationError(f"{path.name}: {errors[0].message}")
        operations[path.stem] = text
    return operations

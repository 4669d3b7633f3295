"""The web layer's GraphQL operations: ``views/operations/*.graphql``, one named operation per
file, read and validated against the schema once at start-up (a broken one stops the server with
its name and the error, rather than failing a page later). Fragments shared by several operations
(a dashboard row drawn both by the page's query and by its live subscription) live in
``views/operations/fragments/<Name>.graphql``; each operation gets the ones it spreads."""

from __future__ import annotations

import re
from pathlib import Path

from graphql import GraphQLError

from schema.limits import MusterSchema, compile_document

FOLDER = Path(__file__).parent / "operations"
SPREAD = re.compile(r"\.\.\.\s*([A-Za-z_][A-Za-z0-9_]*)")


class OperationError(RuntimeError):
    """A web operation does not parse or validate against the schema."""


def load(schema: MusterSchema) -> dict[str, str]:
    """Every operation's text by file name (without ``.graphql``), each checked once."""
    fragments = {path.stem: path.read_text() for path in (FOLDER / "fragments").glob("*.graphql")}
    operations = {}
    for path in sorted(FOLDER.glob("*.graphql")):
        text = _with_fragments(path.read_text(), fragments)
        try:
            _, errors = compile_document(schema._schema, text, schema.validation_rules)
        except GraphQLError as error:
            errors = (error,)
        if errors:
            raise OperationError(f"{path.name}: {errors[0].message}")
        operations[path.stem] = text
    return operations


def _with_fragments(text: str, fragments: dict[str, str]) -> str:
    """``text`` followed by every fragment it spreads, directly or through other fragments."""
    needed: list[str] = []
    pending = SPREAD.findall(text)
    while pending:
        name = pending.pop()
        if name in fragments and name not in needed:
            needed.append(name)
            pending += SPREAD.findall(fragments[name])
    return "\n".join([text, *(fragments[name] for name in sorted(needed))])

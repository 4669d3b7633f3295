"""What Muster relies on inside Strawberry and graphql-core, beyond their documented API, checked
here by name so that an upgrade which changes one fails loudly, naming the place to look at:
``schema/limits.py`` (the document cache, the execute override, hidden suggestions),
``schema/cost.py`` (a result set before execution), ``schema/payloads.py`` (a mutation's
arguments read from its resolver's annotations), ``schema/enums.py`` (enums marked in place),
``views/graphql.py`` (pre-encoded socket
messages, ``process_result``, refusals) and ``schema/live.py`` (streams)."""

from __future__ import annotations

import inspect

import graphql
import pytest
import strawberry
import strawberry.schema.schema as strawberry_schema
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.http.async_base_view import AsyncBaseHTTPView
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)

from schema import build_schema, cost


async def test_strawberry_takes_the_cached_document_and_its_validation(monkeypatch):
    """schema/limits.py CachedDocuments: a document and errors set in ``on_parse`` are used."""

    def refuse(*args, **kwargs):
        raise AssertionError("Strawberry parsed or validated again: CachedDocuments is ignored")

    monkeypatch.setattr(strawberry_schema, "parse", refuse)
    monkeypatch.setattr(strawberry_schema, "validate_document", refuse)
    result = await build_schema().execute("{ __typename }")
    assert result.errors is None and result.data == {"__typename": "Query"}


async def test_a_result_set_before_execution_skips_execution():
    """schema/cost.py QueryCost: ``execution_context.result`` set in ``on_execute`` stands."""
    page = "incidents(first: 100) { edges { node { timeline(first: 100) { totalCount } } } }"
    many = "{ " + " ".join(f"a{n}: {page}" for n in range(10)) + " }"
    result = await build_schema().execute(many)  # no context: executing would fail otherwise
    assert [e.extensions["code"] for e in result.errors] == ["TOO_COSTLY"]
    assert cost.MAX_COST < 10 * 100 * 100


def test_execute_keeps_the_parameters_muster_overrides_it_with():
    """schema/limits.py MusterSchema.execute passes these positionally to Strawberry's."""
    names = list(inspect.signature(strawberry_schema.Schema.execute).parameters)
    assert names == [
        "self", "query", "variable_values", "context_value", "root_value", "operation_name",
        "allowed_operation_types", "operation_extensions",
    ]  # fmt: skip
    assert strawberry_schema.DEFAULT_ALLOWED_OPERATION_TYPES


@pytest.mark.parametrize("function", [graphql.execute, graphql.validate])
def test_graphql_core_can_hide_suggestions(function):
    """schema/limits.py: ``hide_suggestions`` reaches validation and execution."""
    assert "hide_suggestions" in inspect.signature(function).parameters
    options = build_schema()._get_custom_context_kwargs(None)
    assert options["hide_suggestions"] is True


def test_socket_messages_are_encoded_by_the_view():
    """views/graphql.py encode_json: a shared event's payload is encoded once for all."""
    assert "self.view.encode_json(" in inspect.getsource(ASGIWebSocketAdapter.send_json)


def test_sockets_stream_through_schema_stream():
    """schema/limits.py MusterSchema.stream hands subscriptions to schema/live.py."""
    assert "self.schema.stream(" in inspect.getsource(BaseGraphQLTransportWSHandler.run_operation)


def test_http_results_pass_through_process_result():
    """views/graphql.py process_result drops ``data`` from request errors when asked to."""
    assert "self.process_result(" in inspect.getsource(AsyncBaseHTTPView.run)


def test_mutation_arguments_come_from_the_resolvers_annotations():
    """schema/payloads.py mutation: the field takes ``input`` alone, typed as the change says."""
    mutation = build_schema()._schema.mutation_type
    for name, field in mutation.fields.items():
        assert list(field.args) == ["input"], name
    assert str(mutation.fields["changeIncidentStatus"].args["input"].type) == (
        "ChangeIncidentStatusInput!"
    )


def test_strawberry_enum_marks_the_class_itself():
    """schema/enums.py: fields are annotated with the app's enums, registered in place."""
    from app.models import OrgRole

    assert strawberry.enum(OrgRole, name="OrgRole") is OrgRole

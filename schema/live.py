"""Subscriptions: the live feed of timeline events, rendered once per audience.

``Subscription.incidentEvents`` follows the process's ``EventHub``: it replays what the caller
missed after a cursor, then streams new events, each checked against the caller's access as it
arrives. ``LiveFeeds.stream`` runs a subscription operation the way graphql-core's ``subscribe``
does (the resolver gives the source stream), except for one step: each event is executed once
per *audience* (the same document and variables, and, for documents selecting a field declared
``per_viewer``, the same viewer) and the result is shared by every subscriber in it, so a thousand
dashboards cost one execution per event. That shared execution survives any one subscriber going
away, and a feed that cannot go on ends with an error, never silently.
Every result carries the event's cursor in ``extensions.cursor`` for resuming. A feed with a
``filter`` delivers only what ``schema.filtered`` decides, each result saying
``extensions.matchesFilter``. A subscription is priced like a query before it starts
(``schema.cost``: what each event's execution may cost), and without introspection its errors
give no "Did you mean" hints either.
"""

from __future__ import annotations

import asyncio
import functools
import json
from collections import OrderedDict
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator, Awaitable, Callable
from typing import Any, Protocol, cast

import strawberry
from graphql import (
    DocumentNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
)
from graphql import ExecutionResult as CoreResult
from graphql.execution import (
    Executor,
    create_source_event_stream,
    execute_subscription_event,
)
from graphql.pyutils import is_awaitable
from graphql.validation import NoSchemaIntrospectionCustomRule
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from strawberry.types.execution import ExecutionResult, PreExecutionError

from app import models
from app.errors import MusterError, incident_not_found
from app.models import TokenScope
from app.services import incidents
from schema import filtered, ids
from schema.context import Context, Info
from schema.cost import MAX_COST, operation_cost, too_costly
from schema.errors import log_unexpected, shown
from schema.limits import compile_document
from schema.pagination import event_position
from schema.queries import IncidentFilter
from schema.types import TimelineEvent
from schema.viewers import per_viewer_fields, selects_per_viewer

RENDERED = 4096  # recent (audience, event) results kept for the other subscribers
RETRIES = 5  # reads of an event's result when the database drops or has no connection free


class Live(Protocol):
    """What a subscription's resolver yields: a root value that says which results it may share
    (``live_key``, per viewer) and what its result's extensions carry."""

    def live_key(self, viewer: models.User) -> tuple[Any, ...]: ...

    def live_extensions(self) -> dict[str, Any]: ...


class SharedData(dict[str, Any]):
    """The data of one event's result, shared by every subscriber in its audience; the
    transport encodes the payload holding it once (``payload_json``), not once per socket, and
    pages draw it once (``rendered``, by the name of what was drawn)."""

    payload_json: str | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rendered: dict[str, str] = {}


@strawberry.type
class IncidentSubscriptions:
    @strawberry.subscription(
        description="Timeline events as they happen: of one incident, or of every incident you "
        "can see. With `after` (a cursor), first the events you missed since it, in order. "
        "With `filter` (as for `incidents`), only events of incidents matching it after the "
        "event, and the event through which one stopped matching, whose result says "
        "`extensions.matchesFilter: false`."
    )
    async def incident_events(
        self,
        info: Info,
        incident_id: strawberry.ID | None = None,
        after: str | None = None,
        filter: IncidentFilter | None = None,
    ) -> AsyncGenerator[TimelineEvent, None]:
        context = info.context
        if context.hub is None:
            raise GraphQLError("Live feeds are not available here.")
        key = None
        if incident_id is not None:
            key = ids.decode("Incident", incident_id, field="incidentId")
            async with context.db.read() as session:  # not the request's reads: this lives long
                if await incidents.find_incident(session, context.viewer, key) is None:
                    raise incident_not_found()
        rows = context.hub.follow(
            context.viewer,
            credential=context.credential,
            incident_id=key,
            after=event_position(after),
            admission=context.request_id,  # a stream admitted before it started (views.live)
        )
        if filter is None:
            async for row in rows:
                yield TimelineEvent(row=row)
            return
        async with filtered.group(context.db, filter.to_app(context.viewer.id)) as deciding:
            async for row in rows:
                matches = await deciding.decide(row)
                if matches is not None:
                    yield Filtered(row=row, matches=matches)


class Filtered(TimelineEvent):
    """An event as a filtered feed delivers it: ``matches`` is False for the event through which
    its incident stopped matching the feed's filter."""

    def __init__(self, *, row: models.TimelineEvent, matches: bool) -> None:
        super().__init__(row=row)
        self.matches = matches

    def live_key(self, viewer: models.User) -> tuple[Any, ...]:
        return (*super().live_key(viewer), self.matches)

    def live_extensions(self) -> dict[str, Any]:
        return super().live_extensions() | {"matchesFilter": self.matches}


class _Audiences:
    """Results of recent events, per audience, each executed once for everyone who asks.

    Waiters await the shared execution through ``asyncio.shield``: one of them going away (its
    client hung up) never cancels it for the others. An execution that failed or was cancelled
    is forgotten at once, so whoever asks next executes the event again.
    """

    def __init__(self) -> None:
        self._results: OrderedDict[tuple[Any, ...], asyncio.Task[CoreResult]] = OrderedDict()

    async def result(
        self, key: tuple[Any, ...], execute: Callable[[], Awaitable[CoreResult]]
    ) -> CoreResult:
        for _ in range(RETRIES):
            task = self._results.get(key)
            if task is None or task.cancelled():
                task = asyncio.ensure_future(execute())
                self._results[key] = task
                task.add_done_callback(functools.partial(self._settled, key))
                while len(self._results) > RENDERED:
                    self._results.popitem(last=False)
            try:
                return await asyncio.shield(task)
            except asyncio.CancelledError:
                waiter = asyncio.current_task()
                if waiter is None or waiter.cancelling():
                    raise  # this subscriber is going away; the execution goes on for the others
                # The shared execution itself was cancelled, not this subscriber: run it again.
        raise GraphQLError(
            "The live feed was interrupted; resume from your last cursor.",
            extensions={"code": "INTERRUPTED"},
        )

    def _settled(self, key: tuple[Any, ...], task: asyncio.Task[CoreResult]) -> None:
        failed = task.cancelled() or task.exception() is not None
        if failed and self._results.get(key) is task:
            del self._results[key]


class LiveFeeds:
    """Runs subscription operations for one schema, sharing each event's execution."""

    def __init__(self, schema: GraphQLSchema, rules: tuple[Any, ...]) -> None:
        self.schema = schema
        self.rules = rules
        self.audiences = _Audiences()
        self.per_viewer_fields = per_viewer_fields(schema)

    async def stream(
        self,
        query: str | None,
        variables: dict[str, Any] | None,
        context: Context,
        operation_name: str | None,
    ) -> AsyncIterator[ExecutionResult | PreExecutionError]:
        try:
            document, errors = compile_document(self.schema, query or "", self.rules)
        except GraphQLError as error:
            errors = (error,)
        if errors:
            yield PreExecutionError(data=None, errors=list(errors))
            return
        operation = _operation(document, operation_name)
        if operation is None or operation.operation is not OperationType.SUBSCRIPTION:
            refusal = "Only subscriptions are served here; send queries and mutations over HTTP."
            yield PreExecutionError(data=None, errors=[GraphQLError(refusal)])
            return
        price = operation_cost(self.schema, document, operation, variables)
        if price > MAX_COST:  # what each event's execution may cost, as for queries
            yield PreExecutionError(data=None, errors=[too_costly(price)])
            return
        built = Executor.build(
            self.schema, document, context_value=context, raw_variable_values=variables,
            operation_name=operation_name,
            hide_suggestions=NoSchemaIntrospectionCustomRule in self.rules,
        )  # fmt: skip
        if isinstance(built, list):
            yield PreExecutionError(data=None, errors=built)
            return
        created = create_source_event_stream(built)
        source = cast(
            "AsyncIterable[Any] | CoreResult",
            await created if is_awaitable(created) else created,
        )
        if isinstance(source, CoreResult):
            yield PreExecutionError(data=None, errors=source.errors or [])
            return
        shared = not selects_per_viewer(self.schema, document, self.per_viewer_fields)
        audience = "everyone" if shared else context.viewer.id
        shape = (query, json.dumps(variables or {}, sort_keys=True), operation_name, audience)

        try:
            async for event in source:  # each event the resolver yields, as graphql-core would
                key = (*shape, *event.live_key(context.viewer))
                execute = functools.partial(
                    self._execute, document, variables, operation_name, context, event
                )
                result = await self.audiences.result(key, execute)
                yield ExecutionResult(
                    data=result.data, errors=result.errors, extensions=result.extensions
                )
        except MusterError as error:  # fell behind, too many feeds, or a refused incident
            yield ExecutionResult(
                data=None,
                errors=[GraphQLError(error.message, extensions={"code": error.code.value})],
            )
        except GraphQLError as error:
            yield ExecutionResult(data=None, errors=[error])
        except Exception as error:  # a bug: the subscriber sees a reference, the log the cause
            failure = GraphQLError(str(error), original_error=error)
            log_unexpected([failure], context.request_id)
            yield ExecutionResult(data=None, errors=[shown(failure, context.request_id)])
        finally:
            if hasattr(source, "aclose"):
                await source.aclose()

    async def _execute(
        self,
        document: DocumentNode,
        variables: dict[str, Any] | None,
        operation_name: str | None,
        subscriber: Context,
        event: Live,
    ) -> CoreResult:
        """One execution of the operation for one event, with a fresh, read-only context.

        The event is committed and will not change; if the database drops the connection
        while it is read (a restart, a failover) or has no connection free in time (a burst
        holding the pool), it is read again rather than lost.
        """
        for attempt in range(RETRIES):
            context = Context(db=subscriber.db, viewer=subscriber.viewer, scope=TokenScope.READ)
            try:
                executor = Executor.build(
                    self.schema, document, root_value=event, context_value=context,
                    raw_variable_values=variables, operation_name=operation_name,
                )  # fmt: skip
                assert not isinstance(executor, list)  # the variables were checked on subscribe
                executed = execute_subscription_event(executor.build_per_event_executor(event))
                result = cast(
                    "CoreResult",
                    await executed if is_awaitable(executed) else executed,
                )
            finally:
                await context.close()
            errors = result.errors or []
            if not any(isinstance(e.original_error, DBAPIError | PoolTimeout) for e in errors):
                break
            await asyncio.sleep(0.5 * (attempt + 1))
        reference = subscriber.request_id
        log_unexpected(list(result.errors or []), reference)
        return CoreResult(
            data=None if result.data is None else SharedData(result.data),
            errors=[shown(error, reference) for error in result.errors or []] or None,
            extensions=event.live_extensions(),
        )


def _operation(document: DocumentNode, name: str | None) -> OperationDefinitionNode | None:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name is None:
        return operations[0] if len(operations) == 1 else None
    return next((op for op in operations if op.name and op.name.value == name), None)

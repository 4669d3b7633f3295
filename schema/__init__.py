"""Muster's GraphQL API: the types, queries and mutations over the domain in ``app/``.

``build_schema`` makes the schema the web layer serves at ``/graphql`` and executes in-process
for the web pages. Whether introspection is allowed varies between instances; the secret key
that seals ids and cursors (``schema.ids``) is one per process.
"""

from __future__ import annotations

import strawberry
from strawberry.schema.config import StrawberryConfig

from schema import enums, ids, process  # noqa: F401 (importing enums registers the domain enums)
from schema.admin import AdminMutations
from schema.cost import QueryCost
from schema.errors import MaskUnexpectedErrors
from schema.limits import CachedDocuments, MusterSchema
from schema.live import IncidentSubscriptions, LiveFeeds
from schema.mutations import IncidentMutations
from schema.notifications import NotificationMutations, NotificationSubscriptions
from schema.queries import Queries
from schema.status_page import StatusPageMutations, StatusPageQueries
from schema.status_public import PublicStatusQueries
from schema.status_settings import StatusSettingsMutations, StatusSettingsQueries
from schema.status_subscriptions import StatusSubscriptionMutations, StatusSubscriptionQueries
from schema.teams import TeamMutations, TeamQueries
from schema.webhooks import WebhookMutations, WebhookQueries
from schema.workflow_mutations import WorkflowMutations
from schema.workflows import WorkflowQueries


@strawberry.type
class Query(
    Queries,
    TeamQueries,
    WebhookQueries,
    WorkflowQueries,
    PublicStatusQueries,
    StatusPageQueries,
    StatusSettingsQueries,
    StatusSubscriptionQueries,
):
    """Everything there is to read: incidents and the catalog first, then each area's own."""


@strawberry.type
class Subscription(IncidentSubscriptions, NotificationSubscriptions):
    """Live feeds: incidents' timeline events, and your inbox."""


@strawberry.type
class Mutation(
    IncidentMutations,
    AdminMutations,
    NotificationMutations,
    TeamMutations,
    WebhookMutations,
    WorkflowMutations,
    StatusPageMutations,
    StatusSettingsMutations,
    StatusSubscriptionMutations,
):
    """Every change: incidents first, then configuration and tokens."""


def build_schema(
    *, introspection: bool = False, secret_key: str | None = None, email: bool = False
) -> MusterSchema:
    """The schema; ``secret_key`` (``MUSTER_SECRET_KEY``) seals the process's ids and cursors
    and its webhook secrets, and signs status subscription links (only the SDL is built without
    one); ``email``: whether the process sends email (``schema.process``)."""
    if secret_key is not None:
        ids.use_secret(secret_key)
        process.use(process.Process(secret_key=secret_key, email=email))
    schema = MusterSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=[CachedDocuments, QueryCost, MaskUnexpectedErrors],
        config=StrawberryConfig(disable_field_suggestions=not introspection),
        introspection=introspection,
    )
    schema.live = LiveFeeds(schema._schema, schema.validation_rules)
    return schema


schema = build_schema(introspection=True)
"""The full schema, as ``make sdl`` writes it to schema.graphql."""

"""The app factory: the one place that wires settings, the database and the routes together.

``create_app()`` builds everything from ``MUSTER_*`` settings (read once, here) and is what
``muster serve`` hands to uvicorn. The lifespan opens nothing eagerly and disposes of the
database engine on shutdown.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.routing import Route, WebSocketRoute

from app.config import Settings
from app.db import Database
from app.events import EventHub
from schema import build_schema
from views import health, live, operations
from views.graphql import GraphQLEndpoint


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or Settings.from_env(os.environ)
    db = Database(settings.database_url)
    hub = EventHub(db)
    schema = build_schema(introspection=settings.graphiql)
    web_operations = operations.load(schema)
    graphql = GraphQLEndpoint(
        schema,
        db,
        graphiql=settings.graphiql,
        hub=hub,
        allowed_origins=settings.allowed_origins,
    )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await hub.start()
        try:
            yield
        finally:
            await hub.stop()
            await db.dispose()

    app = Starlette(
        routes=[
            Route("/healthz", health.healthz, name="healthz"),
            Route("/readyz", health.readyz, name="readyz"),
            Route("/graphql", graphql, name="graphql"),
            WebSocketRoute("/graphql", graphql),
            Route(
                "/live/events",
                live.events_endpoint(schema, db, hub, web_operations, settings.allowed_origins),
                name="live-events",
            ),
        ],
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.db = db
    app.state.hub = hub
    return app
